"""Run every code block of the docs pages inside a fresh Linux host per page
and per install method.

pytest-codeblocks finds the blocks (its `extract_from_file`, markers and
`cont`/`expected-output` comments); this plugin runs them. A page runs once
on each host kind it declares (harness/hosts/__init__.py: the package host under
systemd, the Docker host with its own engine, the binary host), as test ids
`docs/page.md[package-trixie]::line N`. Blocks outside host tabs run on every host;
blocks inside a host's tab ("Linux package", "Docker", "Binary") only on it.
Each run gets one container: a host on which the guide can be followed
literally, including `localhost:8086`, because each container has its own
network namespace. Pages therefore run in parallel (`-n 2 --dist loadfile`)
without clashing.

Each block runs as `bash -euo pipefail` (or python3) with a timeout; on
failure the report shows the block, stdout, stderr and the influxd log tail.
The container is removed when the page ends, passes or fails, and a sweep by
session label at the end of the run removes anything an interrupt left.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from harness import pages as page_blocks
from harness.codeblocks import CodeBlock
from harness.container_exec import run_in
from harness.expected_output import output_matches
from harness.hosts import HOSTS, HostKind, HostNotReady
from harness.hosts.binary import host as host_binary
from harness.update_expected import rewrite_expected

ROOT = Path(__file__).resolve().parent.parent
SESSION_ENV = "RUNBOOK_TEST_SESSION"
# The pid of the pytest that owns the session: only it sweeps the session's
# containers at its end. A pytest started by a test of this run inherits
# both variables and must not sweep: it would remove containers the run's
# other tests are still using (seen: a collect-only child removed the fleet
# test's hosts). A test that gives its child a session of its own unsets this.
SESSION_OWNER_ENV = "RUNBOOK_TEST_SESSION_OWNER"
LABEL = "runbook.session"
HOST_READY_DEADLINE_S = 120
DEFAULT_BLOCK_TIMEOUT = 120
# Names the wildcard page serves; each resolves to its own loopback address
# inside the page's container only.
EXTRA_HOSTS = {
    "influxdb.example.test": "127.0.0.1",
    "eu.influxdb.example.test": "127.0.0.2",
    "us.influxdb.example.test": "127.0.0.3",
}
# The folder of the journey files, from the repo root.
HOME = "harness"
# harness/journey.yml: the guide in nav order on one host per install method.
JOURNEY_FILE = "journey.yml"
# harness/live-journey.yml: the guide twice on a reader's live server (harness/live_journey.py).
LIVE_JOURNEY_FILE = "live-journey.yml"
# Placeholders the site build replaces (site_hooks/download.py); the
# harness replaces them at collection. The site's address maps to the build
# folder of this checkout, mounted in every host: the same path, downloads/
# runbook.pyz, holds the same file (scripts/build_pyz.py), whose SHA-256 the
# install block checks.
SITE_URL = "https://RUNBOOK_SITE/"
PYZ_SHA256 = "RUNBOOK_PYZ_SHA256"
# The internet a reader's server reaches, mapped to what the hosts (which have
# none) run instead, the same way: Let's Encrypt's ACME directories, staging and
# production, to the Pebble CA that harness/page_setup/start-pebble.sh starts, and
# acme.md's example DNS provider API to Pebble's DNS server (pebble-challtestsrv's
# management API). Only these exact URLs are mapped, no certbot flag
# (`--staging`, `--test-cert`); the clients page's installs are mapped by
# harness/page_setup/client-kit.sh instead (config files of apt, pip and npm).
ACME_TEST_CA = "https://localhost:14000/dir"
PLACEHOLDERS = {"NUMBER_OF_DAYS": "365", SITE_URL: "file:///opt/runbook/build/",
                "https://acme-staging-v02.api.letsencrypt.org/directory": ACME_TEST_CA,
                "https://acme-v02.api.letsencrypt.org/directory": ACME_TEST_CA,
                "https://dns-api.example.test/": "http://localhost:8055/"}


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")


def _docker():
    import docker

    return docker.from_env()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("runbook_pages", type="linelist", default=["docs"],
                  help="folders whose .md pages the docs harness runs")
    parser.addoption("--update-expected", action="store_true", default=False,
                     help="rewrite expected-output blocks that no longer match from this run "
                          "(review with git diff docs/)")


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault(SESSION_ENV, uuid.uuid4().hex[:12])
    if _is_controller(config) and SESSION_OWNER_ENV not in os.environ:
        os.environ[SESSION_OWNER_ENV] = str(os.getpid())
    if _is_controller(config):
        config.pluginmanager.register(Timings(), "runbook-docs-timings")
    config.addinivalue_line("markers", "timeout(seconds): per-block time limit")
    config.addinivalue_line("markers", "exit_code(n, ...): the block must exit with one of "
                                       "these statuses (a command that fails on purpose)")
    config.addinivalue_line("markers", "runbook_cli: a step that uses the runbook CLI, an "
                                       "optional extra (the journeys' reader has none)")
    config.addinivalue_line("markers", "new_server: a step the page says to skip on a server "
                                       "that is already set up (the live journey skips it)")
    # A page's blocks share one host, in order: under xdist they must stay on
    # one worker. `-n 2` alone means `--dist load`, which splits them.
    if getattr(config.option, "dist", "no") == "load":
        config.option.dist = "loadfile"
    # pytest-codeblocks' own plugin (`--codeblocks`, as in the upstream docs
    # repository) would run every page block a second time on THIS machine,
    # as root: writing /etc/ssl, starting and killing influxd. Its collection
    # is switched off; the pages run only in their hosts.
    if getattr(config.option, "codeblocks", False):
        config.pluginmanager.unregister(name="codeblocks")
        config.issue_config_time_warning(pytest.PytestConfigWarning(
            "--codeblocks is ignored here: the docs harness runs each page in its own "
            "container host (pytest-codeblocks would run them on this machine). "
            "Use `make test-docs`."), stacklevel=2)
    # One collector per host kind, so one page gives `page.md[package-trixie]`,
    # `page.md[binary-bookworm]`... as separate files for `--dist loadfile`.
    for kind in HOSTS.values():
        config.pluginmanager.register(HostCollector(kind), f"runbook-host-{kind.name}")


def _ensure_image() -> str:
    """Start a Docker engine if none answers and build the runbook image, the
    base of every host image (each host kind builds its own in host_image)."""
    try:
        return host_binary.build_runbook_image()
    except HostNotReady as e:
        raise pytest.UsageError(f"docs harness: {e}") from None


class HostCollector:
    """Collects each docs page that declares this host kind."""

    def __init__(self, kind: HostKind) -> None:
        self.kind = kind

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector):
        if file_path.name == JOURNEY_FILE and file_path.parent == parent.config.rootpath / HOME:
            return self._journey(file_path, parent)
        if (file_path.name == LIVE_JOURNEY_FILE
                and file_path.parent == parent.config.rootpath / HOME):
            from harness.live_journey import collect_live_journey

            return collect_live_journey(self.kind, file_path, parent)
        roots = [parent.config.rootpath / d for d in parent.config.getini("runbook_pages")]
        if file_path.suffix != ".md" or not any(r in file_path.parents for r in roots):
            return None
        if self.kind.name not in alone_hosts(file_path.read_text(encoding="utf-8")):
            return None
        rel = file_path.relative_to(parent.config.rootpath).as_posix()
        return RunbookPage.from_parent(parent, path=file_path, host=self.kind,
                                       name=f"{file_path.name}[{self.kind.name}]",
                                       nodeid=f"{rel}[{self.kind.name}]")


    def _journey(self, file_path: Path, parent: pytest.Collector):
        spec = yaml.safe_load(file_path.read_text(encoding="utf-8"))
        if self.kind.name not in spec["hosts"]:
            return None
        rel = file_path.relative_to(parent.config.rootpath).as_posix()
        return JourneyRun.from_parent(parent, path=file_path, host=self.kind,
                                      section=spec["section"],
                                      start_with=spec.get("start_with", []),
                                      reader_cli=bool(spec.get("reader_cli", True)),
                                      name=f"{file_path.name}[{self.kind.name}]",
                                      nodeid=f"{rel}[{self.kind.name}]")


def page_hosts(text: str) -> tuple[str, ...]:
    """The host kinds a page declares; a bad declaration stops the run."""
    try:
        return page_blocks.page_hosts(text)
    except page_blocks.PageError as e:
        raise pytest.UsageError(f"docs harness: {e}") from None


def alone_hosts(text: str) -> tuple[str, ...]:
    """The host kinds a page runs on by itself; a bad declaration stops the run."""
    try:
        return page_blocks.alone_hosts(text)
    except page_blocks.PageError as e:
        raise pytest.UsageError(f"docs harness: {e}") from None


def pytest_collection_finish(session: pytest.Session) -> None:
    # A run that collected pages prepares the engine and images up front, so
    # their progress shows first; a run without pages skips it. Under xdist
    # the controller collects nothing: each worker prepares lazily in a page's
    # setup, and the scripts' locks keep two workers from building at once.
    if not _is_controller(session.config):
        return
    kinds = {i.parent.host.name for i in session.items if isinstance(i, PageBlock)}
    if kinds:
        _ensure_image()
    for name in sorted(kinds):
        host_image(HOSTS[name])


_images: dict[str, str] = {}


@functools.cache
def _build_pyz() -> Path:
    """Once per process: every host kind installs the same file."""
    from scripts.build_pyz import build

    return build()


def _pyz_sha256() -> str:
    """The SHA-256 of the CLI file the hosts install: built here, at
    collection (each xdist worker builds the same bytes from one checkout)."""
    return hashlib.sha256(_build_pyz().read_bytes()).hexdigest()


def host_image(kind: HostKind) -> str:
    """The image of a host kind, built once per process (scripts lock), and
    the runbook CLI file the pages install (build/downloads/runbook.pyz)."""
    if kind.name not in _images:
        _build_pyz()
        _ensure_image()  # the engine, and the base every host image builds on
        try:
            _images[kind.name] = kind.impl().build_image(kind.release)
        except Exception as e:  # noqa: BLE001 - a failed build is a usage error
            raise pytest.UsageError(
                f"docs harness: the {kind.name} host's image could not be built: {e}") from None
    return _images[kind.name]


class Timings:
    """Per-page wall time and block counts, gathered on the controller from
    every item's reports (also those that xdist workers send back)."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.counts = {"ran": 0, "hidden": 0, "skipped": 0, "failed": 0}
        self.per_host: dict[str, int] = defaultdict(int)
        self.skip_reasons: dict[str, int] = defaultdict(int)
        self.journeys: dict[str, dict] = {}
        self.live_hosts: set[str] = set()  # live journeys whose report item ran
        # (page, host) -> outcome counts and seconds, for the site's provenance line.
        self.outcomes: dict[tuple[str, str], dict[str, float]] = defaultdict(_outcome)
        # The same for each page the journeys ran: a page that runs alone on
        # fewer hosts than it declares is verified on the others by these.
        self.journey_outcomes: dict[tuple[str, str], dict[str, float]] = defaultdict(_outcome)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        run = dict(report.user_properties)  # what ran where (pytest_itemcollected)
        host = run.get("host")
        if run.get("run") == LIVE_JOURNEY:
            if run.get("step") == "report" and report.when == "call":
                self.live_hosts.add(host)
            return
        if run.get("run") == JOURNEY:
            self._journey(host, run["page"], report)
            return
        if run.get("run") != PAGE:
            return
        _count(self.outcomes[(run["page"], host)], report)
        if report.when == "call":
            self.counts["ran"] += 1
            self.per_host[host] += 1
            self.counts["hidden"] += dict(report.user_properties).get("hidden", False)
            self.counts["failed"] += report.failed
        elif report.skipped:
            self.counts["skipped"] += 1
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else "skipped"
            self.skip_reasons[reason.removeprefix("Skipped: ")] += 1

    def _journey(self, host: str, page: str, report: pytest.TestReport) -> None:
        j = self.journeys.setdefault(host, {"pages": [], "ran": 0, "hidden_checks": 0,
                                            "setup_skipped": 0, "failed": 0, "s": 0.0})
        if Path(page).name not in j["pages"]:
            j["pages"].append(Path(page).name)
        j["s"] += report.duration
        _count(self.journey_outcomes[(page, host)], report)
        if report.when == "call":
            j["ran"] += 1
            j["hidden_checks"] += dict(report.user_properties).get("hidden", False)
            j["failed"] += report.failed
        elif report.skipped and JOURNEY_SETUP_OFF in str(report.longrepr):
            j["setup_skipped"] += 1
        elif report.failed:
            j["failed"] += 1

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config) -> None:
        for host, j in sorted(self.journeys.items()):
            terminalreporter.write_line(
                f"journey [{host}]: {len(j['pages'])} pages in nav order, {j['ran']} blocks ran "
                f"({j['hidden_checks']} hidden checks, {j['failed']} failed), "
                f"{j['setup_skipped']} hidden set-up blocks off, {j['s']:.1f} s")
        if self.live_hosts:
            from harness.live_journey import summaries

            for line in summaries(config.rootpath, self.live_hosts):
                terminalreporter.write_line(line)
        if not self.outcomes and not self.journeys:
            return
        c = self.counts
        terminalreporter.write_line(
            f"docs harness: {c['ran']} code blocks ran ({c['hidden']} hidden checks, "
            f"{c['failed']} failed) on {len(self.outcomes)} page runs; {c['skipped']} skipped")
        terminalreporter.write_line(
            "  per host: " + ", ".join(f"{h} {n}" for h, n in sorted(self.per_host.items())))
        for reason, n in self.skip_reasons.items():
            terminalreporter.write_line(f"  skipped x{n}: {reason}")
        workers = getattr(config.option, "numprocesses", None) or 0
        report = {
            "mode": f"xdist -n {workers}" if workers else "serial",
            "wall_s": round(time.monotonic() - self.started, 2),
            "blocks": dict(c),
            "blocks_per_host": dict(self.per_host),
            "skip_reasons": dict(self.skip_reasons),
            "pages_s": {f"{page}[{host}]": round(o["s"], 2)
                        for (page, host), o in sorted(self.outcomes.items())},
            "journey": {h: {**j, "s": round(j["s"], 2)} for h, j in sorted(self.journeys.items())},
        }
        out = config.rootpath / "reports" / "docs-timings.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(report, indent=2) + "\n")
        terminalreporter.write_line(f"docs harness: per-page timings in {out}")
        record_provenance(config.rootpath, self.outcomes, self.journey_outcomes)


