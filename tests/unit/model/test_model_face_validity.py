"""Face validity (issue #11): change a cause, measure the direction and size of its effect.

Every comparison is paired (same root seed and replications: common random numbers) on
a bare scenario (``tests.factories.mechanism_scenario``: default behaviour, no fixed
costs). Each tolerance states what was observed when the test was written and what is
demanded, which is well short of it, so that a calibration change does not break the
test but a mechanism that stops working does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from loyaltysim.analysis.metrics import run_metrics
from loyaltysim.analysis.summary import summarize
from loyaltysim.model.population import RECOVERY_NONE
from loyaltysim.model.result import CAUSES, RunResult
from loyaltysim.model.simulation import Simulation, simulate
from loyaltysim.model.survey import Survey, run_survey
from loyaltysim.scenario import load_scenario_text, variant_scenarios
from loyaltysim.scenario.schema import Scenario
from tests.factories import mechanism_scenario as make

SEED = 1107


def run(scenario: Scenario, reps: int = 2) -> list[RunResult]:
    return [simulate(scenario, rep, SEED) for rep in range(reps)]


def total(results: list[RunResult], series: str) -> float:
    return float(sum(r.daily[series].sum() for r in results))


def metric(results: list[RunResult], scenario: Scenario, name: str) -> float:
    return float(np.nanmean([run_metrics(r, scenario)[name] for r in results]))


UNAWARE: dict[str, dict[str, Any]] = {
    "customers": {"initial": 800, "segments": [{"name": "all", "competitor_awareness": 0.0}]},
    "competitor": {"awareness_growth_per_month": 0.0, "promotion_awareness_boost": 0.0},
}


# ------------------------------------------------------------------------ price
def scenario_at(price: float, **sections: dict[str, Any]) -> Scenario:
    """The bare scenario at list ``price``; a ticket is worth 4.50 whatever the price."""
    data = {**UNAWARE, **sections}
    data["business"] = {"reservation_price": 4.5, "price": price, **sections.get("business", {})}
    return make(horizon=120, **data)


def test_with_no_rival_in_mind_the_price_level_moves_demand() -> None:
    at_list, double, tenfold = (run(scenario_at(p)) for p in (4.5, 9.0, 45.0))
    # Observed: doubling the price loses about 55% of purchases, 10x loses all of them.
    # Demand a loss of at least 30% and 95%.
    assert total(double, "purchases") < 0.7 * total(at_list, "purchases")
    assert total(tenfold, "purchases") < 0.05 * total(at_list, "purchases")
    # No rival: a business has a profit-maximising price; 10x list is far past it.
    profit = {p: metric(r, scenario_at(p), "profit") for p, r in ((4.5, at_list), (45, tenfold))}
    assert profit[45] < profit[4.5]


def test_elasticity_rises_with_the_price_weight() -> None:
    def arc(weight: float) -> float:
        beh = {"behaviour": {"price_weight": weight}}
        lo, hi = (total(run(scenario_at(p, **beh)), "purchases") for p in (4.05, 4.95))
        return ((hi - lo) / (hi + lo)) / (0.2 / 2.0)

    weak, strong = arc(1.0), arc(6.0)
    # Observed about -0.2 and -1.3; demand the sign and a stronger response to weight 6.
    assert weak < 0 and strong < 2 * weak


def test_an_override_of_the_price_keeps_what_a_ticket_is_worth() -> None:
    text = '[scenario]\nname = "p"\n[business]\nprice = 4.5\n'
    text += '[[variants]]\nname = "dear"\nset = { "business.price" = 9.0 }\n'
    scenario = load_scenario_text(text, "p.toml", ["business.price=6.0"])
    assert (scenario.business.price, scenario.business.reservation_price) == (6.0, 4.5)
    dear = dict(variant_scenarios(scenario))["dear"]
    assert (dear.business.price, dear.business.reservation_price) == (9.0, 4.5)


def test_each_store_has_its_own_reference_price() -> None:
    sim = Simulation(make(horizon=5, initial=4), 0, SEED)
    before = sim.pop.reference_price[:4].copy()
    sim._competitor_purchase(np.array([0, 1]), np.array([1, 1]))
    np.testing.assert_array_equal(sim.pop.reference_price[:4], before)
    assert np.all(sim.pop.rival_reference_price[:2] == pytest.approx(sim.sc.competitor.price))


# ------------------------------------------------------------------- the survey
def test_survey_answers_are_biased_upwards_and_the_unhappy_answer_less() -> None:
    survey = {"sample_share": 1.0, "response_rate": 1.0, "unhappy_nonresponse": 0.8}
    sim = Simulation(make(horizon=40, initial=4000, survey=survey), 0, SEED)
    pop, n = sim.pop, sim.pop.size
    pop.last_visit[:n] = 25
    pop.satisfaction[:n] = np.where(np.arange(n) % 2 == 0, 0.3, 0.9)
    run_survey(sim, 30, n)
    answered = pop.survey_score[:n] >= 0
    low = np.arange(n) % 2 == 0
    # Answer chance 1 - 0.8 x 0.7 = 0.44 for the unhappy, 0.92 for the happy.
    assert answered[low].mean() == pytest.approx(0.44, abs=0.04)
    assert answered[~low].mean() == pytest.approx(0.92, abs=0.03)
    # CSAT 1..5; the happy say 5 mostly (0.9 + 0.05 courtesy > 0.8), the unhappy 2.
    scores = pop.survey_score[:n]
    assert np.median(scores[~low & answered]) == 5 and np.median(scores[low & answered]) == 2
    # What the business learns: the bottom two boxes are known to be unhappy.
    np.testing.assert_array_equal(pop.known_unhappy[:n], answered & (scores <= 2))


def test_nps_scale_and_bands() -> None:
    s = Survey(kind="nps")
    np.testing.assert_array_equal(s.scores(np.array([0.0, 0.64, 0.66, 1.0])), [0, 6, 7, 10])
    np.testing.assert_array_equal(s.satisfied(np.array([6, 7, 9])), [False, True, True])
    np.testing.assert_array_equal(s.dissatisfied(np.array([-1, 6, 7])), [False, True, False])


def test_bad_service_drops_the_share_of_defectors_who_said_they_were_satisfied() -> None:
    survey = {"sample_share": 0.5}
    good = make(initial=1500, survey=survey)
    bad = make(initial=1500, survey=survey, business={"service_quality": 0.45})
    good_runs, bad_runs = run(good), run(bad)
    said_good = metric(good_runs, good, "stated_satisfied_defector_share")
    said_bad = metric(bad_runs, bad, "stated_satisfied_defector_share")
    # Observed about 0.86 -> 0.45; demand a fall of at least 20 points.
    assert said_bad < said_good - 0.20
    # And bad service drives customers away (it used to keep more of them).
    assert total(bad_runs, "churned") > 1.2 * total(good_runs, "churned")


# ------------------------------------------------------------------- complaints
def complaints_scenario(**business: float) -> Scenario:
    return make(horizon=240, initial=1500, business={"poor_service": 0.15, **business})


def test_slow_complaint_handling_costs_customers() -> None:
    quick = run(complaints_scenario(complaint_resolution_days=2.0))
    slow = run(complaints_scenario(complaint_resolution_days=30.0))
    # Observed about +8% churn; demand +2%.
    assert total(slow, "churned") > 1.02 * total(quick, "churned")


def test_resolving_fewer_complaints_costs_customers() -> None:
    most = run(complaints_scenario(complaint_resolution_rate=0.9))
    few = run(complaints_scenario(complaint_resolution_rate=0.1))
    # Observed about +10%; demand +3%.
    assert total(few, "churned") > 1.03 * total(most, "churned")


# ------------------------------------------------------------------- the books
def test_summary_uses_each_variants_own_margin() -> None:
    text = '[scenario]\nname = "m"\nhorizon_days = 30\n[customers]\ninitial = 200\n'
    text += '[[variants]]\nname = "dear beans"\nset = { "business.unit_cost" = 2.5 }\n'
    scenario = load_scenario_text(text, "m.toml")
    runs = {name: run(sc, reps=2) for name, sc in variant_scenarios(scenario)}
    summary = summarize(scenario, runs, SEED)
    margins = {v["name"]: v["break_even"]["gross_margin"] for v in summary["variants"]}
    assert margins["base"] == pytest.approx((4.5 - 1.4) / 4.5)
    assert margins["dear beans"] == pytest.approx((4.5 - 2.5) / 4.5)


def test_points_liability_is_a_cost_and_breakage_is_reported() -> None:
    card = {"kind": "points", "reward_points": 45.0, "reward_value": 4.5, "expiry_days": 30}
    scenario = make(horizon=180, initial=800, discount=card)
    (r,) = run(scenario, reps=1)
    m = run_metrics(r, scenario)
    assert m["points_liability_change"] > 0
    assert m["profit"] == pytest.approx(m["profit_cash"] - m["points_liability_change"])
    assert m["points_breakage"] > 0  # a 30-day expiry lets idle points lapse


def test_a_ruined_plan_never_looks_healthier_than_the_base() -> None:
    ruinous = {"fixed_costs_per_month": 20_000.0, "starting_cash": 25_000.0}
    base = make(horizon=200, initial=800)
    ruined = make(horizon=200, initial=800, business=ruinous)
    (b,), (r,) = run(base, 1), run(ruined, 1)
    assert r.ruined and not b.ruined
    mb, mr = run_metrics(b, base), run_metrics(r, ruined)
    assert mr["customers_end"] == 0 < mb["customers_end"]
    assert mr["churn_rate_annual"] > mb["churn_rate_annual"]
    assert mr["survived"] == 0 and mb["survived"] == 1


# ----------------------------------------------------- follow-ups find the silent
def test_calls_to_a_sample_find_unhappy_customers_who_never_complained() -> None:
    calls = {
        "kind": "periodic",
        "every_days": 30,
        "channel": "phone_call",
        "target": "sample",
        "monthly_budget": 1e9,
    }
    scenario = make(horizon=180, business={"service_quality": 0.5}, followup=calls)
    results = run(scenario)
    assert total(results, "calls_found_unhappy") > 20


def test_calls_to_the_dissatisfied_reach_those_who_said_so_in_a_survey() -> None:
    sim = Simulation(make(horizon=40, initial=50), 0, SEED)
    pop, n = sim.pop, sim.pop.size
    pop.known_unhappy[:n] = False
    pop.survey_score[:5] = 1  # told the survey they were very dissatisfied
    pop.known_unhappy[:5] = True
    from loyaltysim.followups import select_contacts

    f = sim.sc.followup.model_copy(update={"kind": "periodic", "target": "dissatisfied"})
    pop.last_visit[:n] = 25
    chosen = select_contacts(f, 30, pop, np.arange(0), np.zeros(n, np.float32), 1e9, 1.0)
    np.testing.assert_array_equal(chosen, np.arange(5))
    assert np.all(pop.recovery[:5] == RECOVERY_NONE)  # none of them ever complained


# -------------------------------------------------------------------- hostages
def test_resentment_builds_with_switching_cost_and_is_released_when_it_drops() -> None:
    sim = Simulation(make(horizon=5, initial=3), 0, SEED)
    pop = sim.pop
    pop.satisfaction[:3] = [0.2, 0.2, 0.9]
    sim._switching = np.array([1.0, 0.2, 1.0], dtype=np.float32)
    for _ in range(30):
        sim._word_of_mouth(3)
    # A month unhappy at switching cost 1 is one unit; at 0.2 a fifth; happy: none.
    assert pop.resentment[:3] == pytest.approx([1.0, 0.2, 0.0], rel=0.02, abs=1e-6)
    hostage = CAUSES.index("hostage")
    trapped = sim._protection(np.array([0])) * sim._cause_hazards(np.array([0]))[hostage]
    sim._switching = np.array([0.2, 0.2, 1.0], dtype=np.float32)  # the points expire
    released = sim._protection(np.array([0])) * sim._cause_hazards(np.array([0]))[hostage]
    # exp(1.5 x 0.8) = 3.3 times the hazard once the cost drops.
    assert float(released[0]) == pytest.approx(float(trapped[0]) * np.exp(1.5 * 0.8), rel=1e-4)


# --------------------------------------------------------------------- the rival
def test_a_matching_rival_follows_a_discount_after_its_lag() -> None:
    comp = {"reaction": "match", "reaction_probability": 1.0, "promotion_days": 0}
    scenario = make(
        horizon=60, initial=400, discount={"kind": "flat", "rate": 0.1}, competitor=comp
    )
    (r,) = run(scenario, reps=1)
    price = r.daily["competitor_price"]
    regular = scenario.competitor.price
    assert price[10] == pytest.approx(regular)  # before the lag of 14 days
    assert price[-1] == pytest.approx(regular * 0.9, rel=1e-6)


def test_a_share_watching_rival_cuts_its_price_when_it_loses_share() -> None:
    comp = {"reaction": "share", "reaction_probability": 1.0, "promotion_days": 0}
    # A deep, standing sale from day 30: the rival's first window saw list prices.
    deep = {"kind": "promotion", "rate": 0.3, "every_days": 7, "length_days": 7, "start_day": 30}
    scenario = make(horizon=120, initial=800, discount=deep, competitor=comp)
    passive = make(horizon=120, initial=800, discount=deep)
    (r,), (p,) = run(scenario, 1), run(passive, 1)
    assert r.daily["competitor_price"][-1] < scenario.competitor.price
    # The discount war: the same discount buys fewer of the rival's customers.
    assert total([r], "competitor_purchases") > total([p], "competitor_purchases")
