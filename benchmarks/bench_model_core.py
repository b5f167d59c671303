"""The simulation alone, against the vectorised reference model in the same run.

Cases (issue #15): 100k customers x 365 days (seconds and the ratio to the reference),
horizon scaling at 50k customers (3650 days / 365 days: the cost of departed customers) and
1M x 365 (CPU seconds and peak resident memory). Every figure is the median of ``--reps``
runs; each run is a fresh process (so its peak memory is its own), the model and the
reference alternating, so a loaded machine slows both alike.

    python benchmarks/bench_model_core.py                    # all cases, 3 runs each
    python benchmarks/bench_model_core.py --cases 100k --reps 1
    python benchmarks/bench_model_core.py --reference PATH   # folder of ref_loyalty_numpy.py

The reference (``ref_loyalty_numpy.py``) is looked for in ``--reference``, else
``$LOYALTYSIM_REFERENCE``, else ``../shared/reference`` next to the repository; without it
the model's figures are printed alone.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import statistics
import sys
import time
from pathlib import Path

from _scenarios import scenario_for  # benchmarks/_scenarios.py: the script's folder is on sys.path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parent.parent
# name -> (customers, days, behaviour.other_hazard per year, None: default). The "-leave" pair is
# the case for horizon scaling: most customers leave within a few years (about
# half in the first, four in five within two), so active customer-days grow far less.
CASES = {
    "100k": (100_000, 365, None),
    "50k-1y": (50_000, 365, None),
    "50k-10y": (50_000, 3650, None),
    "50k-1y-leave": (50_000, 365, 3.0),
    "50k-10y-leave": (50_000, 3650, 3.0),
    "1M": (1_000_000, 365, None),
}


def _model(customers: int, days: int, other: float | None, queue: mp.Queue) -> None:
    from loyaltysim.model.simulation import simulate
    from loyaltysim.scenario.schema import Scenario

    data = scenario_for(customers, days)
    # Horizon scaling needs customers who leave over the years and a business that stays
    # open: modest acquisition, and cash enough not to be ruined.
    data["business"]["prospects_per_month"] = 0.01 * customers
    data["business"]["starting_cash"] = 1e12
    data["scenario"]["max_customers"] = 5_000_000
    if other is not None:
        data["behaviour"] = {"other_hazard": other}
    scenario = Scenario.model_validate(data)
    start = time.process_time()
    result = simulate(scenario, replication=0, root_seed=1)
    cpu = time.process_time() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux -> MiB
    active_days = int(result.daily["customers"].sum())  # the work: active customer-days
    queue.put((cpu, peak, int(result.daily["customers"][-1]), active_days))


def _reference(
    folder: str, customers: int, days: int, other: float | None, queue: mp.Queue
) -> None:
    sys.path.insert(0, folder)
    import ref_loyalty_numpy  # type: ignore[import-not-found]

    start = time.process_time()
    ref_loyalty_numpy.run(customers, days, 1)
    cpu = time.process_time() - start
    queue.put((cpu, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0, 0))


def _child(target: object, *args: object) -> tuple[float, float, int, int]:
    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))  # type: ignore[arg-type]
    proc.start()
    out = queue.get()
    proc.join()
    return out  # type: ignore[no-any-return]


def _reference_folder(given: str | None) -> str | None:
    default = REPO.parent / "shared" / "reference"
    for candidate in (given, os.environ.get("LOYALTYSIM_REFERENCE"), default):
        if candidate and (Path(candidate) / "ref_loyalty_numpy.py").is_file():
            return str(candidate)
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--reference", help="folder holding ref_loyalty_numpy.py")
    args = parser.parse_args()
    folder = _reference_folder(args.reference)
    if folder is None:
        print(
            "reference model not found (--reference, $LOYALTYSIM_REFERENCE or "
            "../shared/reference next to the repository): model figures only"
        )
    print(
        f"{'case':>8} {'customers':>10} {'days':>5} {'model cpu s':>11} {'ref cpu s':>9} "
        f"{'ratio':>6} {'peak MiB':>8} {'end cust':>9} {'active cust-days':>16}"
    )
    medians: dict[str, float] = {}
    work: dict[str, int] = {}
    for name in args.cases:
        customers, days, other = CASES[name]
        model, ref = [], []
        for _ in range(args.reps):
            model.append(_child(_model, customers, days, other))
            if folder is not None:
                ref.append(_child(_reference, folder, customers, days, other))
        cpu = statistics.median(m[0] for m in model)
        peak = statistics.median(m[1] for m in model)
        medians[name] = cpu
        work[name] = model[0][3]
        if ref:
            ref_cpu = statistics.median(r[0] for r in ref)
            ref_text, ratio = f"{ref_cpu:>9.2f}", f"{cpu / ref_cpu:>6.2f}"
        else:
            ref_text, ratio = f"{'-':>9}", f"{'-':>6}"
        print(
            f"{name:>8} {customers:>10,} {days:>5} {cpu:>11.2f} {ref_text} {ratio} "
            f"{peak:>8.0f} {model[0][2]:>9,} {model[0][3]:>16,}",
            flush=True,
        )
    for tail in ("", "-leave"):
        one, ten = f"50k-1y{tail}", f"50k-10y{tail}"
        if one in medians and ten in medians:
            print(
                f"horizon scaling at 50k{tail}: 3650 days / 365 days = "
                f"{medians[ten] / medians[one]:.2f} of CPU (goal <= 2), for "
                f"{work[ten] / work[one]:.2f} times the active customer-days"
            )


if __name__ == "__main__":
    main()
