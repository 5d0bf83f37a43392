#!/usr/bin/env bash
# Build (or reuse) the Docker host: the page host whose Docker-tab blocks run
# against its own inner Docker engine (harness/hosts/docker/), and the inner
# engine's payload: the runbook image under the official names
# influxdb:2.9.1 and influxdb:2.9, ready to mount read-only into each host.
#
#   DOCKER_HOST_PAYLOAD=dataroot (default) a ready inner data root (image/ and
#                       overlay2/ of an engine that loaded the image), unpacked
#                       into the host's tmpfs before its engine starts
#   DOCKER_HOST_PAYLOAD=images  the `docker save` tarball, `docker load`ed by
#                       each host as it starts (slower; see the README)
#
# Prints three lines on stdout: host_image=TAG, payload=PATH, source_image=TAG
# (the runbook image the payload holds). Progress goes to stderr.
set -Eeuo pipefail  # -E: the ERR trap below fires in functions too

here=$(cd "$(dirname "$0")/../../.." && pwd)
source "$here/versions.env"
source "$here/scripts/release.sh"
cache=${RUNBOOK_CACHE:-$HOME/.cache/influx-tls-runbook}
# One payload folder per release: each build removes only its own old payloads.
store=$cache/docker-host$release_suffix
kind=${DOCKER_HOST_PAYLOAD:-dataroot}
say() { printf '[build-docker-host] %s\n' "$*" >&2; }
source "$here/scripts/build-traps.sh"
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

case $kind in dataroot|images) ;; *)
  say "ERROR: DOCKER_HOST_PAYLOAD must be 'dataroot' or 'images', not '$kind'"; exit 2 ;;
esac

# Both images come from build-image.sh (it locks, and reuses what exists).
base_tag=$("$here/scripts/build-image.sh" base | tail -n 1)
runbook_tag=$("$here/scripts/build-image.sh" | tail -n 1)
"$here/scripts/build-binaries.sh" telegraf >/dev/null
telegraf=$cache/bin/telegraf-$TELEGRAF_VERSION
mapfile -t pebble_bins < <("$here/scripts/build-pebble.sh")

mkdir -p "$store"
exec 9>"$cache/build-docker-host.lock"
flock 9

# The host image depends on its base, its files and the versions of Telegraf,
# Pebble and certbot, not on the runbook image: a new runbook image only makes
# a new payload.
host_hash=$(cat "$here/harness/hosts/docker/Dockerfile" "$here/harness/hosts/docker/start-engine.sh" \
  <(echo "$base_tag $TELEGRAF_VERSION $PEBBLE_VERSION $CERTBOT_VERSION") | sha256sum | cut -c1-12)
host_tag="$IMAGE_NAME-docker-host:$host_hash"

if image_exists "$host_tag"; then
  say "host image $host_tag: cached"
else
  t=$(date +%s%N)
  ctx=$(mktemp -d)   # global: the EXIT trap needs it
  trap 'rm -rf "$ctx"' EXIT
  cp "$here/harness/hosts/docker/Dockerfile" "$here/harness/hosts/docker/start-engine.sh" "$ctx/"
  cp "$telegraf" "$ctx/telegraf"
  cp "${pebble_bins[0]}" "$ctx/pebble"
  cp "${pebble_bins[1]}" "$ctx/pebble-challtestsrv"
  say "host image: docker build $host_tag on $base_tag (apt-get install docker.io iptables certbot)"
  docker build -q --force-rm --build-arg "BASE=$base_tag" --build-arg "CERTBOT_VERSION=$CERTBOT_VERSION" \
    --label "runbook.docker-host=$host_hash" \
    -t "$host_tag" "$ctx" >/dev/null
  rm -rf "$ctx"; trap - EXIT
  say "host image: built in $(ms_since "$t") ms"
  docker images "$IMAGE_NAME-docker-host" --format '{{.Tag}}' | grep -vx "$host_hash" \
    | while read -r old; do docker rmi "$IMAGE_NAME-docker-host:$old" >/dev/null && say "removed old host image $old"; done \
    || true  # grep finds nothing when there is no old image
fi

# The runbook image as a `docker save` tarball, once per runbook image tag.
# Written under a temporary name and renamed: a reader never sees half a file.
runbook_hash=${runbook_tag##*:}
images_tar=$store/images-$runbook_hash.tar
if [[ -f $images_tar ]]; then
  say "payload $images_tar: cached"
else
  t=$(date +%s%N)
  trap 'rm -f "$images_tar.tmp.$$"' EXIT
  docker save -o "$images_tar.tmp.$$" "$runbook_tag"
  mv "$images_tar.tmp.$$" "$images_tar"
  trap - EXIT
  say "payload: docker save $runbook_tag in $(ms_since "$t") ms ($(du -m "$images_tar" | cut -f1) MB)"
fi
payload=$images_tar

if [[ $kind == dataroot ]]; then
  # The inner data root after `docker load`, per runbook image and host image
  # (the inner dockerd's version owns its on-disk format).
  dataroot=$store/dataroot-$runbook_hash-$host_hash.tar
  if [[ -f $dataroot ]]; then
    say "payload $dataroot: cached"
  else
    t=$(date +%s%N)
    name=runbook-docker-host-snapshot-$$
    trap 'docker rm -f "$name" >/dev/null 2>&1 || true; rm -f "$dataroot.tmp"' EXIT
    say "payload: loading $runbook_tag into a host's engine to snapshot its data root"
    docker run --rm --name "$name" --label runbook.docker-host=snapshot \
      --cap-add SYS_ADMIN --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
      --tmpfs /var/lib/docker:rw,exec,suid,dev,mode=755 \
      -v "$images_tar:/opt/docker-host/images.tar:ro" -v "$store:/out" \
      -e "DOCKER_HOST_SOURCE_IMAGE=$runbook_tag" -e "DOCKER_HOST_TELEGRAF_TAG=telegraf:${TELEGRAF_VERSION#v}" \
      "$host_tag" snapshot "/out/$(basename "$dataroot")" >&2
    trap - EXIT
    say "payload: data root snapshot in $(ms_since "$t") ms ($(du -m "$dataroot" | cut -f1) MB)"
  fi
  payload=$dataroot
fi

# Payloads of other runbook or host images free their space once no run has
# used them for 30 minutes: another checkout's run may still be mounting one.
touch "$images_tar" "$payload"
find "$store" -maxdepth 1 -type f \( -name 'images-*.tar' -o -name 'dataroot-*.tar' \) \
  ! -name "$(basename "$images_tar")" ! -name "$(basename "$payload")" -mmin +30 -print -delete \
  | while read -r old; do say "removed old payload $old"; done

echo "host_image=$host_tag"
echo "payload=$payload"
echo "source_image=$runbook_tag"
