#!/usr/bin/env bash
# A fleet the size of a large enterprise on this one machine: `make run`'s
# own stack (scripts/run.sh: its nginx.conf, a durable SQLite database) in a
# temporary state directory on free loopback ports, MILLION_DEVICES devices
# registered through POST /api/v1/devices:batch (10,000 per request, by a
# client that is not omadm-sim), then one MD5 session of every device by
# omadm-sim, in MILLION_PARTS consecutive runs over slices of the devices
# file (so p99 can be compared from the first slice to the last: flat or
# not), and a --verify run of MILLION_VERIFY devices of their own.  Prints
# the registration rate, each slice's sessions/s, p50, p99 and retries, the
# memory of nginx's workers, omadm-backend and omadm-sim, and the
# database's size; stops everything it started by PID.
#
#   MILLION_DEVICES (1000000)  MILLION_PARTS (4)  MILLION_CONCURRENCY (500)
#   MILLION_VERIFY (100000; 0 skips it)  MILLION_KEEP=1 keeps the directory
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lib_prefix=million
. "$root/scripts/lib.sh"

devices=${MILLION_DEVICES:-1000000}
parts=${MILLION_PARTS:-4}
conc=${MILLION_CONCURRENCY:-500}
verify=${MILLION_VERIFY:-100000}
sim=$root/build/omadm-sim

dir=$(mktemp -d /tmp/omadm-million-XXXXXX)
read -r https_port api_port < <(free_ports 2)
run_pid=""
sim_pid=""    # the running omadm-sim, or the /usr/bin/time that runs it
stop_all() {
    if [ -n "$sim_pid" ]; then
        pkill -TERM -P "$sim_pid" 2>/dev/null
        stop_pid "$sim_pid"
    fi
    [ -n "$run_pid" ] && stop_pid "$run_pid"
    [ -n "${MILLION_KEEP:-}" ] && echo "million: directory kept: $dir" || rm -rf "$dir"
}
trap stop_all EXIT

in_background() {    # command...: run it so that stop_all can stop it
    "$@" &
    sim_pid=$!
    wait "$sim_pid"
    local rc=$?
    sim_pid=""
    return $rc
}

OMADM_STATE_DIR=$dir/var OMADM_HTTPS_PORT=$https_port OMADM_API_PORT=$api_port \
    "$root/scripts/run.sh" > "$dir/run.out" 2>&1 &
run_pid=$!
for _ in $(seq 300); do
    grep -q 'ngx_omadm is running' "$dir/run.out" && break
    alive "$run_pid" || fail "scripts/run.sh exited: $(tail -5 "$dir/run.out")"
    sleep 0.1
done
grep -q 'ngx_omadm is running' "$dir/run.out" || fail "scripts/run.sh did not start"
state=$dir/var
api=http://127.0.0.1:$api_port/api/v1
url=https://127.0.0.1:$https_port/omadm

rss_kb() {    # pids...: VmRSS summed
    local pid total=0 kb
    for pid in "$@"; do
        kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
        total=$((total + ${kb:-0}))
    done
    echo "$total"
}
memory() {    # label
    local backend nginx_master workers
    backend=$(cat "$state/backend.pid")
    nginx_master=$(cat "$state/nginx.pid")
    workers=$(ps -o pid= --ppid "$nginx_master" | tr '\n' ' ')
    # shellcheck disable=SC2086
    echo "million: memory $1: nginx workers $(rss_kb $workers) kB, omadm-backend $(rss_kb "$backend") kB, database $(du -ck "$state"/omadm.db* | tail -1 | cut -f1) kB"
}

# ---- registration --------------------------------------------------------------
python3 - "$devices" "$dir/devices.txt" <<'EOF'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    for i in range(n):
        f.write(f"IMEI:m-{i} u{i} p{i}\n")
EOF
python3 - "$api_port" "$state/admin.token" "$dir/devices.txt" <<'EOF'
import http.client, json, sys, time
port, token = int(sys.argv[1]), open(sys.argv[2]).read().strip()
lines = open(sys.argv[3]).read().split("\n")[:-1]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
t0, created = time.time(), 0
for i in range(0, len(lines), 10000):
    items = []
    for line in lines[i:i + 10000]:
        d, u, p = line.split()
        items.append({"device_id": d, "username": u, "password": p})
    conn.request("POST", "/api/v1/devices:batch", json.dumps(items),
                 {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit(f"batch at {i}: {r.status} {body[:200]!r}")
    created += sum(1 for x in json.loads(body) if x.get("result") == "created")
dt = time.time() - t0
if created != len(lines):
    sys.exit(f"created {created} of {len(lines)}")
print(f"million: registered {created} devices in {dt:.1f} s: {created / dt:.0f} devices/s")
EOF
memory "after registration"

# ---- one session of every device, slice by slice --------------------------------
split -n "l/$parts" -d "$dir/devices.txt" "$dir/part-"
printf 'million: %-8s %9s %10s %8s %8s %8s %8s %10s\n' slice devices sessions/s p50_ms p99_ms retries failed sim_kB
for f in "$dir"/part-*; do
    in_background /usr/bin/time -f '%M' -o "$f.mem" "$sim" --url "$url" --ca "$state/ca.crt" \
        --devices-file "$f" --sessions 1 --concurrency "$conc" --quiet --json \
        > "$f.json" 2> "$f.err" || fail "omadm-sim failed on $f: $(tail -3 "$f.err")"
    perl -MJSON::PP -e '
        my ($f, $mem) = @ARGV;
        my $r = decode_json(do { local $/; open my $h, "<", "$f.json" or die; <$h> });
        printf "million: %-8s %9d %10.1f %8.1f %8.1f %8d %8d %10d\n", ($f =~ m{([^/]+)$})[0],
            $r->{sessions_completed}, $r->{sessions_per_second}, $r->{session_ms}{p50},
            $r->{session_ms}{p99}, $r->{session_retries} // 0, $r->{sessions_failed} // 0, $mem;
    ' "$f" "$(tail -1 "$f.mem")"
done
memory "after the sessions"

# ---- --verify of its own fleet --------------------------------------------------
if [ "$verify" -gt 0 ]; then
    start=$(date +%s.%N)
    in_background "$sim" --url "$url" --ca "$state/ca.crt" --api "$api" --token-file "$state/admin.token" \
        --devices "$verify" --sessions 1 --verify 1 --concurrency "$conc" --prefix v- \
        --json > "$dir/verify.json" 2> "$dir/verify.err" \
        || fail "omadm-sim --verify failed: $(tail -3 "$dir/verify.err")"
    end=$(date +%s.%N)
    echo "million: --verify of $verify devices, phases (omadm-sim's stderr):"
    grep -iE 'setup|verif|queue|regist' "$dir/verify.err" | sed 's/^/million:   /' || true
    perl -MJSON::PP -e '
        my $r = decode_json(do { local $/; <STDIN> });
        printf "million:   run: %d sessions in %.1f s, %.1f sessions/s, p99 %.1f ms, retries %d; verify: %d correct, %d wrong, %d missing, %d duplicated\n",
            $r->{sessions_completed}, $r->{elapsed_s}, $r->{sessions_per_second},
            $r->{session_ms}{p99}, $r->{session_retries} // 0, $r->{verify}{correct}, $r->{verify}{wrong},
            $r->{verify}{missing}, $r->{verify}{duplicated};
    ' < "$dir/verify.json"
    echo "million:   whole omadm-sim run $(echo "$end - $start" | bc) s"
fi
