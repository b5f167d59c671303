"""Confidence intervals and replication planning against textbook values and scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from loyaltysim.analysis.stats import (
    mean_ci,
    median_or_nan,
    paired_difference,
    reps_to_resolve,
    welch_interval,
    wilson_interval,
)


def test_mean_ci_matches_scipy_t_interval() -> None:
    x = np.array([3.1, 4.7, 5.0, 2.2, 6.9, 4.4, 5.5])
    mean, (lo, hi) = mean_ci(x, 0.95)
    ref = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert mean == pytest.approx(x.mean())
    assert (lo, hi) == pytest.approx(ref)


def test_mean_ci_other_level_and_nan_ignored() -> None:
    x = np.array([1.0, 2.0, np.nan, 4.0])
    mean, (lo, hi) = mean_ci(x, 0.90)
    ref = stats.t.interval(0.90, 2, loc=7 / 3, scale=stats.sem([1.0, 2.0, 4.0]))
    assert mean == pytest.approx(7 / 3)
    assert (lo, hi) == pytest.approx(ref)


def test_mean_ci_degenerate_cases() -> None:
    # One value has no interval (issue #9, item 8): not the degenerate (2.5, 2.5).
    mean, (lo, hi) = mean_ci([2.5])
    assert mean == 2.5 and math.isnan(lo) and math.isnan(hi)
    mean, (lo, hi) = mean_ci([])
    assert math.isnan(mean) and math.isnan(lo) and math.isnan(hi)
    assert math.isnan(mean_ci([np.nan, np.nan])[0])
    assert mean_ci([3.0, 3.0, 3.0]) == (3.0, (3.0, 3.0))
    with pytest.raises(ValueError):
        mean_ci([1.0, 2.0], level=1.0)


def test_wilson_known_values() -> None:
    lo, hi = wilson_interval(0, 30)
    assert lo == 0.0
    assert hi == pytest.approx(0.1135, abs=5e-5)
    # Wilson (1927) / Newcombe (1998) table: 15 of 148 -> (0.0624, 0.1605).
    assert wilson_interval(15, 148) == pytest.approx((0.0624, 0.1605), abs=5e-5)
    assert wilson_interval(30, 30)[1] == 1.0
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    with pytest.raises(ValueError):
        wilson_interval(5, 4)


def test_wilson_matches_scipy_binomtest() -> None:
    for k, n in [(0, 30), (3, 30), (17, 40), (1, 5)]:
        ref = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
        assert wilson_interval(k, n) == pytest.approx((ref.low, ref.high), abs=1e-12)


def test_reps_to_resolve_zero_ruins() -> None:
    n = reps_to_resolve(0.05)
    assert n == 73
    assert wilson_interval(0, n)[1] < 0.05 <= wilson_interval(0, n - 1)[1]
    # 30 clean replications resolve "below 12%" but not "below 11%".
    assert reps_to_resolve(0.12) <= 30 < reps_to_resolve(0.11)
    assert reps_to_resolve(1.0) == 1


def test_reps_to_resolve_at_an_observed_rate() -> None:
    for rate, t in [(0.02, 0.05), (0.10, 0.05), (0.5, 0.3)]:
        n = reps_to_resolve(t, rate=rate)
        lo, hi = wilson_interval(rate * n, n)
        lo1, hi1 = wilson_interval(rate * (n - 1), n - 1)
        if rate < t:
            assert hi < t <= hi1
        else:
            assert lo > t >= lo1
    with pytest.raises(ValueError):
        reps_to_resolve(0.05, rate=0.05)
    with pytest.raises(ValueError):
        reps_to_resolve(0.0)


def test_paired_difference_uses_pairing() -> None:
    rng = np.random.default_rng(1)
    common = rng.normal(100.0, 20.0, 30)  # the shared luck of each replication
    a = common + 2.0 + rng.normal(0, 1, 30)
    b = common + rng.normal(0, 1, 30)
    diff = paired_difference(a, b)
    d = a - b
    ref = stats.t.interval(0.95, 29, loc=d.mean(), scale=stats.sem(d))
    assert diff.mean == pytest.approx(d.mean())
    assert diff.ci == pytest.approx(ref)
    welch = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert diff.unpaired_ci == pytest.approx((welch.low, welch.high))
    assert diff.variance_reduction > 5.0
    assert diff.ci[0] > 0.0 > diff.unpaired_ci[0]  # only pairing resolves the +2


def test_paired_difference_edge_cases() -> None:
    same = paired_difference([1.0, 2.0, 3.0], [0.0, 1.0, 2.0])
    assert same.mean == 1.0 and same.ci == (1.0, 1.0) and same.variance_reduction == math.inf
    nan_pair = paired_difference([1.0, np.nan, 3.0, 5.0], [0.0, 1.0, 1.0, 2.0])
    assert nan_pair.mean == pytest.approx(np.mean([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError):
        paired_difference([1.0, 2.0], [1.0])
    assert math.isnan(paired_difference([1.0], [0.0]).variance_reduction)


def test_welch_and_median_helpers() -> None:
    diff, se, ci = welch_interval([1.0], [2.0, 3.0])
    assert diff == -1.5 and math.isnan(se) and math.isnan(ci[0])
    assert median_or_nan([3, 1, 2]) == 2.0
    assert math.isnan(median_or_nan([]))
