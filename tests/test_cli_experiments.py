"""The experiment commands: compare, sweep and sensitivity, end to end through click.

Tiny scenarios (200-300 customers, 30-40 days, 2-3 replications) in tmp_path; never the
repository's results folder.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner

from loyaltysim.cli import (
    EXIT_INTERRUPTED,
    EXIT_INVALID_SCENARIO,
    EXIT_OK,
    EXIT_RUNTIME_FAILURE,
    EXIT_USAGE,
    main,
)
from loyaltysim.workflows import sweep as sweep_module

T = TypeVar("T")
R = TypeVar("R")

TINY = """
[scenario]
name = "Tiny café"
horizon_days = 40
replications = 3
seed = 7

[customers]
initial = 300

[[variants]]
name = "10% off"
set = { "discount.kind" = "flat", "discount.rate" = 0.10 }

[[variants]]
name = "Call the unhappy"
set = { "followup.kind" = "after_purchase", "followup.target" = "dissatisfied" }
"""

OTHER = """
[scenario]
name = "Tiny bar"
horizon_days = 40
replications = 3

[business]
price = 5.0

[customers]
initial = 250
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


@pytest.fixture
def other(tmp_path: Path) -> Path:
    path = tmp_path / "other.toml"
    path.write_text(OTHER, encoding="utf-8")
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def invoke(runner: CliRunner, *args: Any) -> Any:
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


def fast(runner: CliRunner, *args: Any) -> Any:
    """:func:`invoke` without charts (they have their own tests)."""
    return invoke(runner, *args, "--no-charts")


def test_help_lists_the_experiment_commands_with_runs_options(runner: CliRunner) -> None:
    assert "compare" in invoke(runner, "--help").output
    for command in ("compare", "sweep", "sensitivity"):
        text = invoke(runner, command, "--help").output
        for option in (
            "--reps",
            "--days",
            "--seed",
            "--set",
            "--workers",
            "--scheduler",
            "--output",
            "--json",
            "--quiet",
        ):
            assert option in text, (command, option)


# ----------------------------------------------------------------------------- compare


def test_compare_variants_writes_the_folder_and_prints_the_table(
    runner: CliRunner, tiny: Path, tmp_path: Path
) -> None:
    out = tmp_path / "c"
    result = invoke(runner, "compare", tiny, "--output", out, "--workers", 1)
    assert result.exit_code == EXIT_OK, result.output
    assert "10% off  vs  base" in result.stdout and "paired 95% CI" in result.stdout
    for name in (
        "manifest.json",
        "summary.json",
        "comparison.json",
        "comparison.csv",
        "charts/compare_profit.png",
        "charts/compare_ruin.svg",
        "charts/cash.png",
    ):
        assert (out / name).exists(), name
    rows = read_csv(out / "comparison.csv")
    assert {r["entry"] for r in rows} == {"10% off", "Call the unhappy"}
    assert {r["metric"] for r in rows} >= {"profit", "churned", "cash_end", "ruin"}
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_compare_json_is_valid_json_on_stdout_alone(
    runner: CliRunner, tiny: Path, tmp_path: Path
) -> None:
    result = fast(
        runner,
        "compare",
        tiny,
        "--output",
        tmp_path / "c",
        "--json",
        "--reps",
        2,
        "--days",
        30,
        "--workers",
        1,
    )
    assert result.exit_code == EXIT_OK
    data = json.loads(result.stdout)
    assert data["reference"] == "base" and data["replications"] == 2
    assert data["horizon_days"] == 30 and data["status"] == "complete"
    profit = data["differences"][0]["metrics"]["profit"]
    assert set(profit) >= {"mean", "ci95", "unpaired_ci95", "width_ratio"}
    assert not (tmp_path / "c/charts/compare_profit.png").exists()  # --no-charts


def test_compare_several_files_with_common_random_numbers(
    runner: CliRunner, tiny: Path, other: Path, tmp_path: Path
) -> None:
    result = fast(
        runner,
        "compare",
        tiny,
        other,
        "--bases-only",
        "--output",
        tmp_path / "c",
        "--json",
        "--workers",
        1,
    )
    assert result.exit_code == EXIT_OK
    data = json.loads(result.stdout)
    assert [e["name"] for e in data["entries"]] == ["Tiny café", "Tiny bar"]
    assert data["seed"] == 7  # the first file's seed, for every entry
    result = fast(
        runner,
        "compare",
        tiny,
        other,
        "--reference",
        "Tiny bar",
        "--json",
        "--output",
        tmp_path / "d",
        "--workers",
        1,
        "--reps",
        2,
    )
    data = json.loads(result.stdout)
    assert data["reference"] == "Tiny bar" and len(data["differences"]) == 3


