#!/bin/bash
# Entry point of the runbook image, following the official influxdb:2.x
# conventions: arguments that start with '-' go to influxd; as root, influxd
# runs as user influxdb (uid 1000); DOCKER_INFLUXDB_INIT_MODE=setup onboards
# a fresh data directory once before the real server starts.
set -euo pipefail

if [[ $# -eq 0 || ${1:0:1} == - ]]; then
  set -- influxd "$@"
fi

if [[ $1 != influxd || $# -gt 1 && ${2:-} =~ ^(version|help|print-config|recovery|inspect|upgrade|downgrade)$ ]]; then
  exec "$@"
fi

as_influxdb=()
if [[ $(id -u) -eq 0 ]]; then
  chown -R influxdb:influxdb /var/lib/influxdb2 /etc/influxdb2
  as_influxdb=(setpriv --reuid=1000 --regid=1000 --init-groups)
fi

setup_once() {
  [[ ${DOCKER_INFLUXDB_INIT_MODE:-} == setup ]] || return 0
  [[ -f $INFLUXD_BOLT_PATH ]] && return 0
  local v
  for v in USERNAME PASSWORD ORG BUCKET; do
    local name=DOCKER_INFLUXDB_INIT_$v
    [[ -n ${!name:-} ]] || { echo "entrypoint: ERROR: $name is required when DOCKER_INFLUXDB_INIT_MODE=setup" >&2; exit 1; }
  done
  # The temporary server listens on loopback only, with the same TLS settings
  # as the real one, so the credentials never cross a network in clear.
  local scheme=http
  if [[ -n ${INFLUXD_TLS_CERT:-} || " $* " == *" --tls-cert"* ]]; then scheme=https; fi
  "${as_influxdb[@]}" "$@" --http-bind-address 127.0.0.1:9999 >/tmp/influxd-setup.log 2>&1 &
  local pid=$!
  if ! curl -sf -o /dev/null -k --retry 30 --retry-delay 1 --retry-connrefused --retry-max-time 60 "$scheme://127.0.0.1:9999/health"; then
    echo "entrypoint: ERROR: temporary influxd did not answer $scheme://127.0.0.1:9999/health within 60s; its log:" >&2
    cat /tmp/influxd-setup.log >&2; kill "$pid" 2>/dev/null || true; exit 1
  fi
  # Onboard through the HTTP API (what `influx setup` does), so the image
  # works with or without the influx CLI.
  local body
  body=$(jq -n --arg u "$DOCKER_INFLUXDB_INIT_USERNAME" --arg p "$DOCKER_INFLUXDB_INIT_PASSWORD" \
    --arg o "$DOCKER_INFLUXDB_INIT_ORG" --arg b "$DOCKER_INFLUXDB_INIT_BUCKET" \
    --arg t "${DOCKER_INFLUXDB_INIT_ADMIN_TOKEN:-}" \
    '{username:$u, password:$p, org:$o, bucket:$b} + (if $t == "" then {} else {token:$t} end)')
  if ! curl -sf -o /dev/null -k -X POST -H 'Content-Type: application/json' --data-binary @- \
      "$scheme://127.0.0.1:9999/api/v2/setup" <<<"$body"; then
    echo "entrypoint: ERROR: onboarding through $scheme://127.0.0.1:9999/api/v2/setup failed" >&2
    kill "$pid"; exit 1
  fi
  kill "$pid"; wait "$pid" || true
}

setup_once "$@"
exec "${as_influxdb[@]}" "$@"
