"""The benchmarks page's hook: figures come from reports/ when a run wrote
them, say "Not measured in this build" when it did not, and hand-measured
figures come from docs/assets/timings.json with their commit and date."""

from __future__ import annotations

import json
from pathlib import Path

from site_hooks import benchmarks as hook

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "docs" / "assets"


def test_a_report_in_reports_shows_its_figures(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "ready-lag.json").write_text(json.dumps({"poll_s": 0.05,
                                                         "lags_s": [0.014, 0.031, 0.054]}))
    (reports / "live-journey.json").write_text(json.dumps({"package-bookworm": {
        "seconds": 158.7, "outage_s_by_run": {"run1": 2.5, "run2": 5.5},
        "outage_s_longest": 2.2, "restart_downtime_s": {"median": 0.27, "samples": [0.27]},
        "measured_at": "2026-12-07T05:00:00Z"}}))
    page = hook.render(reports, ASSETS)
    assert "14 to 54 ms over 3 starts, polling every 50 ms" in page["<!-- benchmarks:cli -->"]
    live = page["<!-- benchmarks:live -->"]
    assert "| `package-bookworm` | 2 min 39 s | 2.5 s / 5.5 s | 2.2 s | 270 ms |" in live
    assert hook.NOT_MEASURED not in live


def test_an_empty_reports_folder_says_not_measured(tmp_path):
    page = hook.render(tmp_path / "reports", ASSETS)
    assert page["<!-- benchmarks:live -->"] == (
        "Not measured in this build: `make test` writes `reports/live-journey.json`.")
    for marker in ("pages", "journeys", "suite", "cli", "build"):
        assert hook.NOT_MEASURED in page[f"<!-- benchmarks:{marker} -->"], marker


def test_hand_measured_figures_carry_their_commit_and_date():
    timings = json.loads((ASSETS / "timings.json").read_text())
    cold_demo = next(f for f in timings["figures"] if f["what"].startswith("`make demo` on a "
                                                                          "fresh clone, empty"))
    row = hook.hand_measured(timings, "build").splitlines()[2]
    assert row == (f"| {cold_demo['what']} | {hook.duration(cold_demo['seconds'])} | "
                   f"`{cold_demo['commit']}`, {cold_demo['date']}, {cold_demo['machine']} |")
    assert {f["machine"] for f in timings["figures"]} <= set(timings["machines"])


def test_durations_read_as_a_person_says_them():
    assert [hook.duration(s) for s in (0.159, 0.3, 2.5, 19, 60, 933)] == [
        "159 ms", "300 ms", "2.5 s", "19 s", "1 min 0 s", "15 min 33 s"]
    assert [hook.spread(r) for r in ([0.014, 0.054], [0.8, 1.2], [0.5, 0.5], [152, 933])] == [
        "14 to 54 ms", "0.8 to 1.2 s", "500 ms", "2 min 32 s to 15 min 33 s"]


def test_every_marker_the_hook_fills_is_on_the_page(tmp_path):
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    assert [m for m in hook.render(tmp_path, ASSETS) if m not in page] == []
