"""The live journey's measures, computed inside the host after the last page.

Stops the reader's client, then prints one JSON object: the seconds in
which the client could not write (summed, longest, and which page each
outage began in), points written vs stored, the reader's Telegraf sections
and whether their data still flows, influxd's state after every page, and
the reader's configuration files after run 1 against after run 2.

    python3 report.py
"""

from __future__ import annotations

import difflib
import json
import os
import select
import shutil
import signal
import ssl
import subprocess
import time
import tomllib
import urllib.request
from pathlib import Path

STATE = Path("/var/lib/reader-client")
# The package host runs influxd and Telegraf as systemd units, the Docker
# host as containers (no systemd there).
SYSTEMD = subprocess.run(["systemctl", "cat", "influxdb"], capture_output=True).returncode == 0 \
    if shutil.which("systemctl") else False
TRUST = ("/etc/ssl/influxdb/ca.crt", "/etc/ssl/influxdb/server.crt")


def _context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    for path in TRUST:
        if os.path.exists(path):
            ctx.load_verify_locations(cafile=path)
    return ctx


def _query(flux: str) -> list[list[str]]:
    token = Path("/root/.influx-token").read_text().strip()
    req = urllib.request.Request(
        "https://localhost:8086/api/v2/query?org=runbook", data=flux.encode(), method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": "application/vnd.flux",
                 "Accept": "application/csv"})
    with urllib.request.urlopen(req, context=_context(), timeout=30) as resp:  # noqa: S310
        rows = [line.split(",") for line in resp.read().decode().splitlines() if line.strip()]
    return rows[1:]  # without the header


def _seqs() -> set[int] | None:
    """The client's points the server holds, by sequence number; None when
    the server does not answer."""
    try:
        rows = _query('from(bucket: "app") |> range(start: 0) |> filter(fn: (r) => '
                      'r._measurement == "app" and r._field == "seq") '
                      '|> keep(columns: ["_value"])')
    except OSError:
        return None
    return {int(r[-1]) for r in rows if r and r[-1].strip().isdigit()}


def _count(flux: str) -> int | None:
    """The count a query returns; None when the server does not answer (the
    report still says what the client saw, and the check names the gap)."""
    try:
        rows = _query(flux)
    except OSError:
        return None
    return int(rows[0][-1]) if rows else 0


def outages(attempts: list[dict], pages: list[dict]) -> list[dict]:
    """Spans from a failed attempt to the next write that succeeded."""
    spans, start, first_err = [], None, ""
    for a in attempts:
        if not a["ok"] and start is None:
            start, first_err = a["t"], "; ".join(a["err"])
        elif a["ok"] and start is not None:
            spans.append({"from": start, "s": round(a["t"] - start, 2), "err": first_err[:160]})
            start = None
    if start is not None:
        spans.append({"from": start, "s": round(attempts[-1]["t"] - start, 2),
                      "err": first_err[:160], "open": True})
    for span in spans:  # the page that was running when it began
        after = [p for p in pages if p["t"] >= span["from"]]
        span["page"] = f'{after[0]["run"]}/{after[0]["page"]}' if after else "(after the last page)"
        if span["s"] >= 2:
            span["journal"] = _journal(span["from"] - 2, span["from"] + span["s"] + 1)
    return spans


def _journal(start: float, end: float) -> list[str]:
    """What systemd and influxd said about the service in a window: why an
    outage lasted as long as it did."""
    if not SYSTEMD:
        return []
    out = subprocess.run(["journalctl", "-o", "short-unix", "--no-pager", "-u", "influxdb",
                          "--since", f"@{start:.0f}", "--until", f"@{end:.0f}"],
                         capture_output=True, text=True).stdout
    keep = ("Stopping", "Stopped", "Starting", "Started", "Listening", "Error", "unavailable",
            "Deactivated", "Consumed", 'msg="Stopping', "Open store", "failed")
    return [line[:200] for line in out.splitlines() if any(k in line for k in keep)][:40]


def config_diff() -> dict[str, list[str]] | None:
    """The reader's files after run 1's last page against after run 2's;
    None on a host that ran the Guide once (rounds_by_release)."""
    snaps = STATE / "snap"
    if not (snaps / "run2").is_dir():
        return None
    last = {}
    for run in ("run1", "run2"):
        pages = sorted((snaps / run).iterdir(), key=lambda p: p.stat().st_mtime)
        last[run] = pages[-1]
    diffs = {}
    for f in sorted({p.name for run in last.values() for p in run.iterdir()} - {"processes"}):
        a = (last["run1"] / f).read_text().splitlines() if (last["run1"] / f).exists() else []
        b = (last["run2"] / f).read_text().splitlines() if (last["run2"] / f).exists() else []
        diff = list(difflib.unified_diff(a, b, "run1", "run2", lineterm="", n=0))
        if diff:
            diffs[f] = diff
    procs = [set((last[r] / "processes").read_text().split()) for r in ("run1", "run2")]
    diffs["new processes"] = sorted(procs[1] - procs[0])
    return diffs


