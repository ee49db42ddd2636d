#!/usr/bin/env bash
# Certificates for mTLS to Temporal (docs/DEPLOYMENT.md, "Publishing Temporal"), made with openssl:
#
#   infra/scripts/temporal-certs.sh server DIR NAME...   a CA (DIR/ca.crt, DIR/ca.key; made once, kept after) and the
#                                                         proxy's certificate for NAMEs (DNS names or IP addresses):
#                                                         DIR/server.crt, DIR/server.key
#   infra/scripts/temporal-certs.sh client DIR NAME      a client certificate signed by DIR's CA: DIR/NAME.crt, DIR/NAME.key
#
# Keys are P-256, written 0600. Certificates last DAYS days (default 825). Keep ca.key off the server once the
# certificates you need are made; give each client its own certificate and key, never the CA's key.
set -euo pipefail
umask 077

usage() { sed -n '2,9p' "$0" >&2; exit 64; }
[[ $# -ge 3 ]] || usage
cmd=$1 dir=$2
shift 2
days=${DAYS:-825}
mkdir -p "$dir"

# One key and signing request, then a certificate signed by the CA with the given extensions.
issue() {
  local name=$1 subject=$2 extensions=$3
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$subject" \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days "$days" \
    -extfile <(printf '%b' "$extensions") -out "$dir/$name.crt" 2>/dev/null
  rm -f "$dir/$name.csr"
  chmod 644 "$dir/$name.crt"
  echo "wrote $dir/$name.crt and $dir/$name.key" >&2
}

case $cmd in
  server)
    if [[ ! -f "$dir/ca.crt" ]]; then
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$days" -subj "/CN=gptmarket temporal CA" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
      chmod 644 "$dir/ca.crt"
      echo "wrote $dir/ca.crt and $dir/ca.key" >&2
    fi
    names=()
    for n in "$@"; do
      if [[ $n =~ ^[0-9.]+$ || $n == *:* ]]; then names+=("IP:$n"); else names+=("DNS:$n"); fi
    done
    san=$(IFS=,; echo "${names[*]}")
    issue server "$1" "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=$san\n"
    ;;
  client)
    [[ -f "$dir/ca.crt" && -f "$dir/ca.key" ]] || { echo "no CA in $dir: run the server command first" >&2; exit 66; }
    [[ $# -eq 1 && $1 =~ ^[A-Za-z0-9._-]+$ && $1 != server && $1 != ca ]] || { echo "client NAME: letters, digits, . _ - (not server or ca)" >&2; exit 64; }
    issue "$1" "$1" "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"
    ;;
  *) usage ;;
esac