def test_compare_usage_and_scenario_errors(runner: CliRunner, other: Path, tmp_path: Path) -> None:
    assert fast(runner, "compare", other).exit_code == EXIT_USAGE  # nothing to compare
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "x"\n[business]\nprise = 3\n')
    result = fast(runner, "compare", bad, other)
    assert result.exit_code == EXIT_INVALID_SCENARIO and "prise" in result.stderr


class StoppingExecutor:
    """Finishes ``n`` tasks, then raises ``exc``."""

    def __init__(self, n: int, exc: BaseException) -> None:
        self.n, self.exc = n, exc

    def map_unordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        for key in range(len(tasks)):
            if key == self.n:
                raise self.exc
            yield key, fn(tasks[key])


def test_compare_interrupted_keeps_replications_and_exits_130(
    runner: CliRunner, tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyaltysim.workflows import compare as compare_module

    monkeypatch.setattr(
        compare_module, "make_executor", lambda *a: StoppingExecutor(4, KeyboardInterrupt())
    )
    out = tmp_path / "c"
    result = fast(runner, "compare", tiny, "--output", out, "--quiet")
    assert result.exit_code == EXIT_INTERRUPTED
    assert "interrupted" in result.stderr
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    assert json.loads((out / "comparison.json").read_text())["replications"] == 1


# ----------------------------------------------------------------------------- sweep

SWEEP = ("--set", "discount.kind=flat", "--param", "discount.rate=0:0.2:0.1")


def test_sweep_writes_one_row_per_point(runner: CliRunner, tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "s"
    result = invoke(runner, "sweep", tiny, *SWEEP, "--output", out, "--workers", 1)
    assert result.exit_code == EXIT_OK, result.output
    rows = read_csv(out / "sweep.csv")
    assert [float(r["discount.rate"]) for r in rows] == [0.0, 0.1, 0.2]
    assert {"profit_mean", "profit_ci_lo", "churned_mean", "ruin_probability"} <= set(rows[0])
    assert all(r["replications"] == "3" for r in rows)
    assert (out / "charts/sweep.png").exists() and (out / "sweep.json").exists()
    assert "discount.rate" in result.stdout


def test_sweep_json_is_valid_json_on_stdout_alone(
    runner: CliRunner, tiny: Path, tmp_path: Path
) -> None:
    result = fast(
        runner,
        "sweep",
        tiny,
        *SWEEP,
        "--output",
        tmp_path / "s",
        "--json",
        "--workers",
        1,
        "--reps",
        2,
    )
    data = json.loads(result.stdout)
    assert data["status"] == "complete" and data["points_finished"] == 3
    assert [r["discount.rate"] for r in data["rows"]] == [0.0, 0.1, 0.2]


def test_sweep_rows_identical_serial_and_two_workers(
    runner: CliRunner, tiny: Path, tmp_path: Path
) -> None:
    params = (*SWEEP, "--param", "customers.initial=200,300", "--reps", 2, "--quiet")
    assert (
        fast(runner, "sweep", tiny, *params, "--output", tmp_path / "a", "--workers", 1).exit_code
        == 0
    )
    assert (
        fast(runner, "sweep", tiny, *params, "--output", tmp_path / "b", "--workers", 2).exit_code
        == 0
    )
    a, b = (tmp_path / "a/sweep.csv").read_bytes(), (tmp_path / "b/sweep.csv").read_bytes()
    assert a == b and a.count(b"\n") == 1 + 6


def test_sweep_with_too_few_points_for_the_workers_splits_replications_identically(
    runner: CliRunner, tiny: Path, tmp_path: Path
) -> None:
    params = ("--param", "business.price=4.5,5", "--reps", 3, "--quiet")
    fast(runner, "sweep", tiny, *params, "--output", tmp_path / "a", "--workers", 1)
    fast(runner, "sweep", tiny, *params, "--output", tmp_path / "b", "--workers", 2)
    a, b = (tmp_path / "a/sweep.csv").read_bytes(), (tmp_path / "b/sweep.csv").read_bytes()
    assert a == b


def test_sweep_on_a_dask_local_cluster_gives_identical_rows(
    runner: CliRunner, tiny: Path, tmp_path: Path
) -> None:
    pytest.importorskip("dask.distributed")
    params = (*SWEEP, "--reps", 2, "--quiet")
    fast(runner, "sweep", tiny, *params, "--output", tmp_path / "a", "--workers", 1)
    result = fast(
        runner,
        "sweep",
        tiny,
        *params,
        "--output",
        tmp_path / "b",
        "--scheduler",
        "local",
        "--workers",
        2,
    )
    assert result.exit_code == EXIT_OK, result.output
    assert (tmp_path / "a/sweep.csv").read_bytes() == (tmp_path / "b/sweep.csv").read_bytes()


def test_resume_skips_finished_points_and_tolerates_a_torn_last_line(
    runner: CliRunner, tiny: Path, tmp_path: Path
) -> None:
    full, out = tmp_path / "full", tmp_path / "s"
    params = (*SWEEP, "--param", "customers.initial=200,300", "--reps", 2, "--workers", 1)
    fast(runner, "sweep", tiny, *params, "--output", full, "--quiet")
    fast(runner, "sweep", tiny, *params, "--output", out, "--quiet")
    # Simulate a kill: keep the header, 3 rows and half of the fourth.
    lines = (out / "sweep.csv").read_bytes().split(b"\n")
    (out / "sweep.csv").write_bytes(b"\n".join(lines[:4]) + b"\n" + lines[4][:25])
    result = fast(runner, "sweep", tiny, *params, "--output", out, "--resume", "--json")
    assert result.exit_code == EXIT_OK, result.output
    data = json.loads(result.stdout)
    assert data["points_skipped"] == 3 and data["points_finished"] == 6
    assert (out / "sweep.csv").read_bytes() == (full / "sweep.csv").read_bytes()
    assert len(json.loads((out / "manifest.json").read_text())["resumed_at"]) == 1
    # Nothing left to do: a second resume runs nothing and changes nothing.
    again = fast(runner, "sweep", tiny, *params, "--output", out, "--resume", "--json")
    assert json.loads(again.stdout)["points_skipped"] == 6
    assert (out / "sweep.csv").read_bytes() == (full / "sweep.csv").read_bytes()


def test_sweep_latin_hypercube(runner: CliRunner, tiny: Path, tmp_path: Path) -> None:
    args = (
        "sweep",
        tiny,
        "--param",
        "business.price=4:5",
        "--param",
        "customers.initial=200:400",
        "--sample",
        "lhs",
        "--n",
        4,
        "--reps",
        2,
        "--workers",
        1,
        "--json",
    )
    first = json.loads(invoke(runner, *args, "--output", tmp_path / "a").stdout)
    again = json.loads(invoke(runner, *args, "--output", tmp_path / "b").stdout)
    assert first["points_finished"] == 4 and first["rows"] == again["rows"]
    prices = [r["business.price"] for r in first["rows"]]
    sizes = [r["customers.initial"] for r in first["rows"]]
    assert all(4 <= p <= 5 for p in prices) and len(set(prices)) == 4
    assert all(s == int(s) and 200 <= s <= 400 for s in sizes)
    assert (tmp_path / "a/charts/sweep.png").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--param", "discount.rate"), "KEY=LO:HI"),
        (("--param", "business.price=4:5"), "needs a step"),
        (("--param", "business.price=4:5", "--sample", "lhs"), "--n"),
        (("--param", "business.price=4:5:0.5", "--n", "3"), "--n is for"),
        (("--param", "business.price=4:5:0.5", "--resume"), "--output"),
        (("--param", "business.price=4:5:0.5", "--variant", "nope"), "no variant"),
    ],
)
def test_sweep_usage_errors_exit_2(
    runner: CliRunner, tiny: Path, args: tuple[str, ...], message: str
) -> None:
    result = fast(runner, "sweep", tiny, *args)
    assert result.exit_code == EXIT_USAGE
    assert message in result.stderr


