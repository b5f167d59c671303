"""The whole command line against the vectorised reference model, as ratios.

Each figure is ``loyaltysim run`` as a user types it (a fresh process: imports, scenario,
simulation, results files, charts) against the reference model of the shared reference
folder (``ref_loyalty_numpy.py``: a small loyalty model, fully vectorised in numpy, the
ceiling for a Python design of this class) at the same customers x days, both run by this
script, alternating, ``--repeat`` times; the ratio is of the medians. A ratio is what
survives a shared, loaded machine: both sides slow down together.

``size``: ``run`` at 10k, 100k and 1M customers x 365 days (one replication, one worker)
against the reference at the same size (issue #15 goal: <= 4x at 100k; 1M x 365 in
<= 30 s of CPU and <= 600 MiB peak).
``horizon``: 1, 5 and 10 years at 50k and 100k customers of a business whose customers
mostly leave within a few years (no paid acquisition; cash for the whole horizon, so no
ruin cuts a run short): each horizon's wall over one year's, for the CLI and for the
reference, the CLI's CPU over one year's, and the active customer-days over one year's
(read from the run's ``timeseries.csv``): the work a model whose cost follows the active
customers cannot avoid (goal: 10 years <= 2x one year at 50k).
``cafe``: the README's main job, ``run scenarios/cafe.toml`` (its replications and
variants), with ``--workers 1`` and ``2`` (goal: <= 15 s on 2 idle cores), against the
reference on all its customer-days at once (one population of initial customers x
replications x variants over the horizon).

Wall is ``time.perf_counter``; CPU (user + system) and peak resident memory are the
child's, from ``resource.getrusage(RUSAGE_CHILDREN)`` read in a fresh measuring process
per command, so each figure is that command's own (its worker processes included; peak
memory is that of its largest process).

    python benchmarks/bench_cli.py size --sizes 10000 100000
    python benchmarks/bench_cli.py horizon --repeat 1
    python benchmarks/bench_cli.py cafe
    python benchmarks/bench_cli.py size --reference PATH/TO/reference   # or LOYALTYSIM_REFERENCE

The reference folder is taken from ``--reference``, else ``$LOYALTYSIM_REFERENCE``, else
``../shared/reference`` next to the repository.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# the script's folder is on sys.path
from _scenarios import leaving_scenario, scenario_for, toml_text

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_ENV = "LOYALTYSIM_REFERENCE"
REFERENCE_SCRIPT = "ref_loyalty_numpy.py"
MIB = 1024  # ru_maxrss is in KiB on Linux


@dataclass(frozen=True)
class Cost:
    """One command's wall seconds, CPU seconds (user + system) and peak RSS (MiB)."""

    wall: float
    cpu: float
    peak_mib: float


def measure(command: Sequence[str], cwd: Path = ROOT) -> Cost:
    """Run ``command`` from a fresh measuring process and return its own cost.

    The measuring process does nothing but start the command, so its
    ``RUSAGE_CHILDREN`` is the command's alone (a maximum, for the peak memory, that an
    earlier command in this script cannot raise).
    """
    probe = (
        "import json, resource, subprocess, sys, time\n"
        "t0 = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\n"
        "wall = time.perf_counter() - t0\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps([wall, u.ru_utime + u.ru_stime, u.ru_maxrss]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, *command], cwd=cwd, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr}")
    wall, cpu, rss = json.loads(done.stdout)
    return Cost(wall, cpu, rss / MIB)


def reference_script(option: str | None) -> Path:
    """The reference model's script, or exit with a message that says where it looked."""
    folder = Path(option or os.environ.get(REFERENCE_ENV) or ROOT.parent / "shared" / "reference")
    script = folder / REFERENCE_SCRIPT
    if not script.is_file():
        raise SystemExit(
            f"the reference model is not there: {script} does not exist. Give its folder "
            f"with --reference DIR or ${REFERENCE_ENV} (it holds {REFERENCE_SCRIPT} and "
            "params.py)."
        )
    return script


