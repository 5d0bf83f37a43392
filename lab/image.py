"""The facts of the lab's image, in one place: where things mount, which image runs.

The image is laid out like the official `influxdb:2.x` image (image/*).
Who runs influxd and on which port is the reader's CLI's knowledge
(runbook/facts.py); the lab adds where its containers mount things.
"""

from __future__ import annotations

import os
from pathlib import Path

from runbook.facts import INFLUXDB_GID, INFLUXDB_UID, INFLUXDB_USER, PORT, influxd_version, pinned

DATA_MOUNT = "/var/lib/influxdb2"
CONFIG_MOUNT = "/etc/influxdb2"
CERT_MOUNT = "/etc/ssl/influxdb"  # where the lab mounts a server's certificate folder
IMAGE_ENV = "RUNBOOK_IMAGE"  # names another image to run (the tests set a pinned tag)
# The build scripts' cache (scripts/build-*.sh: binaries, .debs, image inputs).
BUILD_CACHE = Path(os.environ.get("RUNBOOK_CACHE", Path.home() / ".cache" / "influx-tls-runbook"))
__all__ = ["CERT_MOUNT", "CONFIG_MOUNT", "DATA_MOUNT", "INFLUXDB_GID", "INFLUXDB_UID",
           "INFLUXDB_USER", "PORT", "BUILD_CACHE", "default_image", "image_ref",
           "influxd_version", "pinned"]


def default_image() -> str:
    return f"{pinned('IMAGE_NAME', 'influx-tls-runbook')}:latest"


def image_ref() -> str:
    """The image to run: $RUNBOOK_IMAGE, or the locally built default."""
    return os.environ.get(IMAGE_ENV) or default_image()
