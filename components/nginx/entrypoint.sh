#!/bin/sh
# Writes the resolver and upstream addresses, checks the config, then runs
# nginx in the foreground.
#   NGINX_RESOLVER  DNS server for upstream names (default: first nameserver
#                   in /etc/resolv.conf)
#   BACKEND_ADDR    host:port of the backend  (default backend:8080)
#   FRONTEND_ADDR   host:port of the frontend (default frontend:8080)
set -eu
runtime=/etc/nginx/runtime
ns=${NGINX_RESOLVER:-$(awk '$1 == "nameserver" { print $2; exit }' /etc/resolv.conf 2>/dev/null || true)}
if [ -n "$ns" ]; then
  case "$ns" in *:*) ns="[$ns]" ;; esac
  echo "resolver $ns valid=10s ipv6=off;" > "$runtime/resolver.conf"
fi
printf 'set $backend_upstream %s;\nset $frontend_upstream %s;\n' \
  "${BACKEND_ADDR:-backend:8080}" "${FRONTEND_ADDR:-frontend:8080}" > "$runtime/upstreams.conf"
nginx -t -q
exec nginx -g 'daemon off;' "$@"
