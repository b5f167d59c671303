"""A run that starts from a purchase log's own customers (``[calibration]``).

``loyaltysim calibrate`` writes, beside the scenario, the log's customers with their
history at the calibration end (repeat purchases x, recency t_x and age T, in weeks) and,
in the scenario, the BG/NBD fit (r, alpha, a, b) and its covariance. Two things follow, each
per replication and keyed by (root seed, replication) alone, so every variant of a
replication sees the same customers and the same draws (common random numbers):

- **Your customers as the agents** (``calibration.customers``): every customer of the log
  becomes an agent whose purchase count, age and days since the last purchase are the
  customer's. Given the history, the BG/NBD customer is still alive with probability
  (Fader, Hardie & Lee 2005, "Counting Your Customers the Easy Way", *Marketing Science*
  24(2); Fader, Hardie & Lee 2008, "Computing P(alive) Using the BG/NBD Model")

      P(alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b + x - 1) ((alpha + T)/(alpha + t_x))^(r + x))

  and an alive customer's purchase rate has the conditional Gamma posterior
  lambda | alive, x, t_x, T ~ Gamma(r + x, alpha + T) (the likelihood of an alive customer
  is lambda^x exp(-lambda T)). Each agent is drawn alive with that probability, and its
  occasion rate is the drawn purchase rate times ``calibration.visit_scale`` (the share of
  occasions the model's choice turns into purchases, found by calibrate by simulation). A
  customer drawn gone starts inactive (a win-back offer may bring them back), with the
  rate of the posterior given death, Gamma(r + x, alpha + t_x). Traits a log cannot tell
  (satisfaction, attachment...) are drawn from the segments as for any starting customer.
- **Uncertainty carried through** (``calibration.parameter_uncertainty``): the replication
  first draws (r, alpha, a, b) from the fit's sampling distribution, exp of a normal around
  the log-estimates with the covariance, and uses the draw for the posterior above and for
  the segments' visit rates (mean r/alpha and Gamma shape r, scaled from the fitted ones),
  so the spread across replications includes what the log does not pin down.

The model calls :func:`replication_scenario` once, where a replication starts, and
:func:`add_log_customers` where its initial customers are made; nothing else changes.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from loyaltysim.model.population import NEVER, Population
from loyaltysim.scenario.customers_file import COLUMNS
from loyaltysim.scenario.schema import Scenario

DAYS_PER_WEEK = 7.0
PARAMETER_STREAM = 1_000_033  # spawn-key salts, apart from the model's own streams
AGENT_STREAM = 1_000_037
NAMES = ("r", "alpha", "a", "b")


@lru_cache(maxsize=8)
def _read(path: str, mtime_ns: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import pandas as pd

    table = pd.read_csv(path, usecols=list(COLUMNS), dtype={"customer": str})
    x = table["frequency"].to_numpy(dtype=float)
    tx = table["recency_weeks"].to_numpy(dtype=float)
    T = table["T_weeks"].to_numpy(dtype=float)
    bad = ~(np.isfinite(x) & np.isfinite(tx) & np.isfinite(T)) | (x < 0) | (tx < 0) | (tx > T)
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 2
        raise ValueError(
            f"{path}:{row}: the log's customers need frequency >= 0 and "
            "0 <= recency_weeks <= T_weeks"
        )
    return x, tx, T


def log_histories(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, T) in weeks of every customer of the file (cached per process)."""
    import os

    return _read(path, os.stat(path).st_mtime_ns)


def fitted(scenario: Scenario) -> np.ndarray:
    """The scenario's BG/NBD parameters (r, alpha, a, b), as written by calibrate."""
    cal = scenario.calibration
    return np.array([getattr(cal, k) for k in NAMES], dtype=float)


