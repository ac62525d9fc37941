#!/bin/sh
# Creates, once, a private CA and a server certificate for 127.0.0.1 signed
# by it, so devices and tests can verify the TLS endpoint (SSL_ca_file /
# curl --cacert).  Existing files are kept: reruns never rotate the CA.
#
#   scripts/gen-certs.sh <dir> [<ca-dir>]
#       <dir>/ca.crt server.key server.crt   what the server and its clients use
#       <ca-dir>/ca.key                       the CA's private key (default
#                                             <dir>/ca-private), mode 0600 in
#                                             a 0700 directory
#
# The CA's key signs new server certificates and nothing else: keep
# <ca-dir> away from the running server (make run puts it beside the state
# directory).  A ca.key an earlier version left in <dir> is moved there.
# For production, point ssl_certificate/ssl_certificate_key at a chain
# issued by your enterprise CA instead, whose root key stays offline (see
# t/tls.t and README.md, "TLS and enterprise root CAs").
#
# The server key is ECDSA P-256 (a handshake signs with it: several times
# cheaper than RSA-2048 for the server); OMADM_SERVER_KEY=rsa makes an
# RSA-2048 one instead, for clients without ECDSA.  Only a new server
# certificate follows it: delete <dir>/server.crt to change an existing one.
set -eu

case ${OMADM_SERVER_KEY:-ec} in
    ec)  server_newkey="ec -pkeyopt ec_paramgen_curve:P-256"
         server_usage=digitalSignature ;;    # ECDHE-ECDSA: signatures only
    rsa) server_newkey=rsa:2048
         server_usage=digitalSignature,keyEncipherment ;;
    *)   echo "gen-certs.sh: OMADM_SERVER_KEY must be ec or rsa" >&2; exit 2 ;;
esac

dir=${1:?usage: gen-certs.sh <dir> [<ca-dir>]}
ca_dir=${2:-$dir/ca-private}
mkdir -p "$dir"
(umask 077; mkdir -p "$ca_dir")
chmod 0700 "$ca_dir"
ca_dir=$(cd "$ca_dir" && pwd)
cd "$dir"

if [ -e ca.key ]; then
    if [ ! -e "$ca_dir/ca.key" ]; then
        mv ca.key "$ca_dir/ca.key"
    else
        echo "gen-certs.sh: $dir/ca.key is a CA key in the server's directory;" \
             "$ca_dir/ca.key is the one in use: remove the other" >&2
    fi
fi

if [ -s server.crt ] && [ -s server.key ] && [ -s ca.crt ]; then
    exit 0
fi

umask 077
if [ ! -s "$ca_dir/ca.key" ] || [ ! -s ca.crt ]; then
    openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -subj "/CN=ngx_omadm test CA" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$ca_dir/ca.key" -out ca.crt 2>/dev/null
fi

ext=$(mktemp)
trap 'rm -f "$ext" server.csr' EXIT
cat > "$ext" <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,$server_usage
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost
EXT

# shellcheck disable=SC2086  # $server_newkey is several words
openssl req -new -newkey $server_newkey -nodes -sha256 -subj "/CN=localhost" \
    -keyout server.key -out server.csr 2>/dev/null
openssl x509 -req -in server.csr -CA ca.crt -CAkey "$ca_dir/ca.key" \
    -CAcreateserial -sha256 -days 825 -extfile "$ext" -out server.crt 2>/dev/null

# certificates are public; keys stay 0600 (nginx's master reads them as root)
chmod 644 ca.crt server.crt
rm -f ca.srl
