"""Hand xdist the longest units first (longest-processing-time scheduling).

With `--dist loadfile` xdist gives each worker one file (a test module, a
docs page on one host, the journey on one host) at a time, in the order it
is given them; by default it reorders them by their number of tests. That
count says little about time: the fleet test is 3 tests and two minutes, the
hostile-input corpus hundreds of tests and seconds. A two-minute unit handed
out last makes one worker run alone at the end. So the collection is
ordered by each unit's measured seconds in the committed snapshot
(scripts/shard-weights.json, the same numbers scripts/shard.py plans
shards with), heaviest first, and xdist's own reordering is switched off.

Only the order of units changes: the tests of a unit keep their order (a
page's blocks run top to bottom), and every worker computes the same order
from the same committed file, as xdist requires. A run without xdist keeps
the order it was given."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.module_timings import UNITS

SNAPSHOT = Path(__file__).resolve().parent.parent / "scripts" / "shard-weights.json"
# A unit with no measure yet: about a docs page.
DEFAULT_S = 10.0


def unit_seconds(snapshot: dict, nodeid: str) -> float:
    """The snapshot's seconds for the unit (module, page[host], journey host) of a test."""
    for kind, pattern in UNITS:
        found = pattern.match(nodeid)
        if found:
            return float(snapshot.get(kind, {}).get(found[1], DEFAULT_S))
    return DEFAULT_S


def heaviest_first(items: list[pytest.Item], snapshot: dict) -> list[pytest.Item]:
    """Items regrouped by unit, heaviest unit first; ties keep collection order."""
    units: dict[str, list[pytest.Item]] = {}
    for item in items:
        units.setdefault(item.nodeid.split("::", 1)[0], []).append(item)
    order = sorted(units.values(), key=lambda tests: -unit_seconds(snapshot, tests[0].nodeid))
    return [item for tests in order for item in tests]


def _loadfile(config: pytest.Config) -> bool:
    return getattr(config.option, "dist", "no") in ("loadfile", "loadscope")


def pytest_configure(config: pytest.Config) -> None:
    if _loadfile(config):
        # xdist would sort the units by test count after us.
        config.option.loadscopereorder = False


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _loadfile(config):
        return
    try:
        snapshot = json.loads(SNAPSHOT.read_text())
    except (OSError, ValueError):
        return  # no snapshot: xdist's order is as good a guess as any
    items[:] = heaviest_first(items, snapshot)
