"""Complaints and the recovery ladder (TARP; de Matos et al. 2007).

Resolution rates are compared in whole runs under common random numbers; the recovery
arithmetic (paradox on a quick fix of a first failure, never after a second) is driven
directly through ``Simulation._resolve`` on a tiny population whose columns the test sets.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from loyaltysim.model.population import (
    RECOVERY_PENDING,
    RECOVERY_RESOLVED,
    RECOVERY_RESOLVED_QUICKLY,
    RECOVERY_SILENT,
    RECOVERY_UNRESOLVED,
)
from loyaltysim.model.result import CAUSES, RunResult
from loyaltysim.model.simulation import Simulation, simulate
from loyaltysim.scenario.schema import Scenario
from tests.factories import mechanism_scenario as make

SEED = 31_337
UNRESOLVED = CAUSES.index("unresolved_complaint")


def run(scenario: Scenario, reps: int = 2) -> list[RunResult]:
    results = [simulate(scenario, rep, SEED) for rep in range(reps)]
    assert not any(r.ruined for r in results)
    return results


def unresolved_defections(results: list[RunResult]) -> int:
    return int(sum(np.sum(r.defections["cause"] == UNRESOLVED) for r in results))


def business(**kw: Any) -> dict[str, Any]:
    # More poor service than the default, so there are complaints enough to compare.
    return {"fixed_costs_per_month": 0.0, "poor_service": 0.08, **kw}


def test_resolving_more_complaints_means_fewer_unresolved_defections() -> None:
    rarely = run(make(business=business(complaint_resolution_rate=0.1)))
    mostly = run(make(business=business(complaint_resolution_rate=0.9)))
    # An open complaint weighs every day it waits (pending_complaint_hazard, issue #11),
    # so even a business that resolves every complaint loses some complainers while they
    # wait; without that weight, nobody can leave over one.
    always = run(
        make(
            business=business(complaint_resolution_rate=1.0),
            behaviour={"pending_complaint_hazard": 0.0},
        )
    )
    assert unresolved_defections(rarely) > 20  # enough to compare
    # Unresolved complaints fall 9-fold (0.9 -> 0.1); demand at least halving.
    assert unresolved_defections(mostly) < 0.5 * unresolved_defections(rarely)
    # Every complaint resolved: nobody can leave over an unresolved one.
    assert unresolved_defections(always) == 0


def test_complaints_are_recorded_and_end_in_a_recovery_state() -> None:
    r = simulate(make(business=business()), 0, SEED, keep_customers=True)
    assert r.daily["complaints"].sum() > 0
    assert r.customers is not None
    recovery = r.customers["recovery"]
    # Everyone who complained sits on a rung of the ladder: some resolved, some not.
    for state in (RECOVERY_SILENT, RECOVERY_UNRESOLVED):
        assert np.any(recovery == state)
    assert np.any((recovery == RECOVERY_RESOLVED) | (recovery == RECOVERY_RESOLVED_QUICKLY))


# ------------------------------------------------------- the recovery arithmetic
def tiny(count: int, **behaviour: Any) -> Simulation:
    scenario = make(horizon=10, initial=count, behaviour=behaviour)
    sim = Simulation(scenario, 0, SEED)
    pop = sim.pop
    pop.recovery[:count] = RECOVERY_PENDING
    pop.known_unhappy[:count] = True
    pop.attachment[:count] = 0.5
    pop.unresolved_memory[:count] = 0.0
    return sim


def resolve(
    sim: Simulation, failures: int, before: float, now: float, delay: float, fixed: bool = True
) -> float:
    """Resolve one customer's complaint and return their satisfaction afterwards."""
    pop = sim.pop
    pop.failures[0] = failures
    pop.satisfaction_before_failure[0] = before
    pop.satisfaction[0] = now
    sim._resolve(np.array([0]), np.array([fixed]), delay)
    return float(pop.satisfaction[0])


def test_quick_fix_of_a_first_failure_can_leave_the_customer_happier_than_before() -> None:
    sim = tiny(1, quick_resolution_days=2.0, recovery_bonus=0.05)
    after = resolve(sim, failures=1, before=0.70, now=0.55, delay=1.0)
    assert after > 0.70  # the recovery paradox
    assert after == pytest.approx(0.75, abs=1e-6)
    assert sim.pop.recovery[0] == RECOVERY_RESOLVED_QUICKLY
    assert not sim.pop.known_unhappy[0]
    assert sim.pop.attachment[0] > 0.5


@pytest.mark.parametrize("failures", [2, 3, 10])
def test_after_a_second_failure_a_fix_never_lifts_above_the_pre_failure_level(
    failures: int,
) -> None:
    befores = np.linspace(0.05, 0.95, 10)
    nows = np.linspace(0.0, 1.0, 11)
    for delay in (0.0, 1.0, 2.0, 5.0):
        for before in befores:
            for now in nows:
                sim = tiny(1, quick_resolution_days=2.0, recovery_bonus=0.2)
                after = resolve(sim, failures, float(before), float(now), delay)
                # Never above where they were before, nor lower than where they are.
                assert after <= max(before, now) + 1e-6
                assert after >= now - 1e-6
                if now < before:
                    assert after < before


def test_a_slow_fix_restores_only_part_of_the_loss() -> None:
    sim = tiny(1, quick_resolution_days=2.0)
    after = resolve(sim, failures=1, before=0.70, now=0.50, delay=10.0)
    assert 0.50 < after < 0.70
    assert sim.pop.recovery[0] == RECOVERY_RESOLVED


def test_ladder_order_quick_beats_slow_beats_unresolved() -> None:
    outcomes = {}
    for name, delay, fixed in (("quick", 1.0, True), ("slow", 9.0, True), ("none", 1.0, False)):
        sim = tiny(1, quick_resolution_days=2.0)
        outcomes[name] = resolve(sim, failures=1, before=0.7, now=0.5, delay=delay, fixed=fixed)
    assert outcomes["quick"] > outcomes["slow"] > 0.5 > outcomes["none"]


def test_an_unresolved_complaint_hurts_and_is_remembered() -> None:
    sim = tiny(1)
    after = resolve(sim, failures=1, before=0.7, now=0.5, delay=1.0, fixed=False)
    pop = sim.pop
    assert after < 0.5
    assert pop.unresolved_memory[0] == pytest.approx(1.0)
    assert pop.attachment[0] < 0.5
    assert pop.recovery[0] == RECOVERY_UNRESOLVED


def test_departed_customers_are_not_resolved() -> None:
    sim = tiny(2)
    sim.pop.active[1] = False
    sim.pop.satisfaction[:2] = 0.5
    sim.pop.satisfaction_before_failure[:2] = 0.7
    sim.pop.failures[:2] = 1
    sim._resolve(np.array([0, 1]), np.array([True, True]), 1.0)
    assert sim.pop.recovery[0] == RECOVERY_RESOLVED_QUICKLY
    assert sim.pop.recovery[1] == RECOVERY_PENDING
    assert sim.pop.satisfaction[1] == pytest.approx(0.5)
