"""The live-server journey (harness/live-journey.yml): the Guide, twice, on a
host that starts as a reader's production server.

Items, in order, on one host (one container, one xdist worker):

    harness/live-journey.yml[package-bookworm]::reader's server
    harness/live-journey.yml[package-bookworm]::run1/configure.md::line 42   (page blocks)
    harness/live-journey.yml[package-bookworm]::run1/configure.md::after     (influxd still up?)
    ...
    harness/live-journey.yml[package-bookworm]::run2/troubleshoot.md::after
    harness/live-journey.yml[package-bookworm]::report

Page blocks run as in the journey (hidden set-up off, hidden checks on);
blocks marked `pytest.mark.new_server` are skipped: the page tells a reader
with a running server to skip them. The report item measures what the
reader's clients lived through and fails when a limit of the yml is broken.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from harness import pages as page_blocks
from harness.hosts import HostKind
from harness.plugin import (
    LIVE_JOURNEY,
    BlockFailed,
    BlockResult,
    RunbookPage,
)

LIVE = "/opt/runbook/harness/live"
NEW_SERVER_SKIP = "live server: the page says to skip this step on a server already set up"
STEP_TIMEOUT_S = 180
REPORT = "live-journey.json"


def collect_live_journey(kind: HostKind, file_path: Path, parent: pytest.Collector):
    spec = yaml.safe_load(file_path.read_text(encoding="utf-8"))
    if kind.name not in spec["hosts"]:
        return None
    rel = file_path.relative_to(parent.config.rootpath).as_posix()
    return LiveJourneyRun.from_parent(parent, path=file_path, host=kind, spec=spec,
                                      name=f"{file_path.name}[{kind.name}]",
                                      nodeid=f"{rel}[{kind.name}]")


class LiveJourneyRun(RunbookPage):
    """The reader's server, then the section's pages `rounds` times."""

    RUN = LIVE_JOURNEY

    def __init__(self, *, spec: dict, **kwargs) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.reader_cli = bool(spec.get("reader_cli", True))

    def collect(self):
        try:
            pages = page_blocks.journey_pages(self.config.rootpath / "mkdocs.yml",
                                              self.spec["section"])
            plans = [(page, page_blocks.page_plan(page)) for page in pages]
        except page_blocks.PageError as e:
            raise pytest.UsageError(f"docs harness: live journey: {e}") from None
        yield LiveStep.from_parent(self, name="reader's server",
                                   command=f"bash {LIVE}/reader-server.sh")
        for run in range(1, rounds(self.spec, self.host) + 1):
            for page, (declared, plan) in plans:
                if not page_blocks.follows(self.host, declared):
                    continue
                for item in self.journey_items(page, plan, prefix=f"run{run}/"):
                    if item.get_closest_marker("new_server") and not item.get_closest_marker(
                            "skip"):
                        item.add_marker(pytest.mark.skip(reason=NEW_SERVER_SKIP))
                    yield item
                yield AfterPage.from_parent(self, name=f"run{run}/{page.name}::after",
                                            command=f"bash {LIVE}/after-page.sh run{run} "
                                                    f"{page.name}")
        yield LiveReport.from_parent(self, name="report", command=f"python3 {LIVE}/report.py")


def rounds(spec: dict, host: HostKind) -> int:
    """How many times the host runs the section: `rounds`, or the host's
    release's entry in `rounds_by_release`."""
    return int(spec.get("rounds_by_release", {}).get(host.release, spec.get("rounds", 2)))


