#!/bin/bash
# Entry point of the Docker host: starts its own inner dockerd, puts the
# runbook image in it under the official names (influxdb:2.9.1, influxdb:2.9),
# prints one "docker-host: ready ..." line, then waits on dockerd.
# Any failure prints one "docker-host: ERROR: <what is missing>; fix: <how>"
# line (plus dockerd's log tail) and exits non-zero, so the starter never hangs.
#
# The inner image arrives in one of two forms, bind-mounted read-only:
#   /opt/docker-host/dataroot.tar  a ready inner data root (image/ and overlay2/
#                                  of an engine that loaded the image): unpacked
#                                  into /var/lib/docker before dockerd starts
#   /opt/docker-host/images.tar    `docker save` output: `docker load`ed
#
#   start-engine.sh                 run the host (the default)
#   start-engine.sh snapshot OUT    load images.tar, stop the engine and write
#                                   its data root to OUT (atomically), exit
set -euo pipefail

POLL_S=0.1                 # poll interval for the engine's socket
ENGINE_DEADLINE_S=${ENGINE_DEADLINE_S:-60}
DATA=/var/lib/docker
PAYLOAD=/opt/docker-host
SOURCE_IMAGE=${DOCKER_HOST_SOURCE_IMAGE:-}           # the runbook image's tag in images.tar
TAGS=${DOCKER_HOST_TAGS:-influxdb:2.9.1 influxdb:2.9}  # the names the pages print
# Telegraf's image under the name a reader pulls (telegraf:VERSION), empty: none.
TELEGRAF_TAG=${DOCKER_HOST_TELEGRAF_TAG:-}
mode=${1:-run}

t0=$(date +%s%N)
ms() { echo $(( ($(date +%s%N) - t0) / 1000000 )); }
say() { printf 'docker-host: %s\n' "$*"; }
fail() {
  say "ERROR: $*"
  if [[ -s /var/log/dockerd.log ]]; then tail -n 15 /var/log/dockerd.log | sed 's/^/dockerd: /'; fi
  exit 1
}

