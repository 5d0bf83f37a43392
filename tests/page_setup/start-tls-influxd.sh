#!/usr/bin/env bash
# Hidden set-up for pages that start from "influxd already serves HTTPS":
# a local CA, a server certificate for localhost/127.0.0.1, and influxd
# running with it as user influxdb, onboarded, with the token in a file.
# Runs inside a page's container (the docs harness mounts the project at
# /opt/runbook). Extra arguments go to influxd.
#
#   start-tls-influxd.sh [influxd flags...]
set -euo pipefail
tls=/etc/ssl/influxdb
mkdir -p "$tls"
if [[ ! -f $tls/server.crt ]]; then
  runbook certs ca --out "$tls" >/dev/null
  runbook certs issue --ca-cert "$tls/ca.crt" --ca-key "$tls/ca.key" --out "$tls" \
    --san localhost --san 127.0.0.1 >/dev/null
  chown influxdb:influxdb "$tls/server.key"
fi
runuser -u influxdb -- influxd --tls-cert="$tls/server.crt" --tls-key="$tls/server.key" "$@" \
  >> /var/log/influxdb.log 2>&1 &
curl --silent --show-error --fail --retry 30 --retry-delay 1 --retry-connrefused \
  --cacert "$tls/ca.crt" -o /dev/null https://127.0.0.1:8086/health
if [[ ! -f /root/.influx-token ]]; then
  curl --silent --show-error --fail --cacert "$tls/ca.crt" https://localhost:8086/api/v2/setup \
    -H 'Content-Type: application/json' \
    -d '{"username":"runbook","password":"runbook-password","org":"runbook","bucket":"telegraf","token":"runbook-operator-token"}' \
    -o /dev/null
  (umask 077; echo runbook-operator-token > /root/.influx-token)
fi
