"""The provenance line on each page: what ran, on which hosts, when; and
the publishing build that refuses pages that did not run (no Docker needed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.plugin import record_provenance

ROOT = Path(__file__).resolve().parents[2]
PAGE = '''\
---
hosts: [package-trixie, binary-bookworm]
---
# A page

```bash
echo shared
```

=== "Linux package"

    ```bash
    systemctl restart influxdb
    ```

<!--
```bash
echo hidden check
```
-->
'''


@pytest.fixture
def hook():
    from site_hooks import provenance as module

    module._unverified.clear()
    return module


@pytest.fixture
def page(tmp_path) -> Path:
    path = tmp_path / "page.md"
    path.write_text(PAGE)
    return path


def report(hosts: dict[str, tuple[int, int]]) -> dict:
    return {"influxd": "2.9.1", "pages": {"docs/page.md": {
        h: {"passed": p, "failed": f, "skipped": 0, "date": "2026-11-29"}
        for h, (p, f) in hosts.items()}}}


PKG, BIN = "package-trixie", "binary-bookworm"


def test_a_page_that_passed_on_every_host_says_what_ran_where_and_when(hook, page):
    line = hook.provenance_line(page, "docs/page.md", report({PKG: (3, 0), BIN: (2, 0)}))
    assert line == ("*2 commands on this page ran against InfluxDB 2.9.1 on the Linux package "
                    "(Debian 13) and binary (Debian 12) hosts on 2026-11-29.*\n")
    assert hook._unverified == []


def test_the_line_publishes_how_long_the_page_took_on_each_host(hook, page):
    data = report({PKG: (3, 0), BIN: (2, 0)})
    data["pages"]["docs/page.md"][PKG]["s"] = 4.25
    data["pages"]["docs/page.md"][BIN]["s"] = 1.0
    line = hook.provenance_line(page, "docs/page.md", data)
    assert line.endswith("on 2026-11-29 (Linux package (Debian 13) 4.2 s, "
                         "binary (Debian 12) 1.0 s).*\n"), line


def test_a_partial_or_failed_run_does_not_count_for_its_host(hook, page):
    line = hook.provenance_line(page, "docs/page.md", report({PKG: (2, 0), BIN: (1, 1)}))
    assert "Not run in this build" in line  # neither host ran every block and passed
    assert sorted(hook._unverified) == [f"docs/page.md[{BIN}]", f"docs/page.md[{PKG}]"]
    line = hook.provenance_line(page, "docs/page.md", report({BIN: (2, 0)}))
    assert ("on the binary (Debian 12) host on 2026-11-29. Not run on the Linux package "
            "(Debian 13) host yet.") in line


GUIDE_PAGE = PAGE.replace("---\n# ", "alone_on: [package-trixie]\n---\n# ", 1) + '''
<!--
```bash
# Hidden set-up: what only a page run alone needs.
true
```
-->

<!--pytest.mark.runbook_cli-->

```bash
runbook --version
```
'''


def journey(passed: int, skipped: int, failed: int = 0) -> dict:
    return {"docs/page.md": {BIN: {"passed": passed, "failed": failed, "skipped": skipped,
                                   "date": "2026-11-30", "s": 2.0}}}


def test_a_host_where_the_page_does_not_run_alone_counts_the_journeys_run(hook, tmp_path):
    path = tmp_path / "page.md"
    path.write_text(GUIDE_PAGE)
    data = report({PKG: (5, 0)})
    data["pages"]["docs/page.md"][PKG]["s"] = 4.0
    # a page run on the binary host no longer counts: only the journey's
    data["pages"]["docs/page.md"][BIN] = {"passed": 4, "failed": 0, "skipped": 0,
                                          "date": "2026-11-29"}
    line = hook.provenance_line(path, "docs/page.md", data)
    assert "Not run on the binary (Debian 12) host yet" in line
    assert hook._unverified == [f"docs/page.md[{BIN}]"]
    hook._unverified.clear()
    # The journey skips the hidden set-up and the runbook step, and only those.
    data["journeys"] = journey(passed=2, skipped=2)
    line = hook.provenance_line(path, "docs/page.md", data)
    assert line == ("*3 commands on this page ran against InfluxDB 2.9.1 on 2026-11-30: by "
                    "itself on the Linux package (Debian 13) host (4.0 s), and in [the Guide's "
                    f"run]({hook.GUIDE_RUN}), without its runbook steps, on the binary (Debian "
                    "12) host.*\n")
    assert hook._unverified == []


@pytest.mark.parametrize("passed, skipped, failed", [
    (1, 3, 0),  # a shell step skipped too: it did not run anywhere on that host
    (2, 1, 0),  # a block missing from the record
    (3, 0, 1),  # one failed
])
def test_a_journey_that_skipped_or_failed_a_shell_step_does_not_count(hook, tmp_path, passed,
                                                                    skipped, failed):
    path = tmp_path / "page.md"
    path.write_text(GUIDE_PAGE)
    data = report({PKG: (5, 0)})
    data["journeys"] = journey(passed, skipped, failed)
    assert "Not run on the binary (Debian 12) host yet" in hook.provenance_line(
        path, "docs/page.md", data)
    assert hook._unverified == [f"docs/page.md[{BIN}]"]


def test_hosts_of_one_install_method_are_named_once_with_their_releases(hook):
    assert hook._listed(["package-trixie", "docker-trixie", "docker-bookworm",
                         "binary-bookworm"]) == ("Linux package (Debian 13), Docker (Debian 13 "
                                                 "and 12) and binary (Debian 12)")


def test_without_a_report_the_page_says_so_plainly(hook, page):
    assert "No test report was found" in hook.provenance_line(page, "docs/page.md", None)


def test_a_page_without_commands_gets_no_line(hook, tmp_path):
    plain = tmp_path / "plain.md"
    plain.write_text("# Reference\n\nText only.\n")
    assert hook.provenance_line(plain, "docs/plain.md", report({})) is None


def test_the_harness_merges_each_run_into_the_report(tmp_path):
    record_provenance(tmp_path, {("docs/a.md", "binary-bookworm"): {"passed": 4, "failed": 0,
                                                            "skipped": 0, "s": 2.345}})
    record_provenance(tmp_path, {("docs/b.md", "package-trixie"): {"passed": 1, "failed": 1,
                                                             "skipped": 0}})
    record_provenance(tmp_path, {}, {("docs/a.md", "docker-trixie"): {"passed": 3, "failed": 0,
                                                                    "skipped": 1}})
    data = json.loads((tmp_path / "reports" / "provenance.json").read_text())
    assert data["journeys"]["docs/a.md"]["docker-trixie"]["skipped"] == 1
    assert data["pages"]["docs/a.md"]["binary-bookworm"]["passed"] == 4
    assert data["pages"]["docs/a.md"]["binary-bookworm"]["s"] == 2.3
    assert data["pages"]["docs/b.md"]["package-trixie"]["failed"] == 1
    assert data["influxd"] == "2.9.1"


def test_the_publishing_build_fails_when_a_page_did_not_run(tmp_path):
    project = tmp_path / "project"
    for folder in ("docs", "scripts", "site_hooks", "harness", "lab"):
        shutil.copytree(ROOT / folder, project / folder)
    shutil.copy(ROOT / "versions.env", project / "versions.env")  # the pyz carries it
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "s")],
        cwd=project, capture_output=True, text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "RUNBOOK_REQUIRE_TESTED": "1"})
    assert proc.returncode != 0
    # Pages are listed in name order; any nav page will do.
    assert "did not pass on every host they declare: docs/" in proc.stderr
    assert "docs/ca-signed.md[binary-bookworm]" in proc.stderr
