#!/bin/sh
# Creates, once, a private CA and a server certificate for 127.0.0.1 signed
# by it, so devices and tests can verify the TLS endpoint (SSL_ca_file /
# curl --cacert).  Existing files are kept: reruns never rotate the CA.
#
#   scripts/gen-certs.sh <dir>   ->  <dir>/ca.key ca.crt server.key server.crt
#
# For production, point ssl_certificate/ssl_certificate_key at a chain
# issued by your enterprise CA instead (see t/tls.t).
set -eu

dir=${1:?usage: gen-certs.sh <dir>}
mkdir -p "$dir"
cd "$dir"

if [ -s server.crt ] && [ -s server.key ] && [ -s ca.crt ]; then
    exit 0
fi

umask 077
if [ ! -s ca.key ] || [ ! -s ca.crt ]; then
    openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -subj "/CN=ngx_omadm test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout ca.key -out ca.crt 2>/dev/null
fi

ext=$(mktemp)
trap 'rm -f "$ext" server.csr' EXIT
cat > "$ext" <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EXT

openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
    -keyout server.key -out server.csr 2>/dev/null
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
    -sha256 -days 825 -extfile "$ext" -out server.crt 2>/dev/null

# certificates are public; keys stay 0600 (nginx's master reads them as root)
chmod 644 ca.crt server.crt
rm -f ca.srl
