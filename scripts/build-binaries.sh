#!/usr/bin/env bash
# Build the pinned influxd, influx and telegraf binaries from their Go modules.
# No container registry is reachable here, so the official image cannot be
# pulled; these are the same upstream sources, compiled locally.
#
# Results are cached outside the checkout, keyed by version, so a fresh clone
# on the same machine reuses them:  $RUNBOOK_CACHE/bin/<name>-<version>
#
# Usage: scripts/build-binaries.sh [influxd|influx|telegraf ...]   (default: all)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../versions.env
source "$here/versions.env"

cache=${RUNBOOK_CACHE:-$HOME/.cache/influx-tls-runbook}
bindir=$cache/bin
work=$cache/build
mkdir -p "$bindir" "$work"

export GOFLAGS=-mod=mod
export GOTOOLCHAIN=local
export GOCACHE=${GOCACHE:-$HOME/.cache/go-build}
export GOMODCACHE=${GOMODCACHE:-$(go env GOMODCACHE)}
# flux's Rust library is built by the pkg-config wrapper under $GOCACHE/pkgconfig.

# influxd and telegraf link as their release builds do (influxdb's
# scripts/ci/build.sh, telegraf's Makefile for its packages): without the
# symbol table and DWARF. Panics still name functions and lines. influxd
# links in 4.5 s instead of 9 s here and is 108 MB instead of 155 MB, which
# the .deb, the images and the Docker host's payload carry too. The cache
# is keyed by version only: a binary cached before these flags keeps its
# symbols and behaves the same (delete it to rebuild).
release_ldflags="-s -w"

log() { printf '[build-binaries] %s\n' "$*" >&2; }

need() {
  command -v "$1" >/dev/null || { log "ERROR: '$1' is not installed: run scripts/install-deps.sh"; exit 2; }
}

# Progress for `go build -v`: it names each package as it compiles; count
# them and report every 100, and pass every other line (errors, the flux
# Rust build's messages) through unchanged.
progress() {
  local what=$1 n=0 line
  while IFS= read -r line; do
    if [[ $line =~ ^[A-Za-z0-9._/~+-]+$ ]]; then
      n=$((n + 1))
      (( n % 100 == 0 )) && log "$what: $n packages compiled so far"
    else
      printf '%s\n' "$line" >&2
    fi
  done
  log "$what: $n packages compiled"
}

# Install a freshly built binary atomically: a half-written file never carries
# the final name, so an interrupted build is rebuilt next time.
install_bin() {
  local src=$1 dest=$2
  install -m 0755 "$src" "$dest.tmp.$$"
  mv -f "$dest.tmp.$$" "$dest"
}

