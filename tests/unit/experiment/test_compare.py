"""Paired comparisons: entries and their names, alignment, the paired/unpaired arithmetic,
the comparison's files, and what an interrupt leaves."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from loyaltysim.experiment import SerialExecutor
from loyaltysim.experiment.compare import (
    COMPARISON_COLUMNS,
    RUIN,
    CompareError,
    Entry,
    align,
    build_entries,
    comparison_csv,
    comparison_data,
    differences,
    replication_factor,
)
from loyaltysim.scenario.schema import Scenario
from loyaltysim.workflows.compare import run_compare

T = TypeVar("T")
R = TypeVar("R")


def make(
    name: str = "Café",
    horizon: int = 30,
    reps: int = 3,
    variants: int = 1,
    seed: int | None = 5,
    **sections: Any,
) -> Scenario:
    data: dict[str, Any] = {
        "scenario": {"name": name, "horizon_days": horizon, "replications": reps, "seed": seed},
        "customers": {"initial": 200},
        "variants": [
            {
                "name": f"{10 * (i + 1)}% off",
                "set": {"discount.kind": "flat", "discount.rate": 0.1 * (i + 1)},
            }
            for i in range(variants)
        ],
        **sections,
    }
    return Scenario.model_validate(data)


# ----------------------------------------------------------------------------- entries


def test_one_file_gives_base_and_its_variants() -> None:
    entries = build_entries([("a.toml", make(variants=2))])
    assert [e.name for e in entries] == ["base", "10% off", "20% off"]
    assert [e.variant for e in entries] == ["base", "10% off", "20% off"]


def test_several_files_are_named_by_scenario_or_stem() -> None:
    files = [("x/a.toml", make("Café", variants=1)), ("x/b.toml", make("Bar", variants=0))]
    assert [e.name for e in build_entries(files)] == ["Café", "Café: 10% off", "Bar"]
    assert [e.name for e in build_entries(files, include_variants=False)] == ["Café", "Bar"]
    same = [("x/a.toml", make("Café", variants=0)), ("x/b.toml", make("Café", variants=0))]
    assert [e.name for e in build_entries(same)] == ["a", "b"]
    twice = [("x/a.toml", make("Café", variants=0)), ("y/a.toml", make("Café", variants=0))]
    assert [e.name for e in build_entries(twice)] == ["a", "a (2)"]


def test_reference_goes_first_and_must_exist() -> None:
    entries = build_entries([("a.toml", make(variants=2))], reference="20% off")
    assert [e.name for e in entries] == ["20% off", "base", "10% off"]
    with pytest.raises(CompareError, match="no entry named"):
        build_entries([("a.toml", make(variants=1))], reference="nope")


def test_nothing_to_compare_is_a_usage_error() -> None:
    with pytest.raises(CompareError, match="nothing to compare"):
        build_entries([("a.toml", make(variants=0))])


def test_align_gives_every_entry_the_references_runs_and_the_seed() -> None:
    entries = [
        Entry("a", make(horizon=30, reps=3), "a.toml", "base"),
        Entry("b", make(horizon=60, reps=5, seed=9), "b.toml", "base"),
    ]
    aligned, notes = align(entries, seed=77)
    for e in aligned:
        assert (e.scenario.scenario.horizon_days, e.scenario.scenario.replications) == (30, 3)
        assert e.scenario.scenario.seed == 77
    assert len(notes) == 2 and all(n.startswith("b:") for n in notes)


# ----------------------------------------------------------------------------- arithmetic


def test_paired_and_unpaired_intervals_and_their_ratio() -> None:
    rng = np.random.default_rng(0)
    luck = rng.normal(0, 100, size=20)  # shared by both arms: common random numbers
    table = {
        "ref": {"profit": 1000 + luck, RUIN: np.zeros(20)},
        "alt": {
            "profit": 1050 + luck + rng.normal(0, 5, size=20),
            RUIN: np.r_[np.ones(5), np.zeros(15)],
        },
    }
    diffs = differences(table, "ref", metrics=("profit", RUIN))
    d = diffs["profit"]["alt"]
    delta = table["alt"]["profit"] - table["ref"]["profit"]
    assert d.mean == pytest.approx(delta.mean())
    assert d.ci[0] < 50 < d.ci[1]
    paired, unpaired = d.ci[1] - d.ci[0], d.unpaired_ci[1] - d.unpaired_ci[0]
    assert d.variance_reduction == pytest.approx(unpaired / paired)
    assert d.variance_reduction > 5  # the shared luck cancels in the paired differences
    assert replication_factor(d.variance_reduction) == pytest.approx(d.variance_reduction**2)
    ruin = diffs[RUIN]["alt"]
    assert ruin.mean == pytest.approx(0.25)  # difference of ruin probabilities


def test_comparison_data_and_csv() -> None:
    entries = [Entry("base", make(), "a.toml", "base"), Entry("alt", make(), "a.toml", "alt")]
    table = {
        "base": {"profit": np.array([1.0, 2.0, 3.0]), RUIN: np.zeros(3)},
        "alt": {"profit": np.array([2.0, 3.5, 4.0]), RUIN: np.zeros(3)},
    }
    diffs = differences(table, "base", metrics=("profit", RUIN))
    data = comparison_data(entries, table, diffs, seed=5)
    json.dumps(data, allow_nan=False)  # JSON-ready: no NaN (the constant ruin gives None)
    block = data["differences"][0]
    assert block["entry"] == "alt" and data["reference"] == "base"
    assert block["metrics"]["profit"]["mean"] == pytest.approx(3.5 / 3)
    assert block["metrics"]["profit"]["entry_mean"] == pytest.approx(9.5 / 3)
    assert block["metrics"][RUIN]["width_ratio"] is None
    rows = list(csv.reader(io.StringIO(comparison_csv(data))))
    assert tuple(rows[0]) == COMPARISON_COLUMNS
    assert [r[2] for r in rows[1:]] == ["profit", RUIN]
    assert float(rows[1][6]) == pytest.approx(3.5 / 3)


# ----------------------------------------------------------------------------- runs


class StoppingExecutor:
    def __init__(self, n: int) -> None:
        self.n = n

    def map_unordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        for key in range(len(tasks)):
            if key == self.n:
                raise KeyboardInterrupt
            yield key, fn(tasks[key])


def test_run_compare_writes_a_run_folder_with_the_comparison(tmp_path: Path) -> None:
    entries = build_entries([("a.toml", make(variants=1))])
    out = run_compare(entries, output=tmp_path / "c", executor=SerialExecutor(), charts=False)
    assert out.status == "complete" and out.run_dir == tmp_path / "c"
    for name in (
        "manifest.json",
        "summary.json",
        "comparison.json",
        "comparison.csv",
        "timeseries.csv",
        "replications.csv",
    ):
        assert (out.run_dir / name).exists(), name
    summary = json.loads((out.run_dir / "summary.json").read_text())
    assert [v["name"] for v in summary["variants"]] == ["base", "10% off"]
    assert "vs_base" in summary["variants"][1] and summary["comparison"]["reference"] == "base"
    profit = out.comparison["differences"][0]["metrics"]["profit"]
    assert profit["ci95"][0] <= profit["mean"] <= profit["ci95"][1]
    manifest = json.loads((out.run_dir / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["variants"] == ["base", "10% off"]


def test_files_with_their_own_names_order_the_folder(tmp_path: Path) -> None:
    files = [
        ("a.toml", make("Café", variants=0)),
        ("b.toml", make("Bar", variants=0, business={"price": 5.0})),
    ]
    out = run_compare(
        build_entries(files), output=tmp_path / "c", executor=SerialExecutor(), charts=False
    )
    manifest = json.loads((out.run_dir / "manifest.json").read_text())
    assert manifest["variants"] == ["Café", "Bar"]
    assert manifest["replications_finished"] == {"Café": 3, "Bar": 3}
    summary = json.loads((out.run_dir / "summary.json").read_text())
    bar = summary["variants"][1]
    assert bar["file"] == "b.toml" and bar["break_even"]["gross_margin"] == pytest.approx(
        (5.0 - 1.4) / 5.0
    )


def test_interrupted_compare_keeps_complete_replications(tmp_path: Path) -> None:
    entries = build_entries([("a.toml", make(variants=1, reps=3))])
    # Tasks go replication by replication: 3 finished tasks = 1 complete replication.
    out = run_compare(entries, output=tmp_path / "c", executor=StoppingExecutor(3), charts=False)
    assert out.status == "interrupted"
    assert out.comparison["replications"] == 1
    assert json.loads((out.run_dir / "manifest.json").read_text())["status"] == "interrupted"


def test_seed_defaults_to_the_references_and_is_shared(tmp_path: Path) -> None:
    entries = build_entries([("a.toml", make(variants=1, seed=123))])
    out = run_compare(entries, executor=SerialExecutor(), write_files=False)
    assert out.seed == 123 and out.run_dir is None
    assert all(e.scenario.scenario.seed == 123 for e in out.entries)
    assert not math.isnan(out.comparison["differences"][0]["metrics"]["profit"]["mean"])
