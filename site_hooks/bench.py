"""MkDocs hook: fill docs/cost.md from the latest `runbook bench` JSON.

The numbers on the page come from docs/assets/bench.json, never typed by
hand; `make bench` rewrites the file and the chart. A file from before the
bench measured intervals (headline ratios as bare numbers) still renders,
and the page says that its intervals and context are not measured.
"""

from __future__ import annotations

from lab.bench import headline_text, table_rows
from site_hooks.page_markers import fill_markers

PAGE = "cost.md"
NOT_MEASURED = "Not measured in this run: `make bench` measures it."


def _has_intervals(result: dict) -> bool:
    return all(isinstance(v, dict) for v in result["headline"].values())


def _machine(result: dict) -> str:
    m, s = result["machine"], result["settings"]
    text = (f"Measured on {result['date'][:10]}: {m['cpu']}, {m['cores']} cores, Linux "
            f"{m['kernel']}, Python {m['python']}, {m['openssl']}; {s['rounds']} rounds, "
            f"writes of {s['batches']} x {s['batch_size']} points, {s['pings']} pings per "
            f"sample, a query of {s['query_points']:,} points.")
    if "wall_seconds" in result:
        text += f" The run took {result['wall_seconds']:.0f} s."
    if _has_intervals(result):
        text += f" Intervals: {result['confidence']}."
    else:
        text += " This file predates the intervals: each ratio below is one number."
    return text


def _headline(result: dict) -> str:
    if not _has_intervals(result):
        rows = "\n".join(f"| {k} | **{v:.2f}** |" for k, v in result["headline"].items())
        return "| ratio | value |\n| --- | --- |\n" + rows
    rows = "\n".join(f"| {k} | **{h['value']:.2f}** | ± {(h['high'] - h['low']) / 2:.2f} "
                     f"[{h['low']:.2f}, {h['high']:.2f}] |"
                     for k, h in result["headline"].items())
    return "| ratio | value | ± half-width [95 % interval] |\n| --- | --- | --- |\n" + rows


def _encryption(result: dict) -> str:
    e = result.get("encryption")
    if not e or not _has_intervals(result):
        return NOT_MEASURED
    h = result["headline"]
    speeds = ", ".join(f"{c} {v / 1e9:.2f} GB/s" for c, v in e["aead_bytes_per_s"].items())
    w13 = h["write throughput, HTTPS TLS 1.3 / HTTP"]
    w12 = h["write throughput, HTTPS TLS 1.2 / HTTP"]
    q = h["100k-point query time, HTTPS / HTTP"]
    return (
        f"`openssl speed -evp` on this CPU, 16 KiB records: {speeds}. Plain HTTP moved "
        f"{e['http_write_bytes_per_s'] / 1e6:.1f} MB/s of line protocol in the write test "
        f"and {e['http_query_bytes_per_s'] / 1e6:.1f} MB/s of CSV in the query test. Sealing "
        f"and opening each byte once at the slower speed ({e['slowest']}) would cost at "
        "most:\n\n"
        "| ratio | encryption alone explains at most | measured |\n| --- | --- | --- |\n"
        f"| write throughput, TLS 1.3 / HTTP | down to {e['write_ratio_floor']:.3f} | "
        f"{headline_text(w13)} |\n"
        f"| write throughput, TLS 1.2 / HTTP | down to {e['write_ratio_floor']:.3f} | "
        f"{headline_text(w12)} |\n"
        f"| 100k-point query time, HTTPS / HTTP | up to {e['query_ratio_ceiling']:.3f} | "
        f"{headline_text(q)} |\n\n"
        f"The TLS 1.3 connections negotiated {result.get('tls13_suite', 'unknown')}.")


def _releases(result: dict) -> str:
    c = result.get("client_releases")
    if not c:
        return NOT_MEASURED
    rows = []
    for release, r in c["releases"].items():
        m = r["median_ms"]
        ratio = next((v for k, v in r.items() if k.startswith("ratio_to_")), None)
        sizes = ", ".join(f"{b:,}" for b in r["client_hello_bytes"])
        rows.append(f"| {release} | {r['openssl']} | {m['value']:.2f} ms "
                    f"[{m['low']:.2f}, {m['high']:.2f}] | "
                    f"{headline_text(ratio) if ratio else '1 (reference)'} | "
                    f"{r['client_hellos']} | {sizes} |")
    return (f"Median of {c['rounds']} interleaved rounds of {c['handshakes_per_round']} "
            "handshakes each, from each release's runbook image (Python's ssl, the "
            "release's OpenSSL defaults), to the RSA-2048 server:\n\n"
            "| client | OpenSSL | TLS 1.3 handshake [95 % interval] | ratio to the first | "
            "ClientHellos | bytes of each |\n| --- | --- | --- | --- | --- | --- |\n"
            + "\n".join(rows))


def _render(result: dict) -> dict[str, str]:
    rows = "\n".join(f"| `{f}` | {med} | {ci} | {spread} |"
                     for f, med, ci, spread in table_rows(result))
    starts = ", ".join(f"{k} {v:.2f} s" for k, v in
                       result["server_start_to_verified_ping_s"].items())
    return {
        "<!-- bench:machine -->": _machine(result),
        "<!-- bench:headline -->": _headline(result),
        "<!-- bench:encryption -->": _encryption(result),
        "<!-- bench:releases -->": _releases(result),
        "<!-- bench:table -->": "| figure | median | 95 % interval | min .. max |\n"
                                "| --- | --- | --- | --- |\n" + rows,
        "<!-- bench:startup -->": f"Container start to first verified HTTPS ping: {starts}.",
    }


def on_page_markdown(markdown: str, page, config, files) -> str:
    return fill_markers(markdown, page, config, page_name=PAGE, data="bench.json", render=_render)
