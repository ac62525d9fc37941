#!/bin/bash
# make stop: stop what a backgrounded `make run` started, by the PIDs in
# its pid files (TERM, up to 5 s, then KILL), and remove the pid files.
# A PID is only signalled if it still names nginx or omadm-backend.
set -u

state=${OMADM_STATE_DIR:-./var}
stopped=0

for f in nginx.pid backend.pid; do
    file=$state/$f
    [ -s "$file" ] || continue
    pid=$(cat "$file")
    case $f in nginx.pid) want=nginx ;; *) want=omadm-backend ;; esac
    if ! { tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null | grep -q "$want"; then
        echo "stop.sh: $file names pid $pid, which is not $want; removing the stale file"
        rm -f "$file"
        continue
    fi
    kill -TERM "$pid"
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "stop.sh: $want (pid $pid) ignored TERM; sending KILL"
        kill -KILL "$pid" 2>/dev/null
    fi
    rm -f "$file"
    echo "stop.sh: stopped $want (pid $pid)"
    stopped=1
done

[ "$stopped" = 1 ] || echo "stop.sh: nothing running (no live pid files in $state)"
