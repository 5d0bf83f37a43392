"""docs/troubleshoot.md is an index of messages (issue 25, item 2).

Each `###` heading is a message; under it, the cause and the fix fit in 15
visible lines, and the reproduction that proves the message sits one click
away (a collapsed box), in a hidden check, or on the page it links to. The
page's main path stays within 800 words and 8 command blocks per install
method, counted the way scripts/guide_length.py counts the Guide.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.pages import hidden_lines
from scripts import guide_length as GUIDE_LENGTH

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "troubleshoot.md"
MAX_ENTRY_LINES = 15
MAX_WORDS = 800
MAX_BLOCKS = 8

HEADING = re.compile(r"^(?P<level>#{1,6}) (?P<title>.+)$")
FENCE = re.compile(r"^\s*(```|~~~)")
ONE_LINE_COMMENT = re.compile(r"^\s*<!--.*-->\s*$")
COLLAPSED_BOX = re.compile(r"^\s*\?\?\? \w+ ")
# A pointer to the page where the message is reproduced.
IP_SANS = "x509: cannot validate certificate for 10.1.2.3 because it doesn't contain any IP SANs"
REPRODUCED_ELSEWHERE = re.compile(r"\]\((?!troubleshoot\.md)[\w-]+\.md#[\w-]+\)")




def headings(text: str) -> list[tuple[int, int, str]]:
    """(line number, level, title) of each Markdown heading outside code
    blocks and HTML comments (a `# comment` in a shell block is no heading)."""
    hidden, out, fence_open = hidden_lines(text), [], False
    for n, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line):
            fence_open = not fence_open
            continue
        match = HEADING.match(line)
        if match and not fence_open and n not in hidden:
            out.append((n, len(match["level"]), match["title"]))
    return out


def entries(text: str) -> dict[str, list[str]]:
    """{`###` title: the lines from below its heading to the next heading}."""
    lines = text.splitlines()
    marks = headings(text)
    out = {}
    for i, (n, level, title) in enumerate(marks):
        if level == 3:
            end = marks[i + 1][0] if i + 1 < len(marks) else len(lines) + 1
            out[title] = list(range(n + 1, end))
    return out


def visible_lines(text: str, numbers: list[int]) -> list[str]:
    """The non-blank lines of `numbers` a reader sees without a click: not in
    an HTML comment (one-line markers included), not in a collapsed box."""
    lines = text.splitlines()
    unseen = hidden_lines(text) | GUIDE_LENGTH.collapsed_lines(text)
    return [lines[n - 1] for n in numbers
            if lines[n - 1].strip() and n not in unseen
            and not ONE_LINE_COMMENT.match(lines[n - 1])]


TEXT = PAGE.read_text(encoding="utf-8")
ENTRIES = entries(TEXT)


def test_the_page_has_its_entries():
    assert len(ENTRIES) >= 15
    assert IP_SANS in ENTRIES


@pytest.mark.parametrize("title", ENTRIES)
def test_cause_and_fix_fit_in_15_visible_lines(title):
    shown = visible_lines(TEXT, ENTRIES[title])
    assert len(shown) <= MAX_ENTRY_LINES, "\n".join(shown)


@pytest.mark.parametrize("title", ENTRIES)
def test_each_entry_says_its_fix(title):
    shown = " ".join(visible_lines(TEXT, ENTRIES[title]))
    assert "**Fix.**" in shown or "Not an error" in shown, shown


@pytest.mark.parametrize("title", ENTRIES)
def test_each_message_is_reproduced_behind_a_click_in_a_hidden_check_or_elsewhere(title):
    lines = TEXT.splitlines()
    body = [lines[n - 1] for n in ENTRIES[title]]
    hidden = hidden_lines(TEXT)
    boxed = any(COLLAPSED_BOX.match(line) and "Reproduce it" in line for line in body)
    checked = any(lines[n - 1].lstrip().startswith("# Hidden check") and n in hidden
                  for n in ENTRIES[title])
    linked = any(REPRODUCED_ELSEWHERE.search(line) for line in body)
    assert boxed or checked or linked, title


def test_the_ip_san_fix_names_every_internal_url_that_must_change():
    shown = " ".join(visible_lines(TEXT, ENTRIES[IP_SANS]))
    for words in ("scraper targets", "Telegraf outputs", "client configs", "dashboards",
                  "`http://`", "`https://`", "name or IP in the certificate"):
        assert words in shown


def test_the_main_path_is_at_most_800_words_and_8_blocks_per_method():
    report = GUIDE_LENGTH.measure([PAGE])
    counts = {m: r["pages"][PAGE.name] for m, r in report.items() if PAGE.name in r["pages"]}
    assert set(counts) == {"package", "docker", "binary"}
    over = {m: c for m, c in counts.items() if c["words"] > MAX_WORDS or c["blocks"] > MAX_BLOCKS}
    assert over == {}


def test_the_counts_see_a_long_entry():
    """The line count is not vacuous: a cause and fix of 16 lines fails."""
    page = "### a message\n\n" + "".join(f"line {i}\n" for i in range(16)) + \
        "??? example \"Reproduce it on a throwaway influxd\"\n\n    hidden\n"
    found = entries(page)
    assert len(visible_lines(page, found["a message"])) == 16
