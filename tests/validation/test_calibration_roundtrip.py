"""The round trip: a purchase log of the simulator's own customers, calibrated back, gives
back the scenario's purchase process.

The log comes from one replication of a scenario with default behaviour, no initial
customers and 300 new ones a month for a year (PurchaseLogSimulation reads it off the
model). Calibrating it back recovers the mean visit rate (the visit scale included, which
is found by simulating the same model) and the default defection hazards within 10%.
The spread of visit rates does not come back within 10% (fitted Gamma shape 1.86 against
1.5): a converted prospect first buys at their first occasion, at their own visit rate, so
the log selects the frequent visitors among recent customers (and frequent visitors meet
more service failures); the test records that, so that a change in either shows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loyaltysim.calibration.roundtrip import simulated_log
from loyaltysim.scenario.schema import Scenario
from loyaltysim.workflows.calibrate import CalibrationOptions, calibrate


@pytest.mark.slow
def test_round_trip_recovers_the_visit_rate_and_the_hazards(tmp_path: Path) -> None:
    truth = Scenario.model_validate(
        {
            "scenario": {"name": "round trip", "horizon_days": 365},
            "business": {
                "prospects_per_month": 1500,
                "fixed_costs_per_month": 0,
                "cash_floor": -1e12,
            },
            "customers": {
                "initial": 0,
                "segments": [{"name": "all", "visits_per_month": 2.0, "visit_heterogeneity": 1.5}],
            },
        }
    )
    log = tmp_path / "own.csv"
    simulated_log(truth, 0, 7).to_csv(log, index=False)
    cal = calibrate(log, CalibrationOptions(write_files=False))
    seg = cal.scenario.customers.segments[0]
    assert seg.visits_per_month == pytest.approx(2.0, rel=0.10)
    assert cal.scales.hazard_scale == pytest.approx(1.0, rel=0.10)
    # Recorded, not required (see the module docstring): the spread comes back narrower.
    assert 1.5 < seg.visit_heterogeneity < 2.3
