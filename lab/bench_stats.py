"""Confidence intervals for the bench: a percentile bootstrap over rounds, stdlib only.

A round measures every mode once, back to back, so the rounds of two modes
are pairs: drift in machine load hits both. A ratio's interval resamples
whole rounds (pairs kept together), recomputes median(a) / median(b) each
time, and takes the 2.5th and 97.5th percentiles of those ratios. The RNG is
seeded, so the same rounds always give the same interval.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

RESAMPLES = 2000
CONFIDENCE = 0.95
SEED = 20261207
Z95 = 1.959964  # the intervals' own quantile: bootstrap intervals are 95 %
Statistic = Callable[[Sequence[float]], float]


@dataclass(frozen=True)
class Interval:
    value: float  # the statistic on the rounds as measured
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}


def _percentile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) of sorted values, linear between neighbours."""
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _interval(value: float, estimates: list[float], confidence: float) -> Interval:
    estimates.sort()
    tail = (1 - confidence) / 2
    return Interval(value, _percentile(estimates, tail), _percentile(estimates, 1 - tail))


def bootstrap(values: Sequence[float], stat: Statistic = statistics.median, *,
              resamples: int = RESAMPLES, confidence: float = CONFIDENCE,
              seed: int = SEED) -> Interval:
    """`stat` of `values` with its percentile-bootstrap interval."""
    if len(values) < 2:
        raise ValueError("a bootstrap interval needs at least 2 rounds")
    rng = random.Random(seed)  # noqa: S311 - resampling, not secrets
    n = len(values)
    estimates = [stat([values[rng.randrange(n)] for _ in range(n)]) for _ in range(resamples)]
    return _interval(stat(values), estimates, confidence)


def bootstrap_ratio(a: Sequence[float], b: Sequence[float], stat: Statistic = statistics.median,
                    *, resamples: int = RESAMPLES, confidence: float = CONFIDENCE,
                    seed: int = SEED) -> Interval:
    """stat(a) / stat(b) for paired rounds (a[i] and b[i] from round i), with its
    percentile-bootstrap interval over whole rounds."""
    if len(a) != len(b):
        raise ValueError(f"paired rounds differ in number: {len(a)} and {len(b)}")
    if len(a) < 2:
        raise ValueError("a bootstrap interval needs at least 2 rounds")
    rng = random.Random(seed)  # noqa: S311 - resampling, not secrets
    n = len(a)
    estimates = []
    for _ in range(resamples):
        idx = [rng.randrange(n) for _ in range(n)]
        estimates.append(stat([a[i] for i in idx]) / stat([b[i] for i in idx]))
    return _interval(stat(a) / stat(b), estimates, confidence)


def agree(intervals: Sequence[Interval], z: float = 1.96) -> bool:
    """Whether runs agree within their intervals: for every pair, the gap
    between the two values is no wider than the 95 % interval of a difference,
    the root of the sum of the squared half-widths that face each other.

    `z` widens the test (1.96: 95 % per pair; bonferroni_z for many pairs
    at once). At 1.96 it is a 95 % test per pair: runs of one calibrated measurement pass it
    95 % of the time per pair and 88 % for three runs. "Each value inside
    every other run's interval" is no test of agreement: two such runs differ
    by about 1.4 times one run's error, so a value lands in the other's
    interval 83 % of the time, and all six cases of three runs hold 65 % of
    the time (tests/unit/test_bench_stats.py simulates both)."""
    for a, b in itertools.combinations(intervals, 2):
        lo, hi = (a, b) if a.value <= b.value else (b, a)
        half = math.hypot(lo.high - lo.value, hi.value - hi.low) * z / Z95
        if hi.value - lo.value > half:
            return False
    return True


def bonferroni_z(tests: int, confidence: float = CONFIDENCE) -> float:
    """The normal quantile that keeps `tests` comparisons together at
    `confidence`: each one at 1 - (1 - confidence) / tests."""
    return statistics.NormalDist().inv_cdf(1 - (1 - confidence) / tests / 2)


def inside_each_other(intervals: Sequence[Interval]) -> bool:
    """Whether every run's value lies inside every other run's interval
    (stricter than `agree`, and often false for runs that do agree)."""
    return all(other.contains(run.value) for run in intervals for other in intervals)


def overlap(intervals: Sequence[Interval]) -> bool:
    """Whether the intervals share a common point (a weaker agreement than `agree`)."""
    return max(i.low for i in intervals) <= min(i.high for i in intervals)
