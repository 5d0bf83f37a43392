"""`python -m lab`: the lab's commands (demo, down, bench), behind the reader's
CLI's one error boundary (runbook.cli.main) so they exit and fail the same way."""

from __future__ import annotations

from pathlib import Path

import click

from runbook.cli import main, progress


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def lab() -> None:
    """Docker-only tools of this repository: the demo and the benchmark."""


# -------------------------------------------------------------------

@lab.command()
@click.option("--state", type=click.Path(file_okay=False, path_type=Path),
              default=Path(".demo"), show_default=True,
              help="Where the CA, certificates, token and Telegraf config go.")
@click.option("--force", is_flag=True,
              help="Replace the state folder's CA and server certificate with new ones.")
def demo(state: Path, force: bool) -> None:
    """Start a verified TLS InfluxDB with Telegraf writing over HTTPS."""
    from lab.demo import run

    report = run(state, force=force, progress=progress)
    progress("")
    progress("\n".join(report.lines()))


@lab.command()
@click.option("--rounds", type=click.IntRange(2, 200), default=30, show_default=True,
              help="Rounds (each measures every mode once); intervals bootstrap over them.")
@click.option("--pings", type=click.IntRange(10, 10000), default=20, show_default=True,
              help="Requests per latency sample.")
@click.option("--json-out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("docs/assets/bench.json"), show_default=True)
@click.option("--png-out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("docs/assets/bench.png"), show_default=True)
def bench(rounds: int, pings: int, json_out: Path, png_out: Path) -> None:
    """Measure what TLS costs: HTTP vs HTTPS 1.2 vs 1.3, handshakes, queries."""
    import time

    from lab.bench import headline_text, run, save, table_rows

    started = time.monotonic()
    result = run(rounds=rounds, pings=pings, progress=progress)
    result["wall_seconds"] = round(time.monotonic() - started, 1)
    save(result, json_out, png_out)
    rows = [("figure", "median", "95% interval", "min .. max"), *table_rows(result)]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    progress("What TLS costs (median of rounds)")
    for row in rows:
        progress("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    for k, h in result["headline"].items():
        progress(f"{k}: {headline_text(h)}")
    e = result["encryption"]
    progress(f"encryption alone: write ratio >= {e['write_ratio_floor']:.4f}, query ratio <= "
             f"{e['query_ratio_ceiling']:.4f} ({e['slowest']} at "
             f"{e['aead_bytes_per_s'][e['slowest']] / 1e9:.2f} GB/s)")
    for release, r in result["client_releases"]["releases"].items():
        m = r["median_ms"]
        progress(f"TLS 1.3 handshake from {release} ({r['openssl']}): {m['value']:.2f} ms "
                 f"[{m['low']:.2f}, {m['high']:.2f}], ClientHellos {r['client_hello_bytes']}")
    progress(f"wall time {result['wall_seconds']} s   JSON: {json_out}   chart: {png_out}")


@lab.command()
def down() -> None:
    """Stop and remove everything the demo started."""
    from lab.demo import down as remove

    removed = remove()
    click.echo("Removed: " + ", ".join(removed) if removed else "Nothing to remove.")


def run(argv: list[str] | None = None) -> None:
    main(argv, group=lab, prog="python -m lab")
