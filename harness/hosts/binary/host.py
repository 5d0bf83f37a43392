"""The binary host: the runbook image (the official image's layout) booted
with systemd as PID 1, plus Telegraf's tarball unit, certbot and Pebble for
the ACME page (harness/hosts/binary/build.sh). influxd does not run at boot:
a page starts it by hand, or under the unit configure.md writes
(influxdb.service). Interface: see harness/hosts/__init__.py."""

from __future__ import annotations

import os

from harness.hosts import DEFAULT_RELEASE, last_line, release_env, run_script
from harness.hosts.package import host as host_package

RUNBOOK_IMAGE_ENV = "RUNBOOK_IMAGE"
HOST_IMAGE_ENV = "RUNBOOK_BINARY_HOST_IMAGE"
LOG_GLOB = "/var/log/influxdb*.log /var/log/telegraf*.log"


def build_runbook_image(release: str = DEFAULT_RELEASE) -> str:
    """The runbook image every host image of that release builds on
    (RUNBOOK_IMAGE, or RUNBOOK_IMAGE_TRIXIE..., pins it)."""
    pin = release_env(RUNBOOK_IMAGE_ENV, release)
    if not os.environ.get(pin):
        run_script("scripts/docker-engine.sh")
        os.environ[pin] = last_line(run_script("scripts/build-image.sh",
                                               env={"RUNBOOK_RELEASE": release}))
    return os.environ[pin]


def build_image(release: str = DEFAULT_RELEASE) -> str:
    pin = release_env(HOST_IMAGE_ENV, release)
    if not os.environ.get(pin):
        runbook = build_runbook_image(release)  # build-binary-host.sh builds on it
        os.environ[pin] = last_line(run_script(
            "harness/hosts/binary/build.sh",
            env={"RUNBOOK_RELEASE": release, "RUNBOOK_IMAGE": runbook}))
    return os.environ[pin]


def run_kwargs(release: str = DEFAULT_RELEASE) -> dict:
    """systemd as PID 1, as on the package host (it also reaps what pages
    start in the background)."""
    return host_package.run_kwargs()


def wait_ready(container, deadline_s: float = 60) -> float:
    """Poll until systemd is `running`; influxd is not started at boot."""
    return host_package.wait_booted(container, deadline_s, influxd=False, host="binary host",
                                    image_dir="harness/hosts/binary")


def log_tail(container, lines: int = 25) -> str:
    """influxd's log: the unit's journal, and the files of one started by hand."""
    code, out = container.exec_run(
        ["bash", "-c", f"journalctl -u influxdb -n {lines} --no-pager 2>/dev/null | "
         "grep -v '^-- No entries --$'; "
         f"for f in {LOG_GLOB}; do [ -f $f ] && echo \"== $f\" "
         f"&& tail -n {lines} $f; done; true"])
    return out.decode(errors="replace").strip()
