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
# A command runs in pid 1's mount, UTS, IPC, network and pid namespaces (nsenter -t 1), as
# root, with stdin from /dev/null. "guest" runs it with the guest's /bin/sh when there is one
# (else with the agent's busybox); "agent" always uses the agent's busybox sh, whose applets
# are preferred (used by the driver's own probes, so they work whatever the guest contains).
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

reply() { # id status: the reply to one command, from /tmp/out and /tmp/err
    $BB base64 /tmp/out | while read -r l; do echo "SKA-OUT $1 $l"; done
    $BB base64 /tmp/err | while read -r l; do echo "SKA-ERR $1 $l"; done
    echo "SKA-EXIT $1 $2"
}

while read -r verb id timeout shell payload <&3; do
    case "$verb" in
    PING) echo "SKA-PONG $id" >&3 ;;
    RUN)
        cmd=$(echo "$payload" | $BB base64 -d)
        if [ "$shell" = agent ]; then
            $BB timeout -s KILL "$timeout" $BB nsenter -t 1 -m -u -i -n -p -- \
                "$ROOT$BB" sh -c "$cmd" </dev/null >/tmp/out 2>/tmp/err
        else
            $BB timeout -s KILL "$timeout" $BB nsenter -t 1 -m -u -i -n -p -- \
                "$ROOT$BB" sh -c 'if [ -x /bin/sh ]; then exec /bin/sh -c "$0"; else eval "$0"; fi' \
                "$cmd" </dev/null >/tmp/out 2>/tmp/err
        fi
        reply "$id" "$?" >&3
        ;;
    esac
done
echo "systemkit-agent: $PORT closed" >&2
