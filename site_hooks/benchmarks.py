"""MkDocs hook: fill docs/benchmarks.md with how long things take here.

Nothing on that page is typed by hand. Its figures come from the reports a
run writes under reports/ (git-ignored: a fresh clone has none, and each
such figure then says "Not measured in this build" and which command
measures it), from docs/assets/timings.json (figures measured by hand that
no report holds, each with its commit, date and machine) and from
docs/assets/bench.json (`make bench`'s own file).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

PAGE = "benchmarks.md"
NOT_MEASURED = "Not measured in this build"
SLOWEST = 5  # rows in each "slowest" table
# The units reports/test-timings.json sums, in the words of the page.
TEST_KINDS = {"modules_s": "test modules", "pages_s": "page runs",
              "journey_s": "the Guide in order", "live_journey_s": "the Guide on a live server"}

Report = tuple[Any, str]  # a report's data, and the day its file was written


def duration(seconds: float) -> str:
    """0.159 -> '159 ms', 19 -> '19 s', 2.5 -> '2.5 s', 933 -> '15 min 33 s'."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def spread(values: list[float]) -> str:
    """The range of some measures of one thing, in one unit: '14 to 54 ms',
    '0.8 to 1.2 s'."""
    low, high = min(values), max(values)
    if low == high:
        return duration(low)
    if high < 1:
        return f"{low * 1000:.0f} to {high * 1000:.0f} ms"
    if high < 60:
        return f"{low:.1f} to {high:.1f} s"
    return f"{duration(low)} to {duration(high)}"


def read_report(reports: Path, name: str) -> Report | None:
    """A report and the day it was written; None when it is missing or torn."""
    path = reports / name
    try:
        data = json.loads(path.read_text())
        written = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).date().isoformat()
    except (OSError, ValueError):
        return None
    return data, written


def not_measured(name: str, command: str) -> str:
    return f"{NOT_MEASURED}: `{command}` writes `reports/{name}`."


def from_report(reports: Path, name: str, command: str,
                render: Callable[[Any, str], str | None]) -> str:
    """A report rendered by `render(data, day written)`, or the line that
    says it was not measured (no file, a torn file, or nothing in it)."""
    found = read_report(reports, name)
    text = render(*found) if found else None
    return not_measured(name, command) if text is None else text


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    lines = [" | ".join(header), " | ".join("---" for _ in header)]
    lines += [" | ".join(row) for row in rows]
    return "\n".join(f"| {line} |" for line in lines)


def hand_measured(timings: dict, section: str) -> str:
    """One section of docs/assets/timings.json as a table."""
    rows = []
    for f in (f for f in timings["figures"] if f["section"] == section):
        value = f["seconds"]
        text = spread(value) if isinstance(value, list) else duration(value)
        parts = ", ".join(f"{what} {duration(s)}" for what, s in f.get("parts", {}).items())
        rows.append((f["what"], text + (f" ({parts})" if parts else ""),
                     f"`{f['commit']}`, {f['date']}, {f['machine']}"))
    return _table(("what", "time", "measured at, on"), rows)


def machines(timings: dict) -> str:
    return "\n".join(f"- **{name}**: {text}" for name, text in timings["machines"].items())


def image_builds(reports: Path) -> str:
    rows = []
    for name, how in (("image-build.json", "built"), ("image-build-cached.json", "reused")):
        found = read_report(reports, name)
        if found:
            rows.append((f"the runbook image, {how}", duration(found[0]["seconds"]),
                         found[0]["date"][:10]))
    if not rows:
        return not_measured("image-build.json", "make images")
    return "The last `make images` here:\n\n" + _table(("what", "time", "on"), rows)


def docs_run(d: dict, written: str) -> str:
    blocks, runs = d["blocks"], len(d["pages_s"])
    return (f"The last run of the pages here ({written}, {d['mode']}): {blocks['ran']} code "
            f"blocks ran on {runs} page run{'s' * (runs != 1)} ({blocks['failed']} failed, "
            f"{blocks['skipped']} skipped) in {duration(d['wall_s'])}.")


def test_time(d: dict, written: str) -> str:
    rows = [(label, str(len(d[kind])), duration(sum(d[kind].values())))
            for kind, label in TEST_KINDS.items() if d.get(kind)]
    units = sorted(((s, unit) for kind in TEST_KINDS for unit, s in d.get(kind, {}).items()),
                   reverse=True)[:SLOWEST]
    return (f"Seconds summed over the workers, per kind of unit (last written {written}):\n\n"
            + _table(("unit", "how many", "summed time"), rows)
            + "\n\nThe slowest units:\n\n"
            + _table(("unit", "time"), [(f"`{u}`", duration(s)) for s, u in units]))


