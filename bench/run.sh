#!/bin/bash
# make bench: throughput of the module against nginx's own floor, measured
# in one run on one server, and reported as ratios (absolute figures on a
# small shared machine are noise).  See bench/README.md.
#
# Starts omadm-backend and Debian's nginx with the built module (TLS, no
# access log) on free loopback ports in a temporary directory, checks each
# path answers what it should, drives it with wrk, prints a table, and
# stops both by PID.  About 1 minute with the defaults.
#
#   BENCH_SECONDS (10)      wrk duration of each path
#   BENCH_THREADS (2)       wrk threads
#   BENCH_CONNECTIONS (32)  wrk keepalive TLS connections
#   BENCH_WORKERS (2)       nginx worker_processes
#   BENCH_DEVICES (64)      registered devices that paths c and d rotate over
#   BENCH_ZONE (10m)        omadm_session_zone size
#   BENCH_FLEET (1000)      omadm-sim devices of the fleet phase (0: skip it)
#   BENCH_KEEP=1            keep the temporary directory (logs, config)
#   OMADM_NGINX, OMADM_BACKEND, OMADM_MODULE, OMADM_SIM  other binaries
#                           to measure
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
lib_prefix=bench
. "$root/scripts/lib.sh"    # alive, stop_pid, port_open, wait_ready, fail
bench=$root/bench
nginx=${OMADM_NGINX:-/usr/sbin/nginx}
module=${OMADM_MODULE:-$root/build/ngx_http_omadm_module.so}
backend=${OMADM_BACKEND:-$root/build/omadm-backend}
seconds=${BENCH_SECONDS:-10}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-32}
workers=${BENCH_WORKERS:-2}
devices=${BENCH_DEVICES:-64}
zone=${BENCH_ZONE:-10m}
fleet=${BENCH_FLEET:-1000}
sim=${OMADM_SIM:-$root/build/omadm-sim}

for f in "$module" "$backend" "$nginx" "$sim"; do
    [ -x "$f" ] || [ -f "$f" ] || { echo "bench: $f is missing; run make" >&2; exit 1; }
done

if ! command -v wrk >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "bench: wrk missing: apt-get install wrk" >&2; exit 1; }
    echo "bench: installing wrk (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y wrk >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi

# ---- temporary directory, processes, cleanup --------------------------------

umask 022
dir=$(mktemp -d "${TMPDIR:-/tmp}/omadm-bench-XXXXXX")
chmod 0755 "$dir"    # nginx workers (nobody) use the temp dirs inside
mkdir "$dir/tmp"
backend_pid=""
nginx_pid=""

