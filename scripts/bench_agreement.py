"""Do several `runbook bench` runs agree? Each headline ratio of each run, with its
95 % interval: "agree" when every pair's gap fits the 95 % interval of a
difference (lab.bench_stats.agree), and "+inside" when, on top of that,
every run's ratio lies inside every other run's interval. Many ratios of
many runs make many 95 % tests, and some fail by chance (8 ratios of 3
runs that truly agree all pass only about a third of the time), so the
verdict for the whole set is Bonferroni's: exit 1 only if a ratio
disagrees with every comparison held at 95 % together.

    python scripts/bench_agreement.py run1.json run2.json run3.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lab.bench import headline_text
from lab.bench_stats import Interval, agree, bonferroni_z, inside_each_other


def main(paths: list[str]) -> int:
    runs = [json.loads(Path(p).read_text()) for p in paths]
    print("wall time: " + ", ".join(f"{r.get('wall_seconds', '?')} s" for r in runs))
    titles = list(runs[0]["headline"])
    comparisons = len(titles) * len(runs) * (len(runs) - 1) // 2
    z_all = bonferroni_z(comparisons)
    disagreeing, moved = 0, 0
    for title in titles:
        hs = [r["headline"][title] for r in runs]
        intervals = [Interval(h["value"], h["low"], h["high"]) for h in hs]
        verdict = ("agree+inside" if inside_each_other(intervals) else "agree"
                   if agree(intervals) else "DISAGREE")
        disagreeing += verdict == "DISAGREE"
        moved += not agree(intervals, z_all)
        print(f"{verdict:12} {title}: "
              + " | ".join(headline_text(h) for h in hs))
    print(f"{len(titles) - disagreeing} of {len(titles)} ratios agree at 95 % each; all "
          f"{comparisons} comparisons together (Bonferroni, z = {z_all:.2f}): "
          + ("agree" if not moved else f"{moved} ratio(s) DISAGREE"))
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
