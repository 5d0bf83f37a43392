"""Moved to runbook.poll (so that "wait" names only the command)."""

# Old path kept for the pages that import it (docs/migrate.md, docs/telegraf.md):
# delete this module once they import runbook.poll (issue 26).
from runbook.poll import poll_until

__all__ = ["poll_until"]
