"""The ``run`` job: a scenario run end to end into a results folder.

Like every module of :mod:`loyaltysim.workflows`, this is where the layers meet: scenario
-> experiment (on an executor) -> analysis -> files and charts. The command line and the
Python API both call :func:`run_job`; neither knows how the pieces fit together.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from loyaltysim.experiment import Results, make_executor, resolve_seed, run_experiment
from loyaltysim.experiment.executors import DaskExecutor, Executor
from loyaltysim.model.result import RunResult
from loyaltysim.output.chart_formats import chart_suffixes
from loyaltysim.output.ending import describe_failure, mark_ended
from loyaltysim.output.folder import DEFAULT_FORMAT, RunFolder
from loyaltysim.output.lock import claim_run_dir
from loyaltysim.scenario import Scenario, variant_scenarios

Progress = Callable[[int, int], None]  # (replications done, replications in all)

# The customers table is kept by default while the run's customer rows (all replications
# and variants, estimated from the first replication) stay within this bound, about 100 MB
# in memory; ``customers=True`` keeps it whatever its size, ``customers=False`` never.
CUSTOMER_ROWS_LIMIT = 1_000_000


@dataclass
class Job:
    """What a finished (or interrupted) job leaves: its results, folder and status."""

    results: Results
    run_dir: Path | None
    status: str  # complete | interrupted | failed
    summary: dict


def _close(executor: Executor) -> None:
    if isinstance(executor, DaskExecutor):
        executor.close()


def run_job(
    scenario: Scenario,
    *,
    scenario_path: Path | str | None = None,
    overrides: Sequence[str] = (),
    command_line: Sequence[str] | str | None = None,
    output: Path | None = None,
    results_root: Path = Path("results"),
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    write_files: bool = True,
    charts: bool | Sequence[str] = True,
    customers: bool | None = None,
    table_format: str = DEFAULT_FORMAT,
) -> Job:
    """Run the base scenario and every variant; write the results folder as it goes.

    ``charts`` is True for the default chart files (PNG), False for none, or the suffixes
    to write (``(".png", ".svg")``: see :data:`~loyaltysim.output.chart_formats.CHART_FORMATS`).

    ``table_format`` is "csv" (the default) or "parquet" (needs pyarrow): how the tables
    are stored once the run ends.

    Each replication (all variants) is written as soon as it is complete, so an
    interruption keeps every finished replication; the manifest then says
    ``interrupted``. An exception marks the folder ``failed`` (with the error, in words
    for a full disk) and is re-raised. The folder is locked while the run writes it: a
    second run into the same ``output`` raises
    :class:`~loyaltysim.output.lock.FolderInUse`; without ``output`` the run gets a
    fresh folder of its own.
    """
    seed = resolve_seed(scenario)
    variants = variant_scenarios(scenario)
    reps = scenario.scenario.replications
    folder: RunFolder | None = None
    held = claim_run_dir(scenario, output, root=results_root) if write_files else None
    try:
        if held is not None:
            folder = RunFolder(held.path, table_format)
            folder.start(
                scenario,
                json.loads(scenario.model_dump_json()),
                scenario_path,
                list(overrides),
                command_line,
                seed,
            )
        return _run(
            scenario, variants, reps, seed, folder, workers, scheduler, progress, charts, customers
        )
    finally:
        if held is not None:
            held.release()


def _run(
    scenario: Scenario,
    variants: list[tuple[str, Scenario]],
    reps: int,
    seed: int,
    folder: RunFolder | None,
    workers: int | None,
    scheduler: str | None,
    progress: Progress | None,
    charts: bool | Sequence[str],
    customers: bool | None = None,
) -> Job:
    """Simulate into ``folder``; every way out marks it complete, interrupted or failed."""
    done = 0
    keep = customers is not False
    note: str | None = None

    def on_replication(group: list[RunResult]) -> None:
        nonlocal done, keep, note
        if keep and customers is None and done == 0:
            rows = sum(len(r.customers["segment"]) for r in group if r.customers is not None)
            if rows * reps > CUSTOMER_ROWS_LIMIT:
                keep = False
                note = (
                    f"customers table left out: about {rows * reps:,} customer rows, past the "
                    f"default bound of {CUSTOMER_ROWS_LIMIT:,}; ask for it with "
                    "customers=True (or --customers), or run fewer replications (--reps 1)"
                )
        if not keep:
            for r in group:
                r.customers = None
        if folder is not None:
            folder.add_results(group)
        done += 1
        if progress is not None:
            progress(done, reps)

    summary: dict = {}
    try:
        executor = make_executor(workers, scheduler)
        try:
            results = run_experiment(
                variants, reps, seed, executor, on_replication, keep_customers=keep
            )
            results.customers_note = note
        finally:
            _close(executor)
        status = "interrupted" if results.interrupted else "complete"
        summary = results.summary() if results.replications else {}
        if folder is not None:
            formats = chart_suffixes(charts)
            if formats and results.replications:
                from loyaltysim.output.charts import (
                    write_run_charts,  # matplotlib only when drawing
                )

                write_run_charts(folder.path, scenario, results.runs, formats=formats)
            folder.finish(summary or None, status)
    except KeyboardInterrupt:
        # After the experiment (which keeps finished replications on its own): while
        # summarising or drawing. What is on disk stays; the summary too, if it was made.
        if folder is not None:
            _finish_anyway(folder, summary, "interrupted", None)
        raise
    except BaseException as exc:
        if folder is not None:
            _finish_anyway(folder, summary, "failed", describe_failure(exc))
        raise
    return Job(results, folder.path if folder else None, status, summary)


def _finish_anyway(folder: RunFolder, summary: dict, status: str, error: str | None) -> None:
    """Seal the folder as ``status``; if even that fails (a full disk), at least say so
    in the manifest, and keep every file that was written."""
    try:
        folder.finish(summary or None, status, error=error)
    except BaseException:
        if not mark_ended(folder.path, status, error):
            raise
