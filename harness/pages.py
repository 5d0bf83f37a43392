"""What a docs page asks to run, and where: read from its Markdown alone.

Shared by the docs harness (which runs the blocks) and the site's
provenance hook (which says on each page what ran), so both count the same
blocks. No pytest here: the site build imports it.
"""

from __future__ import annotations

import copy
import functools
import io
import re
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from harness.codeblocks import CodeBlock, extract_from_buffer
from harness.hosts import DEFAULT_HOSTS, HOSTS, TAB_TO_HOSTS, HostKind

RUNNABLE = ("python", "sh", "bash")
TAB_LINE = re.compile(r'^(?P<indent>\s*)=== "(?P<title>[^"]+)"\s*$')


class PageError(ValueError):
    """A page that cannot be run as written; the message says where and why."""


@dataclass
class PlannedBlock:
    block: CodeBlock
    hosts: frozenset[str] | None  # install methods; None: every host the page declares
    hidden: bool

    def runs_on(self, host: str) -> bool:
        """Whether the block runs on the host of that name (HOSTS)."""
        return self.hosts is None or HOSTS[host].method in self.hosts


def page_hosts(text: str) -> tuple[str, ...]:
    """The host kinds a page declares in its front matter (`hosts: [...]`)."""
    hosts = tuple(page_meta(text).get("hosts") or DEFAULT_HOSTS)
    unknown = [h for h in hosts if h not in HOSTS]
    if unknown:
        raise PageError(f"unknown host kind(s) {unknown} in front matter; known: {sorted(HOSTS)}")
    return hosts


def alone_hosts(text: str) -> tuple[str, ...]:
    """The hosts a page runs on by itself: `alone_on: [...]` in its front
    matter, default every host it declares. A declared host left out is one
    where the journey runs the page (tests/unit/test_pages_policy.py checks
    that it does), so the page is not run twice on the same host."""
    declared = page_hosts(text)
    alone = page_meta(text).get("alone_on")
    if alone is None:
        return declared
    if not isinstance(alone, list) or not alone:
        raise PageError("alone_on: must be a non-empty list of the page's hosts")
    extra = [h for h in alone if h not in declared]
    if extra:
        raise PageError(f"alone_on: {extra} not in the page's hosts {list(declared)}")
    return tuple(alone)


