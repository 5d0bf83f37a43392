#!/usr/bin/env bash
# sslyze in a virtual environment of its own (build/sslyze-venv), at the
# version versions.env pins. sslyze is AGPL-3.0: the tests run it as a
# separate program, as an oracle for `runbook grade`; runbook never imports
# it and pyproject.toml never lists it. Prints the path of its `sslyze`.
# Reuses the venv when it already holds that version.
#
#   scripts/sslyze-venv.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/versions.env"
venv=$here/build/sslyze-venv
stamp=$venv/.installed-$SSLYZE_VERSION
if [[ ! -f $stamp ]]; then
  rm -rf "$venv"
  "${PY:-python3}" -m venv "$venv"
  # pip's messages on stderr: stdout is the path the caller reads.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "sslyze==$SSLYZE_VERSION" >&2
  touch "$stamp"
fi
echo "$venv/bin/sslyze"
