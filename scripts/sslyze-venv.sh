#!/usr/bin/env bash
# sslyze in a virtual environment of its own (build/sslyze-venv), at the
# version versions.env pins. sslyze is AGPL-3.0: the tests run it as a
# separate program, as an oracle for `runbook grade`; runbook never imports
# it and pyproject.toml never lists it. Prints the path of its `sslyze`.
# Reuses the venv when it already holds that version.
#
# Safe to run several at once (pytest-xdist workers do): one builds under a
# lock and writes the stamp last, so no caller ever uses a half-built
# venv; the others wait for the lock and reuse it.
#
#   scripts/sslyze-venv.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/versions.env"
venv=$here/build/sslyze-venv
stamp=$venv/.installed-$SSLYZE_VERSION
mkdir -p "$here/build"
exec 9>"$here/build/.sslyze-venv.lock"
flock 9
if [[ ! -f $stamp ]]; then
  rm -rf "$venv"  # an older version, or a build cut short
  uv=$("$here/scripts/uv.sh")
  # uv's messages on stderr: stdout is the path the caller reads.
  if ! { "$uv" venv --quiet --python-preference only-system --python "${PY:-python3}" "$venv" \
         && "$uv" pip install --quiet --python "$venv/bin/python" "sslyze==$SSLYZE_VERSION"; } >&2; then
    rm -rf "$venv"
    echo "sslyze-venv.sh: uv could not install sslyze==$SSLYZE_VERSION (above);" \
      "check that PyPI answers, then run scripts/sslyze-venv.sh again" >&2
    exit 1
  fi
  touch "$stamp"
fi
echo "$venv/bin/sslyze"