def telegraf_state() -> dict:
    conf = tomllib.loads(Path("/etc/telegraf/telegraf.conf").read_text())
    out = conf.get("outputs", {})
    sections = sorted([f"inputs.{k}" for k in conf.get("inputs", {})]
                      + [f"outputs.{k}" for k in out])
    file_out = Path("/var/log/telegraf/metrics.out")
    size = file_out.stat().st_size
    cpu_recent = _count('from(bucket: "telegraf") |> range(start: -20s, stop: 1m) '
                        '|> filter(fn: (r) => r._measurement == "cpu" and r._field == '
                        '"usage_idle") |> group() |> count()')
    logs = (["journalctl", "-u", "telegraf", "-o", "cat", "--no-pager"] if SYSTEMD
            else ["docker", "logs", "telegraf"])
    done = subprocess.run(logs, capture_output=True, text=True)
    errors = done.stdout + done.stderr
    errors = [line for line in errors.splitlines() if " E! " in line][-5:]
    return {"sections": sections, "influxdb_v2": out.get("influxdb_v2", []),
            "last_errors": errors,
            "file_output_bytes": size, "cpu_points_last_20s": cpu_recent,
            "backups": sorted(p.name for p in Path("/etc/telegraf").glob("telegraf.conf.*"))}


def _serves() -> bool:
    try:
        with urllib.request.urlopen("https://localhost:8086/health",
                                    context=_context(), timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


SAMPLE_S = 0.02


def restart_downtime(rounds: int = 5) -> list[float]:
    """Seconds without a verified HTTPS answer around each restart (`systemctl
    restart influxdb`, or `docker restart influxdb`), asked every 20 ms;
    after the client stopped, so these restarts are not its outages."""
    samples = []
    for _ in range(rounds):
        proc = subprocess.Popen(["systemctl", "restart", "influxdb"] if SYSTEMD
                                else ["docker", "restart", "influxdb"], stdout=subprocess.DEVNULL)
        down_since = None
        deadline = time.monotonic() + 60
        while True:
            now = time.monotonic()
            up = _serves()
            if not up and down_since is None:
                down_since = now
            # Done once the restart command has returned (the unit's start job,
            # or docker's, is over) and influxd answers. A restart quicker than
            # one sample is never seen down: it counts as 0, below resolution.
            if up and proc.poll() is not None:
                break
            if now > deadline:
                raise SystemExit(
                    "waited 60 s for a restart to end with influxd answering verified HTTPS; "
                    + ("the restart command still runs" if proc.poll() is None
                       else "influxd does not answer"))
            # Not a wait for readiness: the sampling interval of the
            # measurement, so the downtime is known to within 20 ms.
            time.sleep(SAMPLE_S)
        proc.wait(timeout=60)
        samples.append(round(time.monotonic() - down_since, 3) if down_since else 0.0)
    return samples


def stop_client() -> None:
    """Stop the reader's client and wait until it has written its last line."""
    if SYSTEMD:
        subprocess.run(["systemctl", "stop", "reader-client"], check=True)
        return
    pid = int((STATE / "pid").read_text())
    try:
        exited = os.pidfd_open(pid)  # readable once the process has exited
    except ProcessLookupError:
        return
    try:
        os.kill(pid, signal.SIGTERM)
        if not select.select([exited], [], [], 10)[0]:
            raise SystemExit(f"waited 10 s for the reader's client (pid {pid}) to exit after "
                             "SIGTERM; it did not")
    finally:
        os.close(exited)


def main() -> None:
    stop_client()
    attempts = [json.loads(line) for line in (STATE / "attempts.jsonl").read_text().splitlines()]
    pages = [json.loads(line) for line in (STATE / "pages.jsonl").read_text().splitlines()]
    spans = outages(attempts, pages)
    written = sum(a["ok"] for a in attempts)
    stored_seqs = _seqs()
    stored = None if stored_seqs is None else len(stored_seqs)
    acked = {a["seq"] for a in attempts if a["ok"]}
    maybe = {a["seq"] for a in attempts if a.get("maybe") and not a["ok"]}
    history = _count('from(bucket: "app") |> range(start: 0) |> filter(fn: (r) => '
                     'r._measurement == "history") |> group() |> count()')
    report = {
        "attempts": len(attempts),
        "seconds": round(attempts[-1]["t"] - attempts[0]["t"], 1),
        "outage_s_total": round(sum(s["s"] for s in spans), 2),
        # The limit is per pass of the Guide: each run's outages summed.
        "outage_s_by_run": {run: round(sum(s["s"] for s in spans
                                           if s["page"].startswith(f"{run}/")), 2)
                            for run in sorted({p["run"] for p in pages})},
        "outage_s_longest": max((s["s"] for s in spans), default=0.0),
        "outages": spans,
        "written": written,
        "stored": stored,
        # Acknowledged but not stored: lost. Stored without an acknowledgement
        # is fine only for a write whose answer never came (`maybe`).
        "lost": None if stored_seqs is None else sorted(acked - stored_seqs),
        "stored_unacknowledged": None if stored_seqs is None else sorted(stored_seqs - acked),
        "maybe": sorted(maybe),
        "history_points": history,
        "over_https": sum(a["ok"] and a["scheme"] == "https" for a in attempts),
        "pages": pages,
        "telegraf": telegraf_state(),
        "run2_vs_run1": config_diff(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    samples = restart_downtime()
    report["restart_downtime_s"] = {"samples": samples,
                                    "median": sorted(samples)[len(samples) // 2]}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
