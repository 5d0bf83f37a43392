#!/bin/bash
# Restart influxd through systemd for `runbook install` (its --restart-command):
# return 0 once the new influxd answers on PORT (HTTPS or plain HTTP: the
# install then verifies which certificate it serves), 1 at once with influxd's
# own error line when it exits, or at the deadline.
# The packaged unit's start never returns when influxd cannot start (its
# script polls /ready forever), so the start is not waited on; the stop is,
# so any answer afterwards comes from the new influxd.
#
# usage: restart-influxd.sh SERVICE DEADLINE_S PORT
set -euo pipefail
service=$1 deadline=$2 port=$3
# Only journal lines written after this restart count.
cursor=$(journalctl -u "$service" -n 0 --show-cursor -o cat | sed -n 's/^-- cursor: //p')
journal() { journalctl -u "$service" -o cat --no-pager ${cursor:+--after-cursor "$cursor"}; }
systemctl stop "$service"
systemctl start --no-block "$service"
end=$((SECONDS + deadline))
while :; do
  for url in "https://127.0.0.1:$port/ping" "http://127.0.0.1:$port/ping"; do
    code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
    if [[ $code != 000 ]]; then
      echo "influxd answers $url (HTTP $code)"
      exit 0
    fi
  done
  # influxd's last words when it exits (cobra's "Error: ..." line).
  err=$(journal | grep -m1 '^Error:' || true)
  if [[ -n $err ]]; then
    echo "influxd exited at start: ${err#Error: }" >&2
    exit 1
  fi
  if (( SECONDS >= end )); then
    echo "influxd did not answer on port $port within ${deadline}s (journal: $(journal | tail -1))" >&2
    exit 1
  fi
  sleep 0.2  # poll interval, bounded by the deadline above
done
