"""Seconds per test module, docs page run and journey host, for
harness/shard.py: it splits the suite across CI runners by measured time,
and a unit it has no measure for weighs a guess. Gathered on the controller
from every report (xdist workers' too) and merged into
reports/test-timings.json: what ran here replaces its earlier measure; the
rest keep theirs. Only whole units count: a run that selects part of the
suite's tests (-k, -m, -x, --lf, node ids) or is interrupted records
nothing, since it would replace a whole unit's measure with a part of it."""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections import defaultdict
from pathlib import Path

import pytest


def unit(nodeid: str, properties: dict) -> tuple[str, str] | None:
    """(kind in the report, unit) that a test's time counts for, or None.
    Page runs and journeys say what they are in their user properties (the
    docs harness's pytest_itemcollected); a test module is its id's file."""
    run, host = properties.get("run"), properties.get("host")
    if run == "journey":
        return "journey_s", host
    if run == "live-journey":
        return "live_journey_s", host
    if run == "page":
        return "pages_s", f"{properties['page']}[{host}]"
    module, sep, _ = nodeid.partition("::")
    if sep and module.startswith("tests/") and module.endswith(".py"):
        return "modules_s", module
    return None


def selects_part(config: pytest.Config) -> bool:
    """Whether this run leaves out some tests of the units it runs."""
    o = config.option
    return bool(getattr(o, "keyword", "") or getattr(o, "markexpr", "")
                or getattr(o, "maxfail", 0) or getattr(o, "lf", False)
                or any("::" in arg for arg in config.args))


class ModuleTimings:
    def __init__(self) -> None:
        self.seconds: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        found = unit(report.nodeid, dict(report.user_properties))
        if found:
            kind, name = found
            self.seconds[kind][name] += report.duration

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.seconds or selects_part(session.config) or exitstatus in (
                pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR):
            return
        merge(session.config.rootpath / "reports" / "test-timings.json", self.seconds)


def merge(out: Path, measured: dict[str, dict[str, float]]) -> None:
    """Merge {kind: {unit: seconds}} into `out`, under a lock (two runs in one
    checkout), written to a temporary file and renamed (never half a file)."""
    out.parent.mkdir(exist_ok=True)
    with open(out.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            data = json.loads(out.read_text())
        except (OSError, ValueError):
            data = {}
        for kind, seconds in measured.items():
            units = {**data.get(kind, {}), **{u: round(s, 2) for u, s in seconds.items()}}
            data[kind] = dict(sorted(units.items()))
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(data, indent=2) + "\n")
        os.replace(tmp, out)


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        config.pluginmanager.register(ModuleTimings(), "runbook-module-timings")
