"""Results.to_frame: the folder's tables as DataFrames; a customers table CLV models read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import loyaltysim
from loyaltysim.analysis.tables import COLUMNS
from loyaltysim.calibration.btyd import fit_bgnbd
from loyaltysim.experiment import Results
from loyaltysim.output.tables import TABLES, read_table
from loyaltysim.scenario.schema import Scenario
from loyaltysim.workflows.run import run_job
from tests.factories import make_scenario


def tiny(horizon_days: int, replications: int, seed: int) -> Scenario:
    discount = {"kind": "flat", "rate": 0.05}
    scenario = make_scenario(
        horizon_days=horizon_days, replications=replications, discount=discount
    )
    meta = scenario.scenario.model_copy(update={"seed": seed})
    return scenario.model_copy(update={"scenario": meta})


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory):
    scenario = tiny(120, 2, 7)
    return run_job(scenario, output=tmp_path_factory.mktemp("run") / "r", workers=1, charts=False)


@pytest.mark.parametrize("name", list(COLUMNS))
def test_every_table_is_the_folders_file_as_a_frame(job, name: str) -> None:
    frame = job.results.to_frame(name)
    assert tuple(frame.columns) == COLUMNS[name]
    on_disk = read_table(job.run_dir, f"{name}.csv")
    assert len(frame) == len(on_disk[frame.columns[0]])
    for column in frame.columns:
        got, disk = frame[column].to_numpy(), on_disk[column]
        if got.dtype == object:
            assert list(got.astype(str)) == list(disk)
        else:
            np.testing.assert_allclose(got.astype(float), disk.astype(float), equal_nan=True)


def test_the_folder_writes_every_table() -> None:
    assert [name for name, _ in TABLES] == [f"{name}.csv" for name in COLUMNS]


def test_customers_follow_the_clv_convention(job) -> None:
    c = job.results.to_frame("customers")
    bought = c["T"].notna()
    assert bought.any() and (c["frequency"] >= 0).all()
    # frequency counts repeat buying days: at most the days after the first purchase
    assert (c.loc[bought, "frequency"] <= c.loc[bought, "recency"]).all()
    one_time = bought & (c["frequency"] == 0)
    assert one_time.any()
    assert (c.loc[one_time, "recency"] == 0).all()
    assert (c.loc[one_time, "monetary_value"] == 0).all()
    assert (c.loc[bought, "T"] >= c.loc[bought, "recency"]).all()
    repeat = c["frequency"] > 0
    assert (c.loc[repeat, "recency"] > 0).all() and (c.loc[repeat, "monetary_value"] > 0).all()
    # recency is from the first purchase to the last, and both lie within the run
    span = c.loc[bought, "last_purchase"] - c.loc[bought, "first_purchase"]
    assert (span == c.loc[bought, "recency"]).all()
    assert c.loc[bought, "first_purchase"].between(0, 119).all()
    never = ~bought
    assert (c.loc[never, "frequency"] == 0).all() and (c.loc[never, "recency"] == 0).all()


def test_frequency_counts_buying_days_not_tickets(job) -> None:
    """Repeat buying days plus the first one never exceed the tickets a customer bought."""
    runs = job.results.runs["base"]
    for r in runs:
        assert r.customers is not None
        c = r.customers
        in_run = c["first_purchase"] >= 0
        starting = c["origin"] == 0  # starting customers' visits include their history
        newcomers = in_run & ~starting
        assert (c["repeat_days"][newcomers] + 1 <= c["visits"][newcomers]).all()


def test_bgnbd_fits_the_customers_table(job) -> None:
    c = job.results.to_frame("customers")
    c = c[(c["variant"] == "base") & c["T"].notna()]
    weeks = 7.0
    fit = fit_bgnbd(
        c["frequency"].to_numpy(float),
        c["recency"].to_numpy(float) / weeks,
        c["T"].to_numpy(float) / weeks,
    )
    params = fit.as_dict()["params"]
    assert set(params) == {"r", "alpha", "a", "b"}, params
    assert all(np.isfinite(v) and v > 0 for v in params.values()), params
    assert np.isfinite(fit.loglik)
    # The fitted mean purchase rate (r / alpha per week) is that of the table, roughly.
    observed = c["frequency"].sum() / (c["T"].sum() / weeks)
    assert 0.3 * observed < params["r"] / params["alpha"] < 3 * observed, (params, observed)


def test_the_api_keeps_customers_and_can_leave_them_out() -> None:
    scenario = tiny(30, 1, 3)
    kept = loyaltysim.run(scenario, workers=1)
    assert isinstance(kept.to_frame("customers"), pd.DataFrame)
    left = loyaltysim.run(scenario, workers=1, customers=False)
    with pytest.raises(ValueError, match="customers=True"):
        left.to_frame("customers")
    assert isinstance(left.to_frame("timeseries"), pd.DataFrame)


def test_a_large_run_leaves_customers_out_with_a_message(monkeypatch) -> None:
    monkeypatch.setattr("loyaltysim.workflows.run.CUSTOMER_ROWS_LIMIT", 10)
    scenario = tiny(30, 2, 3)
    results: Results = loyaltysim.run(scenario, workers=1)
    assert results.customers_note is not None and "--reps 1" in results.customers_note
    with pytest.raises(ValueError, match="left out"):
        results.to_frame("customers")
    forced = loyaltysim.run(scenario, workers=1, customers=True)
    assert len(forced.to_frame("customers")) > 10


def test_an_unknown_table_names_the_tables(job) -> None:
    with pytest.raises(KeyError, match="timeseries"):
        job.results.to_frame("nope")
