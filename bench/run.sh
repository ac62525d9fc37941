#!/bin/bash
# make bench: throughput of the module against nginx's own floor, and of
# whole device sessions against the backend alone, measured in one run on
# one server and reported as ratios (absolute figures on a small shared
# machine are noise).  See bench/README.md.
#
# Starts omadm-backend and Debian's nginx with the built module (TLS, no
# access log) on free loopback ports in a temporary directory, checks each
# path answers what it should, drives it with wrk or omadm-sim, prints a
# table, and stops both by PID.  With BASELINE (another build directory) a
# second backend and nginx run the other build beside them, every path is
# measured for both builds in turn, and the table gives new/old ratios.
# About 2 minutes with the defaults (4 with BASELINE).
#
#   BENCH_SECONDS (10)      wrk duration of each path
#   BENCH_THREADS (2)       wrk threads (paths a to d)
#   BENCH_CONNECTIONS (32)  wrk keepalive connections; path r runs one
#                           wrk thread per connection, path s as many
#                           sessions at once
#   BENCH_WORKERS (2)       nginx worker_processes
#   BENCH_DEVICES (64)      registered devices that paths c, d and r rotate over
#   BENCH_ZONE (64m)        omadm_session_zone size (room for d's sessions)
#   BENCH_SESSIONS (2000)   devices of path s, one session each
#   BENCH_TRACE_SESSIONS (200)  sessions of the strace count (0: skip it)
#   BENCH_FLEET (1000)      omadm-sim devices of the fleet phase (0: skip it)
#   BENCH_UPSTREAM_KEEPALIVE (16)  the contract upstream's keepalive
#                           (0: a new connection per contract call)
#   BENCH_SERVER_KEY (ec)   ec or rsa: the server certificate's key
#   BENCH_KEEP=1            keep the temporary directory (logs, config)
#   OMADM_NGINX, OMADM_BACKEND, OMADM_MODULE, OMADM_SIM  other binaries
#                           to measure (OMADM_SIM drives both builds)
#   BASELINE                a build directory (ngx_http_omadm_module.so,
#                           omadm-backend) to measure against, e.g. main's
#   BASELINE_UPSTREAM_KEEPALIVE  its upstream keepalive (default: the same;
#                           BASELINE=build BASELINE_UPSTREAM_KEEPALIVE=0
#                           compares the configurations on one build)
#   BENCH_REPLAY, BASELINE_REPLAY  path r's script for each build
#                           (default bench/replay_session.lua)
set -euo pipefail

# Contract calls each path must make: per request for b, c and d, per
# whole session for s (through nginx) and r (its replay at the backend).
# These are the module's calls today; when the contract changes, change
# them (and bench/replay_session.lua's SESSION, which replays s's calls;
# keep the old script for a baseline as BASELINE_REPLAY).  The run fails
# when a path makes other counts than these.  new: contract version 2 (d's
# Basic logins verify against the credential copies path c's challenges
# left in the zone, so only exchange; s and r: nonce and exchange); old:
# the module and backend before it (version 1).
declare -A expect_new=([b]=0 [c]=1 [d]=1 [s]=2 [r]=2)
declare -A expect_old=([b]=0 [c]=1 [d]=2 [s]=3 [r]=3)

root=$(cd "$(dirname "$0")/.." && pwd)
lib_prefix=bench
. "$root/scripts/lib.sh"    # alive, stop_pid, port_open, free_ports, wait_ready, fail
bench=$root/bench
nginx=${OMADM_NGINX:-/usr/sbin/nginx}
seconds=${BENCH_SECONDS:-10}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-32}
workers=${BENCH_WORKERS:-2}
devices=${BENCH_DEVICES:-64}
zone=${BENCH_ZONE:-64m}
sessions=${BENCH_SESSIONS:-2000}
trace_sessions=${BENCH_TRACE_SESSIONS:-200}
fleet=${BENCH_FLEET:-1000}
sim=${OMADM_SIM:-$root/build/omadm-sim}

