"""The journey's `start_with` pages (harness/journey.yml) follow the nav: a
reader meets them, in that order, before the journey's section."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.pages import PageError, journey_pages, journey_start

MKDOCS = Path(__file__).resolve().parents[2] / "mkdocs.yml"
GUIDE = journey_pages(MKDOCS, "Guide")


def test_the_smoke_test_comes_before_the_guide():
    smoke = MKDOCS.parent / "docs" / "smoke.md"
    assert journey_start(MKDOCS, ["smoke.md"], "Guide", GUIDE) == [smoke]


@pytest.mark.parametrize("start_with, says", [
    (["nope.md"], "nope.md is not in mkdocs.yml's nav"),
    (["troubleshoot.md"], "before the section 'Guide'"),
    (["smoke.md", "index.md"], "must follow the nav's order"),
])
def test_a_page_out_of_nav_order_stops_the_run_with_its_name(start_with, says):
    with pytest.raises(PageError, match=says):
        journey_start(MKDOCS, start_with, "Guide", GUIDE)
