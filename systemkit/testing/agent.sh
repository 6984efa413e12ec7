#!/bin/busybox sh
# systemkit test agent: runs commands sent by the host in the guest's own namespaces.
#
# It runs as the service container "systemkit-agent" (pid/net/ipc/uts: host, all capabilities)
# and talks to the host over a serial port (argument 1, default /dev/ttyS1), one ASCII line per
# message:
#
#   host -> guest   PING <id>
#                   RUN <id> <timeout-seconds> <guest|agent> <base64 of the command>
#   guest -> host   SKA-PONG <id>
#                   SKA-OUT <id> <base64 line>     the command's stdout, in base64 lines
#                   SKA-ERR <id> <base64 line>     its stderr
#                   SKA-EXIT <id> <status>         the end of the reply
#
# A command runs in pid 1's mount, UTS, IPC and network namespaces (nsenter -t 1; the pid
# namespace is shared already), as root, with stdin from /dev/null. "guest" runs it with the
# guest's /bin/sh when there is one (else with the agent's busybox); "agent" always uses the
# agent's busybox sh, whose applets are preferred (used by the driver's own probes, so they
# work whatever the guest contains).
BB=/bin/busybox
PORT=${1:-/dev/ttyS1}
# our busybox, as seen from pid 1's mount namespace (this container shares the pid namespace)
ROOT=/proc/$$/root
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

exec 3<>"$PORT" || {
    echo "systemkit-agent: cannot open $PORT" >&2
    exit 1
}
$BB stty raw -echo <&3 2>/dev/null
echo "systemkit-agent: listening on $PORT" >&2

# the guest's own shell, if its root has one (looked up once)
GUEST_SH=""
[ -x /proc/1/root/bin/sh ] && GUEST_SH=/bin/sh

reply() { # id status: the reply to one command, from /tmp/out and /tmp/err
    [ -s /tmp/out ] && $BB base64 /tmp/out | $BB sed "s/^/SKA-OUT $1 /"
    [ -s /tmp/err ] && $BB base64 /tmp/err | $BB sed "s/^/SKA-ERR $1 /"
    echo "SKA-EXIT $1 $2"
}

while read -r verb id timeout shell payload <&3; do
    case "$verb" in
    PING) echo "SKA-PONG $id" >&3 ;;
    RUN)
        cmd=$(echo "$payload" | $BB base64 -d)
        if [ "$shell" = agent ] || [ -z "$GUEST_SH" ]; then
            sh="$ROOT$BB sh"
        else
            sh=$GUEST_SH
        fi
        # the pid namespace is already the guest's (pid: host); enter the others of pid 1
        $BB timeout -s KILL "$timeout" $BB nsenter -t 1 -m -u -i -n -- \
            $sh -c "$cmd" </dev/null >/tmp/out 2>/tmp/err
        reply "$id" "$?" >&3
        ;;
    esac
done
echo "systemkit-agent: $PORT closed" >&2
