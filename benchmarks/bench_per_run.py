"""CPU seconds of one café replication per variant, in-process (issue #15).

The café default (``loyaltysim run scenarios/cafe.toml``: 30 replications x 4 variants x
730 days) is per-call overhead, not array work, so its cost is the cost of one
replication of each variant times the replications. This script runs ``--reps``
replications of every variant of the scenario in this process, ``--repeat`` times, and
prints the median CPU seconds (``time.process_time``) per replication of each variant and
of all variants together, and that figure times the scenario's replications (the whole
default on one core, extrapolated: labelled so).

    python benchmarks/bench_per_run.py                       # café, 2 replications, median of 3
    python benchmarks/bench_per_run.py --reps 1 --repeat 1
    python benchmarks/bench_per_run.py --profile 30          # cProfile one base replication
    python benchmarks/bench_per_run.py --as-one-population   # and the stepped-together bound

``--as-one-population`` also runs each variant once as one population of all its
replications' customers (``replications x`` the initial customers, prospects, fixed
costs, cash and follow-up budget): the array work of a design that steps a variant's
replications together, each customer row its replication's, with the per-call overhead
paid once a day for all of them. It is that design's cost, measured, not its numbers: the
one population is not the replications' results.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(REPO / "scenarios" / "cafe.toml"))
    parser.add_argument("--reps", type=int, default=2, help="replications per variant")
    parser.add_argument("--repeat", type=int, default=3, help="timings; the median is printed")
    parser.add_argument(
        "--profile", type=int, default=0, help="profile one replication; print N rows"
    )
    parser.add_argument("--variant", default="base", help="the variant --profile runs")
    parser.add_argument(
        "--as-one-population",
        action="store_true",
        help="also time each variant as one population of all its replications' customers",
    )
    args = parser.parse_args()

    from loyaltysim.model.simulation import simulate
    from loyaltysim.scenario import load_scenario, variant_scenarios

    scenario = load_scenario(args.scenario)
    seed = scenario.scenario.seed
    arms = variant_scenarios(scenario)

    if args.profile:
        sc = dict(arms)[args.variant]
        simulate(sc, 0, seed, args.variant)  # warm caches and imports outside the profile
        prof = cProfile.Profile()
        prof.enable()
        simulate(sc, 0, seed, args.variant)
        prof.disable()
        for key in ("tottime", "cumtime"):
            pstats.Stats(prof).sort_stats(key).print_stats(args.profile)
        return

    simulate(arms[0][1], 0, seed, arms[0][0])  # warm-up
    per_variant: dict[str, list[float]] = {name: [] for name, _ in arms}
    for _ in range(args.repeat):
        for name, sc in arms:
            start = time.process_time()
            for rep in range(args.reps):
                simulate(sc, rep, seed, name)
            per_variant[name].append((time.process_time() - start) / args.reps)
    total = least = 0.0
    for name, times in per_variant.items():
        med = statistics.median(times)
        total += med
        least += min(times)
        print(
            f"{name:40s} {med:7.3f} s CPU per replication (median of {args.repeat}; "
            f"least {min(times):.3f})"
        )
    reps = scenario.scenario.replications
    # The least is the steadier figure on a shared machine (others' load only adds).
    print(f"{'all variants':40s} {total:7.3f} s CPU per replication (least {least:.3f})")
    print(
        f"whole default ({reps} replications x {len(arms)} variants), extrapolated: "
        f"{total * reps:.1f} s CPU"
    )
    if args.as_one_population:
        together = 0.0
        for name, sc in arms:
            big = one_population(sc, reps)
            start = time.process_time()
            simulate(big, 0, seed, name)
            spent = time.process_time() - start
            together += spent
            print(f"{name:40s} {spent:7.3f} s CPU as one population of {reps} replications")
        print(
            f"{'all variants':40s} {together:7.3f} s CPU stepped together, against "
            f"{total * reps:.1f} s one replication at a time ({total * reps / together:.1f}x)"
        )


def one_population(scenario: Any, copies: int) -> Any:
    """``scenario`` with ``copies`` times its customers and everything that scales with
    them (prospects, fixed costs, cash, the follow-up budget): one business as large as
    ``copies`` replications side by side."""
    biz = scenario.business
    update = {
        "customers": scenario.customers.model_copy(
            update={"initial": scenario.customers.initial * copies}
        ),
        "business": biz.model_copy(
            update={
                name: getattr(biz, name) * copies
                for name in (
                    "prospects_per_month",
                    "fixed_costs_per_month",
                    "starting_cash",
                    "cash_floor",
                )
            }
        ),
    }
    budget = getattr(scenario.followup, "monthly_budget", None)
    if budget is not None:
        update["followup"] = scenario.followup.model_copy(
            update={"monthly_budget": budget * copies}
        )
    return scenario.model_copy(update=update)


if __name__ == "__main__":
    main()
