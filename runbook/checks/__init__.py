"""What can be wrong before influxd reads its files: a certificate/key pair
(preflight), certbot's layout (acme), a Telegraf config (telegraf), and log
lines (doctor); each reports Findings (findings).

`check_files` loads on first use: importing runbook.checks.findings must not
pull in cryptography (every command's start would pay for it).
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "check_files":
        from runbook.checks.preflight import check_files

        return check_files
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