class LiveStep(pytest.Item):
    """A harness step in the reader's host (not a page block)."""

    def __init__(self, *, command: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.command = command

    def execute(self) -> BlockResult:
        page: LiveJourneyRun = self.parent  # type: ignore[assignment]
        if page.container is None:
            raise BlockFailed(f"live journey: {self.name}: the host is gone")
        return page.run(_Code(self.command), STEP_TIMEOUT_S)

    def runtest(self) -> None:
        result = self.execute()
        self.add_report_section("call", "stdout", result.stdout)
        if result.exit_code != 0:
            raise BlockFailed(self._failure(f"exit code {result.exit_code}", result))

    def _failure(self, why: str, result: BlockResult) -> str:
        page: LiveJourneyRun = self.parent  # type: ignore[assignment]
        return (f"live journey [{page.host.name}] {self.name}: {why}\n--- command ---\n"
                f"{self.command}\n--- stdout ---\n{result.stdout.rstrip()}\n--- stderr ---\n"
                f"{result.stderr.rstrip()}\n--- log tail ---\n{page.log_tail()}")

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, BlockFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, None, f"{self.parent.name}::{self.name}"


class AfterPage(LiveStep):
    """influxd active, coming back after a reboot (unit enabled, or a restart
    policy), and answering verified HTTPS once the Guide has turned it on."""

    def runtest(self) -> None:
        result = self.execute()
        self.add_report_section("call", "stdout", result.stdout)
        lines = result.stdout.strip().splitlines()
        if result.exit_code != 0 or not lines:
            raise BlockFailed(self._failure(f"exit code {result.exit_code}", result))
        state = json.loads(lines[-1])
        tls_on = not (state["run"] == "run1" and state["page"] == "certificates.md")
        problems = []
        if state["influxd"] != "active":
            problems.append(f"influxd is {state['influxd']}")
        if state["answers"] != ("https-verified" if tls_on else "http"):
            problems.append(f"influxd answers {state['answers']}")
        if state["telegraf"] != "active":
            problems.append(f"the reader's Telegraf is {state['telegraf']}")
        if state["boot"] not in ("enabled", "unless-stopped", "always"):
            problems.append(f"influxd would not come back after a reboot ({state['boot']})")
        if problems:
            raise BlockFailed(self._failure(", ".join(problems), result))


class LiveReport(LiveStep):
    """What the reader's clients lived through; fails when a limit is broken."""

    def runtest(self) -> None:
        result = self.execute()
        if result.exit_code != 0:
            raise BlockFailed(self._failure(f"exit code {result.exit_code}", result))
        report = json.loads(result.stdout.strip().splitlines()[-1])
        page: LiveJourneyRun = self.parent  # type: ignore[assignment]
        _save(self.config.rootpath, page.host.name, report)
        self.add_report_section("call", "live journey", summary(page.host.name, report))
        limits = page.spec.get("limits", {})
        problems = check(report, limits)
        if problems:
            raise BlockFailed(self._failure("; ".join(problems), result))


def check(report: dict, limits: dict) -> list[str]:
    """What the live journey promises a reader, as messages for what it broke."""
    problems = []
    where = ", ".join(f"{o['page']} {o['s']} s" for o in report["outages"] if o["s"] > 1)
    for run, seconds in report["outage_s_by_run"].items():
        if "outage_s_per_run" in limits and seconds > limits["outage_s_per_run"]:
            problems.append(f"{run}: the client could not write for {seconds} s > "
                            f"{limits['outage_s_per_run']} s ({where})")
    if "outage_s_longest" in limits and report["outage_s_longest"] > limits["outage_s_longest"]:
        problems.append(f"outage_s_longest {report['outage_s_longest']} s > "
                        f"{limits['outage_s_longest']} s ({where})")
    if report["stored"] is None:
        problems.append("influxd did not answer the report's count over verified HTTPS")
    else:
        if report["lost"]:
            problems.append(f"points written but not stored: seq {report['lost'][:20]}")
        unexplained = sorted(set(report["stored_unacknowledged"]) - set(report["maybe"]))
        if unexplained:
            problems.append(f"points stored that the client never sent in full: seq "
                            f"{unexplained[:20]}")
    if report["history_points"] != 100:
        problems.append(f"the reader's 100 older points: {report['history_points']} left")
    kept = set(report["telegraf"]["sections"])
    if not {"inputs.cpu", "outputs.file", "outputs.influxdb_v2"} <= kept:
        problems.append(f"the reader's Telegraf sections: {sorted(kept)}")
    if not report["telegraf"]["cpu_points_last_20s"]:
        problems.append("the reader's Telegraf wrote no cpu points in the last 20 s")
    changed = {k: v for k, v in (report["run2_vs_run1"] or {}).items() if v}
    if changed:
        problems.append(f"run 2 left other files than run 1: {json.dumps(changed)[:600]}")
    return problems


def summary(host: str, r: dict) -> str:
    by_run = ", ".join(f"{run} {s} s" for run, s in r["outage_s_by_run"].items())
    return (f"live journey [{host}]: {len(r['pages'])} page ends, {r['seconds']} s; client could "
            f"not write for {by_run} (longest {r['outage_s_longest']} s); points "
            f"written {r['written']}, stored {r['stored']} ({r['over_https']} over HTTPS, "
            f"{len(r['stored_unacknowledged'] or [])} stored whose answer was lost, "
            f"{len(r['lost'] or [])} lost); "
            f"Telegraf sections {', '.join(r['telegraf']['sections'])}; one restart: "
            f"{r['restart_downtime_s']['median']} s without HTTPS (median of "
            f"{len(r['restart_downtime_s']['samples'])})")


def summaries(root: Path, hosts: set[str]) -> list[str]:
    """One summary line per live journey that reported in this run."""
    try:
        data = json.loads((root / "reports" / REPORT).read_text())
    except (OSError, ValueError):
        return []
    return [summary(host, data[host]) for host in sorted(hosts) if host in data]


def _save(root: Path, host: str, report: dict) -> None:
    out = root / "reports" / REPORT
    out.parent.mkdir(exist_ok=True)
    try:
        data = json.loads(out.read_text())
    except (OSError, ValueError):
        data = {}
    data[host] = report
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(out)


class _Code:
    """The shape RunbookPage.run wants of a block."""

    syntax = "bash"

    def __init__(self, code: str) -> None:
        self.code = code
