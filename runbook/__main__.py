"""`python -m runbook` and the `runbook` command: the CLI, Ctrl-C included from the first moment."""

from __future__ import annotations

import sys


def _is_interrupt(exc: BaseException | None) -> bool:
    """Ctrl-C, also when Python wraps it while importing (3.11 turns a
    KeyboardInterrupt inside a dataclass's __set_name__ into a RuntimeError)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def main() -> None:
    try:
        from runbook.cli import main as run
    except BaseException as exc:  # Ctrl-C while the CLI is still being imported
        if not _is_interrupt(exc):
            raise
        sys.stderr.write("ERROR: interrupted\n")
        sys.exit(130)
    run()


if __name__ == "__main__":
    main()
