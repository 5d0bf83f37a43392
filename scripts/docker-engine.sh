#!/usr/bin/env bash
# Make sure a Docker engine answers. If none does, install Debian's docker.io
# (when missing) and start dockerd in the background, then poll `docker info`
# until it answers or the deadline passes.
set -euo pipefail

deadline_s=${DOCKER_START_TIMEOUT:-90}
log_file=${DOCKERD_LOG:-/var/log/runbook-dockerd.log}

say() { printf '[docker-engine] %s\n' "$*" >&2; }

if docker info >/dev/null 2>&1; then
  say "engine already answers"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  say "installing Debian's docker.io"
  "$(dirname "$0")/apt-install.sh" docker.io
fi

if [[ $(id -u) -ne 0 ]]; then
  say "ERROR: no Docker engine answers and starting dockerd needs root: run 'sudo $0' or start Docker yourself"
  exit 2
fi

say "starting dockerd (log: $log_file)"
# setsid detaches dockerd from this shell so it outlives make; its output
# goes to a file so no pipe stays open.
setsid dockerd >"$log_file" 2>&1 </dev/null &

start=$SECONDS
until docker info >/dev/null 2>&1; do
  if (( SECONDS - start >= deadline_s )); then
    say "ERROR: timed out after ${deadline_s}s waiting for 'docker info' to answer; last dockerd log lines:"
    tail -n 20 "$log_file" >&2 || true
    exit 1
  fi
  if ! pgrep -x dockerd >/dev/null; then
    say "ERROR: dockerd exited while starting; last log lines:"
    tail -n 20 "$log_file" >&2 || true
    exit 1
  fi
  read -r -t 0.2 <> <(:) || true   # poll interval without a sleep binary
done
say "engine answers after $((SECONDS - start))s (storage driver: $(docker info --format '{{.Driver}}'))"
