"""Runs past the horizon are cut back to the run the user would have had; sequential
looks add runs only where the verdict is open."""

from __future__ import annotations

import numpy as np

from loyaltysim.experiment.lookahead import cut, extended, run_past_horizon, run_sequential
from loyaltysim.model.result import DAILY_SERIES, DEFECTION_FIELDS
from loyaltysim.model.simulation import simulate
from loyaltysim.scenario import variant_scenarios
from loyaltysim.scenario.schema import Scenario


def shop(horizon: int = 60) -> Scenario:
    return Scenario.model_validate(
        {
            "scenario": {"name": "shop", "horizon_days": horizon, "seed": 3},
            "business": {
                "prospects_per_month": 5,
                "fixed_costs_per_month": 2500,
                "starting_cash": 2600,
            },
            "customers": {"initial": 200},
            "variants": [
                {"name": "deep cut", "set": {"discount.kind": "flat", "discount.rate": 0.5}}
            ],
        }
    )


def test_a_cut_run_is_the_run_on_the_users_horizon() -> None:
    sc = shop(60)
    longer = simulate(extended(sc, 90), 1, 3)
    assert longer.horizon_days == 150
    short, own = cut(longer, 60), simulate(sc, 1, 3)
    assert short.horizon_days == 60 and short.ruin_day == own.ruin_day
    for name in DAILY_SERIES:
        np.testing.assert_array_equal(short.daily[name], own.daily[name])
    for name in DEFECTION_FIELDS:
        np.testing.assert_array_equal(short.defections[name], own.defections[name])
    assert [(w.day, w.message) for w in short.warnings] == [
        (w.day, w.message) for w in own.warnings
    ]


def test_outcomes_past_the_horizon_are_kept_apart() -> None:
    variants = variant_scenarios(shop(30))
    past = run_past_horizon(variants, 2, 3, 60)
    for name, runs in past.results.runs.items():
        assert all(r.horizon_days == 30 for r in runs)
        for run, outcome in zip(runs, past.outcomes[name], strict=True):
            assert outcome.replication == run.replication
            if run.ruin_day is not None:
                assert outcome.ruin_day == run.ruin_day
            # The deep cut on thin cash is ruined, possibly only after the horizon.
        assert past.results.summary()["horizon_days"] == 30
    assert all(o.ruin_day is not None for o in past.outcomes["deep cut"])


def test_only_open_variants_get_more_runs() -> None:
    variants = variant_scenarios(shop(30))
    calls: list[tuple[str, int]] = []

    def decided(name: str, runs: list, outcomes: list, look: int) -> bool:
        calls.append((name, len(runs)))
        return name == "base"

    seq = run_sequential(variants, [2, 4, 8], 3, 10, decided)
    assert len(seq.past.results.runs["base"]) == 2
    assert len(seq.past.results.runs["deep cut"]) == 8
    assert [r.replication for r in seq.past.results.runs["deep cut"]] == list(range(8))
    assert seq.looks_taken == {"base": 1, "deep cut": 3}
    assert ("deep cut", 4) in calls and ("base", 4) not in calls
