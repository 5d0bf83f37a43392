"""Run every code block of the docs pages inside a fresh Linux host per page.

pytest-codeblocks finds the blocks (its `extract_from_file`, markers and
`cont`/`expected-output` comments); this plugin runs them. Each page gets one
container from the runbook image: a host with influxd, telegraf, openssl,
curl and python3 on which the guide can be followed literally, including
`localhost:8086`, because each container has its own network namespace.
Pages therefore run in parallel (`-n 2 --dist loadfile`) without clashing.

Each block runs as `bash -euo pipefail` (or python3) with a timeout; on
failure the report shows the block, stdout, stderr and the influxd log tail.
The container is removed when the page ends, passes or fails, and a sweep by
session label at the end of the run removes anything an interrupt left.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_codeblocks.main import CodeBlock, extract_from_file

ROOT = Path(__file__).resolve().parent.parent
SESSION_ENV = "RUNBOOK_TEST_SESSION"
IMAGE_ENV = "RUNBOOK_IMAGE"
LABEL = "runbook.session"
DEFAULT_BLOCK_TIMEOUT = 120
# Names the wildcard page serves; each resolves to its own loopback address
# inside the page's container only.
EXTRA_HOSTS = {
    "influxdb.example.test": "127.0.0.1",
    "eu.influxdb.example.test": "127.0.0.2",
    "us.influxdb.example.test": "127.0.0.3",
}
# Placeholders an operator replaces; the harness replaces them at collection.
PLACEHOLDERS = {"NUMBER_OF_DAYS": "365"}
LOG_GLOB = "/var/log/influxdb*.log /var/log/telegraf*.log"


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def _docker():
    import docker

    return docker.from_env()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("runbook_pages", type="linelist", default=["docs"],
                  help="folders whose .md pages the docs harness runs")


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault(SESSION_ENV, uuid.uuid4().hex[:12])
    if _is_controller(config):
        config.pluginmanager.register(Timings(), "runbook-docs-timings")
    config.addinivalue_line("markers", "timeout(seconds): per-block time limit")


def _ensure_image() -> str:
    """Start a Docker engine if none answers and build the image if missing."""
    if os.environ.get(IMAGE_ENV):
        return os.environ[IMAGE_ENV]
    for script in ("docker-engine.sh", "build-image.sh"):
        proc = subprocess.run(
            ["bash", str(ROOT / "scripts" / script)],
            stdout=subprocess.PIPE,
            text=True,
        )
        if proc.returncode != 0:
            raise pytest.UsageError(
                f"docs harness: scripts/{script} failed (exit {proc.returncode}); "
                "see its messages above. Fix: run `make images` and read its output."
            )
    image = proc.stdout.strip().splitlines()[-1]
    os.environ[IMAGE_ENV] = image
    return image


def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    roots = [parent.config.rootpath / d for d in parent.config.getini("runbook_pages")]
    if file_path.suffix == ".md" and any(r in file_path.parents for r in roots):
        return RunbookPage.from_parent(parent, path=file_path)
    return None


def pytest_collection_finish(session: pytest.Session) -> None:
    # A run that collected pages prepares the engine and image up front, so
    # their progress shows first; a run without pages skips it. Under xdist
    # the controller collects nothing: each worker prepares lazily in a page's
    # setup, and the scripts' locks keep two workers from building at once.
    if _is_controller(session.config) and any(
        isinstance(i, PageBlock) for i in session.items
    ):
        _ensure_image()


class Timings:
    """Per-page wall time and block counts, gathered on the controller from
    every item's reports (also those that xdist workers send back)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.pages: dict[str, float] = defaultdict(float)
        self.counts = {"ran": 0, "hidden": 0, "skipped": 0, "failed": 0}
        self.skip_reasons: dict[str, int] = defaultdict(int)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if ".md::line " not in report.nodeid:
            return
        self.pages[report.nodeid.split("::")[0]] += report.duration
        if report.when == "call":
            self.counts["ran"] += 1
            self.counts["hidden"] += dict(report.user_properties).get("hidden", False)
            self.counts["failed"] += report.failed
        elif report.skipped:
            self.counts["skipped"] += 1
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else "skipped"
            self.skip_reasons[reason.removeprefix("Skipped: ")] += 1

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config) -> None:
        if not self.pages:
            return
        c = self.counts
        terminalreporter.write_line(
            f"docs harness: {c['ran']} code blocks ran ({c['hidden']} hidden checks, "
            f"{c['failed']} failed) on {len(self.pages)} pages; {c['skipped']} skipped")
        for reason, n in self.skip_reasons.items():
            terminalreporter.write_line(f"  skipped x{n}: {reason}")
        workers = getattr(config.option, "numprocesses", None) or 0
        report = {
            "mode": f"xdist -n {workers}" if workers else "serial",
            "wall_s": round(time.monotonic() - self.started, 2),
            "blocks": dict(c),
            "skip_reasons": dict(self.skip_reasons),
            "pages_s": {p: round(t, 2) for p, t in sorted(self.pages.items())},
        }
        out = config.rootpath / "reports" / "docs-timings.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        terminalreporter.write_line(f"docs harness: per-page timings in {out}")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _is_controller(config):
        remove_session_containers(os.environ.get(SESSION_ENV, ""))


