#!/bin/bash
# make run: start omadm-backend and nginx (with the built module) on
# loopback, print how to use them, run until Ctrl-C / TERM, then stop both
# by PID.  State (db, certificates, token, contract key, logs, pid files)
# lives in $OMADM_STATE_DIR and is reused by the next run.
#
#   OMADM_HTTPS_PORT (8443)  device endpoint, TLS
#   OMADM_API_PORT   (8080)  operator API (the contract is on a unix socket,
#                            $OMADM_STATE_DIR/contract/contract.sock)
#   OMADM_STATE_DIR  (./var)
#   OMADM_CA_DIR     ($OMADM_STATE_DIR-ca, i.e. ./var-ca)  the private key of
#                    the CA that signs the server certificate: out of the
#                    running server's reach, needed only to sign a new one
#   OMADM_SERVER_KEY (ec)  ec (ECDSA P-256) or rsa (RSA-2048): the key of a
#                    server certificate made now (scripts/gen-certs.sh)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
lib_prefix=run.sh
. "$root/scripts/lib.sh"    # alive, stop_pid, port_open, wait_ready
https_port=${OMADM_HTTPS_PORT:-8443}
api_port=${OMADM_API_PORT:-8080}
nginx=${OMADM_NGINX:-/usr/sbin/nginx}
module=$root/build/ngx_http_omadm_module.so
backend=$root/build/omadm-backend

for f in "$module" "$backend"; do
    [ -e "$f" ] || { echo "run.sh: $f is missing; run make first" >&2; exit 1; }
done

umask 022
mkdir -p "${OMADM_STATE_DIR:-./var}"
state=$(cd "${OMADM_STATE_DIR:-./var}" && pwd)
chmod 0755 "$state"    # nginx workers (nobody) use the temp dirs inside
mkdir -p "$state/tmp"

# a previous run still alive?
for f in backend.pid nginx.pid; do
    [ -s "$state/$f" ] || continue
    pid=$(cat "$state/$f")
    if kill -0 "$pid" 2>/dev/null; then
        echo "run.sh: a previous run is still alive ($state/$f: pid $pid)." >&2
        echo "        Stop it with: make stop  (or OMADM_STATE_DIR=$state scripts/stop.sh)" >&2
        exit 1
    fi
    rm -f "$state/$f"    # stale
done

# certificates, operator token and contract key: created once, then reused
(umask 077; mkdir -p "${OMADM_CA_DIR:-$state-ca}")
ca_dir=$(cd "${OMADM_CA_DIR:-$state-ca}" && pwd)
"$root/scripts/gen-certs.sh" "$state" "$ca_dir"
# the device-issuing CA of Windows enrollment, under that root: the root's
# key signs it once here, and only this intermediate's key goes to the
# backend
"$root/scripts/gen-device-ca.sh" "$state" "$ca_dir/ca.key"
for f in admin.token viewer.token contract.key; do
    if [ ! -s "$state/$f" ]; then
        (umask 077; openssl rand -hex 32 > "$state/$f")
    fi
    chmod 0600 "$state/$f"
done

# Workers run as nobody when we are root: they must be able to reach the
# state directory; if some parent directory is closed to others, run
# them as root rather than fail on the first spilled request body.
searchable() {
    local d=$1 p
    while [ "$d" != / ]; do
        p=$(stat -c %A "$d")
        case ${p:9:1} in x|t) ;; *) return 1 ;; esac
        d=$(dirname "$d")
    done
}
user_line=""
worker_group=""
if [ "$(id -u)" = 0 ]; then
    if searchable "$state"; then
        user_line="user nobody nogroup;"
        worker_group=nogroup
    else
        user_line="user root;    # $state is not reachable by nobody"
        echo "run.sh: note: $state is not world-searchable; nginx workers run as root" >&2
    fi
fi

# The backend contract on a unix socket that only nginx's workers reach:
# the backend makes it 0660, and the setgid directory gives it the
# workers' group (workers of our own user need nothing more).
contract_dir=$state/contract
contract_sock=$contract_dir/contract.sock
mkdir -p "$contract_dir"
if [ -n "$worker_group" ]; then
    chgrp "$worker_group" "$contract_dir"
    chmod 2750 "$contract_dir"
else
    chmod 0700 "$contract_dir"
fi

(umask 077
 sed -e "s|@MODULE@|$module|g" -e "s|@STATE@|$state|g" \
     -e "s|@USER@|$user_line|" -e "s|@HTTPS_PORT@|$https_port|g" \
     -e "s|@CONTRACT_SOCKET@|$contract_sock|g" -e "s|@API_PORT@|$api_port|g" \
     -e "s|@CONTRACT_KEY@|$(cat "$state/contract.key")|g" \
     "$root/scripts/nginx.conf.in" > "$state/nginx.conf")

