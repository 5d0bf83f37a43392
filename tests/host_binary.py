"""The binary host: the runbook image (the official image's layout), with
influxd started by hand as user influxdb. Interface: see tests/hosts.py."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGE_ENV = "RUNBOOK_IMAGE"
LOG_GLOB = "/var/log/influxdb*.log /var/log/telegraf*.log"


class HostNotReady(Exception):
    """The host could not be prepared; the message says what and the fix."""


def run_script(name: str, *args: str) -> str:
    """Run one of scripts/*.sh; its progress goes to stderr, its last stdout
    line (an image tag) is returned."""
    proc = subprocess.run(["bash", str(ROOT / "scripts" / name), *args],
                          stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise HostNotReady(f"scripts/{name} failed (exit {proc.returncode}); see its messages "
                           "above. Fix: run `make images` and read its output.")
    lines = proc.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def build_image() -> str:
    if not os.environ.get(IMAGE_ENV):
        run_script("docker-engine.sh")
        os.environ[IMAGE_ENV] = run_script("build-image.sh")
    return os.environ[IMAGE_ENV]


def run_kwargs() -> dict:
    return {
        "entrypoint": ["sleep", "infinity"],
        "command": [],
        "init": True,  # reaps the background influxd/telegraf the pages start
    }


def wait_ready(container, deadline_s: float = 60) -> float:
    return 0.0  # nothing runs until the page starts it


def log_tail(container, lines: int = 25) -> str:
    code, out = container.exec_run(
        ["bash", "-c", f"for f in {LOG_GLOB}; do [ -f $f ] && echo \"== $f\" "
         f"&& tail -n {lines} $f; done; true"])
    return out.decode(errors="replace").strip()
