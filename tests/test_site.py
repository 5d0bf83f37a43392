"""The site as a reader meets it: a strict build, then Debian's chromium
opening the built pages (navigation, copy buttons, search), with screenshots."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from harness.pages import nav_entries

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "reports" / "screenshots"
# Debian's chromium by default; RUNBOOK_CHROMIUM names another Chromium-based
# browser (GitHub's runners ship Google Chrome).
CHROMIUM = os.environ.get("RUNBOOK_CHROMIUM", "/usr/bin/chromium")


def mkdocs_build(project: Path, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=project, capture_output=True, text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


def nav_pages() -> list[tuple[str, str]]:
    """(title, file) for every page in mkdocs.yml's nav, in order."""
    return nav_entries(ROOT / "mkdocs.yml")


@pytest.fixture(scope="module")
def built_site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("site")
    proc = mkdocs_build(ROOT, site)
    assert proc.returncode == 0, proc.stderr
    return site


def test_site_builds_strictly_with_valid_links_and_anchors(built_site, tmp_path):
    assert (built_site / "index.html").exists()
    # The same build must fail on the upstream guide's broken anchor.
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "docs", copy / "docs")
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    # The hooks, the harness whose pages.py the provenance hook counts blocks
    # with, and the lab.bench the cost page's hook reads.
    for folder in ("scripts", "site_hooks", "harness", "lab"):
        shutil.copytree(ROOT / folder, copy / folder)
    shutil.copy(ROOT / "versions.env", copy / "versions.env")  # the pyz carries it
    page = copy / "docs" / "configure.md"
    page.write_text(page.read_text() + "\nSee [permissions](#set-certificate-file-permissions).\n")
    proc = mkdocs_build(copy, tmp_path / "site")
    assert proc.returncode != 0
    assert "set-certificate-file-permissions" in proc.stderr


def test_every_page_is_in_the_nav():
    listed = {f for _, f in nav_pages()}
    on_disk = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert on_disk == listed


@pytest.fixture(scope="module")
def site_url(built_site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `scripts/install-deps.sh browser` "
                    "(Debian's chromium package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.mark.browser
def test_navigation_lists_every_page(browser, site_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(site_url + "/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "home.png"), full_page=True)
    nav_text = page.locator("nav.md-nav--primary").inner_text()
    missing = [title for title, _ in nav_pages() if title not in nav_text]
    assert missing == []
    page.close()


@pytest.mark.browser
def test_code_blocks_have_a_copy_button(browser, site_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(site_url + "/configure/")
    page.wait_for_selector("pre > code")
    # mkdocs-material 9.8 adds the copy buttons from its JavaScript.
    copy = 'button.md-code__button[title="Copy to clipboard"], button.md-clipboard'
    page.wait_for_selector(copy, state="attached")
    blocks = page.locator("pre > code").count()
    buttons = page.locator(copy).count()
    page.screenshot(path=str(SCREENSHOTS / "configure.png"))
    assert blocks > 5 and buttons == blocks
    page.close()


@pytest.mark.browser
def test_search_finds_tls_min_version(browser, site_url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(site_url + "/")
    page.wait_for_load_state("networkidle")  # the search index is loaded by a worker
    page.locator("label.md-search__icon, .md-search__input").first.click()
    page.locator("input.md-search__input").press_sequentially("tls-min-version", delay=20)
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=15000)
    page.screenshot(path=str(SCREENSHOTS / "search.png"))
    text = page.locator(".md-search-result").inner_text()
    assert results.count() > 0 and "Harden TLS settings" in text
    page.close()


@pytest.mark.browser
def test_every_page_requests_only_its_own_origin(browser, site_url):
    """Air-gapped readers: no page asks any other host for fonts, scripts or data."""
    foreign: dict[str, list[str]] = {}
    opened = []
    # Every page loads at once: "networkidle" is half a second of silence per
    # page, and those half seconds overlap instead of adding up.
    for _, src in nav_pages():
        page = browser.new_page()
        urls: list[str] = []
        page.on("request", lambda request, urls=urls: urls.append(request.url))
        path = "/" if src == "index.md" else f"/{src.removesuffix('.md')}/"
        page.goto(site_url + path, wait_until="commit")
        opened.append((path, page, urls))
    try:
        for path, page, urls in opened:
            page.wait_for_load_state("networkidle")
            assert urls, f"{path}: no request recorded"
            outside = [u for u in urls
                       if not u.startswith(site_url + "/") and not u.startswith("data:")]
            if outside:
                foreign[path] = outside
    finally:
        for _, page, _ in opened:
            page.close()
    assert foreign == {}


def test_the_site_publishes_the_cli_the_pages_install(built_site):
    pyz = built_site / "downloads" / "runbook.pyz"
    with zipfile.ZipFile(pyz) as z:
        assert {"__main__.py", "runbook/cli/__init__.py", "runbook/ready.py"} <= set(z.namelist())
    out = subprocess.run([sys.executable, str(pyz), "--version"], capture_output=True,
                         text=True, timeout=60, cwd="/", env={"PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "runbook, version 0.1.0", out.stderr
