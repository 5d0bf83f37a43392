"""A finding: one thing wrong (or worth knowing) with a stable id, a severity and its fix.

`runbook check` and `runbook telegraf-config --lint` report findings; tests,
docs and `runbook doctor` refer to them by id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

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

    def text(self) -> str:
        return f"{self.severity.upper()} [{self.id}] {self.message}\n  fix: {self.fix}"


@dataclass
class Findings:
    """What a check found, as `runbook check` and `--lint` print it; `extra`
    adds keys to the JSON only (the user a check was made for)."""

    findings: list[Finding]
    extra: dict[str, object] = field(default_factory=dict)

    def text(self) -> str:
        return "\n".join(f.text() for f in self.findings) or "OK: no findings"

    def as_dict(self) -> dict[str, object]:
        return {"findings": [f.as_dict() for f in self.findings], **self.extra}


def has_errors(findings: Iterable[Finding]) -> bool:
    """Whether any finding is error-level (the CLI then exits 1)."""
    return any(f.severity == ERROR for f in findings)
