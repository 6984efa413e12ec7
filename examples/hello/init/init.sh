#!/bin/busybox sh
# systemkit example init: a small PID 1 that runs a LinuxKit filesystem layout with runc.
#
#   1. If started from the initramfs, copy the root into a tmpfs and switch_root into it
#      (runc's pivot_root does not work on the initial rootfs).
#   2. Mount proc, sys, dev, /run, /tmp and cgroup2 at /sys/fs/cgroup; load the overlay module.
#   3. Run every /containers/onboot/* bundle in lexical order, one after the other: first its
#      runtime.json (mkdir entries, then mounts in order), then `runc run --bundle DIR ID`.
#   4. Start every /containers/services/* bundle the same way, in the background.
#   5. When all services have exited, or systemkit.linger=SECONDS (kernel command line,
#      default 5) after they started, stop the services that still run, run every
#      /containers/onshutdown/* bundle like the onboot ones, and power off.
#      systemkit.linger=forever keeps the system running. busybox poweroff/halt/reboot
#      (a signal to pid 1) ends the wait early the same way.
#
# Every line it prints starts with "systemkit-init: ".

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
AWK_RUNTIME=/usr/lib/systemkit/runtime-json.awk

say() { echo "systemkit-init: $*"; }

die() {
    say "FATAL: $*"
    finish 1
}

finish() {
    say "powering off"
    sync
    if [ "$$" = 1 ]; then
        poweroff -f
        sleep 5
    fi
    exit "${1:-0}"
}

# ---- stage 1: out of the initramfs ----------------------------------------------------------
if [ "$$" = 1 ] && [ -z "$SYSTEMKIT_INIT_STAGE2" ]; then
    mkdir -p /dev /proc
    mount -t devtmpfs -o mode=0755 devtmpfs /dev 2>/dev/null
    [ -c /dev/console ] && exec </dev/console >/dev/console 2>&1
    fstype=$(stat -f -c %T / 2>/dev/null)
    case "$fstype" in
    ramfs | tmpfs | rootfs)
        say "copying the initramfs into a tmpfs root"
        mkdir -p /newroot
        mount -t tmpfs -o mode=0755 rootfs /newroot || die "cannot mount a tmpfs root"
        for entry in /* /.[!.]*; do
            [ -e "$entry" ] || [ -L "$entry" ] || continue
            case "$entry" in
            /newroot | /dev | /proc | /sys) mkdir -p "/newroot$entry" ;;
            *) cp -a "$entry" /newroot/ || die "cannot copy $entry" ;;
            esac
        done
        umount -l /dev
        export SYSTEMKIT_INIT_STAGE2=1
        exec switch_root /newroot /init "$@"
        ;;
    esac
fi

# ---- stage 2: the system --------------------------------------------------------------------
mkdir -p /proc /sys /dev /run /tmp
mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev
[ -c /dev/console ] && exec </dev/console >/dev/console 2>&1
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 shm /dev/shm
mount -t tmpfs -o nosuid,nodev,mode=0755 run /run
mount -t tmpfs -o nosuid,nodev,mode=1777 tmp /tmp
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup || die "cannot mount cgroup2"
# let child cgroups use every controller the kernel offers
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
    echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
done
hostname systemkit 2>/dev/null
ip link set lo up 2>/dev/null

say "started (kernel $(uname -r))"
say "kernel command line: $(cat /proc/cmdline)"

if ! grep -qw overlay /proc/filesystems; then
    modprobe overlay 2>/dev/null || {
        ko=$(find "/lib/modules/$(uname -r)" -name 'overlay.ko*' 2>/dev/null | head -n 1)
        [ -n "$ko" ] && insmod "$ko"
    }
    grep -qw overlay /proc/filesystems && say "loaded the overlay module" ||
        say "WARNING: no overlay filesystem: writable bundles will fail"
fi

# busybox poweroff, halt and reboot signal pid 1 (USR2, USR1, TERM): stop the services, run the
# onshutdown containers and power off, as when the services are done
stop_requested=""
trap 'stop_requested=1' USR1 USR2 TERM

linger=5
for arg in $(cat /proc/cmdline); do
    case "$arg" in
    systemkit.linger=*) linger=${arg#systemkit.linger=} ;;
    esac
done

# -- runtime.json -----------------------------------------------------------------------------
# Paths in runtime.json are absolute; a relative one is taken relative to the bundle directory.
BUNDLE=/
abspath() {
    case "$1" in
    /*) echo "$1" ;;
    *) echo "$BUNDLE/$1" ;;
    esac
}

sk_mkdir() {
    mkdir -p "$(abspath "$1")" || say "WARNING: mkdir $1 failed"
}

sk_unsupported() {
    say "WARNING: runtime.json $1 is not supported by this init; ignored"
}

sk_mount() {
    dest=$(abspath "$1")
    mtype=$2
    src=$3
    opts=""
    propagation=""
    oldifs=$IFS
    IFS=,
    for o in $4; do
        case "$o" in
        private | rprivate | shared | rshared | slave | rslave | unbindable | runbindable)
            propagation="$propagation $o"
            ;;
        lowerdir=* | upperdir=* | workdir=*)
            key=${o%%=*}
            dirs=""
            IFS=:
            for d in ${o#*=}; do
                d=$(abspath "$d")
                [ "$key" = lowerdir ] || mkdir -p "$d"
                dirs="${dirs:+$dirs:}$d"
            done
            IFS=,
            opts="${opts:+$opts,}$key=$dirs"
            ;;
        *) opts="${opts:+$opts,}$o" ;;
        esac
    done
    IFS=$oldifs
    case "$mtype" in bind | rbind)
        opts="${opts:+$opts,}$mtype"
        mtype=""
        ;;
    esac
    case ",$opts," in *,bind,* | *,rbind,*) [ -n "$src" ] && src=$(abspath "$src") ;; esac
    mkdir -p "$dest"
    if [ -n "$opts" ] || [ -n "$mtype" ]; then
        if [ -n "$mtype" ]; then
            mount -t "$mtype" ${opts:+-o "$opts"} "${src:-$mtype}" "$dest"
        elif [ -n "$src" ]; then
            mount -o "$opts" "$src" "$dest"
        else
            mount -o "$opts" "$dest"
        fi || {
            say "mount of $dest (type ${mtype:-none}, options $opts) failed"
            return 1
        }
    fi
    for p in $propagation; do
        mount --make-"$p" "$dest" || {
            say "mount --make-$p $dest failed"
            return 1
        }
    done
    return 0
}

prepare() {
    BUNDLE=$1
    [ -f "$BUNDLE/config.json" ] || {
        say "$BUNDLE has no config.json"
        return 1
    }
    [ -f "$BUNDLE/runtime.json" ] || return 0
    commands=$(awk -f "$AWK_RUNTIME" "$BUNDLE/runtime.json") || {
        say "cannot read $BUNDLE/runtime.json"
        return 1
    }
    eval "$commands"
}

# ---- onboot ---------------------------------------------------------------------------------
# run_in_order SECTION: run every /containers/SECTION/* bundle in lexical order, one at a time
run_in_order() {
    for bundle in /containers/"$1"/*; do
        [ -d "$bundle" ] || continue
        name=${bundle##*/}
        say "$1 $name: starting"
        if prepare "$bundle"; then
            runc run --bundle "$bundle" "$1-$name" </dev/null
            status=$?
            say "$1 $name: exited with status $status"
            runc delete -f "$1-$name" >/dev/null 2>&1
        else
            say "$1 $name: not started: preparing the bundle failed"
        fi
    done
}

