"""The facts of the runbook image, in one place: who runs influxd, where things mount.

The image is laid out like the official `influxdb:2.x` image (image/*).
Code and tests take these names from here, never as literals.
"""

from __future__ import annotations

import os
from pathlib import Path

INFLUXDB_USER = "influxdb"
INFLUXDB_UID = 1000  # user `influxdb` in the official image (and in ours)
INFLUXDB_GID = 1000
DATA_MOUNT = "/var/lib/influxdb2"
CONFIG_MOUNT = "/etc/influxdb2"
CERT_MOUNT = "/etc/ssl/influxdb"  # where the runbook mounts a server's certificate folder
PORT = 8086
IMAGE_ENV = "RUNBOOK_IMAGE"  # names another image to run (the tests set a pinned tag)
# The build scripts' cache (scripts/build-*.sh: binaries, .debs, image inputs).
BUILD_CACHE = Path(os.environ.get("RUNBOOK_CACHE", Path.home() / ".cache" / "influx-tls-runbook"))

_VERSIONS_FILE = Path(__file__).resolve().parents[1] / "versions.env"


def pinned(name: str, default: str) -> str:
    """A value from the project's versions.env, or `default` outside a checkout."""
    try:
        text = _VERSIONS_FILE.read_text()
    except OSError:
        return default
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == name:
            return value.strip()
    return default


def default_image() -> str:
    return f"{pinned('IMAGE_NAME', 'influx-tls-runbook')}:latest"


def image_ref() -> str:
    """The image to run: $RUNBOOK_IMAGE, or the locally built default."""
    return os.environ.get(IMAGE_ENV) or default_image()


def influxd_version() -> str:
    """influxd's pinned version without the leading v, e.g. 2.9.1."""
    return pinned("INFLUXD_VERSION", "v2.x").lstrip("v")
