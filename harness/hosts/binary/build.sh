#!/usr/bin/env bash
# Build (or reuse) the binary host: the runbook image with systemd as PID 1,
# Telegraf's tarball unit, Debian's certbot and Pebble for the ACME page (harness/hosts/binary/Dockerfile). Prints the image
# tag on stdout; progress goes to stderr.
set -Eeuo pipefail  # -E: the ERR trap below fires in functions too

here=$(cd "$(dirname "$0")/../../.." && pwd)
source "$here/versions.env"
source "$here/scripts/release.sh"
cache=${RUNBOOK_CACHE:-$HOME/.cache/influx-tls-runbook}
say() { printf '[build-binary-host] %s\n' "$*" >&2; }
source "$here/scripts/build-traps.sh"
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# RUNBOOK_IMAGE pins the runbook image (as tests/integration/conftest.py does).
runbook_tag=${RUNBOOK_IMAGE:-$("$here/scripts/build-image.sh" | tail -n 1)}

mkdir -p "$cache"
exec 9>"$cache/build-binary-host.lock"
flock 9

# The telegraf unit is the package host's copy: the package and the tarball ship the same file.
unit=$here/harness/hosts/package/telegraf.service
hash=$(cat "$here/harness/hosts/binary/Dockerfile" "$unit" \
  <(echo "$runbook_tag $PEBBLE_VERSION $CERTBOT_VERSION") | sha256sum | cut -c1-12)
tag="$IMAGE_NAME-binary-host:$hash"

if image_exists "$tag"; then
  say "image $tag: cached"
else
  started=$EPOCHREALTIME
  # Pebble only when the image is to be built: the tag already names its version.
  mapfile -t pebble_bins < <("$here/scripts/build-pebble.sh")
  ctx=$(mktemp -d)   # global: the EXIT trap needs it
  trap 'rm -rf "$ctx"' EXIT
  cp "${pebble_bins[0]}" "$ctx/pebble"
  cp "${pebble_bins[1]}" "$ctx/pebble-challtestsrv"
  cp "$unit" "$ctx/telegraf.service"
  say "image: docker build $tag on $runbook_tag (apt-get install certbot=$CERTBOT_VERSION)"
  docker build -q --force-rm -f "$here/harness/hosts/binary/Dockerfile" --build-arg "RUNBOOK_IMAGE=$runbook_tag" \
    --build-arg "CERTBOT_VERSION=$CERTBOT_VERSION" -t "$tag" "$ctx" >/dev/null 2>"$ctx/build.log" \
    || { cat "$ctx/build.log" >&2; say "ERROR: docker build of the binary host failed (messages above)"; exit 1; }
  rm -rf "$ctx"; trap - EXIT
  say "image: built in $(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
  docker images "$IMAGE_NAME-binary-host" --format '{{.Tag}}' | grep -vx "$hash" \
    | while read -r old; do docker rmi "$IMAGE_NAME-binary-host:$old" >/dev/null && say "removed old image $old"; done \
    || true  # grep finds nothing when there is no old image
fi
echo "$tag"
