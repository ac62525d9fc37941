#!/bin/sh
# The backend alone, on a durable SQLite file: the contract calls of whole
# device sessions (bench/contract_session.lua) driven by wrk straight at it,
# then the same under strace for the fsyncs per session.
#   bench/backend_alone.sh BACKEND_BINARY [CONNECTIONS] [SECONDS]
# Prints the wrk RESULT line and "fsync per session".  Compare builds only
# within one run of this script on the same machine (see bench/README.md).
set -eu
BIN=$1
CONN=${2:-32}
SECS=${3:-10}
DEVICES=${BENCH_DEVICES:-1000}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/omadm-alone-XXXXXX)
token=tok-$$-$(date +%s)
key=key-$$-$(date +%s)
echo "$token" > "$dir/token"
echo "$key" > "$dir/key"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --listen 127.0.0.1:$port --db "$dir/omadm.db" --token-file "$dir/token" \
    --key-file "$dir/key" --max-client-connections 1024 > "$dir/backend.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for i in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
done
seq 0 $((DEVICES - 1)) | xargs -P 4 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"device_id":"IMEI:bench-{}","username":"u","password":"p"}' \
    "http://127.0.0.1:$port/api/v1/devices" | grep -vc 201 | sed 's/^/registration failures: /'
export BENCH_DEVICES=$DEVICES BENCH_KEY=$key
wrk -t2 -c"$CONN" -d"${SECS}s" -s "$here/contract_session.lua" "http://127.0.0.1:$port" | grep RESULT
tasks=$(ls /proc/$pid/task | paste -sd,)
strace -f -c -e trace=fdatasync,fsync -o "$dir/strace.txt" -p "$tasks" &
spid=$!
sleep 1
out=$(wrk -t2 -c"$CONN" -d"${SECS}s" -s "$here/contract_session.lua" "http://127.0.0.1:$port" | grep RESULT)
kill -INT $spid; wait $spid || true
sessions=$(echo "$out" | awk '{print $13 / 4}')
syncs=$(awk '$NF ~ /^f(data)?sync$/ {n += $4} END {print n + 0}' "$dir/strace.txt")
echo "under strace: $out"
echo "fsync per session: $syncs / $sessions = $(awk -v a=$syncs -v b=$sessions 'BEGIN {printf "%.3f", a / b}')"
