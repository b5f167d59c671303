"""Replications of a scenario and its variants, on any executor.

Replication r of every variant uses the same random streams (common random numbers), so
the differences between variants are paired. Tasks are ordered replication by
replication, and a replication is handed on only when all its variants are in, so an
interrupted run keeps whole, paired replications.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from loyaltysim.experiment.executors import Executor, SerialExecutor
from loyaltysim.model.population import PopulationLimitError
from loyaltysim.model.result import DAILY_SERIES, RunResult
from loyaltysim.model.simulation import simulate
from loyaltysim.rng import fresh_root_seed
from loyaltysim.scenario.schema import Scenario

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Task:
    """One replication of one variant: everything a worker needs, and picklable."""

    variant: str
    scenario: Scenario
    replication: int
    root_seed: int
    keep_customers: bool = False


def run_task(task: Task) -> RunResult:
    try:
        return simulate(
            task.scenario, task.replication, task.root_seed, task.variant, task.keep_customers
        )
    except PopulationLimitError as exc:  # say which replication stopped
        raise PopulationLimitError(
            f"replication {task.replication} of {task.variant!r} stopped: {exc}"
        ) from None


@dataclass
class Results:
    """Every replication of every variant, filed by variant and replication."""

    scenario: Scenario
    seed: int
    runs: dict[str, list[RunResult]]  # variant -> results sorted by replication
    interrupted: bool = False
    # Why the customers table was left out (None when it was kept or not asked for).
    customers_note: str | None = None

    @property
    def variants(self) -> list[str]:
        return list(self.runs)

    @property
    def replications(self) -> int:
        return min((len(r) for r in self.runs.values()), default=0)

    def summary(self) -> dict:
        """The contract's ``summary.json`` content, as plain Python data."""
        from loyaltysim.analysis.summary import summarize

        return summarize(self.scenario, self.runs, self.seed)

    def timeseries(self) -> dict[str, dict[str, np.ndarray]]:
        """variant -> series -> float64 array of shape (replications, horizon_days)."""
        return {
            name: {s: np.stack([r.daily[s] for r in runs]) for s in DAILY_SERIES}
            for name, runs in self.runs.items()
            if runs
        }

    def to_frame(self, name: str) -> pd.DataFrame:
        """Table ``name`` (timeseries, defections, replications, warnings, customers) as a
        pandas DataFrame: the columns and rows of the results folder's file of that name.

        ``customers`` holds one row per simulated customer with the RFM columns of the CLV
        libraries (``frequency``, ``recency``, ``T``, ``monetary_value``; days). Rows of
        customers who never bought in the run have ``T`` NaN: drop them before a fit.
        """
        import pandas as pd

        from loyaltysim.analysis.tables import COLUMNS, table_columns

        if name not in COLUMNS:
            raise KeyError(f"unknown table {name!r}; the tables are: {', '.join(COLUMNS)}")
        runs = [r for rs in self.runs.values() for r in rs]
        if name == "customers" and any(r.customers is None for r in runs):
            raise ValueError(
                self.customers_note
                or "this run kept no customers table; run(..., customers=True) keeps it"
            )
        return pd.DataFrame(table_columns(name, self.runs, self.scenario))


def run_experiment(
    variants: Sequence[tuple[str, Scenario]],
    replications: int,
    root_seed: int,
    executor: Executor | None = None,
    on_replication: Callable[[list[RunResult]], None] | None = None,
    keep_customers: bool = False,
    first_replication: int = 0,
    only: Sequence[int] | None = None,
) -> Results:
    """Run ``replications`` of every variant; call ``on_replication`` with the results of
    each replication (all variants) as soon as it is complete.

    On KeyboardInterrupt the finished, complete replications are returned with
    ``interrupted=True``; replications with a missing variant are dropped so that what is
    kept stays paired. ``only`` runs just these replication indices (a resumed run's
    missing ones) instead of ``first_replication`` onwards.
    """
    executor = executor or SerialExecutor()
    names = [name for name, _ in variants]
    tasks = [
        Task(name, scenario, rep, root_seed, keep_customers)
        for rep in (
            only if only is not None else range(first_replication, first_replication + replications)
        )
        for name, scenario in variants
    ]
    waiting: dict[int, dict[str, RunResult]] = {}
    complete: dict[int, dict[str, RunResult]] = {}
    interrupted = False
    try:
        for key, result in executor.map_unordered(run_task, tasks):
            rep = tasks[key].replication
            group = waiting.setdefault(rep, {})
            group[result.variant] = result
            if len(group) == len(names):
                ready = waiting.pop(rep)
                if on_replication is not None:
                    on_replication([ready[name] for name in names])
                # Only now: an interrupt inside on_replication (writing it) must not leave
                # a replication in the results that is not in the folder.
                complete[rep] = ready
    except KeyboardInterrupt:
        interrupted = True
    runs = {name: [complete[rep][name] for rep in sorted(complete)] for name in names}
    return Results(
        scenario=variants[0][1],
        seed=root_seed,
        runs=runs,
        interrupted=interrupted,
    )


def resolve_seed(scenario: Scenario) -> int:
    """The scenario's seed, or a fresh one from entropy (to be recorded)."""
    seed = scenario.scenario.seed
    return fresh_root_seed() if seed is None else seed