def hostile(d: dict, written: str) -> str:
    slow = d["slowest"]
    return (f"The CLI's hostile inputs ({written}): {d['inputs']} inputs in "
            f"{duration(d['seconds'])}; the slowest, `{slow['command']}` on `{slow['case']}`, "
            f"took {duration(slow['seconds'])} (each case's limit: "
            f"{duration(d['case_limit_seconds'])}).")


def ready_lag(d: dict, written: str) -> str:
    return (f"From influxd's `Listening` line to `runbook wait` returning ({written}): "
            f"{spread(d['lags_s'])} over {len(d['lags_s'])} starts, polling every "
            f"{duration(d['poll_s'])}.")


def journeys(d: dict, written: str) -> str | None:
    if not d.get("journey"):
        return None
    rows = [(f"`{host}`", str(len(j["pages"])), str(j["ran"]), duration(j["s"]))
            for host, j in sorted(d["journey"].items())]
    return (f"The Guide in order, one host per row ({written}):\n\n"
            + _table(("host", "pages", "blocks ran", "time"), rows))


def live_journeys(d: dict, written: str) -> str:
    rows = []
    for host, r in sorted(d.items()):
        by_pass = " / ".join(duration(s) for s in r["outage_s_by_run"].values())
        rows.append((f"`{host}`", duration(r["seconds"]), by_pass,
                     duration(r["outage_s_longest"]),
                     duration(r["restart_downtime_s"]["median"]), r["measured_at"][:10]))
    return _table(("host", "time", "client could not write, per pass", "longest outage",
                   "one restart without HTTPS (median)", "on"), rows)


def page_runs(d: dict, written: str) -> str | None:
    if not d.get("pages"):
        return None
    runs = [(r["s"], page, host, r["date"])
            for page, hosts in d["pages"].items() for host, r in hosts.items() if "s" in r]
    total = sum(s for s, *_ in runs)
    rows = [(f"`{page}`", f"`{host}`", duration(s), date)
            for s, page, host, date in sorted(runs, reverse=True)[:SLOWEST]]
    return (f"{len(runs)} page runs recorded, {duration(total)} of blocks in all. "
            "The slowest:\n\n" + _table(("page", "host", "time", "on"), rows))


def bench_run(assets: Path) -> str:
    result = json.loads((assets / "bench.json").read_text())
    if "wall_seconds" not in result:
        return f"{NOT_MEASURED}: `make bench` writes `docs/assets/bench.json`."
    return (f"The last `make bench` took {duration(result['wall_seconds'])} on "
            f"{result['date'][:10]} ({result['machine']['cores']} cores); what it measured is "
            "on [What TLS costs](cost.md).")


def render(reports: Path, assets: Path) -> dict[str, str]:
    """Marker -> markdown, for every marker on the page."""
    timings = json.loads((assets / "timings.json").read_text())
    docs = (reports, "docs-timings.json", "make test")
    return {
        "<!-- benchmarks:machines -->": machines(timings),
        "<!-- benchmarks:build -->": hand_measured(timings, "build") + "\n\n"
                                     + image_builds(reports),
        "<!-- benchmarks:suite -->": "\n\n".join((
            hand_measured(timings, "suite"), from_report(*docs, docs_run),
            from_report(reports, "test-timings.json", "make test", test_time),
            from_report(reports, "hostile-corpus.json", "make test-unit", hostile))),
        "<!-- benchmarks:pages -->": from_report(reports, "provenance.json", "make test",
                                                 page_runs),
        "<!-- benchmarks:journeys -->": from_report(*docs, journeys),
        "<!-- benchmarks:live -->": from_report(reports, "live-journey.json", "make test",
                                                live_journeys),
        "<!-- benchmarks:cli -->": hand_measured(timings, "cli") + "\n\n"
                                   + from_report(reports, "ready-lag.json", "make test-server",
                                                 ready_lag),
        "<!-- benchmarks:hosts -->": hand_measured(timings, "hosts"),
        "<!-- benchmarks:bench -->": bench_run(assets),
    }


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_path != PAGE:
        return markdown
    root = Path(config.config_file_path).resolve().parent
    for marker, text in render(root / "reports", Path(config["docs_dir"]) / "assets").items():
        if marker not in markdown:  # a page edit must not drop measured figures
            raise PluginError(f"{PAGE} lacks the marker {marker}")
        markdown = markdown.replace(marker, text)
    return markdown