def test_sweep_unknown_key_is_an_invalid_scenario(runner: CliRunner, tiny: Path) -> None:
    result = fast(runner, "sweep", tiny, "--param", "business.prise=4:5:0.5")
    assert result.exit_code == EXIT_INVALID_SCENARIO and "prise" in result.stderr


def test_sweep_of_another_sweeps_folder_needs_resume(
    runner: CliRunner, tiny: Path, tmp_path: Path
) -> None:
    out = tmp_path / "s"
    fast(runner, "sweep", tiny, *SWEEP, "--output", out, "--workers", 1, "--reps", 2, "--quiet")
    result = fast(runner, "sweep", tiny, *SWEEP, "--output", out, "--reps", 2)
    assert result.exit_code == EXIT_USAGE and "--resume" in result.stderr
    result = fast(runner, "sweep", tiny, *SWEEP, "--output", out, "--reps", 3, "--resume")
    assert result.exit_code == EXIT_USAGE and "different sweep" in result.stderr
    pytest.importorskip("SALib")
    result = fast(
        runner,
        "sensitivity",
        tiny,
        "--param",
        "business.price=4:5",
        "--n",
        2,
        "--output",
        out,
        "--resume",
    )
    assert result.exit_code == EXIT_USAGE and "different sweep" in result.stderr


