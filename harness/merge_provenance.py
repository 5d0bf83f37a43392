#!/usr/bin/env python3
"""Merge the provenance reports of CI shards into one for the site build.

    harness/merge_provenance.py OUT IN...

Each shard ran some pages on some hosts, alone or in a journey
(reports/provenance.json, written by harness/plugin.py); the site's
provenance hook needs them all. Pages and
hosts are disjoint across shards; where two reports name the same page and
host, the later date wins.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def merge(reports: list[dict]) -> dict:
    out: dict = {"pages": {}, "journeys": {}}
    for report in reports:
        if "influxd" in report:
            out["influxd"] = report["influxd"]
        for section in ("pages", "journeys"):
            for page, hosts in report.get(section, {}).items():
                mine = out[section].setdefault(page, {})
                for host, record in hosts.items():
                    if host not in mine or record.get("date", "") >= mine[host].get("date", ""):
                        mine[host] = record
    return out


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: harness/merge_provenance.py OUT IN...", file=sys.stderr)
        return 2
    try:
        reports = [json.loads(Path(p).read_text()) for p in argv[1:]]
    except (OSError, ValueError) as exc:
        print(f"merge-provenance: cannot read a report: {exc}", file=sys.stderr)
        return 2
    out = Path(argv[0])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(merge(reports), indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
