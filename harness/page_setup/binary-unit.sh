#!/usr/bin/env bash
# Hidden set-up on the binary host: what configure.md's "Before you start"
# binary tab leaves. /etc/influxdb/config.toml with the data paths of the
# official layout (kept if it exists), the unit harness/page_setup/influxdb.service
# (the page's, pinned by tests/unit/test_binary_unit.py), enabled and running.
set -euo pipefail
mkdir -p /etc/influxdb
[[ -f /etc/influxdb/config.toml ]] || printf '%s\n' \
  'bolt-path = "/var/lib/influxdb2/influxd.bolt"' 'engine-path = "/var/lib/influxdb2/engine"' \
  > /etc/influxdb/config.toml
[[ -f /etc/systemd/system/influxdb.service ]] \
  || cp /opt/runbook/harness/page_setup/influxdb.service /etc/systemd/system/influxdb.service
systemctl daemon-reload
systemctl enable --quiet --now influxdb
