#!/usr/bin/env bash
# Debian packages the project needs on the machine that runs it.
#   scripts/install-deps.sh          build + test tools
#   scripts/install-deps.sh browser  also Debian's chromium for the site test
set -euo pipefail
here=$(dirname "$0")
# debian-archive-keyring: debootstrap verifies bookworm with it (on Ubuntu too).
pkgs=(debootstrap debian-archive-keyring pkg-config openssl curl ca-certificates git make python3-venv)
# The trust matrix's clients with other TLS stacks: gnutls-cli (GnuTLS), tstclnt/certutil (NSS).
pkgs+=(gnutls-bin libnss3-tools)
# Ansible's default connection (the fleet test's unreachable server is reached over SSH).
pkgs+=(openssh-client)
# A local container registry: the test of make demo's official base (tests/integration/test_base_image.py).
pkgs+=(docker-registry)
# A machine that already has a Docker engine (docker-ce, moby) keeps it:
# Debian's docker.io would conflict with it.
command -v dockerd >/dev/null || pkgs+=(docker.io)
# RUNBOOK_CHROMIUM names a Chromium-based browser that is already installed.
[[ ${1:-} == browser && -z ${RUNBOOK_CHROMIUM:-} ]] && pkgs+=(chromium)
"$here/apt-install.sh" "${pkgs[@]}"
for tool in go cargo; do
  command -v "$tool" >/dev/null || {
    echo "[install-deps] ERROR: '$tool' is missing; it builds influxd (Go + flux's Rust library). Install Go >= 1.23 and Rust via rustup." >&2
    exit 2
  }
done
