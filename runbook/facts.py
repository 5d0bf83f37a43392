"""What the reader's CLI knows about an influxd install: who runs it, its port,
and the influxd release the pages were proven against.

The release comes from versions.env, shipped inside the package
(runbook/versions.env is a link to the project's one copy; the wheel and the
pyz carry its content), so an installed `runbook` never looks into a checkout.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

INFLUXDB_USER = "influxdb"
INFLUXDB_UID = 1000  # user `influxdb` in the official image and in the packages
INFLUXDB_GID = 1000
PORT = 8086


@cache
def _versions() -> dict[str, str]:
    try:
        text = (resources.files("runbook") / "versions.env").read_text()
    except OSError:
        return {}
    pairs = (line.partition("=") for line in text.splitlines() if not line.startswith("#"))
    return {key.strip(): value.strip() for key, sep, value in pairs if sep}


def pinned(name: str, default: str) -> str:
    """A value from versions.env, or `default` when the package carries none."""
    return _versions().get(name, default)


def influxd_version() -> str:
    """influxd's pinned version without the leading v, e.g. 2.9.1."""
    return pinned("INFLUXD_VERSION", "v2.x").lstrip("v")
