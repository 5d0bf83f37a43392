#!/usr/bin/env bash
# Make sure a Docker engine answers. If none does, install Debian's docker.io
# (when missing) and start dockerd in the background, then poll `docker info`
# until it answers or the deadline passes.
set -euo pipefail

deadline_s=${DOCKER_START_TIMEOUT:-90}
poll_interval=0.2
log_file=${DOCKERD_LOG:-/var/log/runbook-dockerd.log}

say() { printf '[docker-engine] %s\n' "$*" >&2; }

if docker info >/dev/null 2>&1; then
  say "engine already answers"
  exit 0
fi

# One starter at a time (parallel test workers); the second finds it running.
exec 9>"${TMPDIR:-/tmp}/runbook-docker-engine.lock"
flock 9
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

# A dockerd that was killed (the end of a session, a reboot) leaves its pid
# files behind; the new dockerd refuses to start while they name a process.
clear_stale_pidfile() {
  local file=$1 name=$2 pid
  [[ -f $file ]] || return 0
  pid=$(cat "$file" 2>/dev/null || true)
  if [[ -n $pid && -r /proc/$pid/status ]] && grep -q "^Name:[[:space:]]*$name\$" "/proc/$pid/status" \
     && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status"; then
    say "ERROR: $name (pid $pid) runs but the engine does not answer; stop it or read $log_file"
    exit 1
  fi
  say "removing stale $file"
  rm -f "$file"
}
clear_stale_pidfile /var/run/docker.pid dockerd
clear_stale_pidfile /var/run/docker/containerd/containerd.pid containerd

say "starting dockerd (log: $log_file)"
# setsid detaches dockerd from this shell so it outlives make; its output
# goes to a file so no pipe stays open.
setsid dockerd >"$log_file" 2>&1 </dev/null 9>&- &   # 9>&-: dockerd must not hold the lock
dockerd_pid=$!

start=$SECONDS
until docker info >/dev/null 2>&1; do
  if (( SECONDS - start >= deadline_s )); then
    say "ERROR: timed out after ${deadline_s}s waiting for 'docker info' to answer; last dockerd log lines:"
    tail -n 20 "$log_file" >&2 || true
    exit 1
  fi
  if ! kill -0 "$dockerd_pid" 2>/dev/null || grep -q '^State:[[:space:]]*Z' "/proc/$dockerd_pid/status" 2>/dev/null; then
    say "ERROR: dockerd exited while starting; last log lines:"
    tail -n 20 "$log_file" >&2 || true
    exit 1
  fi
  sleep "$poll_interval"   # between polls; the loop ends on the condition or the deadline
done
say "engine answers after $((SECONDS - start))s (storage driver: $(docker info --format '{{.Driver}}'))"
