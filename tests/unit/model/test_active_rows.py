"""A day's work follows the active customers (issue #15): whether it runs over whole
columns masked by ``active`` or over the gathered active rows, the numbers are the same,
and a customer's draws are their own, so the same customer gets the same luck in every
variant."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import loyaltysim.model.defection as defection
import loyaltysim.model.simulation as simulation
from loyaltysim.model.simulation import simulate
from loyaltysim.scenario import load_scenario

CAFE = Path(__file__).resolve().parents[3] / "scenarios" / "cafe.toml"
SHORT = ["scenario.horizon_days=120", "customers.initial=600", "survey.kind='csat'"]


def _run(monkeypatch: pytest.MonkeyPatch, share: float, extra: list[str]) -> dict:
    monkeypatch.setattr(simulation, "DENSE_SHARE", share)
    result = simulate(load_scenario(CAFE, [*SHORT, *extra]), 1, 7, keep_customers=True)
    assert result.customers is not None
    return {**result.daily, **{f"d_{k}": v for k, v in result.defections.items()}} | {
        f"c_{k}": v for k, v in result.customers.items()
    }


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["discount.kind='win_back'", "discount.after_days=20"],
        ["discount.kind='flat'"],
        # programmes with effects per customer (switching cost, visit rate): computed for
        # the active rows alone on gathered days
        ["discount.kind='points'", "discount.reward_points=30", "discount.expiry_days=30"],
        ["discount.kind='tiers'"],
    ],
)
def test_whole_columns_and_gathered_rows_give_the_same_numbers(
    monkeypatch: pytest.MonkeyPatch, extra: list[str]
) -> None:
    dense = _run(monkeypatch, 0.0, extra)  # always whole columns
    sparse = _run(monkeypatch, 2.0, extra)  # always gathered rows
    assert dense.keys() == sparse.keys()
    for key in dense:
        np.testing.assert_array_equal(dense[key], sparse[key], err_msg=key)


def test_blocks_of_rows_give_the_same_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    # Over whole columns the leave probability runs a block of rows at a time: many
    # small blocks (some with no active customer left) give the rows' own numbers.
    extra = ["behaviour.other_hazard=3"]
    sparse = _run(monkeypatch, 2.0, extra)
    monkeypatch.setattr(defection, "ROW_BLOCK", 5)
    dense = _run(monkeypatch, 0.0, extra)
    assert len(sparse["d_customer"]) > 100
    for key in dense:
        np.testing.assert_array_equal(dense[key], sparse[key], err_msg=key)


def test_a_departed_customers_state_stays_as_it_was_when_they_left() -> None:
    # Departed customers keep their rows but take no part in the day (no drift, no
    # draws): their attachment at the end is the one recorded when they left.
    scenario = load_scenario(CAFE, [*SHORT, "behaviour.other_hazard=3"])
    result = simulate(scenario, 0, 3, keep_customers=True)
    sim = simulation.Simulation(scenario, 0, 3)
    sim.run()
    who = result.defections["customer"].astype(np.int64)
    assert len(who) > 100
    np.testing.assert_array_equal(sim.pop.attachment[who], result.defections["attachment"])
    assert not sim.pop.active[who].any()


class _CheckedRecord(simulation.Simulation):
    """Checks, every evening, the active rows the record keeps for tomorrow against a
    pass over every row."""

    def _record(self, day: int) -> None:
        super()._record(day)
        assert self.live is not None
        np.testing.assert_array_equal(self.live, np.flatnonzero(self.pop.active[: self.pop.size]))
        self.checked = getattr(self, "checked", 0) + 1


@pytest.mark.parametrize(
    "extra", [[], ["discount.kind='win_back'", "discount.after_days=20"]], ids=["base", "win_back"]
)
def test_the_days_active_rows_are_this_mornings_less_leavers_plus_newcomers(
    extra: list[str],
) -> None:
    # The record updates the morning's active rows by the day's leavers and newcomers
    # instead of a pass over every row: it must find exactly the rows a pass would, on
    # days with many leavers, newcomers and (win-back) returners.
    more = ["behaviour.other_hazard=3", "business.starting_cash=10000000"]  # no ruin
    scenario = load_scenario(CAFE, [*SHORT, *more, *extra])
    sim = _CheckedRecord(scenario, 0, 11)
    result = sim.run()
    assert sim.checked == scenario.scenario.horizon_days
    assert result.daily["churned"].sum() > 100 and result.daily["acquired"].sum() > 50
