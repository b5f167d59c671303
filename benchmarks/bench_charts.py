"""What a run's charts cost, by file format: PNG (the default of `run`), SVG, both.

Simulates a scenario once (default: the café default run, its replications, variants and
horizon), then draws the six charts of a run (:func:`write_run_charts`) into a temporary
folder in each format, ``--repeat`` times, and prints the median wall and CPU seconds
and the bytes written. Before ``--charts`` existed, every run wrote both.

    python benchmarks/bench_charts.py                       # the café default run
    python benchmarks/bench_charts.py --reps 5 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "cafe.toml"))
    parser.add_argument("--reps", type=int, help="replications [the scenario's]")
    parser.add_argument("--days", type=int, help="horizon [the scenario's]")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import loyaltysim
    from loyaltysim.output.chart_formats import CHART_FORMATS
    from loyaltysim.output.charts import write_run_charts

    sets = [f"scenario.horizon_days={args.days}"] if args.days else []
    scenario = loyaltysim.load_scenario(args.scenario, sets)
    results = loyaltysim.run(scenario, replications=args.reps, workers=args.workers)
    print(
        f"{scenario.scenario.name}: {results.replications} replications x "
        f"{len(results.runs)} variants x {scenario.scenario.horizon_days} days; six charts; "
        f"medians of {args.repeat}"
    )
    print(f"{'--charts':>8} {'files':>5} {'wall s':>7} {'cpu s':>7} {'kB':>7}")
    for name in ("png", "svg", "both"):
        walls, cpus, size, count = [], [], 0, 0
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                c0, t0 = time.process_time(), time.perf_counter()
                written = write_run_charts(tmp, scenario, results.runs, formats=CHART_FORMATS[name])
                walls.append(time.perf_counter() - t0)
                cpus.append(time.process_time() - c0)
                size, count = sum(p.stat().st_size for p in written), len(written)
        print(
            f"{name:>8} {count:>5} {statistics.median(walls):>7.2f} "
            f"{statistics.median(cpus):>7.2f} {size / 1000:>7.0f}"
        )


if __name__ == "__main__":
    main()
