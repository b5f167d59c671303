"""How good is the early warning? The figures of issue #4, measured.

- On the shipped ruinous plan (scenarios/discount-spiral.toml, "Member prices: 18% off"):
  the share of ruined runs warned before the ruin (goal >= 90%) and the median lead
  time (goal >= 60 days).
- On every safe plan of the shipped scenarios (no run ruined, positive mean profit): the
  share of runs in which a ruin warning fired (goal <= 5%).
- `check` against the break-even arithmetic: a flat discount at or above the gross margin
  is always flagged; a small discount on a high margin with ample cash never is.

    python benchmarks/bench_guard.py [--reps 73] [--workers 2]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from loyaltysim.analysis.guard import assess, replications_for, warning_performance
from loyaltysim.analysis.metrics import metric_arrays
from loyaltysim.experiment import make_executor, run_experiment
from loyaltysim.scenario import load_scenario, variant_scenarios

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
RUINOUS = ("discount-spiral.toml", "Member prices: 18% off")
SAFE_CANDIDATES = ("cafe.toml", "generous-loyalty.toml", "discount-spiral.toml")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=73)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    executor = make_executor(args.workers)

    print(f"replications per plan: {args.reps}\n")
    print("1. ruinous plan: are ruins seen coming?")
    scenario = load_scenario(SCENARIOS / RUINOUS[0])
    plan = dict(variant_scenarios(scenario))[RUINOUS[1]]
    runs = run_experiment([(RUINOUS[1], plan)], args.reps, 4242, executor).runs[RUINOUS[1]]
    perf = warning_performance(runs)
    print(
        f"   {RUINOUS[1]}: ruined {perf.ruined}/{perf.replications}; warned before ruin "
        f"{perf.warned_before_ruin}/{perf.ruined} = {perf.caught_share:.0%} (goal >= 90%); "
        f"median lead {perf.median_lead_days} days (goal >= 60)"
    )

    print("\n2. safe plans: how often does a warning fire anyway?")
    alarms = total = 0
    for name in SAFE_CANDIDATES:
        scenario = load_scenario(SCENARIOS / name)
        variants = variant_scenarios(scenario)
        results = run_experiment(variants, args.reps, 99, executor)
        for label, sc in variants:
            runs = results.runs[label]
            profit = metric_arrays(runs, sc)["profit"].mean()
            perf = warning_performance(runs)
            if perf.ruined or profit <= 0:
                print(
                    f"   {name} / {label}: not a safe plan (ruined {perf.ruined}, "
                    f"profit {profit:,.0f}); skipped"
                )
                continue
            alarms += perf.warned
            total += perf.replications
            print(f"   {name} / {label}: warnings in {perf.warned}/{perf.replications} runs")
    print(f"   all safe plans: {alarms}/{total} = {alarms / total:.1%} (goal <= 5%)")

    print("\n3. check against the break-even arithmetic")
    cafe = load_scenario(SCENARIOS / "cafe.toml")
    margin = cafe.business.gross_margin
    at_margin = {"discount.kind": "flat", "discount.rate": round(margin, 4)}
    cases = [
        ("flat discount = margin", at_margin, False),
        ("flat discount > margin", {"discount.kind": "flat", "discount.rate": 0.8}, False),
        ("5% off, ample cash", {"discount.kind": "flat", "discount.rate": 0.05,
                                "business.starting_cash": 1e6}, True),
    ]  # fmt: skip
    for label, overrides, expect_safe in cases:
        sc = load_scenario(SCENARIOS / "cafe.toml", {**overrides, "variants": []})
        variants = variant_scenarios(sc)
        # As many runs as `check` would use to show a risk below 5%.
        results = run_experiment(variants, replications_for(0.05, 20), 7, executor)
        verdict = assess(variants, results.runs, results.summary(), 0.05)[0]
        ok = verdict.safe == expect_safe
        print(
            f"   {label} (margin {margin:.1%}): {verdict.status} -> "
            f"{'as the arithmetic says' if ok else 'DISAGREES with the arithmetic'}"
        )


if __name__ == "__main__":
    main()
