"""The run summary: ``summary.json`` of the results folder, as plain Python data.

Shape (contract, "summary.json"): ``schema_version``, ``scenario``, ``replications``,
``horizon_days``, ``seed`` and one entry per variant with ``metrics`` (mean and 95% interval
over replications), ``churn_causes`` (shares of all defections), ``ruin`` (probability,
Wilson interval, timing of ruin and of the early warning) and ``break_even`` (the sales lift
a discount needs, and the lift it got). Extra keys are additions, never renames.

Undefined numbers are ``None`` (JSON ``null``), never NaN: :func:`json_safe` is applied to
the whole summary, and :func:`dumps` refuses NaN outright.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from loyaltysim.analysis.metrics import METRIC_NAMES, metric_arrays
from loyaltysim.analysis.parameter_uncertainty import parameter_uncertainty_block
from loyaltysim.analysis.stats import (
    interval_or_none,
    mean_ci,
    median_or_nan,
    paired_difference,
    wilson_interval,
)
from loyaltysim.analysis.verdict import decide_risk
from loyaltysim.model.result import CAUSES, RunResult
from loyaltysim.scenario.schema import Scenario

SCHEMA_VERSION = 1
BASE = "base"
LEVEL = 0.95

# Headline metrics compared with the base, paired by replication (extra key ``vs_base``).
VS_BASE_METRICS: tuple[str, ...] = (
    "profit",
    "cash_end",
    "revenue",
    "customers_end",
    "churned",
    "purchases",
)


def json_safe(obj: Any) -> Any:
    """``obj`` with NaN/inf as ``None``, numpy scalars/arrays as Python, tuples as lists."""
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [json_safe(v) for v in obj.tolist()]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        value = float(obj)
        return value if math.isfinite(value) else None
    return obj


def dumps(summary: Mapping[str, Any], indent: int | None = 2) -> str:
    """Serialize a summary as JSON text; NaN and infinities become ``null``."""
    return json.dumps(json_safe(summary), indent=indent, ensure_ascii=False, allow_nan=False)


def ordered_by_replication(results: Sequence[RunResult]) -> list[RunResult]:
    """Results sorted by replication index (never completion order); duplicates rejected."""
    ordered = sorted(results, key=lambda r: r.replication)
    reps = [r.replication for r in ordered]
    if len(set(reps)) != len(reps):
        raise ValueError(f"duplicate replication indices among {reps}")
    return ordered


def _interval(ci: tuple[float, float]) -> list[float] | None:
    return interval_or_none(ci)  # None (JSON null) when undefined: one replication


def _metric_block(values: Mapping[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    block = {}
    for name in METRIC_NAMES:
        mean, ci = mean_ci(values[name], LEVEL)
        block[name] = {"mean": mean, "ci95": _interval(ci)}
    return block


def churn_cause_shares(results: Sequence[RunResult]) -> dict[str, float]:
    """Share of all defections (pooled over replications) by cause, in :data:`CAUSES` order.

    Shares sum to 1, or are all 0 when nobody defected.
    """
    counts = np.zeros(len(CAUSES), dtype=np.int64)
    for r in results:
        cause = np.asarray(r.defections["cause"], dtype=np.int64)
        if cause.size and (cause.min() < 0 or cause.max() >= len(CAUSES)):
            raise ValueError(f"defection cause codes outside 0..{len(CAUSES) - 1}")
        counts += np.bincount(cause, minlength=len(CAUSES))
    total = int(counts.sum())
    return {cause: (float(counts[i]) / total if total else 0.0) for i, cause in enumerate(CAUSES)}


def ruin_block(results: Sequence[RunResult], max_ruin_probability: float) -> dict[str, Any]:
    """Probability and timing of ruin, and how early the warning came.

    Keys: ``probability`` (share of replications ruined), ``ci95`` (Wilson), ``median_day``
    (over ruined replications), ``median_warning_day`` (first warning, over replications that
    warned), ``median_lead_days`` (ruin day minus first warning day, over ruined replications
    warned strictly before the ruin day: a same-day warning gives no time to act), and the
    extras ``ruined``, ``warned``, ``warned_before_ruin``, ``max_ruin_probability``,
    ``verdict`` (safe | unsafe | undecided), ``confidence``, ``risk_bounds`` (its one-sided
    exact bounds), ``replications_needed`` and ``text`` (what the runs show, without a
    verdict), all from the guard's one rule, :func:`loyaltysim.analysis.verdict.decide_risk`.
    Days are simulation days from 0.
    """
    n = len(results)
    ruin_days = [r.ruin_day for r in results if r.ruin_day is not None]
    warning_days = [r.first_warning_day for r in results if r.first_warning_day is not None]
    leads = [
        r.ruin_day - w
        for r in results
        if r.ruin_day is not None and (w := r.first_warning_day) is not None and w < r.ruin_day
    ]
    ruined = len(ruin_days)
    probability = ruined / n if n else math.nan
    lo, hi = wilson_interval(ruined, n, LEVEL)
    t = max_ruin_probability
    decision = decide_risk(ruined, n, t)
    return {
        "probability": probability,
        "ci95": [lo, hi],
        "median_day": median_or_nan(ruin_days),
        "median_warning_day": median_or_nan(warning_days),
        "median_lead_days": median_or_nan(leads),
        "ruined": ruined,
        "warned": len(warning_days),
        "warned_before_ruin": len(leads),
        "max_ruin_probability": t,
        "verdict": decision.status,
        "confidence": decision.confidence,
        "risk_bounds": [decision.lower, decision.upper],
        "replications_needed": decision.runs_needed,
        "text": decision.short(),
    }


def realised_lifts(variant: Sequence[RunResult], base: Sequence[RunResult]) -> np.ndarray:
    """Per-replication purchase lift over the base, ``purchases_v / purchases_base - 1``.

    Replications are paired by index (common random numbers); a replication missing from
    either side, or with no base purchases, is left out. Only the days both businesses
    were open count: after a ruin there are no sales, and comparing a run cut short with
    one that was not would measure the ruin, not the discount.
    """
    v = {r.replication: r for r in variant}
    b = {r.replication: r for r in base}
    lifts = []
    for rep in sorted(v.keys() & b.keys()):
        open_days = min(_open_until(v[rep]), _open_until(b[rep]))
        base_purchases = float(np.sum(b[rep].daily["purchases"][:open_days]))
        if base_purchases > 0:
            variant_purchases = float(np.sum(v[rep].daily["purchases"][:open_days]))
            lifts.append(variant_purchases / base_purchases - 1.0)
    return np.array(lifts, dtype=np.float64)


def _open_until(result: RunResult) -> int:
    """Days the business traded: up to and including a ruin day, else the horizon."""
    return result.horizon_days if result.ruin_day is None else result.ruin_day + 1


def break_even_block(
    scenario: Scenario,
    metrics: Mapping[str, np.ndarray],
    lifts: np.ndarray | None,
) -> dict[str, Any]:
    """Sales lift a discount needs to keep gross profit, and the lift the variant realised.

    A discount ``d`` (share of list price) cuts the margin per ticket from ``m`` to ``m - d``
    (``m`` the gross margin at list price), so volume must grow by ``m/(m - d)`` to keep gross
    profit: a required lift of ``d/(m - d)`` (e.g. Nagle & Müller, *The Strategy and Tactics
    of Pricing*, break-even sales change). When ``d >= m`` no lift suffices: every extra
    ticket loses money (``structural_loss``).

    ``lifts`` is ``None`` for the base itself (realised lift 0 by definition).
    """
    m = scenario.business.gross_margin
    d = mean_ci(metrics["effective_discount"], LEVEL)[0]
    structural = bool(math.isfinite(d) and d >= m)
    required = d / (m - d) if math.isfinite(d) and not structural else math.nan
    if lifts is None:
        realised, realised_ci = 0.0, (0.0, 0.0)
    else:
        realised, realised_ci = mean_ci(lifts, LEVEL)
    return {
        "gross_margin": m,
        "effective_discount": d,
        "required_lift": None if structural else required,
        "realised_lift": realised,
        "structural_loss": structural,
        "realised_lift_ci95": _interval(realised_ci),
    }


def vs_base_block(
    metrics: Mapping[str, np.ndarray],
    base_metrics: Mapping[str, np.ndarray],
    reps: Sequence[int],
    base_reps: Sequence[int],
    names: Sequence[str] = VS_BASE_METRICS,
) -> dict[str, dict[str, Any]]:
    """Paired differences ``variant - base`` over the replications both completed."""
    common = sorted(set(reps) & set(base_reps))
    pos = {r: i for i, r in enumerate(reps)}
    base_pos = {r: i for i, r in enumerate(base_reps)}
    idx = np.array([pos[r] for r in common], dtype=np.int64)
    base_idx = np.array([base_pos[r] for r in common], dtype=np.int64)
    block = {}
    for name in names:
        diff = paired_difference(metrics[name][idx], base_metrics[name][base_idx], LEVEL)
        block[name] = {
            "mean": diff.mean,
            "ci95": _interval(diff.ci),
            "unpaired_ci95": _interval(diff.unpaired_ci),
            "variance_reduction": diff.variance_reduction,
        }
    return block


def _variant_scenarios(scenario: Scenario) -> dict[str, Scenario]:
    """The scenario of each ``[[variants]]`` entry, by name. A scenario that came from a
    file always expands; one built by hand whose variants do not (as in a hand-made
    summary of synthetic results) reports every variant on the base's figures."""
    from loyaltysim.scenario import ScenarioError, variant_scenarios

    try:
        return dict(variant_scenarios(scenario))
    except ScenarioError:
        return {}


