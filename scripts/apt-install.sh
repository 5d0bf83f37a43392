#!/usr/bin/env bash
# Install Debian packages that are missing; run `apt-get update` once first.
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "[apt-install] ERROR: packages missing (${missing[*]}) and installing them needs root: sudo apt-get install ${missing[*]}" >&2
  exit 2
fi
echo "[apt-install] installing: ${missing[*]}" >&2
stamp=/var/lib/apt/periodic/runbook-update-stamp
if [[ ! -f $stamp ]] || [[ -n $(find "$stamp" -mmin +720 2>/dev/null) ]]; then
  apt-get update -q >/dev/null
  mkdir -p "$(dirname "$stamp")"; touch "$stamp"
fi
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
