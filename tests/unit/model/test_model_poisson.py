"""``poisson_from_uniform``: Poisson counts by inverting the CDF at one uniform each.

Checked against ``scipy.stats.poisson``: the same inverse CDF (``ppf``) at the same
uniforms, mean and variance over many draws, and a Kolmogorov-Smirnov-like bound on the
largest gap between the empirical and the exact CDF.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from loyaltysim.model.simulation import poisson_from_uniform

N = 200_000


def draws(rate: float, n: int = N, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    # float32 uniforms and rates, as the model draws them.
    u = np.random.default_rng(seed).random(n, dtype=np.float32)
    return poisson_from_uniform(np.full(n, rate, np.float32), u), u


# Rates per customer-day: from an occasional customer to a twice-daily regular.
RATES = [0.02, 0.13, 0.5, 1.0, 2.0]


@pytest.mark.parametrize("rate", RATES)
def test_mean_and_variance_match_poisson(rate: float) -> None:
    k, _ = draws(rate)
    se_mean = np.sqrt(rate / N)
    assert abs(k.mean() - rate) < 5 * se_mean
    # Var of the sample variance of a Poisson is about (rate + 2 rate^2) / N.
    se_var = np.sqrt((rate + 2 * rate**2) / N)
    assert abs(k.var() - rate) < 5 * se_var


@pytest.mark.parametrize("rate", RATES)
def test_cdf_matches_poisson_ks_like(rate: float) -> None:
    k, _ = draws(rate, seed=2)
    support = np.arange(0, int(stats.poisson.ppf(1 - 1e-9, rate)) + 1)
    empirical = np.searchsorted(np.sort(k), support, side="right") / N
    gap = np.abs(empirical - stats.poisson.cdf(support, rate)).max()
    # The KS critical value at alpha = 0.001 is 1.95 / sqrt(N) (conservative for a
    # discrete law).
    assert gap < 1.95 / np.sqrt(N)


@pytest.mark.parametrize("rate", RATES)
def test_it_is_the_inverse_cdf_at_the_given_uniform(rate: float) -> None:
    k, u = draws(rate, n=50_000, seed=3)
    exact = stats.poisson.ppf(u.astype(np.float64), rate)
    # float32 arithmetic may round a uniform lying within 1e-7 of a CDF step the other way.
    assert np.mean(k == exact) > 0.9999


def test_heterogeneous_rates_in_one_call() -> None:
    rng = np.random.default_rng(4)
    rate = rng.gamma(2.0, 0.1, N).astype(np.float32)
    u = rng.random(N, dtype=np.float32)
    k = poisson_from_uniform(rate, u)
    exact = stats.poisson.ppf(u.astype(np.float64), rate.astype(np.float64))
    assert np.mean(k == exact) > 0.9999
    assert abs(k.mean() - rate.mean()) < 5 * np.sqrt(rate.mean() / N)


def test_a_customers_draw_does_not_depend_on_anyone_elses_rate() -> None:
    """Common random numbers: changing other customers' rates leaves mine alone."""
    rng = np.random.default_rng(5)
    u = rng.random(10_000, dtype=np.float32)
    rate = np.full(10_000, 0.2, np.float32)
    before = poisson_from_uniform(rate, u)
    changed = rate.copy()
    changed[5_000:] = 3.0  # the other half become heavy shoppers
    after = poisson_from_uniform(changed, u)
    np.testing.assert_array_equal(before[:5_000], after[:5_000])


def test_zero_rate_gives_no_occasions_and_empty_input_is_fine() -> None:
    u = np.random.default_rng(6).random(1000, dtype=np.float32)
    assert poisson_from_uniform(np.zeros(1000, np.float32), u).sum() == 0
    empty = poisson_from_uniform(np.zeros(0, np.float32), np.zeros(0, np.float32))
    assert empty.shape == (0,)


@pytest.mark.parametrize("rate", [4.0, 8.0])
def test_high_rates_allowed_by_the_schema_are_not_truncated(rate: float) -> None:
    k, u = draws(rate)
    assert np.mean(k == stats.poisson.ppf(u.astype(np.float64), rate)) > 0.9999
    assert abs(k.mean() - rate) < 5 * np.sqrt(rate / N)
