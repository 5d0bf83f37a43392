"""Under xdist, hand out the longest units first.

`make test` runs with `--dist loadfile`: a unit (a test module, a page on
one host, one host's journey) runs whole on one worker, and a worker takes
the next unit in collection order when it is free. In path order the
longest units (the live-server journeys, about 60 to 130 s each) came last,
so the run ended with one or two workers busy and the others idle. Heaviest
first (LPT) ends the workers closer together.

Weights are the committed snapshot's (harness/shard-weights.json; refresh it
with `harness/shard.py --snapshot`), so every worker computes the same order
(xdist requires it). A unit with no measure weighs harness.shard.DEFAULT_S.
Within a unit the order is unchanged: a module's tests and a page's blocks
run as written.
"""

from __future__ import annotations

import pytest

from harness.shard import DEFAULT_S, SNAPSHOT, read_json

KINDS = {"harness/journey.yml": "journey_s", "harness/live-journey.yml": "live_journey_s"}


def unit_weights() -> dict[str, float]:
    """Seconds per xdist unit (the part of a test id before `::`)."""
    snapshot = read_json(SNAPSHOT)
    found = {**snapshot.get("pages_s", {}), **snapshot.get("modules_s", {})}
    for path, kind in KINDS.items():
        found.update({f"{path}[{host}]": s for host, s in snapshot.get(kind, {}).items()})
    return found


def unit_of(nodeid: str) -> str:
    return nodeid.split("::")[0]


def heaviest_first(nodeids: list[str], weights: dict[str, float]) -> list[int]:
    """Indices of `nodeids` in run order: units by weight, heaviest first
    (ties in collection order); each unit's tests in their own order."""
    first: dict[str, int] = {}
    for n, nodeid in enumerate(nodeids):
        first.setdefault(unit_of(nodeid), n)

    def key(n: int) -> tuple[float, int, int]:
        unit = unit_of(nodeids[n])
        return -weights.get(unit, DEFAULT_S), first[unit], n

    return sorted(range(len(nodeids)), key=key)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):  # not an xdist worker: path order
        return
    order = heaviest_first([item.nodeid for item in items], unit_weights())
    items[:] = [items[n] for n in order]
