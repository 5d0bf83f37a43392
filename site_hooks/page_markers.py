"""Shared by the site's data hooks: replace `<!-- name:part -->` markers on
one page with text rendered from a JSON file in docs/assets, and fail the
build when a marker is missing (a page edit must not drop measured data)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def fill_markers(markdown: str, page: Any, config: Any, *, page_name: str, data: str,
                 render: Callable[[dict], dict[str, str]]) -> str:
    if page.file.src_path != page_name:
        return markdown
    path = Path(config["docs_dir"]) / "assets" / data
    for marker, text in render(json.loads(path.read_text())).items():
        if marker not in markdown:
            raise ValueError(f"{page_name} lacks the marker {marker}")
        markdown = markdown.replace(marker, text)
    return markdown
