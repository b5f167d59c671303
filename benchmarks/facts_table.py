"""The calibration table of docs/model.md §5: every stylized fact on the shipped scenarios.

    python benchmarks/facts_table.py [--reps 30] [--workers 2] cafe seed-claims

Each scenario is measured with ``measure_facts(scenario, reps, scenario.seed, ...)``: one
simulated year, its own seed, its variants dropped (the facts add their own). Prints a
markdown table, one column per scenario, value with its 95% interval and the verdict.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from loyaltysim.analysis.facts import Fact, measure_facts
from loyaltysim.experiment import ProcessExecutor
from loyaltysim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def cell(f: Fact) -> str:
    lo, hi = f.ci95
    interval = "" if lo != lo else f" [{lo:.4g}, {hi:.4g}]"
    detail = f"; {f.detail}" if f.detail else ""
    return f"{'✓' if f.passed else '✗'} **{f.value:.4g}**{interval}{detail}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="+")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args(argv)
    columns: dict[str, list[Fact]] = {}
    for name in a.scenarios:
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.toml")
        assert scenario.scenario.seed is not None, f"{name} needs a fixed seed"
        facts = measure_facts(scenario, a.reps, scenario.scenario.seed, ProcessExecutor(a.workers))
        columns[f"{name} (seed {scenario.scenario.seed})"] = facts
    first = next(iter(columns.values()))
    print(f"Measured with {a.reps} replications by `python benchmarks/facts_table.py`.\n")
    print("| fact | target | " + " | ".join(columns) + " |")
    print("|---|---|" + "---|" * len(columns))
    for i, f in enumerate(first):
        cells = " | ".join(cell(facts[i]) for facts in columns.values())
        print(f"| {f.number} {f.name} | {f.target} | {cells} |")
    print()
    for name, facts in columns.items():
        passed = sum(f.passed for f in facts)
        failed = ", ".join(str(f.number) for f in facts if not f.passed) or "none"
        print(f"- {name}: {passed} of {len(facts)} facts hold; failing: {failed}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
