#!/usr/bin/env python3
"""How long the Guide's main path is, per page and per install method.

A reader on one install method reads a page's text outside tabs, the tabs of
their method, and the variant tabs (all of them, to be safe); they do not
read hidden blocks (HTML comments), other methods' tabs or collapsed boxes
(`??? note "..."`: depth one click away). Counted on what is left:

    words   whitespace-separated tokens holding a letter or digit, prose and
            commands alike (a reader reads both)
    blocks  fenced bash/sh/python blocks: the commands a reader types

    python3 -m scripts.guide_length            # the table
    python3 -m scripts.guide_length --json     # for tests and reports
    python3 -m scripts.guide_length --check    # exit 1 over the limits

The limits (issue 25): the upstream guide is 1,316 words; the main path may
take at most 3,500 words and 60 command blocks per install method.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from harness.hosts import HOSTS, TAB_TO_HOSTS
from harness.pages import (
    RUNNABLE,
    TAB_LINE,
    block_hosts,
    hidden_lines,
    load_mkdocs_yml,
    page_meta,
)

ROOT = Path(__file__).resolve().parent.parent

MAX_WORDS = 3500
MAX_BLOCKS = 60
METHODS = sorted({h.method for h in HOSTS.values()})
COLLAPSED = re.compile(r"^(?P<indent>\s*)\?\?\?(?!\+)\s")
FENCE = re.compile(r"^\s*(```|~~~)\s*(?P<lang>[\w-]*)")
WORD = re.compile(r"\S*[A-Za-z0-9]\S*")


def collapsed_lines(text: str) -> set[int]:
    """Line numbers inside a collapsed box (`??? kind "title"` and the lines
    indented under it); `???+` boxes open by default and count."""
    inside: set[int] = set()
    box_indent: int | None = None
    for n, line in enumerate(text.splitlines(), start=1):
        if box_indent is not None:
            if not line.strip() or len(line) - len(line.lstrip()) > box_indent:
                inside.add(n)
                continue
            box_indent = None
        opened = COLLAPSED.match(line)
        if opened:
            box_indent = len(opened["indent"])
            inside.add(n)
    return inside


def front_matter_lines(text: str) -> set[int]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return set()
    end = next((n for n, line in enumerate(lines[1:], start=2) if line.strip() == "---"), 1)
    return set(range(1, end + 1))


def page_length(path: Path, method: str) -> dict[str, int]:
    """Words and command blocks of one page that a reader on `method` reads."""
    text = path.read_text(encoding="utf-8")
    owners = block_hosts(text)
    skipped = hidden_lines(text) | collapsed_lines(text) | front_matter_lines(text)
    words = blocks = 0
    fence_open = False
    for n, line in enumerate(text.splitlines(), start=1):
        owner = owners.get(n)
        if n in skipped or (owner and method not in owner):
            continue
        if re.fullmatch(r"\s*<!--.*-->\s*", line):
            continue  # a one-line marker (pytest.mark..., expected-output): not shown
        tab = TAB_LINE.match(line)
        if tab and method not in TAB_TO_HOSTS.get(tab["title"], {method}):
            continue  # another method's tab title
        fence = FENCE.match(line)
        if fence:
            if not fence_open and fence["lang"] in RUNNABLE:
                blocks += 1
            fence_open = not fence_open
            continue
        words += len(WORD.findall(line))
    return {"words": words, "blocks": blocks}


def guide_pages(mkdocs_yml: Path = ROOT / "mkdocs.yml") -> list[Path]:
    """The Guide section's pages in nav order, `journey: false` ones too: a
    reader of the Guide reads them."""
    nav = load_mkdocs_yml(mkdocs_yml)["nav"]
    section = next(list(e.values())[0] for e in nav if isinstance(e, dict) and "Guide" in e)
    return [mkdocs_yml.parent / "docs" / next(iter(e.values())) for e in section]


def measure(pages: list[Path]) -> dict[str, dict]:
    """{method: {"pages": {name: {words, blocks}}, "words": total, "blocks": total}}."""
    out: dict[str, dict] = {}
    for method in METHODS:
        per_page = {}
        for page in pages:
            if method in _methods_of(page):
                per_page[page.name] = page_length(page, method)
        out[method] = {"pages": per_page,
                       "words": sum(p["words"] for p in per_page.values()),
                       "blocks": sum(p["blocks"] for p in per_page.values())}
    return out


def _methods_of(page: Path) -> set[str]:
    hosts = page_meta(page.read_text(encoding="utf-8")).get("hosts") or []
    return {HOSTS[h].method for h in hosts if h in HOSTS} or set(METHODS)


def over_limits(report: dict[str, dict]) -> list[str]:
    return [f"{m}: {r['words']} words (max {MAX_WORDS}), {r['blocks']} blocks (max {MAX_BLOCKS})"
            for m, r in report.items() if r["words"] > MAX_WORDS or r["blocks"] > MAX_BLOCKS]


def table(report: dict[str, dict]) -> str:
    pages = list(next(iter(report.values()))["pages"])
    rows = ["| page | " + " | ".join(f"{m} words | {m} blocks" for m in report) + " |",
            "| --- |" + " --- | --- |" * len(report)]
    for page in pages:
        cells = [f"{r['pages'][page]['words']} | {r['pages'][page]['blocks']}"
                 if page in r["pages"] else "- | -" for r in report.values()]
        rows.append(f"| {page} | " + " | ".join(cells) + " |")
    rows.append("| **main path** | " + " | ".join(
        f"**{r['words']}** | **{r['blocks']}**" for r in report.values()) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print the counts as JSON")
    ap.add_argument("--check", action="store_true", help="exit 1 when a method is over a limit")
    args = ap.parse_args(argv)
    report = measure(guide_pages())
    print(json.dumps(report, indent=2) if args.json else table(report))
    over = over_limits(report)
    if args.check and over:
        print("over the main path's limits: " + "; ".join(over), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
