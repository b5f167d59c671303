"""The order of events within a day (module docstring of ``simulation.py``), and ruin.

==========  =============================================================
day + 0.0   market day (newcomers arrive at its end)
day + 0.5   follow-up deliveries and complaint resolutions due today
day + 0.7   competitor: promotions start and end
day + 0.8   month end: fixed costs
day + 0.9   recorder
day + 0.95  monitor: ruin ends the replication
==========  =============================================================
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from loyaltysim.model.customers import DAYS_PER_MONTH
from loyaltysim.model.population import ORIGIN_INITIAL
from loyaltysim.model.result import DAILY_SERIES, STOCK_SERIES
from loyaltysim.model.simulation import Simulation, simulate
from loyaltysim.scenario.schema import Scenario

SEED = 99
FLOWS_OUT = ("cost_of_goods", "followup_cost", "acquisition_cost", "offer_cost", "fixed_costs")


def make(horizon: int = 120, initial: int = 1000, **sections: dict[str, Any]) -> Scenario:
    data: dict[str, Any] = {
        "scenario": {"name": "t", "horizon_days": horizon},
        "customers": {"initial": initial},
    }
    for key, value in sections.items():
        data.setdefault(key, {}).update(value)
    return Scenario.model_validate(data)


def net_flow(daily: dict[str, np.ndarray]) -> np.ndarray:
    return daily["revenue"] - sum(daily[name] for name in FLOWS_OUT)


# ------------------------------------------------------------------ the clock
def test_fixed_costs_fall_on_month_starts_and_are_in_that_days_cash() -> None:
    sc = make(horizon=200, business={"fixed_costs_per_month": 1000.0})
    r = simulate(sc, 0, SEED)
    due = [int(np.ceil(m * DAYS_PER_MONTH)) for m in range(7)]
    assert due[0] == 0 and len(due) == 7  # 200 days pay 7 months, the first on day 0
    assert np.flatnonzero(r.daily["fixed_costs"]).tolist() == due
    assert np.all(r.daily["fixed_costs"][due] == 1000.0)
    # Accounts (0.8) run before the recorder (0.9): each day's cash has that day's flows.
    cash = np.concatenate([[sc.business.starting_cash], r.daily["cash"]])
    np.testing.assert_allclose(np.diff(cash), net_flow(r.daily), atol=1e-6)


def test_competitor_promotion_starts_after_that_days_market() -> None:
    comp = {
        "price": 4.5,
        "promotion_every_days": 50,
        "promotion_days": 10,
        "promotion_discount": 0.9,
        "promotion_awareness_boost": 0.0,
    }
    sc = make(horizon=100, initial=3000, competitor=comp)
    rival = simulate(sc, 0, SEED).daily["competitor_purchases"]
    before = rival[40:50].mean()
    noise = 4 * np.sqrt(before)
    # Starts at 50.7: day 50's market still sees the regular price, day 51's the promotion;
    # it ends at 60.7, so day 60 is its last market day.
    assert rival[50] < before + noise
    assert rival[51] > 2 * before + noise
    assert rival[60] > 2 * before + noise
    assert rival[61] < before + noise


@pytest.mark.parametrize("delay", [0, 3])
def test_follow_ups_land_delay_days_after_the_decision_same_day_slot(delay: int) -> None:
    followup = {
        "kind": "periodic",
        "every_days": 20,
        "channel": "postcard",
        "delay_days": delay,
        "monthly_budget": 1e6,
        "min_days_between_contacts": 0,
    }
    r = simulate(make(horizon=60, followup=followup), 0, SEED)
    decided = np.flatnonzero(r.daily["followup_cost"]).tolist()
    landed = np.flatnonzero(r.daily["followups_reached"]).tolist()
    assert decided == [20, 40]
    # Delivery at day + delay + 0.5, before the recorder: on the books of that day.
    assert landed == [d + delay for d in decided]


def _slots(sim: Simulation) -> dict[str, list[float]]:
    """Wrap the delivery-slot actions to record when (fraction of a day) they run."""
    seen: dict[str, list[float]] = {"resolve": [], "deliver": []}
    for name in seen:
        original = getattr(sim, f"_{name}")

        def wrapper(*args: Any, _name: str = name, _original: Any = original) -> None:
            seen[_name].append(sim.env.now % 1.0)
            _original(*args)

        setattr(sim, f"_{name}", wrapper)
    return seen


def test_complaint_resolutions_run_at_the_delivery_slot() -> None:
    sim = Simulation(make(business={"poor_service": 0.1}), 0, SEED)
    seen = _slots(sim)
    sim.run()
    assert len(seen["resolve"]) > 10
    assert set(np.round(seen["resolve"], 6)) == {0.5}


def test_resolutions_started_by_a_call_also_run_at_the_delivery_slot() -> None:
    sc = make(
        followup={
            "kind": "after_purchase",
            "channel": "phone_call",
            "monthly_budget": 1e6,
        },
        # Many silently unhappy customers, so calls find some.
        behaviour={"dissatisfied_threshold": 0.75},
    )
    sim = Simulation(sc, 0, SEED)
    seen = _slots(sim)
    sim.run()
    assert set(np.round(seen["deliver"], 6)) == {0.5}
    assert len(seen["resolve"]) > 10
    assert set(np.round(seen["resolve"], 6)) == {0.5}


def test_newcomers_arrive_at_the_end_of_the_day_and_cannot_leave_on_it() -> None:
    sc = make(horizon=200, business={"prospects_per_month": 600.0, "fixed_costs_per_month": 0.0})
    r = simulate(sc, 0, SEED, keep_customers=True)
    assert r.customers is not None
    c = r.customers
    newcomer = c["origin"] != ORIGIN_INITIAL
    left = newcomer & (c["left"] >= 0)
    assert left.sum() > 10
    assert np.all(c["left"][left] > c["joined"][left])


# ------------------------------------------------------------------------ ruin
def ruinous(**business: Any) -> Scenario:
    return make(horizon=200, business={"fixed_costs_per_month": 200_000.0, **business})


def test_huge_fixed_costs_ruin_the_business_when_the_rent_is_due() -> None:
    # 25,000 in the bank, 200,000 due on day 0, then 100,000 due on day 31.
    r = simulate(ruinous(), 0, SEED)
    assert r.ruined and r.ruin_day == 0
    later = simulate(ruinous(starting_cash=250_000.0, fixed_costs_per_month=100_000.0), 0, SEED)
    assert later.ruined and later.ruin_day == int(np.ceil(2 * DAYS_PER_MONTH))
    cash = later.daily["cash"]
    # The monitor (0.95) reads the cash the recorder (0.9) wrote on the same day.
    assert cash[later.ruin_day] < 0.0 <= cash[later.ruin_day - 1]


def test_a_business_without_fixed_costs_is_not_ruined() -> None:
    assert not simulate(make(business={"fixed_costs_per_month": 0.0}), 0, SEED).ruined


def test_ruin_ends_the_replication_flows_stop_and_stocks_freeze() -> None:
    """Ruin closes the business: its customers are lost that day (churned, not as
    defections with a cause), customers are 0 from then on, flows stop, stocks freeze."""
    sim = Simulation(ruinous(), 0, SEED)
    r = sim.run()
    assert r.ruin_day is not None
    day = r.ruin_day
    # Nothing runs after the monitor that declared ruin.
    assert sim.env.now == pytest.approx(day + 0.95)
    after = slice(day + 1, None)
    for name in DAILY_SERIES:
        series = r.daily[name]
        if name in STOCK_SERIES:
            assert np.all(series[after] == series[day]), name
        else:
            assert np.all(series[after] == 0.0), name
    assert r.daily["purchases"][day] > 0  # the ruin day itself still traded
    assert np.all(r.defections["day"] <= day)
    lost = r.daily["lost_at_closure"][day]
    assert lost > 0 and r.daily["customers"][day] == 0
    assert np.count_nonzero(sim.pop.active[: sim.pop.size]) == 0
    assert len(r.defections["day"]) + lost == r.daily["churned"].sum()


def test_an_overdraft_floor_postpones_ruin() -> None:
    strict_floor = simulate(ruinous(), 0, SEED)
    overdraft = simulate(ruinous(cash_floor=-500_000.0), 0, SEED)
    assert strict_floor.ruin_day is not None and overdraft.ruin_day is not None
    assert overdraft.ruin_day > strict_floor.ruin_day
    assert overdraft.daily["cash"][overdraft.ruin_day] < -500_000.0


def test_a_ruin_warning_comes_before_the_ruin() -> None:
    r = simulate(ruinous(fixed_costs_per_month=40_000.0, starting_cash=150_000.0), 0, SEED)
    assert r.ruined and r.first_warning_day is not None and r.ruin_day is not None
    assert r.first_warning_day < r.ruin_day


# ---------------------------------------------------------------- boundaries
def test_the_model_imports_neither_click_nor_matplotlib() -> None:
    code = (
        "import sys, loyaltysim.model.simulation, loyaltysim.experiment; "
        "bad = [m for m in ('click', 'matplotlib') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