declare -A module_of backend_of keepalive_of replay_of
module_of[new]=${OMADM_MODULE:-$root/build/ngx_http_omadm_module.so}
backend_of[new]=${OMADM_BACKEND:-$root/build/omadm-backend}
keepalive_of[new]=${BENCH_UPSTREAM_KEEPALIVE:-16}
replay_of[new]=${BENCH_REPLAY:-$bench/replay_session.lua}
builds=(new)
if [ -n "${BASELINE:-}" ]; then
    builds=(new old)
    BASELINE=$(cd "$BASELINE" && pwd) || exit 1
    module_of[old]=$BASELINE/ngx_http_omadm_module.so
    backend_of[old]=$BASELINE/omadm-backend
    keepalive_of[old]=${BASELINE_UPSTREAM_KEEPALIVE:-${keepalive_of[new]}}
    replay_of[old]=${BASELINE_REPLAY:-${replay_of[new]}}
fi

for b in "${builds[@]}"; do
    for f in "${module_of[$b]}" "${backend_of[$b]}" "${replay_of[$b]}"; do
        [ -f "$f" ] || { echo "bench: $f is missing; run make" >&2; exit 1; }
    done
done
for f in "$nginx" "$sim"; do
    [ -x "$f" ] || { echo "bench: $f is missing; run make" >&2; exit 1; }
done
[ "$devices" -ge "$conns" ] \
    || { echo "bench: BENCH_DEVICES must be at least BENCH_CONNECTIONS (path r)" >&2; exit 1; }

for tool in wrk strace; do
    command -v $tool >/dev/null && continue
    [ "$(id -u)" = 0 ] || { echo "bench: $tool missing: apt-get install $tool" >&2; exit 1; }
    echo "bench: installing $tool (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y $tool >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y $tool >/dev/null; }
done

# ---- temporary directory, processes, cleanup --------------------------------

umask 022
dir=$(mktemp -d "${TMPDIR:-/tmp}/omadm-bench-XXXXXX")
chmod 0755 "$dir"    # nginx workers (nobody) use the temp dirs inside
declare -A backend_pid nginx_pid https_port api_port contract_port
strace_pid=""

