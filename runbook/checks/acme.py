"""Findings for certbot's file layout, the mistakes that surface only after a renewal.

certbot keeps each certificate in /etc/letsencrypt/archive/NAME/ as
certN.pem, chainN.pem, fullchainN.pem and privkeyN.pem (N grows at every
renewal), with live/NAME/*.pem symlinks to the newest. Two ways to point
influxd there go wrong later:

- cert.pem is the server certificate alone: clients that trust only the
  root fail ("unable to get local issuer certificate");
- the key there is root-only, and every renewal writes a new one: a chown
  that made it readable for influxd is lost at the next renewal, and influxd
  fails at its next restart ("permission denied").
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from runbook.checks.findings import ERROR, WARNING, Finding

_CERT_ONLY = re.compile(r"^cert\d*\.pem$")
_LETSENCRYPT = Path("/etc/letsencrypt")


def _certbot_folder(path: Path) -> bool:
    """Whether `path` (symlinks followed) is one of certbot's files: a
    fullchain*.pem beside it is certbot's signature."""
    return any(_real(path).parent.glob("fullchain*.pem"))


def _real(path: Path) -> Path:
    # os.path.realpath never raises, even on a symlink loop (Path.resolve may).
    return Path(os.path.realpath(path))


def certbot_layout_findings(cert_path: Path, key_path: Path, leaf_only: bool) -> Iterator[Finding]:
    """cert-without-chain for certbot's cert.pem; key-in-letsencrypt for a key
    that is certbot's own file."""
    resolved = _real(cert_path)
    if leaf_only and _CERT_ONLY.match(resolved.name) and _certbot_folder(cert_path):
        fullchain = cert_path.with_name("fullchain.pem")
        yield Finding("cert-without-chain", ERROR,
                      f"{cert_path} is certbot's cert.pem, the server certificate without "
                      "its intermediate: clients that trust only the root fail with "
                      "'unable to get local issuer certificate'",
                      f"give influxd {fullchain} (certbot's leaf + intermediate), copied by a "
                      "deploy hook: runbook deploy-hook")
    key = _real(key_path)
    if _LETSENCRYPT in key.parents or (key.name.startswith("privkey")
                                       and _certbot_folder(key_path)):
        yield Finding("key-in-letsencrypt", WARNING,
                      f"{key_path} is certbot's own key file ({key}): every renewal writes a "
                      "new one, root-only, so a chown or chmod for influxd is lost and influxd "
                      "fails with 'permission denied' at its next restart",
                      "let a certbot deploy hook copy the key where influxd reads it, owned by "
                      "influxd's user, mode 0600 (runbook deploy-hook)")
