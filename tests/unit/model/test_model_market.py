"""The market around the business: the competitor, word of mouth and acquisition.

Treatment against control under the same seed and replications (common random numbers);
treatments are strong, tolerances stated, and nothing depends on the calibrated values
of the behavioural defaults beyond their sign.
"""

from __future__ import annotations

import numpy as np

from loyaltysim.model.customers import DAYS_PER_MONTH
from loyaltysim.model.result import CAUSES, RunResult
from loyaltysim.model.simulation import simulate
from loyaltysim.scenario.schema import Scenario
from tests.factories import mechanism_scenario as make

SEED = 7_2024
COMPETITOR_OFFER = CAUSES.index("competitor_offer")


def run(scenario: Scenario, reps: int = 2) -> list[RunResult]:
    results = [simulate(scenario, rep, SEED) for rep in range(reps)]
    assert not any(r.ruined for r in results)
    return results


def total(results: list[RunResult], series: str) -> float:
    return float(sum(r.daily[series].sum() for r in results))


# ------------------------------------------------------------------ competitor
NO_PROMOTIONS = {"promotion_days": 0}


def test_competitor_awareness_grows_with_its_marketing() -> None:
    quiet = make(horizon=180, competitor={**NO_PROMOTIONS, "awareness_growth_per_month": 0.0})
    loud = make(horizon=180, competitor={**NO_PROMOTIONS, "awareness_growth_per_month": 0.15})
    w_quiet = simulate(quiet, 0, SEED).daily["mean_competitor_awareness"]
    w_loud = simulate(loud, 0, SEED).daily["mean_competitor_awareness"]
    # Same customers on day 0 (common random numbers), then the gap opens.
    assert abs(w_loud[0] - w_quiet[0]) < 0.01
    # Unaware share x 0.85 a month: over ~6 months the unaware shrink by ~60%. Without
    # churn and forgetting the loud arm would reach 1 - (1 - W0) 0.85^5.9; demand 60%
    # of that gain over the quiet arm.
    months = 179 / DAYS_PER_MONTH
    predicted = 1 - (1 - w_loud[0]) * 0.85**months
    assert w_loud[-1] - w_quiet[-1] > 0.6 * (predicted - w_loud[0])
    # Growth is steady: awareness rises month on month.
    monthly = w_loud[::30]
    assert np.all(np.diff(monthly) > 0)


def test_competitor_promotions_make_awareness_jump_on_their_first_day() -> None:
    comp = {
        "promotion_every_days": 30,
        "promotion_days": 5,
        "promotion_awareness_boost": 0.3,
        "awareness_growth_per_month": 0.02,
    }
    w = simulate(make(horizon=100, competitor=comp), 0, SEED).daily["mean_competitor_awareness"]
    step = np.diff(w)  # step[d - 1] = w[d] - w[d - 1]
    for start in (30, 60, 90):
        # A promotion starting on day d reaches boost x (unaware) at once; recorded on day d.
        assert step[start - 1] > 0.5 * 0.3 * (1 - w[start - 1])
    others = np.delete(step, [29, 59, 89])
    assert np.abs(others).max() < 0.02  # every other day moves little


def test_a_cheaper_competitor_wins_more_defections() -> None:
    dear = run(make(competitor={"price": 4.5}))
    cheap = run(make(competitor={"price": 3.0}))

    def offers(results: list[RunResult]) -> int:
        return int(sum(np.sum(r.defections["cause"] == COMPETITOR_OFFER) for r in results))

    # Observed about 2.4x; demand 1.5x.
    assert offers(cheap) > 1.5 * offers(dear)
    assert total(cheap, "competitor_purchases") > total(dear, "competitor_purchases")


def test_competitor_promotions_draw_purchases_while_they_last() -> None:
    comp = {"promotion_every_days": 40, "promotion_days": 10, "promotion_discount": 0.5}
    r = simulate(make(horizon=120, competitor=comp), 0, SEED)
    rival = r.daily["competitor_purchases"]
    # Promotions run days 41..50 and 81..90 (they start at the 0.7 slot of days 40, 80).
    on = np.r_[41:50, 81:90]
    off = np.r_[20:39, 60:79]
    assert rival[on].mean() > 1.3 * rival[off].mean()


# --------------------------------------------------------------- word of mouth
def test_referred_customers_appear_and_cost_nothing() -> None:
    """With no paid prospects every newcomer is a referral, and acquisition costs 0."""
    results = run(make(business={"fixed_costs_per_month": 0.0, "prospects_per_month": 0.0}))
    assert total(results, "referred") > 0
    for r in results:
        np.testing.assert_array_equal(r.daily["acquired"], r.daily["referred"])
        assert r.daily["acquisition_cost"].sum() == 0.0


def test_acquisition_cost_is_paid_prospects_times_cost_per_prospect() -> None:
    business = {
        "fixed_costs_per_month": 0.0,
        "prospects_per_month": 300.0,
        "cost_per_prospect": 2.5,
    }
    results = run(make(business=business))
    for r in results:
        prospects = r.daily["acquisition_cost"] / 2.5
        np.testing.assert_allclose(prospects, np.round(prospects), atol=1e-9)
        assert np.all(r.daily["referred"] <= r.daily["acquired"])
        # Poisson(300 / month) prospects: total within 5 standard deviations.
        expected = 300.0 / DAYS_PER_MONTH * r.horizon_days
        assert abs(prospects.sum() - expected) < 5 * np.sqrt(expected)
    # Referrals do not add to the bill: silencing word of mouth leaves the paid
    # prospects' cost the same in expectation.
    silent = run(make(business=business, behaviour={"positive_mentions_per_month": 0.0}))
    assert total(silent, "referred") == 0
    spent, spent_silent = total(results, "acquisition_cost"), total(silent, "acquisition_cost")
    assert abs(spent - spent_silent) < 5 * 2.5 * np.sqrt(2 * 300 / DAYS_PER_MONTH * 730)


def test_negative_word_of_mouth_spreads_competitor_awareness() -> None:
    business = {"fixed_costs_per_month": 0.0, "poor_service": 0.2}
    mute = run(make(horizon=240, business=business, behaviour={"negative_mentions_per_month": 0}))
    loud = run(make(horizon=240, business=business, behaviour={"negative_mentions_per_month": 10}))

    def final(results: list[RunResult]) -> float:
        return float(np.mean([r.daily["mean_competitor_awareness"][-1] for r in results]))

    assert total(mute, "negative_mentions") == 0
    assert total(loud, "negative_mentions") > 0
    # Observed +0.06; demand +0.02.
    assert final(loud) > final(mute) + 0.02


def test_more_delight_more_positive_mentions_and_referrals() -> None:
    plain = run(make(business={"fixed_costs_per_month": 0.0, "exceptional_service": 0.0}))
    delight = run(make(business={"fixed_costs_per_month": 0.0, "exceptional_service": 0.5}))
    assert total(delight, "positive_mentions") > 1.2 * total(plain, "positive_mentions")
    assert total(delight, "referred") > total(plain, "referred")