cleanup() {
    trap - EXIT INT TERM
    stop_pid "$strace_pid"
    for b in "${builds[@]}"; do
        stop_pid "${nginx_pid[$b]:-}"
        stop_pid "${backend_pid[$b]:-}"
    done
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

OMADM_SERVER_KEY=${BENCH_SERVER_KEY:-ec} "$root/scripts/gen-certs.sh" "$dir"
(umask 077
 openssl rand -hex 32 > "$dir/admin.token"
 openssl rand -hex 32 > "$dir/contract.key")
token=$(cat "$dir/admin.token")
contract_key=$(cat "$dir/contract.key")
basic_cred='<Cred><Meta><Type xmlns="syncml:metinf">syncml:auth-basic</Type><Format xmlns="syncml:metinf">b64</Format></Meta><Data>'$(printf bench:secret | base64)'</Data></Cred>'

# The stack of one build: its backend (own database) and an nginx loading
# its module, in $dir/<build>, with BENCH_DEVICES devices registered.
start_stack() {    # build
    local b=$1 d=$dir/$1 user_line="" ka=""
    mkdir -p "$d/tmp"
    read -r "https_port[$b]" "api_port[$b]" "contract_port[$b]" < <(free_ports 3)
    [ "$(id -u)" = 0 ] && user_line="user nobody nogroup;"
    [ "${keepalive_of[$b]}" -gt 0 ] \
        && ka="keepalive ${keepalive_of[$b]}; keepalive_timeout 1s;"
    (umask 077
     sed -e "s|@MODULE@|${module_of[$b]}|g" -e "s|@DIR@|$d|g" \
         -e "s|@CERTS@|$dir|g" -e "s|@USER@|$user_line|" \
         -e "s|@WORKERS@|$workers|g" -e "s|@ZONE@|$zone|g" \
         -e "s|@HTTPS_PORT@|${https_port[$b]}|g" \
         -e "s|@CONTRACT_PORT@|${contract_port[$b]}|g" \
         -e "s|@UPSTREAM_KEEPALIVE@|$ka|" -e "s|@CONTRACT_KEY@|$contract_key|g" \
         "$bench/nginx.conf.in" > "$d/nginx.conf")

    # the contract on a listener of its own, as make run has it (there a
    # unix socket): nginx's kept connections are not counted against the
    # operator API's connections per client address
    "${backend_of[$b]}" --listen "127.0.0.1:${api_port[$b]}" \
        --contract-listen "127.0.0.1:${contract_port[$b]}" --db "$d/omadm.db" \
        --token-file "$dir/admin.token" --key-file "$dir/contract.key" \
        </dev/null >"$d/backend.log" 2>&1 &
    backend_pid[$b]=$!
    wait_ready "omadm-backend ($b)" "${backend_pid[$b]}" "${api_port[$b]}" "$d/backend.log"

    "$nginx" -p "$d/" -c "$d/nginx.conf" -e "$d/error.log" \
        </dev/null >"$d/nginx.out" 2>&1 &
    nginx_pid[$b]=$!
    wait_ready "nginx ($b)" "${nginx_pid[$b]}" "${https_port[$b]}" "$d/error.log"

    local i api=http://127.0.0.1:${api_port[$b]}/api/v1
    for i in $(seq 0 $((devices - 1))) cache; do
        curl -sS -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $token" \
            -d "{\"device_id\":\"IMEI:bench-$i\",\"username\":\"bench\",\"password\":\"secret\"}" \
            "$api/devices" | grep -qx 201 \
            || fail "could not register IMEI:bench-$i ($b)"
    done
    # b's device has a command queued, so that its priming session goes
    # on after the 212 (a login is answered from the cache only then)
    curl -sS -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $token" \
        -d '{"verb":"Get","target":"./DevDetail/SwV"}' \
        "$api/devices/IMEI%3Abench-cache/commands" | grep -qx 201 \
        || fail "could not queue a command for IMEI:bench-cache ($b)"
}

# what the helpers below work on: one build's stack
use_stack() {    # build
    cur=$1
    sdir=$dir/$1
    base=https://127.0.0.1:${https_port[$1]}
    url=$base/omadm
    api=http://127.0.0.1:${api_port[$1]}/api/v1
    blog=$sdir/backend.log
}

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

calls() {    # contract calls the current backend has logged so far (all ops)
    sleep 0.3    # it logs just after answering
    grep -c ' POST /contract/' "$blog" || true
}

hdr_status() {    # the Data of the first Status (the SyncHdr's)
    perl -0777 -ne 'print $1 if m{<Cmd>SyncHdr</Cmd>.*?<Data>(\d+)</Data>}s' <<<"$1"
}

# ---- check each path answers what it should, before measuring it ------------

check_stack() {
    [ "$(message cached IMEI:bench-cache | post /floor)" = ok ] || fail "/floor is not 'ok'"

    # b: prime the session cache with a Basic login of a device with a
    # command queued (only an authenticated session that goes on is kept
    # for a repeat without the session's token); a repeat must be the very
    # same 212 (same NextNonce: nothing was recomputed) and must not reach
    # the backend.
    local n1 first again
    first=$(message cached IMEI:bench-cache "$basic_cred" | post /omadm)
    n1=$(calls)
    again=$(message cached IMEI:bench-cache "$basic_cred" | post /omadm)
    [ "$(hdr_status "$first")" = 212 ] || fail "priming answer is not a 212: $first"
    grep -q '<NextNonce' <<<"$first" || fail "priming answer has no NextNonce: $first"
    [ "$first" = "$again" ] || fail "a repeat was not answered from the cache"
    [ "$(calls)" = "$n1" ] || fail "a repeat reached the backend"

    [ "$(hdr_status "$(message check-c IMEI:bench-1 | post /omadm)")" = 407 ] \
        || fail "a new session without Cred did not get 407"
    [ "$(hdr_status "$(message check-d IMEI:bench-1 "$basic_cred" | post /omadm)")" = 212 ] \
        || fail "a new session with Basic Cred did not get 212"
    grep -q ' POST /contract/nonce 200 ' "$blog" \
        || fail "the backend did not store the nonce (200)"
}

for b in "${builds[@]}"; do
    start_stack "$b"
    use_stack "$b"
    declare -n expect=expect_$b
    check_stack
done

# ---- measure ------------------------------------------------------------------

rss() {    # kB: nginx workers' VmRSS and RssShmem (summed), backend's VmRSS
    local pid
    for pid in $(ps -o pid= --ppid "${nginx_pid[$cur]}"); do
        cat "/proc/$pid/status" 2>/dev/null
    done | awk '/^VmRSS:/ { r += $2 } /^RssShmem:/ { s += $2 }
                END { printf "%d %d ", r, s }'
    awk '/^VmRSS:/ { print $2 }' "/proc/${backend_pid[$cur]}/status"
}

listen_drops() {    # SYNs dropped by full listen queues (kernel-wide)
    awk '/^TcpExt:/ { if (++n == 1) { for (i = 2; i <= NF; i++)
                                          if ($i == "ListenDrops") k = i }
                      else print $k }' /proc/net/netstat
}

