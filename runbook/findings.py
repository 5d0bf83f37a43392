"""A finding: one thing wrong (or worth knowing) with a stable id, a severity and its fix.

`runbook check` and `runbook telegraf-config --lint` report findings; tests,
docs and `runbook doctor` refer to them by id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITIES = (ERROR, WARNING, INFO)


@dataclass(frozen=True)
class Finding:
    id: str
    severity: str
    message: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def has_errors(findings: Iterable[Finding]) -> bool:
    """Whether any finding is error-level (the CLI then exits 1)."""
    return any(f.severity == ERROR for f in findings)
