"""Which part of an interval comes from the fit's parameter uncertainty.

With ``calibration.parameter_uncertainty`` each replication draws its BG/NBD parameters
(r, alpha, a, b) from their sampling distribution (:mod:`loyaltysim.model.log_customers`),
so the spread of a metric across replications has two sources: the parameters a
replication drew, and the simulation's own luck given them. The draws are known (they are
keyed by root seed and replication), so one set of replications splits the variance: the
share explained by a linear regression of the metric on the four drawn log-parameters
(adjusted R², clipped to 0..1; Gelman & Hill 2007, ch. 3, for the adjustment), and the rest
is the simulation's. ``ci95_without`` is the interval the same replications would give with
that share taken out, ``mean ± t s sqrt(1 - share) / sqrt(n)``: about what a run with fixed
parameters would report. A linear fit can only under-state the parameters' share (a
nonlinear response counts as simulation noise), so the split is conservative.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from loyaltysim.model.log_customers import NAMES, drawn_parameters
from loyaltysim.scenario.schema import Scenario

LEVEL = 0.95


def variance_share(values: np.ndarray, logs: np.ndarray) -> float | None:
    """Adjusted R² of ``values`` (one per replication) on ``logs`` (replications x k)."""
    ok = np.isfinite(values)
    y, x = values[ok], logs[ok]
    n, k = x.shape
    if n <= k + 2 or float(np.var(y)) == 0.0:
        return None
    design = np.column_stack([np.ones(n), x - x.mean(axis=0)])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coef
    r2 = 1.0 - float(residual @ residual) / float(((y - y.mean()) ** 2).sum())
    adjusted = 1.0 - (1.0 - r2) * (n - 1) / (n - k - 1)
    return float(min(max(adjusted, 0.0), 1.0))


def _without(values: np.ndarray, share: float | None) -> list[float] | None:
    y = values[np.isfinite(values)]
    if share is None or len(y) < 2:
        return None
    from scipy import stats  # here: only runs with parameter uncertainty pay its import

    half = stats.t.ppf((1 + LEVEL) / 2, len(y) - 1) * y.std(ddof=1) * np.sqrt(1 - share)
    half /= np.sqrt(len(y))
    return [float(y.mean() - half), float(y.mean() + half)]


def parameter_uncertainty_block(
    scenario: Scenario,
    metrics: Mapping[str, Mapping[str, np.ndarray]],
    replications: Mapping[str, Sequence[int]],
    seed: int,
) -> dict[str, Any]:
    """``{"parameter_uncertainty": {...}}`` for a summary, or ``{}`` when the scenario
    draws no parameters. Per variant and metric: ``share`` of the variance across
    replications that the parameter draws explain, and ``ci95_without`` (see the module
    docstring)."""
    if not scenario.calibration.parameter_uncertainty:
        return {}
    fitted = np.log([getattr(scenario.calibration, k) for k in NAMES])
    variants: dict[str, Any] = {}
    for name, by_metric in metrics.items():
        reps = list(replications[name])
        logs = np.array([np.log(drawn_parameters(scenario, r, seed)) - fitted for r in reps])
        block = {}
        for metric, values in by_metric.items():
            v = np.asarray(values, dtype=float)
            share = variance_share(v, logs.reshape(len(reps), len(NAMES)))
            block[metric] = {"share": share, "ci95_without": _without(v, share)}
        variants[name] = block
    return {
        "parameter_uncertainty": {
            "drawn": list(NAMES),
            "method": "adjusted R2 of each metric on the replication's drawn log-parameters",
            "variants": variants,
        }
    }
