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
from loyaltysim.output.folder import RunFolder, run_dir_for
from loyaltysim.scenario import Scenario, variant_scenarios

Progress = Callable[[int, int], None]  # (replications done, replications in all)


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
    charts: bool = True,
) -> Job:
    """Run the base scenario and every variant; write the results folder as it goes.

    Each replication (all variants) is written as soon as it is complete, so an
    interruption keeps every finished replication; the manifest then says
    ``interrupted``. An exception marks the folder ``failed`` and is re-raised.
    """
    seed = resolve_seed(scenario)
    variants = variant_scenarios(scenario)
    reps = scenario.scenario.replications
    folder: RunFolder | None = None
    if write_files:
        folder = RunFolder(run_dir_for(scenario, output, root=results_root))
        folder.start(
            scenario,
            json.loads(scenario.model_dump_json()),
            scenario_path,
            list(overrides),
            command_line,
            seed,
        )
    done = 0

    def on_replication(group: list[RunResult]) -> None:
        nonlocal done
        if folder is not None:
            folder.add_results(group)
        done += 1
        if progress is not None:
            progress(done, reps)

    executor = make_executor(workers, scheduler)
    try:
        results = run_experiment(variants, reps, seed, executor, on_replication)
    except BaseException as exc:
        if folder is not None:
            folder.finish(None, "failed", error=repr(exc))
        raise
    finally:
        _close(executor)
    status = "interrupted" if results.interrupted else "complete"
    summary = results.summary() if results.replications else {}
    if folder is not None:
        if charts and results.replications:
            from loyaltysim.output.charts import write_run_charts  # matplotlib only when drawing

            write_run_charts(folder.path, scenario, results.runs)
        folder.finish(summary or None, status)
    return Job(results, folder.path if folder else None, status, summary)
