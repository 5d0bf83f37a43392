"""harness/shard.py: every unit of the suite runs in exactly one CI shard."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "harness" / "shard.py"
spec = importlib.util.spec_from_file_location("shard", SCRIPT)
shard = importlib.util.module_from_spec(spec)
spec.loader.exec_module(shard)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7])
def test_every_unit_lands_in_exactly_one_shard(n):
    picked = [u for k in range(1, n + 1) for u in shard.shard(k, n)]
    assert sorted(picked) == sorted(shard.units())
    assert len(picked) == len(set(picked))


def test_the_journey_and_every_page_are_units():
    units = shard.units()
    assert "harness/journey.yml" in units and "docs/configure.md" in units
    assert "harness/live-journey.yml" in units
    assert "tests/unit/test_shard.py" in units


def test_an_empty_shard_is_refused_rather_than_running_everything():
    n = len(shard.units()) + 1
    out = subprocess.run([sys.executable, str(SCRIPT), str(n), str(n)], capture_output=True,
                         text=True)
    assert out.returncode == 2 and out.stdout == ""
    assert f"shard {n} of {n} has no tests" in out.stderr


def test_bad_arguments_get_the_usage_line_and_exit_2():
    out = subprocess.run([sys.executable, str(SCRIPT), "5", "4"], capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.startswith("usage: harness/shard.py K N")


def test_shard_provenance_reports_merge_into_one_for_the_site(tmp_path):
    a = {"influxd": "2.9.1", "pages": {"configure.md": {"package": {"passed": 3, "date": "d1"}}}}
    b = {"influxd": "2.9.1", "pages": {"configure.md": {"binary": {"passed": 2, "date": "d1"}},
                                       "smoke.md": {"docker": {"passed": 1, "date": "d2"}}}}
    for name, data in (("a.json", a), ("b.json", b)):
        (tmp_path / name).write_text(__import__("json").dumps(data))
    script = SCRIPT.parent / "merge_provenance.py"
    out = tmp_path / "merged.json"
    done = subprocess.run([sys.executable, str(script), str(out), str(tmp_path / "a.json"),
                           str(tmp_path / "b.json")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    merged = __import__("json").loads(out.read_text())
    assert set(merged["pages"]["configure.md"]) == {"package", "binary"}
    assert merged["pages"]["smoke.md"]["docker"]["passed"] == 1


def test_the_plan_reads_the_snapshot_only_so_every_run_agrees(tmp_path, monkeypatch):
    snap, measured = tmp_path / "snap.json", tmp_path / "test-timings.json"
    snap.write_text(json.dumps({
        "pages_s": {"docs/a.md[package]": 5, "docs/a.md[binary]": 1, "docs/b.md[docker]": 7},
        "modules_s": {"tests/unit/test_x.py": 3}, "journey_s": {"package": 50, "docker": 30}}))
    measured.write_text(json.dumps({"modules_s": {"tests/unit/test_x.py": 99}}))
    monkeypatch.setattr(shard, "SNAPSHOT", snap)
    monkeypatch.setattr(shard, "MEASURED", measured)
    assert shard.weights() == {"docs/a.md": 6, "docs/b.md": 7, "harness/journey.yml": 80,
                               "tests/unit/test_x.py": 3}
    # --snapshot takes the measures in, unit by unit; then the plan uses them.
    shard.snapshot()
    assert shard.weights()["tests/unit/test_x.py"] == 99
    assert shard.weights()["docs/b.md"] == 7


def test_a_partial_run_merges_its_module_times_and_keeps_the_others(tmp_path):
    from harness.module_timings import merge

    out = tmp_path / "test-timings.json"
    merge(out, {"modules_s": {"tests/unit/test_x.py": 1.234, "tests/unit/test_y.py": 2}})
    merge(out, {"modules_s": {"tests/unit/test_x.py": 5}, "journey_s": {"docker": 30}})
    data = json.loads(out.read_text())
    assert data["modules_s"] == {"tests/unit/test_x.py": 5, "tests/unit/test_y.py": 2}
    assert data["journey_s"] == {"docker": 30}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test-timings.json",
                                                          "test-timings.lock"]


@pytest.mark.parametrize("args, partial", [
    ([], False), (["-k", "wait"], True), (["-x"], True), (["-m", "server"], True),
    (["tests/unit/test_wait.py::test_returns_the_first_truthy_result"], True),
])
def test_only_a_run_of_whole_units_records_their_times(pytester, args, partial):
    from harness.module_timings import selects_part

    config = pytester.parseconfig(*args)
    assert selects_part(config) is partial


def test_the_plan_puts_the_heaviest_units_on_different_shards(monkeypatch):
    monkeypatch.setattr(shard, "units", lambda: ["a", "b", "c", "d"])
    monkeypatch.setattr(shard, "weights", lambda: {"a": 100, "b": 90, "c": 10, "d": 5})
    plan = shard.plan(2)
    assert sorted(load for load, _ in plan) == [100, 105]
    assert {tuple(units) for _, units in plan} == {("a", "d"), ("b", "c")}


@pytest.mark.parametrize("nodeid, properties, kind, unit", [
    ("tests/unit/test_x.py::test_a[1]", {}, "modules_s", "tests/unit/test_x.py"),
    ("docs/acme.md[docker]::line 42",
     {"run": "page", "host": "docker", "page": "docs/acme.md"}, "pages_s", "docs/acme.md[docker]"),
    ("harness/journey.yml[package]::configure.md::line 7",
     {"run": "journey", "host": "package", "page": "docs/configure.md"}, "journey_s", "package"),
], ids=["module", "page", "journey"])
def test_each_kind_of_test_id_is_timed_as_its_unit(nodeid, properties, kind, unit):
    from harness.module_timings import unit as unit_of

    assert unit_of(nodeid, properties) == (kind, unit)
