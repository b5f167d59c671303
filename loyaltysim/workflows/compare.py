"""The ``compare`` job: entries run with common random numbers into one results folder.

The folder is a ``run`` results folder (so ``loyaltysim report`` reads it), plus
``comparison.json`` / ``comparison.csv`` and forest-plot charts of the differences. The
numbers come from :mod:`loyaltysim.experiment.compare`, which writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loyaltysim.analysis.metrics import metric_arrays
from loyaltysim.analysis.sample_size import compare_warnings
from loyaltysim.analysis.summary import break_even_block, dumps, json_safe, realised_lifts
from loyaltysim.experiment.compare import (
    CHART_METRICS,
    TITLES,
    CompareError,
    Entry,
    align,
    comparison_csv,
    comparison_data,
    differences,
    metric_table,
)
from loyaltysim.experiment.executors import DaskExecutor, Executor, make_executor
from loyaltysim.experiment.runner import resolve_seed, run_experiment
from loyaltysim.model.result import RunResult
from loyaltysim.output.folder import RunFolder, atomic_write_text, read_manifest
from loyaltysim.output.lock import claim_run_dir
from loyaltysim.scenario.schema import Variant


class _CompareFolder(RunFolder):
    """A run folder whose arms are the comparison's entries, in the comparison's order.

    :class:`RunFolder` takes its canonical order from a scenario's ``base`` + variants; a
    comparison of several files has other names, so the order is set here instead.
    """

    def __init__(self, path: Path, names: Sequence[str]) -> None:
        super().__init__(path)
        self._names = list(names)

    def start(self, *args: Any, **kwargs: Any) -> None:
        super().start(*args, **kwargs)
        self._variant_order = list(self._names)
        manifest = read_manifest(self.path)
        manifest["variants"] = list(self._names)
        manifest["replications_finished"] = dict.fromkeys(self._names, 0)
        atomic_write_text(self.path / "manifest.json", dumps(manifest) + "\n")


@dataclass
class CompareOutcome:
    """What a comparison leaves."""

    run_dir: Path | None
    status: str  # complete | interrupted | failed
    seed: int
    entries: list[Entry]
    comparison: dict[str, Any]
    summary: dict[str, Any]
    runs: dict[str, list[RunResult]]
    error: str | None = None
    charts: list[Path] = field(default_factory=list)


Progress = Callable[[int, int], None]


def run_compare(
    entries: Sequence[Entry],
    *,
    seed: int | None = None,
    notes: Sequence[str] = (),
    output: Path | None = None,
    results_root: Path = Path("results"),
    workers: int | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    command_line: Sequence[str] | str | None = None,
    scenario_path: Path | str | None = None,
    overrides: Sequence[str] = (),
    write_files: bool = True,
    charts: bool = True,
) -> CompareOutcome:
    """Run every entry with common random numbers; write the folder as replications finish.

    ``seed`` defaults to the reference scenario's (else a fresh one, recorded). Entries are
    aligned to the reference's replications and horizon (:func:`align`). Ctrl-C and worker
    failures keep every complete replication: the summary and comparison cover them, and
    the manifest says ``interrupted`` or ``failed``.
    """
    entries = list(entries)
    if len(entries) < 2:
        raise CompareError("nothing to compare: need at least two entries")
    root_seed = seed if seed is not None else resolve_seed(entries[0].scenario)
    entries, align_notes = align(entries, root_seed)
    notes = [*notes, *align_notes]
    reference = entries[0].scenario
    names = [e.name for e in entries]
    reps = reference.scenario.replications
    folder: _CompareFolder | None = None
    if write_files:
        folder_scenario = reference.model_copy(
            update={"variants": tuple(Variant(name=n) for n in names[1:])}
        )
        held = claim_run_dir(reference, output, root=results_root)  # locked: one run
        folder = _CompareFolder(held.path, names)
        folder.start(
            folder_scenario,
            json.loads(reference.model_dump_json()),
            scenario_path,
            list(overrides),
            command_line,
            root_seed,
        )
    complete: dict[int, list[RunResult]] = {}

    def on_replication(group: list[RunResult]) -> None:
        complete[group[0].replication] = group
        if folder is not None:
            folder.add_results(group)
        if progress is not None:
            progress(len(complete), reps)

    own = executor is None
    executor = executor or make_executor(workers, scheduler)
    status, error = "complete", None
    try:
        results = run_experiment(
            [(e.name, e.scenario) for e in entries], reps, root_seed, executor, on_replication
        )
        if results.interrupted:
            status = "interrupted"
    except KeyboardInterrupt:
        status = "interrupted"
    except Exception as exc:  # a worker crash: keep the complete replications
        status, error = "failed", f"{type(exc).__name__}: {exc}"
    finally:
        if own and isinstance(executor, DaskExecutor):
            executor.close()
    runs = {n: [complete[r][i] for r in sorted(complete)] for i, n in enumerate(names)}
    scenarios = {e.name: e.scenario for e in entries}
    summary: dict[str, Any] = {}
    comparison: dict[str, Any] = {}
    if complete:
        summary = _summary(entries, runs, root_seed)
        table = metric_table(runs, scenarios)
        diffs = differences(table, names[0])
        comparison = comparison_data(entries, table, diffs, root_seed, notes)
        comparison["sample_warnings"] = compare_warnings(comparison)
        summary["comparison"] = comparison
    outcome = CompareOutcome(
        folder.path if folder else None,
        status,
        root_seed,
        entries,
        comparison,
        summary,
        runs,
        error,
    )
    if folder is not None:
        if comparison:
            atomic_write_text(folder.path / "comparison.json", dumps(comparison) + "\n")
            atomic_write_text(folder.path / "comparison.csv", comparison_csv(comparison))
            if charts:
                from loyaltysim.output.charts import write_run_charts
                from loyaltysim.output.experiment_charts import write_compare_charts

                outcome.charts = write_run_charts(folder.path, reference, runs)
                chart_diffs = {m: diffs[m] for m in CHART_METRICS}
                outcome.charts += write_compare_charts(
                    folder.path, chart_diffs, names[0], TITLES, reference.scenario.currency
                )
        folder.finish(summary or None, status, error=error)
        held.release()
    return outcome


def _summary(
    entries: Sequence[Entry], runs: Mapping[str, Sequence[RunResult]], seed: int
) -> dict[str, Any]:
    """``summary.json`` of the comparison: the run summary (reference as the base, so every
    other entry has its paired ``vs_base`` block), with each entry's own break-even figures
    (entries from other files have their own prices and costs) and its file."""
    from loyaltysim.analysis.summary import summarize

    reference = entries[0]
    summary = summarize(reference.scenario, runs, seed)
    by_name = {e.name: e for e in entries}
    for block in summary["variants"]:
        e = by_name[block["name"]]
        block["file"] = e.file
        block["source_variant"] = e.variant
        if e.file != reference.file:
            metrics = metric_arrays(runs[e.name], e.scenario)
            lifts = realised_lifts(runs[e.name], runs[reference.name])
            block["break_even"] = json_safe(break_even_block(e.scenario, metrics, lifts))
    summary["reference"] = reference.name
    return summary
