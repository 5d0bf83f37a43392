#!/usr/bin/env bash
# Hidden set-up for pages that start from "influxd already serves HTTPS":
# a local CA, a server certificate for localhost/127.0.0.1, and influxd
# serving HTTPS with it, onboarded, with the token in /root/.influx-token.
# Runs inside a page's host (the docs harness mounts the project at
# /opt/runbook) and starts influxd the way that host does:
#   package  the influxdb service (tls-cert/tls-key in /etc/influxdb/config.toml)
#   docker   the container `influxdb` from influxdb:2.9.1 (certificates mounted)
#   binary   the same, under the unit configure.md's binary tab writes
#            (harness/page_setup/influxdb.service) and its config.toml
# Extra arguments are influxd flags (Docker host only).
#
#   start-tls-influxd.sh [influxd flags...]
set -euo pipefail
tls=/etc/ssl/influxdb
mkdir -p "$tls"
chmod 755 "$tls"

# The package host has the .deb; the binary host may have a unit of the same name.
if dpkg-query -W influxdb2 >/dev/null 2>&1; then host=package
elif command -v docker >/dev/null && ! command -v influxd >/dev/null; then host=docker
else host=binary; fi
[[ $host != docker && $# -gt 0 ]] && { echo "start-tls-influxd.sh: only the Docker host takes influxd flags" >&2; exit 2; }

# SELF_SIGNED=1: the state configure.md leaves (a self-signed server.crt, no CA).
trust=$tls/ca.crt
if [[ ${SELF_SIGNED:-0} == 1 ]]; then
  trust=$tls/server.crt
  [[ -f $tls/server.crt ]] || runbook certs self-signed --out "$tls" --san localhost --san 127.0.0.1 >/dev/null
elif [[ ! -f $tls/server.crt ]]; then
  runbook certs ca --out "$tls" >/dev/null
  runbook certs issue --ca-cert "$tls/ca.crt" --ca-key "$tls/ca.key" --out "$tls" \
    --san localhost --san 127.0.0.1 >/dev/null
fi

# The binary host: influxd under the unit configure.md writes (not started yet).
[[ $host == binary ]] && /opt/runbook/harness/page_setup/binary-unit.sh

case $host in
  package|binary)
    chown influxdb:influxdb "$tls/server.key"
    if ! grep -q '^tls-cert' /etc/influxdb/config.toml; then
      printf 'tls-cert = "%s"\ntls-key = "%s"\n' "$tls/server.crt" "$tls/server.key" \
        >> /etc/influxdb/config.toml
    fi
    systemctl restart influxdb ;;
  docker)
    chown 1000:1000 "$tls/server.key"
    docker run -d --name influxdb --restart unless-stopped -p 8086:8086 -v "$tls:$tls:ro" \
      -v influxdb2-data:/var/lib/influxdb2 influxdb:2.9.1 \
      --tls-cert="$tls/server.crt" --tls-key="$tls/server.key" "$@" >/dev/null ;;
esac
runbook wait https://127.0.0.1:8086/health --ca "$trust" >/dev/null
if [[ ! -f /root/.influx-token ]]; then
  curl --silent --show-error --fail --cacert "$trust" https://localhost:8086/api/v2/setup \
    -H 'Content-Type: application/json' \
    -d '{"username":"runbook","password":"runbook-password","org":"runbook","bucket":"telegraf","token":"runbook-operator-token"}' \
    -o /dev/null
  (umask 077; echo runbook-operator-token > /root/.influx-token)
fi
