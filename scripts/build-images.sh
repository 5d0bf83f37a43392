#!/usr/bin/env bash
# Build (or reuse) every image the tests and the pages run on: the runbook
# image, the package host, the Docker host and the binary host, on each
# Debian release of versions.env's DEBIAN_RELEASES.
#
# On a fresh machine two kinds of work dominate, and they need different
# things: compiling influxd, flux's Rust library, telegraf, the influx CLI and
# Pebble (CPU), and Debian's packages for the base root and the host images'
# `apt` stages (the mirror and dpkg), then nfpm. Neither needs the other, so they run at
# once, as two lanes; then the images are put together from what both made.
# When everything is cached, each step says so and this takes a few seconds.
#
#   scripts/build-images.sh        progress on stderr, one line per step
set -Eeuo pipefail  # -E: the ERR trap below fires in functions too

here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/versions.env"
source "$here/scripts/release.sh"
say() { printf '[build-images] %s\n' "$*" >&2; }
source "$here/scripts/build-traps.sh"  # INT and TERM: replaced below, once lanes run
started=$SECONDS

compile() {
  local t=$SECONDS
  "$here/scripts/build-binaries.sh" telegraf influxd
  "$here/scripts/build-pebble.sh" >/dev/null
  # The influx CLI is optional for the runbook image; build-image.sh says
  # what its absence means, so a failure here is not the end of the build.
  "$here/scripts/build-binaries.sh" influx || say "the influx CLI did not build (see above)"
  say "lane compile: done in $((SECONDS - t)) s"
}

debian() {
  local t=$SECONDS release
  for release in $DEBIAN_RELEASES; do
    RUNBOOK_RELEASE=$release debian_release
  done
  "$here/harness/hosts/package/build-deb.sh" tools  # nfpm, for the package host's .debs
  say "lane debian: done in $((SECONDS - t)) s"
}

# The base root and the host images' apt stages of one release (RUNBOOK_RELEASE).
debian_release() (
  local base_tag dockerfile said dockerfiles
  source "$here/scripts/release.sh"  # this release's names and certbot pin
  base_tag=$("$here/scripts/build-image.sh" base)
  # Only the `apt` stages: the full builds later find these layers cached.
  # The Dockerfile comes on stdin, without a context: the stages copy no file.
  dockerfiles=("$here/harness/hosts/package/Dockerfile" "$here/harness/hosts/docker/Dockerfile")
  for dockerfile in "${dockerfiles[@]}"; do
    say "lane debian: apt stage of ${dockerfile#"$here"/} ($release)"
    # Its messages only when it fails (else: the legacy builder's banner).
    # A failure is not the end: the full build below makes the stage again
    # if it must, and says why it cannot (a fully cached run needs no mirror).
    if ! said=$(docker build -q --force-rm --target apt --build-arg "BASE=$base_tag" \
        --build-arg "CERTBOT_VERSION=$CERTBOT_VERSION" - <"$dockerfile" 2>&1 >/dev/null); then
      printf '%s\n' "$said" >&2
      say "WARNING: the apt stage of ${dockerfile#"$here"/} ($release) failed (messages above); the full build tries again"
    fi
  done
)

# `build-images.sh --lane NAME`: one lane, as `lane` below starts it.
if [[ ${1:-} == --lane ]]; then
  case ${2:-} in compile|debian) "$2"; exit ;; esac
  say "ERROR: no lane '${2:-}' (compile or debian)"; exit 2
fi

# Each lane runs in a session of its own, so that stopping it stops its
# compilers and docker clients too; Ctrl-C or a failed lane stops both, and
# this script returns only once they are gone and their EXIT traps have run.
# Go's work folders go under one folder of ours: a Go stopped by SIGTERM
# leaves its own behind (it cleans up only on SIGINT, which background
# jobs ignore).
declare -A lanes=()
GOTMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/build-images-go.XXXXXX")
export GOTMPDIR
stop_lanes() {
  local pid
  for pid in "${lanes[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  wait "${lanes[@]}" 2>/dev/null || true
  rm -rf "$GOTMPDIR"
}
trap 'stop_lanes' EXIT
trap 'say "interrupted: stopping the builds"; exit 130' INT
trap 'say "stopped: stopping the builds"; exit 143' TERM

lane() {  # lane NAME: this script's function NAME, in the background
  setsid "$here/scripts/build-images.sh" --lane "$1" &
  lanes[$1]=$!
}

# IMAGE_BASE=official builds on the registry's image: no Debian root to make.
if [[ ${IMAGE_BASE:-local} == local ]]; then
  lane compile
  lane debian
fi
while ((${#lanes[@]})); do
  # The first lane to fail stops the other: its error is the one to read.
  rc=0 finished= which=
  wait -n -p finished "${lanes[@]}" || rc=$?
  for name in "${!lanes[@]}"; do
    if [[ ${lanes[$name]} == "$finished" ]]; then which=$name; unset "lanes[$name]"; fi
  done
  if ((rc != 0)); then
    say "ERROR: lane ${which:-?} failed (exit $rc; its messages are above); stopping the other"
    exit "$rc"
  fi
done

"$here/scripts/build-image.sh" >/dev/null
"$here/harness/hosts/package/build.sh" >/dev/null
"$here/harness/hosts/docker/build.sh" >/dev/null
"$here/harness/hosts/binary/build.sh" >/dev/null
# The other releases' hosts.
for release in ${DEBIAN_RELEASES#* }; do
  RUNBOOK_RELEASE=$release "$here/harness/hosts/package/build.sh" >/dev/null
  RUNBOOK_RELEASE=$release "$here/harness/hosts/docker/build.sh" >/dev/null
  RUNBOOK_RELEASE=$release RUNBOOK_IMAGE=$(RUNBOOK_RELEASE=$release "$here/scripts/build-image.sh" | tail -n 1) \
    "$here/harness/hosts/binary/build.sh" >/dev/null
done
say "all images ready in $((SECONDS - started)) s"
