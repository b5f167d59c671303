"""Parallel efficiency of replications, and what pairing buys on the shipped scenarios.

``efficiency``: the same replications of a 10k-customer, 365-day scenario, serially and on
a pool of 2 processes; efficiency = T1 / (2 T2) (goal, issue #5: at least 0.75 on 2
cores). Each is timed ``--repeat`` times and the fastest kept, since the machine may be
shared; the load average is printed with the figure, and so is each mode's CPU time, which
a busy machine does not inflate the way it inflates wall time.

``pairing``: for each scenario (default: every scenarios/*.toml), every variant against
the base with common random numbers: the width of the unpaired (Welch) 95% interval over
that of the paired one, per metric (> 1: pairing made the interval that many times
narrower).

    python benchmarks/bench_parallel.py                     # both
    python benchmarks/bench_parallel.py efficiency --reps 16
    python benchmarks/bench_parallel.py pairing scenarios/cafe.toml --reps 30
"""

from __future__ import annotations

import argparse
import glob
import os
import resource
import subprocess
import time

from _scenarios import scenario_for  # benchmarks/_scenarios.py: the script's folder is on sys.path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")


def load_average() -> str:
    out = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    return out.split("load average:")[-1].strip()


def cpu_seconds() -> float:
    """CPU time of this process and its finished children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def efficiency(args: argparse.Namespace) -> None:
    from loyaltysim.experiment import ProcessExecutor, SerialExecutor, run_experiment
    from loyaltysim.scenario.schema import Scenario

    scenario = Scenario.model_validate(scenario_for(args.customers, args.days))
    variants = [("base", scenario)]

    def timed(executor: object) -> tuple[float, float]:
        best, cpu = float("inf"), 0.0
        for _ in range(args.repeat):
            c0, t0 = cpu_seconds(), time.perf_counter()
            results = run_experiment(variants, args.reps, 1, executor)  # type: ignore[arg-type]
            wall, cpu_used = time.perf_counter() - t0, cpu_seconds() - c0
            assert results.replications == args.reps
            if wall < best:
                best, cpu = wall, cpu_used
        return best, cpu

    print(
        f"efficiency: {args.reps} replications of {args.customers:,} customers x "
        f"{args.days} days; best of {args.repeat}"
    )
    print(f"  load average before: {load_average()} (2 cores)")
    t1, c1 = timed(SerialExecutor())
    t2, c2 = timed(ProcessExecutor(2))
    print(f"  load average after:  {load_average()}")
    print(f"  T1 (serial)    {t1:7.2f} s wall  {c1:7.2f} s CPU")
    print(f"  T2 (2 workers) {t2:7.2f} s wall  {c2:7.2f} s CPU")
    print(f"  efficiency T1 / (2 T2) = {t1 / (2 * t2):.3f}  (goal >= 0.75)")


def pairing(args: argparse.Namespace) -> None:
    from loyaltysim.experiment import ProcessExecutor
    from loyaltysim.experiment.compare import (
        COMPARE_METRICS,
        RUIN,
        build_entries,
        differences,
        metric_table,
    )
    from loyaltysim.scenario import load_scenario
    from loyaltysim.workflows.compare import run_compare

    files = args.scenarios or sorted(glob.glob("scenarios/*.toml"))
    print("pairing: unpaired (Welch) 95% CI width / paired 95% CI width, per variant")
    metrics = (*COMPARE_METRICS, RUIN)
    for path in files:
        overrides = []
        if args.reps:
            overrides.append(f"scenario.replications={args.reps}")
        if args.days:
            overrides.append(f"scenario.horizon_days={args.days}")
        scenario = load_scenario(path, overrides)
        if not scenario.variants:
            print(f"\n{path}: no variants, skipped")
            continue
        entries = build_entries([(path, scenario)])
        t0 = time.perf_counter()
        out = run_compare(entries, executor=ProcessExecutor(2), write_files=False)
        wall = time.perf_counter() - t0
        diffs = differences(
            metric_table(out.runs, {e.name: e.scenario for e in out.entries}),
            entries[0].name,
            metrics,
        )
        meta = out.entries[0].scenario.scenario
        print(
            f"\n{path}: {meta.replications} replications x {meta.horizon_days} days, "
            f"seed {out.seed} ({wall:.0f} s)"
        )
        print(f"  {'variant':<34}" + "".join(f"{m[:12]:>13}" for m in metrics))
        for e in entries[1:]:
            cells = []
            for m in metrics:
                r = diffs[m][e.name].variance_reduction
                cells.append(f"{r:>12.1f}x" if r == r and r != float("inf") else f"{'n/a':>13}")
            print(f"  {e.name[:34]:<34}" + "".join(cells))
        narrower = [
            diffs[m][e.name].variance_reduction > 1
            for m in COMPARE_METRICS
            for e in entries[1:]
            if diffs[m][e.name].variance_reduction == diffs[m][e.name].variance_reduction
        ]
        print(
            f"  paired narrower in {sum(narrower)} of {len(narrower)} (variant, metric) pairs "
            "(ruin excluded: often 0 vs 0)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "what", nargs="?", choices=["efficiency", "pairing", "both"], default="both"
    )
    parser.add_argument("scenarios", nargs="*", help="for pairing [scenarios/*.toml]")
    parser.add_argument(
        "--reps",
        type=int,
        default=None,
        help="replications (efficiency default 16; pairing: the file's)",
    )
    parser.add_argument("--days", type=int, default=None)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if args.what in ("efficiency", "both"):
        eff = argparse.Namespace(**vars(args))
        eff.reps = args.reps or 16
        eff.days = args.days or 365
        efficiency(eff)
    if args.what in ("pairing", "both"):
        pairing(args)


if __name__ == "__main__":
    main()
