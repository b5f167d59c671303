"""How good is the early warning? A library of plans, judged on what happened after.

The library: ``--plans`` plans (default 48) from a scrambled Latin hypercube
(``scipy.stats.qmc``) over five dimensions: flat discount depth (0 to 40%), gross margin
(20% to 70%), fixed costs (0.5 to 1.3 times the base's monthly contribution at list price,
estimated from the model's base purchase rate), starting cash (1.5 to 12 months of fixed
costs) and customers (300 to 3,000, log-uniform). Nothing in it is tuned to any named case.

Each plan runs ``--reps`` replications twice with the same random numbers: once on the
user's horizon H (365 days; the warnings the user sees) and once H + L days (the plan
continued as it is, L = 180, the guard's default look-ahead) to see what followed. A
warning on day w is a **hit** when ruin followed on a day r with w < r <= w + L, else a
**false alarm**. The figures:

- hit rate: ruins within H whose first ruin warning came before them and at most L days
  before (goal >= 95%);
- lead (r - w) of those: median (goal >= 90 days) and 10th percentile;
- false alarms: the share of warnings that were not followed by ruin within L days
  (goal <= 5%); also the share of runs never ruined (within H + L) that were warned;
- the library's ruin-day distribution, so a reader sees it is not all easy;
- horizon independence: the same plans on a 730-day horizon; the first warning before
  day 365 agrees within 15 days with the one on the 365-day horizon.

The judging here uses only ``simulate`` and each run's warnings (severity "warning"), not
the package's own judging code, so the same script measures any version of the guard:
run it with ``PYTHONPATH`` pointing at an older checkout to get the figures before a change.

    python benchmarks/bench_guard.py [--plans 48] [--reps 6] [--workers 2]
"""

from __future__ import annotations

import argparse
import itertools
import math
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import qmc

from loyaltysim.model.simulation import simulate
from loyaltysim.scenario.schema import Scenario

HORIZON, LONG_HORIZON, LOOK_AHEAD, AGREE_DAYS = 365, 730, 180, 15
SEED = 2026
PRICE = 4.50
# The model's base purchase rate with its default segment (purchases per customer and
# month, measured on a run without discount): used only to scale fixed costs.
PURCHASES_PER_CUSTOMER_MONTH = 3.3
PROSPECTS_PER_CUSTOMER = 0.08  # paid prospects a month per initial customer


@dataclass(frozen=True)
class Plan:
    index: int
    discount: float
    margin: float
    fixed_ratio: float
    cash_months: float
    customers: int

    def scenario(self, horizon: int) -> Scenario:
        contribution = self.customers * PURCHASES_PER_CUSTOMER_MONTH * PRICE * self.margin
        fixed = round(self.fixed_ratio * contribution, 2)
        data: dict[str, Any] = {
            "scenario": {"name": f"plan {self.index}", "horizon_days": horizon},
            "business": {
                "price": PRICE,
                "unit_cost": round(PRICE * (1 - self.margin), 4),
                "fixed_costs_per_month": fixed,
                "starting_cash": round(self.cash_months * fixed, 2),
                "prospects_per_month": round(PROSPECTS_PER_CUSTOMER * self.customers, 1),
            },
            "customers": {"initial": self.customers},
        }
        if self.discount > 0:
            data["discount"] = {"kind": "flat", "rate": round(self.discount, 4)}
        return Scenario.model_validate(data)


def library(n: int, seed: int = SEED) -> list[Plan]:
    """``n`` plans from a scrambled Latin hypercube over the five dimensions."""
    u = qmc.LatinHypercube(d=5, seed=seed).random(n)
    lo = np.array([0.0, 0.20, 0.5, 1.5, math.log(300)])
    hi = np.array([0.40, 0.70, 1.3, 12.0, math.log(3000)])
    x = qmc.scale(u, lo, hi)
    return [
        Plan(i, float(d), float(m), float(f), float(c), round(math.exp(k)))
        for i, (d, m, f, c, k) in enumerate(x)
    ]


def first_warning(run: Any) -> int | None:
    return min((w.day for w in run.warnings if w.severity == "warning"), default=None)


def one(task: tuple[Plan, int, int]) -> tuple[int, int, int, int | None, int | None, bool]:
    """(plan, rep, horizon, first warning day, ruin day, structural flag on day 0)."""
    plan, rep, horizon = task
    run = simulate(plan.scenario(horizon), rep, SEED)
    structural = any(w.indicator == "structural_loss" and w.day == 0 for w in run.warnings)
    return plan.index, rep, horizon, first_warning(run), run.ruin_day, structural


def pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=48)
    parser.add_argument("--reps", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    plans = library(args.plans)
    horizons = (HORIZON, HORIZON + LOOK_AHEAD, LONG_HORIZON)
    tasks = [(p, r, h) for p in plans for r in range(args.reps) for h in horizons]
    with ProcessPoolExecutor(args.workers) as pool:
        out = list(pool.map(one, tasks, chunksize=4))
    warn = {(i, r, h): w for i, r, h, w, _, _ in out}
    ruin = {(i, r, h): d for i, r, h, _, d, _ in out}
    flag = {(i, r): s for i, r, h, _, _, s in out if h == HORIZON}

    ruined = caught = warned = hits = false = never = never_warned = 0
    leads: list[int] = []
    ruin_days: list[float] = []
    agree = compared = 0
    worst = 0
    for p in plans:
        for r in range(args.reps):
            w = warn[(p.index, r, HORIZON)]
            after = ruin[(p.index, r, HORIZON + LOOK_AHEAD)]
            ruin_days.append(math.inf if after is None else after)
            if after is not None and after < HORIZON:
                ruined += 1
                if w is not None and after - LOOK_AHEAD <= w < after:
                    caught += 1
                    leads.append(after - w)
            if after is None:
                never += 1
                never_warned += w is not None
            if w is not None:
                warned += 1
                if after is not None and w < after <= w + LOOK_AHEAD:
                    hits += 1
                else:
                    false += 1
            w2 = warn[(p.index, r, LONG_HORIZON)]
            w2 = w2 if w2 is not None and w2 < HORIZON else None
            if w is not None or w2 is not None:
                compared += 1
                if w is not None and w2 is not None and abs(w - w2) <= AGREE_DAYS:
                    agree += 1
                worst = max(
                    worst, abs((HORIZON if w is None else w) - (HORIZON if w2 is None else w2))
                )

    n_runs = len(plans) * args.reps
    print(
        f"library: {len(plans)} plans (Latin hypercube), {args.reps} replications each; "
        f"horizon {HORIZON} days, judged {LOOK_AHEAD} days past it"
    )
    days = np.array(ruin_days)
    bins = [0, 30, 90, 180, 365, 545]
    edges = list(itertools.pairwise(bins))
    counts = [int(np.sum((days >= a) & (days < b))) for a, b in edges]
    shown = ", ".join(f"{a}-{b - 1}: {c}" for (a, b), c in zip(edges, counts, strict=True))
    print(f"ruin day of the {n_runs} runs: {shown}; never (within {bins[-1]}): {never}")
    finite = days[np.isfinite(days)]
    if finite.size:
        q = np.percentile(finite, [10, 25, 50, 75, 90])
        print("  quantiles of the ruin day (10/25/50/75/90%): " + ", ".join(f"{v:.0f}" for v in q))
    plan_ruin = [
        sum(ruin[(p.index, r, HORIZON + LOOK_AHEAD)] is not None for r in range(args.reps))
        for p in plans
    ]
    print(
        f"  plans ruined in every run: {sum(k == args.reps for k in plan_ruin)}, in some: "
        f"{sum(0 < k < args.reps for k in plan_ruin)}, in none: {sum(k == 0 for k in plan_ruin)}"
    )
    structural = [p for p in plans if p.discount >= p.margin]
    flagged = sum(flag[(p.index, r)] for p in structural for r in range(args.reps))
    print(
        f"plans with discount >= margin: {len(structural)}; flagged on day 0 in "
        f"{flagged} of {len(structural) * args.reps} runs"
    )
    hit_rate = caught / ruined if ruined else math.nan
    print(f"hit rate: {caught}/{ruined} ruins within the horizon warned 1-{LOOK_AHEAD} days "
          f"ahead = {pct(hit_rate)} (goal >= 95%)")  # fmt: skip
    if leads:
        print(
            f"lead: median {np.median(leads):.0f} days (goal >= 90), 10th percentile "
            f"{np.percentile(leads, 10):.0f} days"
        )
    else:
        print("lead: no ruin was caught")
    print(
        f"false alarms: {false}/{warned} warnings not followed by ruin within {LOOK_AHEAD} "
        f"days = {pct(false / warned if warned else math.nan)} (goal <= 5%); right: {hits}"
    )
    print(
        f"  runs never ruined (within {bins[-1]} days) that were warned: {never_warned}/{never} "
        f"= {pct(never_warned / never if never else math.nan)}"
    )
    print(
        f"horizon independence ({HORIZON} vs {LONG_HORIZON} days): first warnings before day "
        f"{HORIZON} agree within {AGREE_DAYS} days in {agree}/{compared} runs = "
        f"{pct(agree / compared if compared else math.nan)}; largest difference {worst} days"
    )


if __name__ == "__main__":
    main()
