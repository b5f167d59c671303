"""Paired comparisons: variants of one scenario, or several scenario files, with common
random numbers.

Every entry (a file's base, or one of its variants) runs replications ``0 .. R-1`` with one
root seed, so replication ``r`` of every entry sees the same customers and the same luck.
The difference of a metric between an entry and the reference (the first entry) is then
estimated replication by replication, and its interval is far narrower than if the entries
had been run independently. Both intervals are reported, with their width ratio: what the
pairing bought (Law 2015, §11.2).

Pure: this module returns numbers and text; :mod:`loyaltysim.workflows.compare` runs the
entries into a results folder (a ``run`` folder plus ``comparison.json`` / ``.csv`` and
forest-plot charts).
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
from loyaltysim.analysis.summary import json_safe
from loyaltysim.model.result import RunResult
from loyaltysim.scenario import Scenario, variant_scenarios
from loyaltysim.scenario.money import snap

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
    "profit": ("Profit", "money"),
    "churned": ("Customers lost", "customers"),
    "churn_rate_annual": ("Annual churn rate", "share of customers per year"),
    "customers_end": ("Customers at the end", "customers"),
    "revenue": ("Revenue", "money"),
    "cash_end": ("Cash at the end", "money"),
    "cash_min": ("Lowest cash", "money"),
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
        return "" if v is None else repr(snap(float(v)))

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
