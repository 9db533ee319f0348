#!/usr/bin/env bash
# Makes the certificates of troupe-remote's TLS test (committed under
# crates/troupe-remote/tests/certs; valid for 100 years): a cluster CA and
# a node certificate it signed (for 127.0.0.1 and localhost, server and
# client use), and a rogue CA with a node certificate of its own, which the
# cluster must refuse. Needs the openssl command.
set -euo pipefail
cd "$(dirname "$0")/../crates/troupe-remote/tests/certs"
ext=$(mktemp)
trap 'rm -f "$ext"' EXIT
cat > "$ext" <<'CNF'
basicConstraints=CA:FALSE
keyUsage=digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
CNF
ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500 \
        -subj "/CN=$1" -keyout "$1.key" -out "$1.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}
node() {
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$1" \
        -keyout "$1.key" -out "$1.csr"
    openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 36500 \
        -extfile "$ext" -out "$1.pem"
    openssl pkcs8 -topk8 -nocrypt -in "$1.key" -out "$1.p8"
    mv "$1.p8" "$1.key"
    rm "$1.csr"
}
ca ca
ca rogue-ca
node node ca
node rogue rogue-ca
# The CAs' keys are not needed any more.
rm -f ./*.srl ca.key rogue-ca.key
