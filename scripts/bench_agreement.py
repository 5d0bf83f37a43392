"""Do several `runbook bench` runs agree? Each headline ratio of each run, with its
95 % interval: "agree" when every pair's gap fits the 95 % interval of a
difference (runbook.bench_stats.agree), and "+inside" when, on top of that,
every run's ratio lies inside every other run's interval. Exit 1 if a ratio
does not agree.

    python scripts/bench_agreement.py run1.json run2.json run3.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from runbook.bench import headline_text
from runbook.bench_stats import Interval, agree, inside_each_other


def main(paths: list[str]) -> int:
    runs = [json.loads(Path(p).read_text()) for p in paths]
    print("wall time: " + ", ".join(f"{r.get('wall_seconds', '?')} s" for r in runs))
    disagreeing = 0
    for title in runs[0]["headline"]:
        hs = [r["headline"][title] for r in runs]
        intervals = [Interval(h["value"], h["low"], h["high"]) for h in hs]
        verdict = ("agree+inside" if inside_each_other(intervals) else "agree"
                   if agree(intervals) else "DISAGREE")
        disagreeing += verdict == "DISAGREE"
        print(f"{verdict:12} {title}: "
              + " | ".join(headline_text(h) for h in hs))
    return 1 if disagreeing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
