#!/usr/bin/env bash
# Makes (or renews) what Ferry's parts authenticate with, under DIR (DIR/pki mode 0700; every key 0600):
#   DIR/api-key             an admin API key for REST clients (scripts/migrate.sh, the lab, Swagger UI)
#   DIR/pki/ca.crt, ca.key  the cluster CA (EC P-256, 5 years): it signs every certificate below
#   DIR/pki/api.crt, .key   the API's certificate: SAN URI spiffe://ferry/api, IP API_ADDRESS and 127.0.0.1
#   DIR/pki/HOST.crt, .key  each host agent's: subject O=Ferry, CN=HOST (QEMU's tls-authz matches it), SAN URI
#                           spiffe://ferry/host/HOST, DNS HOST (QEMU's tls-hostname), IP ADDRESS
# usage: credentials.sh DIR API_ADDRESS HOST=ADDRESS...
# Existing files are kept; a certificate is issued again when it is missing, expires within 30 days, or
# does not carry the subject and names asked for (leaf certificates live 90 days: rerunning this renews them).
# Rotating the CA: remove DIR/pki and rerun, then restart every part (each trusts only the CA it loaded).
# Debian's openssl only; nothing is downloaded.
set -euo pipefail
dir=${1:?usage: credentials.sh DIR API_ADDRESS HOST=ADDRESS...}
api_address=${2:?usage: credentials.sh DIR API_ADDRESS HOST=ADDRESS...}
shift 2
pki="$dir/pki"
umask 077
mkdir -p "$pki"
# DIR itself keeps its mode: it may hold what other users must reach (run.sh keeps PostgreSQL's
# cluster, run as the postgres user, in .ferry/pg); the secrets are closed one by one.
chmod 700 "$pki"

if [[ ! -s "$dir/api-key" ]]; then
  # 32 random bytes; the API is given only its SHA-256 (scripts/run.sh), never the key itself.
  printf 'ferry-%s\n' "$(openssl rand -hex 32)" >"$dir/api-key"
  echo "credentials: made an admin API key in $dir/api-key" >&2
fi
chmod 600 "$dir/api-key"

if [[ ! -s "$pki/ca.key" || ! -s "$pki/ca.crt" ]]; then
  openssl ecparam -name prime256v1 -genkey -noout -out "$pki/ca.key" 2>/dev/null
  openssl req -x509 -new -key "$pki/ca.key" -sha256 -days 1825 -subj "/O=Ferry/CN=Ferry cluster CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$pki/ca.crt"
  echo "credentials: made the cluster CA in $pki/ca.crt" >&2
fi
chmod 644 "$pki/ca.crt"

# issue NAME CN SAN: a key and a certificate signed by the CA, for TLS server and client alike.
issue() {
  local name=$1 cn=$2 san=$3 crt="$pki/$1.crt" key="$pki/$1.key"
  if [[ -s $crt && -s $key ]] && openssl x509 -in "$crt" -noout -checkend 2592000 >/dev/null \
     && openssl verify -CAfile "$pki/ca.crt" "$crt" >/dev/null 2>&1 \
     && [[ $(openssl x509 -in "$crt" -noout -subject -nameopt RFC2253 2>/dev/null) == "subject=CN=$cn,O=Ferry" ]] \
     && [[ $(openssl x509 -in "$crt" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr -d ' ') == "$(tr -d ' ' <<<"$san" | sed 's/IP:/IPAddress:/g')" ]]; then
    return
  fi
  openssl ecparam -name prime256v1 -genkey -noout -out "$key" 2>/dev/null
  openssl req -new -key "$key" -subj "/O=Ferry/CN=$cn" -out "$pki/$name.csr"
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -sha256 -days 90 \
    -extfile <(printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$san") \
    -out "$crt" 2>/dev/null
  rm -f "$pki/$name.csr"
  chmod 600 "$key"
  chmod 644 "$crt"
  echo "credentials: issued $crt ($san)" >&2
}

issue api ferry-api "URI:spiffe://ferry/api, IP:$api_address, IP:127.0.0.1"
for pair in "$@"; do
  host=${pair%%=*}
  address=${pair#*=}
  [[ $host =~ ^[a-z0-9-]{1,63}$ ]] || { echo "credentials: host name '$host' is not [a-z0-9-]{1,63}" >&2; exit 2; }
  issue "$host" "$host" "URI:spiffe://ferry/host/$host, DNS:$host, IP:$address"
done
