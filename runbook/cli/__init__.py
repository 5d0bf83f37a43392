"""The `runbook` command: the click group (group.py), one module per command,
and the one error boundary every way out goes through (boundary.main)."""

from __future__ import annotations

# Each command module adds its commands to `cli` when imported.
from runbook.cli import (  # noqa: F401
    certs,
    check,
    deploy_hook,
    doctor,
    grade,
    install,
    probe,
    telegraf_config,
    wait,
)
from runbook.cli.boundary import main
from runbook.cli.group import cli
from runbook.cli.options import Progress, progress

__all__ = ["Progress", "cli", "main", "progress"]
