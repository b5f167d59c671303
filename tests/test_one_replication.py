"""Honest intervals from few runs (issue #9, item 8).

With one replication there is no confidence interval: it is stored as null wherever
intervals are stored (summary.json, comparison.json and .csv, sweep.csv, frontier.json),
shown as "n/a: 1 run", never as the degenerate ``[x, x]``; every consumer copes.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from loyaltysim.cli import EXIT_GUARD_BREACHED, EXIT_OK, main

ONE = """
[scenario]
name = "One-run shop"
horizon_days = 20
replications = 1
seed = 5

[customers]
initial = 120

[[variants]]
name = "5% off"
set = { "discount.kind" = "flat", "discount.rate" = 0.05 }
"""


@pytest.fixture(scope="module")
def one(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("one") / "one.toml"
    path.write_text(ONE, encoding="utf-8")
    return path


def invoke(*args: Any) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_run_stores_null_and_prints_n_a(one: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = invoke("run", one, "--output", out, "--workers", 1, "--no-charts")
    assert result.exit_code == EXIT_OK, result.output
    assert "[n/a: 1 run]" in result.stdout
    summary = json.loads((out / "summary.json").read_text())
    for variant in summary["variants"]:
        for name, block in variant["metrics"].items():
            assert block["ci95"] is None, name
    # The base's own lift is 0 by definition; the variant's has no interval from one run.
    assert summary["variants"][1]["break_even"]["realised_lift_ci95"] is None
    paired = summary["variants"][1]["vs_base"]["profit"]
    assert paired["ci95"] is None and paired["unpaired_ci95"] is None
    # The ruin probability's Wilson interval is defined for one run, and honest: wide.
    assert summary["variants"][0]["ruin"]["ci95"][1] > 0.5
    # The report reads the nulls too.
    assert invoke("report", out).exit_code == EXIT_OK


def test_compare_stores_null_and_prints_n_a(one: Path, tmp_path: Path) -> None:
    out = tmp_path / "compare"
    result = invoke("compare", one, "--output", out, "--workers", 1, "--no-charts")
    assert result.exit_code == EXIT_OK, result.output
    assert "[n/a: 1 run]" in result.stdout
    data = json.loads((out / "comparison.json").read_text())
    assert all(m["ci95"] is None for b in data["differences"] for m in b["metrics"].values())
    with open(out / "comparison.csv", encoding="utf-8", newline="") as f:
        assert all(row["ci95_lo"] == row["ci95_hi"] == "" for row in csv.DictReader(f))


def test_sweep_and_frontier_store_null(one: Path, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    args = ("--param", "business.price=4:5:1", "--workers", 1)
    result = invoke("sweep", one, *args, "--output", out, "--no-charts")
    assert result.exit_code == EXIT_OK, result.output
    assert "[n/a: 1 run]" in result.stdout
    with open(out / "sweep.csv", encoding="utf-8", newline="") as f:
        assert all(row["profit_ci_lo"] == "" for row in csv.DictReader(f))
    result = invoke(
        "frontier", one, "--param", "business.price", "--range", "4:5:1", "--workers", 1,
        "--reps", 1, "--output", tmp_path / "frontier", "--json",
    )  # fmt: skip
    assert result.exit_code == EXIT_OK, result.output
    points = json.loads(result.stdout)["points"]
    assert [p["profit_ci95"] for p in points] == [None, None]
    stored = json.loads((tmp_path / "frontier" / "frontier.json").read_text())
    assert stored["points"][0]["profit_ci95"] is None


def test_check_copes_with_one_run(one: Path) -> None:
    # One run and no more: check would otherwise add runs until the risk is decided (#12).
    result = invoke("check", one, "--reps", 1, "--workers", 1, "--set", "guard.max_replications=1")
    # One run decides nothing, and its warning fires: exit 1; no crash on the nulls.
    assert result.exit_code == EXIT_GUARD_BREACHED, result.output
    assert "Traceback" not in result.output