def remove_session_containers(session_id: str) -> int:
    """Force-remove every container (and its volumes) this test session made."""
    if not session_id:
        return 0
    try:
        client = _docker()
        containers = client.containers.list(all=True, filters={"label": f"{LABEL}={session_id}"})
    except Exception:  # noqa: BLE001 - no engine means nothing to clean
        return 0
    for c in containers:
        c.remove(force=True, v=True)
    return len(containers)


def hidden_lines(text: str) -> set[int]:
    """Line numbers (1-based) that sit inside an HTML comment."""
    hidden, inside = set(), False
    for n, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        opens = stripped.startswith("<!--") and "-->" not in stripped
        if inside or opens:
            hidden.add(n)
        if opens:
            inside = True
        elif inside and "-->" in stripped:
            inside = False
    return hidden


@dataclass
class BlockResult:
    exit_code: int
    stdout: str
    stderr: str


class BlockFailed(Exception):
    """A block exited non-zero or printed other than expected."""


class RunbookPage(pytest.File):
    """One docs page: its blocks share one fresh container, in order."""

    container = None

    def collect(self):
        text = self.path.read_text(encoding="utf-8")
        hidden = hidden_lines(text)
        for block in extract_from_file(self.path):
            if block.syntax not in ("python", "sh", "bash"):
                continue
            for placeholder, value in PLACEHOLDERS.items():
                block.code = block.code.replace(placeholder, value)
            item = PageBlock.from_parent(self, name=f"line {block.lineno}", block=block)
            item.hidden = block.lineno in hidden
            item.user_properties.append(("hidden", item.hidden))
            for mark in block.marks:
                item.add_marker(eval(mark, {"sys": sys, "pytest": pytest}))  # noqa: S307
            yield item

    def setup(self) -> None:
        image = _ensure_image()
        client = _docker()
        rel = self.path.relative_to(self.config.rootpath).as_posix()
        self.container = client.containers.run(
            image,
            entrypoint=["sleep", "infinity"],
            command=[],
            detach=True,
            init=True,  # reaps the background influxd/telegraf the pages start
            labels={LABEL: os.environ[SESSION_ENV], "runbook.page": rel},
            extra_hosts=EXTRA_HOSTS,
            volumes={str(ROOT): {"bind": "/opt/runbook", "mode": "ro"}},
            environment={"PYTHONPATH": "/opt/runbook"},
            working_dir="/tmp",
            name=f"runbook-{os.environ[SESSION_ENV]}-{re.sub(r'[^a-z0-9]+', '-', rel.lower())}",
        )

    def teardown(self) -> None:
        if self.container is not None:
            self.container.remove(force=True, v=True)
            self.container = None

    def run(self, block: CodeBlock, timeout: int) -> BlockResult:
        if block.syntax == "python":
            cmd = ["timeout", "--kill-after=5", str(timeout), "python3", "-c", block.code]
        else:
            cmd = ["timeout", "--kill-after=5", str(timeout), "bash", "-euo", "pipefail", "-c",
                   block.code]
        code, (out, err) = self.container.exec_run(cmd, demux=True)
        return BlockResult(code, (out or b"").decode(errors="replace"),
                           (err or b"").decode(errors="replace"))

    def log_tail(self, lines: int = 25) -> str:
        if self.container is None:
            return ""
        code, out = self.container.exec_run(
            ["bash", "-c", f"for f in {LOG_GLOB}; do [ -f $f ] && echo \"== $f\" "
             f"&& tail -n {lines} $f; done; true"]
        )
        return out.decode(errors="replace").strip()


class PageBlock(pytest.Item):
    hidden = False

    def __init__(self, *, block: CodeBlock, **kwargs) -> None:
        super().__init__(**kwargs)
        self.block = block

    def runtest(self) -> None:
        page: RunbookPage = self.parent  # type: ignore[assignment]
        mark = self.get_closest_marker("timeout")
        timeout = int(mark.args[0]) if mark and mark.args else DEFAULT_BLOCK_TIMEOUT
        result = page.run(self.block, timeout)
        if result.exit_code != 0:
            why = "timed out" if result.exit_code in (124, 137) else f"exit code {result.exit_code}"
            raise BlockFailed(self._report(why, result, page.log_tail()))
        expected = self.block.expected_output
        if expected is not None:
            got = result.stdout
            if self.block.expected_output_ignore_whitespace:
                expected, got = re.sub(r"\s+", "", expected), re.sub(r"\s+", "", got)
            if expected != got:
                raise BlockFailed(
                    self._report("stdout differs from the expected output", result, "")
                    + f"\n--- expected stdout ---\n{self.block.expected_output}"
                )

    def _report(self, why: str, result: BlockResult, log: str) -> str:
        kind = "hidden check" if self.hidden else "block"
        where = f"{self.path.relative_to(self.config.rootpath)}:{self.block.lineno}"
        parts = [
            f"{where}: {kind} failed: {why}",
            f"--- {self.block.syntax} ---\n{self.block.code.rstrip()}",
            f"--- stdout ---\n{result.stdout.rstrip()}",
            f"--- stderr ---\n{result.stderr.rstrip()}",
        ]
        if log:
            parts.append(f"--- log tail ---\n{log}")
        return "\n".join(parts)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, BlockFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.block.lineno - 1, f"{self.path.name}::{self.name}"
