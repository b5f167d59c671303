"""export: the customers table and a purchase log that calibrate reads back."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from loyaltysim.calibration import agents, btyd
from loyaltysim.cli import main
from loyaltysim.workflows.run import run_job
from tests.unit.experiment.test_to_frame import tiny


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    job = run_job(
        tiny(120, 2, 5), output=tmp_path_factory.mktemp("x") / "run", workers=1, charts=False
    )
    assert job.run_dir is not None
    return job.run_dir


def _export_and_calibrate(run_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    out = CliRunner().invoke(
        main,
        [
            "export",
            str(run_dir),
            "--transactions",
            str(log),
            "--start-date",
            "2025-03-01",
            "--replication",
            "1",
        ],
    )
    assert out.exit_code == 0, out.output
    frame = pd.read_csv(log)
    assert list(frame.columns) == ["customer_id", "date", "amount"]
    assert frame["date"].min() >= "2025-03-01" and frame["date"].max() <= "2025-06-28"
    assert not frame.duplicated(["customer_id", "date"]).any()  # one row per buying day
    fitted = CliRunner().invoke(main, ["calibrate", str(log), "--json"])
    assert fitted.exit_code == 0, fitted.output
    result = json.loads(fitted.output[fitted.output.index("{") :])
    assert result["transactions"] == len(frame)
    assert result["customers"] > 0


def test_transactions_export_reads_back_with_calibrate(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same read-back, with calibrate's optional Pareto/NBD fit refused (a note, as
    when it fails: on this short log its figures fall back to numerical integration row
    by row, minutes long) and one copy of each customer per agent run (as
    tests/test_cli_calibrate.py does); the slow test below runs the whole calibration."""

    def refused(*args: object, **kwargs: object) -> btyd.Fit:
        raise btyd.FitError("left out in the default suite")

    monkeypatch.setattr(btyd, "fit_paretonbd", refused)
    monkeypatch.setattr(agents, "AGENTS_PER_RUN", 300)
    _export_and_calibrate(run_dir, tmp_path)


@pytest.mark.slow
def test_transactions_export_reads_back_with_the_whole_calibration(
    run_dir: Path, tmp_path: Path
) -> None:
    _export_and_calibrate(run_dir, tmp_path)


def test_the_log_is_the_runs_own_purchases(run_dir: Path, tmp_path: Path) -> None:
    log, customers = tmp_path / "log.csv", tmp_path / "customers.csv"
    out = CliRunner().invoke(
        main, ["export", str(run_dir), "--transactions", str(log), "--customers", str(customers)]
    )
    assert out.exit_code == 0, out.output
    c = pd.read_csv(customers)
    c = c[(c["variant"] == "base") & (c["replication"] == 0) & c["T"].notna()]
    days = pd.read_csv(log).groupby("customer_id").size()
    assert (days.reindex(c["customer"]).to_numpy() - 1 == c["frequency"].to_numpy()).all()


def test_a_folder_without_customers_says_so(tmp_path: Path) -> None:
    job = run_job(tiny(30, 1, 2), output=tmp_path / "run", workers=1, charts=False, customers=False)
    out = CliRunner().invoke(
        main, ["export", str(job.run_dir), "--customers", str(tmp_path / "c.csv")]
    )
    assert out.exit_code == 4
    assert "--reps 1" in out.output and "--customers" in out.output


def test_nothing_asked_is_a_usage_error(run_dir: Path) -> None:
    assert CliRunner().invoke(main, ["export", str(run_dir)]).exit_code == 2


def test_an_unknown_variant_or_replication_is_named(run_dir: Path, tmp_path: Path) -> None:
    out = CliRunner().invoke(
        main,
        ["export", str(run_dir), "--transactions", str(tmp_path / "l.csv"), "--variant", "nope"],
    )
    assert out.exit_code == 4 and "the variants: base" in out.output
    out = CliRunner().invoke(
        main,
        ["export", str(run_dir), "--transactions", str(tmp_path / "l.csv"), "--replication", "9"],
    )
    assert out.exit_code == 4 and "0 to 1" in out.output