def reference_command(script: Path, customers: int, days: int) -> list[str]:
    return [sys.executable, str(script), "-n", str(customers), "-T", str(days), "--seed", "1"]


def run_command(scenario: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "loyaltysim", "run", str(scenario), "--quiet",
        "--output", str(out), *extra,
    ]  # fmt: skip


def median_cost(costs: Sequence[Cost]) -> Cost:
    return Cost(
        statistics.median(c.wall for c in costs),
        statistics.median(c.cpu for c in costs),
        max(c.peak_mib for c in costs),
    )


def paired(
    cli: Sequence[str], ref: Sequence[str], repeat: int, keep: bool = False
) -> tuple[Cost, Cost]:
    """Median cost of ``cli`` and of ``ref``, alternated ``repeat`` times; ``keep`` leaves
    the last run's folder for reading."""
    ours, theirs = [], []
    out = Path(cli[cli.index("--output") + 1])
    for i in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        ours.append(measure(cli))
        theirs.append(measure(ref))
        if not (keep and i == repeat - 1):
            shutil.rmtree(out, ignore_errors=True)
    return median_cost(ours), median_cost(theirs)


def bench_scenario(tmp: Path, customers: int, days: int, leaving: bool = False) -> Path:
    path = tmp / f"bench-{customers}-{days}{'-leaving' if leaving else ''}.toml"
    data = (leaving_scenario if leaving else scenario_for)(customers, days)
    path.write_text(toml_text(data), "utf-8")
    return path


def customer_days(out: Path) -> tuple[float, float, int | None]:
    """The active customer-days of a one-replication run folder, its active customers on
    the last day, and its ruin day."""
    with (out / "timeseries.csv").open(newline="", encoding="utf-8") as f:
        active = [float(r["customers"]) for r in csv.DictReader(f)]
    with (out / "replications.csv").open(newline="", encoding="utf-8") as f:
        ruin = next(csv.DictReader(f))["ruin_day"]
    return sum(active), active[-1], int(ruin) if ruin else None


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


HEADER = (
    f"{'customers':>10} {'days':>5} {'CLI wall s':>10} {'CLI cpu s':>9} {'CLI MiB':>8} "
    f"{'ref wall s':>10} {'ref cpu s':>9} {'wall ratio':>10} {'cpu ratio':>9}"
)


def row(customers: int, days: int, cli: Cost, ref: Cost) -> str:
    return (
        f"{customers:>10,} {days:>5} {cli.wall:>10.2f} {cli.cpu:>9.2f} {cli.peak_mib:>8.0f} "
        f"{ref.wall:>10.2f} {ref.cpu:>9.2f} {cli.wall / ref.wall:>9.1f}x "
        f"{cli.cpu / ref.cpu:>8.1f}x"
    )


def size(args: argparse.Namespace) -> None:
    script = reference_script(args.reference)
    print(
        f"`loyaltysim run` (1 replication, --workers 1) vs the reference; medians of "
        f"{args.repeat}; load average before: {load_average()} on {os.cpu_count()} cores"
    )
    print(HEADER)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for n in args.sizes:
            cli = run_command(bench_scenario(tmp, n, args.days), tmp / "run", "--reps", "1",
                              "--workers", "1", *args.cli_args)  # fmt: skip
            ours, ref = paired(cli, reference_command(script, n, args.days), args.repeat)
            print(row(n, args.days, ours, ref), flush=True)


