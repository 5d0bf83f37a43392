#!/usr/bin/env bash
# Hidden set-up for the ACME page: Pebble, Let's Encrypt's test ACME server,
# stands in for a public CA on this host. It leaves the host as a reader's
# server is with Let's Encrypt:
#   - the ACME directory https://localhost:14000/dir answers over HTTPS that
#     the system trust store verifies (Pebble's own API certificate comes from
#     a throwaway local CA made here, added to the store);
#   - the CA that signs the certificates Pebble issues is trusted by the
#     system store, as ISRG Root X1 is on a real server. Pebble makes a new
#     root at every start: it is fetched from the management port
#     (https://localhost:15000/roots/0), never shipped;
#   - Pebble validates HTTP-01 on port 80, as Let's Encrypt does, and finds
#     names through this host's resolver (/etc/hosts: influxdb.example.test
#     is 127.0.0.1);
#   - pebble-challtestsrv answers DNS on 127.0.0.1:8053 for DNS-01 (Pebble
#     asks it only for TXT records of names it is given).
# Serving other servers too (tests/integration/test_acme_two_servers.py):
#   PEBBLE_LISTEN=0.0.0.0          listen beyond loopback (default 127.0.0.1)
#   PEBBLE_API_NAME=acme.example.test   a name the API certificate also covers
# Deterministic for tests: no validation sleep, no nonce rejection, no reuse
# of earlier authorisations (every renewal is validated again), and one
# profile only: Pebble picks a random profile for an order that names none
# (certbot 2.1 cannot name one). That profile is `shortlived` (6 days): a
# certificate is then always within certbot's 30-day renewal window, so the
# timer's plain `certbot renew` really renews, as it would 30 days before a
# Let's Encrypt certificate expires.
# Runs both as transient systemd units (pebble, pebble-challtestsrv) where
# systemd runs, else as background processes in sessions of their own; either
# way nothing keeps the caller's output open. Prints the directory URL.
set -euo pipefail
dir=/etc/pebble
listen=${PEBBLE_LISTEN:-127.0.0.1}
api_names=(--san localhost --san 127.0.0.1)
if [[ -n ${PEBBLE_API_NAME:-} ]]; then api_names+=(--san "$PEBBLE_API_NAME"); fi
mkdir -p "$dir"

# Pebble's API certificate (the one its HTTPS endpoints present), from a
# local CA that the system store then trusts.
if [[ ! -f $dir/api.crt ]]; then
  runbook certs ca --out "$dir" --name api-ca --common-name "Pebble API test CA" >/dev/null
  runbook certs issue --ca-cert "$dir/api-ca.crt" --ca-key "$dir/api-ca.key" --out "$dir" \
    --name api "${api_names[@]}" >/dev/null
  cp "$dir/api-ca.crt" /usr/local/share/ca-certificates/pebble-api-ca.crt
fi

cat > "$dir/pebble.json" <<JSON
{
  "pebble": {
    "listenAddress": "$listen:14000",
    "managementListenAddress": "$listen:15000",
    "certificate": "$dir/api.crt",
    "privateKey": "$dir/api.key",
    "httpPort": 80,
    "tlsPort": 443,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false,
    "retryAfter": {"authz": 1, "order": 1},
    "keyAlgorithm": "ecdsa",
    "profiles": {
      "shortlived": {"description": "6 days", "validityPeriod": 518400}
    }
  }
}
JSON

challtestsrv=(/usr/local/bin/pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 ""
  -dnsserver 127.0.0.1:8053 -http01 "" -https01 "" -tlsalpn01 "" -doh "" -management "$listen:8055")
pebble=(/usr/local/bin/pebble -config "$dir/pebble.json" -dnsserver 127.0.0.1:8053)
pebble_env=(PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0)

if [[ -d /run/systemd/system ]]; then
  systemctl stop pebble pebble-challtestsrv 2>/dev/null || true
  systemctl reset-failed pebble pebble-challtestsrv 2>/dev/null || true
  systemd-run --quiet --unit pebble-challtestsrv "${challtestsrv[@]}"
  systemd-run --quiet --unit pebble "${pebble_env[@]/#/--setenv=}" "${pebble[@]}"
else
  # No service manager (the Docker and binary hosts): each in a session of
  # its own, its output in /var/log, its pid in /run; a rerun replaces it.
  for name in pebble pebble-challtestsrv; do
    # Only if that pid is still ours: a stale file may name another process.
    if [[ -f /run/$name.pid ]] && pid=$(cat "/run/$name.pid") \
        && [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "${name:0:15}" ]] && kill "$pid" 2>/dev/null; then
      timeout 10 tail --pid="$pid" -s 0.1 -f /dev/null
    fi
  done
  setsid "${challtestsrv[@]}" >/var/log/pebble-challtestsrv.log 2>&1 </dev/null &
  echo $! >/run/pebble-challtestsrv.pid
  setsid env "${pebble_env[@]}" "${pebble[@]}" >/var/log/pebble.log 2>&1 </dev/null &
  echo $! >/run/pebble.pid
fi

# Pebble answers once it listens (its API certificate verified against the
# API CA); the new root comes from its management port. Then one store
# update trusts both (--fresh: a rerun's new root replaces the old one's link).
pebble_pid=()
if [[ -f /run/pebble.pid ]]; then pebble_pid=(--pid "$(cat /run/pebble.pid)"); fi  # no systemd
if ! runbook wait https://localhost:14000/dir --ca "$dir/api-ca.crt" --timeout 30 \
    "${pebble_pid[@]}" >/dev/null; then
  if [[ -f /var/log/pebble.log ]]; then tail -n 20 /var/log/pebble.log | sed 's/^/pebble: /' >&2; fi
  exit 1
fi
curl --silent --show-error --fail --cacert "$dir/api-ca.crt" \
  -o /usr/local/share/ca-certificates/pebble-root.crt https://localhost:15000/roots/0
update-ca-certificates --fresh >/dev/null 2>&1
echo https://localhost:14000/dir
