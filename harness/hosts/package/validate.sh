#!/usr/bin/env bash
# Run upstream's own package checks against our influxdb2 .deb.
#
# influxdb v2.9.1's CI runs `sudo .circleci/scripts/package-validation/debian
# <deb>` on a fresh Ubuntu VM; `debian` calls `validate deb <deb>`, which
# apt-get installs the package (and binutils), then checks in order: influxd
# is on PATH; readelf can read it; it needs no shared library (static); it is
# PIE; influxdb.service starts and stays active (then sleeps 30 s). Here the
# VM is a package host without InfluxDB (harness/hosts/package/build.sh stage),
# booted with systemd as PID 1. The checks are upstream's, unchanged; only
# where they run differs.
#
# `validate` stops at the first failed check (exit 2), so the checks after it
# would go unreported. If the run fails, a second run, in a fresh host, uses a
# copy in which each check's `exit 2` is replaced by `:` (continue), so every
# check's result is known. Both runs' output and a per-check summary go to
# reports/package-validation.txt. Takes about a minute (upstream's own 30-second pause).
#
# Exit status: 0 when upstream's script passes unchanged, 1 otherwise (the
# report says which checks failed and why).
set -euo pipefail

here=$(cd "$(dirname "$0")/../../.." && pwd)
# shellcheck source=../../../versions.env
source "$here/versions.env"
say() { printf '[validate-package] %s\n' "$*" >&2; }
die() { printf '[validate-package] ERROR: %s\n' "$*" >&2; exit 3; }
report=$here/reports/package-validation.txt
poll_interval=0.2
boot_deadline=60

"$here/scripts/docker-engine.sh"
stage=$("$here/harness/hosts/package/build.sh" stage)
mapfile -t debs < <("$here/harness/hosts/package/build-deb.sh")
deb=${debs[0]}
opts_line=$("$here/harness/hosts/package/build.sh" run-options)
read -ra opts <<<"$opts_line"
mod=$(GOFLAGS=-mod=mod go mod download -json "github.com/influxdata/influxdb/v2@$INFLUXD_VERSION" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')
checks=$mod/.circleci/scripts/package-validation

cname=
cleanup() { [[ -z $cname ]] || docker rm -f -v "$cname" >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One run in a fresh host: prints the script's output, returns its status.
run_in_fresh_host() {
  local variant=$1
  cleanup
  cname=influx-tls-runbook-validate-$$
  docker run -d --name "$cname" "${opts[@]}" "$stage" >/dev/null
  local start=${EPOCHREALTIME%.*} state=
  until [[ $state == running ]]; do
    state=$(docker exec "$cname" systemctl is-system-running 2>/dev/null || true)
    [[ $state != degraded ]] || die "the validation host booted degraded"
    (( ${EPOCHREALTIME%.*} - start < boot_deadline )) \
      || die "waited ${boot_deadline}s for systemd in the validation host (state '${state:-none}'); fix: see harness/hosts/package/build.sh"
    sleep "$poll_interval"
  done
  # Not under /tmp: systemd mounts a tmpfs there.
  docker exec "$cname" mkdir -p /root/validation
  docker cp -q "$checks/." "$cname:/root/validation/"
  docker cp -q "$deb" "$cname:/root/validation/"
  # The Go module cache stores files read-only and without execute bits;
  # in upstream's Git checkout these scripts are executable.
  docker exec "$cname" chmod 0755 /root/validation/debian /root/validation/validate
  if [[ $variant == continue ]]; then
    docker exec "$cname" sed -i 's/^\(\s*\)exit 2$/\1: # was: exit 2/' /root/validation/validate
  fi
  local rc=0
  docker exec -w /root/validation "$cname" timeout 600 bash ./debian "./$(basename "$deb")" 2>&1 || rc=$?
  # Evidence for the summary, read while the host still runs.
  {
    echo "--- readelf -d /usr/bin/influxd (NEEDED, FLAGS)"
    docker exec "$cname" sh -c 'readelf -d /usr/bin/influxd | grep -E "NEEDED|FLAGS" || true'
    echo "--- file type: $(docker exec "$cname" sh -c 'readelf -h /usr/bin/influxd | grep Type:' | xargs)"
    echo "--- systemctl is-active influxdb: $(docker exec "$cname" systemctl is-active influxdb || true)"
  } >&2
  return $rc
}

mkdir -p "$here/reports"
t=$EPOCHREALTIME
say "upstream's validation, unchanged, of $(basename "$deb") in a fresh package host (about a minute)"
# Not in $(...): the container name must reach this shell's EXIT trap.
tmp=$(mktemp -d)
trap 'cleanup; rm -rf "$tmp"' EXIT
rc=0
run_in_fresh_host as-is >"$tmp/out1" 2>"$tmp/evidence" || rc=$?
out1=$(cat "$tmp/out1") evidence=$(cat "$tmp/evidence") out2=
if (( rc != 0 )); then
  say "it failed (exit $rc); running again with every check's exit 2 replaced by ':' to see every check"
  run_in_fresh_host continue >"$tmp/out2" 2>"$tmp/evidence" || true
  evidence=$(cat "$tmp/evidence")
  out2=$(cat "$tmp/out2")
fi
cleanup; cname=
all=${out2:-$out1}

result() {  # check name, ERROR text that marks its failure
  if grep -qF "$2" <<<"$all"; then echo "FAIL  $1"; else echo "PASS  $1"; fi
}
installed=PASS
grep -q "Setting up influxdb2 " <<<"$all" || installed=FAIL
{
  echo "Upstream package validation (influxdb $INFLUXD_VERSION .circleci/scripts/package-validation/debian)"
  echo "package: $(basename "$deb")"
  echo "host:    $stage booted with systemd as PID 1 ($opts_line)"
  echo "date:    $(date -u +%FT%TZ), took $(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }') s"
  echo "upstream script unchanged: exit $rc$( ((rc == 0)) && echo ' (passed)' || echo ' (stops at the first failed check)')"
  echo
  echo "Check by check:"
  echo "$installed  1. apt-get update; apt-get install -y binutils ./$(basename "$deb")"
  result "2. influxd is on PATH" "Failed to locate influxd executable"
  result "3. readelf can analyse influxd" "readelf could not analyze"
  result "4. influxd is statically linked (readelf -d shows no NEEDED)" "not statically linked"
  result "5. influxd is PIE (readelf -d shows 'Flags: PIE')" 'not linked with "-fPIE"'
  result "6. influxdb.service starts and is active (then upstream pauses 30 s)" "influxdb service failed to start"
  echo
  echo "Evidence (from the last run):"
  echo "$evidence"
  echo
  echo "=== output of the unchanged script"
  echo "$out1" | grep -v '^\(Get\|Hit\|Ign\|Reading\|Building\|Selecting\|Preparing\|Unpacking\|Fetched\|(Reading\)' 
  if [[ -n $out2 ]]; then
    echo
    echo "=== output of the run that continues past failed checks"
    echo "$out2" | grep -v '^\(Get\|Hit\|Ign\|Reading\|Building\|Selecting\|Preparing\|Unpacking\|Fetched\|(Reading\)'
  fi
} >"$report"
sed -n '/^Check by check:/,/^Evidence/p' "$report" | sed '$d' >&2
say "report: $report"
(( rc == 0 ))
