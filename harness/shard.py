#!/usr/bin/env python3
"""Split the suite into N shards of about equal time, for N CI runners.

    harness/shard.py K N        the pytest paths of shard K (1-based) of N
    harness/shard.py --plan N   each shard's units and estimated seconds
    harness/shard.py --snapshot write this checkout's measures to the snapshot

A unit is a test module (tests/**/test_*.py), a docs page (docs/*.md, all
its hosts: one host per page and install method would split a page's
container set-up across runners for no gain), the journey
(harness/journey.yml) or the live-server journey (harness/live-journey.yml).
Weights are the seconds in the committed snapshot
harness/shard-weights.json, and nothing else: every runner, and every run of
`make test SHARD=K/N` one after the other, must compute the same plan, or a
unit could run twice or never. `--snapshot` refreshes the snapshot from what
this checkout measured (reports/test-timings.json, merged over runs by
harness/module_timings.py); commit it. A unit with no measure weighs
DEFAULT_S. Units go, heaviest first, to the lightest shard (LPT), so the
slowest shard is at most 4/3 of the optimum. Every unit lands in exactly one
shard.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_S = 10.0
SNAPSHOT = ROOT / "harness" / "shard-weights.json"
MEASURED = ROOT / "reports" / "test-timings.json"


def units() -> list[str]:
    tests = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").rglob("test_*.py"))
    docs = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))
    return tests + docs + ["harness/journey.yml", "harness/live-journey.yml"]


def read_json(path: Path) -> dict:
    """A JSON file's object; {} when it is missing or not JSON (no measure yet)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _unit_seconds(report: dict) -> dict[str, float]:
    """Seconds per unit in a snapshot or reports/test-timings.json."""
    found: dict[str, float] = defaultdict(float)
    for key, seconds in report.get("pages_s", {}).items():
        found[key.split("[")[0]] += seconds
    for seconds in report.get("journey_s", {}).values():
        found["harness/journey.yml"] += seconds
    for seconds in report.get("live_journey_s", {}).values():
        found["harness/live-journey.yml"] += seconds
    for module, seconds in report.get("modules_s", {}).items():
        found[module] += seconds
    return found


def weights() -> dict[str, float]:
    """The snapshot's seconds per unit (never this checkout's reports: see above)."""
    return _unit_seconds(read_json(SNAPSHOT))


def plan(n: int) -> list[tuple[float, list[str]]]:
    """N shards: (estimated seconds, sorted units) each."""
    measured = weights()
    loads = [0.0] * n
    picked: list[list[str]] = [[] for _ in range(n)]
    for unit in sorted(units(), key=lambda u: (-measured.get(u, DEFAULT_S), u)):
        lightest = loads.index(min(loads))
        loads[lightest] += measured.get(unit, DEFAULT_S)
        picked[lightest].append(unit)
    return [(round(load, 1), sorted(p)) for load, p in zip(loads, picked, strict=True)]


def shard(k: int, n: int) -> list[str]:
    return plan(n)[k - 1][1]


def snapshot() -> Path:
    """Write this checkout's measures (pages, journey, modules) to the snapshot."""
    data = read_json(SNAPSHOT)
    measured = read_json(MEASURED)  # merged over runs (harness/module_timings.py)
    for key in ("pages_s", "modules_s", "journey_s", "live_journey_s"):
        data[key] = dict(sorted({**data.get(key, {}), **measured.get(key, {})}.items()))
    data["note"] = ("seconds per page[host], journey host and test module, measured by "
                    "make test on 2 cores (4 workers); harness/shard.py plans shards from it "
                    "alone; refresh with harness/shard.py --snapshot after a full run")
    SNAPSHOT.write_text(json.dumps(data, indent=2) + "\n")
    return SNAPSHOT


USAGE = ("usage: harness/shard.py K N   (1 <= K <= N)\n"
         "       harness/shard.py --plan N\n"
         "       harness/shard.py --snapshot")


def main(argv: list[str]) -> int:
    try:
        if argv == ["--snapshot"]:
            print(f"wrote {snapshot()}")
            return 0
        if len(argv) == 2 and argv[0] == "--plan":
            for k, (load, picked) in enumerate(plan(int(argv[1])), start=1):
                print(f"shard {k}: about {load:.0f} s of tests, {len(picked)} units: "
                      + " ".join(picked))
            return 0
        k, n = int(argv[0]), int(argv[1])
        if not 1 <= k <= n or len(argv) != 2:
            raise ValueError
    except (IndexError, ValueError):
        print(USAGE, file=sys.stderr)
        return 2
    picked = shard(k, n)
    if not picked:
        # An empty path list would make pytest collect the whole suite.
        print(f"shard {k} of {n} has no tests: there are only {len(units())} units; "
              "use fewer shards", file=sys.stderr)
        return 2
    print(" ".join(picked))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
