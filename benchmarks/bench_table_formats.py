"""Parquet against CSV for the default run's tables: bytes on disk and time to read.

Runs ``loyaltysim run scenarios/cafe.toml`` (as shipped: every variant and replication, no
charts) with CSV tables, then stores the same tables as Parquet exactly as
``run --format parquet`` does when the run ends, and prints, per table and in all, the
size of each and the time to read it back into pandas (best of ``--repeat``; CSV with
``pandas.read_csv``, Parquet with ``pandas.read_parquet``). Seconds depend on the machine
and its load; the sizes do not.

    python benchmarks/bench_table_formats.py [--scenario scenarios/cafe.toml] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loyaltysim.output.tables import (  # noqa: E402
    TABLES,
    parquet_name,
    read_table,
    table_bytes_parquet,
)
from loyaltysim.scenario import load_scenario  # noqa: E402
from loyaltysim.workflows.run import run_job  # noqa: E402


def _best(read, path: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        read(path)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "cafe.toml"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        job = run_job(scenario, output=Path(tmp) / "run", workers=args.workers, charts=False)
        assert job.run_dir is not None
        print(
            f"{Path(args.scenario).name}: {len(job.results.variants)} variants x "
            f"{job.results.replications} replications x {scenario.scenario.horizon_days} days, "
            f"run in {time.perf_counter() - start:.0f} s (load {os.getloadavg()[0]:.1f})"
        )
        print(
            f"{'table':<18} {'rows':>9} {'CSV MB':>8} {'Parquet MB':>11} {'ratio':>6} "
            f"{'CSV read s':>11} {'Parquet read s':>15}"
        )
        totals = [0, 0, 0.0, 0.0]
        for name, columns in TABLES:
            csv_path = job.run_dir / name
            pq_path = job.run_dir / parquet_name(name)
            pq_path.write_bytes(table_bytes_parquet(read_table(job.run_dir, name)))
            rows = len(read_table(job.run_dir, name)[columns[0]])
            csv_size, pq_size = csv_path.stat().st_size, pq_path.stat().st_size
            t_csv = _best(pd.read_csv, csv_path, args.repeat)
            t_pq = _best(pd.read_parquet, pq_path, args.repeat)
            totals = [
                totals[0] + csv_size,
                totals[1] + pq_size,
                totals[2] + t_csv,
                totals[3] + t_pq,
            ]
            print(
                f"{name.removesuffix('.csv'):<18} {rows:>9,} {csv_size / 1e6:>8.2f} "
                f"{pq_size / 1e6:>11.2f} {csv_size / max(pq_size, 1):>6.1f} "
                f"{t_csv:>11.3f} {t_pq:>15.3f}"
            )
        print(
            f"{'all tables':<18} {'':>9} {totals[0] / 1e6:>8.2f} {totals[1] / 1e6:>11.2f} "
            f"{totals[0] / max(totals[1], 1):>6.1f} {totals[2]:>11.3f} {totals[3]:>15.3f}"
        )


if __name__ == "__main__":
    main()