backend_pid=""
nginx_pid=""

cleanup() {
    trap - INT TERM EXIT
    [ -n "$nginx_pid$backend_pid" ] || return 0
    echo
    echo "run.sh: stopping nginx (pid ${nginx_pid:-none}) and omadm-backend (pid ${backend_pid:-none})"
    stop_pid "$nginx_pid"
    stop_pid "$backend_pid"
    rm -f "$state/nginx.pid" "$state/backend.pid"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

if port_open "$api_port"; then
    echo "run.sh: port $api_port is already in use (set OMADM_API_PORT)" >&2; exit 1
fi
if port_open "$https_port"; then
    echo "run.sh: port $https_port is already in use (set OMADM_HTTPS_PORT)" >&2; exit 1
fi

# umask 077: the database holds credential digests
chmod 0600 "$state"/omadm.db* 2>/dev/null || true
# The logs are for their owner alone: nginx quotes request lines, RespURI
# session tokens included, in its error log.  Those of an earlier run are
# made 0600 here; nginx creates its logs 0644 less its umask, also when it
# reopens them after a rotation (USR1), so it runs under umask 077.
for f in error.log access.log backend.log nginx.out; do
    touch "$state/$f"
    chmod 0600 "$state/$f"
done
(umask 077; exec "$backend" --listen "127.0.0.1:$api_port" \
    --contract-listen "unix:$contract_sock" \
    --db "$state/omadm.db" --token-file "$state/admin.token" \
    --key-file "$state/contract.key" --viewer-token-file "$state/viewer.token" \
    --console-dir "$root/console" \
    --public-url "https://127.0.0.1:$https_port" \
    --device-ca-cert "$state/device-ca.crt" --device-ca-key "$state/device-ca.key" \
    --root-ca-cert "$state/ca.crt" </dev/null >>"$state/backend.log" 2>&1) &
backend_pid=$!
echo "$backend_pid" > "$state/backend.pid"
wait_ready omadm-backend "$backend_pid" "$api_port" "$state/backend.log"

(umask 077; exec "$nginx" -p "$state/" -c "$state/nginx.conf" -e "$state/error.log" \
    </dev/null >>"$state/nginx.out" 2>&1) &
nginx_pid=$!    # daemon off: this is the master; it writes nginx.pid too
wait_ready nginx "$nginx_pid" "$https_port" "$state/error.log"

cat <<INFO

ngx_omadm is running.
  device endpoint : https://127.0.0.1:$https_port/omadm
  CA certificate  : $state/ca.crt   (devices and curl: --cacert; its key: $ca_dir)
  operator API    : http://127.0.0.1:$api_port/api/v1
  operator token  : $state/admin.token   (read-only viewer token: $state/viewer.token)
  web console     : https://127.0.0.1:$https_port/console/   (sign in with a token; the CA above)
  backend contract: $contract_sock   (nginx's internal location only)
  logs            : $state/error.log, access.log, backend.log
  Windows enrollment: https://127.0.0.1:$https_port/EnrollmentServer/Discovery.svc
                    (device CA $state/device-ca.crt; README, "Windows enrollment")

Register a device and queue a command:
  TOKEN=\$(cat $state/admin.token)
  curl -s -H "Authorization: Bearer \$TOKEN" \\
       -d '{"device_id":"IMEI:490154203237518","username":"dev1","password":"secret"}' \\
       http://127.0.0.1:$api_port/api/v1/devices
  curl -s -H "Authorization: Bearer \$TOKEN" -d '{"verb":"Get","target":"./DevDetail/SwV"}' \\
       http://127.0.0.1:$api_port/api/v1/devices/IMEI%3A490154203237518/commands

Let a Windows user enroll (Settings > Accounts > Access work or school >
Enroll only in device management, with this user and password):
  curl -s -H "Authorization: Bearer \$TOKEN" \\
       -d '{"username":"user@example.com","password":"a long passphrase"}' \\
       http://127.0.0.1:$api_port/api/v1/enrollment-users

Ctrl-C stops both (or, from another shell: make stop).
INFO

# Run until a signal, or until one of the two goes away (e.g. make stop).
while alive "$backend_pid" && alive "$nginx_pid"; do
    wait -n "$backend_pid" "$nginx_pid" || true
done
alive "$nginx_pid" || echo "run.sh: nginx (pid $nginx_pid) has exited" >&2
alive "$backend_pid" || echo "run.sh: omadm-backend (pid $backend_pid) has exited" >&2