cleanup() {
    trap - EXIT INT TERM
    stop_pid "$nginx_pid"
    stop_pid "$backend_pid"
    if [ -n "${BENCH_KEEP:-}" ] || [ -e "$dir/failed" ]; then
        echo "bench: directory kept: $dir"
    else
        rm -rf "$dir"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# lib.sh's fail, plus a mark that keeps the directory (a file, so that it
# also works from a $(...) subshell)
fail() {
    echo "bench: $*" >&2
    touch "$dir/failed"
    exit 1
}

read -r https_port api_port < <(perl -MIO::Socket::INET -e '
    my @s = map { IO::Socket::INET->new(LocalAddr => "127.0.0.1",
                  LocalPort => 0, Listen => 1) or die } 1 .. 2;
    print join(" ", map { $_->sockport } @s), "\n"')

"$root/scripts/gen-certs.sh" "$dir"
(umask 077
 openssl rand -hex 32 > "$dir/admin.token"
 openssl rand -hex 32 > "$dir/contract.key")
token=$(cat "$dir/admin.token")

user_line=""
[ "$(id -u)" = 0 ] && user_line="user nobody nogroup;"
(umask 077
 sed -e "s|@MODULE@|$module|g" -e "s|@DIR@|$dir|g" -e "s|@USER@|$user_line|" \
     -e "s|@WORKERS@|$workers|g" -e "s|@ZONE@|$zone|g" \
     -e "s|@HTTPS_PORT@|$https_port|g" -e "s|@API_PORT@|$api_port|g" \
     -e "s|@CONTRACT_KEY@|$(cat "$dir/contract.key")|g" \
     "$bench/nginx.conf.in" > "$dir/nginx.conf")

"$backend" --listen "127.0.0.1:$api_port" --db "$dir/omadm.db" \
    --token-file "$dir/admin.token" --key-file "$dir/contract.key" \
    </dev/null >"$dir/backend.log" 2>&1 &
backend_pid=$!
wait_ready omadm-backend "$backend_pid" "$api_port" "$dir/backend.log"

"$nginx" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" \
    </dev/null >"$dir/nginx.out" 2>&1 &
nginx_pid=$!
wait_ready nginx "$nginx_pid" "$https_port" "$dir/error.log"

# ---- devices and the messages ----------------------------------------------

base=https://127.0.0.1:$https_port
url=$base/omadm
api=http://127.0.0.1:$api_port/api/v1
basic_cred='<Cred><Meta><Type xmlns="syncml:metinf">syncml:auth-basic</Type><Format xmlns="syncml:metinf">b64</Format></Meta><Data>'$(printf bench:secret | base64)'</Data></Cred>'

for ((i = 0; i < devices; i++)); do
    curl -sS -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $token" \
        -d "{\"device_id\":\"IMEI:bench-$i\",\"username\":\"bench\",\"password\":\"secret\"}" \
        "$api/devices" | grep -qx 201 || fail "could not register IMEI:bench-$i"
done

message() {    # session device [cred]: what common.lua's bench.message builds
    sed -e "s|@SESSION@|$1|g" -e "s|@DEVICE@|$2|g" -e "s|@URL@|$url|g" \
        -e "s|@CRED@|${3:-}|g" "$bench/package1.xml"
}

post() {    # path: POST stdin like a device; prints the body, fails unless 200
    local out code
    out=$(curl -sS --cacert "$dir/ca.crt" -w '\n%{http_code}' \
          -H 'Content-Type: application/vnd.syncml.dm+xml' \
          --data-binary @- "$base$1") || fail "POST $1 failed"
    code=${out##*$'\n'}
    [ "$code" = 200 ] || fail "POST $1 answered $code: ${out%$'\n'*}"
    printf '%s' "${out%$'\n'*}"
}

calls() {    # contract calls the backend has logged so far (all ops)
    sleep 0.3    # it logs just after answering
    grep -c ' POST /contract/' "$dir/backend.log" || true
}

hdr_status() {    # the Data of the first Status (the SyncHdr's)
    perl -0777 -ne 'print $1 if m{<Cmd>SyncHdr</Cmd>.*?<Data>(\d+)</Data>}s' <<<"$1"
}

# ---- check each path answers what it should, before measuring it ------------

[ "$(message cached IMEI:bench-0 | post /floor)" = ok ] || fail "/floor is not 'ok'"

# b: prime the session cache with a one-message Basic session (only an
# authenticated session is kept); a repeat must be the very same 212 (same
# NextNonce: nothing was recomputed) and must not reach the backend.
n0=$(calls)
first=$(message cached IMEI:bench-0 "$basic_cred" | post /omadm)
again=$(message cached IMEI:bench-0 "$basic_cred" | post /omadm)
[ "$(hdr_status "$first")" = 212 ] || fail "priming answer is not a 212: $first"
grep -q '<NextNonce' <<<"$first" || fail "priming answer has no NextNonce: $first"
[ "$first" = "$again" ] || fail "a repeat was not answered from the cache"
[ "$(calls)" = $((n0 + 2)) ] || fail "a repeat reached the backend"

[ "$(hdr_status "$(message check-c IMEI:bench-1 | post /omadm)")" = 407 ] \
    || fail "a new session without Cred did not get 407"
[ "$(hdr_status "$(message check-d IMEI:bench-1 "$basic_cred" | post /omadm)")" = 212 ] \
    || fail "a new session with Basic Cred did not get 212"
grep -q ' POST /contract/nonce 200 ' "$dir/backend.log" \
    || fail "the backend did not store the nonce (200)"

# ---- measure ------------------------------------------------------------------

rss() {    # kB: nginx workers' VmRSS and RssShmem (summed), backend's VmRSS
    local pid
    for pid in $(ps -o pid= --ppid "$nginx_pid"); do
        cat "/proc/$pid/status" 2>/dev/null
    done | awk '/^VmRSS:/ { r += $2 } /^RssShmem:/ { s += $2 }
                END { printf "%d %d ", r, s }'
    awk '/^VmRSS:/ { print $2 }' "/proc/$backend_pid/status"
}

listen_drops() {    # SYNs dropped by full listen queues (kernel-wide)
    awk '/^TcpExt:/ { if (++n == 1) { for (i = 2; i <= NF; i++)
                                          if ($i == "ListenDrops") k = i }
                      else print $k }' /proc/net/netstat
}

declare -A rps p50 p99 reqs errs per_req drops
run() {    # name path script [VAR=value...]: one wrk run, results by name
    local name=$1 path=$2 script=$3 before drops0 line
    shift 3
    before=$(calls)
    drops0=$(listen_drops)
    line=$(env BENCH_URL="$url" BENCH_DEVICES="$devices" "$@" \
           timeout -k 5 $((seconds + 30)) wrk -t"$threads" -c"$conns" \
           -d"${seconds}s" --timeout 5s -s "$bench/$script" "$base$path" \
           | tee "$dir/wrk-$name.txt" | grep '^RESULT') \
        || fail "wrk failed for $name (see $dir/wrk-$name.txt)"
    read -r _ "rps[$name]" "p50[$name]" "p99[$name]" "reqs[$name]" \
        "errs[$name]" <<<"$line"
    per_req[$name]=$(awk -v c=$(( $(calls) - before )) -v r="${reqs[$name]}" \
                     'BEGIN { printf "%.2f", r ? c / r : 0 }')
    drops[$name]=$(( $(listen_drops) - drops0 ))
    echo "bench: $name: ${rps[$name]} req/s"
}

# The floor is measured before and after each module path, and each path
# is compared with the mean of the two floors around it: other load on the
# machine drifts, and the ratio should only see what happened meanwhile.
echo "bench: wrk -t$threads -c$conns -d${seconds}s over TLS keepalive," \
     "nginx workers: $workers, devices: $devices"
read -r rss_w0 shm_w0 rss_b0 < <(rss)
run a1 /floor same_message.lua
run b  /omadm same_message.lua BENCH_CRED="$basic_cred"
run a2 /floor same_message.lua
run c  /omadm new_session.lua BENCH_TAG=c
run a3 /floor same_message.lua
run d  /omadm new_session.lua BENCH_TAG=d BENCH_CRED="$basic_cred"
run a4 /floor same_message.lua
read -r rss_w1 shm_w1 rss_b1 < <(rss)

grep -q ' POST /contract/[a-z]* [^2]' "$dir/backend.log" \
    && echo "bench: WARNING: the backend answered some contract calls with an error"
grep -Eq '\[(alert|crit|emerg)\]' "$dir/error.log" \
    && echo "bench: WARNING: nginx logged alert/crit/emerg" && touch "$dir/failed"

# ---- report -------------------------------------------------------------------

row() {    # name floor-before floor-after label
    awk -v l="$4" -v r="${rps[$1]}" -v f1="${rps[$2]}" -v f2="${rps[$3]}" \
        -v p5="${p50[$1]}" -v p9="${p99[$1]}" -v c="${per_req[$1]}" \
        -v e="${errs[$1]}" -v d="${drops[$1]}" \
        'BEGIN { printf "%-38s %8.0f %7.3f %7.2f %8.2f %6s %5d %5d\n",
                 l, r, r / ((f1 + f2) / 2), p5, p9, c, e, d }'
}
echo
printf '%-38s %8s %7s %7s %8s %6s %5s %5s\n' path 'req/s' 'ratio' 'p50 ms' \
    'p99 ms' 'calls' 'errs' 'drops'
row a1 a1 a1 'a  nginx floor (return 200)'
row b  a1 a2 'b  module, repeat from session cache'
row a2 a2 a2 'a  nginx floor'
row c  a2 a3 'c  module + nonce call (407)'
row a3 a3 a3 'a  nginx floor'
row d  a3 a4 'd  module + auth + exchange (212)'
row a4 a4 a4 'a  nginx floor'
echo
awk -v b="${rps[b]}" -v c="${rps[c]}" -v d="${rps[d]}" -v a1="${rps[a1]}" \
    -v a2="${rps[a2]}" -v a3="${rps[a3]}" -v a4="${rps[a4]}" 'BEGIN {
    lo = a1; hi = a1
    split(a2 " " a3 " " a4, f, " ")
    for (i in f) { if (f[i] < lo) lo = f[i]; if (f[i] > hi) hi = f[i] }
    printf "ratios: b/a %.3f   c/a %.3f   d/a %.3f   (floor spread: min/max %.2f)\n",
           b / ((a1 + a2) / 2), c / ((a2 + a3) / 2), d / ((a3 + a4) / 2), lo / hi }'
