#!/usr/bin/env python3
"""Split the suite into N shards of about equal time, for N CI runners.

    scripts/shard.py K N     the pytest paths of shard K (1-based) of N

A unit is a test module (tests/**/test_*.py), a docs page (docs/*.md, all
its hosts: one host per page and install method would split a page's
container set-up across runners for no gain) or the journey
(tests/journey.yml). Weights are the seconds the last run measured
(reports/docs-timings.json for pages and the journey, else the committed
snapshot scripts/shard-weights.json); a unit with no measurement weighs
DEFAULT_S. Units go, heaviest first, to the lightest
shard (LPT), so the slowest shard is at most 4/3 of the optimum. Every unit
lands in exactly one shard.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_S = 10.0


def units() -> list[str]:
    tests = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").rglob("test_*.py"))
    docs = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))
    return tests + docs + ["tests/journey.yml"]


def weights() -> dict[str, float]:
    """Seconds per page and for the journey: this checkout's last run, else the
    snapshot committed beside this script (a fresh CI checkout has no reports)."""
    for source in (ROOT / "reports" / "docs-timings.json", ROOT / "scripts" / "shard-weights.json"):
        try:
            report = json.loads(source.read_text())
            break
        except (OSError, ValueError):
            continue
    else:
        return {}
    found: dict[str, float] = defaultdict(float)
    for key, seconds in report.get("pages_s", {}).items():
        found[key.split("[")[0]] += seconds
    for journey in report.get("journey", {}).values():
        found["tests/journey.yml"] += journey.get("s", 0.0)
    return found


def shard(k: int, n: int) -> list[str]:
    measured = weights()
    loads = [0.0] * n
    picked: list[list[str]] = [[] for _ in range(n)]
    for unit in sorted(units(), key=lambda u: (-measured.get(u, DEFAULT_S), u)):
        lightest = loads.index(min(loads))
        loads[lightest] += measured.get(unit, DEFAULT_S)
        picked[lightest].append(unit)
    return sorted(picked[k - 1])


def main(argv: list[str]) -> int:
    try:
        k, n = int(argv[0]), int(argv[1])
        if not 1 <= k <= n:
            raise ValueError
    except (IndexError, ValueError):
        print("usage: scripts/shard.py K N   (1 <= K <= N)", file=sys.stderr)
        return 2
    print(" ".join(shard(k, n)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
