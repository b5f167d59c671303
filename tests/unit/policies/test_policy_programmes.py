"""Discount policies: each one's own arithmetic, and its effect in a run against a
no-discount control under the same seed (common random numbers)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from loyaltysim.model.population import ORIGIN_WIN_BACK, Population
from loyaltysim.model.result import CAUSES, RunResult
from loyaltysim.model.simulation import Simulation, simulate
from loyaltysim.policies import POLICIES
from loyaltysim.policies.first_visit import FirstVisitDiscount
from loyaltysim.policies.points import PointsProgram
from loyaltysim.policies.promotion import PromotionCalendar
from loyaltysim.policies.tiers import Tier, TiersDiscount
from loyaltysim.scenario.schema import Scenario
from tests.factories import mechanism_scenario as make

SEED = 4242
DISCOUNT_ENDED = CAUSES.index("discount_ended")
PRICE = 4.5


def run(scenario: Scenario, reps: int = 2, **kw: Any) -> list[RunResult]:
    results = [simulate(scenario, rep, SEED, **kw) for rep in range(reps)]
    assert not any(r.ruined for r in results)
    return results


def total(results: list[RunResult], series: str) -> float:
    return float(sum(r.daily[series].sum() for r in results))


def final(results: list[RunResult], series: str) -> float:
    return float(np.mean([r.daily[series][-1] for r in results]))


def population(n: int) -> Population:
    pop = Population()
    pop.add(n)
    pop.active[:n] = True
    return pop


def test_registry_lists_every_kind() -> None:
    assert set(POLICIES) == {
        "none",
        "flat",
        "first_visit",
        "tiers",
        "points",
        "promotion",
        "win_back",
    }


# ------------------------------------------------------------------------ flat
def test_flat_discount_lowers_the_reference_price() -> None:
    control = run(make(horizon=240))
    flat = run(make(horizon=240, discount={"kind": "flat", "rate": 0.2}))
    # R moves towards 0.8 x price for regular buyers; demand half of the 20%.
    assert (
        final(flat, "mean_reference_price") < final(control, "mean_reference_price") - 0.1 * PRICE
    )
    assert final(flat, "mean_reference_price") > 0.8 * PRICE - 1e-6


def test_flat_discount_at_the_margin_raises_purchases_but_not_profit() -> None:
    """Margin 30%, discount 30%: every sale is at cost (modelling basis, section 3)."""
    business = {"fixed_costs_per_month": 0.0, "price": PRICE, "unit_cost": 0.7 * PRICE}
    control = run(make(business=business))
    flat = run(make(business=business, discount={"kind": "flat", "rate": 0.3}))
    assert total(flat, "purchases") > 1.05 * total(control, "purchases")
    assert total(flat, "gross_profit") < total(control, "gross_profit")
    assert abs(total(flat, "gross_profit")) < 1e-6 * total(flat, "revenue")
    for r in flat:
        np.testing.assert_allclose(r.daily["discount_cost"], 0.3 * r.daily["list_revenue"])
        np.testing.assert_array_equal(r.daily["discounted_purchases"], r.daily["purchases"])


# ------------------------------------------------------------------- promotion
def test_promotion_calendar() -> None:
    promo = PromotionCalendar(rate=0.25, every_days=10, length_days=3, start_day=5, stop_day=40)
    on = [d for d in range(60) if promo.on_sale(d)]
    assert on == [5, 6, 7, 15, 16, 17, 25, 26, 27, 35, 36, 37]
    assert promo.prospect_discount(6) == 0.25 and promo.prospect_discount(8) == 0.0
    pop = population(3)
    np.testing.assert_array_equal(promo.offered(5, pop, np.arange(3), PRICE, np.ones(3)), 0.25)
    np.testing.assert_array_equal(promo.offered(45, pop, np.arange(3), PRICE, np.ones(3)), 0.0)


def test_promotions_lower_the_reference_price_and_discount_only_on_sale_days() -> None:
    discount = {"kind": "promotion", "rate": 0.3, "every_days": 30, "length_days": 7}
    control = run(make(horizon=240))
    promo = run(make(horizon=240, discount=discount))
    calendar = PromotionCalendar(rate=0.3, every_days=30, length_days=7)
    sale = np.array([calendar.on_sale(d) for d in range(240)])
    for r in promo:
        assert np.all(r.daily["discounted_purchases"][~sale] == 0)
        assert np.all(r.daily["discounted_purchases"][sale] > 0)
        # Reference price dips during each sale.
        ref = r.daily["mean_reference_price"]
        assert ref[36] < ref[29]
    # Observed about 6% of price lower at the end; demand 2%.
    assert final(promo, "mean_reference_price") < final(control, "mean_reference_price") - (
        0.02 * PRICE
    )
    # Deal-prone customers who got used to the sale price feel its end.
    assert sum(np.sum(r.defections["cause"] == DISCOUNT_ENDED) for r in promo) > 0
    assert sum(np.sum(r.defections["cause"] == DISCOUNT_ENDED) for r in control) == 0


# ------------------------------------------------------------------ first visit
def test_first_visit_discount_applies_to_the_first_purchases_only() -> None:
    policy = FirstVisitDiscount(rate=0.2, visits=2)
    pop = population(4)
    pop.visits[:4] = [0, 1, 2, 7]
    np.testing.assert_allclose(
        policy.offered(0, pop, np.arange(4), PRICE, np.ones(4)), [0.2, 0.2, 0, 0]
    )
    assert policy.prospect_discount(100) == 0.2


def test_first_visit_discount_brings_discount_ended_defections_among_the_deal_prone() -> None:
    segments = [
        {"name": "deal", "share": 0.5, "deal_proneness": 0.9, "attachment": 0.2},
        {"name": "loyal", "share": 0.5, "deal_proneness": 0.05},
    ]
    # Only newcomers get a welcome offer: bring plenty of them.
    newcomers = {"prospects_per_month": 600.0}
    control = run(make(horizon=240, customers={"segments": segments}, business=newcomers))
    welcome = run(
        make(
            horizon=240,
            customers={"segments": segments},
            business=newcomers,
            discount={"kind": "first_visit", "rate": 0.3},
        )
    )
    assert sum(np.sum(r.defections["cause"] == DISCOUNT_ENDED) for r in control) == 0
    ended = np.concatenate(
        [r.defections["segment"][r.defections["cause"] == DISCOUNT_ENDED] for r in welcome]
    )
    assert len(ended) > 20
    # Observed ~96% from the deal-prone segment; demand 80%.
    assert np.mean(ended == 0) > 0.8


def test_first_visit_discount_wins_more_paid_prospects() -> None:
    business = {"fixed_costs_per_month": 0.0, "prospects_per_month": 300.0}
    control = run(make(business=business))
    welcome = run(make(business=business, discount={"kind": "first_visit", "rate": 0.3}))
    paid = lambda rs: total(rs, "acquired") - total(rs, "referred")  # noqa: E731
    assert paid(welcome) > 1.1 * paid(control)


# ------------------------------------------------------------------------ tiers
def test_tier_status_raises_switching_cost() -> None:
    policy = TiersDiscount(
        tiers=(Tier(visits=5, rate=0.05), Tier(visits=20, rate=0.1)), status_switching_cost=0.6
    )
    pop = population(4)
    pop.period_visits[:4] = [0, 5, 19, 25]
    policy._update_tier(pop, slice(0, 4))
    np.testing.assert_array_equal(pop.tier[:4], [0, 1, 1, 2])
    switching, multiplier = policy.customer_effects(pop, slice(0, pop.size))
    np.testing.assert_allclose(switching, [0, 0.3, 0.3, 0.6])
    assert np.all(np.asarray(multiplier) == 1.0)
    np.testing.assert_allclose(
        policy.offered(0, pop, np.arange(4), PRICE, np.ones(4)), [0, 0.05, 0.05, 0.1]
    )


def test_tier_status_is_kept_for_the_next_period() -> None:
    policy = TiersDiscount(tiers=(Tier(visits=2, rate=0.1),), period_days=30)
    pop = population(2)
    pop.period_visits[:2] = [3, 0]
    policy._update_tier(pop, slice(0, 2))
    policy.start_of_day(30, pop, np.random.default_rng(0))
    np.testing.assert_array_equal(pop.prev_period_visits[:2], [3, 0])
    np.testing.assert_array_equal(pop.period_visits[:2], [0, 0])
    np.testing.assert_array_equal(pop.tier[:2], [1, 0])  # a good period buys the next one


def test_tier_switching_cost_protects_against_churn() -> None:
    tiers = {"kind": "tiers", "tiers": [{"visits": 3, "rate": 0.05}], "period_days": 90}
    free = run(make(discount={**tiers, "status_switching_cost": 0.0}))
    sticky = run(make(discount={**tiers, "status_switching_cost": 3.0}))
    # Only the switching cost differs; observed churn x0.15; demand x0.7.
    assert total(sticky, "churned") < 0.7 * total(free, "churned")


# ----------------------------------------------------------------------- points
def test_points_goal_gradient_and_balance_switching_cost() -> None:
    policy = PointsProgram(reward_points=100, goal_gradient=0.5, balance_switching_cost=0.4)
    pop = population(4)
    pop.points[:4] = [0, 50, 90, 150]
    switching, multiplier = policy.customer_effects(pop, slice(0, pop.size))
    assert np.all(np.diff(multiplier) >= 0) and multiplier[0] == 1.0
    assert multiplier[2] > multiplier[1] > multiplier[0]
    assert multiplier[3] == pytest.approx(1.5)
    np.testing.assert_allclose(switching, [0, 0.2, 0.36, 0.4])


def test_points_redeem_a_reward_and_earn_on_what_was_paid() -> None:
    policy = PointsProgram(points_per_currency=2.0, reward_points=100, reward_value=1.5)
    pop = population(2)
    pop.points[:2] = [120, 40]
    rates = policy.offered(0, pop, np.arange(2), PRICE, np.ones(2))
    np.testing.assert_allclose(rates, [1.5 / PRICE, 0.0])
    paid = PRICE * (1 - rates)
    policy.after_purchase(0, pop, np.arange(2), rates, paid)
    np.testing.assert_allclose(pop.points[:2], [120 - 100 + 2 * 3.0, 40 + 2 * PRICE])


def test_points_expire_when_idle_and_a_leaver_keeps_them_until_then() -> None:
    # The business cannot tell a quiet customer from a leaver: a leaver's points stay
    # owed (in the liability) until they expire like anyone's (issue #11: breakage).
    policy = PointsProgram(expiry_days=30)
    pop = population(3)
    pop.points[:3] = 50.0
    pop.last_visit[:3] = [0, 20, 20]
    pop.active[2] = False
    policy.start_of_day(40, pop, np.random.default_rng(0))
    np.testing.assert_array_equal(pop.points[:3], [0.0, 50.0, 50.0])
    assert policy.liability(pop) == pytest.approx(100.0 / policy.reward_points * 5.0)
    policy.start_of_day(51, pop, np.random.default_rng(0))
    np.testing.assert_array_equal(pop.points[:3], [0.0, 0.0, 0.0])


def test_points_liability_is_positive_and_counts_every_balance_still_owed() -> None:
    discount = {"kind": "points", "reward_points": 100.0, "reward_value": 5.0}
    sim = Simulation(make(horizon=120, discount=discount), 0, SEED)
    r = sim.run()
    liability = r.daily["points_liability"]
    assert np.all(liability[10:] > 0)
    n = sim.pop.size
    held = sim.pop.points[:n].sum()
    assert liability[-1] == pytest.approx(held / 100.0 * 5.0)
    assert r.daily["discount_cost"].sum() > 0  # rewards were redeemed
    # Breakage: what expired is no longer owed; never negative.
    assert np.all(r.daily["points_breakage"] >= -1e-9)


def test_points_goal_gradient_raises_visits() -> None:
    base = {"kind": "points", "balance_switching_cost": 0.0}
    flat = run(make(horizon=240, discount={**base, "goal_gradient": 0.0}))
    steep = run(make(horizon=240, discount={**base, "goal_gradient": 3.0}))
    # Observed +55%; demand +10%.
    assert total(steep, "purchases") > 1.1 * total(flat, "purchases")


def test_points_balance_switching_cost_protects_against_churn() -> None:
    free = run(make(discount={"kind": "points", "balance_switching_cost": 0.0}))
    sticky = run(make(discount={"kind": "points", "balance_switching_cost": 3.0}))
    assert total(sticky, "churned") < 0.7 * total(free, "churned")


def test_a_reward_is_paid_for_with_its_points() -> None:
    discount = {"kind": "points", "reward_points": 100.0, "reward_value": 2.0}
    sim = Simulation(make(horizon=10, initial=2, discount=discount), 0, SEED)
    pop = sim.pop
    pop.points[:2] = 100.0  # exactly one reward each
    idx, tickets = np.array([0, 1]), np.array([1, 2])
    rates = sim.policy.offered(0, pop, idx, sim.biz.price, tickets)
    sim._purchase(0, idx, tickets, rates)
    # Two rewards' worth of points were spent; the discount given must match.
    assert sim.today["discount_cost"] == pytest.approx(2 * 2.0)


# --------------------------------------------------------------------- win-back
def win_back(**kw: Any) -> dict[str, Any]:
    return {"kind": "win_back", "after_days": 20, "accept_probability": 0.5, **kw}


def test_win_back_brings_customers_back_and_charges_every_offer() -> None:
    control = run(make())
    offers = run(make(discount=win_back(offer_cost=1.25)), keep_customers=True)
    assert total(control, "won_back") == 0 and total(control, "offer_cost") == 0
    assert total(offers, "won_back") > 0
    for r in offers:
        # One offer to each customer unseen for exactly after_days (the business sees a
        # lapse, not a departure): whole offers, and more of them than customers won back.
        sent = r.daily["offer_cost"] / 1.25
        np.testing.assert_allclose(sent, np.round(sent))
        assert r.daily["won_back"].sum() < sent.sum()
        assert r.customers is not None
        returned = r.customers["origin"] == ORIGIN_WIN_BACK
        # A customer can be won back more than once (leave again, get another offer).
        assert 0 < returned.sum() <= r.daily["won_back"].sum()
        assert np.all(r.customers["won_on_deal"][returned])


def test_win_back_take_up_rises_with_accept_probability() -> None:
    low = run(make(discount=win_back(accept_probability=0.1)))
    high = run(make(discount=win_back(accept_probability=0.6)))
    assert total(high, "won_back") > 2 * total(low, "won_back")


def test_customer_count_moves_by_acquired_minus_churned_with_win_back() -> None:
    sc = make(discount=win_back())
    r = simulate(sc, 0, SEED)
    assert r.daily["won_back"].sum() > 0
    count = np.concatenate([[sc.customers.initial], r.daily["customers"]])
    np.testing.assert_array_equal(np.diff(count), r.daily["acquired"] - r.daily["churned"])
