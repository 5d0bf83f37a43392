#!/bin/bash
# Restart influxd through systemd and wait, with a deadline, until URL answers
# /ping with 204; fail at once, with influxd's own error line, when it exits.
# The packaged unit's start never returns when influxd cannot start (its
# script polls /ready forever), so `systemctl restart` is not waited on.
#
# usage: restart-influxd.sh SERVICE DEADLINE_S URL [curl options...]
set -euo pipefail
service=$1 deadline=$2 url=$3
shift 3
# Only journal lines written after this restart count.
cursor=$(journalctl -u "$service" -n 0 --show-cursor -o cat | sed -n 's/^-- cursor: //p')
journal() { journalctl -u "$service" -o cat --no-pager ${cursor:+--after-cursor "$cursor"}; }
systemctl restart --no-block "$service"
end=$((SECONDS + deadline))
while :; do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url" || true)
  if [[ $code == 204 ]]; then
    echo "influxd answers $url with 204"
    exit 0
  fi
  # influxd's last words when it exits (cobra's "Error: ..." line).
  err=$(journal | grep -m1 '^Error:' || true)
  if [[ -n $err ]]; then
    echo "influxd exited at start: ${err#Error: }" >&2
    exit 1
  fi
  if (( SECONDS >= end )); then
    echo "influxd did not answer $url within ${deadline}s (last answer: HTTP ${code:-none}; journal: $(journal | tail -1))" >&2
    exit 1
  fi
  sleep 0.2  # poll interval, bounded by the deadline above
done