# Results by "<build>:<path>": rate (requests/s, or sessions/s for r and
# s), latency, completed requests or sessions, errors, calls per request
# or session, listen drops.
declare -A rps p50 p99 reqs errs per_req drops

per() {    # a b: a/b with two decimals
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b ? a / b : 0 }'
}

run() {    # name path script [VAR=value...]: one wrk run through nginx
    local name=$1 path=$2 script=$3 k=$cur:$1 before drops0 line
    shift 3
    before=$(calls)
    drops0=$(listen_drops)
    line=$(env BENCH_URL="$url" BENCH_DEVICES="$devices" BENCH_WRK_THREADS="$threads" "$@" \
           timeout -k 5 $((seconds + 30)) wrk -t"$threads" -c"$conns" \
           -d"${seconds}s" --timeout 5s -s "$bench/$script" "$base$path" \
           | tee "$sdir/wrk-$name.txt" | grep '^RESULT') \
        || fail "wrk failed for $name (see $sdir/wrk-$name.txt)"
    read -r _ "rps[$k]" "p50[$k]" "p99[$k]" "reqs[$k]" "errs[$k]" <<<"$line"
    per_req[$k]=$(per $(( $(calls) - before )) "${reqs[$k]}")
    drops[$k]=$(( $(listen_drops) - drops0 ))
    echo "bench: $cur $name: ${rps[$k]} req/s"
}

# r: the contract calls of s's sessions, straight at the backend (wrk, one
# connection per thread: see replay_session.lua)
run_replay() {
    local k=$cur:r before drops0 out
    before=$(calls)
    drops0=$(listen_drops)
    out=$(env BENCH_URL="$url" BENCH_DEVICES="$devices" BENCH_THREADS_TOTAL="$conns" \
          BENCH_CONTRACT_KEY="$contract_key" \
          timeout -k 5 $((seconds + 30)) wrk -t"$conns" -c"$conns" \
          -d"${seconds}s" --timeout 5s -s "${replay_of[$cur]}" \
          "http://127.0.0.1:${contract_port[$cur]}" | tee "$sdir/wrk-r.txt") \
        || fail "wrk failed for r (see $sdir/wrk-r.txt)"
    local rate _r _rate failed
    read -r _ _rate "p50[$k]" "p99[$k]" _r "errs[$k]" <<<"$(grep '^RESULT' <<<"$out")"
    read -r _ "reqs[$k]" "rps[$k]" failed <<<"$(grep '^SESSIONS' <<<"$out")"
    errs[$k]=$(( errs[$k] + failed ))
    per_req[$k]=$(per $(( $(calls) - before )) "${reqs[$k]}")
    drops[$k]=$(( $(listen_drops) - drops0 ))
    echo "bench: $cur r: ${rps[$k]} sessions/s"
}

sim_json() {    # prefix devices concurrency [more omadm-sim options]: its JSON
    local prefix=$1 n=$2 c=$3 out
    shift 3
    out=$("$sim" --url "$url" --ca "$dir/ca.crt" --api "$api" \
        --token-file "$dir/admin.token" --devices "$n" --sessions 1 \
        --concurrency "$c" --prefix "$prefix" --quiet --json "$@") \
        || fail "omadm-sim failed ($cur, $prefix): $out"
    printf '%s' "$out"
}

