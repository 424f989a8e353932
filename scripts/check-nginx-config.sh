#!/usr/bin/env bash
# `nginx -t` on the shipped deploy/nginx/parindex.conf, inside a throw-away main config
# (no root needed, nothing listens): catches a typo or a directive this nginx refuses.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NGINX="${NGINX:-/usr/sbin/nginx}"
[ -x "$NGINX" ] || bash "$ROOT/scripts/install-nginx.sh" >/dev/null
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/body" "$TMP/proxy" "$TMP/logs"
sed -e "s|/var/lib/nginx/body|$TMP/body|" -e "s|/srv/parindex/static/|$ROOT/static/|" \
  "$ROOT/deploy/nginx/parindex.conf" > "$TMP/parindex.conf"
cat > "$TMP/nginx.conf" <<CONF
pid $TMP/nginx.pid;
error_log $TMP/logs/error.log warn;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    proxy_temp_path $TMP/proxy;
    fastcgi_temp_path $TMP/proxy;
    uwsgi_temp_path $TMP/proxy;
    scgi_temp_path $TMP/proxy;
    include $TMP/parindex.conf;
}
CONF
"$NGINX" -t -q -p "$TMP" -c "$TMP/nginx.conf"
echo "deploy/nginx/parindex.conf: nginx -t ok ($("$NGINX" -v 2>&1))"
