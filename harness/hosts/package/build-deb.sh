#!/usr/bin/env bash
# Build the influxdb2 and influxdb2-cli .debs the way upstream defines them,
# around the binaries scripts/build-binaries.sh compiles:
#
#   influxdb2_2.9.1-1_amd64.deb     from influxdb v2.9.1's own package
#       definition (.circleci/packages/config.yaml and influxdb2/{control,fs},
#       shipped inside its Go module), translated for nfpm by
#       harness/hosts/package/nfpm_config.py at build time;
#   influxdb2-cli_<ver>-1_amd64.deb from influx-cli's scripts/ci/build-packages
#       (its fpm flags), /usr/bin/influx.
#
# Cached under $RUNBOOK_CACHE/debs/<hash of every input>/; a half-built
# package never carries the final name. Prints the two .deb paths on stdout
# (influxdb2 first); progress goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")/../../.." && pwd)
# shellcheck source=../../../versions.env
source "$here/versions.env"
cache=${RUNBOOK_CACHE:-$HOME/.cache/influx-tls-runbook}
say() { printf '[build-deb] %s\n' "$*" >&2; }
started=$SECONDS

export GOFLAGS=-mod=mod GOTOOLCHAIN=local
export GOMODCACHE=${GOMODCACHE:-$(go env GOMODCACHE)}

mkdir -p "$cache/debs" "$cache/tools"
exec 8>"$cache/build-deb.lock"
flock 8

# nfpm, pinned, installed once into the project cache (atomically).
nfpm=$cache/tools/nfpm-$NFPM_VERSION/nfpm
if [[ ! -x $nfpm ]]; then
  say "nfpm $NFPM_VERSION: go install (about 30 s)"
  gobin=$(mktemp -d "$cache/tools/.nfpm.XXXXXX")
  trap 'rm -rf "$gobin"' EXIT
  GOBIN=$gobin go install "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION"
  mkdir -p "$(dirname "$nfpm")"
  mv -f "$gobin/nfpm" "$nfpm"
  rm -rf "$gobin"
  trap - EXIT
fi
# `build-deb.sh tools`: only nfpm (scripts/build-images.sh installs it while
# the binaries still compile).
if [[ ${1:-} == tools ]]; then exit 0; fi

"$here/scripts/build-binaries.sh" influxd influx
influxd=$cache/bin/influxd-$INFLUXD_VERSION
influx=$cache/bin/influx-$INFLUX_CLI_VERSION

# The module directories that hold upstream's package definitions.
module_dir() { go mod download -json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'; }
influxdb_mod=$(module_dir "github.com/influxdata/influxdb/v2@$INFLUXD_VERSION")
cli_mod=$(module_dir "github.com/influxdata/influx-cli/v2@$INFLUX_CLI_VERSION")

# Every input: versions, the generator, this script, upstream's definitions
# and both binaries (by content).
key=$(
  {
    echo "$INFLUXD_VERSION $INFLUX_CLI_VERSION $NFPM_VERSION"
    cat "$here/harness/hosts/package/nfpm_config.py" "$here/harness/hosts/package/build-deb.sh"
    (cd "$influxdb_mod" && find .circleci/packages LICENSE README.md -type f | LC_ALL=C sort | xargs sha256sum)
    sha256sum "$cli_mod/scripts/ci/build-packages" "$influxd" "$influx" | cut -d' ' -f1
  } | sha256sum | cut -c1-16
)
out=$cache/debs/$key
if [[ -d $out ]]; then
  say "debs: cached in $out"
else
  say "debs: building into $out"
  # A Python with PyYAML reads upstream's config.yaml (looked for only here:
  # `make test` builds the images while the venv is still being made).
  py=
  for cand in python3 "$here/.venv/bin/python" /usr/bin/python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import yaml' 2>/dev/null; then py=$cand; break; fi
  done
  if [[ -z $py ]]; then
    "$here/scripts/apt-install.sh" python3-yaml
    py=/usr/bin/python3
  fi
  tmp=$(mktemp -d "$cache/debs/.build.XXXXXX")
  chmod 0755 "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  "$py" "$here/harness/hosts/package/nfpm_config.py" influxdb2 --module "$influxdb_mod" \
    --tag "$INFLUXD_VERSION" --influxd "$influxd" > "$tmp/influxdb2.yaml"
  "$py" "$here/harness/hosts/package/nfpm_config.py" influxdb2-cli --module "$cli_mod" \
    --version "$INFLUX_CLI_VERSION" --influx "$influx" > "$tmp/influxdb2-cli.yaml"
  for pkg in influxdb2 influxdb2-cli; do
    t=$SECONDS
    "$nfpm" package --packager deb --config "$tmp/$pkg.yaml" --target "$tmp/" >&2
    say "$pkg: packaged in $((SECONDS - t))s"
  done
  rm -f "$tmp"/*.yaml
  # The directory appears under its final name only when both are complete.
  mv -T "$tmp" "$out"
  trap - EXIT
  say "debs: built in $((SECONDS - started))s"
fi
printf '%s\n' "$out"/influxdb2_*.deb "$out"/influxdb2-cli_*.deb
