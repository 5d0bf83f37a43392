"""The cost page's hook renders the committed bench.json, whatever its age."""

from __future__ import annotations

import json
from pathlib import Path

from site_hooks.bench import NOT_MEASURED, _render

ROOT = Path(__file__).resolve().parents[2]


def test_every_marker_the_hook_fills_is_on_the_page():
    result = json.loads((ROOT / "docs" / "assets" / "bench.json").read_text())
    page = (ROOT / "docs" / "cost.md").read_text()
    rendered = _render(result)
    assert [m for m in rendered if m not in page] == []


def test_a_file_from_before_the_intervals_says_so():
    result = json.loads((ROOT / "docs" / "assets" / "bench.json").read_text())
    # the shape before intervals: bare ratios, no context (the committed file may be newer)
    result["headline"] = {k: v["value"] if isinstance(v, dict) else v
                          for k, v in result["headline"].items()}
    for key in ("encryption", "client_releases", "confidence"):
        result.pop(key, None)
    rendered = _render(result)
    assert "predates the intervals" in rendered["<!-- bench:machine -->"]
    assert rendered["<!-- bench:encryption -->"] == NOT_MEASURED
