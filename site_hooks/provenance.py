"""MkDocs hook: say at the top of each page what of it ran, where and when.

It reads reports/provenance.json, which the docs harness writes after every
run, and counts the page's own blocks with the harness's own rules
(harness/pages.py), so a partial run (`-k`, one block) never counts as
the page having run. With RUNBOOK_REQUIRE_TESTED=1 (CI, before publishing)
the build fails if a page in the nav has a command that did not pass on
every host it declares.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mkdocs.exceptions import PluginError

from harness.hosts import HOSTS
from harness.pages import alone_hosts, is_setup, page_plan

REPORT = Path("reports") / "provenance.json"
# Readers know install methods by these names and releases by number.
METHOD_NAMES = {"package": "Linux package", "docker": "Docker", "binary": "binary"}
DEBIAN = {"bookworm": "Debian 12", "trixie": "Debian 13"}
_unverified: list[str] = []
GUIDE_RUN = "testing.md#the-guide-in-order-as-a-reader-follows-it"


def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def _load(root: Path) -> dict | None:
    try:
        return json.loads((root / REPORT).read_text())
    except (OSError, ValueError):
        return None


def host_label(name: str) -> str:
    """`package-trixie` -> `Linux package (Debian 13)`, from the harness's
    own host table; unknown names unchanged."""
    return _listed([name])


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _listed(names: list[str]) -> str:
    """Host labels, one per install method: `Docker (Debian 13 and 12)`."""

    releases: dict[str, list[str]] = {}
    for name in names:
        host = HOSTS.get(name)
        if host is None:
            releases.setdefault(name, [])
            continue
        method = METHOD_NAMES.get(host.method, host.method)
        releases.setdefault(method, []).append(DEBIAN.get(host.release, host.release))
    return _and([f"{m} ({_and(r).replace(' and Debian ', ' and ')})" if r else m
                 for m, r in releases.items()])


def _hosts(names: list[str]) -> str:
    return f"the {_listed(names)} host{'s' if len(names) > 1 else ''}"


def provenance_line(page_path: Path, key: str, report: dict | None) -> str | None:
    """The sentence for one page, or None for a page without commands.
    Appends to _unverified the page's hosts that did not fully pass."""
    declared, plan = page_plan(page_path)
    alone = alone_hosts(page_path.read_text(encoding="utf-8"))
    visible = [p for p in plan if not p.hidden
               and not any("skip" in m for m in p.block.marks)]
    if not plan:
        return None
    if report is None:
        _unverified.extend(f"{key}[{h}]" for h in declared)
        return ("!!! warning \"Not run in this build\"\n    No test report was found "
                f"({REPORT}), so nothing says these commands work as written. "
                "Run `make test-docs`, then build the site.\n")
    runs = report.get("pages", {}).get(key, {})
    journeys = report.get("journeys", {}).get(key, {})
    passed, in_guide, missing, dates = [], [], [], []
    took: list[tuple[str, float]] = []
    for host in declared:
        want = sum(1 for p in plan if p.runs_on(host))
        # Where the page does not run alone, the Guide's journey ran it: every
        # block but the hidden set-up and the runbook steps (the journey's
        # reader has neither), and those must be the only ones skipped.
        must_pass = want if host in alone else sum(
            1 for p in plan if p.runs_on(host) and not is_setup(p) and not _uses_runbook(p))
        got = (runs if host in alone else journeys).get(host)
        if (got and got["failed"] == 0 and got["passed"] + got["skipped"] == want
                and got["passed"] >= must_pass):
            (passed if host in alone else in_guide).append(host)
            dates.append(got["date"])
            if "s" in got and host in alone:
                took.append((host, got["s"]))
        else:
            missing.append(host)
    _unverified.extend(f"{key}[{h}]" for h in missing)
    if not passed and not in_guide:
        return ("!!! warning \"Not run in this build\"\n    The last test run did not run "
                "this page's commands, or some failed.\n")
    timed = ""
    if passed and len(took) == len(passed):
        # One host named just before needs no label beside its time.
        named = not (in_guide and len(took) == 1)
        timed = " (" + ", ".join(f"{host_label(h) + ' ' if named else ''}{s:.1f} s"
                                 for h, s in took) + ")"
    ran = f"*{len(visible)} commands on this page ran against InfluxDB {report['influxd']}"
    if not in_guide:
        line = f"{ran} on {_hosts(passed)} on {max(dates)}{timed}."
    else:
        alone_part = f" by itself on {_hosts(passed)}{timed}, and" if passed else ""
        without = ", without its runbook steps," if any(map(_uses_runbook, visible)) else ""
        line = (f"{ran} on {max(dates)}:{alone_part} in [the Guide's run]({GUIDE_RUN}){without} "
                f"on {_hosts(in_guide)}.")
    if missing:
        line += f" Not run on {_hosts(missing)} yet."
    return line + "*\n"


def _uses_runbook(planned) -> bool:
    """A step marked `pytest.mark.runbook_cli`: the optional runbook twin."""
    return any("runbook_cli" in m for m in planned.block.marks)


def on_config(config):
    _unverified.clear()
    return config


def on_page_markdown(markdown: str, page, config, files) -> str:
    root = _root(config)
    path = Path(page.file.abs_src_path)
    key = path.relative_to(root).as_posix()
    line = provenance_line(path, key, _load(root))
    if line is None:
        return markdown
    lines = markdown.splitlines(keepends=True)
    at = next((i + 1 for i, ln in enumerate(lines) if ln.startswith("# ")), 0)
    return "".join(lines[:at] + ["\n", line, "\n"] + lines[at:])


def on_post_build(config) -> None:
    if os.environ.get("RUNBOOK_REQUIRE_TESTED") == "1" and _unverified:
        raise PluginError(
            "provenance: these pages did not pass on every host they declare: "
            + ", ".join(sorted(_unverified))
            + ". Run `make test-docs` (all of it) before building the site to publish.")
