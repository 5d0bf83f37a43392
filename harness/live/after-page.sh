#!/usr/bin/env bash
# After each page of the live journey: is the reader's server still up, and
# how does it answer? Prints one JSON line, and keeps a copy of the reader's
# configuration files for the run-1/run-2 comparison.
#   after-page.sh RUN PAGE
set -uo pipefail
run=$1 page=$2
snap=/var/lib/reader-client/snap/$run/$page
mkdir -p "$snap"
for f in /etc/influxdb/config.toml /etc/default/influxdb2 /etc/telegraf/telegraf.conf \
         /etc/default/telegraf; do
  [[ -f $f ]] && cp -p "$f" "$snap/$(echo "${f#/}" | tr / _)"
done
ls /etc/systemd/system/influxdb.service.d 2>/dev/null | sed 's|^|dropin:|' > "$snap/dropins"
# ps runs alone in the substitution: in `ps | sort` it could list sort itself.
procs=$(ps -eo comm=)
printf '%s\n' "$procs" | sort -u > "$snap/processes"

state() {  # the package's unit, or the container of that name: "active" when it runs
  if systemctl cat "$1" >/dev/null 2>&1; then systemctl is-active "$1" || true
  else
    s=$(docker inspect -f '{{.State.Status}}' "$1" 2>/dev/null || echo missing)
    [[ $s == running ]] && echo active || echo "$s"
  fi
}
if command -v docker >/dev/null && ! systemctl cat influxdb >/dev/null 2>&1; then
  docker inspect -f '{{json .Args}}' influxdb > "$snap/influxdb-container-args" 2>/dev/null || true
  docker ps -a --format '{{.Names}}' | sort | sed 's|^|container:|' >> "$snap/processes"
fi

active=$(state influxdb)
# Whether influxd comes back after a reboot: the unit enabled, or the
# container's restart policy.
if systemctl cat influxdb >/dev/null 2>&1; then boot=$(systemctl is-enabled influxdb || true)
else boot=$(docker inspect -f '{{.HostConfig.RestartPolicy.Name}}' influxdb 2>/dev/null || echo none); fi
bundle=$(mktemp)
cat /etc/ssl/influxdb/ca.crt /etc/ssl/influxdb/server.crt > "$bundle" 2>/dev/null || true
scheme=none
if curl --silent --fail --max-time 5 --cacert "$bundle" -o /dev/null https://localhost:8086/health; then
  scheme=https-verified
elif curl --silent --fail --max-time 5 -o /dev/null http://localhost:8086/health; then
  scheme=http
fi
rm -f "$bundle"
telegraf=$(state telegraf)
printf '{"run": "%s", "page": "%s", "influxd": "%s", "answers": "%s", "telegraf": "%s", "boot": "%s", "t": %s}\n' \
  "$run" "$page" "$active" "$scheme" "$telegraf" "$boot" "$(date +%s.%N)" | tee -a /var/lib/reader-client/pages.jsonl
