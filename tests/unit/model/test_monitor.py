"""The early warning reads the books from day 0 with a fixed look-ahead (issue #12).

The monitor is imported inside the tests that need its new names, so that the behavioural
tests run (and fail) against the guard as it was before.

Scenarios of this file's own: a shop whose customer base erodes (few prospects) until its
rent outruns its contribution, and a plan that loses money on every sale.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from loyaltysim.model.result import RunResult
from loyaltysim.model.simulation import simulate
from loyaltysim.scenario import variant_scenarios
from loyaltysim.scenario.schema import Scenario


def eroding(horizon: int, **guard: Any) -> Scenario:
    """400 customers, 3 prospects a month: the base shrinks, the rent does not."""
    return Scenario.model_validate(
        {
            "scenario": {"name": "eroding shop", "horizon_days": horizon},
            "business": {
                "prospects_per_month": 3,
                "fixed_costs_per_month": 3600,
                "starting_cash": 5000,
            },
            "customers": {"initial": 400},
            "guard": guard,
        }
    )


def runway(run: RunResult) -> int | None:
    return next((w.day for w in run.warnings if w.indicator == "cash_runway"), None)


def test_the_first_warning_does_not_depend_on_the_horizon() -> None:
    # Today's guard compared the runway with the *remaining horizon*, so the same
    # replication warned on different days under different horizons.
    seen = 0
    # Seed 7, not 5, since the counter-based random numbers (issue #15): about one run in
    # five of this shop is warned on its first days, at once, under the old numbers as
    # under the new (8 and 10 of 48 runs, seeds 10-17), and seed 5's first replication is
    # now one of them; the claims below are unchanged.
    for rep in range(3):
        short = simulate(eroding(300), rep, 7)
        long = simulate(eroding(600), rep, 7)
        before = [(w.day, w.indicator, w.message) for w in long.warnings if w.day < 300]
        assert [(w.day, w.indicator, w.message) for w in short.warnings] == before
        day = runway(long)
        assert day is not None and long.ruin_day is not None
        # A fixed look-ahead: the warning comes within 180 days of the ruin, not at once.
        assert long.ruin_day - 180 <= day < long.ruin_day
        seen += day < 300
    assert seen >= 1  # the comparison covered warnings inside the short horizon


def test_the_look_ahead_is_a_guard_key() -> None:
    run = simulate(eroding(600), 0, 5)
    later = simulate(eroding(600, look_ahead_days=90, fire_within_days=60), 0, 5)
    assert run.ruin_day == later.ruin_day  # the warning does not change the business
    first, second = runway(run), runway(later)
    assert first is not None and second is not None and second > first
    assert "within 90 days" in later.warnings[0].message


def thin_margins() -> list[tuple[str, Scenario]]:
    """A base without discount, and a variant whose own margin (its own unit cost) is
    below its discount: 30% off at a 25% margin, with two months of rent in the bank."""
    base = Scenario.model_validate(
        {
            "scenario": {"name": "thin margins", "horizon_days": 120},
            "business": {
                "price": 8.0,
                "unit_cost": 3.0,
                "fixed_costs_per_month": 3000,
                "starting_cash": 6500,
                "prospects_per_month": 10,
            },
            "customers": {"initial": 300},
            "variants": [
                {
                    "name": "30% off, dearer stock",
                    "set": {
                        "discount.kind": "flat",
                        "discount.rate": 0.3,
                        "business.unit_cost": 6.0,
                    },
                }
            ],
        }
    )
    return variant_scenarios(base)


def test_a_loss_on_every_sale_is_flagged_on_day_0_before_it_bites() -> None:
    name, plan = thin_margins()[1]
    assert plan.business.gross_margin == pytest.approx(0.25)
    for rep in range(3):
        run = simulate(plan, rep, 9, name)
        assert run.ruin_day is not None and run.ruin_day < 60
        flag = next(w for w in run.warnings if w.indicator == "structural_loss")
        assert flag.day == 0 and flag.severity == "structural"
        assert "d/(m - d)" in flag.message and "gross margin of 25.0%" in flag.message
        # The cash warning too reads the books from day 0: no warm-up to hide behind.
        day = runway(run)
        assert day is not None and day < run.ruin_day


def test_the_base_of_the_same_scenario_is_not_flagged() -> None:
    _, base = thin_margins()[0]
    run = simulate(base, 0, 9)
    assert not [w for w in run.warnings if w.indicator == "structural_loss"]


def test_rent_days_are_the_models() -> None:
    from loyaltysim.model.monitor import rent_days

    # The model pays month k on day ceil(k * 365.25 / 12).
    assert list(rent_days(100)) == [0, 31, 61, 92]
    run = simulate(eroding(100), 0, 5)
    assert list(np.flatnonzero(run.daily["fixed_costs"])) == [0, 31, 61, 92]


def test_the_projection_is_exact_for_a_steady_business() -> None:
    from loyaltysim.model.monitor import Monitor, rent_days

    scenario = eroding(120)
    monitor = Monitor(scenario)
    days = 60
    daily = {
        name: np.zeros(days)
        for name in ("customers", "gross_profit", "followup_cost", "acquisition_cost",
                     "offer_cost", "acquired", "churned")
    }  # fmt: skip
    daily["customers"][:] = 100
    daily["gross_profit"][:] = 50.0
    path, facts = monitor.projected_cash(days - 1, daily, 1000.0)
    assert facts["per_customer"] == pytest.approx(0.5)
    # Day 59 + k: 50 a day, 3,600 on each rent day (61, 92, 122, ...).
    k = np.arange(1, len(path) + 1)
    rents = np.array([np.sum((rent_days(400) > 59) & (rent_days(400) <= 59 + i)) for i in k])
    assert np.allclose(path, 1000 + 50 * k - 3600 * rents)