def horizon(args: argparse.Namespace) -> None:
    script = reference_script(args.reference)
    print(f"horizon scaling: `loyaltysim run` (1 replication, --workers 1) and the reference; "
          f"medians of {args.repeat}; load average before: {load_average()}")  # fmt: skip
    print(
        f"{HEADER} {'CLI vs 1y':>9} {'ref vs 1y':>9} {'CLI cpu vs 1y':>13} "
        f"{'cust-days vs 1y':>15} {'active end':>10} {'ruin day':>8}"
    )
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for n in args.sizes:
            first: tuple[Cost, Cost, float] | None = None
            for years in args.years:
                days = 365 * years
                out = tmp / "run"
                cli = run_command(bench_scenario(tmp, n, days, leaving=True), out, "--reps",
                                  "1", "--workers", "1", *args.cli_args)  # fmt: skip
                ours, ref = paired(cli, reference_command(script, n, days), args.repeat, True)
                active, end, ruin = customer_days(out)
                first = first or (ours, ref, active)
                print(
                    f"{row(n, days, ours, ref)} {ours.wall / first[0].wall:>8.1f}x "
                    f"{ref.wall / first[1].wall:>8.1f}x {ours.cpu / first[0].cpu:>12.1f}x "
                    f"{active / first[2]:>14.2f}x {end:>10,.0f} {ruin if ruin else '-':>8}",
                    flush=True,
                )


def cafe(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT))
    from loyaltysim.scenario import load_scenario

    script = reference_script(args.reference)
    scenario = load_scenario(args.scenario)
    runs = scenario.scenario.replications * (1 + len(scenario.variants))
    days = scenario.scenario.horizon_days
    customers = scenario.customers.initial * runs
    print(
        f"{args.scenario}: {scenario.scenario.replications} replications x "
        f"{1 + len(scenario.variants)} variants x {days} days; reference: {customers:,} "
        f"customers x {days} days (the same customer-days at once); medians of "
        f"{args.repeat}; load average before: {load_average()} on {os.cpu_count()} cores"
    )
    print(
        f"{'workers':>7} {'CLI wall s':>10} {'CLI cpu s':>9} {'CLI MiB':>8} "
        f"{'ref wall s':>10} {'wall ratio':>10} {'cpu ratio':>9} {'vs 1 worker':>11}"
    )
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        one: Cost | None = None
        for workers in args.workers:
            cli = run_command(Path(args.scenario), tmp / "run", "--workers", str(workers),
                              *args.cli_args)  # fmt: skip
            ours, ref = paired(cli, reference_command(script, customers, days), args.repeat)
            one = one or ours
            print(
                f"{workers:>7} {ours.wall:>10.2f} {ours.cpu:>9.2f} {ours.peak_mib:>8.0f} "
                f"{ref.wall:>10.2f} {ours.wall / ref.wall:>9.1f}x {ours.cpu / ref.cpu:>8.1f}x "
                f"{one.wall / ours.wall:>10.2f}x",
                flush=True,
            )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reference",
        metavar="DIR",
        help=f"folder of {REFERENCE_SCRIPT} [default: ${REFERENCE_ENV}, else "
        "../shared/reference next to the repository]",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each side [1]")
    parser.add_argument(
        "--cli-arg",
        dest="cli_args",
        action="append",
        default=[],
        metavar="ARG",
        help="extra argument for `loyaltysim run`, e.g. --cli-arg=--charts --cli-arg=both",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("size", help="10k, 100k and 1M customers x 365 days")
    p.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    p.add_argument("--days", type=int, default=365)
    p.set_defaults(func=size)
    p = commands.add_parser("horizon", help="1, 5 and 10 years at 50k and 100k customers")
    p.add_argument("--sizes", type=int, nargs="+", default=[50_000, 100_000])
    p.add_argument("--years", type=int, nargs="+", default=[1, 5, 10])
    p.set_defaults(func=horizon)
    p = commands.add_parser("cafe", help="the café default with 1 and 2 workers")
    p.add_argument("--scenario", default=str(ROOT / "scenarios" / "cafe.toml"))
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.set_defaults(func=cafe)
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONPATH", str(ROOT))  # the CLI of this checkout
    started = time.perf_counter()
    args.func(args)
    print(f"({time.perf_counter() - started:.0f} s in all)")


if __name__ == "__main__":
    main()
