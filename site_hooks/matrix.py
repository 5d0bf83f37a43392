"""MkDocs hook: fill docs/trust-matrix.md from docs/assets/trust-matrix.json.

The cells come from a real run (`python -m lab.matrix`), never typed by
hand: which client accepted which certificate, and each refusal's exact words.
"""

from __future__ import annotations

from typing import Any

from site_hooks.page_markers import fill_markers

PAGE = "trust-matrix.md"


def _mark(cell: dict[str, Any]) -> str:
    return "✓" if cell["accepted"] else "✗"


def differing(result: dict[str, Any]) -> list[tuple[str, list[str], list[str]]]:
    """(variant, clients that accept, clients that refuse) where clients disagree."""
    out = []
    for v in result["variants"]:
        cells = result["cells"][v["id"]]
        yes = [c["id"] for c in result["clients"] if cells[c["id"]]["accepted"]]
        no = [c["id"] for c in result["clients"] if not cells[c["id"]]["accepted"]]
        if yes and no:
            out.append((v["id"], yes, no))
    return out


def _table(result: dict[str, Any]) -> str:
    clients = result["clients"]
    head = "| certificate | " + " | ".join(c["id"] for c in clients) + " |"
    stacks = "| *TLS stack* | " + " | ".join(f"*{c['stack']}*" for c in clients) + " |"
    rule = "| --- |" + " :---: |" * len(clients)
    rows = [f"| [{v['id']}](#{v['id']}) | " + " | ".join(
        _mark(result["cells"][v["id"]][c["id"]]) for c in clients) + " |"
        for v in result["variants"]]
    return "\n".join([head, rule, stacks, *rows])


def _details(result: dict[str, Any]) -> str:
    parts = []
    for v in result["variants"]:
        cells = result["cells"][v["id"]]
        lines = [f"### {v['id']}", "", f"{v['title']}; the client connects to "
                 f"`{v['host']}`.", "", "| client | result |", "| --- | --- |"]
        for c in result["clients"]:
            cell = cells[c["id"]]
            text = "accepted" if cell["accepted"] else \
                "`" + cell["error"].replace("|", "\\|").replace("`", "'") + "`"
            lines.append(f"| {c['id']} | {text} |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _differences(result: dict[str, Any]) -> str:
    rows = [f"| {v} | {', '.join(yes)} | {', '.join(no)} |" for v, yes, no in differing(result)]
    return "| certificate | accepted by | refused by |\n| --- | --- | --- |\n" + "\n".join(rows)


def _tools(result: dict[str, Any]) -> str:
    tools = "\n".join(f"- {k}: {v}" for k, v in result["tools"].items())
    return (f"Generated on {result['date'][:10]} against influxd {result['influxd']}, "
            f"{len(result['variants'])} certificates x {len(result['clients'])} clients, "
            f"with:\n\n{tools}")


def render(result: dict[str, Any]) -> dict[str, str]:
    return {"<!-- matrix:table -->": _table(result),
            "<!-- matrix:differences -->": _differences(result),
            "<!-- matrix:details -->": _details(result),
            "<!-- matrix:tools -->": _tools(result)}


def on_page_markdown(markdown: str, page, config, files) -> str:
    return fill_markers(markdown, page, config, page_name=PAGE, data="trust-matrix.json",
                        render=render)
