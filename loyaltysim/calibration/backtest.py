"""Holdout predictions and how they compare with what happened.

For each model (BG/NBD and Pareto/NBD in closed form, the agent model by simulation) a
:class:`Prediction` holds, for the calibration customers over the holdout:

- the expected purchase occasions of each customer (for the per-customer correlation and
  mean absolute error);
- the expected cumulative occasions of all of them at the end of each holdout week (the
  tracking chart of Fader, Hardie & Lee 2005, Figure 4, for the holdout part);
- the expected number of customers with 0, 1, ..., ``HIST_TOP`` or more occasions (the
  histogram, actual against model).

The closed-form models' histograms are not closed-form: they are drawn from each
customer's posterior (alive or not; then the purchase and dropout processes given the
posterior rates) with a fixed seed, ``HIST_DRAWS`` times per customer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from loyaltysim.calibration import btyd
from loyaltysim.calibration.rfm import DAYS_PER_WEEK, CustomerSummary

HIST_TOP = 7  # the last bin is "7 or more", as in the BG/NBD paper's Figure 3
HIST_DRAWS = 50


@dataclass(frozen=True)
class Prediction:
    """One model's predictions for the holdout (see the module docstring)."""

    model: str
    per_customer: np.ndarray
    cumulative: np.ndarray  # at the end of each holdout week
    histogram: np.ndarray  # customers with 0..HIST_TOP (last: or more) occasions
    per_customer_sd: np.ndarray | None = None  # across replications (agent model)


def week_ends(days: int) -> np.ndarray:
    """Holdout day at the end of each week (the last week may be shorter)."""
    ends = np.arange(7, days + 7, 7)
    ends[-1] = days
    return np.unique(np.minimum(ends, days))


def histogram(counts: np.ndarray) -> np.ndarray:
    """Customers with 0, 1, ..., HIST_TOP or more occasions."""
    return np.bincount(np.minimum(counts.astype(np.int64), HIST_TOP), minlength=HIST_TOP + 1)


def actual(s: CustomerSummary) -> Prediction:
    """What happened in the holdout, in the same shape as a prediction."""
    if s.holdout is None:
        raise ValueError("no holdout period")
    days = s.periods.holdout_days
    per_day = np.bincount(s.holdout_day, minlength=days + 1)
    cumulative = np.cumsum(per_day)[week_ends(days)]
    return Prediction("actual", s.holdout.astype(float), cumulative, histogram(s.holdout))


def closed_form(fit: btyd.Fit, s: CustomerSummary, seed: int = 0) -> Prediction:
    """BG/NBD or Pareto/NBD conditional expectations over the holdout."""
    x, tx, T = s.frequency.astype(float), s.recency, s.T
    expected = btyd.bgnbd_expected if fit.model == "bg_nbd" else btyd.paretonbd_expected
    days = s.periods.holdout_days
    weeks = [d / DAYS_PER_WEEK for d in week_ends(days)]
    cumulative = np.array([expected(fit, x, tx, T, w).sum() for w in weeks])
    per_customer = expected(fit, x, tx, T, days / DAYS_PER_WEEK)
    hist = posterior_histogram(fit, s, days / DAYS_PER_WEEK, np.random.default_rng(seed))
    return Prediction(fit.model, per_customer, cumulative, hist)


def posterior_histogram(
    fit: btyd.Fit, s: CustomerSummary, weeks: float, rng: np.random.Generator
) -> np.ndarray:
    """Expected histogram of holdout occasions, by drawing from each customer's posterior.

    BG/NBD: alive with P(alive); rate ~ Gamma(r + x, alpha + T); dropout probability
    ~ Beta(a, b + x); the count is min(Poisson(rate t), Geometric(p)): the customer drops
    out right after the purchase at which the coin falls. Pareto/NBD: alive likewise; rate
    as above; dropout rate ~ Gamma(s, beta + T); the count is Poisson(rate min(tau, t))
    with tau ~ Exponential(dropout rate).
    """
    x, tx, T = s.frequency.astype(float), s.recency, s.T
    n, k = len(x), HIST_DRAWS
    if fit.model == "bg_nbd":
        alive = rng.random((k, n)) < btyd.bgnbd_p_alive(fit, x, tx, T)
        lam = rng.gamma(fit["r"] + x, 1.0 / (fit["alpha"] + T), (k, n))
        p = rng.beta(fit["a"], fit["b"] + x, (k, n))
        counts = np.minimum(rng.poisson(lam * weeks), rng.geometric(np.clip(p, 1e-12, 1)))
    else:
        alive = rng.random((k, n)) < btyd.paretonbd_p_alive(fit, x, tx, T)
        lam = rng.gamma(fit["r"] + x, 1.0 / (fit["alpha"] + T), (k, n))
        mu = rng.gamma(fit["s"], 1.0 / (fit["beta"] + T), (k, n))
        tau = rng.exponential(1.0 / np.maximum(mu, 1e-300))
        counts = rng.poisson(lam * np.minimum(tau, weeks))
    counts = np.where(alive, counts, 0)
    return np.bincount(np.minimum(counts, HIST_TOP).ravel(), minlength=HIST_TOP + 1) / float(k)


def from_simulation(
    counts: list[np.ndarray], weights: list[np.ndarray], daily: list[np.ndarray], days: int
) -> Prediction:
    """The agent model's prediction from replications of (copies, customers) arrays of
    occasions and of what each agent counts for (P(alive) in a weighted draw, where the
    rest of the weight is a customer gone, with no occasion): means over replications and
    copies of each customer's count, of the cumulative weekly occasions and of the
    histogram."""
    c = np.vstack(counts).astype(float)
    w = np.vstack(weights).astype(float)
    cumulative = np.mean([np.cumsum(d[:days])[week_ends(days) - 1] for d in daily], axis=0)
    hist = np.zeros(HIST_TOP + 1)
    for row, wrow in zip(c, w, strict=True):
        hist += np.bincount(
            np.minimum(row, HIST_TOP).astype(np.int64), weights=wrow, minlength=HIST_TOP + 1
        )
        hist[0] += float(np.sum(1.0 - wrow))
    weighted = c * w
    sd = weighted.std(axis=0, ddof=1) if len(c) > 1 else None
    return Prediction("agent", weighted.mean(axis=0), cumulative, hist / len(c), sd)


def metrics(prediction: Prediction, truth: Prediction, weeks: float) -> dict[str, Any]:
    """The contract's holdout block: totals, relative error, correlation and MAE."""
    p, a = prediction.per_customer, truth.per_customer
    total_p, total_a = float(p.sum()), float(a.sum())
    corr = float(np.corrcoef(p, a)[0, 1]) if p.std() > 0 and a.std() > 0 else None
    return {
        "weeks": weeks,
        "predicted_repeat": total_p,
        "actual_repeat": total_a,
        "error": (total_p - total_a) / total_a if total_a > 0 else None,
        "correlation": corr,
        "mae": float(np.abs(p - a).mean()),
    }
