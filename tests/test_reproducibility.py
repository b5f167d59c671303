"""Same seed, same numbers: twice in a row, on any executor, with or without other
variants; replication r of every variant sees the same customers (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
import pytest

from loyaltysim.experiment import ProcessExecutor, SerialExecutor, run_experiment
from loyaltysim.model.result import DAILY_SERIES, DEFECTION_FIELDS, RunResult
from loyaltysim.model.simulation import Simulation, simulate
from loyaltysim.scenario.schema import Scenario

T = TypeVar("T")
R = TypeVar("R")
SEED = 2718


def make(horizon: int = 90, initial: int = 600, **sections: dict[str, Any]) -> Scenario:
    data: dict[str, Any] = {
        "scenario": {"name": "t", "horizon_days": horizon},
        "customers": {
            "initial": initial,
            "segments": [
                {"name": "regulars", "share": 0.6, "attachment": 0.6},
                {"name": "bargain hunters", "share": 0.4, "deal_proneness": 0.8},
            ],
        },
        "competitor": {"promotion_every_days": 30, "promotion_days": 7},
    }
    for key, value in sections.items():
        data.setdefault(key, {}).update(value)
    return Scenario.model_validate(data)


# Scenarios that exercise every random stream between them.
BUSY = {
    "points + calls": make(
        discount={"kind": "points", "goal_gradient": 1.0},
        followup={"kind": "after_purchase", "channel": "phone_call", "target": "sample"},
    ),
    "win-back + postcards": make(
        discount={"kind": "win_back", "after_days": 10, "accept_probability": 0.5},
        followup={"kind": "periodic", "channel": "postcard", "every_days": 15},
    ),
    "tiers + at-risk email": make(
        discount={"kind": "tiers", "period_days": 30},
        followup={"kind": "at_risk", "channel": "email", "target": "all"},
    ),
}


def identical(a: RunResult, b: RunResult) -> None:
    assert a.ruin_day == b.ruin_day
    for name in DAILY_SERIES:
        np.testing.assert_array_equal(a.daily[name], b.daily[name], err_msg=name)
    for name in DEFECTION_FIELDS:
        np.testing.assert_array_equal(a.defections[name], b.defections[name], err_msg=name)
    assert [(w.day, w.indicator) for w in a.warnings] == [(w.day, w.indicator) for w in b.warnings]


def differ(a: RunResult, b: RunResult) -> bool:
    return any(not np.array_equal(a.daily[name], b.daily[name]) for name in DAILY_SERIES)


@pytest.mark.parametrize("name", sorted(BUSY))
def test_same_seed_twice_gives_identical_results(name: str) -> None:
    sc = BUSY[name]
    first = simulate(sc, 1, SEED)
    # Another run in between must not leak state (no global RNG, no caches).
    simulate(BUSY["win-back + postcards"], 0, SEED + 1)
    identical(first, simulate(sc, 1, SEED))


def test_keeping_customers_does_not_change_the_numbers() -> None:
    sc = BUSY["points + calls"]
    identical(simulate(sc, 0, SEED), simulate(sc, 0, SEED, keep_customers=True))


def test_the_variant_name_does_not_key_the_streams() -> None:
    sc = BUSY["points + calls"]
    identical(simulate(sc, 0, SEED, variant="a"), simulate(sc, 0, SEED, variant="b"))


def test_different_seeds_and_replications_differ() -> None:
    sc = BUSY["points + calls"]
    base = simulate(sc, 0, SEED)
    assert differ(base, simulate(sc, 0, SEED + 1))
    assert differ(base, simulate(sc, 1, SEED))


# ---------------------------------------------------------------- executors
VARIANTS = [
    ("base", BUSY["points + calls"]),
    ("flat 10%", make(discount={"kind": "flat", "rate": 0.1})),
    ("win-back", BUSY["win-back + postcards"]),
]


def assert_same_results(a: Any, b: Any) -> None:
    assert a.variants == b.variants
    for name in a.variants:
        assert [r.replication for r in a.runs[name]] == [r.replication for r in b.runs[name]]
        for x, y in zip(a.runs[name], b.runs[name], strict=True):
            assert (x.variant, y.variant) == (name, name)
            identical(x, y)


def test_process_pool_and_serial_give_identical_results() -> None:
    serial = run_experiment(VARIANTS, 3, SEED, executor=SerialExecutor())
    pooled = run_experiment(VARIANTS, 3, SEED, executor=ProcessExecutor(2))
    assert_same_results(serial, pooled)


class ShuffledExecutor:
    """Completes tasks in a scrambled order, as a busy pool might."""

    def map_unordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        order = np.random.default_rng(0).permutation(len(tasks))
        for key in order:
            yield int(key), fn(tasks[int(key)])


def test_results_are_gathered_by_key_not_completion_order() -> None:
    serial = run_experiment(VARIANTS, 3, SEED)
    shuffled = run_experiment(VARIANTS, 3, SEED, executor=ShuffledExecutor())
    assert_same_results(serial, shuffled)


def test_dask_local_cluster_gives_identical_results() -> None:
    pytest.importorskip("dask.distributed")
    from loyaltysim.experiment import DaskExecutor

    executor = DaskExecutor("local", workers=2)
    try:
        dasked = run_experiment(VARIANTS, 2, SEED, executor=executor)
    finally:
        executor.close()
    assert_same_results(run_experiment(VARIANTS, 2, SEED), dasked)


def test_adding_a_variant_leaves_the_base_unchanged() -> None:
    alone = run_experiment(VARIANTS[:1], 3, SEED)
    together = run_experiment(VARIANTS, 3, SEED)
    for x, y in zip(alone.runs["base"], together.runs["base"], strict=True):
        identical(x, y)


# ----------------------------------------------------- common random numbers
def test_replication_r_of_every_variant_starts_with_the_same_customers() -> None:
    base = make()
    variant = make(
        discount={"kind": "flat", "rate": 0.2},
        followup={"kind": "after_purchase", "channel": "postcard"},
    )
    for rep in (0, 1):
        a, b = Simulation(base, rep, SEED), Simulation(variant, rep, SEED)
        assert a.pop.size == b.pop.size == 600
        for column in a.pop.column_names():
            np.testing.assert_array_equal(a.pop.view(column), b.pop.view(column), err_msg=column)
    # ...and replications differ from each other.
    r0, r1 = Simulation(base, 0, SEED).pop, Simulation(base, 1, SEED).pop
    assert not np.array_equal(r0.view("visit_rate"), r1.view("visit_rate"))


def test_variants_share_every_day_until_their_policies_diverge() -> None:
    """A promotion calendar that starts on day 40 is the base until day 40."""
    base = make(horizon=80)
    late_sale = make(horizon=80, discount={"kind": "promotion", "rate": 0.3, "start_day": 40})
    a, b = simulate(base, 0, SEED), simulate(late_sale, 0, SEED)
    for name in DAILY_SERIES:
        np.testing.assert_array_equal(a.daily[name][:40], b.daily[name][:40], err_msg=name)
    assert differ(a, b)
    assert b.daily["discounted_purchases"][40] > 0
