#!/bin/sh
# Creates, once, the device-issuing CA of the Windows enrollment: an
# intermediate under the root CA of scripts/gen-certs.sh, with which
# omadm-backend signs the devices' client certificates.  The backend gets
# this intermediate's key only; the root's key is needed here, once, and
# never by a running server.
#
#   scripts/gen-device-ca.sh <dir> <root-key>
#       <dir>/ca.crt             the root (read; from gen-certs.sh)
#       <dir>/device-ca.key      the intermediate's key, 0600: the backend's
#       <dir>/device-ca.crt      the intermediate, signed by the root
#       <dir>/device-chain.crt   device-ca.crt + ca.crt: nginx's
#                                ssl_client_certificate (verifies devices)
set -eu

dir=${1:?usage: gen-device-ca.sh <dir> <root-key>}
root_key=${2:?usage: gen-device-ca.sh <dir> <root-key>}
cd "$dir"

if [ -s device-ca.crt ] && [ -s device-ca.key ] && [ -s device-chain.crt ]; then
    exit 0
fi
[ -s "$root_key" ] || { echo "gen-device-ca.sh: no root key $root_key" >&2; exit 1; }

umask 077
ext=$(mktemp)
trap 'rm -f "$ext" device-ca.csr' EXIT
cat > "$ext" <<EXT
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
extendedKeyUsage=clientAuth
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
EXT

openssl req -new -newkey rsa:2048 -nodes -sha256 \
    -subj "/CN=ngx_omadm device CA" \
    -keyout device-ca.key -out device-ca.csr 2>/dev/null
openssl x509 -req -in device-ca.csr -CA ca.crt -CAkey "$root_key" \
    -set_serial "0x$(openssl rand -hex 16)" -sha256 -days 1825 \
    -extfile "$ext" -out device-ca.crt 2>/dev/null
cat device-ca.crt ca.crt > device-chain.crt

chmod 644 device-ca.crt device-chain.crt
chmod 600 device-ca.key
