"""The docs harness itself: it catches broken pages, reports them readably,
isolates pages from each other and leaves no container behind.

Pages under tests/harness/fixtures/pages are run by a child pytest (pytester), the
way `make test-docs` runs docs/.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import docker.errors
import pytest

from harness.hosts.binary.host import build_image as binary_host_image
from harness.plugin import LABEL, ROOT, SESSION_ENV, SESSION_OWNER_ENV, _docker, _ensure_image
from runbook.poll import poll_until
from tests.signals import sigint_as_in_a_terminal

pytestmark = pytest.mark.server
PAGES = Path(__file__).parent / "fixtures" / "pages"


@pytest.fixture(scope="module", autouse=True)
def image():
    # Pin the binary host's image in the environment the child pytests inherit:
    # pytester gives them a HOME of their own, where no build cache is.
    binary_host_image()
    return _ensure_image()


def leftover(session_id: str) -> list[str]:
    out = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={LABEL}={session_id}"],
                         capture_output=True, text=True, check=True)
    return out.stdout.split()


def block_running(session_id: str) -> bool:
    """Whether slow_block.md's block (`tail -f /dev/null`) runs in the session's host."""
    for container in _docker().containers.list(filters={"label": f"{LABEL}={session_id}"}):
        with contextlib.suppress(docker.errors.APIError):  # gone, or not started yet
            if any("tail -f /dev/null" in " ".join(p) for p in container.top()["Processes"]):
                return True
    return False


def own_session(monkeypatch, session: str) -> None:
    """Child pytests get a session of their own, which they sweep at their end."""
    monkeypatch.setenv(SESSION_ENV, session)
    monkeypatch.delenv(SESSION_OWNER_ENV, raising=False)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


def run_pages(pytester: pytest.Pytester, monkeypatch, *pages: str, args: tuple[str, ...] = ()):
    for page in pages:
        shutil.copy(PAGES / page, pytester.path / page)
    pytester.makeini("[pytest]\nrunbook_pages = .\n")
    session = f"harness-{os.getpid()}-{pytester.path.name}"[:40]
    own_session(monkeypatch, session)
    result = pytester.runpytest_subprocess("-p", "harness.plugin", "-p", "no:cacheprovider",
                                           *args, *pages)
    return result, session


def test_failing_block_fails_with_a_readable_report_and_no_container_left(pytester, monkeypatch):
    result, session = run_pages(pytester, monkeypatch, "broken_block.md")
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert "broken_block.md:7 [binary-bookworm]: block failed: exit code 1" in out
    assert "--- stdout ---\nbefore the failure" in out
    assert "never printed" not in out.split("--- stdout ---")[1].split("--- stderr ---")[0]
    assert leftover(session) == []


def test_a_failing_block_under_xdist_is_a_failure_not_an_internal_error(pytester, monkeypatch):
    result, session = run_pages(pytester, monkeypatch, "broken_block.md", "placeholder.md",
                                args=("-n", "2", "--dist", "loadfile"))
    result.assert_outcomes(passed=2, failed=1)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert leftover(session) == []


def test_wrong_output_is_reported_with_both_outputs(pytester, monkeypatch):
    result, session = run_pages(pytester, monkeypatch, "wrong_output.md")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "stdout differs from the expected output" in out
    assert "--- stdout ---\n203" in out and "--- expected stdout ---\n204" in out
    assert leftover(session) == []


def test_block_past_its_time_limit_fails_as_timed_out(pytester, monkeypatch):
    result, session = run_pages(pytester, monkeypatch, "slow_block.md")
    result.assert_outcomes(failed=1)
    assert "block failed: timed out" in result.stdout.str()
    assert leftover(session) == []


def test_placeholders_are_replaced_at_collection(pytester, monkeypatch):
    result, _ = run_pages(pytester, monkeypatch, "placeholder.md")
    result.assert_outcomes(passed=1)


def test_two_pages_in_parallel_each_get_their_own_localhost_8086(pytester, monkeypatch):
    result, session = run_pages(pytester, monkeypatch, "parallel_alpha.md", "parallel_beta.md",
                                args=("-n", "2", "--dist", "loadfile"))
    result.assert_outcomes(passed=4)
    assert leftover(session) == []


def test_interrupted_run_leaves_no_container(tmp_path):
    """Ctrl-C while a block runs: the page's container is still removed."""
    shutil.copy(PAGES / "slow_block.md", tmp_path / "slow_block.md")
    (tmp_path / "pytest.ini").write_text("[pytest]\nrunbook_pages = .\n")
    session = f"interrupt-{os.getpid()}"
    env = {**os.environ, SESSION_ENV: session, "PYTHONPATH": str(ROOT)}
    env.pop(SESSION_OWNER_ENV, None)  # the child owns its session: it sweeps it
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "harness.plugin",
                             "-p", "no:cacheprovider", "slow_block.md"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True,
                            preexec_fn=sigint_as_in_a_terminal)
    # Wait until the block itself runs in the page's host (60 s at most), not
    # for the container's start: a systemd host still boots after that. The
    # block enters the host with nsenter (no engine event), so ask the engine
    # which processes the container holds.
    poll_until(lambda: block_running(session), what="the page's block to start", timeout=60,
               interval=0.2)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert "KeyboardInterrupt" in out
    assert leftover(session) == []


