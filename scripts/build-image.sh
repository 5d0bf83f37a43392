#!/usr/bin/env bash
# Build the runbook image: the official influxdb:2.x image's layout
# (influxd and influx in /usr/local/bin, user influxdb 1000:1000,
# /var/lib/influxdb2, /etc/influxdb2, port 8086, arguments go to influxd)
# plus openssl, curl, python3 and telegraf.
#
#   IMAGE_BASE=local    (default) Debian root from debootstrap + binaries
#                       compiled from their pinned Go modules; no registry.
#   IMAGE_BASE=official FROM influxdb:2.9 (needs a reachable registry);
#                       adds telegraf and the client tools on top.
#   IMAGE_BASE=auto     official where the registry ($RUNBOOK_REGISTRY, default
#                       Docker Hub) answers within 5 s, else local; one line
#                       on stderr says which and why (lab/base_image.py).
#                       make demo builds this way; the tests build local.
#
# RUNBOOK_IMAGE_NAME builds under another name than versions.env's IMAGE_NAME
# (the tests and timings build fresh tags so, and remove them after).
#
# Prints the image reference on stdout; progress goes to stderr.
set -Eeuo pipefail  # -E: the ERR trap below fires in functions too

here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/versions.env"
IMAGE_NAME=${RUNBOOK_IMAGE_NAME:-$IMAGE_NAME}
source "$here/scripts/release.sh"
cache=${RUNBOOK_CACHE:-$HOME/.cache/influx-tls-runbook}
say() { printf '[build-image] %s\n' "$*" >&2; }
source "$here/scripts/build-traps.sh"

# debootstrap does not resolve virtual packages: python3-cryptography needs
# python3-cffi-backend named explicitly.
# Packages of the base root: what an operator's host would have, plus the
# Python libraries the runbook package needs, so `runbook` runs inside too.
base_packages=ca-certificates,openssl,curl,jq,procps,iproute2,python3,python3-cffi-backend,python3-cryptography,python3-click,python3-tomlkit
base_tag="$IMAGE_NAME-base:$DEBIAN_SUITE-$(printf '%s' "$base_packages" | sha256sum | cut -c1-12)"

# The final tag depends on every input: versions, packages, Dockerfile, entrypoint.
# Only the versions.env lines the image is built from: pins of tools the
# image does not contain (nfpm, actionlint, pebble, ansible) must not rebuild it.
image_versions() {
  grep -E '^(INFLUXD_VERSION|INFLUX_CLI_VERSION|TELEGRAF_VERSION|TELEGRAF_PLUGINS|PKG_CONFIG_WRAPPER_VERSION|DEBIAN_SUITE|IMAGE_NAME)=' "$here/versions.env"
}
inputs_hash=$(cat <(image_versions) "$here/image/Dockerfile" "$here/image/Dockerfile.official" "$here/image/entrypoint.sh" <(echo "$base_tag") | sha256sum | cut -c1-12)
image_tag="$IMAGE_NAME:$inputs_hash"

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# The Debian mirror this machine's apt already uses (deb822 .sources files
# first, then one-line .list entries): the only one known to be reachable.
apt_mirror() {
  # Only files that exist: with pipefail, a missing /etc/apt/sources.list
  # (Debian 12's default has none) would fail the function and the script.
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    if [[ -f $f ]]; then awk '/^URIs:/ { print $2 }' "$f"; fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    if [[ -f $f ]]; then
      awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$f"
    fi
  done
}

build_base() {
  if image_exists "$base_tag"; then say "base $base_tag: cached"; return; fi
  "$here/scripts/apt-install.sh" debootstrap
  local mirror
  mirror=$(apt_mirror | awk 'NR == 1')
  if [[ -z $mirror ]]; then
    say "ERROR: no Debian mirror in this machine's apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/); debootstrap needs the one apt uses. Fix: add your mirror there (e.g. a 'deb URL $DEBIAN_SUITE main' line), then run make images again"
    exit 2
  fi
  root=$(mktemp -d "$cache/rootfs.XXXXXX")   # global: the EXIT trap needs it
  # A failed or interrupted bootstrap leaves no half-made root behind.
  trap 'rm -rf "$root"' EXIT
  say "base: debootstrap $DEBIAN_SUITE from $mirror (about a minute)"
  debootstrap --variant=minbase --include="$base_packages" "$DEBIAN_SUITE" "$root" "$mirror" \
    | while read -r line; do case $line in I:\ Retrieving*|I:\ Validating*) ;; *) say "  $line" ;; esac; done
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  say "base: importing into docker as $base_tag"
  tar -C "$root" -c . | docker import - "$base_tag" >/dev/null
  rm -rf "$root"
  trap - EXIT
}

