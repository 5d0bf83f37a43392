"""One error tree: catch RunbookError at the edge, never a traceback for users.

Each error names what failed, carries its context as attributes, and says how
to fix it in `fix`.
"""

from __future__ import annotations


class RunbookError(Exception):
    """Root of every error the runbook raises on purpose."""

    fix: str = ""

    def __init__(self, message: str, *, fix: str = "", **context: object) -> None:
        super().__init__(message)
        self.message = message
        if fix:
            self.fix = fix
        self.context = context
        for key, value in context.items():
            setattr(self, key, value)

    def __str__(self) -> str:
        return self.message


class UsageError(RunbookError):
    """An option or argument that cannot work, found before touching anything."""


class InputError(RunbookError):
    """A file that is missing, unreadable or not what it should be."""


class RefusingToOverwrite(RunbookError):
    """A private key or certificate would replace an existing file."""


class KeyCertMismatch(RunbookError):
    """The private key does not belong to the certificate."""


class DockerUnavailable(RunbookError):
    """No Docker engine answers, or the runbook image is missing."""


class ServerError(RunbookError):
    """influxd in its container did not start or did not become ready."""


class WaitTimeout(RunbookError):
    """A polled condition did not come true before its deadline."""


class ProbeError(RunbookError):
    """The server could not be reached to probe it."""
