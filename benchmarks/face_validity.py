"""Face validity of the model: change a cause, measure the direction and size of its effect.

The table of issue #11, measured on the café (``scenarios/cafe.toml``) with its variants
removed, one year, common random numbers (replication r of every arm sees the same
customers and luck). Run from the repository root:

    python benchmarks/face_validity.py [--replications 6] [--days 365] [--seed 11]

Each row is an experiment: the arms differ in one cause only. The issue used 8
replications of 365 days; the default here is 6 to keep the run near a minute, which is
enough for every effect below to be many standard errors from zero. Figures are means over
replications; "d" columns are paired differences with the first arm.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from loyaltysim.analysis.metrics import metric_arrays
from loyaltysim.analysis.summary import summarize
from loyaltysim.experiment import ProcessExecutor, run_experiment
from loyaltysim.scenario import variant_scenarios
from loyaltysim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]


def cafe(days: int) -> dict[str, Any]:
    raw = tomllib.loads((ROOT / "scenarios" / "cafe.toml").read_text("utf-8"))
    raw.pop("variants", None)
    raw["scenario"]["horizon_days"] = days
    try:  # the loader's step: the file's price is what a ticket is worth
        from loyaltysim.scenario.schema import anchor_reservation_price
    except ImportError:  # a model without a reservation price
        return raw
    anchor_reservation_price(raw)
    return raw


def build(raw: dict[str, Any], changes: dict[str, Any]) -> Scenario:
    """``raw`` with dotted keys replaced (``"business.price"``, ``"segments.*.x"``)."""
    data = _copy(raw)
    for key, value in changes.items():
        parts = key.split(".")
        if parts[0] == "segments":
            for seg in data["customers"]["segments"]:
                seg[parts[2]] = value
            continue
        node = data
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return Scenario.model_validate(data, strict=False)


def _copy(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _copy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_copy(v) for v in obj]
    return obj


def stated_share(runs: list) -> float:
    """Share of defectors who said "satisfied" in their last survey, where the model has a
    survey layer (``stated_satisfied`` in the defection record); nan otherwise."""
    shares = []
    for r in runs:
        said = r.defections.get("stated_satisfied")
        if said is None:
            return float("nan")
        said = np.asarray(said, dtype=float)
        answered = said[np.isfinite(said)]
        if len(answered):
            shares.append(float(np.mean(answered > 0.5)))
    return float(np.mean(shares)) if shares else float("nan")


class Bench:
    def __init__(self, reps: int, days: int, seed: int, workers: int) -> None:
        self.reps, self.days, self.seed = reps, days, seed
        self.executor = ProcessExecutor(workers) if workers > 1 else None
        self.rows: list[tuple[str, str, str]] = []

    def arms(self, arms: list[tuple[str, Scenario]]) -> dict[str, Any]:
        results = run_experiment(arms, self.reps, self.seed, self.executor)
        out = {}
        for name, scenario in arms:
            runs = results.runs[name]
            m = metric_arrays(runs, scenario)
            if "stated_satisfied_defector_share" not in m:  # a model with no survey metric
                m["stated_satisfied_defector_share"] = np.array([stated_share(runs)])
            out[name] = m
        return out

    def row(self, what: str, arms: dict[str, Any], metric: str, fmt: str = "{:,.0f}") -> None:
        names = list(arms)
        first = arms[names[0]][metric]
        cells = []
        for name in names:
            v = arms[name][metric]
            text = fmt.format(float(np.mean(v)))
            if name != names[0] and len(v) == len(first):
                d = v - first
                sd = float(np.std(d, ddof=1)) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
                text += f" (d {fmt.format(float(np.mean(d)))} ± {fmt.format(1.96 * sd)})"
            cells.append(f"{name}: {text}")
        self.rows.append((what, metric, "; ".join(cells)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=6)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args(argv)
    raw = cafe(a.days)
    b = Bench(a.replications, a.days, a.seed, a.workers)

    # 1. Price level with no rival on anyone's mind.
    unaware = {
        "segments.*.competitor_awareness": 0.0,
        "competitor.awareness_growth_per_month": 0.0,
        "competitor.promotion_awareness_boost": 0.0,
        "behaviour.negative_awareness_effect": 0.0,
    }
    arms = b.arms(
        [(f"price {p:.2f}", build(raw, {**unaware, "business.price": p})) for p in (4.5, 9.0, 45.0)]
    )
    b.row("list price, awareness 0", arms, "purchases")
    b.row("list price, awareness 0", arms, "profit")
    # Arc elasticity of purchases to the list price, +/-10%, café as it is.
    p0 = raw["business"]["price"]
    arms = b.arms(
        [(f"price {p:.3f}", build(raw, {"business.price": p})) for p in (0.9 * p0, 1.1 * p0)]
    )
    lo, hi = (arms[n]["purchases"] for n in arms)
    arc = ((hi - lo) / (hi + lo)) / ((1.1 - 0.9) / (1.1 + 0.9))
    b.rows.append(
        (
            "arc elasticity, price ±10%",
            "purchases",
            f"{np.mean(arc):+.2f} ± {1.96 * np.std(arc, ddof=1) / np.sqrt(len(arc)):.2f}",
        )
    )

    # 2. Satisfied defectors against their causes.
    arms = b.arms(
        [
            ("hazard weight 1", build(raw, {"behaviour.satisfaction_hazard_weight": 1.0})),
            ("hazard weight 5", build(raw, {"behaviour.satisfaction_hazard_weight": 5.0})),
        ]
    )
    b.row("satisfaction hazard weight", arms, "satisfied_defector_share", "{:.3f}")
    b.row("satisfaction hazard weight", arms, "stated_satisfied_defector_share", "{:.3f}")
    arms = b.arms(
        [
            ("indifference 8%", build(raw, {})),
            ("indifference 30%", build(raw, {"business.staff_indifference": 0.30})),
            ("bad service (quality 0.45)", build(raw, {"business.service_quality": 0.45})),
        ]
    )
    b.row("service", arms, "satisfied_defector_share", "{:.3f}")
    b.row("service", arms, "stated_satisfied_defector_share", "{:.3f}")
    b.row("service", arms, "churned")

    # 3. Complaint handling: speed and rate.
    arms = b.arms(
        [
            (f"resolution {d} days", build(raw, {"business.complaint_resolution_days": d}))
            for d in (3.0, 20.0)
        ]
    )
    b.row("complaint resolution days", arms, "churned")
    arms = b.arms(
        [
            (f"resolution rate {r}", build(raw, {"business.complaint_resolution_rate": r}))
            for r in (0.9, 0.2)
        ]
    )
    b.row("complaint resolution rate", arms, "churned")

    # 4. The books: a variant's own margin; points liability; ruin.
    data = _copy(raw)
    data["variants"] = [
        {
            "name": "10% off, dearer beans",
            "set": {"discount.kind": "flat", "discount.rate": 0.10, "business.unit_cost": 2.5},
        },
        {
            "name": "10th coffee free",
            "set": {
                "discount.kind": "points",
                "discount.points_per_currency": 1.0,
                "discount.reward_points": 45.0,
                "discount.reward_value": 4.5,
            },
        },
    ]
    sc = Scenario.model_validate(data, strict=False)
    pairs = variant_scenarios(sc)
    results = run_experiment(pairs, b.reps, b.seed, b.executor)
    summary = summarize(sc, results.runs, b.seed)
    by = {v["name"]: v for v in summary["variants"]}
    own = dict(pairs)["10% off, dearer beans"].business.gross_margin
    be = by["10% off, dearer beans"]["break_even"]
    b.rows.append(
        (
            "summary.json margin of a variant with unit cost 2.50",
            "break_even.gross_margin",
            f"reported {be['gross_margin']:.3f}, own {own:.3f}; required lift "
            f"{(be['required_lift'] or float('nan')):.3f}",
        )
    )
    metrics = {name: metric_arrays(results.runs[name], s) for name, s in pairs}
    card = metrics["10th coffee free"]
    gain = card["profit"] - metrics["base"]["profit"]
    extra = ""
    if "points_breakage" in card:
        extra = f"; breakage {np.mean(card['points_breakage']):,.0f}"
    if "profit_cash" in card:
        cash_gain = card["profit_cash"] - metrics["base"]["profit_cash"]
        extra += f"; cash-view gain {np.mean(cash_gain):+,.0f}"
    b.rows.append(
        (
            "points card vs base",
            "profit, points_liability_end",
            f"profit gain {np.mean(gain):+,.0f}; end liability "
            f"{np.mean(card['points_liability_end']):,.0f}{extra}",
        )
    )
    # A 30% cut ruins the café within two years.
    two = build(raw, {"scenario.horizon_days": max(a.days, 730)})
    pairs = [
        ("base", two),
        (
            "30% off",
            build(
                raw,
                {
                    "scenario.horizon_days": max(a.days, 730),
                    "discount.kind": "flat",
                    "discount.rate": 0.3,
                },
            ),
        ),
    ]
    results = run_experiment(pairs, b.reps, b.seed, b.executor)
    metrics = {name: metric_arrays(results.runs[name], s) for name, s in pairs}
    ruined = sum(r.ruined for r in results.runs["30% off"])
    b.rows.append(
        (
            "30% off vs base, two years (ruin)",
            "customers_end, churn_rate_annual",
            f"ruined {ruined}/{b.reps}; customers_end base "
            f"{np.mean(metrics['base']['customers_end']):,.0f} vs "
            f"{np.mean(metrics['30% off']['customers_end']):,.0f}; annual churn base "
            f"{np.mean(metrics['base']['churn_rate_annual']):.3f} vs "
            f"{np.mean(metrics['30% off']['churn_rate_annual']):.3f}",
        )
    )

    # 5. Calls that find the silent unhappy.
    call = {
        "followup.kind": "periodic",
        "followup.every_days": 30,
        "followup.channel": "phone_call",
        "followup.monthly_budget": 1e9,
    }
    arms = b.arms(
        [
            ("no calls", build(raw, {})),
            ("call 'dissatisfied'", build(raw, {**call, "followup.target": "dissatisfied"})),
            ("call a 20% sample", build(raw, {**call, "followup.target": "sample"})),
        ]
    )
    b.row("phone calls", arms, "followup_cost")
    b.row("phone calls", arms, "churned")

    # 6. A rival that reacts (if the model has one).
    fields = Scenario.model_fields["competitor"].annotation.model_fields  # type: ignore[union-attr]
    if "reaction" in fields:
        war = {"competitor.reaction": "match", "discount.kind": "flat", "discount.rate": 0.10}
        arms = b.arms(
            [
                (
                    "10% off, passive rival",
                    build(raw, {"discount.kind": "flat", "discount.rate": 0.10}),
                ),
                ("10% off, rival matches", build(raw, war)),
            ]
        )
        b.row("rival reaction", arms, "profit")
        b.row("rival reaction", arms, "purchases")
    else:
        b.rows.append(("rival reaction", "-", "no reacting rival in this model"))

    print(f"# Face validity: café, {a.replications} replications x {a.days} days, seed {a.seed}")
    print(f"# model signature: summarize{inspect.signature(summarize)}")
    print()
    print("| experiment | metric | result |")
    print("|---|---|---|")
    for what, metric, result in b.rows:
        print(f"| {what} | {metric} | {result} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
