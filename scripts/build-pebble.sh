#!/usr/bin/env bash
# Build pebble and pebble-challtestsrv (Let's Encrypt's test ACME server and
# its DNS/challenge server) from their Go module at PEBBLE_VERSION.
# Cached outside the checkout, keyed by version:
#   $RUNBOOK_CACHE/bin/pebble-<version>, $RUNBOOK_CACHE/bin/pebble-challtestsrv-<version>
# Prints the two paths on stdout; progress on stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../versions.env
source "$here/versions.env"
cache=${RUNBOOK_CACHE:-$HOME/.cache/influx-tls-runbook}
bindir=$cache/bin
work=$cache/build/pebble-$PEBBLE_VERSION
mkdir -p "$bindir" "$work"
log() { printf '[build-pebble] %s\n' "$*" >&2; }
command -v go >/dev/null || { log "ERROR: 'go' is not installed: run scripts/install-deps.sh"; exit 2; }

export GOFLAGS=-mod=mod GOTOOLCHAIN=local
export GOCACHE=${GOCACHE:-$HOME/.cache/go-build}

# One build at a time: a second caller waits, then finds the binaries cached.
exec 9>"$cache/build-pebble.lock"
flock 9
for cmd in pebble pebble-challtestsrv; do
  dest=$bindir/$cmd-$PEBBLE_VERSION
  if [[ -x $dest ]]; then
    log "$cmd $PEBBLE_VERSION: cached"
  else
    log "$cmd $PEBBLE_VERSION: building (pure Go)"
    # A throwaway module that requires the exact version: `go install
    # pkg@version` would also ask the proxy for the version list.
    (
      cd "$work"
      [[ -f go.mod ]] || go mod init runbook.local/pebble-build >/dev/null 2>&1
      go get "github.com/letsencrypt/pebble/v2/cmd/$cmd@$PEBBLE_VERSION"
      CGO_ENABLED=0 go build -o "$cmd.new" "github.com/letsencrypt/pebble/v2/cmd/$cmd"
    )
    # Atomic: a half-written binary never carries the final name.
    install -m 0755 "$work/$cmd.new" "$dest.tmp.$$"
    mv -f "$dest.tmp.$$" "$dest"
    rm -f "$work/$cmd.new"
    log "$cmd $PEBBLE_VERSION: built"
  fi
  echo "$dest"
done
