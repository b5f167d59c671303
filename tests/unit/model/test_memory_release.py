"""A replication's memory is its own while it runs, and is given back when it ends.

A million-customer run held its population (most of its memory) while its tables were
formatted: the events still queued at the horizon keep the simulation in a reference
cycle that only the cyclic collector frees, and no collection came before the peak.
Capacity grows in small steps (1.5 left 2.25M rows for 1.6M used), so unused rows stay
a small share of the memory.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from loyaltysim.model.population import Population
from loyaltysim.model.simulation import Simulation, simulate
from loyaltysim.scenario import load_scenario

CAFE = Path(__file__).resolve().parents[3] / "scenarios" / "cafe.toml"
SHORT = ["scenario.horizon_days=60", "customers.initial=300"]


@pytest.fixture
def no_cyclic_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_closing_a_run_frees_its_population_without_the_collector(
    no_cyclic_collector: None,
) -> None:
    sim = Simulation(load_scenario(CAFE, SHORT), 0, 1, keep_customers=True)
    result = sim.run()
    population = weakref.ref(sim.pop)
    sim.close()
    assert population() is None
    assert result.customers is not None and len(result.customers["segment"]) >= 300


def test_simulate_gives_the_same_result_as_a_run_kept_open() -> None:
    scenario = load_scenario(CAFE, SHORT)
    kept = Simulation(scenario, 1, 5, keep_customers=True).run()
    closed = simulate(scenario, 1, 5, keep_customers=True)
    assert kept.customers is not None and closed.customers is not None
    for name, values in kept.customers.items():
        assert np.array_equal(values, closed.customers[name]), name
    for name, values in kept.daily.items():
        assert np.array_equal(values, closed.daily[name], equal_nan=True), name


def test_capacity_grows_by_a_small_step() -> None:
    pop = Population()
    pop.add(100_000)
    for _ in range(50):
        pop.add(3_000)
        assert pop.size <= pop.capacity <= 1.25 * pop.size  # unused rows: under a quarter
