"""The CDNOW backtest: agent model vs BG/NBD vs Pareto/NBD vs what happened.

Calibrates on the CDNOW 1/10 sample shipped with the tests (calibration to 1997-09-30,
holdout to 1998-06-30) exactly as `loyaltysim calibrate` does and prints the figures table
of docs/calibration.md. ``--seeds`` repeats the agent model's backtest with other seeds,
to show how much of its figures is simulation noise.

    python benchmarks/cdnow_backtest.py [--seeds 2026 1 2]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from loyaltysim.workflows.calibrate import CalibrationOptions, calibrate

CDNOW = Path(__file__).resolve().parents[1] / "tests" / "data" / "cdnow_sample.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[2026])
    args = parser.parse_args()
    rows = []
    for i, seed in enumerate(args.seeds):
        options = CalibrationOptions(
            calibration_end="1997-09-30", holdout_end="1998-06-30", seed=seed, write_files=False
        )
        p = calibrate(CDNOW, options).payload
        if i == 0:
            h = p["holdout"]
            print(f"CDNOW sample: {p['customers']:,} customers, {p['transactions']:,} purchases;")
            print(
                f"holdout {h['weeks']:g} weeks, {h['actual_repeat']:,.0f} actual repeat occasions"
            )
            print()
            print("| model | parameters (weeks) | predicted / actual | error | correlation | MAE |")
            print("|---|---|---|---|---|---|")
            for key, label in (("bg_nbd", "BG/NBD"), ("pareto_nbd", "Pareto/NBD")):
                m = p["models"][key]
                params = ", ".join(f"{n} {v:.4g}" for n, v in m["params"].items())
                rows.append((label, params, m["holdout"]))
        a = p["agent"]
        params = (
            f"seed {seed}: visit scale {a['visit_scale']:.3f}, hazard scale {a['hazard_scale']:.3f}"
        )
        rows.append(("agent model", params, a["holdout"]))
    for label, params, h in rows:
        print(
            f"| {label} | {params} | {h['predicted_repeat']:,.0f} / {h['actual_repeat']:,.0f} "
            f"| {h['error']:+.1%} | {h['correlation']:.3f} | {h['mae']:.3f} |"
        )


if __name__ == "__main__":
    main()
