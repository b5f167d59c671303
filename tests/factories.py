"""Synthetic RunResults and scenarios for tests of everything downstream of the model.

The series are random but obey the model's accounting: revenue = list revenue - discount
cost, gross profit = revenue - cost of goods, cash moves by exactly each day's profit, the
customer count by acquisitions minus defections, and a ruined business is closed (flows 0,
stocks frozen) from the day after ruin.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from loyaltysim.model.result import CAUSES, DAILY_SERIES, RunResult, Warning_
from loyaltysim.scenario.schema import Scenario

# summary.json's metrics as the contract lists them, in its order (written out here, not
# taken from loyaltysim.analysis.metrics, so that the tests check the code against it).
CONTRACT_METRICS = (
    "customers_end",
    "churned",
    "churn_rate_annual",
    "acquired",
    "referred",
    "purchases",
    "revenue",
    "discount_cost",
    "gross_profit",
    "followup_cost",
    "acquisition_cost",
    "fixed_costs",
    "profit",
    "cash_end",
    "cash_min",
    "satisfied_defector_share",
    "mean_satisfaction_end",
    "mean_attachment_end",
)


STOCKS = (
    "customers",
    "cash",
    "mean_satisfaction",
    "mean_attachment",
    "mean_competitor_awareness",
    "mean_reference_price",
    "points_liability",
    "competitor_price",
)


def mechanism_scenario(
    horizon: int = 365, initial: int = 2000, **sections: dict[str, Any]
) -> Scenario:
    """A bare scenario for the model's mechanism tests, with the given sections merged in.

    Fixed costs are 0 unless set, so a treatment that hurts sales cannot ruin the business
    and end its run early.
    """
    data: dict[str, Any] = {
        "scenario": {"name": "t", "horizon_days": horizon},
        "customers": {"initial": initial},
        "business": {"fixed_costs_per_month": 0.0},
    }
    for key, value in sections.items():
        data.setdefault(key, {}).update(value)
    return Scenario.model_validate(data)


def make_scenario(
    name: str = "Corner café",
    horizon_days: int = 60,
    replications: int = 4,
    variants: tuple[str, ...] = ("10% off",),
    **sections: Any,
) -> Scenario:
    """A valid scenario; extra keyword arguments are whole sections (``business={...}``)."""
    data: dict[str, Any] = {
        "scenario": {"name": name, "horizon_days": horizon_days, "replications": replications},
        "customers": {
            "initial": 200,
            "segments": [
                {"name": "regulars", "share": 0.5},
                {"name": "deal, seekers", "share": 0.5},
            ],
        },
        "variants": [{"name": v, "set": {"discount.rate": 0.1}} for v in variants],
        **sections,
    }
    return Scenario.model_validate(data)


def make_result(
    variant: str = "base",
    replication: int = 0,
    horizon_days: int = 60,
    *,
    seed: int | None = None,
    starting_cash: float = 25_000.0,
    price: float = 4.5,
    unit_cost: float = 1.4,
    discount: float = 0.0,
    daily_purchases: float = 150.0,
    initial_customers: int = 200,
    n_defections: int = 20,
    causes: list[int] | None = None,
    satisfaction: list[float] | None = None,
    ruin_day: int | None = None,
    warning_days: list[int] | None = None,
    fixed_costs_per_month: float = 3_000.0,
) -> RunResult:
    """One synthetic replication; ``seed`` defaults to a mix of variant and replication."""
    if seed is None:
        seed = replication * 1000 + sum(map(ord, variant))
    rng = np.random.default_rng(seed)
    days = horizon_days
    d: dict[str, np.ndarray] = {s: np.zeros(days) for s in DAILY_SERIES}

    purchases = rng.poisson(daily_purchases, days).astype(float)
    d["purchases"] = purchases
    d["discounted_purchases"] = purchases if discount > 0 else np.zeros(days)
    d["competitor_purchases"] = rng.poisson(daily_purchases / 5, days).astype(float)
    d["list_revenue"] = purchases * price
    d["discount_cost"] = d["list_revenue"] * discount
    d["revenue"] = d["list_revenue"] - d["discount_cost"]
    d["cost_of_goods"] = purchases * unit_cost
    d["gross_profit"] = d["revenue"] - d["cost_of_goods"]
    d["followup_cost"] = rng.uniform(0, 20, days)
    d["acquisition_cost"] = np.full(days, 12.0)
    d["offer_cost"] = rng.uniform(0, 5, days)
    d["fixed_costs"] = np.where(np.arange(days) % 30 == 29, fixed_costs_per_month, 0.0)
    d["acquired"] = rng.poisson(1.0, days).astype(float)
    d["referred"] = np.minimum(d["acquired"], rng.poisson(0.3, days))
    d["won_back"] = np.minimum(d["acquired"] - d["referred"], rng.poisson(0.1, days))
    d["complaints"] = rng.poisson(0.5, days).astype(float)
    d["positive_mentions"] = rng.poisson(2.0, days).astype(float)
    d["negative_mentions"] = rng.poisson(1.0, days).astype(float)
    d["followups_reached"] = rng.poisson(3.0, days).astype(float)
    d["mean_satisfaction"] = np.clip(0.7 + np.cumsum(rng.normal(0, 0.005, days)), 0, 1)
    d["mean_attachment"] = np.clip(0.5 + np.cumsum(rng.normal(0, 0.005, days)), 0, 1)
    d["mean_competitor_awareness"] = np.clip(0.3 + np.arange(days) * 0.001, 0, 1)
    d["mean_reference_price"] = np.full(days, price)
    d["points_liability"] = np.cumsum(rng.uniform(0, 3, days))
    d["survey_responses"] = rng.poisson(2.0, days).astype(float)
    d["competitor_price"] = np.full(days, 0.93 * price)

    n_def = n_defections if causes is None else len(causes)
    def_days = np.sort(rng.integers(0, days, n_def))
    d["churned"] = np.bincount(def_days, minlength=days).astype(float)

    if ruin_day is not None:
        closed = np.arange(days) > ruin_day
        for s in DAILY_SERIES:
            if s in STOCKS:
                d[s][closed] = d[s][ruin_day]
            else:
                d[s][closed] = 0.0
        keep = def_days <= ruin_day
        def_days = def_days[keep]
        n_def = int(keep.sum())
        d["churned"] = np.bincount(def_days, minlength=days).astype(float)
    profit = (
        d["gross_profit"]
        - d["followup_cost"]
        - d["acquisition_cost"]
        - d["offer_cost"]
        - d["fixed_costs"]
    )
    d["cash"] = starting_cash + np.cumsum(profit)
    d["customers"] = initial_customers + np.cumsum(d["acquired"] - d["churned"])
    if ruin_day is not None:
        d["cash"][ruin_day:] = d["cash"][ruin_day]
        d["customers"][ruin_day:] = d["customers"][ruin_day]

    cause = (
        np.asarray(causes, dtype=np.int64)[:n_def]
        if causes is not None
        else rng.integers(0, len(CAUSES), n_def)
    )
    sat = (
        np.asarray(satisfaction, dtype=np.float64)[:n_def]
        if satisfaction is not None
        else rng.uniform(0, 1, n_def)
    )
    defections = {
        "day": def_days.astype(np.int64),
        "customer": rng.choice(10_000, n_def, replace=False).astype(np.int64),
        "segment": rng.integers(0, 2, n_def).astype(np.int64),
        "cause": cause,
        "satisfaction": sat,
        "attachment": rng.uniform(0, 1, n_def),
        "tenure_days": rng.integers(0, 400, n_def).astype(np.int64),
        # A CSAT answer for about half of the defectors, a little above what they felt.
        "survey_score": np.where(
            rng.uniform(0, 1, n_def) < 0.5, np.clip(np.ceil(5 * (sat + 0.05)), 1, 5), -1
        ).astype(np.int8),
    }
    score = defections["survey_score"]
    defections["stated_satisfied"] = np.where(score < 0, np.nan, (score >= 4).astype(float))
    warnings = [
        Warning_(day, "cash_runway", f"cash runway below 60 days on day {day}")
        for day in (warning_days or [])
    ]
    return RunResult(
        variant=variant,
        replication=replication,
        horizon_days=days,
        daily=d,
        defections=defections,
        ruin_day=ruin_day,
        warnings=warnings,
        initial_customers=initial_customers,
    )


def make_results(
    variants: tuple[str, ...] = ("base", "10% off"),
    replications: int = 4,
    horizon_days: int = 60,
    **kwargs: Any,
) -> dict[str, list[RunResult]]:
    """Results for several variants with common random numbers (same seed per replication)."""
    out: dict[str, list[RunResult]] = {}
    for k, name in enumerate(variants):
        out[name] = [
            make_result(
                name,
                rep,
                horizon_days,
                seed=rep,
                discount=0.1 * k,
                daily_purchases=150.0 * (1 + 0.05 * k),
                **kwargs,
            )
            for rep in range(replications)
        ]
    return out