json_field() {    # json perl-expression-on-$r
    perl -MJSON::PP -e 'my $r = decode_json($ARGV[0]); print eval $ARGV[1]' "$1" "$2"
}

# s: whole MD5 sessions of fresh devices through nginx + module (omadm-sim:
# package 1, the 407 challenge, the login with the digest, the 212; nothing
# queued), one session each, BENCH_CONNECTIONS at once
run_sessions() {
    local k=$cur:s before drops0 j
    before=$(calls)
    drops0=$(listen_drops)
    j=$(sim_json "s-$cur-" "$sessions" "$conns")
    printf '%s\n' "$j" > "$sdir/sim-s.json"
    rps[$k]=$(json_field "$j" '$r->{sessions_per_second}')
    p50[$k]=$(json_field "$j" '$r->{session_ms}{p50}')
    p99[$k]=$(json_field "$j" '$r->{session_ms}{p99}')
    reqs[$k]=$(json_field "$j" '$r->{sessions_completed}')
    errs[$k]=$(json_field "$j" '($r->{sessions_failed} // 0) + ($r->{session_retries} // 0)')
    per_req[$k]=$(per $(( $(calls) - before )) "${reqs[$k]}")
    drops[$k]=$(( $(listen_drops) - drops0 ))
    echo "bench: $cur s: ${rps[$k]} sessions/s"
}

# Every path for every build in turn (new first, then old first on the
# next path), so that drift in other load on the machine hits both alike.  The floor is measured before and after each
# module path, and each path is compared with the mean of the two floors
# around it.
echo "bench: wrk -t$threads -c$conns -d${seconds}s over TLS keepalive," \
     "nginx workers: $workers, devices: $devices, builds: ${builds[*]}"