def drawn_parameters(scenario: Scenario, replication: int, root_seed: int) -> np.ndarray:
    """The replication's (r, alpha, a, b): a draw from the fit's sampling distribution
    with ``calibration.parameter_uncertainty``, else the estimates."""
    params = fitted(scenario)
    if not scenario.calibration.parameter_uncertainty:
        return params
    cov = np.array(scenario.calibration.covariance, dtype=float)
    cov = (cov + cov.T) / 2
    # The eigen-decomposition tolerates a covariance that is only positive semi-definite.
    values, vectors = np.linalg.eigh(cov)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    rng = np.random.default_rng(
        np.random.SeedSequence(root_seed, spawn_key=(replication, PARAMETER_STREAM))
    )
    return params * np.exp(root @ rng.standard_normal(len(NAMES)))


def replication_scenario(scenario: Scenario, replication: int, root_seed: int) -> Scenario:
    """The scenario one replication runs: unchanged without ``[calibration]``; else with
    the replication's parameters in ``calibration`` and the segments' visit rates, and as
    many starting customers as the log has (their rows are filled by
    :func:`add_log_customers`)."""
    cal = scenario.calibration
    if not (cal.customers or cal.parameter_uncertainty):
        return scenario
    update: dict[str, object] = {}
    customers = scenario.customers
    if cal.parameter_uncertainty:
        fit, draw = fitted(scenario), drawn_parameters(scenario, replication, root_seed)
        mean_ratio = (draw[0] / draw[1]) / (fit[0] / fit[1])
        shape_ratio = draw[0] / fit[0]
        segments = tuple(
            s.model_copy(
                update={
                    "visits_per_month": s.visits_per_month * mean_ratio,
                    "visit_heterogeneity": s.visit_heterogeneity * shape_ratio,
                }
            )
            for s in customers.segments
        )
        customers = customers.model_copy(update={"segments": segments})
        drawn = {k: float(v) for k, v in zip(NAMES, draw, strict=True)}
        update["calibration"] = cal.model_copy(update=drawn)
    if cal.customers:
        count = len(log_histories(cal.customers)[0])
        customers = customers.model_copy(update={"initial": count})
    update["customers"] = customers
    return scenario.model_copy(update=update)


def p_alive(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """BG/NBD P(alive | x, t_x, T) (see the module docstring), in logs against overflow."""
    r, alpha, a, b = params
    with np.errstate(divide="ignore"):
        log_term = (
            np.log(a)
            - np.log(np.maximum(b + x - 1, 1e-300))
            + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        )
    return np.where(x > 0, 1.0 / (1.0 + np.exp(np.minimum(log_term, 700.0))), 1.0)


def add_log_customers(
    pop: Population, scenario: Scenario, replication: int, root_seed: int, day: int = 0
) -> None:
    """Give the starting customers (rows 0..n-1, made from the segments) the log's
    histories, alive states and purchase rates (see the module docstring). A no-op
    without ``calibration.customers``."""
    cal = scenario.calibration
    if not cal.customers:
        return
    x, tx, T = log_histories(cal.customers)
    n = len(x)
    params = fitted(scenario)  # the replication's: replication_scenario put them there
    r, alpha = params[0], params[1]
    rng = np.random.default_rng(
        np.random.SeedSequence(root_seed, spawn_key=(replication, AGENT_STREAM))
    )
    alive = rng.random(n) < p_alive(params, x, tx, T)
    weekly = rng.gamma(r + x, 1.0 / (alpha + np.where(alive, T, tx)))
    rows = slice(0, n)
    pop.visit_rate[rows] = weekly / DAYS_PER_WEEK * cal.visit_scale
    pop.active[rows] = alive
    pop.left[rows] = np.where(alive, -1, day)
    age = np.rint(T * DAYS_PER_WEEK).astype(np.int64)
    since = np.rint((T - tx) * DAYS_PER_WEEK).astype(np.int64)
    # The calibration end is the day before the run's first day.
    pop.joined[rows] = day - age - 1
    pop.last_visit[rows] = np.maximum(day - since - 1, NEVER + 1)
    visits = (x + 1).astype(np.int32)
    pop.visits[rows] = visits
    gap = age / np.maximum(visits - 1, 1)
    pop.usual_gap[rows] = np.where(visits > 1, gap, age + 1)
