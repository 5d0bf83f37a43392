"""certbot's deploy hook for influxd: the install transaction (runbook/install.py) fed
from a lineage.

After each issuance or renewal certbot sets RENEWED_LINEAGE to
/etc/letsencrypt/live/NAME; the hook installs that folder's fullchain.pem and
privkey.pem with every guarantee of `runbook install` (gate, one-rename swap,
verified restart, rollback, one install at a time).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from runbook import install as transaction
from runbook.install import (
    CERT_NAME,
    DEFAULT_DEST,
    DEFAULT_RESTART,
    DEFAULT_URL,
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


@dataclass
class HookPlan:
    lineage: Path              # certbot's live/NAME folder
    host: str                  # the name clients connect to and verify
    owner: tuple[int, int]     # influxd's uid and gid
    dest: Path = DEFAULT_DEST
    url: str = DEFAULT_URL     # where influxd answers; verified as `host`
    restart: list[str] = field(default_factory=lambda: shlex.split(DEFAULT_RESTART))
    ca_file: str | None = None  # trust for the gate and the handshake; None: system store
    restart_timeout: float = 60.0
    verify_timeout: float = 20.0
    lock_timeout: float | None = None  # None: as long as one install can hold the lock

    def install_plan(self) -> InstallPlan:
        return InstallPlan(cert=self.lineage / "fullchain.pem", key=self.lineage / "privkey.pem",
                           host=self.host, owner=self.owner, dest=self.dest, url=self.url,
                           restart=self.restart, ca_file=self.ca_file,
                           restart_timeout=self.restart_timeout,
                           verify_timeout=self.verify_timeout, lock_timeout=self.lock_timeout,
                           source=str(self.lineage), retry=RETRY)


def validate(plan: HookPlan) -> None:
    transaction.validate(plan.install_plan())


def _forward(step: str) -> None:
    if CHECKPOINT is not None:
        CHECKPOINT(step)


def deploy(plan: HookPlan) -> HookResult:
    """runbook.install.install for certbot's lineage; raises what it raises."""
    before, transaction.CHECKPOINT = transaction.CHECKPOINT, _forward
    try:
        return transaction.install(plan.install_plan())
    finally:
        transaction.CHECKPOINT = before