def test_sweep_interrupted_keeps_rows_and_exits_130(
    runner: CliRunner, tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        sweep_module, "make_executor", lambda *a: StoppingExecutor(2, KeyboardInterrupt())
    )
    out = tmp_path / "s"
    result = fast(runner, "sweep", tiny, *SWEEP, "--output", out)
    assert result.exit_code == EXIT_INTERRUPTED
    assert "2 of 3 points kept" in result.stderr and "--resume" in result.stderr
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    assert (out / "sweep.csv").read_text().count("\n") == 3


_run_chunk = sweep_module.run_chunk  # the real one: workers fork after the monkeypatch


def _crash_on_point_one(task: Any) -> Any:
    """Kill the worker process (as the OOM killer would) on point 1, after a pause that
    lets the other points finish."""
    if task.point == 1:
        time.sleep(0.5)
        os._exit(9)
    return _run_chunk(task)


def test_a_worker_crash_is_reported_and_finished_points_kept(
    runner: CliRunner, tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "s"
    params = ("--param", "business.price=4,4.5,5", "--reps", 2, "--workers", 2)
    with monkeypatch.context() as m:
        m.setattr(sweep_module, "run_chunk", _crash_on_point_one)
        result = fast(runner, "sweep", tiny, *params, "--output", out)
    assert result.exit_code == EXIT_RUNTIME_FAILURE
    assert "worker process died" in result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "worker process died" in manifest["error"]
    kept = [r["point"] for r in read_csv(out / "sweep.csv")]
    assert "1" not in kept
    result = fast(runner, "sweep", tiny, *params, "--output", out, "--resume", "--json")
    assert result.exit_code == EXIT_OK
    assert json.loads(result.stdout)["points_finished"] == 3


# ----------------------------------------------------------------------------- sensitivity


def test_sensitivity_tiny_sobol_run(runner: CliRunner, tiny: Path, tmp_path: Path) -> None:
    pytest.importorskip("SALib")
    out = tmp_path / "sa"
    result = invoke(
        runner,
        "sensitivity",
        tiny,
        "--param",
        "business.price=3.5:5.5",
        "--param",
        "competitor.price=4.1:4.3",
        "--n",
        4,
        "--reps",
        2,
        "--days",
        30,
        "--resamples",
        50,
        "--output",
        out,
        "--workers",
        1,
    )
    assert result.exit_code == EXIT_OK, result.output
    assert "Which parameters drive profit" in result.stdout
    assert "Which parameters drive churned" in result.stdout
    for name in ("samples.csv", "indices.csv", "sensitivity.json", "charts/sensitivity.png"):
        assert (out / name).exists(), name
    analysis = json.loads((out / "sensitivity.json").read_text())
    assert analysis["method"] == "sobol" and analysis["evaluations"] == 4 * (2 + 2)
    assert analysis["outputs"]["profit"]["ranking"][0]["param"] == "business.price"


def test_sensitivity_json_morris(runner: CliRunner, tiny: Path, tmp_path: Path) -> None:
    pytest.importorskip("SALib")
    result = fast(
        runner,
        "sensitivity",
        tiny,
        "--method",
        "morris",
        "--param",
        "business.price=3.5:5.5",
        "--param",
        "business.service_quality=0.6:0.9",
        "--n",
        3,
        "--reps",
        2,
        "--days",
        30,
        "--output-metric",
        "churn_rate_annual",
        "--json",
        "--output",
        tmp_path / "m",
        "--workers",
        1,
    )
    assert result.exit_code == EXIT_OK
    data = json.loads(result.stdout)
    assert data["method"] == "morris" and list(data["outputs"]) == ["churn_rate_annual"]
    assert data["status"] == "complete"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--n", "6"), "power of 2"),
        (("--output-metric", "happiness"), "not a metric"),
        (("--method", "morris", "--levels", "3"), "even"),
    ],
)
def test_sensitivity_usage_errors_exit_2(
    runner: CliRunner, tiny: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    pytest.importorskip("SALib")
    result = fast(
        runner,
        "sensitivity",
        tiny,
        "--param",
        "business.price=4:5",
        *args,
        "--output",
        tmp_path / "x",
        "--quiet",
    )
    assert result.exit_code == EXIT_USAGE
    assert message in result.stderr
