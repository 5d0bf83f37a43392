"""The live journey's measures and verdict (harness/live/report.py,
harness.live_journey.check): each promise to a reader fails when it is broken."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest

from harness.live_journey import check

REPORT_PY = Path(__file__).resolve().parents[2] / "harness" / "live" / "report.py"


@pytest.fixture(scope="module")
def report_module():
    spec = importlib.util.spec_from_file_location("live_report", REPORT_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _attempt(t: float, ok: bool, err: str = "") -> dict:
    return {"t": t, "ok": ok, "err": [] if ok else [err]}


def test_an_outage_runs_from_the_first_failure_to_the_next_write(report_module):
    attempts = [_attempt(0.0, True), _attempt(0.5, False, "refused"), _attempt(1.0, False, "x"),
                _attempt(1.5, True), _attempt(2.0, True), _attempt(2.5, False, "reset")]
    pages = [{"run": "run1", "page": "configure.md", "t": 1.2},
             {"run": "run1", "page": "hardening.md", "t": 3.0}]
    spans = report_module.outages(attempts, pages)
    assert [(s["s"], s["page"], s["err"]) for s in spans] == [
        (1.0, "run1/configure.md", "refused"), (0.0, "run1/hardening.md", "reset")]
    assert spans[-1]["open"] is True  # still failing when the client stopped


def test_no_failure_no_outage(report_module):
    assert report_module.outages([_attempt(0.0, True), _attempt(0.5, True)], []) == []


GOOD = {
    "outage_s_total": 3.5, "outage_s_longest": 1.0,
    "outage_s_by_run": {"run1": 2.0, "run2": 1.5},
    "outages": [{"page": "run1/configure.md", "s": 1.0}],
    "written": 200, "stored": 201, "history_points": 100,
    "lost": [], "stored_unacknowledged": [57], "maybe": [57],
    "telegraf": {"sections": ["inputs.cpu", "outputs.file", "outputs.influxdb_v2"],
                 "cpu_points_last_20s": 9},
    "run2_vs_run1": {"new processes": []},
}
LIMITS = {"outage_s_per_run": 10, "outage_s_longest": 5}


def test_a_report_within_the_promises_passes():
    # One point stored whose answer was lost while influxd stopped: not a loss.
    assert check(GOOD, LIMITS) == []


@pytest.mark.parametrize("change, says", [
    ({"outage_s_by_run": {"run1": 28.0, "run2": 1.5}},
     "run1: the client could not write for 28.0 s > 10 s"),
    ({"outage_s_longest": 15.0}, "outage_s_longest 15.0 s > 5 s"),
    ({"lost": [12]}, "points written but not stored: seq [12]"),
    ({"maybe": []}, "points stored that the client never sent in full: seq [57]"),
    ({"stored": None}, "did not answer the report's count"),
    ({"history_points": 0}, "the reader's 100 older points: 0 left"),
    ({"telegraf": {"sections": ["inputs.cpu", "outputs.influxdb_v2"],
                   "cpu_points_last_20s": 9}}, "the reader's Telegraf sections"),
    ({"telegraf": {"sections": GOOD["telegraf"]["sections"], "cpu_points_last_20s": 0}},
     "wrote no cpu points"),
    ({"run2_vs_run1": {"etc_telegraf_telegraf.conf": ["-a", "+b"], "new processes": []}},
     "run 2 left other files than run 1"),
    ({"run2_vs_run1": {"new processes": ["telegraf"]}}, "run 2 left other files than run 1"),
], ids=["outage-total", "outage-longest", "points-lost", "stored-unexplained", "server-down",
        "history-lost", "telegraf-section-lost", "telegraf-silent", "files-differ",
        "new-process"])
def test_each_broken_promise_is_named(change, says):
    report = copy.deepcopy(GOOD)
    report.update(change)
    problems = check(report, LIMITS)
    assert len(problems) == 1 and says in problems[0], problems


def test_a_host_that_ran_the_guide_once_has_no_run2_comparison_and_passes():
    report = copy.deepcopy(GOOD)
    report["run2_vs_run1"] = None
    assert check(report, LIMITS) == []


def test_the_rounds_follow_the_release_of_the_host():
    from harness.hosts import HOSTS
    from harness.live_journey import rounds

    spec = {"rounds": 2, "rounds_by_release": {"trixie": 1}}
    assert rounds(spec, HOSTS["package-bookworm"]) == 2
    assert rounds(spec, HOSTS["docker-trixie"]) == 1
    assert rounds({"rounds": 3}, HOSTS["binary-trixie"]) == 3


def test_config_diff_is_none_without_a_second_run(report_module, tmp_path, monkeypatch):
    (tmp_path / "snap" / "run1" / "telegraf.md").mkdir(parents=True)
    monkeypatch.setattr(report_module, "STATE", tmp_path)
    assert report_module.config_diff() is None
