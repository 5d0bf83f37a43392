"""Moved to runbook.checks.findings."""

# Old path kept for runbook/deploy_hook.py, which another change rewrites into
# runbook/install.py: delete this module once that lands (issue 26).
from runbook.checks.findings import Finding, has_errors

__all__ = ["Finding", "has_errors"]
