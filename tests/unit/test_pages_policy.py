"""Rules the pages keep, checked on their source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
INSECURE = re.compile(r"--insecure\b|(?<![\w-])-k\b|insecure_skip_verify\s*=\s*true")


def code_blocks_with_headings(text: str):
    """(heading, block text) for each fenced block; heading is the nearest above."""
    heading, block, fence = "", None, None
    for line in text.splitlines():
        stripped = line.strip()
        if block is None and stripped.startswith("#") and not line.startswith(" "):
            heading = stripped.lstrip("#").strip()
        if stripped.startswith("```"):
            if block is None:
                block, fence = [], stripped[:3]
            elif stripped.startswith(fence):
                yield heading, "\n".join(block)
                block = None
            continue
        if block is not None:
            block.append(line)


def test_skipping_verification_appears_only_where_the_certificate_is_self_signed():
    offenders = []
    for page in sorted(DOCS.glob("*.md")):
        for heading, block in code_blocks_with_headings(page.read_text()):
            # configure.md follows the upstream guide with a self-signed certificate.
            self_signed = "self-signed" in heading.lower() or page.name == "configure.md"
            if INSECURE.search(block) and not self_signed:
                offenders.append(f"{page.name} under '{heading}'")
    assert offenders == []


# The one sleep a page may show: a poll's interval, the whole body of an
# until/while loop, on a line that gives the loop a deadline (`timeout N`).
POLL_INTERVAL = re.compile(r"\bdo sleep 0\.\d+; done\b")
SPIN = re.compile(r"\bdo\s*:\s*;?\s*done\b")


def waits_blindly(block: str) -> bool:
    """A sleep that waits instead of polling, or a poll with no deadline."""
    for line in block.replace("\\\n", " ").splitlines():  # backslash-continued lines as one
        if re.search(r"\bsleep\s+\d", POLL_INTERVAL.sub("", line)):
            return True
        if POLL_INTERVAL.search(line) and not re.search(r"\btimeout\s+\d", line):
            return True
    return False


def test_no_code_block_sleeps_to_wait():
    sleeping = [f"{p.name} under '{h}'" for p in sorted(DOCS.glob("*.md"))
                for h, block in code_blocks_with_headings(p.read_text())
                if waits_blindly(block)]
    assert sleeping == []


def test_no_code_block_spins_while_it_waits():
    # `until X; do :; done` takes a whole core from the reader's server for
    # as long as it waits (and from the server it waits for).
    spinning = [f"{p.name} under '{h}'" for p in sorted(DOCS.glob("*.md"))
                for h, block in code_blocks_with_headings(p.read_text())
                if SPIN.search(block)]
    assert spinning == []


@pytest.mark.parametrize("block, blind", [
    ("sleep 5\ncurl https://localhost:8086/ping", True),
    ("timeout 30 bash -c 'until curl -s localhost:8086/ping; do sleep 0.1; done'", False),
    ("timeout 30 bash -c 'until openssl s_client \\\n  -connect x:1; do sleep 0.1; done'", False),
    ("until curl -s localhost:8086/ping; do sleep 0.1; done", True),  # no deadline
    ("timeout 30 bash -c 'until curl -s x; do sleep 2; done'", True),  # not a poll's interval
])
def test_the_checker_tells_a_poll_from_a_blind_wait(block, blind):
    assert waits_blindly(block) is blind


def test_the_checker_catches_an_insecure_block_outside_self_signed_sections():
    page = "## Use a CA\n\n```bash\ncurl --insecure https://localhost:8086/ping\n```\n"
    assert [(h, bool(INSECURE.search(b))) for h, b in code_blocks_with_headings(page)] == [
        ("Use a CA", True)]


def test_every_test_named_on_the_testing_page_exists():
    # differences.md's rows link to pages; testing.md names the tests behind them.
    text = (DOCS / "testing.md").read_text()
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)(?:\[[\w-]+\])?`", text)
    assert named, "the page names no test"
    root = DOCS.parent
    missing = [f"{path}::{name}" for path, name in named
               if f"def {name}(" not in (root / path).read_text()]
    assert missing == []


# Test plumbing a reader should never type: output trimmed or rewritten to
# please a test (the harness matches `...` instead), an exit code turned into
# output (the exit_code mark instead), and passwords on the command line.
PLUMBING = re.compile(r"\|\s*sed\s+(?!-i\b)|\|\s*cut\b|\|\s*head\b|\|\|\s*echo\b|\|\|\s*true\b")
SECRETS = re.compile(r"\bpass:\S|--password[ =](?![\"']?\$\()")


# Output a reader keeps rather than reads: a value taken into a variable
# (`$(... | cut -f1)`) or written to a file (`... | cut -f3 > ~/.token`).
KEPT = re.compile(r"\$\([^()]*\)|\|[^|]*>\s*[~/$\w][^|]*$")


def visible_plumbing(page: Path) -> list[str]:
    from harness.pages import page_plan

    _, plan = page_plan(page)
    return [f"{page.name}:{p.block.lineno}: {line.strip()}"
            for p in plan if not p.hidden
            for line in p.block.code.splitlines()
            if SECRETS.search(line) or PLUMBING.search(KEPT.sub("", line))]


def test_visible_blocks_carry_no_test_plumbing():
    offenders = [hit for page in sorted(DOCS.glob("*.md")) for hit in visible_plumbing(page)]
    assert offenders == []


@pytest.mark.parametrize("line, caught", [
    ("openssl s_client -connect x:1 | sed 's/OpenSSL\\/[0-9.]*/OpenSSL/'", True),
    ("runbook doctor --log f | head -4 | cut -c1-100", True),
    ("curl https://x || echo \"exit code: $?\"", True),
    ("openssl pkey -in k -aes256 -passout pass:example", True),
    ("influx setup --password secret123", True),
    # Reader work, left alone:
    ("sed -i 's/^a/b/' /etc/influxdb/config.toml", False),
    ("influx setup --password \"$(cat ~/.influx-password)\"", False),
    ("grep -m1 -o 'Wrote batch' /var/log/telegraf.log", False),
    ("bucket=$(influx bucket list --name telegraf --hide-headers | cut -f1)", False),
    ("  --hide-headers | cut -f3 > ~/.telegraf-token)", False),
    ("influx bucket list --hide-headers | cut -f1", True),
    ("x=$(date) ; grep a f | cut -c1-9", True),
])
def test_the_plumbing_checker_catches_plumbing_and_leaves_reader_work_alone(line, caught,
                                                                           tmp_path):
    page = tmp_path / "p.md"
    page.write_text(f"# p\n\n```bash\n{line}\n```\n")
    assert bool(visible_plumbing(page)) is caught


def test_a_page_that_runs_alone_on_fewer_hosts_is_run_by_the_journey_on_the_rest():
    """`alone_on` saves a second run of a Guide page on hosts where the journey
    already runs it; a page outside the journey would not run there at all."""
    import yaml

    from harness.pages import alone_hosts, is_setup, journey, page_hosts, page_plan

    root = DOCS.parent
    spec = yaml.safe_load((root / "harness" / "journey.yml").read_text())
    in_journey = set(journey(root / "mkdocs.yml", spec.get("start_with", []), spec["section"]))
    uncovered, fewer = [], 0
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text()
        rest = set(page_hosts(text)) - set(alone_hosts(text))
        fewer += bool(rest)
        if rest and (page not in in_journey or not rest <= set(spec["hosts"])):
            uncovered.append(f"{page.name}: {sorted(rest)}")
        # The journey skips hidden set-up and runbook steps: each must run
        # alone somewhere, or it never runs.
        alone = alone_hosts(text)
        for p in page_plan(page)[1]:
            journey_skips = is_setup(p) or any("runbook_cli" in m for m in p.block.marks)
            if journey_skips and not any(p.runs_on(h) for h in alone):
                uncovered.append(f"{page.name}:{p.block.lineno} runs on none of {list(alone)}")
    assert uncovered == []
    assert fewer  # the Guide's pages use it; if none does, this test guards nothing
