#!/usr/bin/env bash
# Build (or reuse) the package host image: Debian bookworm booting systemd as
# PID 1, with the influxdb2 and influxdb2-cli .debs installed the way a reader
# installs them. Steps:
#
#   1. harness/hosts/package/Dockerfile on the project's debootstrap base
#      (scripts/build-image.sh base): systemd, systemd-sysv, dbus, telegraf,
#      the `runbook` wrapper;
#   2. boot it (systemd as PID 1; cgroup options from the engine's cgroup
#      version), copy the .debs from harness/hosts/package/build-deb.sh in (under /root:
#      systemd mounts a tmpfs on /tmp), `apt-get install -y ./influxdb2_...deb
#      ./influxdb2-cli_...deb`, `systemctl start influxdb` (the postinst
#      enables the unit but does not start it), wait for /ping = 204 over HTTP,
#      stop the unit;
#   3. `docker commit` that container as the final tag: the unit is enabled,
#      so influxd starts at boot, on plain HTTP.
#
# The tag is a hash of every input. Prints it on stdout; progress on stderr.
# A host that cannot boot systemd fails within a deadline with one line
# saying what is missing and the fix. The build container is always removed.
#
# `harness/hosts/package/build.sh run-options` prints the `docker run` options
# that boot one host here (what harness/hosts/package/host.py's run_kwargs() gives);
# `harness/hosts/package/build.sh stage` prints the systemd host image without
# InfluxDB installed.
set -Eeuo pipefail  # -E: the ERR trap below fires in functions too

here=$(cd "$(dirname "$0")/../../.." && pwd)
# shellcheck source=../../../versions.env
source "$here/versions.env"
source "$here/scripts/release.sh"
cache=${RUNBOOK_CACHE:-$HOME/.cache/influx-tls-runbook}
say() { printf '[build-package-host] %s\n' "$*" >&2; }
source "$here/scripts/build-traps.sh"
die() { printf '[build-package-host] ERROR: %s\n' "$*" >&2; exit 3; }
name=$IMAGE_NAME-package-host
boot_deadline=60     # seconds for systemd to reach `running`
ping_deadline=60     # seconds for influxd's /ping after `systemctl start`
poll_interval=0.2
# Seconds since a start time taken from $EPOCHREALTIME, to a tenth.
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# The options that let systemd run as PID 1 without --privileged (which this
# machine's engine refuses). What matters is the engine's cgroup version.
#   v1: systemd needs the hierarchy mounted (read-only is enough: Docker
#       already gives the container its own writable cgroups under it).
#   v2: a writable unified hierarchy and the host's cgroup namespace, the
#       usual recipe for systemd images (not tried here: this machine is v1).
# -t: systemd then writes its boot messages to the console (`docker logs`),
#     which is where the reason lands when it cannot boot.
run_options() {
  # PACKAGE_HOST_RUN_OPTIONS replaces them (to try other options, or to see
  # the failure when they are missing).
  if [[ -n ${PACKAGE_HOST_RUN_OPTIONS:-} ]]; then echo "$PACKAGE_HOST_RUN_OPTIONS"; return; fi
  local v
  v=$(docker info --format '{{.CgroupVersion}}' 2>/dev/null || true)
  if [[ -z $v ]]; then
    case $(stat -fc %T /sys/fs/cgroup 2>/dev/null || echo missing) in
      cgroup2fs) v=2 ;; tmpfs) v=1 ;; *) v=none ;;
    esac
  fi
  case $v in
    1) echo "-t --tmpfs /run --tmpfs /run/lock -v /sys/fs/cgroup:/sys/fs/cgroup:ro" ;;
    2) echo "-t --tmpfs /run --tmpfs /run/lock --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw" ;;
    *) die "the Docker engine reports no cgroup version ('$v'): systemd needs cgroups; fix: start the engine with scripts/docker-engine.sh on a host with /sys/fs/cgroup mounted" ;;
  esac
}

if [[ ${1:-} == run-options ]]; then run_options; exit 0; fi

mkdir -p "$cache"
exec 7>"$cache/build-package-host.lock"
flock 7

