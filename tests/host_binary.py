"""The binary host: the runbook image (the official image's layout) plus
certbot and Pebble for the ACME page (scripts/build-binary-host.sh), with
influxd started by hand as user influxdb. Interface: see tests/hosts.py."""

from __future__ import annotations

import os

from tests.hosts import last_line, run_script

RUNBOOK_IMAGE_ENV = "RUNBOOK_IMAGE"
HOST_IMAGE_ENV = "RUNBOOK_BINARY_HOST_IMAGE"
LOG_GLOB = "/var/log/influxdb*.log /var/log/telegraf*.log"


def build_runbook_image() -> str:
    """The runbook image every host image builds on (RUNBOOK_IMAGE pins it)."""
    if not os.environ.get(RUNBOOK_IMAGE_ENV):
        run_script("docker-engine.sh")
        os.environ[RUNBOOK_IMAGE_ENV] = last_line(run_script("build-image.sh"))
    return os.environ[RUNBOOK_IMAGE_ENV]


def build_image() -> str:
    if not os.environ.get(HOST_IMAGE_ENV):
        build_runbook_image()  # build-binary-host.sh builds on RUNBOOK_IMAGE
        os.environ[HOST_IMAGE_ENV] = last_line(run_script("build-binary-host.sh"))
    return os.environ[HOST_IMAGE_ENV]


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
