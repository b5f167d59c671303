"""Follow-ups: who is contacted, what it costs, the monthly budget, and what calls find."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import loyaltysim.model.contact as simulation_module
from loyaltysim.followups import DEFAULT_CHANNELS, KINDS, TARGETS, Followup, select_contacts
from loyaltysim.model.customers import DAYS_PER_MONTH
from loyaltysim.model.population import (
    NEVER,
    RECOVERY_PENDING,
    RECOVERY_RESOLVED,
    RECOVERY_RESOLVED_QUICKLY,
    RECOVERY_SILENT,
    RECOVERY_UNRESOLVED,
    Population,
)
from loyaltysim.model.result import RunResult
from loyaltysim.model.simulation import Simulation, simulate
from loyaltysim.scenario.schema import Scenario
from tests.factories import mechanism_scenario

SEED = 1_000_003
CHANNELS = sorted(DEFAULT_CHANNELS)


def make(horizon: int = 180, initial: int = 2000, **sections: dict[str, Any]) -> Scenario:
    return mechanism_scenario(horizon, initial, **sections)


def population(n: int) -> Population:
    pop = Population()
    pop.add(n)
    pop.active[:n] = True
    return pop


def test_registries() -> None:
    assert set(KINDS) == {"after_purchase", "periodic", "at_risk"}
    assert set(TARGETS) == {"all", "sample", "dissatisfied", "at_risk", "top_spenders"}
    assert set(CHANNELS) == {"email", "postcard", "thank_you_note", "phone_call"}


# ------------------------------------------------------------- in a whole run
@pytest.mark.parametrize("channel", CHANNELS)
def test_each_contact_costs_the_channels_price_and_reaches_its_share(channel: str) -> None:
    ch = DEFAULT_CHANNELS[channel]
    delay = 2
    followup = {
        "kind": "after_purchase",
        "channel": channel,
        "monthly_budget": 1e9,
        "delay_days": delay,
        "min_days_between_contacts": 0,
    }
    r = simulate(make(horizon=90, followup=followup), 0, SEED)
    cost = r.daily["followup_cost"]
    contacts = cost / ch.cost
    np.testing.assert_allclose(contacts, np.round(contacts), atol=1e-6)
    assert contacts.sum() > 1000
    # Contacts made up to the last `delay` days have landed (some on customers who left
    # in between, who are not counted as reached).
    sent = contacts[:-delay].sum()
    reached = r.daily["followups_reached"].sum()
    sd = np.sqrt(sent * ch.reach * (1 - ch.reach))
    assert reached <= ch.reach * sent + 5 * sd
    assert reached >= 0.97 * ch.reach * sent - 5 * sd


def test_a_channel_override_changes_what_is_charged() -> None:
    followup = {"kind": "after_purchase", "channel": "postcard", "monthly_budget": 1e9}
    r = simulate(
        make(horizon=60, followup=followup, channels={"postcard": {"cost": 0.37}}), 0, SEED
    )
    contacts = r.daily["followup_cost"] / 0.37
    assert contacts.sum() > 100
    np.testing.assert_allclose(contacts, np.round(contacts), atol=1e-6)


def test_no_follow_up_costs_nothing() -> None:
    r = simulate(make(horizon=60), 0, SEED)
    assert r.daily["followup_cost"].sum() == 0 and r.daily["followups_reached"].sum() == 0


@pytest.mark.parametrize(
    ("channel", "budget"),
    [("email", 7.0), ("postcard", 100.0), ("thank_you_note", 50.0), ("phone_call", 100.0)],
)
@pytest.mark.parametrize("kind", ["after_purchase", "periodic"])
def test_the_monthly_budget_is_never_exceeded(channel: str, budget: float, kind: str) -> None:
    cost = DEFAULT_CHANNELS[channel].cost
    followup = {
        "kind": kind,
        "every_days": 10,
        "channel": channel,
        "monthly_budget": budget,
        "min_days_between_contacts": 0,
    }
    r = simulate(make(horizon=240, followup=followup), 0, SEED)
    month = (np.arange(240) // DAYS_PER_MONTH).astype(int)
    spent = np.bincount(month, weights=r.daily["followup_cost"])
    assert np.all(spent <= budget + cost + 1e-9)
    # The budget binds: demand is far above it, so most months spend (nearly) all of it.
    assert np.median(spent) >= budget - cost - 1e-9


def test_sample_target_contacts_about_sample_share_of_buyers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counts = {"buyers": 0, "chosen": 0}

    def spy(f: Followup, day: int, pop: Population, buyers: np.ndarray, *rest: Any) -> np.ndarray:
        chosen = select_contacts(f, day, pop, buyers, *rest)
        counts["buyers"] += len(buyers)
        counts["chosen"] += len(chosen)
        assert np.all(np.isin(chosen, buyers))
        return chosen

    monkeypatch.setattr(simulation_module, "select_contacts", spy)
    followup = {
        "kind": "after_purchase",
        "target": "sample",
        "sample_share": 0.3,
        "monthly_budget": 1e9,
        "min_days_between_contacts": 0,
    }
    simulate(make(horizon=120, followup=followup), 0, SEED)
    n = counts["buyers"]
    assert n > 10_000
    assert abs(counts["chosen"] / n - 0.3) < 5 * np.sqrt(0.3 * 0.7 / n)


# ------------------------------------------------------------ select_contacts
def test_sample_selects_by_uniform() -> None:
    n = 100_000
    pop = population(n)
    u = np.random.default_rng(1).random(n, dtype=np.float32)
    f = Followup(kind="after_purchase", target="sample", sample_share=0.2, monthly_budget=1e9)
    chosen = select_contacts(f, 5, pop, np.arange(n), u, 1e9, 1.0)
    assert abs(len(chosen) / n - 0.2) < 0.01
    np.testing.assert_array_equal(chosen, np.flatnonzero(u < 0.2))


def test_a_budget_cut_is_a_random_sample_not_the_lowest_indices() -> None:
    n = 1000
    pop = population(n)
    u = np.random.default_rng(2).random(n, dtype=np.float32)
    f = Followup(kind="after_purchase")
    chosen = select_contacts(f, 5, pop, np.arange(n), u, budget_left=10.0, cost=1.0)
    assert len(chosen) == 10
    np.testing.assert_array_equal(chosen, np.sort(np.argsort(u)[:10]))
    assert len(select_contacts(f, 5, pop, np.arange(n), u, budget_left=0.99, cost=1.0)) == 0


def test_recently_contacted_customers_are_skipped() -> None:
    pop = population(4)
    pop.last_contact[:4] = [-1, 0, 10, 20]
    f = Followup(kind="after_purchase", min_days_between_contacts=14)
    u = np.zeros(4, np.float32)
    chosen = select_contacts(f, 24, pop, np.arange(4), u, 1e9, 1.0)
    np.testing.assert_array_equal(chosen, [0, 1, 2])


def test_periodic_and_at_risk_kinds_see_only_what_a_business_can() -> None:
    pop = population(5)
    pop.active[3] = False  # has quietly left: the business cannot know
    pop.last_visit[:5] = [95, 60, NEVER, 10, -150]
    pop.usual_gap[:5] = 10.0
    periodic = Followup(kind="periodic", every_days=30, lapsed_after_days=180)
    assert len(KINDS["periodic"](periodic, 31, pop, np.arange(0))) == 0
    # Day 120: everyone seen within 180 days, the departed included; not the never-seen,
    # nor the one last seen 270 days ago (off the books).
    np.testing.assert_array_equal(KINDS["periodic"](periodic, 120, pop, np.arange(0)), [0, 1, 3])
    at_risk = Followup(kind="at_risk", at_risk_gap_factor=2.0, lapsed_after_days=180)
    # Day 100: gaps 5, 40 (> 2 x 10), never seen, 90 (departed, still on the books), 250.
    np.testing.assert_array_equal(KINDS["at_risk"](at_risk, 100, pop, np.arange(0)), [1, 3])


def test_top_spenders_target() -> None:
    pop = population(10)
    pop.last_visit[:10] = 25
    pop.spend[:10] = np.arange(10, dtype=float)
    f = Followup(kind="periodic", target="top_spenders", top_share=0.2)
    u = np.zeros(10, np.float32)
    chosen = TARGETS["top_spenders"](f, 30, pop, np.arange(10), u)
    np.testing.assert_array_equal(chosen, [8, 9])


# ------------------------------------------------------------ hearing back
def test_a_call_that_reaches_a_silently_unhappy_customer_starts_a_recovery() -> None:
    sc = make(horizon=10, initial=3, followup={"kind": "after_purchase", "channel": "phone_call"})
    sim = Simulation(sc, 0, SEED)
    pop = sim.pop
    pop.satisfaction[:3] = [0.1, 0.9, 0.1]
    pop.recovery[:3] = [RECOVERY_SILENT, 0, RECOVERY_PENDING]
    sim._deliver(np.arange(3))
    # Found and known to be unhappy; a call is not a complaint, so the history stays.
    assert pop.known_unhappy[0] and pop.recovery[0] == RECOVERY_SILENT
    assert pop.recovery[1] == 0 and not pop.known_unhappy[1]
    assert sim.today["followups_reached"] == 3
    # The recovery it started is resolved later, at the delivery slot.
    pop.satisfaction_before_failure[0] = 0.8
    sim.env.run(until=10)
    assert pop.recovery[0] in (RECOVERY_SILENT, RECOVERY_RESOLVED, RECOVERY_RESOLVED_QUICKLY)


def test_a_call_that_fails_to_fix_things_does_not_punish_like_an_ignored_complaint() -> None:
    sc = make(horizon=10, initial=2, followup={"kind": "after_purchase", "channel": "phone_call"})
    sim = Simulation(sc, 0, SEED)
    pop = sim.pop
    before = pop.attachment[:2].copy()
    sim._resolve(np.arange(1), np.array([False]), 5.0, complained=False)
    sim._resolve(np.arange(1, 2), np.array([False]), 5.0, complained=True)
    assert pop.unresolved_memory[0] == 0 and pop.attachment[0] == before[0]
    assert pop.unresolved_memory[1] == 1 and pop.attachment[1] < before[1]
    assert pop.recovery[1] == RECOVERY_UNRESOLVED


def test_a_channel_that_does_not_hear_back_starts_no_recovery() -> None:
    sc = make(horizon=10, initial=1, followup={"kind": "after_purchase", "channel": "postcard"})
    sim = Simulation(sc, 0, SEED)
    sim.pop.satisfaction[0] = 0.1
    sim.pop.recovery[0] = RECOVERY_SILENT
    sim._deliver(np.arange(1))
    assert sim.pop.recovery[0] == RECOVERY_SILENT


def test_a_customer_whose_complaint_went_unresolved_is_a_dissatisfied_target() -> None:
    sc = make(horizon=10, initial=2)
    sim = Simulation(sc, 0, SEED)
    pop = sim.pop
    pop.satisfaction[:2] = 0.4
    pop.failures[:2] = 1
    sim.start_recovery(np.arange(2))
    sim._resolve(np.arange(2), np.array([True, False]), 1.0)
    assert pop.recovery[1] == RECOVERY_UNRESOLVED
    f = Followup(kind="periodic", target="dissatisfied")
    chosen = TARGETS["dissatisfied"](f, 30, pop, np.arange(2), np.zeros(2, np.float32))
    np.testing.assert_array_equal(chosen, [1])


def _recoveries(results: list[RunResult]) -> int:
    total = 0
    for r in results:
        assert r.customers is not None
        rec = r.customers["recovery"]
        total += int(np.sum((rec == RECOVERY_RESOLVED) | (rec == RECOVERY_RESOLVED_QUICKLY)))
    return total


def test_phone_calls_to_the_dissatisfied_raise_recoveries() -> None:
    business = {"fixed_costs_per_month": 0.0, "poor_service": 0.08}
    calls = {
        "kind": "after_purchase",
        "channel": "phone_call",
        "target": "dissatisfied",
        "monthly_budget": 1e6,
        "min_days_between_contacts": 0,
    }
    control = [
        simulate(make(horizon=365, business=business), rep, SEED, keep_customers=True)
        for rep in range(2)
    ]
    called = [
        simulate(
            make(horizon=365, business=business, followup=calls), rep, SEED, keep_customers=True
        )
        for rep in range(2)
    ]
    assert sum(r.daily["followup_cost"].sum() for r in called) > 0
    # With the fix sketched in the report: +60%; demand +20%.
    assert _recoveries(called) > 1.2 * _recoveries(control)


def test_an_annoying_channel_cannot_push_attachment_below_zero() -> None:
    followup = {
        "kind": "after_purchase",
        "channel": "postcard",
        "monthly_budget": 1e6,
        "min_days_between_contacts": 0,
        "delay_days": 0,
    }
    sc = make(
        horizon=60,
        initial=500,
        followup=followup,
        channels={"postcard": {"attachment_effect": -1.0, "reach": 1.0}},
    )
    r = simulate(sc, 0, SEED)
    assert r.daily["mean_attachment"].min() >= 0.0