base_tag=$("$here/scripts/build-image.sh" base)
mapfile -t debs < <("$here/harness/hosts/package/build-deb.sh")
[[ ${#debs[@]} -eq 2 && -f ${debs[0]} && -f ${debs[1]} ]] || die "harness/hosts/package/build-deb.sh gave no .debs"
"$here/scripts/build-binaries.sh" telegraf
telegraf=$cache/bin/telegraf-$TELEGRAF_VERSION
# Pebble and pebble-challtestsrv for the ACME page (stand-in for a public CA).
mapfile -t pebble_bins < <("$here/scripts/build-pebble.sh")

# The systemd stage depends on the base, the Dockerfile and telegraf; the
# final image also on the .debs (their cache folder is a hash of their inputs)
# and on this script.
stage_hash=$(cat <(echo "$base_tag $TELEGRAF_VERSION $PEBBLE_VERSION $CERTBOT_VERSION") "$here/harness/hosts/package/Dockerfile" "$here/harness/hosts/package/telegraf.service" | sha256sum | cut -c1-12)
stage_tag=$name:systemd-$stage_hash
final_hash=$(cat <(echo "$stage_tag ${debs[*]}") "$here/harness/hosts/package/build.sh" | sha256sum | cut -c1-12)
final_tag=$name:$final_hash
started=$EPOCHREALTIME

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
if [[ ${1:-} != stage ]] && image_exists "$final_tag"; then
  say "image $final_tag: cached"
  echo "$final_tag"
  exit 0
fi

if image_exists "$stage_tag"; then
  say "systemd stage $stage_tag: cached"
else
  say "systemd stage: docker build $stage_tag (apt-get: systemd, systemd-sysv, dbus, certbot)"
  ctx=$(mktemp -d)
  trap 'rm -rf "$ctx"' EXIT
  cp "$telegraf" "$ctx/telegraf"
  cp "$here/harness/hosts/package/telegraf.service" "$ctx/"
  cp "${pebble_bins[0]}" "$ctx/pebble"
  cp "${pebble_bins[1]}" "$ctx/pebble-challtestsrv"
  docker build -q --force-rm -f "$here/harness/hosts/package/Dockerfile" --build-arg "BASE=$base_tag" \
    --build-arg "CERTBOT_VERSION=$CERTBOT_VERSION" \
    -t "$stage_tag" "$ctx" >/dev/null 2>"$ctx/build.log" \
    || { cat "$ctx/build.log" >&2; die "docker build of the systemd stage failed (messages above)"; }
  rm -rf "$ctx"
  trap - EXIT
  say "systemd stage: built in $(since "$started")s"
fi

# `build-package-host.sh stage`: the systemd host without InfluxDB (what
# upstream's package validation expects), for harness/hosts/package/validate.sh.
if [[ ${1:-} == stage ]]; then echo "$stage_tag"; exit 0; fi

# Boot the stage with systemd as PID 1. Removed on any exit, Ctrl-C included.
# No label: `docker commit` would copy it into the image.
cname=$name-build-$$
cleanup() { docker rm -f -v "$cname" >/dev/null 2>&1 || true; }
trap cleanup EXIT
opts_line=$(run_options)
read -ra opts <<<"$opts_line"
if ! err=$(docker run -d --name "$cname" "${opts[@]}" "$stage_tag" 2>&1 >/dev/null); then
  err=$(grep -m1 -i error <<<"$err" || tail -1 <<<"$err")
  die "docker refused to start the systemd host ($err) with options '${opts[*]}'; fix: drop --privileged (refused here) and use what \`harness/hosts/package/build.sh run-options\` prints"
fi

# The reason systemd gives when it cannot boot: its last red console line.
boot_reason() {
  local log
  log=$(docker logs "$cname" 2>&1 | tr -d '\r' | sed 's/\x1b\[[0-9;]*m//g' | grep -v 'File exists' || true)
  { grep -E 'Failed to (create|mount) .*(cgroup|control group)' <<<"$log" \
    || grep -E 'Failed|Freezing' <<<"$log" || grep -E 'Exiting|error' <<<"$log" \
    || echo "no message on its console"; } | tail -1
}

t=$EPOCHREALTIME
state=
while :; do
  if [[ $(docker inspect -f '{{.State.Running}}' "$cname" 2>/dev/null) != true ]]; then
    die "systemd exited while booting the package host ($(boot_reason)); it was started with '$opts_line'; it needs /sys/fs/cgroup mounted and tmpfs on /run and /run/lock; fix: use what \`harness/hosts/package/build.sh run-options\` prints, on an engine whose host has /sys/fs/cgroup (v1 or v2)"
  fi
  state=$(docker exec "$cname" systemctl is-system-running 2>/dev/null || true)
  case $state in
    running) break ;;
    degraded)
      die "systemd booted degraded; failed units: $(docker exec "$cname" systemctl --failed --no-legend --plain | awk '{print $1}' | tr '\n' ' ')(mask them in harness/hosts/package/Dockerfile)" ;;
  esac
  (( ${EPOCHREALTIME%.*} - ${t%.*} < boot_deadline )) || die "waited ${boot_deadline}s for systemd to reach 'running' in the package host, last state '${state:-no answer}' ($(boot_reason)); fix: check the engine's cgroup mount (/sys/fs/cgroup)"
  sleep "$poll_interval"
done
say "systemd: running after $(since "$t")s"

# Install as a reader does: apt-get on the .deb files (apt resolves Depends).
docker exec "$cname" mkdir -p /root/debs
for d in "${debs[@]}"; do docker cp -q "$d" "$cname:/root/debs/"; done
t=$EPOCHREALTIME
say "apt-get install -y ./$(basename "${debs[0]}") ./$(basename "${debs[1]}")"
if ! docker exec -w /root/debs -e DEBIAN_FRONTEND=noninteractive "$cname" timeout 300 \
    apt-get install -y "./$(basename "${debs[0]}")" "./$(basename "${debs[1]}")" \
    > "$cache/package-host-apt.log" 2>&1; then
  tail -20 "$cache/package-host-apt.log" >&2
  die "apt-get install of the .debs failed (log above, full: $cache/package-host-apt.log)"
fi
docker exec "$cname" rm -rf /root/debs
say "installed in $(since "$t")s: $(docker exec "$cname" id influxdb), unit $(docker exec "$cname" systemctl is-enabled influxdb)"

# The postinst enables the unit but does not start it: start it as a reader
# does, and prove it serves. The unit has TimeoutStartSec=0 (its start script
# polls /ready forever), so systemctl gets a deadline of our own.
t=$EPOCHREALTIME
docker exec "$cname" timeout "$ping_deadline" systemctl start influxdb \
  || die "systemctl start influxdb did not return within ${ping_deadline}s: $(docker exec "$cname" journalctl -u influxdb -n 3 --no-pager | tail -1)"
while [[ $(docker exec "$cname" curl -s -o /dev/null -w '%{http_code}' http://localhost:8086/ping || true) != 204 ]]; do
  (( ${EPOCHREALTIME%.*} - ${t%.*} < ping_deadline )) || die "influxd's /ping never answered 204 within ${ping_deadline}s: $(docker exec "$cname" journalctl -u influxdb -n 3 --no-pager | tail -1)"
  sleep "$poll_interval"
done
say "influxdb.service: /ping 204 after $(since "$t")s; stopping it"
docker exec "$cname" systemctl stop influxdb
[[ $(docker exec "$cname" systemctl is-active influxdb || true) == inactive ]] \
  || die "influxdb.service did not stop cleanly"
[[ $(docker exec "$cname" systemctl is-enabled influxdb) == enabled ]] \
  || die "influxdb.service is not enabled after install"

# Leave the image as "installed, never started": no data files from the trial
# start, no journal from this boot, and an empty machine-id so every host
# boots with its own.
docker exec "$cname" sh -c 'find /var/lib/influxdb -mindepth 1 -delete \
  && rm -rf /var/log/journal/* && : > /etc/machine-id && apt-get clean'
say "commit $final_tag"
docker commit \
  --change 'ENTRYPOINT ["/lib/systemd/systemd"]' --change 'CMD []' \
  -m "influxdb2 and influxdb2-cli installed by apt-get from ${debs[*]##*/}" \
  "$cname" "$final_tag" >/dev/null
cleanup
trap - EXIT
# Package host images of older inputs are not used again: free their space.
docker images "$name" --format '{{.Tag}}' | grep -Ev "^($final_hash|systemd-$stage_hash)\$" \
  | while read -r old; do docker rmi "$name:$old" >/dev/null && say "removed old image $name:$old"; done \
  || true  # grep finds nothing when there is no old image
say "image $final_tag: built in $(since "$started")s"
echo "$final_tag"
