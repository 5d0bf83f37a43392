"""The `runbook` command: the click group (group.py, which imports a command's
module when that command runs), one module per command, and the one error
boundary every way out goes through (boundary.main)."""

from __future__ import annotations

from runbook.cli.boundary import main
from runbook.cli.group import cli
from runbook.cli.options import Progress, progress

__all__ = ["Progress", "cli", "main", "progress"]