declare -A rss0 rss1
for b in "${builds[@]}"; do use_stack "$b"; rss0[$b]=$(rss); done
turns=0
each() {    # function args...: for every build, first one first, then the other
    local b order=("${builds[@]}")
    if [ ${#builds[@]} = 2 ] && [ $((turns++ % 2)) = 1 ]; then
        order=("${builds[1]}" "${builds[0]}")
    fi
    for b in "${order[@]}"; do use_stack "$b"; "$@"; done
}
each run a1 /floor same_message.lua
each run b  /omadm same_message.lua BENCH_CRED="$basic_cred"
each run a2 /floor same_message.lua
each run c  /omadm new_session.lua BENCH_TAG=c
each run a3 /floor same_message.lua
each run d  /omadm new_session.lua BENCH_TAG=d BENCH_CRED="$basic_cred"
each run a4 /floor same_message.lua
each run_replay
each run_sessions
for b in "${builds[@]}"; do use_stack "$b"; rss1[$b]=$(rss); done

for b in "${builds[@]}"; do
    grep -q ' POST /contract/[a-z]* [^2]' "$dir/$b/backend.log" \
        && echo "bench: WARNING: the $b backend answered some contract calls with an error"
    grep -Eq '\[(alert|crit|emerg)\]' "$dir/$b/error.log" \
        && echo "bench: WARNING: $b's nginx logged alert/crit/emerg" && touch "$dir/failed"
done

# ---- per session: system calls of the backend, outside the timed runs ---------
# strace -c on every backend thread while omadm-sim runs a fixed number of
# s's sessions: fdatasync (durable commits) and accept (new connections
# from nginx: with upstream keepalive far fewer than contract calls).  The
# devices are registered before strace attaches, so that only the
# sessions are counted.

declare -A syncs_per accepts_per
trace_count() {
    syncs_per[$cur]=-; accepts_per[$cur]=-
    [ "$trace_sessions" -gt 0 ] || return 0
    local out=$sdir/strace.txt list=$sdir/trace-devices.txt n j
    for ((i = 0; i < trace_sessions; i++)); do
        echo "IMEI:trace-$i trace-$i secret-$i"
    done > "$list"
    perl -MHTTP::Tiny -e '
        my ($api, $token, $list) = @ARGV;
        my $http = HTTP::Tiny->new(keep_alive => 1, timeout => 10);
        open my $fh, "<", $list or die "$list: $!\n";
        while (<$fh>) {
            my ($id, $user, $pw) = split;
            my $r = $http->post("$api/devices", { headers => {
                Authorization => "Bearer $token" }, content =>
                qq({"device_id":"$id","username":"$user","password":"$pw"}) });
            die "registering $id: $r->{status}\n" unless $r->{status} == 201;
        }' "$api" "$token" "$list" || fail "could not register the trace devices ($cur)"
    strace -c -f -e trace=fdatasync,fsync,accept,accept4 -o "$out" \
        -p "${backend_pid[$cur]}" 2>"$sdir/strace.err" &
    strace_pid=$!
    sleep 1    # attached to every thread
    j=$("$sim" --url "$url" --ca "$dir/ca.crt" --devices-file "$list" --sessions 1 \
        --concurrency "$conns" --quiet --json) || fail "omadm-sim failed ($cur, trace): $j"
    n=$(json_field "$j" '$r->{sessions_completed}')
    [ "$(json_field "$j" '$r->{session_retries}')" = 0 ] \
        || fail "omadm-sim retried sessions during the strace count ($cur): $j"
    sleep 0.5
    kill -INT "$strace_pid" 2>/dev/null || true
    wait "$strace_pid" 2>/dev/null || true
    strace_pid=""
    syncs_per[$cur]=$(per "$(awk '$NF ~ /^f(data)?sync$/ { s += $4 } END { print s + 0 }' "$out")" "$n")
    accepts_per[$cur]=$(per "$(awk '$NF ~ /^accept4?$/ { s += $4 } END { print s + 0 }' "$out")" "$n")
}
each trace_count

# ---- report -------------------------------------------------------------------

# calls per request or session as expected?  Up to a whole request or
# session more per connection: those in flight when wrk stopped.
bad_calls=""
for b in "${builds[@]}"; do
    declare -n expect=expect_$b
    for p in b c d r s; do
        awk -v m="${per_req[$b:$p]}" -v e="${expect[$p]}" -v n="${reqs[$b:$p]}" \
            -v c="$conns" 'BEGIN { exit !(m >= e - 0.005 && m <= e + 0.005 + c * e / n) }' \
            || bad_calls+=" $b:$p ${per_req[$b:$p]} (expected ${expect[$p]})"
    done
done

row() {    # build name floor-before floor-after label: one line of the table
    local b=$1
    awk -v l="$5" -v bl="$b" -v r="${rps[$b:$2]}" -v f1="${rps[$b:$3]:-0}" \
        -v f2="${rps[$b:$4]:-0}" -v p5="${p50[$b:$2]}" -v p9="${p99[$b:$2]}" \
        -v c="${per_req[$b:$2]}" -v e="${errs[$b:$2]}" -v d="${drops[$b:$2]}" \
        'BEGIN { ratio = f1 + f2 ? sprintf("%7.3f", r / ((f1 + f2) / 2)) : "      -"
                 printf "%-38s %-4s %8.0f %s %7.2f %8.2f %6s %5d %5d\n",
                 l, bl, r, ratio, p5, p9, c, e, d }'
}
rows() {    # name floor-before floor-after label: a line per build
    for b in "${builds[@]}"; do row "$b" "$@"; done
}
echo
printf '%-38s %-4s %8s %7s %7s %8s %6s %5s %5s\n' path build 'rate/s' 'ratio' \
    'p50 ms' 'p99 ms' 'calls' 'errs' 'drops'
rows a1 a1 a1 'a  nginx floor (return 200)'
rows b  a1 a2 'b  module, repeat from session cache'
rows a2 a2 a2 'a  nginx floor'
rows c  a2 a3 'c  module + nonce call (407)'
rows a3 a3 a3 'a  nginx floor'
rows d  a3 a4 'd  module + auth + exchange (212)'
rows a4 a4 a4 'a  nginx floor'
rows r  none none 'r  backend alone, s'"'"'s calls (sess.)'
rows s  none none 's  MD5 sessions, nginx+module (sess.)'
echo
for b in "${builds[@]}"; do
    awk -v bl="$b" -v b="${rps[$b:b]}" -v c="${rps[$b:c]}" -v d="${rps[$b:d]}" \
        -v a1="${rps[$b:a1]}" -v a2="${rps[$b:a2]}" -v a3="${rps[$b:a3]}" \
        -v a4="${rps[$b:a4]}" -v r="${rps[$b:r]}" -v s="${rps[$b:s]}" 'BEGIN {
        lo = a1; hi = a1
        split(a2 " " a3 " " a4, f, " ")
        for (i in f) { if (f[i] < lo) lo = f[i]; if (f[i] > hi) hi = f[i] }
        printf "%s: b/a %.3f   c/a %.3f   d/a %.3f   s/r %.3f   (floor spread: min/max %.2f)\n",
               bl, b / ((a1 + a2) / 2), c / ((a2 + a3) / 2), d / ((a3 + a4) / 2),
               r ? s / r : 0, lo / hi }'
