#!/usr/bin/env bash
# Prints the path of uv at UV_VERSION (versions.env), the installer of the
# project's venvs. It lives in a small venv of its own under the build cache,
# installed once with pip from PyPI; later calls reuse it.
#
# Safe to run several at once (make -j): one installs under a lock and writes
# the stamp last; the others wait for the lock and reuse it.
#
#   scripts/uv.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck disable=SC1091
source "$here/versions.env"
home=${RUNBOOK_CACHE:-$HOME/.cache/influx-tls-runbook}/uv-$UV_VERSION
stamp=$home/.installed
mkdir -p "$(dirname "$home")"
exec 9>"$home.lock"
flock 9
if [[ ! -f $stamp ]]; then
  rm -rf "$home"  # a build cut short
  trap 'rm -rf "$home"' EXIT  # Ctrl-C or a failure leaves no half-made uv
  echo "[uv] installing uv $UV_VERSION in $home (once)" >&2
  "${PY:-python3}" -m venv "$home"
  if ! "$home/bin/python" -m pip install --quiet --disable-pip-version-check \
      "uv==$UV_VERSION" >&2; then
    echo "uv.sh: pip could not install uv==$UV_VERSION (above);" \
      "check that PyPI answers, then run make again" >&2
    exit 1
  fi
  touch "$stamp"
  trap - EXIT
fi
echo "$home/bin/uv"
