"""``run --resume RUN_DIR``: finish a run that was interrupted (or killed, or failed).

A results folder keeps every replication that was complete when the run stopped (the
journal ``.blocks.jsonl`` says which; the manifest says ``interrupted`` and lists them).
Resuming rebuilds the same scenario, runs only the missing replications with the run's
recorded root seed, appends them, and seals the folder as if the run had never stopped:
replication ``r`` depends only on the scenario, the root seed and ``r``, so the finished
folder's tables and ``summary.json`` equal those of an uninterrupted run.

The scenario is rebuilt from the file and overrides the manifest records, and accepted
only if it resolves to the very scenario the run started with (the manifest's
``resolved_sha256``); a scenario without variants can also come from the folder's own
``scenario.resolved.json``. A sweep or sensitivity folder resumes with its own command.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loyaltysim.analysis.summary import dumps
from loyaltysim.experiment import Results, make_executor, run_experiment
from loyaltysim.model.result import RunResult
from loyaltysim.output.chart_formats import chart_suffixes
from loyaltysim.output.folder import (
    MANIFEST,
    RESOLVED,
    RunFolder,
    atomic_write_text,
    read_manifest,
    utc_iso,
)
from loyaltysim.output.lock import lock_folder
from loyaltysim.output.tables import CUSTOMERS, TIMESERIES, parquet_name
from loyaltysim.scenario import Scenario, ScenarioError, load_scenario, variant_scenarios
from loyaltysim.workflows.run import Job, Progress, _close, _finish_anyway


class ResumeError(ValueError):
    """The folder cannot be resumed (complete, not a run, its scenario changed); the
    message says why and what to do instead."""


def _resolved_sha(scenario: Scenario) -> str:
    text = dumps(json.loads(scenario.model_dump_json())) + "\n"
    return hashlib.sha256(text.encode()).hexdigest()


def resume_scenario(run_dir: Path, manifest: dict[str, Any]) -> Scenario:
    """The scenario the run in ``run_dir`` started with (see the module docstring)."""
    want = manifest.get("resolved_sha256")
    path = manifest.get("scenario_file")
    overrides = manifest.get("overrides") or []
    why = ""
    if path:
        try:
            scenario = load_scenario(path, overrides)
        except ScenarioError as exc:
            why = f"{path} no longer loads ({len(exc.problems)} problem(s))"
        else:
            if want is None or _resolved_sha(scenario) == want:
                return scenario
            why = f"{path} has changed since the run started"
    stored = Scenario.model_validate_json((run_dir / RESOLVED).read_bytes())
    if not stored.variants and (want is None or _resolved_sha(stored) == want):
        return stored
    raise ResumeError(
        f"cannot rebuild the scenario of {run_dir}: "
        + (why or "the run recorded no scenario file")
        + "; its variants need the original file. Restore the file, or start a new run"
    )


def resume_job(
    run_dir: Path | str,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    charts: bool | Sequence[str] = True,
    command_line: Sequence[str] | str | None = None,
) -> Job:
    """Run the replications missing from ``run_dir`` and seal it (module docstring).

    Raises :class:`ResumeError` when the folder cannot be resumed, and
    :class:`~loyaltysim.output.lock.FolderInUse` when a run is still writing it.
    """
    run_dir = Path(run_dir)
    try:
        manifest = read_manifest(run_dir)
    except (OSError, ValueError):
        raise ResumeError(f"{run_dir} is not a results folder (no readable {MANIFEST})") from None
    kind = manifest.get("kind")
    if kind in ("sweep", "sensitivity"):
        raise ResumeError(f"{run_dir} holds a {kind}: resume it with {kind} --resume --output DIR")
    if manifest.get("status") == "complete":
        raise ResumeError(f"{run_dir} is complete: there is nothing to resume")
    if (run_dir / parquet_name(TIMESERIES)).exists() and not (run_dir / TIMESERIES).exists():
        raise ResumeError(
            f"{run_dir} stored its tables as Parquet when it stopped; only a CSV folder "
            "can be resumed: start a new run"
        )
    held = lock_folder(run_dir)
    try:
        scenario = resume_scenario(run_dir, manifest)
        variants = variant_scenarios(scenario)
        names = [name for name, _ in variants]
        if list(manifest.get("variants") or names) != names:
            raise ResumeError(
                f"{run_dir} is not a run of one scenario (a comparison?): it cannot be resumed"
            )
        return _resume(
            run_dir, manifest, scenario, variants, workers, scheduler, progress, charts,
            command_line,
        )  # fmt: skip
    finally:
        held.release()


def _resume(
    run_dir: Path,
    manifest: dict[str, Any],
    scenario: Scenario,
    variants: list[tuple[str, Scenario]],
    workers: int | None,
    scheduler: str | None,
    progress: Progress | None,
    charts: bool | Sequence[str],
    command_line: Sequence[str] | str | None,
) -> Job:
    from loyaltysim.output.report_data import load_runs

    seed = int(manifest["seed"])
    reps = int(manifest.get("replications_requested") or scenario.scenario.replications)
    names = [name for name, _ in variants]
    folder = RunFolder.open(run_dir, scenario)
    have: dict[int, set[str]] = {}
    for variant, rep in folder.completed:
        have.setdefault(rep, set()).add(variant)
    whole = sorted(r for r, vs in have.items() if set(names) <= vs and r < reps)
    missing = [r for r in range(reps) if r not in whole]
    kept_customers = (run_dir / CUSTOMERS).stat().st_size > _header_bytes(run_dir / CUSTOMERS)
    keep = kept_customers or not whole
    manifest.update(
        status="running",
        resumed_at=[*manifest.get("resumed_at", []), utc_iso(datetime.now(UTC))],
        resumed_command_line=list(command_line) if command_line is not None else None,
    )
    atomic_write_text(run_dir / MANIFEST, dumps(manifest) + "\n")
    new: dict[int, list[RunResult]] = {}
    done = len(whole)
    if progress is not None:
        progress(done, reps)

    def on_replication(group: list[RunResult]) -> None:
        nonlocal done
        rep = group[0].replication
        if not keep:
            for r in group:
                r.customers = None
        folder.add_results([r for r in group if r.variant not in have.get(rep, set())])
        new[rep] = group
        done += 1
        if progress is not None:
            progress(done, reps)

    summary: dict = {}
    try:
        executor = make_executor(workers, scheduler)
        try:
            fresh = run_experiment(
                variants, len(missing), seed, executor, on_replication,
                keep_customers=keep, only=missing,
            )  # fmt: skip
        finally:
            _close(executor)
        old = load_runs(run_dir, names, json.loads((run_dir / RESOLVED).read_text("utf-8")))
        runs = {
            name: sorted(
                [r for r in old.get(name, []) if r.replication in whole]
                + [g[i] for g in new.values()],
                key=lambda r: r.replication,
            )
            for i, name in enumerate(names)
        }
        results = Results(scenario=scenario, seed=seed, runs=runs, interrupted=fresh.interrupted)
        status = "interrupted" if fresh.interrupted else "complete"
        summary = results.summary() if results.replications else {}
        formats = chart_suffixes(charts)
        if formats and results.replications:
            from loyaltysim.output.charts import write_run_charts

            write_run_charts(run_dir, scenario, results.runs, formats=formats)
        folder.finish(summary or None, status)
    except KeyboardInterrupt:
        _finish_anyway(folder, summary, "interrupted", None)
        raise
    except BaseException as exc:
        from loyaltysim.output.ending import describe_failure

        _finish_anyway(folder, summary, "failed", describe_failure(exc))
        raise
    return Job(results, run_dir, status, summary)


def _header_bytes(path: Path) -> int:
    """Bytes of a table's header line: a longer file holds rows."""
    with open(path, "rb") as f:
        return len(f.readline())
