"""`--update-expected`: rewrite a page's expected-output block from a real run.

For maintainers when a version changes what a command prints: run the pages
with `pytest docs --update-expected`, review `git diff docs/`, commit. Only
blocks whose output no longer matches are rewritten, and wildcards (`...`)
that still match are kept (harness/expected_output.py). Pages run on several
hosts at once, so each rewrite holds a lock on the page file.
"""

from __future__ import annotations

import fcntl
import re
from pathlib import Path

from harness.expected_output import updated_expected

MARKER = re.compile(r"<!--[-\s]*pytest-codeblocks:expected-output(-ignore-whitespace)?[-\s]*-->")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})")


class NoExpectedBlock(LookupError):
    """The code block has no expected-output block after it."""


def rewrite_expected(page: Path, code_line: int, got: str) -> bool:
    """Replace the expected output that follows the code block opening at
    `code_line` (1-based) with `got`; True if the page changed."""
    with open(page, "r+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        lines = f.read().split("\n")
        start, end, indent = _expected_span(lines, code_line)
        old = "\n".join(line[len(indent):] for line in lines[start:end]) + "\n"
        new = updated_expected(old, got)
        if new == old:
            return False
        lines[start:end] = [(indent + line).rstrip() for line in new.rstrip("\n").split("\n")]
        f.seek(0)
        f.write("\n".join(lines))
        f.truncate()
        return True


def _expected_span(lines: list[str], code_line: int) -> tuple[int, int, str]:
    """(first, end) indexes of the expected block's content, and its indent."""
    i = code_line - 1
    opening = FENCE.match(lines[i]) if i < len(lines) else None
    if not opening:
        raise NoExpectedBlock(f"line {code_line} does not open a code block")
    i += 1
    while i < len(lines) and not lines[i].strip().startswith(opening["fence"]):
        i += 1  # the code block's own lines
    i += 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines) or not MARKER.search(lines[i]):
        raise NoExpectedBlock(f"no expected-output comment after the block at line {code_line}")
    i += 1
    while i < len(lines) and not FENCE.match(lines[i]):
        i += 1
    if i >= len(lines):
        raise NoExpectedBlock(f"no expected-output block after the block at line {code_line}")
    fence = FENCE.match(lines[i])
    start = i + 1
    end = start
    while end < len(lines) and not lines[end].strip().startswith(fence["fence"]):
        end += 1
    return start, end, fence["indent"]
