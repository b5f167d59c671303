"""Wall time of the README's main job: `loyaltysim run scenarios/cafe.toml`.

Goal (issue #2): under a minute on this 2-core machine. Runs the command as a user
would (a fresh process, all cores, results into a temporary folder) and prints the wall
time, the machine's load before it started, and what the run produced.

    python benchmarks/bench_run.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "cafe.toml"))
    args = parser.parse_args()
    for attempt in range(1, args.repeat + 1):
        load = os.getloadavg()[0]
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "run"
            command = [sys.executable, "-m", "loyaltysim", "run", args.scenario,
                       "--output", str(out), "--quiet"]  # fmt: skip
            start = time.perf_counter()
            subprocess.run(command, check=True)
            wall = time.perf_counter() - start
            summary = json.loads((out / "summary.json").read_text())
            rows = sum(1 for _ in (out / "timeseries.csv").open()) - 1
        tasks = summary["replications"] * len(summary["variants"])
        print(
            f"run {attempt}: {wall:.1f} s wall (goal < 60 s) for {tasks} replications "
            f"({summary['replications']} x {len(summary['variants'])} variants, "
            f"{summary['horizon_days']} days), {rows:,} timeseries rows; "
            f"load average before: {load:.2f} on {os.cpu_count()} cores"
        )


if __name__ == "__main__":
    main()