# --- what the inner engine needs from the outer one ---------------------------
cap_eff=$((16#$(awk '/^CapEff:/ {print $2}' /proc/self/status)))
has_cap() { (( (cap_eff >> $1) & 1 )); }
has_cap 21 || fail "capability SYS_ADMIN is missing (the inner engine mounts overlay filesystems); fix: start the host with --cap-add SYS_ADMIN"
if [[ $mode == run ]]; then
  has_cap 12 || fail "capability NET_ADMIN is missing (the inner engine makes its bridge and port rules); fix: start the host with --cap-add NET_ADMIN"
  # Docker's default seccomp profile refuses keyctl: every inner `docker run`
  # would fail with "unable to join session keyring" (seen).
  [[ $(awk '/^Seccomp:/ {print $2}' /proc/self/status) == 0 ]] || fail "a seccomp filter is active (Docker's default profile refuses the keyctl calls inner containers make); fix: start the host with --security-opt seccomp=unconfined"
fi

mount_opts=$(findmnt -n -o FSTYPE,OPTIONS --mountpoint "$DATA" || true)
[[ -n $mount_opts ]] || fail "$DATA is not a mount of its own (overlay2 cannot nest on the host's overlay root); fix: start the host with --tmpfs $DATA:rw,exec,suid,dev,mode=755"
[[ ,${mount_opts#* }, != *,noexec,* ]] || fail "$DATA is mounted noexec (Docker's --tmpfs default), inner containers could not exec; fix: --tmpfs $DATA:rw,exec,suid,dev,mode=755"

cgroup_args=()
if [[ $mode == run ]]; then
  if [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]]; then
    # cgroup v2 (the host runs with --cgroupns=private): this namespace's root
    # is the host's own cgroup. Make it writable, move our processes into a
    # leaf and delegate every controller, so inner containers nest under the
    # host's cgroup and go when it goes (what docker:dind does).
    if [[ ,$(findmnt -n -o OPTIONS --mountpoint /sys/fs/cgroup), == *,ro,* ]]; then
      mount -o remount,rw /sys/fs/cgroup 2>/dev/null \
        || fail "/sys/fs/cgroup (cgroup v2) is read-only and cannot be remounted; fix: start the host with --cgroupns=private and --cap-add SYS_ADMIN"
    fi
    mkdir -p /sys/fs/cgroup/init
    xargs -rn1 </sys/fs/cgroup/cgroup.procs >/sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true
    sed -e 's/ / +/g' -e 's/^/+/' </sys/fs/cgroup/cgroup.controllers >/sys/fs/cgroup/cgroup.subtree_control \
      || fail "cannot delegate cgroup v2 controllers in /sys/fs/cgroup; fix: start the host with --cgroupns=private"
  else
    # cgroup v1: the machine's hierarchy is bind-mounted rw (-v
    # /sys/fs/cgroup:/sys/fs/cgroup:rw). Inner containers go below this host's
    # own cgroup (not beside it), so removing the host removes them too.
    [[ -d /sys/fs/cgroup/memory ]] || fail "no cgroup v1 hierarchy under /sys/fs/cgroup; fix: start the host with -v /sys/fs/cgroup:/sys/fs/cgroup:rw"
    [[ ,$(findmnt -n -o OPTIONS --mountpoint /sys/fs/cgroup/memory), != *,ro,* ]] \
      || fail "/sys/fs/cgroup is read-only, the inner engine cannot make cgroups; fix: start the host with -v /sys/fs/cgroup:/sys/fs/cgroup:rw"
    own=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' /proc/self/cgroup)
    if [[ -n $own && $own != / ]]; then cgroup_args=(--cgroup-parent="$own/inner"); fi
  fi
fi

# --- the inner engine ---------------------------------------------------------
load_how=none
if [[ $mode == run && -f $PAYLOAD/dataroot.tar ]]; then
  tar -C "$DATA" --numeric-owner --xattrs --xattrs-include='*' -xf "$PAYLOAD/dataroot.tar" \
    || fail "could not unpack $PAYLOAD/dataroot.tar into $DATA; fix: delete it from ~/.cache/influx-tls-runbook/docker-host and rerun scripts/build-docker-host.sh"
  load_how="data root unpacked in $(ms) ms"
fi

engine_args=(--storage-driver=overlay2 --host=unix:///var/run/docker.sock "${cgroup_args[@]}")
# A snapshot runs no container: no bridge, no firewall rules, no cgroups.
if [[ $mode == snapshot ]]; then engine_args+=(--bridge=none --iptables=false); fi
# Docker 26 (Debian 13's docker.io) refuses to start a container whose
# interface cannot have IPv6 switched off, as in this host's network
# namespace without IPv6 ("failed to disable IPv6 on container's interface
# eth0"); its own message names this switch. Docker 20.10 ignores it.
DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1 dockerd "${engine_args[@]}" >/var/log/dockerd.log 2>&1 &
engine=$!
trap 'kill -TERM $engine 2>/dev/null; wait $engine' TERM INT

deadline=$(( $(date +%s) + ENGINE_DEADLINE_S ))
until docker version --format '{{.Server.Version}}' >/dev/null 2>&1; do
  kill -0 "$engine" 2>/dev/null || fail "the inner dockerd exited while starting (its log below)"
  (( $(date +%s) < deadline )) || fail "the inner dockerd did not answer on /var/run/docker.sock within ${ENGINE_DEADLINE_S}s (its log below)"
  sleep "$POLL_S"
done
engine_ms=$(ms)

if [[ $load_how == none && -f $PAYLOAD/images.tar ]]; then
  t_load=$(date +%s%N)
  docker load -q -i "$PAYLOAD/images.tar" >/dev/null \
    || fail "docker load of $PAYLOAD/images.tar failed; fix: delete it from ~/.cache/influx-tls-runbook/docker-host and rerun scripts/build-docker-host.sh"
  if [[ -n $SOURCE_IMAGE ]]; then
    for tag in $TAGS; do docker tag "$SOURCE_IMAGE" "$tag"; done
    docker rmi "$SOURCE_IMAGE" >/dev/null  # only the local build's name goes; the image stays
  fi
  load_how="docker load in $(( ($(date +%s%N) - t_load) / 1000000 )) ms"
fi
for tag in $TAGS; do
  docker image inspect "$tag" >/dev/null 2>&1 \
    || fail "image $tag is not in the inner engine ($load_how); fix: rerun scripts/build-docker-host.sh"
done
# The runbook image holds the same telegraf binary as Telegraf's official
# image; this stand-in gives it that image's contract: its command is
# `telegraf`, which reads /etc/telegraf/telegraf.conf. Metadata only (no
# layer, no network): built in the snapshot, so a data-root host has it.
if [[ -n $TELEGRAF_TAG ]] && ! docker image inspect "$TELEGRAF_TAG" >/dev/null 2>&1; then
  printf 'FROM %s\nENTRYPOINT []\nCMD ["telegraf"]\n' "${TAGS%% *}" \
    | docker build -q -t "$TELEGRAF_TAG" - >/dev/null \
    || fail "could not tag Telegraf's image $TELEGRAF_TAG from ${TAGS%% *}; fix: rerun scripts/build-docker-host.sh"
fi

if [[ $mode == snapshot ]]; then
  out=${2:?snapshot needs an output path}
  kill -TERM "$engine"; wait "$engine" || true
  tar -C "$DATA" --numeric-owner --xattrs --xattrs-include='*' -cf "$out.tmp" image overlay2
  mv "$out.tmp" "$out"
  say "snapshot of the inner data root written to $out in $(ms) ms ($load_how)"
  exit 0
fi

say "ready in $(ms) ms: engine $(docker version --format '{{.Server.Version}}') answered at ${engine_ms} ms, images: $load_how; cgroup $( [[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]] && echo v2 || echo v1) ${cgroup_args[*]}"
wait "$engine"
