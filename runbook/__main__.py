"""`python -m runbook` and the `runbook` command: the CLI, Ctrl-C included from the first moment."""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from runbook.cli import main as run
    except KeyboardInterrupt:  # Ctrl-C while the CLI is still being imported
        sys.stderr.write("ERROR: interrupted\n")
        sys.exit(130)
    run()


if __name__ == "__main__":
    main()
