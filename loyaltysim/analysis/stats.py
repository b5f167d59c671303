"""Statistics over replications: means with t intervals, proportions, paired comparisons.

Every function takes plain numbers or arrays (one value per replication) and returns plain
Python floats, so results go straight into JSON. Missing values (NaN) are dropped, never
propagated: a metric that is undefined in one replication (e.g. the share of satisfied
defectors when nobody defected) still has a mean over the replications where it exists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

# The quantile functions themselves, not scipy.stats: the distributions' ppf call exactly these
# (the same numbers), and importing scipy.stats (optimize, linprog, ...) costs every run
# about 0.4 s at start-up (issue #15).
from scipy.special import ndtri, stdtrit

NAN = float("nan")


def _finite(values: ArrayLike) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64).ravel()
    return arr[~np.isnan(arr)]


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence level must be in (0, 1), got {level!r}")


def _z(level: float) -> float:
    """Two-sided standard normal quantile for a confidence level."""
    _check_level(level)
    return float(ndtri(0.5 + level / 2.0))


def mean_ci(values: ArrayLike, level: float = 0.95) -> tuple[float, tuple[float, float]]:
    """Mean over replications and its Student-t confidence interval.

    ``mean ± t_{(1+level)/2, n-1} · s / √n`` with ``s`` the sample standard deviation
    (ddof = 1) of the ``n`` non-missing values (Student 1908). Replications are independent
    by construction (separate random streams), which is what the interval assumes.

    Parameters
    ----------
    values : array_like
        One value per replication, in the metric's own unit. NaNs are ignored.
    level : float
        Confidence level, a fraction (0.95 = 95%).

    Returns
    -------
    mean, (lo, hi) : float, tuple of float
        In the unit of ``values``. One value has no interval (a spread cannot be
        estimated from one run): ``(nan, nan)``, stored as null and shown as "n/a: 1 run";
        no values give ``nan`` everywhere.
    """
    _check_level(level)
    x = _finite(values)
    n = x.size
    if n == 0:
        return NAN, (NAN, NAN)
    mean = float(x.mean())
    if n == 1:
        return mean, (NAN, NAN)
    half = float(stdtrit(n - 1, 0.5 + level / 2.0)) * float(x.std(ddof=1)) / math.sqrt(n)
    return mean, (mean - half, mean + half)


def interval_or_none(ci: Sequence[float | None]) -> list[float] | None:
    """An interval as stored in JSON: ``[lo, hi]``, or None when it is undefined (one
    replication, or none)."""
    lo, hi = ci
    if lo is None or hi is None or not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    return [float(lo), float(hi)]


def wilson_interval(successes: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (e.g. the probability of ruin).

    With ``p = successes / n`` and ``z`` the two-sided normal quantile (Wilson 1927)::

        centre = (p + z²/2n) / (1 + z²/n)
        half   = z / (1 + z²/n) · √(p(1 - p)/n + z²/4n²)

    Unlike the Wald interval it stays inside [0, 1] and is informative at 0 successes:
    0 ruins in 30 replications gives (0, 0.1135), i.e. "up to 11%" — not "0%".

    Parameters
    ----------
    successes : float
        Number of events (ruined replications); may be fractional for planning.
    n : int
        Number of trials (replications).
    level : float
        Confidence level, a fraction.

    Returns
    -------
    (lo, hi) : tuple of float
        Probabilities on 0..1; ``(nan, nan)`` when ``n == 0``.
    """
    z = _z(level)
    if n <= 0:
        return NAN, NAN
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie in [0, n]; got {successes} of {n}")
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    # Exact 0 and 1 at the extremes; rounding would otherwise leave ±1e-17.
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return lo, hi


class PairedDifference(NamedTuple):
    """Mean of ``a - b`` over paired replications, with paired and unpaired intervals.

    Attributes
    ----------
    mean : float
        Mean difference, in the unit of the inputs.
    ci : tuple of float
        Paired Student-t interval of the mean difference.
    unpaired_ci : tuple of float
        Welch interval, as if the two samples had independent random numbers.
    variance_reduction : float
        ``width(unpaired_ci) / width(ci)``: how many times narrower common random numbers
        made the interval (> 1 means pairing helped); ``inf`` when the paired differences
        are constant but the samples are not, ``nan`` when both widths are 0 or undefined.
    """

    mean: float
    ci: tuple[float, float]
    unpaired_ci: tuple[float, float]
    variance_reduction: float


