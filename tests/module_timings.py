"""Seconds per test module, docs page run and journey, for scripts/shard.py:
it splits the suite across CI runners by measured time, and a unit it has no
measure for weighs a guess. Gathered on the controller from every report
(xdist workers' too) and merged into reports/test-timings.json: what ran here
replaces its earlier measure; the rest keep theirs, so a partial run (one
page, one shard) never erases what a full one measured."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

# (kind in the report, pattern of a test id): the first group names the unit.
UNITS = (
    ("journey_s", re.compile(r"^tests/journey\.yml\[(\w+)\]::")),
    ("modules_s", re.compile(r"^(tests/.+?\.py)::")),
    ("pages_s", re.compile(r"^(docs/.+?\.md\[\w+\])::")),
)


class ModuleTimings:
    def __init__(self) -> None:
        self.seconds: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for kind, pattern in UNITS:
            found = pattern.match(report.nodeid)
            if found:
                self.seconds[kind][found[1]] += report.duration
                return

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        for kind, seconds in self.seconds.items():
            merge(session.config.rootpath / "reports" / "test-timings.json", seconds, kind)


def merge(out: Path, seconds: dict[str, float], kind: str = "modules_s") -> None:
    try:
        data = json.loads(out.read_text())
    except (OSError, ValueError):
        data = {}
    units = data.setdefault(kind, {})
    units.update({m: round(s, 2) for m, s in seconds.items()})
    data[kind] = dict(sorted(units.items()))
    out.parent.mkdir(exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(out)  # a reader never sees half a file


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        config.pluginmanager.register(ModuleTimings(), "runbook-module-timings")
