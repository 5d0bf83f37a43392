"""How a block's real output is compared with the expected output a page shows.

The expected-output block is what a reader sees, so it stays readable:
plain text, compared line by line, with two wildcards in the style of
pytest-codeblocks and doctest's ELLIPSIS:

- a line that is exactly `...` matches any number of lines, none included;
- `...` inside a line matches any text within that line.

Trailing whitespace on each line and blank lines at the end are ignored
(openssl ends some lines with a space; a page cannot show that). Nothing
else is normalised: versions, addresses and names a reader would see must
match, or be written as `...` on the page.
"""

from __future__ import annotations

import re
from functools import cache

ELLIPSIS = "..."


def _lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


@cache
def _line_pattern(expected: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in expected.split(ELLIPSIS)) + r"\Z",
                      flags=re.S)


def line_matches(expected: str, got: str) -> bool:
    if ELLIPSIS not in expected:
        return expected == got
    return _line_pattern(expected).match(got) is not None


def output_matches(expected: str, got: str) -> bool:
    """True if `got` (a block's stdout) matches the page's expected output."""
    want, have = _lines(expected), _lines(got)

    # Classic wildcard matching over lines: `...` lines are stars.
    @cache
    def match(i: int, j: int) -> bool:
        if i == len(want):
            return j == len(have)
        if want[i].strip() == ELLIPSIS:
            return match(i + 1, j) or (j < len(have) and match(i, j + 1))
        return j < len(have) and line_matches(want[i], have[j]) and match(i + 1, j + 1)

    return match(0, 0)


def updated_expected(expected: str, got: str) -> str:
    """The expected output rewritten from a real run, keeping the page's
    wildcards where they still match: a line of the old text that matches the
    new output's line (by position) is kept, others are replaced."""
    if output_matches(expected, got):
        return expected
    want, have = _lines(expected), _lines(got)
    if not any(ELLIPSIS in line for line in want):
        return "\n".join(have) + "\n"
    kept = [w if k < len(want) and ELLIPSIS in w and line_matches(w, h) else h
            for k, (w, h) in enumerate(zip(want + [""] * len(have), have, strict=False))]
    return "\n".join(kept) + "\n"