done
if [ ${#builds[@]} = 2 ]; then
    printf 'new/old:'
    for p in b c d r s; do
        awk -v p="$p" -v n="${rps[new:$p]}" -v o="${rps[old:$p]}" \
            'BEGIN { printf "   %s %.3f", p, o ? n / o : 0 }'
    done
    echo "   (sessions/s for r and s)"
fi
for b in "${builds[@]}"; do
    echo "$b per session of s: contract calls ${per_req[$b:s]}, fdatasync ${syncs_per[$b]}," \
         "backend accepts ${accepts_per[$b]} (strace, $trace_sessions sessions," \
         "upstream keepalive ${keepalive_of[$b]})"
done
for b in "${builds[@]}"; do
    read -r w0 m0 k0 <<<"${rss0[$b]}"
    read -r w1 m1 k1 <<<"${rss1[$b]}"
    echo "$b memory (kB): nginx workers RSS $w0 -> $w1" \
         "(of which shared memory $m0 -> $m1), omadm-backend RSS $k0 -> $k1"
done
echo "calls = backend contract calls per request (per session for r, s); drops = SYNs dropped by full listen queues"
[ -z "$bad_calls" ] || fail "contract calls not as expected (the table at the top of run.sh):$bad_calls"

# ---- fleet: whole MD5 sessions of many devices at once ------------------------
# omadm-sim plays BENCH_FLEET devices, one session each (407 challenge,
# then 212 with one queued Get answered): first 50 at a time, the
# baseline, then all of them at once.  The ratio is what a thousand
# concurrent devices cost against a modest crowd, on the same server.

[ "$fleet" -gt 0 ] || exit 0

declare -A fleet_json
fleet_run() {    # name concurrency
    fleet_json[$cur:$1]=$(sim_json "fleet-$cur-$1-" "$fleet" "$2" --verify 1)
    printf '%s\n' "${fleet_json[$cur:$1]}" > "$sdir/sim-fleet-$1.json"
    echo "bench: $cur fleet at concurrency $2 done"
}
each fleet_run c50 50
each fleet_run all "$fleet"

echo
printf '%-28s %-4s %10s %7s %s\n' 'fleet (MD5, 1 session each)' build 'sessions/s' ratio \
    'session p50/p90/p99/max ms, retries'
for name in c50 all; do
    for b in "${builds[@]}"; do
        perl -MJSON::PP -e '
            my ($name, $b, $j, $base) = @ARGV;
            my ($r, $c) = map { decode_json($_) } $j, $base;
            my $s = $r->{session_ms};
            printf "%-28s %-4s %10.1f %7.2f %.0f/%.0f/%.0f/%.0f, %d\n",
                ($name eq "c50" ? "50 concurrent" : "$r->{devices} concurrent"), $b,
                $r->{sessions_per_second},
                $r->{sessions_per_second} / $c->{sessions_per_second},
                @$s{qw(p50 p90 p99 max)}, $r->{session_retries};
            die "verify failed\n" if $r->{verify}{correct} != $r->{verify}{commands};
        ' "$name" "$b" "${fleet_json[$b:$name]}" "${fleet_json[$b:c50]}" || fail "fleet $name"
    done
done
