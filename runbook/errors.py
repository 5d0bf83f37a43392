"""One error tree: catch RunbookError at the edge, never a traceback for users.

    RunbookError                  exit 1: an operation failed
    ├── UsageError                exit 2: an option or argument that cannot work
    ├── InputError                exit 2: a named file missing, unreadable, or not what it should be
    │   ├── NotRegularFile            a FIFO, device or socket where a file was expected
    │   ├── InputTooLarge             a file (or stdin) beyond the size limit
    │   ├── CannotWrite               an output path the OS refuses (read-only, /proc, immutable)
    │   ├── RefusingToOverwrite       an existing file, without --force
    │   └── UnusableCA                a CA certificate/key that must not sign (not a CA, expired,
    │                                 key does not match)
    ├── ServerError               exit 1: influxd did not start, answer or accept a request
    │   ├── ServerExited              its container stopped while starting (a wait ends at once)
    │   └── ServerUnreachable         no HTTP answer: refused, reset, timed out, TLS failed
    ├── ProbeError                exit 1: the server could not be reached or gave no TLS
    ├── WaitTimeout               exit 1: a polled condition stayed false until its deadline
    ├── DemoConflict              exit 1: a demo exists that this run must not touch
    └── EnvironmentProblem        exit 3: this machine lacks something (a Docker engine, the image)
        └── DockerUnavailable

Each error names what failed, carries its context as attributes, and says how
to fix it in `fix`. `exit_code` is the class's; the CLI uses it as is.
"""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ENVIRONMENT = 0, 1, 2, 3
EXIT_BUG, EXIT_INTERRUPTED, EXIT_TERMINATED = 70, 130, 143


class RunbookError(Exception):
    """Root of every error the runbook raises on purpose."""

    fix: str = ""
    exit_code: int = EXIT_FAILED

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

    exit_code = EXIT_USAGE


class InputError(RunbookError):
    """A file that is missing, unreadable or not what it should be."""

    exit_code = EXIT_USAGE


class NotRegularFile(InputError):
    """A FIFO, a device or a socket given where a regular file belongs."""


class InputTooLarge(InputError):
    """A file or standard input longer than the limit for its kind."""


class CannotWrite(InputError):
    """The OS refuses an output path: read-only, special, immutable, too long."""


class RefusingToOverwrite(InputError):
    """A private key or certificate would replace an existing file."""


class UnusableCA(InputError):
    """A CA certificate or key that must not sign: not a CA, expired, or a mismatched key."""


class ServerError(RunbookError):
    """influxd in its container did not start, answer, or accept a request."""


class ServerExited(ServerError):
    """influxd's container exited while it was expected to start."""


class ServerUnreachable(ServerError):
    """An HTTP(S) request got no answer: refused, reset, timed out, or TLS failed."""


class ProbeError(RunbookError):
    """The server could not be reached to probe it."""


class WaitTimeout(RunbookError):
    """A polled condition did not come true before its deadline."""


class DemoConflict(RunbookError):
    """An existing demo that this run will neither reuse nor remove."""


class EnvironmentProblem(RunbookError):
    """This machine lacks something the command needs."""

    exit_code = EXIT_ENVIRONMENT


class DockerUnavailable(EnvironmentProblem):
    """No Docker engine answers, or the runbook image is missing."""
