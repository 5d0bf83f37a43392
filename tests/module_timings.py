"""Seconds per test module, for scripts/shard.py: it splits the suite across
CI runners by measured time, and a module it has no measure for weighs a
guess. Gathered on the controller from every report (xdist workers' too) and
merged into reports/test-timings.json: a module that ran here replaces its
earlier measure; modules not run here keep theirs, so a partial run never
erases what a full one measured."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

MODULE = re.compile(r"^(tests/.+?\.py)::")


class ModuleTimings:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        found = MODULE.match(report.nodeid)
        if found:
            self.seconds[found[1]] += report.duration

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.seconds:
            merge(session.config.rootpath / "reports" / "test-timings.json", self.seconds)


def merge(out: Path, seconds: dict[str, float]) -> None:
    try:
        data = json.loads(out.read_text())
    except (OSError, ValueError):
        data = {}
    modules = data.setdefault("modules_s", {})
    modules.update({m: round(s, 2) for m, s in seconds.items()})
    data["modules_s"] = dict(sorted(modules.items()))
    out.parent.mkdir(exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(out)  # a reader never sees half a file


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        config.pluginmanager.register(ModuleTimings(), "runbook-module-timings")
