"""MkDocs hook: say at the top of each page what of it ran, where and when.

It reads reports/provenance.json, which the docs harness writes after every
run, and counts the page's own blocks with the harness's own rules
(tests/page_blocks.py), so a partial run (`-k`, one block) never counts as
the page having run. With RUNBOOK_REQUIRE_TESTED=1 (CI, before publishing)
the build fails if a page in the nav has a command that did not pass on
every host it declares.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from mkdocs.exceptions import PluginError

REPORT = Path("reports") / "provenance.json"
# Readers know install methods by these names and releases by number.
METHOD_NAMES = {"package": "Linux package", "docker": "Docker", "binary": "binary"}
DEBIAN = {"bookworm": "Debian 12", "trixie": "Debian 13"}
_unverified: list[str] = []


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
    from tests.hosts import HOSTS  # after sys.path is set

    host = HOSTS.get(name)
    if host is None:
        return name
    method = METHOD_NAMES.get(host.method, host.method)
    return f"{method} ({DEBIAN.get(host.release, host.release)})"


def _listed(names: list[str]) -> str:
    names = [host_label(n) for n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def provenance_line(page_path: Path, key: str, report: dict | None) -> str | None:
    """The sentence for one page, or None for a page without commands.
    Appends to _unverified the page's hosts that did not fully pass."""
    from tests.page_blocks import page_plan  # after sys.path is set

    declared, plan = page_plan(page_path)
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
    passed, missing, dates, took = [], [], [], []
    for host in declared:
        want = sum(1 for p in plan if p.runs_on(host))
        got = runs.get(host)
        if got and got["failed"] == 0 and got["passed"] + got["skipped"] == want:
            passed.append(host)
            dates.append(got["date"])
            if "s" in got:
                took.append(f"{host_label(host)} {got['s']:.1f} s")
        else:
            missing.append(host)
    _unverified.extend(f"{key}[{h}]" for h in missing)
    if not passed:
        return ("!!! warning \"Not run in this build\"\n    The last test run did not run "
                "this page's commands, or some failed.\n")
    line = (f"*{len(visible)} commands on this page ran against InfluxDB {report['influxd']} "
            f"on the {_listed(passed)} host{'s' if len(passed) > 1 else ''} on {max(dates)}"
            + (f" ({', '.join(took)})" if len(took) == len(passed) else "") + ".")
    if missing:
        line += f" Not run on the {_listed(missing)} host{'s' if len(missing) > 1 else ''} yet."
    return line + "*\n"


def on_config(config):
    root = str(_root(config))
    if root not in sys.path:
        sys.path.insert(0, root)
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
