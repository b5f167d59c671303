"""The round trip (issue #13 item 7): a purchase log of the simulator's own customers,
calibrated back, gives back the scenario's mean visit rate and its spread within 10%.

The log is that of a cohort of a business in its steady state (see
:mod:`loyaltysim.calibration.roundtrip` for why, and the measured alternatives): default
behaviour, no initial customers, 4,000 prospects a month (800 new customers), three years
of burn-in, then the customers whose first purchase falls in the fourth year (about 9,500).
Two spreads of visit rates, Gamma shape 1.5 and 4.0, both at 2.0 visits a month; one
replication, seed 7. Measured (``python benchmarks/calibration_roundtrip.py --design
cohort``): mean -1.1% and -5.7%, shape +7.2% and -2.7%. The sampling error of one such
log's fitted shape is about 5%.

The dropout comes back low: hazard scale 0.89 and 0.86 (0.98 and 0.92 under the random
numbers before the counter-based draws), so the simulated customers of a calibrated
scenario stay a little longer than those who made the log. The issue asks for the visit
rate and its spread; the hazard is held to a looser 20% here, a known bias stated in
docs/calibration.md rather than a tolerance fitted to one draw.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loyaltysim.calibration.roundtrip import simulated_log
from loyaltysim.scenario.schema import Scenario
from loyaltysim.workflows.calibrate import CalibrationOptions, calibrate

BURN_IN_DAYS = 3 * 365
SEED = 7


def truth(shape: float) -> Scenario:
    return Scenario.model_validate(
        {
            "scenario": {"name": "round trip", "horizon_days": BURN_IN_DAYS + 365},
            "business": {
                "prospects_per_month": 4000,
                "fixed_costs_per_month": 0,
                "cash_floor": -1e12,
            },
            "customers": {
                "initial": 0,
                "segments": [
                    {"name": "all", "visits_per_month": 2.0, "visit_heterogeneity": shape}
                ],
            },
        }
    )


@pytest.mark.slow
@pytest.mark.parametrize("shape", [1.5, 4.0])
def test_round_trip_recovers_the_mean_visit_rate_and_its_spread(
    shape: float, tmp_path: Path
) -> None:
    log = tmp_path / "own.csv"
    simulated_log(truth(shape), 0, SEED, burn_in_days=BURN_IN_DAYS).to_csv(log, index=False)
    cal = calibrate(log, CalibrationOptions(write_files=False))
    seg = cal.scenario.customers.segments[0]
    assert seg.visits_per_month == pytest.approx(2.0, rel=0.10)
    assert seg.visit_heterogeneity == pytest.approx(shape, rel=0.10)
    assert cal.scales.hazard_scale == pytest.approx(1.0, rel=0.20)


def test_the_log_holds_purchases_only(tmp_path: Path) -> None:
    # Customers who exist on day 0 have a history whose last visit may be day 0: that is
    # no purchase of the run. The log's day-0 rows are exactly the tickets bought that day.
    from loyaltysim.calibration.roundtrip import PurchaseLogSimulation

    sc = Scenario.model_validate(
        {"scenario": {"name": "day 0", "horizon_days": 3}, "customers": {"initial": 3000}}
    )
    sim = PurchaseLogSimulation(sc, 0, 1)
    history_on_day_0 = int((sim.pop.last_visit[: sim.pop.size] == 0).sum())
    sim.run()
    log = sim.log()
    day0 = log[log["date"] == "2024-01-01"]
    assert history_on_day_0 > 0  # the case exists
    assert (day0["amount"] > 0).all()
    assert len(day0) <= sim.daily["purchases"][0]