echo "memory (kB): nginx workers RSS $rss_w0 -> $rss_w1" \
     "(of which shared memory $shm_w0 -> $shm_w1), omadm-backend RSS $rss_b0 -> $rss_b1"
echo "calls = backend contract calls per request; drops = SYNs dropped by full listen queues"

# ---- fleet: whole MD5 sessions of many devices at once ------------------------
# omadm-sim plays BENCH_FLEET devices, one session each (407 challenge,
# then 212 with one queued Get answered): first 50 at a time, the
# baseline, then all of them at once.  The ratio is what a thousand
# concurrent devices cost against a modest crowd, on the same server.

[ "$fleet" -gt 0 ] || exit 0

declare -A fleet_json
fleet_run() {    # name concurrency
    fleet_json[$1]=$("$sim" --url "$url" --ca "$dir/ca.crt" --api "$api" \
        --token-file "$dir/admin.token" --devices "$fleet" --sessions 1 \
        --concurrency "$2" --verify 1 --prefix "fleet-$1-" --quiet --json) \
        || fail "omadm-sim failed at concurrency $2: ${fleet_json[$1]}"
    echo "bench: fleet at concurrency $2 done"
}
fleet_run c50 50
fleet_run all "$fleet"

echo
printf '%-28s %10s %7s %s\n' 'fleet (MD5, 1 session each)' 'sessions/s' ratio \
    'session p50/p90/p99/max ms, retries'
for name in c50 all; do
    perl -MJSON::PP -e '
        my ($name, $j, $base) = @ARGV;
        my ($r, $b) = map { decode_json($_) } $j, $base;
        my $s = $r->{session_ms};
        printf "%-28s %10.1f %7.2f %.0f/%.0f/%.0f/%.0f, %d\n",
            ($name eq "c50" ? "50 concurrent" : "$r->{devices} concurrent"),
            $r->{sessions_per_second},
            $r->{sessions_per_second} / $b->{sessions_per_second},
            @$s{qw(p50 p90 p99 max)}, $r->{session_retries};
        die "verify failed\n" if $r->{verify}{correct} != $r->{verify}{commands};
    ' "$name" "${fleet_json[$name]}" "${fleet_json[c50]}" || fail "fleet $name"
done
