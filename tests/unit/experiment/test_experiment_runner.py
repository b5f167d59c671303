"""Executors and the experiment runner: results filed by key, paired replications,
interruption, callbacks and seeds."""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np
import pytest

from loyaltysim.experiment import (
    ExecutorError,
    ProcessExecutor,
    SerialExecutor,
    Task,
    make_executor,
    resolve_seed,
    run_experiment,
    run_task,
)
from loyaltysim.model.result import DAILY_SERIES, RunResult
from loyaltysim.model.simulation import simulate
from loyaltysim.scenario.schema import Scenario

T = TypeVar("T")
R = TypeVar("R")


def make(**sections: dict[str, Any]) -> Scenario:
    data: dict[str, Any] = {
        "scenario": {"name": "t", "horizon_days": 40},
        "customers": {"initial": 300},
    }
    for key, value in sections.items():
        data.setdefault(key, {}).update(value)
    return Scenario.model_validate(data)


BASE = make()
FLAT = make(discount={"kind": "flat", "rate": 0.1})
VARIANTS = [("base", BASE), ("flat", FLAT)]


def _square(x: int) -> int:
    return x * x


def _fail_on_three(x: int) -> int:
    if x == 3:
        raise ValueError("three")
    return x


class ReversedExecutor:
    """Finishes tasks in the reverse of their submission order."""

    def map_unordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        done = [(key, fn(task)) for key, task in enumerate(tasks)]
        yield from reversed(done)


class InterruptingExecutor:
    """Yields ``stop_after`` results (shuffled unless ``seed`` is None), then the user
    presses Ctrl-C."""

    def __init__(self, stop_after: int, seed: int | None = 0) -> None:
        self.stop_after, self.seed = stop_after, seed

    def map_unordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        order = np.arange(len(tasks))
        if self.seed is not None:
            order = np.random.default_rng(self.seed).permutation(len(tasks))
        for count, key in enumerate(order):
            if count == self.stop_after:
                raise KeyboardInterrupt
            yield int(key), fn(tasks[int(key)])


def same(a: RunResult, b: RunResult) -> None:
    assert (a.variant, a.replication, a.ruin_day) == (b.variant, b.replication, b.ruin_day)
    for name in DAILY_SERIES:
        np.testing.assert_array_equal(a.daily[name], b.daily[name], err_msg=name)
    for name in a.defections:
        np.testing.assert_array_equal(a.defections[name], b.defections[name], err_msg=name)


# -------------------------------------------------------------------- executors
def test_serial_executor_yields_every_key_in_order() -> None:
    assert list(SerialExecutor().map_unordered(_square, [1, 2, 3])) == [(0, 1), (1, 4), (2, 9)]


def test_process_executor_yields_every_key_once() -> None:
    out = dict(ProcessExecutor(2).map_unordered(_square, list(range(10))))
    assert out == {k: k * k for k in range(10)}


def test_process_executor_names_the_failed_task() -> None:
    with pytest.raises(ExecutorError, match="task 3"):
        dict(ProcessExecutor(2).map_unordered(_fail_on_three, list(range(6))))


def test_make_executor_picks_by_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    assert isinstance(make_executor(1), SerialExecutor)
    pool = make_executor(2)
    assert isinstance(pool, ProcessExecutor) and pool.workers == 2


def test_tasks_pickle_and_run() -> None:
    task = Task("base", BASE, 1, 5)
    copy = pickle.loads(pickle.dumps(task))
    same(run_task(copy), simulate(BASE, 1, 5, "base"))


# ----------------------------------------------------------------------- runner
def test_results_are_filed_by_variant_and_replication() -> None:
    results = run_experiment(VARIANTS, 3, 11)
    assert results.variants == ["base", "flat"]
    assert results.replications == 3 and not results.interrupted
    for name, scenario in VARIANTS:
        for rep, r in enumerate(results.runs[name]):
            assert (r.variant, r.replication) == (name, rep)
            same(r, simulate(scenario, rep, 11, name))


def test_completion_order_does_not_matter() -> None:
    serial = run_experiment(VARIANTS, 3, 11)
    backwards = run_experiment(VARIANTS, 3, 11, executor=ReversedExecutor())
    shuffled = run_experiment(VARIANTS, 3, 11, executor=InterruptingExecutor(10**9, seed=3))
    for other in (backwards, shuffled):
        for name in serial.runs:
            for a, b in zip(serial.runs[name], other.runs[name], strict=True):
                same(a, b)


def test_on_replication_gets_each_complete_replication_in_variant_order() -> None:
    seen: list[list[tuple[str, int]]] = []
    run_experiment(
        VARIANTS,
        3,
        11,
        executor=ReversedExecutor(),
        on_replication=lambda runs: seen.append([(r.variant, r.replication) for r in runs]),
    )
    assert sorted(seen) == [[("base", rep), ("flat", rep)] for rep in range(3)]


def test_an_interrupted_run_keeps_only_whole_replications() -> None:
    # In submission order, 5 results are replications 0 and 1 and half of replication 2.
    results = run_experiment(VARIANTS, 4, 11, executor=InterruptingExecutor(5, seed=None))
    assert results.interrupted
    assert [r.replication for r in results.runs["base"]] == [0, 1]
    assert [r.replication for r in results.runs["flat"]] == [0, 1]

    results = run_experiment(VARIANTS, 4, 11, executor=InterruptingExecutor(5, seed=1))
    assert results.interrupted
    reps = [[r.replication for r in results.runs[name]] for name in ("base", "flat")]
    assert reps[0] == reps[1]  # still paired
    assert len(reps[0]) <= 2  # 5 results make at most 2 whole replications
    assert reps[0] == sorted(reps[0])
    for name, scenario in VARIANTS:
        for r in results.runs[name]:
            same(r, simulate(scenario, r.replication, 11, name))


def test_first_replication_offsets_the_streams() -> None:
    later = run_experiment(VARIANTS, 2, 11, first_replication=5)
    assert [r.replication for r in later.runs["base"]] == [5, 6]
    same(later.runs["flat"][1], simulate(FLAT, 6, 11, "flat"))


def test_timeseries_stack_replications() -> None:
    results = run_experiment(VARIANTS, 3, 11)
    ts = results.timeseries()
    assert set(ts) == {"base", "flat"}
    assert ts["base"]["cash"].shape == (3, 40)
    np.testing.assert_array_equal(
        ts["flat"]["purchases"][2], results.runs["flat"][2].daily["purchases"]
    )


def test_keep_customers_is_passed_to_the_model() -> None:
    results = run_experiment(VARIANTS[:1], 1, 11, keep_customers=True)
    assert results.runs["base"][0].customers is not None


def test_resolve_seed() -> None:
    assert resolve_seed(Scenario.model_validate({"scenario": {"name": "t", "seed": 123}})) == 123
    fresh = {resolve_seed(BASE) for _ in range(3)}
    assert all(0 <= s < 2**63 for s in fresh)
    assert len(fresh) == 3
