"""Every stylized fact can fail: each runs in its documented counter-scenario and fails.

``loyaltysim.analysis.facts.COUNTER_SCENARIOS`` says, per fact, what to change in a
calibrated world (``scenarios/seed-claims.toml``, where every fact holds) and why the
fact must then fail. Each test measures only that fact (``measure_facts(only=...)``) on
6 replications at the scenario's seed, and asserts it fails. Fact 10 is an identity of
the books; its counter-test judges the flat discounts by another margin than their own
(the error summary.json used to make), and the rule then fails.

These run one to two dozen simulated years each, so they are marked ``slow``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from loyaltysim.analysis.facts import (
    COUNTER_SCENARIOS,
    FACT_NUMBERS,
    _fact10,
    _world,
    fact_variants,
    measure_facts,
)
from loyaltysim.experiment import ProcessExecutor, run_experiment
from loyaltysim.scenario import load_scenario

SEED_CLAIMS = Path(__file__).resolve().parents[2] / "scenarios" / "seed-claims.toml"
REPS = 6


def test_every_fact_has_a_counter_scenario() -> None:
    assert set(COUNTER_SCENARIOS) == set(FACT_NUMBERS)


@pytest.mark.slow
@pytest.mark.parametrize("number", [n for n in FACT_NUMBERS if n != 10])
def test_fact_fails_in_its_counter_scenario(number: int) -> None:
    why, changes = COUNTER_SCENARIOS[number]
    overrides = [f"{key}={json.dumps(value)}" for key, value in changes.items()]
    scenario = load_scenario(SEED_CLAIMS, overrides)
    assert scenario.scenario.seed is not None
    (fact,) = measure_facts(scenario, REPS, scenario.scenario.seed, ProcessExecutor(2), [number])
    assert not fact.passed, f"fact {number} held although {why}: {fact.value:.4g} {fact.detail}"


@pytest.mark.slow
def test_break_even_identity_fails_when_judged_by_another_margin() -> None:
    scenario = load_scenario(SEED_CLAIMS)
    world = _world(scenario)
    built = fact_variants(world)
    arms = [("world", world)] + [
        (f"flat {d:.0%}", built[f"flat {d:.0%}"]) for d in (0.05, 0.1, 0.2)
    ]
    runs = run_experiment(arms, REPS, 7, ProcessExecutor(2)).runs
    own = _fact10(world, runs["world"], runs)
    assert own.passed, own.detail
    # A 95% margin makes a 5% discount need a 5.6% lift; the realised lift exceeds it
    # while profit falls (the real margin is 40%), so the rule must report the breach.
    wrong = _fact10(world, runs["world"], runs, margin=0.95)
    assert not wrong.passed, wrong.detail
    assert np.isfinite(own.value)
