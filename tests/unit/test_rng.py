"""The counter-based per-customer draws (loyaltysim.rng.Streams.uniform): uniform,
independent across neighbouring customers, days, slots and concerns, and the same for a
customer whatever other customers exist (common random numbers). Fixed seeds; the
tolerances are about five standard errors of the statistic at these sample sizes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from loyaltysim.rng import Streams, bits_to_uniform, counter_bits, mix64, mix64_scalar

N = 1_000_000
CORRELATION_TOLERANCE = 5 / np.sqrt(N)  # five standard errors of a correlation near 0


@pytest.fixture(scope="module")
def rng() -> Streams:
    return Streams(20261202, 3)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_draws_are_uniform_on_the_unit_interval(rng: Streams, dtype: type) -> None:
    u = rng.uniform("arrivals", 17, np.arange(N), dtype=dtype)
    assert u.dtype == dtype
    assert u.min() >= 0.0 and u.max() < 1.0
    assert stats.kstest(u.astype(np.float64), "uniform").pvalue > 1e-3
    # And in the tails, where the inversions (Poisson, normal) read them.
    counts = np.histogram(u, bins=1000, range=(0, 1))[0]
    assert stats.chisquare(counts).pvalue > 1e-3


def test_neighbouring_ids_days_slots_and_concerns_are_uncorrelated(rng: Streams) -> None:
    ids = np.arange(N)
    u = rng.uniform("churn", 100, ids, dtype=np.float64)
    pairs = {
        "adjacent ids": (u[:-1], u[1:]),
        "next day": (u, rng.uniform("churn", 101, ids, dtype=np.float64)),
        "next slot": (u, rng.uniform("churn", 100, ids, 1, np.float64)),
        "another concern": (u, rng.uniform("choice", 100, ids, dtype=np.float64)),
        "another replication": (u, Streams(20261202, 4).uniform("churn", 100, ids, 0, np.float64)),
    }
    for name, (a, b) in pairs.items():
        r = np.corrcoef(a, b)[0, 1]
        assert abs(r) < CORRELATION_TOLERANCE, (name, r)


def test_low_bits_of_sequential_ids_are_balanced() -> None:
    # SplitMix64 on key + i * gamma: every output bit is set about half the time.
    bits = counter_bits(12345, np.arange(N))
    for b in (0, 1, 31, 40, 63):
        share = float(((bits >> np.uint64(b)) & np.uint64(1)).mean())
        assert abs(share - 0.5) < 5 * 0.5 / np.sqrt(N), (b, share)


def test_a_customers_draw_does_not_depend_on_who_else_is_drawn(rng: Streams) -> None:
    everyone = rng.uniform("service", 42, np.arange(10_000))
    some = np.array([3, 17, 9_999, 5_000])
    np.testing.assert_array_equal(rng.uniform("service", 42, some), everyone[some])
    # In another Streams of the same seed and replication (another variant), too.
    again = Streams(20261202, 3).uniform("service", 42, some[::-1])
    np.testing.assert_array_equal(again, everyone[some[::-1]])
    # But another day, slot, concern or replication gives other numbers.
    for other in (
        rng.uniform("service", 43, some),
        rng.uniform("service", 42, some, 1),
        rng.uniform("quality", 42, some),
        Streams(20261202, 2).uniform("service", 42, some),
    ):
        assert not np.array_equal(other, everyone[some])


def test_the_vector_and_scalar_finalisers_agree() -> None:
    values = [0, 1, 2**63, 2**64 - 1, 0x9E3779B97F4A7C15]
    vector = mix64(np.array(values, dtype=np.uint64))
    assert [int(v) for v in vector] == [mix64_scalar(v) for v in values]
    # The float32 uniform of the largest 64-bit value is below 1.
    assert bits_to_uniform(np.array([2**64 - 1], dtype=np.uint64))[0] < 1.0


def test_slots_are_bounded(rng: Streams) -> None:
    with pytest.raises(ValueError, match="slot"):
        rng.uniform("churn", 0, np.arange(3), 16)


def test_uniforms_are_the_single_draws() -> None:
    """Streams.uniforms: several concerns' numbers in one pass equal one uniform each."""
    s = Streams(7, 2)
    for ids in (np.arange(0), np.array([3, 0, 99, 5]), np.arange(20_000) * 7):
        for dtype in (np.float32, np.float64):
            draws = (("awareness", 0), ("choice", 0), ("complaints", 2))
            got = s.uniforms(draws, 41, ids, dtype)
            assert got.shape == (3, len(ids)) and got.dtype == dtype
            for row, (concern, slot) in zip(got, draws, strict=True):
                assert np.array_equal(row, s.uniform(concern, 41, ids, slot, dtype))
