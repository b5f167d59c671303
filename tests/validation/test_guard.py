"""Issue #4's goals for the early warning, as statistical checks with fixed seeds.

The measurement over a library of plans, judged past the horizon, is
benchmarks/bench_guard.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loyaltysim.analysis.guard import warning_performance
from loyaltysim.analysis.metrics import metric_arrays
from loyaltysim.experiment import SerialExecutor, run_experiment
from loyaltysim.scenario import load_scenario, variant_scenarios

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
REPS = 12

pytestmark = pytest.mark.slow


def test_ruins_of_the_shipped_ruinous_plan_are_seen_coming() -> None:
    scenario = load_scenario(SCENARIOS / "discount-spiral.toml")
    plan = dict(variant_scenarios(scenario))["Member prices: 18% off"]
    runs = run_experiment([("plan", plan)], REPS, 4242, SerialExecutor()).runs["plan"]
    perf = warning_performance(runs)
    assert perf.ruined >= REPS // 2  # it is a ruinous plan
    assert perf.caught_share >= 0.90
    assert perf.median_lead_days is not None and perf.median_lead_days >= 60


@pytest.mark.parametrize("name", ["cafe.toml", "generous-loyalty.toml"])
def test_safe_plans_raise_few_false_alarms(name: str) -> None:
    scenario = load_scenario(SCENARIOS / name)
    variants = variant_scenarios(scenario)
    results = run_experiment(variants, REPS, 99, SerialExecutor())
    alarms = total = 0
    for label, sc in variants:
        runs = results.runs[label]
        perf = warning_performance(runs)
        if perf.ruined == 0 and metric_arrays(runs, sc)["profit"].mean() > 0:
            alarms += perf.warned
            total += perf.replications
    assert total >= REPS  # at least one safe plan was measured
    assert alarms / total <= 0.05