# How long the image took, for the speed report (reports/ is git-ignored).
record_timing() {
  mkdir -p "$here/reports"
  printf '{"image": "%s", "cached": %s, "seconds": %s, "date": "%s"}\n' \
    "$image_tag" "$1" "$((SECONDS - build_started))" "$(date -u +%FT%TZ)" \
    > "$here/reports/image-build$([[ $1 == true ]] && echo -cached).json"
}

build_local() {
  build_started=$SECONDS
  if image_exists "$image_tag"; then
    say "image $image_tag: cached"; record_timing true; echo "$image_tag"; return
  fi
  build_base
  "$here/scripts/build-binaries.sh" influxd telegraf
  ctx=$(mktemp -d)   # global: the EXIT trap needs it
  trap 'rm -rf "$ctx"' EXIT
  mkdir "$ctx/bin"
  cp "$cache/bin/influxd-$INFLUXD_VERSION" "$ctx/bin/influxd"
  cp "$cache/bin/telegraf-$TELEGRAF_VERSION" "$ctx/bin/telegraf"
  # The influx CLI is optional: the pages and the package talk to the HTTP
  # API with curl and Python. Its Go module is refused by some proxies.
  if "$here/scripts/build-binaries.sh" influx; then
    cp "$cache/bin/influx-$INFLUX_CLI_VERSION" "$ctx/bin/influx"
  else
    say "WARNING: influx CLI $INFLUX_CLI_VERSION could not be built; the image has no 'influx' command"
  fi
  cp "$here/image/entrypoint.sh" "$ctx/entrypoint.sh"
  say "image: docker build $image_tag"
  docker build -q --force-rm -f "$here/image/Dockerfile" --build-arg "BASE=$base_tag" \
    --label "runbook.versions=$inputs_hash" -t "$image_tag" "$ctx" >/dev/null
  docker tag "$image_tag" "$IMAGE_NAME:latest"
  # Images of older inputs are not used again: free their space.
  docker images "$IMAGE_NAME" --format '{{.Tag}}' | grep -Ev "^($inputs_hash|latest|official-.*)\$" \
    | while read -r old; do docker rmi "$IMAGE_NAME:$old" >/dev/null && say "removed old image $IMAGE_NAME:$old"; done \
    || true  # grep finds nothing when there is no old image
  rm -rf "$ctx"
  trap - EXIT
  say "image: built $image_tag in $((SECONDS - build_started))s"
  record_timing false
  echo "$image_tag"
}

# build_official [BASE]: on the official image, or BASE (the same image
# from another registry).
build_official() {
  local base=${1:-influxdb:${INFLUXD_VERSION#v}} base_id
  image_exists "$base" || docker pull "$base" >&2
  # The base's id is an input too: another registry's copy is another image.
  base_id=$(docker image inspect -f '{{.Id}}' "$base")
  official_tag="$IMAGE_NAME:official-$(printf '%s %s' "$inputs_hash" "$base_id" | sha256sum | cut -c1-12)"
  local tag=$official_tag
  if image_exists "$tag"; then say "image $tag: cached"; echo "$tag"; return; fi
  "$here/scripts/build-binaries.sh" telegraf
  ctx=$(mktemp -d)   # global: the EXIT trap needs it
  trap 'rm -rf "$ctx"' EXIT
  cp "$cache/bin/telegraf-$TELEGRAF_VERSION" "$ctx/telegraf"
  say "image: docker build $tag FROM $base (apt-get and telegraf on top, about a minute)"
  docker build -q --force-rm -f "$here/image/Dockerfile.official" --build-arg "BASE=$base" \
    --label "runbook.base=$base" --label "runbook.versions=$inputs_hash" -t "$tag" "$ctx" >/dev/null
  docker tag "$tag" "$IMAGE_NAME:latest"
  rm -rf "$ctx"
  trap - EXIT
  echo "$tag"
}

# The official image where a registry serves it now, else the local build;
# :latest (what `python -m lab demo` runs) names the one chosen.
build_auto() {
  local base
  base=$(PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" "${PYTHON:-python3}" -m lab.base_image)
  if [[ $base == local ]]; then
    build_local; docker tag "$image_tag" "$IMAGE_NAME:latest"
  else
    build_official "$base"; docker tag "$official_tag" "$IMAGE_NAME:latest"
  fi
}

mkdir -p "$cache"
# One build at a time: parallel test workers (or two make runs) that both find
# the image missing wait here, then find it cached.
exec 9>"$cache/build-image.lock"
flock 9
case ${IMAGE_BASE:-local} in
  local) if [[ ${1:-} == base ]]; then build_base; echo "$base_tag"; else build_local; fi ;;
  official) build_official ;;
  auto) build_auto ;;
  *) say "ERROR: IMAGE_BASE must be 'local', 'official' or 'auto', not '${IMAGE_BASE}'"; exit 2 ;;
esac
