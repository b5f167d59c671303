"""`loyaltysim calibrate`: the contract's options, JSON fields and exit codes; the written
scenario validates and runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from loyaltysim.calibration import agents, btyd
from loyaltysim.calibration.synthetic import pareto_nbd_log
from loyaltysim.cli import main
from loyaltysim.scenario import load_scenario

SPLIT = ["--calibration-end", "2024-09-30", "--holdout-end", "2024-12-30"]


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("calibrate")
    log = tmp / "sales.csv"
    pareto_nbd_log(300, 365, np.random.default_rng(1)).to_csv(log, index=False)
    scenario = tmp / "mine.toml"
    folder = tmp / "folder"
    args = ["calibrate", str(log), *SPLIT, "--output", str(scenario)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(agents, "AGENTS_PER_RUN", 1200)  # 4 copies: enough for the plumbing
        result = CliRunner().invoke(
            main, [*args, "--results", str(folder), "--reps", "2", "--json"]
        )
    assert result.exit_code == 0, result.output
    return {"payload": json.loads(result.stdout), "scenario": scenario, "folder": folder}


def test_json_has_the_contract_fields(calibrated: dict[str, Any]) -> None:
    p = calibrated["payload"]
    assert p["customers"] == 300 and p["transactions"] > 300
    assert p["model"] == "bg_nbd" and set(p["params"]) == {"r", "alpha", "a", "b"}
    h = p["holdout"]
    assert h["weeks"] == 13
    for key in ("predicted_repeat", "actual_repeat", "error", "correlation", "mae"):
        assert isinstance(h[key], float), key
    assert h["error"] == pytest.approx(
        (h["predicted_repeat"] - h["actual_repeat"]) / h["actual_repeat"]
    )
    assert set(p["models"]) == {"bg_nbd", "pareto_nbd"}
    assert "holdout" in p["agent"] and p["spend"]["mean"] > 0


def test_the_written_scenario_is_commented_validates_and_runs(
    calibrated: dict[str, Any], tmp_path: Path
) -> None:
    path: Path = calibrated["scenario"]
    text = path.read_text("utf-8")
    scenario = load_scenario(path)
    seg = scenario.customers.segments[0]
    fit = calibrated["payload"]["models"]["pareto_nbd"]["params"]
    assert seg.visit_heterogeneity == pytest.approx(fit["r"], rel=1e-5)
    assert scenario.customers.initial > 0
    # The run starts from the log's customers, written beside the scenario (issue #13 item 4).
    assert scenario.calibration.customers == str(path.with_suffix(".customers.csv"))
    assert calibrated["payload"]["customers_file"] == scenario.calibration.customers
    assert scenario.calibration.visit_scale == pytest.approx(
        calibrated["payload"]["agent"]["visit_scale"], rel=1e-5
    )
    # Each fitted figure says where it comes from, with an interval; the rest is declared.
    for figure in ("visits_per_month", "visit_heterogeneity", "price =", "initial ="):
        after = text.split(figure, 1)[1].split("\n", 2)[1]
        assert after.startswith("#"), figure
    assert text.count("95% interval") >= 4
    assert "cannot identify the rest" in text and "keeps the documented" in text
    run = CliRunner().invoke(
        main,
        [
            "run",
            str(path),
            "--days",
            "10",
            "--reps",
            "1",
            "--workers",
            "1",
            "--quiet",
            "--output",
            str(tmp_path / "run"),
        ],
    )
    assert run.exit_code == 0, run.output


def test_the_folder_has_charts_and_tables(calibrated: dict[str, Any]) -> None:
    folder: Path = calibrated["folder"]
    for name in (
        "calibration.json",
        "customers.csv",
        "tracking.csv",
        "histogram.csv",
        "scenario.toml",
        "charts/tracking.png",
        "charts/histogram.png",
    ):
        assert (folder / name).stat().st_size > 0, name
    tracking = (folder / "tracking.csv").read_text("utf-8").splitlines()
    assert tracking[0] == "week,day,actual,bg_nbd,pareto_nbd,agent"
    assert len(tracking) == 1 + 13


def test_a_bad_log_exits_3_with_every_problem(tmp_path: Path) -> None:
    log = tmp_path / "bad.csv"
    log.write_text("customer_id,date,amount\na,2024-01-01,1\na,2024-13-01,-2\nb,x,y\n")
    result = CliRunner().invoke(main, ["calibrate", str(log)])
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        f"{log}:3: date: '2024-13-01' is not a date in ISO form YYYY-MM-DD (see --date-format)",
        f"{log}:4: date: 'x' is not a date in ISO form YYYY-MM-DD (see --date-format)",
        f"{log}:4: amount: 'y' is not a number",
        f"{log}:3: amount: negative amount -2: a return is not a purchase; leave returns out "
        "of the log, or pass --returns drop to drop their rows",
    ]
    assert result.stdout == ""


def test_column_options(tmp_path: Path) -> None:
    log = tmp_path / "till.csv"
    log.write_text("who,when,paid\na,2024-01-01,1\n")
    result = CliRunner().invoke(main, ["calibrate", str(log), "--customer-col", "who"])
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0].startswith(f"{log}:1: date: missing column")


def test_a_failed_fit_exits_4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "sales.csv"
    pareto_nbd_log(50, 200, np.random.default_rng(2)).to_csv(log, index=False)

    def fail(*args: object) -> None:
        raise btyd.FitError("bg_nbd: no convergence")

    monkeypatch.setattr(btyd, "fit_bgnbd", fail)
    result = CliRunner().invoke(main, ["calibrate", str(log), "--results", str(tmp_path / "f")])
    assert result.exit_code == 4
    assert "the fit failed: bg_nbd: no convergence" in result.stderr


def test_contradictory_dates_are_a_usage_error(tmp_path: Path) -> None:
    log = tmp_path / "sales.csv"
    log.write_text("customer_id,date,amount\na,2024-01-01,1\na,2024-02-01,1\n")
    args = ["calibrate", str(log), "--calibration-end", "2024-03-01", "--holdout-end", "2024-02-01"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "must come after" in result.stderr


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_a_log_that_cannot_be_read_exits_3_as_a_missing_scenario_does(
    kind: str, tmp_path: Path
) -> None:
    # The contract's table: 2 is a usage error, 3 a bad input file, in every command.
    log = tmp_path / "sales.csv"
    if kind == "directory":
        log.mkdir()
    result = CliRunner().invoke(main, ["calibrate", str(log), "--results", str(tmp_path / "f")])
    assert result.exit_code == 3, result.output
    reason = "no such file" if kind == "missing" else "is a directory, not a file"
    assert result.stderr.splitlines() == [f"{log}: {reason}"]
    assert not (tmp_path / "f").exists()
