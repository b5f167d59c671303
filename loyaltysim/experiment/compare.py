"""Paired comparisons: variants of one scenario, or several scenario files, with common
random numbers.

Every entry (a file's base, or one of its variants) runs replications ``0 .. R-1`` with one
root seed, so replication ``r`` of every entry sees the same customers and the same luck.
The difference of a metric between an entry and the reference (the first entry) is then
estimated replication by replication, and its interval is far narrower than if the entries
had been run independently. Both intervals are reported, with their width ratio: what the
pairing bought (Law 2015, §11.2).

The folder written is a ``run`` results folder (so ``loyaltysim report`` reads it), plus
``comparison.json`` / ``comparison.csv`` and forest-plot charts of the differences.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from loyaltysim.analysis.metrics import METRICS, metric_arrays
from loyaltysim.analysis.stats import (
    PairedDifference,
    interval_or_none,
    mean_ci,
    paired_difference,
)
from loyaltysim.analysis.summary import break_even_block, dumps, json_safe, realised_lifts
from loyaltysim.experiment.executors import DaskExecutor, Executor, make_executor
from loyaltysim.experiment.runner import resolve_seed, run_experiment
from loyaltysim.model.result import RunResult
from loyaltysim.output.lock import claim_run_dir
from loyaltysim.results_io import RunFolder, atomic_write_text, read_manifest
from loyaltysim.scenario import Scenario, variant_scenarios
from loyaltysim.scenario.schema import Variant

# Metrics compared, in this order; "ruin" is the paired difference of 0/1 ruin indicators
# (so its mean is the difference in ruin probability).
COMPARE_METRICS: tuple[str, ...] = (
    "profit",
    "churned",
    "churn_rate_annual",
    "customers_end",
    "revenue",
    "cash_end",
    "cash_min",
)
RUIN = "ruin"
LEVEL = 0.95
TITLES: dict[str, tuple[str, str]] = {
    "profit": ("Profit", "currency units"),
    "churned": ("Customers lost", "customers"),
    "churn_rate_annual": ("Annual churn rate", "share of customers per year"),
    "customers_end": ("Customers at the end", "customers"),
    "revenue": ("Revenue", "currency units"),
    "cash_end": ("Cash at the end", "currency units"),
    "cash_min": ("Lowest cash", "currency units"),
    RUIN: ("Ruin risk", "probability"),
}
CHART_METRICS: tuple[str, ...] = ("profit", "churned", "cash_end", RUIN)


class CompareError(ValueError):
    """A comparison that cannot start as asked (usage, not failure)."""


@dataclass(frozen=True)
class Entry:
    """One arm of a comparison."""

    name: str
    scenario: Scenario
    file: str | None  # the scenario file it came from
    variant: str  # "base" or the variant's name in that file


def build_entries(
    files: Sequence[tuple[str | None, Scenario]],
    include_variants: bool = True,
    reference: str | None = None,
) -> list[Entry]:
    """The arms of a comparison, the reference first.

    One file: ``base`` and each variant, under their own names (as ``run`` names them).
    Several files: each file's base under its scenario's name (the file's stem when two
    share a name) and, unless ``include_variants`` is false, each variant as
    ``"<name>: <variant>"``. The reference is the first file's base unless ``reference``
    names another entry.
    """
    if not files:
        raise CompareError("give at least one scenario file")
    single = len(files) == 1
    names = [s.scenario.name for _, s in files]
    counts = Counter(names)
    entries: list[Entry] = []
    for i, (path, scenario) in enumerate(files):
        label = names[i]
        if counts[label] > 1:
            label = Path(path).stem if path else f"{label} #{i + 1}"
        arms = variant_scenarios(scenario) if include_variants else [("base", scenario)]
        for variant, sc in arms:
            name = variant if single else label if variant == "base" else f"{label}: {variant}"
            entries.append(Entry(name, sc, path, variant))
    seen: Counter[str] = Counter()
    unique = []
    for e in entries:  # two files with the same stem: number the repeats
        seen[e.name] += 1
        name = e.name if seen[e.name] == 1 else f"{e.name} ({seen[e.name]})"
        unique.append(Entry(name, e.scenario, e.file, e.variant))
    entries = unique
    if reference is not None:
        found = [e for e in entries if e.name == reference]
        if not found:
            raise CompareError(
                f"no entry named {reference!r}; entries: "
                + ", ".join(repr(e.name) for e in entries)
            )
        entries = found + [e for e in entries if e.name != reference]
    if len(entries) < 2:
        raise CompareError(
            "nothing to compare: give a scenario with [[variants]], or several scenario files"
        )
    return entries


def align(entries: Sequence[Entry], seed: int) -> tuple[list[Entry], list[str]]:
    """Give every entry the reference's replications and horizon, and the root ``seed``.

    Paired differences need the same replications of the same length; an entry whose
    file said otherwise is aligned, and a note says so.
    """
    ref = entries[0].scenario.scenario
    notes = []
    out = []
    for e in entries:
        meta = e.scenario.scenario
        for key, label in (("horizon_days", "days"), ("replications", "replications")):
            if getattr(meta, key) != getattr(ref, key) and e.variant == "base":
                notes.append(
                    f"{e.name}: {getattr(meta, key)} {label} -> {getattr(ref, key)} "
                    "(aligned with the reference for pairing)"
                )
        new_meta = meta.model_copy(
            update={
                "horizon_days": ref.horizon_days,
                "replications": ref.replications,
                "seed": seed,
            }
        )
        out.append(
            Entry(e.name, e.scenario.model_copy(update={"scenario": new_meta}), e.file, e.variant)
        )
    return out, notes


# ----------------------------------------------------------------------------- statistics


def metric_table(
    runs: Mapping[str, Sequence[RunResult]], scenarios: Mapping[str, Scenario]
) -> dict[str, dict[str, np.ndarray]]:
    """``{entry: {metric: values by replication}}`` with ``ruin`` as 0/1 indicators."""
    out = {}
    for name, rs in runs.items():
        ordered = sorted(rs, key=lambda r: r.replication)
        table = metric_arrays(ordered, scenarios[name])
        table[RUIN] = np.array([float(r.ruined) for r in ordered], dtype=np.float64)
        out[name] = table
    return out


def differences(
    table: Mapping[str, Mapping[str, np.ndarray]],
    reference: str,
    metrics: Sequence[str] = (*COMPARE_METRICS, RUIN),
) -> dict[str, dict[str, PairedDifference]]:
    """``{metric: {entry: entry - reference}}``, paired by replication, every entry but the
    reference. Arrays must be aligned by replication (as :func:`metric_table` makes them)."""
    ref = table[reference]
    return {
        m: {
            name: paired_difference(values[m], ref[m], LEVEL)
            for name, values in table.items()
            if name != reference
        }
        for m in metrics
    }


def replication_factor(width_ratio: float) -> float:
    """How many times the replications an unpaired comparison would need for the paired
    interval's width: the width ratio squared (widths shrink as 1/sqrt(n))."""
    return width_ratio * width_ratio if math.isfinite(width_ratio) else math.nan


