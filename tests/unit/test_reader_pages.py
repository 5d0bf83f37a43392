"""What a reader sees on the site's pages: no words about how the site is
tested (that is docs/testing.md's job), and a Guide main path a person
finishes (scripts/guide_length.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.pages import hidden_lines

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# The pages that explain the tests and time them may name them.
TESTING_PAGE = "testing.md"
BENCHMARKS_PAGE = "benchmarks.md"
TEST_WORDS = re.compile(
    r"test host|test run|harness|pytest|hidden (check|set-up|block)|(?<![\w.])tests?/[\w./-]+"
    r"|::test_|make test|this (page|site) is tested|journey|test CA|this page's test",
    re.IGNORECASE)


def guide_length():
    from scripts import guide_length

    return guide_length


def visible_lines(page: Path) -> list[tuple[int, str]]:
    """The page's lines a reader can see: not front matter, not in HTML
    comments, not markers; a link to the testing page is fine."""
    text = page.read_text(encoding="utf-8")
    hidden = hidden_lines(text) | guide_length().front_matter_lines(text)
    return [(n, re.sub(r"\[[^]]*\]\(testing\.md[^)]*\)", "", line))
            for n, line in enumerate(text.splitlines(), start=1)
            if n not in hidden and not line.strip().startswith("<!--")]


def words_about_testing(page: Path) -> list[str]:
    return [f"{page.name}:{n}: {m.group(0)!r} in {line.strip()[:80]!r}"
            for n, line in visible_lines(page) for m in [TEST_WORDS.search(line)] if m]


READER_PAGES = sorted(p for p in DOCS.glob("*.md") if p.name not in (TESTING_PAGE, BENCHMARKS_PAGE))


@pytest.mark.parametrize("page", READER_PAGES, ids=lambda p: p.name)
def test_a_reader_page_says_nothing_about_how_it_is_tested(page):
    assert words_about_testing(page) == []


def test_the_detector_finds_test_words_outside_comments_only(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("Text.\n\nRun on this site's test host.\n\n"
                    "<!--\n# Hidden check: fine here\n-->\n")
    assert words_about_testing(page) == [
        "p.md:3: 'test host' in \"Run on this site's test host.\""]


def test_the_testing_page_is_in_the_nav():
    assert f": {TESTING_PAGE}" in (ROOT / "mkdocs.yml").read_text()


def test_the_guide_main_path_is_within_its_limits_for_every_install_method():
    gl = guide_length()
    report = gl.measure(gl.guide_pages())
    assert set(report) == {"package", "docker", "binary"}
    assert gl.over_limits(report) == [], gl.table(report)


def test_the_counter_skips_hidden_blocks_other_methods_and_collapsed_boxes(tmp_path):
    gl = guide_length()
    page = tmp_path / "p.md"
    page.write_text(
        "---\nhosts: [package-trixie, docker-bookworm]\n---\n# Title words\n\n"
        "```bash\necho one\n```\n\n"
        "<!--\n```bash\n# Hidden check: not read\n```\n-->\n\n"
        '=== "Docker"\n\n    ```bash\n    docker ps\n    ```\n\n'
        '??? note "Depth"\n\n    ```bash\n    echo folded away\n    ```\n\n'
        '???+ note "Open by default"\n\n    ```bash\n    echo counted\n    ```\n')
    assert gl.page_length(page, "package") == {"words": 10, "blocks": 2}
    assert gl.page_length(page, "docker") == {"words": 13, "blocks": 3}
