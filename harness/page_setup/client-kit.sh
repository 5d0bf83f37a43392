#!/usr/bin/env bash
# Hidden set-up for the clients page: the internet a reader's server has, for
# the installs the page shows. The page hosts have none; the client kit
# (scripts/build-client-kit.sh, mounted at /opt/runbook/build/client-kit)
# holds what those installs fetch, and this points the host's tools at it.
# Nothing here installs what the page's own blocks install:
#   - apt: a local repository of the kit's python3-venv .debs for this host's
#     release, preferred to the (unreachable) mirror; the page's
#     `apt-get install python3-venv` installs from it;
#   - pip: /etc/pip.conf, no index, the kit's wheels instead (what the page's
#     `pip install influxdb-client` in a virtual environment finds);
#   - Node with npm, the page's prerequisite, installed as Node's own
#     download lays it out (/usr/local/bin/node, /usr/local/lib/node_modules/npm),
#     with npm offline on a copy of the kit's cache (npm's builtin npmrc, the
#     one file a reader's npm config never overrides unknowingly).
# Safe to run twice.
set -euo pipefail
kit=/opt/runbook/build/client-kit
test -f "$kit/stamp" || { echo "no client kit: run scripts/build-client-kit.sh" >&2; exit 2; }
[[ $(cat "$kit/stamp") == "$(bash /opt/runbook/scripts/build-client-kit.sh --stamp)" ]] ||
  { echo "the client kit is older than versions.env: run make client-kit" >&2; exit 2; }
release=$(. /etc/os-release && echo "$VERSION_CODENAME")
test -f "$kit/debs/$release/Packages" ||
  { echo "no python3-venv .debs for $release in the kit: run scripts/build-client-kit.sh" >&2; exit 2; }

# apt: only the kit's source is updated (the mirror's lists, if any, stay).
list=/etc/apt/sources.list.d/client-kit.list
echo "deb [trusted=yes] file:$kit/debs/$release ./" > "$list"
printf '%s\n' 'Package: *' 'Pin: origin ""' 'Pin-Priority: 900' > /etc/apt/preferences.d/client-kit
apt-get update -qq -o "Dir::Etc::SourceList=$list" -o Dir::Etc::SourceParts=- \
  -o APT::Get::List-Cleanup=0 2>&1 | { grep -v 'unsandboxed' || true; } >&2

# pip: every pip on the host, virtual environments included, reads /etc/pip.conf.
printf '%s\n' '[global]' 'no-index = true' "find-links = $kit/wheels" \
  'disable-pip-version-check = true' > /etc/pip.conf

# Node and npm, as Node's Linux download lays them out; that build needs
# libatomic1, which minimal Debian installs lack.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libatomic1 >/dev/null
install -m 755 "$kit/node/package/bin/node" /usr/local/bin/node
mkdir -p /usr/local/lib/node_modules
rm -rf /usr/local/lib/node_modules/npm
cp -r "$kit/npm/package" /usr/local/lib/node_modules/npm
ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
rm -rf /var/cache/client-kit-npm
cp -r "$kit/npm-cache" /var/cache/client-kit-npm
printf '%s\n' 'offline=true' 'cache=/var/cache/client-kit-npm' 'audit=false' 'fund=false' \
  'update-notifier=false' > /usr/local/lib/node_modules/npm/npmrc
