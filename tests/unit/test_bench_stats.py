"""lab.bench_stats and the bench's arithmetic, on inputs whose answers are known."""

from __future__ import annotations

import random
import statistics

import pytest

from lab.bench_context import encryption_bound, parse_speed
from lab.bench_stats import (
    Interval,
    _percentile,
    agree,
    bonferroni_z,
    bootstrap,
    bootstrap_ratio,
    inside_each_other,
    overlap,
)


def test_percentile_interpolates_between_neighbours():
    values = [0.0, 1.0, 2.0, 3.0, 4.0]
    assert _percentile(values, 0.5) == 2.0
    assert _percentile(values, 0.25) == 1.0
    assert _percentile(values, 0.1) == pytest.approx(0.4)
    assert _percentile(values, 1.0) == 4.0


def test_constant_rounds_give_a_zero_width_interval():
    assert bootstrap([3.0] * 10) == Interval(3.0, 3.0, 3.0)


def test_interval_lies_within_the_data_and_holds_the_median():
    ci = bootstrap([float(x) for x in range(1, 11)])
    assert ci.value == 5.5
    assert 1 <= ci.low < 5.5 < ci.high <= 10


def test_same_seed_same_interval_other_seed_may_differ():
    rng = random.Random(1)
    data = [rng.gauss(10, 1) for _ in range(30)]
    assert bootstrap(data) == bootstrap(data)
    assert bootstrap(data, seed=1) != bootstrap(data, seed=2)


def test_a_paired_ratio_of_proportional_rounds_is_exact():
    b = [1.0, 5.0, 2.0, 9.0, 3.0]  # however much the rounds drift...
    a = [2 * x for x in b]  # ...a is twice b in each: every resample says 2
    assert bootstrap_ratio(a, b) == Interval(2.0, 2.0, 2.0)


def test_pairing_keeps_shared_drift_out_of_the_interval():
    rng = random.Random(7)
    drift = [rng.uniform(0.5, 2.0) for _ in range(30)]  # machine load, shared by a round
    b = [d * rng.gauss(1, 0.01) for d in drift]
    a = [1.1 * d * rng.gauss(1, 0.01) for d in drift]
    paired = bootstrap_ratio(a, b, stat=statistics.mean)
    shuffled = bootstrap_ratio(a, rng.sample(b, len(b)), stat=statistics.mean)
    assert paired.contains(1.1) and paired.half_width < 0.02
    assert shuffled.half_width > 3 * paired.half_width


def test_median_intervals_cover_the_true_median_about_95_percent():
    rng = random.Random(2026)
    trials, covered = 200, 0
    for t in range(trials):
        sample = [rng.gauss(10, 1) for _ in range(30)]
        covered += bootstrap(sample, resamples=400, seed=t).contains(10.0)
    assert 0.88 <= covered / trials <= 0.995


def test_unpaired_or_too_few_rounds_are_refused():
    with pytest.raises(ValueError, match="differ in number"):
        bootstrap_ratio([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="at least 2"):
        bootstrap([1.0])


def test_runs_agree_when_their_gap_fits_the_interval_of_a_difference():
    assert agree([Interval(1.0, 0.9, 1.1), Interval(1.05, 0.95, 1.2)])
    # gap 0.16; facing half-widths 0.28 and 0.15: a difference's half-width 0.32
    assert agree([Interval(1.03, 0.88, 1.38), Interval(0.87, 0.76, 1.15)])
    assert not inside_each_other([Interval(1.03, 0.88, 1.38), Interval(0.87, 0.76, 1.15)])
    # gap 0.3; half-widths 0.1 and 0.1: 0.14
    assert not agree([Interval(1.0, 0.9, 1.1), Interval(1.3, 1.2, 1.4)])
    assert not agree([Interval(1.0, 0.9, 1.1), Interval(1.02, 0.95, 1.1),
                      Interval(1.3, 1.2, 1.4)])


def test_a_wider_z_forgives_a_gap_that_95_percent_does_not():
    runs = [Interval(1.0, 0.9, 1.1), Interval(1.18, 1.08, 1.28)]  # gap 0.18 > 0.14
    assert not agree(runs)
    assert agree(runs, bonferroni_z(24))  # z 3.08: 0.22
    assert bonferroni_z(24) == pytest.approx(3.08, abs=0.01)
    assert bonferroni_z(1) == pytest.approx(1.96, abs=0.001)


def test_intervals_overlap_when_they_share_a_point():
    assert overlap([Interval(1.03, 0.88, 1.38), Interval(0.87, 0.76, 1.15)])
    assert not overlap([Interval(1.0, 0.9, 1.1), Interval(1.3, 1.2, 1.4)])


def test_calibrated_runs_agree_95_percent_of_the_time_but_rarely_sit_inside_each_other():
    """Runs of one measurement with exact 95 % intervals: `agree` is a 95 % test
    per pair; "inside each other's interval" fails one pair in six."""
    rng = random.Random(7)

    def run() -> Interval:
        v = rng.gauss(0, 1)
        return Interval(v, v - 1.96, v + 1.96)

    pairs = [[run(), run()] for _ in range(4000)]
    assert 0.93 <= sum(map(agree, pairs)) / len(pairs) <= 0.97
    assert 0.80 <= sum(map(inside_each_other, pairs)) / len(pairs) <= 0.86


def test_openssl_speed_machine_readable_output_is_parsed():
    out = "+DT:AES-128-GCM:1:16384\n+R:104659:AES-128-GCM:0.410000\n+H:16384\n" \
          "+F:25:AES-128-GCM:4182275746.34\n"
    assert parse_speed(out, "aes-128-gcm") == 4182275746.34


def test_encryption_bound_counts_sealing_and_opening():
    # 5 MB/s moved, 4 GB/s AEAD: 2 x 5e6 / 4e9 = 0.25 % more CPU time at most
    assert encryption_bound(5e6, 4e9) == pytest.approx(1.0025)
