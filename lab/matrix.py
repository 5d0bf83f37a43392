"""Generate the trust matrix: each certificate variant served by a real influxd,
verified by each client; the result is a JSON document the docs render.

    python -m lab.matrix [--out docs/assets/trust-matrix.json] [--only VARIANT,...]

One influxd container per variant (removed at the end, also on failure); the
clients run on this machine. influxd is onboarded without verification (it
is a local test server with a deliberately broken certificate) so that
Telegraf can write once its TLS check passes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lab.image import influxd_version, pinned
from lab.matrix_certs import Variant, variants
from lab.matrix_clients import BIN_DIR, CHROMIUM, CLIENTS, Target, normalise
from runbook.errors import EnvironmentProblem, UsageError
from runbook.render import Progress

OWNER = "rb-matrix"
TOKEN = "matrix-token"  # noqa: S105 - a throwaway local server's token
DEFAULT_OUT = Path("docs/assets/trust-matrix.json")


def _version(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)  # noqa: S603
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable: {exc}"
    lines = (p.stdout or p.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def tool_versions() -> dict[str, str]:
    return {
        "curl": _version(["curl", "--version"]),
        "python": f"Python {sys.version.split()[0]}, {ssl.OPENSSL_VERSION}",
        "influx-cli": _version([str(BIN_DIR / f"influx-{pinned('INFLUX_CLI_VERSION', '')}"),
                                "version"]),
        "telegraf": _version([str(BIN_DIR / f"telegraf-{pinned('TELEGRAF_VERSION', '')}"),
                              "--version"]),
        "gnutls-cli": _version(["gnutls-cli", "--version"]),
        "nss-tstclnt": "NSS " + _version(["dpkg-query", "-W", "-f", "${Version}", "libnss3"]),
        "node": "Node " + _version(["node", "--version"]),
        "chromium": _version([CHROMIUM, "--version"]),
    }


def run_variant(v: Variant, root: Path, progress: Progress = print) -> dict[str, dict[str, object]]:
    from lab.server import TLSInfluxd

    cert_dir = v.write(root / v.id)
    cells: dict[str, dict[str, object]] = {}
    with TLSInfluxd(cert_dir=cert_dir, insecure=True, owner=OWNER, server_name=v.host) as s:
        s.onboard(org="matrix", bucket="matrix", username="matrix",
                  password="matrix-password", token=TOKEN)  # noqa: S106 - throwaway server
        port = s.host_port or 0  # set once start() returned
        for client_id, _stack, check in CLIENTS:
            work = root / "work" / v.id / client_id
            work.mkdir(parents=True)
            target = Target(v.host, port, cert_dir / "trust.pem", work)
            started = time.perf_counter()
            outcome = check(target)
            cells[client_id] = {"accepted": outcome.accepted,
                                "error": normalise(outcome.error, target)}
            progress(f"  {v.id:22} {client_id:12} "
                f"{'accepted' if outcome.accepted else cells[client_id]['error']} "
                f"({time.perf_counter() - started:.1f} s)")
    return cells


def missing_tools() -> list[str]:
    """Client programs this machine lacks, with the package that has each."""
    needed = {"curl": "curl", "gnutls-cli": "gnutls-bin", "tstclnt": "libnss3-tools",
              "certutil": "libnss3-tools", "node": "nodejs", "openssl": "openssl",
              CHROMIUM: "chromium"}
    out = [f"{tool} ({pkg})" for tool, pkg in needed.items() if shutil.which(tool) is None]
    for name in (f"influx-{pinned('INFLUX_CLI_VERSION', '')}",
                 f"telegraf-{pinned('TELEGRAF_VERSION', '')}"):
        if not (BIN_DIR / name).is_file():
            out.append(f"{BIN_DIR / name} (scripts/build-binaries.sh)")
    return out


def generate(only: list[str] | None = None, progress: Progress = print) -> dict[str, Any]:
    missing = missing_tools()
    if missing:
        raise EnvironmentProblem(f"the trust matrix needs: {', '.join(missing)}",
                                 fix="scripts/install-deps.sh browser, then make images")
    all_variants = variants()
    unknown = sorted(set(only or []) - {v.id for v in all_variants})
    if unknown:
        raise UsageError(f"no certificate variant {', '.join(unknown)}",
                         fix="choose from: " + ", ".join(v.id for v in all_variants))
    chosen = [v for v in all_variants if not only or v.id in only]
    root = Path(tempfile.mkdtemp(prefix="rb-matrix-"))
    root.chmod(0o755)  # influxd's uid reads the certificate folders through it
    try:
        cells = {}
        for v in chosen:
            progress(f"{v.id}: {v.title}")
            cells[v.id] = run_variant(v, root, progress)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "influxd": influxd_version(),
        "tools": tool_versions(),
        "variants": [{"id": v.id, "title": v.title, "host": v.host} for v in chosen],
        "clients": [{"id": c, "stack": stack} for c, stack, _ in CLIENTS],
        "cells": cells,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--only", help="comma-separated variant ids")
    args = parser.parse_args(argv)
    try:
        result = generate(args.only.split(",") if args.only else None)
    except (EnvironmentProblem, UsageError) as exc:
        print(f"ERROR: {exc.message}\n  fix: {exc.fix}", file=sys.stderr)
        return exc.exit_code
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
