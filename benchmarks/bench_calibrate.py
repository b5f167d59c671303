"""Benchmark: read and fit a purchase log of a million purchases.

Draws a log from a Pareto/NBD world with known parameters
(:func:`loyaltysim.calibration.synthetic.pareto_nbd_log`), writes it as CSV, then times
what `loyaltysim calibrate` does before simulating: reading and checking the log, counting
it, and fitting BG/NBD, Pareto/NBD and Gamma-Gamma. Prints the times and the fitted
parameters against the true ones. The goal is under 30 s on a 2-core machine; no test
asserts on time.

    python benchmarks/bench_calibrate.py [--purchases 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from loyaltysim.calibration import btyd
from loyaltysim.calibration.log import LogSpec, read_log
from loyaltysim.calibration.rfm import check_periods, summarise
from loyaltysim.calibration.synthetic import pareto_nbd_log

TRUE = {"r": 0.9, "alpha": 8.0, "s": 0.6, "beta": 12.0}
PURCHASES_PER_CUSTOMER = 4.95  # of this world over 78 weeks: sizes the customer count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=1_000_000)
    args = parser.parse_args()
    customers = int(args.purchases / PURCHASES_PER_CUSTOMER)
    frame = pareto_nbd_log(customers, 546, np.random.default_rng(2026), **TRUE)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.csv"
        frame.to_csv(path, index=False)
        print(
            f"log: {len(frame):,} purchases of {customers:,} customers, "
            f"{path.stat().st_size / 1e6:.0f} MB of CSV"
        )
        spec = LogSpec()
        t0 = time.perf_counter()
        log = read_log(path, spec)
        periods = check_periods(log, spec, "2024-12-31", "2025-06-29")
        s = summarise(log, spec, periods)
        t1 = time.perf_counter()
        bg = btyd.fit_bgnbd(s.frequency, s.recency, s.T)
        t2 = time.perf_counter()
        pareto = btyd.fit_paretonbd(s.frequency, s.recency, s.T)
        t3 = time.perf_counter()
        gg = btyd.fit_gammagamma(s.frequency, s.monetary)
        t4 = time.perf_counter()
    print(f"read, check and count: {t1 - t0:6.2f} s ({s.customers:,} customers)")
    print(f"BG/NBD fit:            {t2 - t1:6.2f} s  " + _params(bg))
    print(f"Pareto/NBD fit:        {t3 - t2:6.2f} s  " + _params(pareto))
    print(f"  (drawn from          {', '.join(f'{k} {v:g}' for k, v in TRUE.items())})")
    print(f"Gamma-Gamma fit:       {t4 - t3:6.2f} s  " + _params(gg))
    print(f"total read and fit:    {t4 - t0:6.2f} s (goal: under 30 s)")


def _params(fit: btyd.Fit) -> str:
    return ", ".join(f"{n} {v:.4g}" for n, v in zip(fit.names, fit.params, strict=True))


if __name__ == "__main__":
    main()
