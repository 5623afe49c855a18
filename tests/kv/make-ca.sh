#!/bin/sh
# make-ca.sh DIR: a test CA (ca.pem), a server certificate for localhost
# and 127.0.0.1 signed by it (server.pem, server.key), a client
# certificate with its key in one PEM (client.pem; client-cert.pem without
# the key) and an RSA key-encryption key (kek.pem, kek-pub.pem); and a
# second, unrelated KEK (kek2.pem).  Nothing here is ever committed.
set -eu
d=$1
cd "$d"
q() { "$@" >/dev/null 2>&1; }
q openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=vhdunlock test CA"
q openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > san.ext
q openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.pem
q openssl req -x509 -newkey rsa:2048 -nodes -keyout client.key -out client-cert.pem -days 2 -subj "/CN=vhdunlock test app"
cat client-cert.pem client.key > client.pem
q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out kek.pem
q openssl pkey -in kek.pem -pubout -out kek-pub.pem
q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out kek2.pem
chmod 600 ./*.key ./*.pem
