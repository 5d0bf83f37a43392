#!/usr/bin/env bash
# The live-server journey's starting point (harness/live-journey.yml): a
# reader's production server before they open the Guide. Not a page block:
# the harness runs it once per host, before the first page.
#   - influxd on plain HTTP as the host runs it, onboarded (org runbook,
#     bucket telegraf, the operator token in /root/.influx-token), with a
#     bucket `app` holding 100 points;
#   - the reader's own Telegraf as a service (package and binary hosts: the
#     systemd unit `telegraf` as InfluxData's package or tarball installs it,
#     and on the binary host influxd under configure.md's unit; Docker host: the
#     container `telegraf`) with a config that has inputs and outputs of its own:
#     inputs.cpu, outputs.file, and outputs.influxdb_v2 over http://, with a
#     token that may only write to its bucket (in /etc/default/telegraf);
#   - a client (reader-client.py, unit reader-client) that writes a point
#     every 0.5 s and switches to verified HTTPS as soon as it can.
# Runs inside the page host (the harness mounts the project at /opt/runbook).
set -euo pipefail
here=/opt/runbook/harness/live

# The package host has the .deb; the binary host may have a unit of the same name.
if dpkg-query -W influxdb2 >/dev/null 2>&1; then host=package
elif command -v docker >/dev/null && ! command -v influxd >/dev/null; then host=docker
else host=binary; fi

case $host in
  package) systemctl enable --now influxdb >/dev/null 2>&1 ;;
  binary)
    # A reader who followed configure.md's binary tab (or has the same
    # unit): influxd under influxdb.service, its settings in
    # /etc/influxdb/config.toml with the official layout's data paths.
    /opt/runbook/harness/page_setup/binary-unit.sh ;;
  docker)
    # As configure.md's Docker tab starts it on a new server.
    docker run -d --name influxdb --restart unless-stopped -p 8086:8086 \
      -v influxdb2-data:/var/lib/influxdb2 \
      -v influxdb2-config:/etc/influxdb2 influxdb:2.9.1 >/dev/null
    # The influx CLI of the image, on the host's network (docker exec does
    # not work in this nested engine: setns is refused).
    influx() {
      docker run --rm --network host -e INFLUX_HOST -e INFLUX_TOKEN influxdb:2.9.1 influx "$@"
    } ;;
esac
# Plain HTTP, as after installation: ask until it answers (docker's port
# proxy accepts before influxd listens, hence --retry-all-errors).
curl --silent --fail --retry 100 --retry-delay 0 --retry-max-time 30 --retry-all-errors \
  -o /dev/null http://localhost:8086/health

(umask 077; openssl rand -base64 24 > /root/.influx-password)
(umask 077; openssl rand -hex 32 > /root/.influx-token)
influx setup --host http://localhost:8086 --force --username admin \
  --password "$(cat /root/.influx-password)" --org runbook --bucket telegraf \
  --token "$(cat /root/.influx-token)" >/dev/null
export INFLUX_HOST=http://localhost:8086 INFLUX_TOKEN="$(cat /root/.influx-token)"
influx bucket create --org runbook --name app >/dev/null
telegraf_bucket=$(influx bucket list --org runbook --name telegraf --hide-headers | cut -f1)
app_bucket=$(influx bucket list --org runbook --name app --hide-headers | cut -f1)
write_token() {  # a token that may write to one bucket, nothing else
  influx auth create --org runbook --write-bucket "$1" --description "$2" --json \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
(umask 077; write_token "$app_bucket" reader-app > /root/.app-token)

# 100 points the reader already has.
for i in $(seq 1 100); do echo "history,host=a value=$i $((1700000000 + i))"; done \
  | curl -sf "http://localhost:8086/api/v2/write?org=runbook&bucket=app&precision=s" \
      -H "Authorization: Token $(cat /root/.influx-token)" --data-binary @-

# The reader's Telegraf: the package's unit (in the host image) or the
# container `telegraf`, its token in /etc/default/telegraf, and a
# configuration of the reader's own.
mkdir -p /etc/telegraf /var/log/telegraf
(umask 077; echo "INFLUX_TOKEN=$(write_token "$telegraf_bucket" reader-telegraf)" \
  > /etc/default/telegraf; chmod 600 /etc/default/telegraf)
cat > /etc/telegraf/telegraf.conf <<'CONF'
# The reader's own Telegraf configuration.
[agent]
  interval = "2s"
  flush_interval = "2s"
  omit_hostname = true

[[inputs.cpu]]
  percpu = false
  totalcpu = true

# A local copy of every metric, for the reader's own tools.
[[outputs.file]]
  files = ["/var/log/telegraf/metrics.out"]
  data_format = "influx"

[[outputs.influxdb_v2]]
  urls = ["http://localhost:8086"]
  token = "${INFLUX_TOKEN}"
  organization = "runbook"
  bucket = "telegraf"
CONF
mkdir -p /var/lib/reader-client
case $host in
  package|binary)
    systemctl enable --now telegraf >/dev/null 2>&1
    # The reader's client, writing all the time.
    systemd-run --quiet --unit reader-client --property=Restart=no \
      python3 "$here/reader-client.py" /var/lib/reader-client/attempts.jsonl ;;
  docker)
    docker run -d --name telegraf --restart unless-stopped --network host \
      -v /etc/telegraf:/etc/telegraf:ro -v /etc/ssl/influxdb:/etc/ssl/influxdb:ro \
      -v /var/log/telegraf:/var/log/telegraf --env-file /etc/default/telegraf \
      telegraf:1.39.3 >/dev/null
    setsid python3 "$here/reader-client.py" /var/lib/reader-client/attempts.jsonl \
      </dev/null >/dev/null 2>&1 &
    echo $! > /var/lib/reader-client/pid ;;
esac
echo "reader's server ready: influxd on http, telegraf and reader-client running"