def summarize(
    scenario: Scenario, results_by_variant: Mapping[str, Sequence[RunResult]], seed: int
) -> dict[str, Any]:
    """Build ``summary.json`` for a run.

    Parameters
    ----------
    scenario : Scenario
        The base scenario. Each variant's margin and break-even come from the variant's
        own scenario (its ``[[variants]]`` entry); the guard settings are the base's.
    results_by_variant : mapping
        ``{variant name: replications}`` in the order to report; the base is the entry
        named ``"base"`` (else the first). Replications may arrive in any order.
    seed : int
        The root seed of the run.

    Returns
    -------
    dict
        JSON-ready (no NaN): the contract's shape plus extra keys. ``replications`` is the
        number of distinct replications present (the requested number for a complete run;
        fewer after an interrupt), each variant also carries its own ``replications`` count.
    """
    horizon = scenario.scenario.horizon_days
    ordered = {name: ordered_by_replication(rs) for name, rs in results_by_variant.items()}
    for name, rs in ordered.items():
        for r in rs:
            if r.horizon_days != horizon:
                raise ValueError(
                    f"variant {name!r} replication {r.replication} ran {r.horizon_days} "
                    f"days; the scenario says {horizon}"
                )
    base_name = BASE if BASE in ordered else next(iter(ordered), BASE)
    # Each variant with its own scenario (its own price, unit cost and margin); runs not
    # named after a variant of the file (a comparison's arms) use the given scenario.
    own = _variant_scenarios(scenario)
    metrics = {name: metric_arrays(rs, own.get(name, scenario)) for name, rs in ordered.items()}
    reps = {name: [r.replication for r in rs] for name, rs in ordered.items()}
    threshold = scenario.guard.max_ruin_probability

    variants = []
    for name, rs in ordered.items():
        is_base = name == base_name
        entry: dict[str, Any] = {
            "name": name,
            "metrics": _metric_block(metrics[name]),
            "churn_causes": churn_cause_shares(rs),
            "ruin": ruin_block(rs, threshold),
            "break_even": break_even_block(
                own.get(name, scenario),
                metrics[name],
                None if is_base else realised_lifts(rs, ordered[base_name]),
            ),
            "replications": len(rs),
        }
        if not is_base:
            entry["vs_base"] = vs_base_block(
                metrics[name], metrics[base_name], reps[name], reps[base_name]
            )
        variants.append(entry)

    all_reps = {rep for rs in reps.values() for rep in rs}
    summary = {
        "schema_version": SCHEMA_VERSION,
        "scenario": scenario.scenario.name,
        "replications": len(all_reps),
        "horizon_days": horizon,
        "seed": seed,
        "variants": variants,
        "base": base_name,
        "confidence_level": LEVEL,
    }
    summary.update(parameter_uncertainty_block(scenario, metrics, reps, seed))
    safe: dict[str, Any] = json_safe(summary)
    return safe
