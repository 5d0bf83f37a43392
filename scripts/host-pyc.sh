#!/usr/bin/env bash
# Compiles the checkout's runbook package with each page host's own Python
# (3.11 on Debian 12, 3.13 on Debian 13), into runbook/__pycache__ beside
# the sources. The hosts mount the checkout read-only and run `python3 -m
# runbook` from it hundreds of times in a `make test`: without these files
# each run compiled the package again (about 40 ms of CPU per run).
# git ignores __pycache__; Python checks each file against its source's
# size and time, so an edited source is compiled again, as always.
# Only a speed-up: where it cannot be done, it says why and the run goes on.
#
#   scripts/host-pyc.sh     after the images (make images): uses their base
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck disable=SC1091
source "$here/versions.env"
first=${DEBIAN_RELEASES%% *}
for release in $DEBIAN_RELEASES; do
  # The release's base root (scripts/build-image.sh names it so), as make images
  # left it: only its Python matters here, and this never builds one.
  repo=$IMAGE_NAME$([[ $release == "$first" ]] || echo "-$release")-base
  base=$(docker images --format '{{.Repository}}:{{.Tag}}' --filter "reference=$repo:$release-*" | head -1) || base=
  if [[ -z $base ]] \
     || ! docker run --rm --network none --user "$(id -u):$(id -g)" --entrypoint python3 \
            -v "$here/runbook:/opt/runbook/runbook" "$base" -m compileall -q /opt/runbook/runbook; then
    why=${base:-"no image $repo:$release-*; make images builds it"}
    echo "[host-pyc] WARNING: no $release bytecode for runbook/ ($why); the hosts" \
      "compile it at each run instead: slower, same results" >&2
  fi
done
