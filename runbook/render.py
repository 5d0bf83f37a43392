"""What every result shows: itself as text (for people) and as a dict (for --json).

A result type has `text()`, the lines a command prints, and `as_dict()`, what
`--json` prints; the CLI's commands only call `render`, so the two views of
one result live beside the data they show.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Protocol

# The one name for a progress callback: long commands (the lab's demo, bench and
# trust matrix) take one and hand it each line as it happens.
Progress = Callable[[str], None]


class Renders(Protocol):
    def text(self) -> str:
        """The lines for a person, without the final newline."""
        ...

    def as_dict(self) -> dict[str, object]:
        """The same result for a program (`--json`)."""
        ...


def render(result: Renders, as_json: bool = False) -> str:
    """`result` as the command prints it: indented JSON or its text."""
    return json.dumps(result.as_dict(), indent=2) if as_json else result.text()
