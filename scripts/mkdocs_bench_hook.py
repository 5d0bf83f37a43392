"""MkDocs hook: fill docs/cost.md from the latest `runbook bench` JSON.

The numbers on the page come from docs/assets/bench.json, never typed by
hand; `make bench` rewrites the file and the chart.
"""

from __future__ import annotations

from page_markers import fill_markers  # scripts/, on sys.path for hooks

from runbook.bench import table_rows

PAGE = "cost.md"


def _render(result: dict) -> dict[str, str]:
    m = result["machine"]
    headline = "\n".join(f"| {k} | **{v:.2f}** |" for k, v in result["headline"].items())
    rows = "\n".join(f"| `{f}` | {med} | {spread} |" for f, med, spread in table_rows(result))
    starts = ", ".join(f"{k} {v:.2f} s" for k, v in
                       result["server_start_to_verified_ping_s"].items())
    s = result["settings"]
    return {
        "<!-- bench:machine -->": (
            f"Measured on {result['date'][:10]}: {m['cpu']}, {m['cores']} cores, Linux "
            f"{m['kernel']}, Python {m['python']}, {m['openssl']}; {s['rounds']} rounds, "
            f"writes of {s['batches']} x {s['batch_size']} points, {s['pings']} pings per "
            f"sample, a query of {s['query_points']:,} points."),
        "<!-- bench:headline -->": "| ratio | value |\n| --- | --- |\n" + headline,
        "<!-- bench:table -->": "| figure | median | min .. max |\n| --- | --- | --- |\n" + rows,
        "<!-- bench:startup -->": f"Container start to first verified HTTPS ping: {starts}.",
    }


def on_page_markdown(markdown: str, page, config, files) -> str:
    return fill_markers(markdown, page, config, page_name=PAGE, data="bench.json", render=_render)
