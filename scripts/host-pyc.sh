#!/usr/bin/env bash
# Compiles the checkout's runbook package with each page host's own Python
# (3.11 on Debian 12, 3.13 on Debian 13), into runbook/__pycache__ beside
# the sources. The hosts mount the checkout read-only and run `python3 -m
# runbook` from it hundreds of times in a `make test`: without these files
# each run compiled the package again (about 40 ms of CPU per run).
# git ignores __pycache__; Python checks each file against its source's
# size and time, so an edited source is compiled again, as always.
#
#   scripts/host-pyc.sh     after the images (make images): uses their base
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck disable=SC1091
source "$here/versions.env"
for release in $DEBIAN_RELEASES; do
  base=$(RUNBOOK_RELEASE=$release "$here/scripts/build-image.sh" base 2>/dev/null | tail -1)
  docker run --rm --network none --user "$(id -u):$(id -g)" --entrypoint python3 \
    -v "$here/runbook:/opt/runbook/runbook" "$base" \
    -m compileall -q /opt/runbook/runbook >/dev/null
done
