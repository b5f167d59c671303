"""The round trip: a purchase log of the simulator's own customers, calibrated back.

Default behaviour, no initial customers, 2.0 visits a month with Gamma shape 1.5 or 4.0;
one replication (seed 7). Two designs of the log, as docs/calibration.md ("The round
trip") reports them:

- ``cold start``: the first year of a business born on day 0 (1,500 prospects a month),
  every customer in the log (the design before issue #13's item 7 was closed);
- ``cohort``: a business in its steady state (4,000 prospects a month, three years of
  burn-in), the customers whose first purchase falls in the fourth year.

The calibrated mean visit rate, Gamma shape and hazard scale are printed against the truth.

    python benchmarks/calibration_roundtrip.py [--design cohort] [--shape 1.5]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from loyaltysim.calibration.roundtrip import simulated_log
from loyaltysim.scenario.schema import Scenario
from loyaltysim.workflows.calibrate import CalibrationOptions, calibrate

DESIGNS = {"cold start": (0, 1500.0), "cohort": (3 * 365, 4000.0)}
SEED = 7


def truth(shape: float, burn_in: int, prospects: float) -> Scenario:
    return Scenario.model_validate(
        {
            "scenario": {"name": "round trip", "horizon_days": burn_in + 365},
            "business": {
                "prospects_per_month": prospects,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--design", choices=sorted(DESIGNS), action="append")
    parser.add_argument("--shape", type=float, action="append")
    args = parser.parse_args()
    for design in args.design or list(DESIGNS):
        burn_in, prospects = DESIGNS[design]
        for shape in args.shape or [1.5, 4.0]:
            with tempfile.TemporaryDirectory() as tmp:
                log = Path(tmp) / "own.csv"
                frame = simulated_log(truth(shape, burn_in, prospects), 0, SEED, burn_in)
                frame.to_csv(log, index=False)
                cal = calibrate(log, CalibrationOptions(write_files=False))
            seg = cal.scenario.customers.segments[0]
            print(
                f"{design:<10} shape {shape:g}: {frame['customer_id'].nunique():,} customers, "
                f"visits_per_month {seg.visits_per_month:.3f} (truth 2.0, "
                f"{seg.visits_per_month / 2.0 - 1:+.1%}), visit_heterogeneity "
                f"{seg.visit_heterogeneity:.3f} (truth {shape:g}, "
                f"{seg.visit_heterogeneity / shape - 1:+.1%}), hazard scale "
                f"{cal.scales.hazard_scale:.3f} (truth 1)",
                flush=True,
            )


if __name__ == "__main__":
    main()
