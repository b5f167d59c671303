"""A long sweep: time, and flat memory in the parent and in the workers.

Goal (issue #5): a sweep of 1,000 runs of a 10k-customer, 365-day scenario finishes in at
most 15 minutes on a 2-core machine, with flat memory. The sweep is a Latin hypercube of
``runs / reps`` points over price and discount rate, each point ``reps`` replications,
streamed to sweep.csv as points finish (exactly what ``loyaltysim sweep`` does).

Memory is flat when the parent's resident set does not grow with the points done: it is
sampled as the sweep goes (at every tenth of the points) and printed, with the peak of the
parent and of the largest worker.

    python benchmarks/bench_sweep.py                 # the full 1,000 runs
    python benchmarks/bench_sweep.py --runs 200      # a fifth, extrapolated to 1,000
    python benchmarks/bench_sweep.py --customers 2000 --days 90 --runs 40   # a quick look
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from _scenarios import scenario_for, toml_text  # benchmarks/: the script's folder, on sys.path

# One core per process: keep any BLAS from spreading over the other.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def rss_mb() -> float:
    """Current resident set of this process, MB (Linux /proc)."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def load_average() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="runs in all [1000]")
    parser.add_argument("--reps", type=int, default=4, help="replications per point [4]")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--target-runs", type=int, default=1000, help="extrapolate to [1000]")
    parser.add_argument("--budget-minutes", type=float, default=15.0)
    args = parser.parse_args()

    from loyaltysim.experiment import ProcessExecutor, SerialExecutor
    from loyaltysim.experiment.sweep import ScenarioSource, parse_param
    from loyaltysim.workflows.sweep import run_sweep

    points = max(1, args.runs // args.reps)
    c = args.customers
    # The benchmarks' scenario with a flat discount, whose rate is swept.
    data = scenario_for(c, args.days)
    data["scenario"].update(name="bench sweep", replications=args.reps)
    data["discount"] = {"kind": "flat", "rate": 0.05}
    text = toml_text(data)
    params = [parse_param("business.price=4.0:5.5"), parse_param("discount.rate=0:0.25")]
    samples: list[tuple[int, float]] = []
    every = max(1, points // 10)

    def progress(done: int, total: int) -> None:
        if done % every == 0 or done == total:
            samples.append((done, rss_mb()))

    print(f"load before: {load_average()}")
    print(
        f"sweep: {points} points x {args.reps} replications = {points * args.reps} runs of "
        f"{c:,} customers x {args.days} days, {args.workers} worker(s)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.toml"
        path.write_text(text, encoding="utf-8")
        executor = SerialExecutor() if args.workers == 1 else ProcessExecutor(args.workers)
        start = time.perf_counter()
        outcome = run_sweep(
            ScenarioSource.from_file(path),
            params,
            sample="lhs",
            n=points,
            output=Path(tmp) / "out",
            executor=executor,
            progress=progress,
            charts=False,
        )
        wall = time.perf_counter() - start
        csv_bytes = (outcome.run_dir / "sweep.csv").stat().st_size
    parent_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    runs = outcome.finished * args.reps
    print(f"load after:  {load_average()}")
    print(f"status {outcome.status}: {outcome.finished} points, {runs} runs, CSV {csv_bytes:,} B")
    print(f"wall {wall:.1f} s = {wall / max(runs, 1):.3f} s per run")
    print("parent RSS (MB) as points finished: " + ", ".join(f"{d}:{m:.0f}" for d, m in samples))
    print(f"peak RSS: parent {parent_peak:.0f} MB, largest worker {child_peak:.0f} MB")
    full = wall / max(runs, 1) * args.target_runs
    verdict = "within" if full <= args.budget_minutes * 60 else "OVER"
    print(
        f"{args.target_runs} runs: {full / 60:.1f} min "
        f"({'measured' if runs == args.target_runs else 'extrapolated linearly'}); "
        f"{verdict} the {args.budget_minutes:.0f}-minute budget"
    )


if __name__ == "__main__":
    main()