def welch_interval(
    a: ArrayLike, b: ArrayLike, level: float = 0.95
) -> tuple[float, float, tuple[float, float]]:
    """Welch's unequal-variance t interval for ``mean(a) - mean(b)``.

    ``se = √(s_a²/n_a + s_b²/n_b)`` with Welch–Satterthwaite degrees of freedom
    ``ν = se⁴ / ((s_a²/n_a)²/(n_a-1) + (s_b²/n_b)²/(n_b-1))`` (Welch 1947).

    Returns
    -------
    diff, se, (lo, hi) : float, float, tuple of float
        In the unit of the inputs; ``nan`` when either sample has fewer than 2 values.
    """
    _check_level(level)
    x, y = _finite(a), _finite(b)
    if x.size == 0 or y.size == 0:
        return NAN, NAN, (NAN, NAN)
    diff = float(x.mean() - y.mean())
    if x.size < 2 or y.size < 2:
        return diff, NAN, (NAN, NAN)
    va, vb = float(x.var(ddof=1)) / x.size, float(y.var(ddof=1)) / y.size
    se = math.sqrt(va + vb)
    if se == 0.0:
        return diff, 0.0, (diff, diff)
    df = se**4 / (va * va / (x.size - 1) + vb * vb / (y.size - 1))
    half = float(stdtrit(df, 0.5 + level / 2.0)) * se
    return diff, se, (diff - half, diff + half)


def paired_difference(a: ArrayLike, b: ArrayLike, level: float = 0.95) -> PairedDifference:
    """Compare two variants run with common random numbers, replication by replication.

    The paired interval is the Student-t interval of the differences ``d_r = a_r - b_r``
    (see :func:`mean_ci`); because replication ``r`` of every variant sees the same
    customers and luck, ``var(d)`` is far below ``var(a) + var(b)`` and the interval far
    narrower than the Welch interval of the same data (Law 2015, §11.2 on common random
    numbers). Pairs where either value is NaN are dropped from the paired statistics.

    Parameters
    ----------
    a, b : array_like
        One value per replication, same length, aligned by replication index.
    level : float
        Confidence level, a fraction.
    """
    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    if x.shape != y.shape:
        raise ValueError(f"paired samples must have equal length, got {x.size} and {y.size}")
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    mean, ci = mean_ci(x - y, level)
    _, _, unpaired = welch_interval(x, y, level)
    paired_width, unpaired_width = ci[1] - ci[0], unpaired[1] - unpaired[0]
    if not (math.isfinite(paired_width) and math.isfinite(unpaired_width)) or x.size < 2:
        ratio = NAN
    elif paired_width > 0.0:
        ratio = unpaired_width / paired_width
    else:
        ratio = math.inf if unpaired_width > 0.0 else NAN
    return PairedDifference(mean, ci, unpaired, ratio)


def reps_to_resolve(threshold: float, level: float = 0.95, rate: float = 0.0) -> int:
    """Replications needed before the Wilson interval can tell a rate from ``threshold``.

    With the default ``rate = 0`` this answers "is the ruin risk below ``threshold``?" when
    no replication is ruined: the Wilson upper bound at 0 of ``n`` is ``z²/(n + z²)``, so it
    falls strictly below ``threshold`` once ``n > z²(1 - t)/t`` (30 clean replications only
    show "below 11%"; 73 show "below 5%").

    In general the Wilson interval is the inversion of the score test (Wilson 1927): ``t`` is
    outside it exactly when ``(p - t)² > z² t(1 - t)/n``, so an observed rate ``p ≠ t``
    separates from ``t`` once ``n > z² t(1 - t)/(p - t)²``. Used for planning: the rate
    observed so far is assumed to hold.

    Parameters
    ----------
    threshold : float
        The probability to resolve against, on [0, 1] (e.g. ``guard.max_ruin_probability``).
    level : float
        Confidence level, a fraction.
    rate : float
        Observed (or assumed) event rate, on [0, 1].

    Returns
    -------
    int
        Smallest number of replications that resolves it.

    Raises
    ------
    ValueError
        When no number of replications can (``rate == threshold``).
    """
    z = _z(level)
    if not (0.0 <= threshold <= 1.0 and 0.0 <= rate <= 1.0):
        raise ValueError(f"threshold and rate must lie in [0, 1]; got {threshold}, {rate}")
    if rate == threshold:
        raise ValueError(f"an observed rate equal to the threshold ({threshold}) is never resolved")
    bound = z * z * threshold * (1.0 - threshold) / (rate - threshold) ** 2
    n = max(1, math.floor(bound) + 1)

    # The closed form is exact in real arithmetic; step to the exact integer in floats.
    def resolved(m: int) -> bool:
        lo, hi = wilson_interval(rate * m, m, level)
        return hi < threshold if rate < threshold else lo > threshold

    while not resolved(n):
        n += 1
    while n > 1 and resolved(n - 1):
        n -= 1
    return n


def median_or_nan(values: Sequence[float] | np.ndarray) -> float:
    """Median of the non-missing values, ``nan`` when there are none (unit of ``values``)."""
    x = _finite(values)
    return float(np.median(x)) if x.size else NAN
