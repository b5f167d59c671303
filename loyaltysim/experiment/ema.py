"""A loyaltysim scenario as an EMA Workbench model: uncertainties, levers, outcomes.

Optional: needs the ``[ema]`` extra (``pip install 'loyaltysim[ema]'``). With it, EMA
Workbench's whole machinery (its samplers, evaluators, PRIM, CART, feature scoring, many
objective optimisation) runs on the simulator::

    from ema_workbench import SequentialEvaluator
    from loyaltysim.experiment.ema import scenario_model

    model = scenario_model(
        "scenarios/cafe.toml",
        uncertainties={"competitor.price": (3.8, 4.6)},
        levers={"discount.rate": (0.0, 0.3)},
        overrides=["discount.kind=flat", "scenario.replications=4"],
    )
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=50, policies=4)

Each experiment runs the scenario's replications with the parameter values as overrides
and the same root seed (common random numbers, as in a sweep) and returns the mean of
each outcome metric over them; ``ruin_probability`` is the share of replications ruined.
Parameter names are the dotted scenario keys; a key the scenario holds as an integer
becomes an ``IntegerParameter``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from loyaltysim.analysis.ema_prim import require_ema  # the guarded import of ema_workbench
from loyaltysim.analysis.metrics import METRIC_NAMES
from loyaltysim.experiment.runner import resolve_seed
from loyaltysim.experiment.sweep import (
    RUIN_METRIC,
    Param,
    Point,
    PointChunk,
    ScenarioSource,
    check_corners,
    point_overrides,
    run_chunk,
    typed_params,
)

__all__ = ["DEFAULT_OUTCOMES", "ScenarioFunction", "scenario_model"]

DEFAULT_OUTCOMES: tuple[str, ...] = ("profit", "churn_rate_annual", "cash_min", RUIN_METRIC)


@dataclass(frozen=True)
class ScenarioFunction:
    """The model function EMA Workbench calls: keyword arguments (dotted keys) in, a dict
    of outcome means out. Picklable, so EMA's multiprocessing evaluator can ship it."""

    source: ScenarioSource
    params: tuple[Param, ...]
    outcomes: tuple[str, ...]
    root_seed: int

    def __call__(self, **values: float) -> dict[str, float]:
        missing = [p.key for p in self.params if p.key not in values]
        if missing:
            raise TypeError(f"missing parameter(s): {', '.join(missing)}")
        point = Point(0, tuple(float(values[p.key]) for p in self.params))
        scenario = self.source.load(point_overrides(self.params, point))
        metrics = tuple(m for m in self.outcomes if m != RUIN_METRIC)
        chunk = run_chunk(
            PointChunk(
                0,
                scenario,
                self.source.variant,
                tuple(range(scenario.scenario.replications)),
                self.root_seed,
                metrics,
            )
        )
        out = {m: float(np.mean(chunk.values[m])) for m in metrics}
        if RUIN_METRIC in self.outcomes:
            out[RUIN_METRIC] = float(np.mean(chunk.ruined))
        return out


def _ranges(spec: Mapping[str, tuple[float, float]]) -> list[Param]:
    out = []
    for key, bounds in spec.items():
        lo, hi = (float(v) for v in bounds)
        if not lo < hi:
            raise ValueError(f"{key}: need LO < HI, got ({lo}, {hi})")
        out.append(Param(key, lo, hi))
    return out


def scenario_model(
    scenario_path: str | os.PathLike[str],
    uncertainties: Mapping[str, tuple[float, float]],
    levers: Mapping[str, tuple[float, float]] | None = None,
    outcomes: Sequence[str] = DEFAULT_OUTCOMES,
    *,
    overrides: Sequence[str] = (),
    variant: str = "base",
    name: str | None = None,
) -> Any:
    """An ``ema_workbench.Model`` that runs the scenario.

    Parameters
    ----------
    scenario_path : path
        The scenario file (read once: later edits do not change the model).
    uncertainties, levers : mapping of dotted key to (low, high)
        What the world decides and what the business decides; both become EMA
        parameters named by their key.
    outcomes : sequence of str
        Metrics of :data:`~loyaltysim.analysis.metrics.METRIC_NAMES` (means over the
        replications) or ``ruin_probability``; each an ``ScalarOutcome``.
    overrides : sequence of str
        ``--set`` style overrides applied first (e.g. ``scenario.replications=4``).
    variant : str
        A ``[[variants]]`` entry to run instead of the base.
    name : str, optional
        The model's name (EMA wants letters and digits only) [default: "loyaltysim"].

    Raises
    ------
    loyaltysim.analysis.ema_prim.MissingEMA
        Without the ``[ema]`` extra.
    ValueError
        For an unknown outcome, a key given twice or an empty range.
    loyaltysim.scenario.ScenarioError
        When the scenario, or its corners at the given ranges, is invalid.
    """
    ema = require_ema()
    levers = dict(levers or {})
    unknown = [m for m in outcomes if m not in (*METRIC_NAMES, RUIN_METRIC)]
    if unknown:
        raise ValueError(
            f"unknown outcome(s) {unknown}; choose from {', '.join((*METRIC_NAMES, RUIN_METRIC))}"
        )
    both = set(uncertainties) & set(levers)
    if both:
        raise ValueError(f"a key cannot be both an uncertainty and a lever: {sorted(both)}")
    source = ScenarioSource.from_file(os.fspath(scenario_path), overrides, variant)
    base = source.load()
    params = typed_params([*_ranges(uncertainties), *_ranges(levers)], base)
    check_corners(source, params)
    function = ScenarioFunction(source, tuple(params), tuple(outcomes), resolve_seed(base))
    model = ema.Model(name or "loyaltysim", function=function)

    def parameter(p: Param) -> Any:
        if p.integer:
            return ema.IntegerParameter(p.key, round(p.lo), round(p.hi))
        return ema.RealParameter(p.key, p.lo, p.hi)

    by_key = {p.key: p for p in params}
    model.uncertainties = [parameter(by_key[k]) for k in uncertainties]
    if levers:
        model.levers = [parameter(by_key[k]) for k in levers]
    model.outcomes = [ema.ScalarOutcome(m) for m in outcomes]
    return model