def unit_of(metric: str) -> str:
    return "probability" if metric == RUIN else METRICS[metric].unit


def comparison_data(
    entries: Sequence[Entry],
    table: Mapping[str, Mapping[str, np.ndarray]],
    diffs: Mapping[str, Mapping[str, PairedDifference]],
    seed: int,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """The comparison as JSON-ready data (``comparison.json``; ``--json`` prints it)."""
    reference = entries[0].name
    ref = entries[0].scenario.scenario
    blocks = []
    for e in entries[1:]:
        per_metric = {}
        for m, by_entry in diffs.items():
            d = by_entry[e.name]
            per_metric[m] = {
                "unit": unit_of(m),
                "entry_mean": mean_ci(table[e.name][m], LEVEL)[0],
                "reference_mean": mean_ci(table[reference][m], LEVEL)[0],
                "mean": d.mean,
                "ci95": interval_or_none(d.ci),  # null: undefined (one replication)
                "unpaired_ci95": interval_or_none(d.unpaired_ci),
                "width_ratio": d.variance_reduction,
                "replication_factor": replication_factor(d.variance_reduction),
            }
        blocks.append({"entry": e.name, "metrics": per_metric})
    reps = min((len(v[RUIN]) for v in table.values()), default=0)
    data = {
        "schema_version": 1,
        "reference": reference,
        "replications": reps,
        "horizon_days": ref.horizon_days,
        "seed": seed,
        "confidence_level": LEVEL,
        "entries": [
            {
                "name": e.name,
                "file": e.file,
                "variant": e.variant,
                "scenario": e.scenario.scenario.name,
            }
            for e in entries
        ],
        "metrics": list(diffs),
        "differences": blocks,
        "notes": list(notes),
    }
    safe: dict[str, Any] = json_safe(data)
    return safe


COMPARISON_COLUMNS: tuple[str, ...] = (
    "entry",
    "reference",
    "metric",
    "unit",
    "entry_mean",
    "reference_mean",
    "difference",
    "ci95_lo",
    "ci95_hi",
    "unpaired_ci95_lo",
    "unpaired_ci95_hi",
    "width_ratio",
    "replication_factor",
    "replications",
)


def comparison_csv(data: Mapping[str, Any]) -> str:
    """``comparison.csv``: one row per entry x metric."""

    def num(v: Any) -> str:
        return "" if v is None else repr(float(v))

    def ends(ci: Any) -> tuple[Any, Any]:
        return (None, None) if ci is None else (ci[0], ci[1])

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COMPARISON_COLUMNS)
    for block in data["differences"]:
        for metric, d in block["metrics"].items():
            writer.writerow(
                [
                    block["entry"],
                    data["reference"],
                    metric,
                    d["unit"],
                    num(d["entry_mean"]),
                    num(d["reference_mean"]),
                    num(d["mean"]),
                    *map(num, ends(d["ci95"])),
                    *map(num, ends(d["unpaired_ci95"])),
                    num(d["width_ratio"]),
                    num(d["replication_factor"]),
                    data["replications"],
                ]
            )
    return out.getvalue()


# ----------------------------------------------------------------------------- the job


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
                from loyaltysim.plotting import write_run_charts
                from loyaltysim.plotting_experiments import write_compare_charts

                outcome.charts = write_run_charts(folder.path, reference, runs)
                chart_diffs = {m: diffs[m] for m in CHART_METRICS}
                outcome.charts += write_compare_charts(folder.path, chart_diffs, names[0], TITLES)
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