def _outcome() -> dict[str, float]:
    return {"passed": 0, "failed": 0, "skipped": 0, "s": 0.0}


def _count(outcome: dict[str, float], report: pytest.TestReport) -> None:
    """Add one block's report to a page's outcome on one host."""
    outcome["s"] += report.duration
    if report.failed:
        outcome["failed"] += 1
    elif report.when == "call":
        outcome["passed"] += 1
    elif report.skipped:
        outcome["skipped"] += 1


Outcomes = dict[tuple[str, str], dict[str, float]]


def record_provenance(root: Path, outcomes: Outcomes, journey_outcomes: Outcomes | None = None,
                      ) -> Path:
    """Merge this run's outcome per page and host (block counts and, as "s",
    the seconds its blocks took) into reports/provenance.json, which the
    site's provenance hook reads: page runs under "pages", the journeys'
    runs of each page under "journeys". A page run here replaces its earlier
    record; pages not run here keep theirs."""
    out = root / "reports" / "provenance.json"
    try:
        data = json.loads(out.read_text())
    except (OSError, ValueError):
        data = {}
    versions = dict(line.split("=", 1) for line in (ROOT / "versions.env").read_text().splitlines()
                    if "=" in line and not line.startswith("#"))
    data["influxd"] = versions["INFLUXD_VERSION"].removeprefix("v")
    date = time.strftime("%Y-%m-%d", time.gmtime())
    for section, runs in (("pages", outcomes), ("journeys", journey_outcomes or {})):
        pages = data.setdefault(section, {})
        for (page, host), counts in runs.items():
            record = {**counts, "date": date}
            if "s" in record:
                record["s"] = round(record["s"], 1)
            pages.setdefault(page, {})[host] = record
    out.parent.mkdir(exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(out)
    return out


def pytest_unconfigure(config: pytest.Config) -> None:
    if _is_controller(config) and os.environ.get(SESSION_OWNER_ENV) == str(os.getpid()):
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


@dataclass
class BlockResult:
    exit_code: int
    stdout: str
    stderr: str


class BlockFailed(Exception):
    """A block exited non-zero or printed other than expected."""


class HostSetupFailed(Exception):
    """The page's host did not come up; one line says what and the fix."""


# What a run of pages is, on each of its items' reports ("run").
PAGE, JOURNEY, LIVE_JOURNEY = "page", "journey", "live-journey"


def pytest_itemcollected(item: pytest.Item) -> None:
    """Page, host and run as data on each item's reports (xdist sends
    user_properties to the controller), so nothing parses them from test ids."""
    run = item.parent
    if not isinstance(run, RunbookPage):
        return
    item.user_properties += [("run", run.RUN), ("host", run.host.name)]
    page = getattr(item, "page", None)
    if page is not None:
        item.user_properties.append(("page", page.relative_to(item.config.rootpath).as_posix()))
    else:  # a live journey's own step: its name says which
        item.user_properties.append(("step", item.name))


class RunbookPage(pytest.File):
    """One docs page on one host kind: its blocks share one fresh host, in order."""

    RUN = PAGE
    container = None
    # False: the reader has no runbook CLI (the journeys): it is removed from
    # the host, blocks marked runbook_cli are skipped, and only hidden blocks
    # find it (HIDDEN_PATH).
    reader_cli = True

    def __init__(self, *, host: HostKind, **kwargs) -> None:
        super().__init__(**kwargs)
        self.host = host

    def collect(self):
        try:
            _, plan = page_blocks.page_plan(self.path)
        except page_blocks.PageError as e:
            raise pytest.UsageError(f"docs harness: {e}") from None
        for planned in plan:
            if planned.runs_on(self.host.name):
                yield self._item(planned, self.path, f"line {planned.block.lineno}")

    def _item(self, planned: page_blocks.PlannedBlock, page: Path, name: str) -> PageBlock:
        block = planned.block
        for placeholder, value in PLACEHOLDERS.items():
            block.code = block.code.replace(placeholder, value)
        if PYZ_SHA256 in block.code:
            block.code = block.code.replace(PYZ_SHA256, _pyz_sha256())
        item = PageBlock.from_parent(self, name=name, block=block)
        item.page = page
        item.hidden = planned.hidden
        item.user_properties.append(("hidden", item.hidden))
        for mark in block.marks:
            item.add_marker(eval(mark, {"sys": sys, "pytest": pytest}))  # noqa: S307
        return item

    def journey_items(self, page: Path, plan: list[page_blocks.PlannedBlock],
                      prefix: str = ""):
        """A page's blocks for this host, as a reader meets them in a journey:
        hidden set-up off (a reader has none), hidden checks on."""
        for planned in plan:
            if not planned.runs_on(self.host.name):
                continue
            item = self._item(planned, page, f"{prefix}{page.name}::line {planned.block.lineno}")
            if page_blocks.is_setup(planned):
                item.add_marker(pytest.mark.skip(reason=JOURNEY_SETUP_OFF))
            elif not self.reader_cli and item.get_closest_marker("runbook_cli"):
                item.add_marker(pytest.mark.skip(reason=JOURNEY_NO_CLI))
            yield item

    def setup(self) -> None:
        image = host_image(self.host)
        impl = self.host.impl()
        client = _docker()
        rel = self.path.relative_to(self.config.rootpath).as_posix()
        kwargs = impl.run_kwargs(self.host.release)
        volumes = {**kwargs.pop("volumes", {}),
                   str(ROOT): {"bind": "/opt/runbook", "mode": "ro"}}
        environment = {**kwargs.pop("environment", {}), "PYTHONPATH": "/opt/runbook"}
        self.container = client.containers.run(
            image,
            detach=True,
            labels={LABEL: os.environ[SESSION_ENV], "runbook.page": rel,
                    "runbook.host": self.host.name},
            extra_hosts=EXTRA_HOSTS,
            volumes=volumes,
            environment=environment,
            name=(f"runbook-{os.environ[SESSION_ENV]}-"
                  f"{re.sub(r'[^a-z0-9]+', '-', rel.lower())}-{self.host.name}"),
            **kwargs,
        )
        try:
            impl.wait_ready(self.container, HOST_READY_DEADLINE_S)
        except Exception as e:  # noqa: BLE001 - any failure to get ready ends the page
            raise HostSetupFailed(f"{self.host.name} host for {rel} not ready: {e}") from None
        if not self.reader_cli:
            ran = run_in(self.container, ["sh", "-c", "rm -f /usr/local/bin/runbook && "
                                          "! command -v runbook"])
            if ran.exit_code != 0:
                raise HostSetupFailed(f"the runbook CLI is still on PATH in the {self.host.name} "
                                      f"host: {ran.output or 'command -v found it'}")

    def teardown(self) -> None:
        if self.container is not None:
            self.container.remove(force=True, v=True)
            self.container = None

    def run(self, block: CodeBlock, timeout: int, hidden: bool = False) -> BlockResult:
        if block.syntax == "python":
            cmd = ["timeout", "--kill-after=5", str(timeout), "python3", "-c", block.code]
        else:
            cmd = ["timeout", "--kill-after=5", str(timeout), "bash", "-euo", "pipefail", "-c",
                   block.code]
        environment = {"HOME": "/root"}
        if hidden and not self.reader_cli:
            environment["PATH"] = HIDDEN_PATH
        ran = run_in(self.container, cmd, workdir="/root", environment=environment)
        return BlockResult(ran.exit_code, ran.stdout, ran.stderr)

    def log_tail(self, lines: int = 25) -> str:
        if self.container is None:
            return ""
        return self.host.impl().log_tail(self.container, lines)


class JourneyRun(RunbookPage):
    """Every page of a nav section, in nav order, on ONE fresh host, as a
    reader follows the site: hidden set-up blocks are off (a reader has none),
    hidden checks still run. Ids: `harness/journey.yml[package-bookworm]::configure.md::line N`."""

    RUN = JOURNEY

    def __init__(self, *, section: str, start_with: list[str], reader_cli: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.section = section
        self.start_with = start_with
        self.reader_cli = reader_cli

    def collect(self):
        try:
            pages = page_blocks.journey(self.config.rootpath / "mkdocs.yml",
                                        self.start_with, self.section)
            plans = [(page, page_blocks.page_plan(page)) for page in pages]
        except page_blocks.PageError as e:
            raise pytest.UsageError(f"docs harness: journey: {e}") from None
        for page, (declared, plan) in plans:
            if page_blocks.follows(self.host, declared):
                yield from self.journey_items(page, plan)


JOURNEY_SETUP_OFF = "journey: hidden set-up is off (a reader has none)"
JOURNEY_NO_CLI = "journey: the reader has no runbook CLI (an optional extra)"
# PATH for hidden blocks where the reader has no runbook CLI: the checks'
# own runbook first (harness/page_setup/bin), then the hosts' usual PATH.
HIDDEN_PATH = ("/opt/runbook/harness/page_setup/bin:/usr/local/sbin:/usr/local/bin:"
               "/usr/sbin:/usr/bin:/sbin:/bin")


class PageBlock(pytest.Item):
    hidden = False
    page: Path

    def __init__(self, *, block: CodeBlock, **kwargs) -> None:
        super().__init__(**kwargs)
        self.block = block

    def runtest(self) -> None:
        page: RunbookPage = self.parent  # type: ignore[assignment]
        mark = self.get_closest_marker("timeout")
        timeout = int(mark.args[0]) if mark and mark.args else DEFAULT_BLOCK_TIMEOUT
        result = page.run(self.block, timeout, hidden=self.hidden)
        # What the block printed, for `pytest -rP` (hidden checks print measures).
        self.add_report_section("call", "stdout", result.stdout)
        wanted = self.get_closest_marker("exit_code")
        # exit_code(0, 1): either (a status that differs between releases;
        # the page says which, and a hidden check pins each).
        want_codes = tuple(int(a) for a in wanted.args) if wanted else (0,)
        if result.exit_code in (124, 137) and not {124, 137} & set(want_codes):
            raise BlockFailed(self._report("timed out", result, page.log_tail()))
        if result.exit_code not in want_codes:
            expected = " or ".join(map(str, want_codes))
            why = f"exit code {result.exit_code}" + (f", expected {expected}" if wanted else "")
            raise BlockFailed(self._report(why, result, page.log_tail()))
        expected = self.block.expected_output
        if expected is not None:
            got = result.stdout
            if self.block.expected_output_ignore_whitespace:
                same = re.sub(r"\s+", "", expected) == re.sub(r"\s+", "", got)
            else:
                same = output_matches(expected, got)
            if not same and self.config.getoption("update_expected"):
                rewrite_expected(self.page, self.block.lineno, got)
                self.user_properties.append(("updated_expected", True))
            elif not same:
                raise BlockFailed(
                    self._report("stdout differs from the expected output", result, "")
                    + f"\n--- expected stdout ---\n{self.block.expected_output}"
                )

    def _report(self, why: str, result: BlockResult, log: str) -> str:
        kind = "hidden check" if self.hidden else "block"
        host = self.parent.host.name  # type: ignore[attr-defined]
        where = f"{self.page.relative_to(self.config.rootpath)}:{self.block.lineno} [{host}]"
        if isinstance(self.parent, JourneyRun):
            where = f"journey: {where}"
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
        if isinstance(excinfo.value, (BlockFailed, HostSetupFailed)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.page, self.block.lineno - 1, f"{self.parent.name}::{self.name}"
