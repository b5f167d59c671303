"""Runs past the user's horizon, and replications added until a verdict is decided.

Past the horizon. To know whether an early warning was right, one has to see what came
after it: a warning that says "cash falls below the floor within L days" is right when the
ruin follows within L days. :func:`run_past_horizon` simulates each replication
``look_ahead`` days longer than the user asked (the plan continues as it is), then cuts it
back to the user's horizon (:func:`cut`): the user's metrics are those of the user's
horizon, and the ruin day of the longer run (``Outcome.ruin_day``) is kept to judge the
warnings by. The model's path does not depend on the horizon (every random stream is keyed
by replication and day), so the cut run is the run the user would have had; a test holds
this.

Sequential. :func:`run_sequential` runs the planned looks (for example 30, 60, 120, ...)
one after another, and at each look only the variants not yet decided get more
replications; ``decided`` is the caller's rule (the analysis layer's). Replication ``r`` of
every variant still uses the same random streams, so whatever was run stays paired.

Pure: returns data, writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from loyaltysim.experiment.executors import Executor, SerialExecutor
from loyaltysim.experiment.runner import Results, run_experiment
from loyaltysim.model.result import DAILY_SERIES, RunResult
from loyaltysim.scenario.schema import Scenario


@dataclass(frozen=True)
class Outcome:
    """What happened in a replication, seen past the horizon.

    ``ruin_day`` is the ruin day of the longer run (``None``: not ruined within
    ``horizon_days + look_ahead_days``).
    """

    replication: int
    ruin_day: int | None
    horizon_days: int
    look_ahead_days: int


def extended(scenario: Scenario, days: int) -> Scenario:
    """``scenario`` with ``days`` more days of horizon and nothing else changed.

    ``model_copy`` skips validation on purpose: the longer run is a means of judging, not
    a scenario of the user's, and the schema's bound on the horizon's population is the
    user's to meet for their own horizon.
    """
    meta = scenario.scenario.model_copy(
        update={"horizon_days": scenario.scenario.horizon_days + days}
    )
    return scenario.model_copy(update={"scenario": meta})


def cut(run: RunResult, horizon: int) -> RunResult:
    """``run`` as a run of ``horizon`` days: series, defections, warnings and ruin before
    the cut (a customer table, when kept, is left as it was at the longer run's end)."""
    if run.horizon_days == horizon:
        return run
    ruin = run.ruin_day if run.ruin_day is not None and run.ruin_day < horizon else None
    keep = np.asarray(run.defections["day"]) < horizon
    return RunResult(
        variant=run.variant,
        replication=run.replication,
        horizon_days=horizon,
        daily={name: run.daily[name][:horizon].copy() for name in DAILY_SERIES},
        defections={name: np.asarray(v)[keep] for name, v in run.defections.items()},
        ruin_day=ruin,
        warnings=[w for w in run.warnings if w.day < horizon],
        customers=run.customers,
        initial_customers=run.initial_customers,
    )


@dataclass
class PastHorizon:
    """Replications cut to the user's horizon, and their outcomes past it."""

    results: Results
    outcomes: dict[str, list[Outcome]] = field(default_factory=dict)  # by replication

    @property
    def interrupted(self) -> bool:
        return self.results.interrupted


def run_past_horizon(
    variants: Sequence[tuple[str, Scenario]],
    replications: int,
    root_seed: int,
    look_ahead: int,
    executor: Executor | None = None,
    first_replication: int = 0,
    on_replication: Callable[[list[RunResult]], None] | None = None,
) -> PastHorizon:
    """Run every variant ``look_ahead`` days past its horizon; cut back to the horizon.

    ``on_replication`` receives the cut results of each complete replication.
    """
    horizons = {name: sc.scenario.horizon_days for name, sc in variants}
    longer = [(name, extended(sc, look_ahead)) for name, sc in variants]

    def forward(group: list[RunResult]) -> None:
        if on_replication is not None:
            on_replication([cut(r, horizons[r.variant]) for r in group])

    raw = run_experiment(
        longer,
        replications,
        root_seed,
        executor or SerialExecutor(),
        forward if on_replication is not None else None,
        first_replication=first_replication,
    )
    runs = {name: [cut(r, horizons[name]) for r in rs] for name, rs in raw.runs.items()}
    outcomes = {
        name: [Outcome(r.replication, r.ruin_day, horizons[name], look_ahead) for r in rs]
        for name, rs in raw.runs.items()
    }
    results = Results(
        scenario=variants[0][1], seed=root_seed, runs=runs, interrupted=raw.interrupted
    )
    return PastHorizon(results, outcomes)


@dataclass
class Sequential:
    """What a sequential run ran: results and outcomes per variant, the looks planned, and
    the looks each variant took (the last of them is its replication count)."""

    past: PastHorizon
    looks: list[int]
    looks_taken: dict[str, int]  # variant -> number of looks it took

    @property
    def interrupted(self) -> bool:
        return self.past.interrupted


def run_sequential(
    variants: Sequence[tuple[str, Scenario]],
    looks: Sequence[int],
    root_seed: int,
    look_ahead: int,
    decided: Callable[[str, list[RunResult], list[Outcome], int], bool],
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Sequential:
    """Run the planned ``looks`` (increasing replication counts) past the horizon; after
    each look, ``decided(variant, runs, outcomes, looks_so_far)`` says which variants need
    no more. Stops when every variant is decided, at the last look, or on an interrupt."""
    if not looks or list(looks) != sorted(set(looks)):
        raise ValueError(f"looks must be increasing replication counts; got {list(looks)}")
    executor = executor or SerialExecutor()
    names = [name for name, _ in variants]
    scenarios = dict(variants)
    runs: dict[str, list[RunResult]] = {name: [] for name in names}
    outcomes: dict[str, list[Outcome]] = {name: [] for name in names}
    open_ = list(names)
    taken = {name: 0 for name in names}
    done, interrupted, start = 0, False, 0
    for look, target in enumerate(looks, start=1):
        batch = [(name, scenarios[name]) for name in open_]
        total = done + (target - start) * len(batch)

        def tick(group: list[RunResult], total: int = total) -> None:
            nonlocal done
            done += len(group)
            if progress is not None:
                progress(done, total)

        part = run_past_horizon(batch, target - start, root_seed, look_ahead, executor, start, tick)
        for name, _ in batch:
            runs[name] += part.results.runs[name]
            outcomes[name] += part.outcomes[name]
            taken[name] = look
        if part.interrupted:
            interrupted = True
            break
        open_ = [name for name in open_ if not decided(name, runs[name], outcomes[name], look)]
        start = target
        if not open_:
            break
    results = Results(scenario=variants[0][1], seed=root_seed, runs=runs, interrupted=interrupted)
    return Sequential(PastHorizon(results, outcomes), list(looks), taken)
