"""Moved to runbook.checks.pairs."""

# Old path kept for runbook/deploy_hook.py, which another change rewrites into
# runbook/install.py: delete this module once that lands (issue 26).
from runbook.checks.pairs import CERT_NAME, KEY_NAME, LIVE, PREVIOUS, HookBusy, Pair, PairStore

__all__ = ["CERT_NAME", "KEY_NAME", "LIVE", "PREVIOUS", "HookBusy", "Pair", "PairStore"]
