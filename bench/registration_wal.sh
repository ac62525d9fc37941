#!/bin/sh
# The WAL during bulk registration: N devices (default 100000) POSTed to
# BACKEND over 8 keep-alive connections, the WAL's size every 10,000 and
# after 3 s idle.   bench/registration_wal.sh BACKEND [N]
set -u
BIN=$1; N=${2:-100000}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d /tmp/omadm-wal-XXXXXX); echo tok-wal > "$dir/token"; echo key-wal > "$dir/key"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --listen 127.0.0.1:$port --db "$dir/omadm.db" --token-file "$dir/token" \
    --key-file "$dir/key" > "$dir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
sleep 1
python3 "$here/registration_wal.py" $port tok-wal "$dir/omadm.db" "$N"
sleep 3
echo "after 3 s idle: WAL $(stat -c %s "$dir/omadm.db-wal" 2>/dev/null || echo 0) bytes, database $(stat -c %s "$dir/omadm.db") bytes"