run_in_order onboot
say "all onboot containers done"

# ---- services -------------------------------------------------------------------------------
pids=""
for bundle in /containers/services/*; do
    [ -d "$bundle" ] || continue
    name=${bundle##*/}
    if prepare "$bundle"; then
        runc run --bundle "$bundle" "$name" </dev/null &
        pids="$pids $!:$name"
        say "service $name: started"
    else
        say "service $name: not started: preparing the bundle failed"
    fi
done
# The linger counts from the moment every service runs, not from when runc was asked to start
# it: under TCG on a busy host, creating a container can take seconds (bounded: 60 s).
tries=0
while [ -n "$pids" ] && [ "$tries" -lt 600 ]; do
    pending=0
    for entry in $pids; do
        kill -0 "${entry%%:*}" 2>/dev/null || continue
        runc state "${entry#*:}" 2>/dev/null | grep -q '"status": "running"' || pending=1
    done
    [ "$pending" = 0 ] && break
    usleep 100000
    tries=$((tries + 1))
done
[ -n "$pids" ] && say "all services started"

running() {
    n=0
    for entry in $pids; do
        kill -0 "${entry%%:*}" 2>/dev/null && n=$((n + 1))
    done
    echo $n
}

waited=0
reported=""
while :; do
    for entry in $pids; do
        pid=${entry%%:*}
        name=${entry#*:}
        case " $reported " in *" $pid "*) continue ;; esac
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            say "service $name: exited with status $?"
            reported="$reported $pid"
        fi
    done
    [ "$(running)" = 0 ] && break
    if [ -n "$stop_requested" ] || { [ "$linger" != forever ] && [ "$waited" -ge "$linger" ]; }; then
        if [ -n "$stop_requested" ]; then
            say "stopping services: power off requested"
        else
            say "stopping services after ${linger}s"
        fi
        for entry in $pids; do
            runc kill "${entry#*:}" KILL 2>/dev/null
        done
        sleep 1
        break
    fi
    sleep 1
    waited=$((waited + 1))
done
[ -n "$pids" ] && say "all services done"

# ---- onshutdown -----------------------------------------------------------------------------
if [ -d /containers/onshutdown ]; then
    run_in_order onshutdown
    say "all onshutdown containers done"
fi
finish 0
