#!/usr/bin/env bash
# What identifies the reader's running server, for hidden checks that a
# page left it alone: the influxd process (the package's MainPID and
# invocation, the container's id and start time, or the hand-started
# process), the certificate it serves on 8086, and the bytes of its TLS
# files and settings. Throwaway instances (ports 8087, 8088) are ignored.
set -euo pipefail
if systemctl cat influxdb >/dev/null 2>&1; then
  systemctl show -p MainPID -p InvocationID -p ActiveState influxdb
elif command -v docker >/dev/null && ! command -v influxd >/dev/null; then
  docker inspect -f 'container {{.Id}} {{.State.StartedAt}} {{.State.Status}} {{.Args}}' influxdb
else
  for p in $(pgrep -x influxd); do
    grep -qa -e 127.0.0.1:8087 -e 127.0.0.1:8088 "/proc/$p/cmdline" || echo "influxd pid $p"
  done
fi
openssl s_client -connect 127.0.0.1:8086 </dev/null 2>/dev/null \
  | openssl x509 -noout -fingerprint -sha256
sha256sum /etc/ssl/influxdb/* /etc/influxdb/config.toml /etc/default/influxdb2 2>/dev/null || true
