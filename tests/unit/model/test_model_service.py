"""Service experience, satisfaction, expectations, attachment and defection.

Each simulation test compares a treatment with a control under the same root seed and
replications (common random numbers), with a treatment strong enough that the direction
is unmistakable whatever the calibrated behavioural defaults are. The arithmetic of a
single service experience is checked directly on a tiny :class:`Simulation` whose columns
the test sets by hand.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from loyaltysim.model.result import CAUSES, RunResult
from loyaltysim.model.simulation import Simulation, simulate
from loyaltysim.scenario.schema import Behaviour, Scenario
from tests.factories import mechanism_scenario as make

SEED = 20240611
INDIFFERENCE, POOR_SERVICE = CAUSES.index("indifference"), CAUSES.index("poor_service")


def run(scenario: Scenario, reps: int = 2) -> list[RunResult]:
    results = [simulate(scenario, rep, SEED) for rep in range(reps)]
    assert not any(r.ruined for r in results), "a mechanism test must not end in ruin"
    return results


def total(results: list[RunResult], series: str) -> float:
    return float(sum(r.daily[series].sum() for r in results))


def causes(results: list[RunResult]) -> np.ndarray:
    codes = np.concatenate([r.defections["cause"] for r in results]).astype(int)
    return np.bincount(codes, minlength=len(CAUSES))


def late_mean(results: list[RunResult], series: str, days: int = 30) -> float:
    """Mean of a level over the last ``days`` days and all replications."""
    return float(np.mean([r.daily[series][-days:].mean() for r in results]))


# --------------------------------------------------------------- service events
def test_staff_indifference_raises_churn_and_is_then_the_leading_cause() -> None:
    control = run(make(business={"fixed_costs_per_month": 0.0, "staff_indifference": 0.0}))
    treated = run(make(business={"fixed_costs_per_month": 0.0, "staff_indifference": 0.5}))
    # Tolerance: observed about 4x; demand 1.5x.
    assert total(treated, "churned") > 1.5 * total(control, "churned")
    treated_causes = causes(treated)
    assert int(np.argmax(treated_causes)) == INDIFFERENCE
    assert treated_causes[INDIFFERENCE] / treated_causes.sum() > 0.4
    # Without indifferent service nobody can leave for indifference.
    assert causes(control)[INDIFFERENCE] == 0


def test_poor_service_lowers_satisfaction_and_raises_complaints() -> None:
    control = run(make(business={"poor_service": 0.0}))
    treated = run(make(business={"poor_service": 0.2}))
    # Tolerance: observed a drop of about 0.06 in mean satisfaction; demand 0.02.
    assert late_mean(treated, "mean_satisfaction") < late_mean(control, "mean_satisfaction") - 0.02
    # More complaints per visit (poor service also drives customers away, so the count
    # of complaints is a weaker signal than their rate). Observed about 3x; demand 1.5x.
    rate_treated = total(treated, "complaints") / total(treated, "purchases")
    rate_control = total(control, "complaints") / total(control, "purchases")
    assert rate_treated > 1.5 * rate_control
    assert total(treated, "complaints") > total(control, "complaints")
    # Visits felt as bad are failures too (issue #11), so the control has a few
    # poor-service defections; poor service on 20% of visits makes many more.
    assert causes(treated)[POOR_SERVICE] > 3 * max(causes(control)[POOR_SERVICE], 1)


def test_exceptional_service_raises_attachment_and_lowers_churn() -> None:
    control = run(make(business={"exceptional_service": 0.0}))
    treated = run(make(business={"exceptional_service": 0.5}))
    # Tolerance: observed attachment 0.2 -> 0.66 and churn x0.42; demand +0.1 and x0.7.
    assert late_mean(treated, "mean_attachment") > late_mean(control, "mean_attachment") + 0.1
    assert total(treated, "churned") < 0.7 * total(control, "churned")


# ------------------------------------------------ one service experience, by hand
def tiny(initial: int = 3, **behaviour: Any) -> Simulation:
    """A simulation whose service is deterministic: no noise and no service events, so
    experienced quality is exactly ``service_quality`` (0.6)."""
    scenario = make(
        horizon=10,
        initial=initial,
        business={
            "fixed_costs_per_month": 0.0,
            "service_quality": 0.6,
            "staff_indifference": 0.0,
            "poor_service": 0.0,
            "exceptional_service": 0.0,
        },
        behaviour={"quality_noise": 0.0, "quality_heterogeneity": 0.0, **behaviour},
    )
    sim = Simulation(scenario, 0, SEED)
    morning(sim)
    return sim


def morning(sim: Simulation) -> None:
    """What the market day sets up before anyone shops (today's switching costs), for
    tests that call the day's steps one by one."""
    n = sim.pop.size
    financial, _ = sim.policy.customer_effects(sim.pop, slice(0, sim.pop.size))
    sim._switching = sim.beh.procedural_switching_cost + np.broadcast_to(financial, (n,))


@pytest.mark.parametrize("asymmetry", [1.0, 2.0, 3.0])
def test_shortfall_lowers_satisfaction_more_than_equal_surplus_raises_it(asymmetry: float) -> None:
    sim = tiny(
        shortfall_asymmetry=asymmetry, disconfirmation_weight=0.3, satisfaction_smoothing=0.1
    )
    pop, x = sim.pop, 0.1
    pop.satisfaction[:3] = 0.6  # equal to quality: a met expectation leaves S unchanged
    pop.expectation[:3] = [0.6 - x, 0.6, 0.6 + x]  # surplus x, met, shortfall x
    sim._service(0, np.arange(3), 3)
    rise, neutral, drop = pop.satisfaction[:3] - 0.6
    assert neutral == pytest.approx(0.0, abs=1e-6)
    assert rise == pytest.approx(0.1 * 0.3 * x, rel=1e-4)
    assert -drop == pytest.approx(asymmetry * rise, rel=1e-4)
    if asymmetry > 1:
        assert -drop > rise > 0


def test_default_asymmetry_is_in_the_range_of_the_literature() -> None:
    # Modelling basis: shortfalls weigh 1.5-2.5x more than surpluses (Anderson & Sullivan).
    assert 1.5 <= Behaviour().shortfall_asymmetry <= 2.5
    sim = tiny()
    pop, x = sim.pop, 0.05
    pop.satisfaction[:2] = 0.6
    pop.expectation[:2] = [0.6 - x, 0.6 + x]
    sim._service(0, np.arange(2), 2)
    rise, drop = pop.satisfaction[:2] - 0.6
    assert -drop / rise == pytest.approx(sim.beh.shortfall_asymmetry, rel=1e-3)


def test_expectations_move_towards_experienced_quality() -> None:
    sim = tiny(expectation_learning=0.05)
    pop = sim.pop
    before = np.array([0.2, 0.6, 0.95], dtype=np.float32)
    pop.expectation[:3] = before
    sim._service(0, np.arange(3), 3)
    after = pop.expectation[:3]
    np.testing.assert_allclose(after - before, 0.05 * (0.6 - before), atol=1e-6)
    assert after[0] > before[0] and after[2] < before[2]  # towards P from either side


def test_delight_raises_the_bar_in_a_whole_run() -> None:
    """Rust & Oliver 2000: exceptional service raises expectations, poor service lowers them."""

    def mean_expectation(**business: Any) -> float:
        sim = Simulation(make(horizon=240, initial=1500, business=business), 0, SEED)
        sim.run()
        n = sim.pop.size
        return float(sim.pop.expectation[:n][sim.pop.active[:n]].mean())

    control = mean_expectation(exceptional_service=0.0, poor_service=0.0)
    delighted = mean_expectation(exceptional_service=0.5, poor_service=0.0)
    let_down = mean_expectation(exceptional_service=0.0, poor_service=0.3)
    # Quality differs by about 0.5 x boost and 0.3 x drop; demand a quarter of that.
    b = Behaviour()
    assert delighted > control + 0.25 * 0.5 * b.exceptional_boost
    assert let_down < control - 0.25 * 0.3 * b.poor_service_drop


def test_service_events_move_attachment_in_the_right_direction() -> None:
    scenario = make(
        horizon=10,
        initial=3,
        business={
            "fixed_costs_per_month": 0.0,
            "staff_indifference": 0.0,
            "poor_service": 0.0,
            "exceptional_service": 1.0,
        },
    )
    sim = Simulation(scenario, 0, SEED)
    sim.pop.attachment[:3] = 0.5
    sim._service(0, np.arange(3), 3)
    assert np.all(sim.pop.attachment[:3] > 0.5)
    assert np.all(sim.pop.ever_exceptional[:3])

    scenario = make(
        horizon=10,
        initial=3,
        business={
            "fixed_costs_per_month": 0.0,
            "staff_indifference": 1.0,
            "poor_service": 0.0,
            "exceptional_service": 0.0,
        },
    )
    sim = Simulation(scenario, 0, SEED)
    sim.pop.attachment[:3] = 0.5
    sim._service(0, np.arange(3), 3)
    assert np.all(sim.pop.attachment[:3] < 0.5)
    np.testing.assert_array_equal(sim.pop.indifference_memory[:3], 1.0)


# ----------------------------------------------------------- what protects
def test_attachment_protects_against_churn() -> None:
    low = run(make(customers={"segments": [{"name": "s", "attachment": 0.2}]}))
    high = run(make(customers={"segments": [{"name": "s", "attachment": 0.8}]}))
    # Observed churn x0.6; demand x0.8.
    assert total(high, "churned") < 0.8 * total(low, "churned")


def test_protection_falls_with_attachment_and_switching_cost() -> None:
    sim = tiny(initial=4)
    pop = sim.pop
    pop.satisfaction[:4] = 0.6
    pop.glow[:4] = 0.0
    pop.attachment[:4] = [0.0, 0.3, 0.6, 0.9]
    protection = sim._protection(np.arange(4))
    assert np.all(np.diff(protection) < 0)

    more_cost = make(horizon=10, initial=4, behaviour={"procedural_switching_cost": 2.0})
    sim2 = Simulation(more_cost, 0, SEED)
    morning(sim2)
    sim2.pop.satisfaction[:4] = 0.6
    sim2.pop.glow[:4] = 0.0
    sim2.pop.attachment[:4] = [0.0, 0.3, 0.6, 0.9]
    assert np.all(sim2._protection(np.arange(4)) < protection)


def test_procedural_switching_cost_protects_against_churn() -> None:
    low = run(make(behaviour={"procedural_switching_cost": 0.0}))
    high = run(make(behaviour={"procedural_switching_cost": 1.5}))
    assert total(high, "churned") < 0.7 * total(low, "churned")


def test_satisfaction_alone_protects_only_weakly() -> None:
    """Jones & Sasser: satisfied customers still leave. Raising everyone's satisfaction
    from 0.6 to 0.9 must cut the hazard far less than raising attachment by as much."""
    sim = tiny(initial=3)
    pop = sim.pop
    pop.glow[:3] = 0.0
    pop.satisfaction[:3] = [0.6, 0.9, 0.6]
    pop.attachment[:3] = [0.3, 0.3, 0.6]
    base, satisfied, attached = sim._protection(np.arange(3))
    assert satisfied < base  # it does help a little
    assert base / satisfied < base / attached