def block_hosts(text: str) -> dict[int, frozenset[str]]:
    """For each line inside a host's content tab, the hosts it belongs to.

    A tab (`=== "Docker"`) holds the lines below it that are indented more
    than its marker; blank lines do not end it. Tabs whose title names no
    host (variants such as "Configuration file") are transparent.
    """
    owner: dict[int, frozenset[str]] = {}
    stack: list[tuple[int, frozenset[str]]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            if stack and stack[-1][1]:
                owner[n] = stack[-1][1]
            continue
        indent = len(line) - len(line.lstrip())
        while stack and indent <= stack[-1][0]:
            stack.pop()
        tab = TAB_LINE.match(line)
        if tab:
            host = TAB_TO_HOSTS.get(tab["title"], stack[-1][1] if stack else frozenset())
            stack.append((len(tab["indent"]), host))
        elif stack and stack[-1][1]:
            owner[n] = stack[-1][1]
    return owner


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


def page_plan(path: Path) -> tuple[tuple[str, ...], list[PlannedBlock]]:
    """The hosts a page declares and its runnable blocks, each with its host.
    Each call gets blocks of its own (the harness fills placeholders in them)."""
    declared, plan = _page_plan(path.name, path.read_text(encoding="utf-8"))
    return declared, [replace(p, block=replace(p.block, marks=list(p.block.marks)))
                      for p in plan]


# Collection asks for each page's plan once per host and journey (about 200
# times in a whole run, in every xdist worker): parsed once per text, and
# from that text only, so an edit is always a new entry.
@functools.lru_cache(maxsize=64)
def _page_plan(name: str, text: str) -> tuple[tuple[str, ...], list[PlannedBlock]]:
    declared = page_hosts(text)
    owners, hidden = block_hosts(text), hidden_lines(text)
    plan = []
    for block in extract_from_buffer(io.StringIO(text)):
        if block.syntax not in RUNNABLE:
            continue
        owner = owners.get(block.lineno)
        methods = {HOSTS[h].method for h in declared}
        if owner and not owner <= methods:
            never = sorted(owner - methods)
            raise PageError(
                f"{name}:{block.lineno}: a block in a tab for {sorted(owner)}, "
                f"but the page's front matter does not list host(s) {never}: it would never run")
        plan.append(PlannedBlock(block, owner, block.lineno in hidden))
    return declared, plan


def follows(host: HostKind, declared: tuple[str, ...]) -> bool:
    """Whether a journey on `host` follows a page that declares these hosts:
    the page is written for the host's install method, whatever the release
    (a page lists the releases it runs on by itself: package-trixie...)."""
    return host.method in {HOSTS[h].method for h in declared}


def blocks_per_host(path: Path) -> dict[str, int]:
    """How many blocks a full run of the page executes on each declared host."""
    declared, plan = page_plan(path)
    return {h: sum(1 for p in plan if p.runs_on(h)) for h in declared}


SETUP_PREFIX = "# Hidden set-up"


def is_setup(planned: PlannedBlock) -> bool:
    """A hidden block that prepares the host (its first line says
    `# Hidden set-up`), as opposed to a hidden check. The journey runs
    without them: a reader has no hidden help."""
    first = planned.block.code.lstrip().splitlines()[:1]
    return planned.hidden and bool(first) and first[0].startswith(SETUP_PREFIX)


def page_meta(text: str) -> dict:
    return copy.deepcopy(_page_meta(text))


@functools.lru_cache(maxsize=256)
def _page_meta(text: str) -> dict:
    match = re.match(r"---\n(.*?)\n---\n", text, flags=re.S)
    return (yaml.safe_load(match.group(1)) or {}) if match else {}


class _MkDocsLoader(yaml.SafeLoader):
    """mkdocs.yml as MkDocs reads it, minus the environment: `!ENV [NAME,
    default]` gives its default (site_url; nothing here depends on it)."""


_MkDocsLoader.add_constructor(
    "!ENV", lambda loader, node: (loader.construct_sequence(node)[-1]
                                  if isinstance(node, yaml.SequenceNode) else None))


def load_mkdocs_yml(mkdocs_yml: Path) -> dict:
    return copy.deepcopy(_load_mkdocs_text(mkdocs_yml.read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=8)
def _load_mkdocs_text(text: str) -> dict:
    return yaml.load(text, Loader=_MkDocsLoader)  # noqa: S506


def nav_entries(mkdocs_yml: Path) -> list[tuple[str, str]]:
    """(title, file) of every page of the nav, in nav order (sections flattened)."""
    out: list[tuple[str, str]] = []

    def walk(entries) -> None:
        for entry in entries:
            title, value = next(iter(entry.items())) if isinstance(entry, dict) else ("", entry)
            if isinstance(value, list):
                walk(value)
            else:
                out.append((title, value))

    walk(load_mkdocs_yml(mkdocs_yml)["nav"])
    return out


def journey(mkdocs_yml: Path, start_with: list[str], section: str) -> list[Path]:
    """The journey's pages: `start_with`, then the section's (journey_pages)."""
    section_pages = journey_pages(mkdocs_yml, section)
    return journey_start(mkdocs_yml, start_with, section, section_pages) + section_pages


def journey_start(mkdocs_yml: Path, start_with: list[str], section: str,
                  section_pages: list[Path]) -> list[Path]:
    """The pages read before `section`: each must be in the nav, in nav
    order, before the section's first page (the journey follows the nav)."""
    order = [file for _, file in nav_entries(mkdocs_yml)]
    limit = order.index(section_pages[0].name) if section_pages else len(order)
    at = []
    for name in start_with:
        if name not in order:
            raise PageError(f"start_with: {name} is not in mkdocs.yml's nav")
        at.append(order.index(name))
    if at != sorted(at) or any(i >= limit for i in at):
        raise PageError(f"start_with: {start_with} must follow the nav's order and come "
                        f"before the section {section!r}")
    return [mkdocs_yml.parent / "docs" / name for name in start_with]


def journey_pages(mkdocs_yml: Path, section: str) -> list[Path]:
    """The pages of one nav section, in nav order, that have runnable blocks
    and do not opt out with `journey: false` in their front matter."""
    nav = load_mkdocs_yml(mkdocs_yml)["nav"]
    entries = next((list(e.values())[0] for e in nav
                    if isinstance(e, dict) and section in e), None)
    if entries is None:
        raise PageError(f"mkdocs.yml has no nav section {section!r}")
    docs = mkdocs_yml.parent / "docs"
    pages = []
    for entry in entries:
        path = docs / (list(entry.values())[0] if isinstance(entry, dict) else entry)
        text = path.read_text(encoding="utf-8")
        if page_meta(text).get("journey", True) is False:
            continue
        if page_plan(path)[1]:
            pages.append(path)
    return pages