build_influx_cli() {
  local dest=$bindir/influx-$INFLUX_CLI_VERSION
  if [[ -x $dest ]]; then log "influx $INFLUX_CLI_VERSION: cached"; return; fi
  log "influx $INFLUX_CLI_VERSION: building (pure Go)"
  # main declares version, commit and date (cmd/influx/main.go); without
  # them `influx version` says "dev (git: none)" and the build time. Stamp
  # all three from the version itself, so the binary is reproducible: a Go
  # pseudo-version vX.Y.Z-0.YYYYMMDDhhmmss-COMMIT carries the commit and its
  # UTC time; a tagged version has neither, so commit is the tag.
  local ver=${INFLUX_CLI_VERSION#v} commit=$INFLUX_CLI_VERSION date=
  if [[ $INFLUX_CLI_VERSION =~ -([0-9]+\.)?([0-9]{14})-([0-9a-f]{12})$ ]]; then
    local ts=${BASH_REMATCH[2]}
    commit=${BASH_REMATCH[3]}
    date="${ts:0:4}-${ts:4:2}-${ts:6:2}T${ts:8:2}:${ts:10:2}:${ts:12:2}Z"
  fi
  local mod=$work/influx-$INFLUX_CLI_VERSION
  mkdir -p "$mod"
  (
    cd "$mod"
    # `go install pkg@version` asks the proxy for the module's version list
    # (deprecation check), which is refused (403); a throwaway module that
    # requires the exact version does not ask.
    [[ -f go.mod ]] || go mod init runbook.local/influx-build >/dev/null 2>&1
    go get "github.com/influxdata/influx-cli/v2/cmd/influx@$INFLUX_CLI_VERSION"
    CGO_ENABLED=0 go build -o influx.new \
      -ldflags "-X main.version=$ver -X main.commit=$commit${date:+ -X main.date=$date}" \
      github.com/influxdata/influx-cli/v2/cmd/influx
  )
  install_bin "$mod/influx.new" "$dest"
  rm -f "$mod/influx.new"
  log "influx $INFLUX_CLI_VERSION: built"
}

build_telegraf() {
  local dest=$bindir/telegraf-$TELEGRAF_VERSION
  if [[ -x $dest ]]; then log "telegraf $TELEGRAF_VERSION: cached"; return; fi
  log "telegraf $TELEGRAF_VERSION: building with plugins $TELEGRAF_PLUGINS"
  local mod=$work/telegraf-$TELEGRAF_VERSION
  mkdir -p "$mod"
  (
    cd "$mod"
    [[ -f go.mod ]] || go mod init runbook.local/telegraf-build >/dev/null 2>&1
    go get "github.com/influxdata/telegraf@$TELEGRAF_VERSION"
    CGO_ENABLED=0 go build -v -o telegraf.new \
      -tags "custom,$TELEGRAF_PLUGINS" \
      -ldflags "$release_ldflags -X github.com/influxdata/telegraf/internal.Version=${TELEGRAF_VERSION#v}" \
      github.com/influxdata/telegraf/cmd/telegraf 2>&1 | progress telegraf
  )
  install_bin "$mod/telegraf.new" "$dest"
  rm -f "$mod/telegraf.new"
  log "telegraf $TELEGRAF_VERSION: built"
}

build_influxd() {
  local dest=$bindir/influxd-$INFLUXD_VERSION
  if [[ -x $dest ]]; then log "influxd $INFLUXD_VERSION: cached"; return; fi
  need pkg-config
  need cargo
  log "influxd $INFLUXD_VERSION: building (the first build compiles flux's Rust library: about 5 minutes on 2 cores, plus downloads)"
  local mod=$work/influxd-$INFLUXD_VERSION
  mkdir -p "$mod"
  (
    cd "$mod"
    [[ -f go.mod ]] || go mod init runbook.local/influxd-build >/dev/null 2>&1
    # influxd's go.mod has replace directives, so `go install pkg@version`
    # refuses it; a throwaway module that requires it builds fine.
    go get "github.com/influxdata/influxdb/v2/cmd/influxd@$INFLUXD_VERSION" \
      "github.com/influxdata/pkg-config@$PKG_CONFIG_WRAPPER_VERSION"
    go build -o "$mod/pkg-config" github.com/influxdata/pkg-config
    # flux pins an older Rust in rust-toolchain.toml that rustup cannot
    # download here; stable works once lints are capped at warnings.
    # CGO_CFLAGS: cgo's default "-O2 -g" without -g, whose debug info -s -w drops
    # again at the link: gcc compiles sqlite (go-sqlite3) in 27 s instead of 36 s.
    PKG_CONFIG=$mod/pkg-config RUSTUP_TOOLCHAIN=stable RUSTFLAGS=--cap-lints=warn CGO_CFLAGS=-O2 \
      CGO_ENABLED=1 go build -v -o influxd.new \
      -tags sqlite_foreign_keys,sqlite_json \
      -ldflags "$release_ldflags -X main.version=${INFLUXD_VERSION#v} -X main.commit=upstream-$INFLUXD_VERSION -X main.date=pinned" \
      github.com/influxdata/influxdb/v2/cmd/influxd 2>&1 | progress influxd
  )
  install_bin "$mod/influxd.new" "$dest"
  rm -f "$mod/influxd.new"
  log "influxd $INFLUXD_VERSION: built"
}

need go
# One build at a time: a second caller waits, then finds the binaries cached.
exec 9>"$cache/build-binaries.lock"
flock 9
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(influx telegraf influxd)
for t in "${targets[@]}"; do
  case $t in
    influx) build_influx_cli ;;
    telegraf) build_telegraf ;;
    influxd) build_influxd ;;
    *) log "ERROR: unknown target '$t' (expected influx, telegraf or influxd)"; exit 2 ;;
  esac
done
