"""certbot's deploy hook for influxd: the install transaction (runbook/install.py) fed
from a lineage.

After each issuance or renewal certbot sets RENEWED_LINEAGE to
/etc/letsencrypt/live/NAME; the hook installs that folder's fullchain.pem and
privkey.pem with every guarantee of `runbook install` (gate, one-rename swap,
verified restart, rollback, one install at a time).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from runbook import install as transaction
from runbook.install import (
    CERT_NAME,
    KEY_NAME,
    PREVIOUS,
    InstallPlan,
    InstallResult,
    RollbackFailed,
)
from runbook.install import InstallBusy as HookBusy
from runbook.install import InstallRefused as HookRefused
from runbook.install import InstallRolledBack as HookRolledBack

__all__ = ["CERT_NAME", "KEY_NAME", "PREVIOUS", "HookBusy", "HookPlan", "HookRefused",
           "HookResult", "HookRolledBack", "RollbackFailed", "deploy", "validate"]

RETRY = "run certbot renew --force-renewal"
HookResult = InstallResult

# Tests interrupt the hook at each named step (tests/unit/test_hook_interrupts.py).
CHECKPOINT: Callable[[str], None] | None = None


def HookPlan(lineage: Path, **fields: Any) -> InstallPlan:
    """The install plan for certbot's live/NAME folder; `fields` as InstallPlan's.
    (A function under the name the hook's own plan class had.)"""
    return InstallPlan(cert=lineage / "fullchain.pem", key=lineage / "privkey.pem",
                       source=str(lineage), retry=RETRY, **fields)


validate = transaction.validate


def _forward(step: str) -> None:
    if CHECKPOINT is not None:
        CHECKPOINT(step)


def deploy(plan: InstallPlan) -> HookResult:
    """runbook.install.install for certbot's lineage; raises what it raises."""
    before, transaction.CHECKPOINT = transaction.CHECKPOINT, _forward
    try:
        return transaction.install(plan)
    finally:
        transaction.CHECKPOINT = before
