"""Moved to runbook.tls.certs."""

# Old path kept for runbook/deploy_hook.py, which another change rewrites into
# runbook/install.py: delete this module once that lands (issue 26).
from runbook.tls.certs import not_after

__all__ = ["not_after"]
