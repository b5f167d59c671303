"""Issue #13 item 4 on a calibrated scenario: the scenario `calibrate` writes starts its
runs from the log's customers, and their simulated first weeks agree with the fit.

A Pareto/NBD log of 1,500 customers (seed 5), calibrated to 2024-09-30; the written
scenario (with its customers file beside it) runs 8 weeks, 10 replications (seed 3),
without newcomers. Measured: the log's customers make 300 purchase occasions in the 8
weeks (standard error 6), against the BG/NBD conditional expectation of 284 (Fader,
Hardie & Lee 2005, eq. (10)): +5.5%. The tolerance, 15%, allows for the match of the model
to Pareto/NBD over 52 weeks (not to BG/NBD over 8) and three standard errors.
`run`, `compare` and `check` run the written scenario from the same customers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from loyaltysim.calibration import btyd
from loyaltysim.calibration.synthetic import pareto_nbd_log
from loyaltysim.cli import main
from loyaltysim.model.simulation import simulate
from loyaltysim.scenario import load_scenario
from loyaltysim.workflows.calibrate import CalibrationOptions, calibrate

WEEKS = 8
REPLICATIONS = 10


@pytest.mark.slow
def test_first_weeks_of_the_logs_customers_match_the_bgnbd_expectation(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    pareto_nbd_log(1500, 365, np.random.default_rng(5)).to_csv(log, index=False)
    options = CalibrationOptions(
        calibration_end="2024-09-30", output=tmp_path / "shop.toml", folder=tmp_path / "f"
    )
    cal = calibrate(log, options)
    assert (tmp_path / "shop.customers.csv").exists()
    assert 'customers = "shop.customers.csv"' in (tmp_path / "shop.toml").read_text("utf-8")
    bench = {
        "scenario.horizon_days": WEEKS * 7,
        "business.prospects_per_month": 0,
        "business.fixed_costs_per_month": 0,
        "business.cash_floor": -1e12,
    }
    sc = load_scenario(tmp_path / "shop.toml", bench)
    s, n = cal.summary, cal.summary.customers
    expected = btyd.bgnbd_expected(
        cal.fits["bg_nbd"], s.frequency.astype(float), s.recency, s.T, WEEKS
    ).sum()
    simulated = []
    for rep in range(REPLICATIONS):
        c = simulate(sc, rep, 3, keep_customers=True).customers
        assert c is not None and (c["origin"][:n] == 0).all()  # rows 0..n-1: the log's
        bought = c["repeat_days"][:n] + (c["first_purchase"][:n] >= 0)  # referrals come after
        simulated.append(int(bought.sum()))
    assert np.mean(simulated) == pytest.approx(expected, rel=0.15)

    offer = tmp_path / "offer.toml"  # beside the customers file, with a policy to compare
    offer.write_text(
        (tmp_path / "shop.toml").read_text("utf-8")
        + '\n[[variants]]\nname = "10% off"\n'
        + 'set = { "discount.kind" = "flat", "discount.rate" = 0.1 }\n',
        encoding="utf-8",
    )
    for command, path in (("run", "shop.toml"), ("compare", "offer.toml"), ("check", "offer.toml")):
        args = [command, str(tmp_path / path), "--days", "14", "--reps", "2"]
        result = CliRunner().invoke(
            main, [*args, "--workers", "1", "--quiet", "--output", str(tmp_path / command)]
        )
        assert result.exit_code in (0, 1), (command, result.output)
    first_day = (tmp_path / "run" / "timeseries.csv").read_text("utf-8").splitlines()[1]
    header = (tmp_path / "run" / "timeseries.csv").read_text("utf-8").splitlines()[0]
    customers = float(first_day.split(",")[header.split(",").index("customers")])
    assert 0 < customers <= n  # the log's customers alive, not customers.initial draws
