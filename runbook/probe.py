"""Moved to runbook.tls.probe."""

# Old path kept for runbook/deploy_hook.py, which another change rewrites into
# runbook/install.py: delete this module once that lands (issue 26).
from runbook.tls.probe import Target, served_leaf, served_leaf_unverified

__all__ = ["Target", "served_leaf", "served_leaf_unverified"]
