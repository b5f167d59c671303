"""The round trip: a purchase log of the simulator's own customers, calibrated back.

One replication of a year of a scenario with default behaviour, no initial customers, 300
new customers a month, 2.0 visits a month with Gamma shape 1.5; its purchase log (read off
the model by PurchaseLogSimulation) goes through the calibration, and the calibrated figures
are printed against the truth (docs/calibration.md, "The round trip").

    python benchmarks/calibration_roundtrip.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from loyaltysim.calibration.roundtrip import simulated_log
from loyaltysim.scenario.schema import Scenario
from loyaltysim.workflows.calibrate import CalibrationOptions, calibrate

TRUTH = {
    "scenario": {"name": "round trip", "horizon_days": 365},
    "business": {"prospects_per_month": 1500, "fixed_costs_per_month": 0, "cash_floor": -1e12},
    "customers": {
        "initial": 0,
        "segments": [{"name": "all", "visits_per_month": 2.0, "visit_heterogeneity": 1.5}],
    },
}


def main() -> None:
    truth = Scenario.model_validate(TRUTH)
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "own.csv"
        frame = simulated_log(truth, 0, 7)
        frame.to_csv(log, index=False)
        cal = calibrate(log, CalibrationOptions(write_files=False))
    seg, true_seg = cal.scenario.customers.segments[0], truth.customers.segments[0]
    print(f"log: {len(frame):,} purchases of {frame['customer_id'].nunique():,} customers")
    rows = [
        ("visits_per_month", true_seg.visits_per_month, seg.visits_per_month),
        ("visit_heterogeneity", true_seg.visit_heterogeneity, seg.visit_heterogeneity),
        ("hazard scale", 1.0, cal.scales.hazard_scale),
    ]
    for name, want, got in rows:
        print(f"{name:<20} truth {want:6.3f}  calibrated {got:6.3f}  ({got / want - 1:+.1%})")


if __name__ == "__main__":
    main()