def test_a_pytest_started_by_a_test_leaves_the_runs_containers_alone(image):
    """Only the run's own pytest sweeps its session: a child pytest (here a
    collect-only run, which inherits the session) once removed the fleet
    test's hosts in the middle of their rollout."""
    session = os.environ[SESSION_ENV]
    busy = _docker().containers.run(image, ["sleep", "infinity"], entrypoint=[], detach=True,
                                    labels={LABEL: session})
    try:
        child = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                                "tests/unit/test_serial_hex.py"], cwd=ROOT, env=os.environ,
                               capture_output=True, text=True, timeout=120)
        assert child.returncode == 0, child.stdout + child.stderr
        busy.reload()
        assert busy.status == "running", "the child pytest swept its parent's session"
    finally:
        busy.remove(force=True, v=True)


def test_codeblocks_flag_runs_nothing_on_this_machine(pytester, monkeypatch, tmp_path):
    """`pytest --codeblocks docs` (the upstream docs repository's habit) must not
    run page blocks on the maintainer's machine: only in the page's host."""
    marker = tmp_path / "ran-on-the-local-machine"
    page = pytester.path / "local_marker.md"
    page.write_text(f"# A page\n\n```bash\nmkdir -p {marker.parent}\ntouch {marker}\n```\n")
    result, session = run_pages(pytester, monkeypatch, args=("--codeblocks", page.name))
    result.assert_outcomes(passed=1)  # once, in its container; not a second time here
    assert "--codeblocks is ignored here" in result.stdout.str()
    assert not marker.exists()
    assert leftover(session) == []


def test_update_expected_rewrites_stale_output_and_keeps_matching_wildcards(pytester, monkeypatch):
    result, session = run_pages(pytester, monkeypatch, "outdated_output.md")
    result.assert_outcomes(failed=1, passed=1)  # stale output fails; exit_code(3) passes
    result, _ = run_pages(pytester, monkeypatch, "outdated_output.md",
                          args=("--update-expected",))
    result.assert_outcomes(passed=2)
    page = (pytester.path / "outdated_output.md").read_text()
    assert "```text\nversion ...\nstatus: new\n```" in page
    assert "status: old" not in page
    result = pytester.runpytest_subprocess(  # a plain run of the rewritten page now passes
        "-p", "harness.plugin", "-p", "no:cacheprovider", "outdated_output.md")
    result.assert_outcomes(passed=2)
    assert leftover(session) == []


def test_a_block_that_must_fail_fails_the_page_when_it_succeeds(pytester, monkeypatch):
    (pytester.path / "must_fail.md").write_text(
        "# p\n\n<!--pytest.mark.exit_code(60)-->\n\n```bash\ntrue\n```\n")
    _, session = run_pages(pytester, monkeypatch)
    result = pytester.runpytest_subprocess("-p", "harness.plugin", "-p", "no:cacheprovider",
                                           "must_fail.md")
    result.assert_outcomes(failed=1)
    assert "exit code 0, expected 60" in result.stdout.str()
    assert leftover(session) == []


def test_the_journey_runs_pages_in_nav_order_on_one_host_with_hidden_set_up_off(
        pytester, monkeypatch):
    """b.md passes alone (its hidden set-up prepares the host) and fails in the
    journey, where only what a.md visibly left behind exists."""
    pytester.makefile(".yml", mkdocs="nav:\n  - Home: index.md\n  - Guide:\n"
                                     "      - A: a.md\n      - B: b.md\n")
    docs = pytester.mkdir("docs")
    (docs / "a.md").write_text("# A\n\n```bash\necho from-a > /tmp/left-by-a\n```\n")
    (docs / "b.md").write_text(
        "# B\n\n<!--\n```bash\n# Hidden set-up: what a reader would not have.\n"
        "echo hidden > /tmp/made-by-hidden-set-up\n```\n-->\n\n"
        "```bash\ncat /tmp/left-by-a\n```\n\n<!--pytest-codeblocks:expected-output-->\n\n"
        "```text\nfrom-a\n```\n\n```bash\ncat /tmp/made-by-hidden-set-up\n```\n")
    pytester.mkdir("harness")
    (pytester.path / "harness" / "journey.yml").write_text(
        "section: Guide\nhosts: [binary-bookworm]\n")
    pytester.makeini("[pytest]\nrunbook_pages = docs\n")
    session = f"journey-{os.getpid()}"
    own_session(monkeypatch, session)
    args = ("-p", "harness.plugin", "-p", "no:cacheprovider", "-rs")

    alone = pytester.runpytest_subprocess(*args, "docs/b.md")
    alone.assert_outcomes(failed=1, passed=2)  # alone, a.md's file is missing
    journey = pytester.runpytest_subprocess(*args, "harness/journey.yml")
    journey.assert_outcomes(passed=2, failed=1, skipped=1)
    out = journey.stdout.str()
    assert "hidden set-up is off" in out
    assert "journey: docs/b.md:20 [binary-bookworm]: block failed: exit code 1" in out
    assert "No such file or directory" in out
    assert "journey [binary-bookworm]: 2 pages in nav order, 3 blocks ran" in out
    assert leftover(session) == []
