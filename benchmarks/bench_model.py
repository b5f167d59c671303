"""Model throughput and peak memory: customer-days per second, one replication, one core.

Each case runs in a fresh process so that its peak resident memory (ru_maxrss) is its own.
Goal (issue #2): 100k customers x 365 days in at most 5 s with peak memory under 400 MB.

    python benchmarks/bench_model.py            # 10k and 100k customers x 365 days
    python benchmarks/bench_model.py --sizes 1000000 --days 30
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import time

from _scenarios import scenario_for  # benchmarks/_scenarios.py: the script's folder is on sys.path

# One core: keep any BLAS from spreading over the other (the model does not use it).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def _case(customers: int, days: int, queue: mp.Queue) -> None:
    from loyaltysim.model.simulation import simulate
    from loyaltysim.scenario.schema import Scenario

    scenario = Scenario.model_validate(scenario_for(customers, days))
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    result = simulate(scenario, replication=0, root_seed=1)
    cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start_wall
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    queue.put((cpu, wall, peak_mb, int(result.daily["customers"][-1]), result.ruin_day))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    print(
        f"{'customers':>10} {'days':>5} {'wall s':>7} {'cpu s':>7} "
        f"{'M cust-days/s':>14} {'peak MB':>8} {'end customers':>14}"
    )
    for size in args.sizes:
        queue: mp.Queue = ctx.Queue()
        proc = ctx.Process(target=_case, args=(size, args.days, queue))
        proc.start()
        cpu, wall, peak, end, ruin = queue.get()
        proc.join()
        rate = size * args.days / wall / 1e6
        note = f"  (ruined on day {ruin})" if ruin is not None else ""
        print(
            f"{size:>10,} {args.days:>5} {wall:>7.2f} {cpu:>7.2f} {rate:>14.1f} "
            f"{peak:>8.0f} {end:>14,}{note}"
        )


if __name__ == "__main__":
    main()
