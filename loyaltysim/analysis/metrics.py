"""Per-replication outcome metrics, computed from a :class:`RunResult`'s daily series.

A metric is one number per replication; :mod:`loyaltysim.analysis.summary` turns the
replications of a variant into a mean and a confidence interval. Money is in the scenario's
currency unit, counts are whole customers/tickets/events over the horizon, levels are on 0..1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from loyaltysim.model.result import RunResult
from loyaltysim.scenario.schema import Scenario

# A defector at or above this satisfaction sits in the top two of five equal satisfaction
# bands: "satisfied". The satisfied-defector share is the stylized fact that satisfaction
# alone does not retain customers (Jones & Sasser 1995).
SATISFIED_THRESHOLD = 0.6


class MetricInfo(NamedTuple):
    """How to present a metric: a short human description and its unit."""

    description: str
    unit: str


# Units are a small fixed vocabulary so that tables and reports can format by unit.
MONEY, SHARE, LEVEL = "money", "share", "level 0..1"

METRICS: dict[str, MetricInfo] = {
    # The contract's metrics, in the contract's order.
    "customers_end": MetricInfo("active customers on the last day", "customers"),
    "churned": MetricInfo("customers who defected over the horizon", "customers"),
    "churn_rate_annual": MetricInfo("defections per average customer, annualised", "share/year"),
    "acquired": MetricInfo("new customers (paid, referred and won back)", "customers"),
    "referred": MetricInfo("new customers who came by word of mouth", "customers"),
    "purchases": MetricInfo("tickets sold", "tickets"),
    "revenue": MetricInfo("money taken, after discounts and rewards", MONEY),
    "discount_cost": MetricInfo("list revenue given away as discounts and rewards", MONEY),
    "gross_profit": MetricInfo("revenue minus cost of goods", MONEY),
    "followup_cost": MetricInfo("cost of follow-up contacts", MONEY),
    "acquisition_cost": MetricInfo("cost of paid marketing", MONEY),
    "fixed_costs": MetricInfo("fixed costs charged", MONEY),
    "profit": MetricInfo(
        "gross profit minus every other cost, less the points liability accrued", MONEY
    ),
    "cash_end": MetricInfo("cash on the last day", MONEY),
    "cash_min": MetricInfo("lowest end-of-day cash", MONEY),
    "satisfied_defector_share": MetricInfo(
        f"share of defectors with satisfaction >= {SATISFIED_THRESHOLD} when they left", SHARE
    ),
    "mean_satisfaction_end": MetricInfo("mean satisfaction of active customers, last day", LEVEL),
    "mean_attachment_end": MetricInfo("mean attachment of active customers, last day", LEVEL),
    # Extras.
    "offer_cost": MetricInfo("cost of win-back offers sent", MONEY),
    "complaints": MetricInfo("complaints made", "complaints"),
    "positive_mentions": MetricInfo("recommendations made by customers", "mentions"),
    "negative_mentions": MetricInfo("warnings given by customers", "mentions"),
    "won_back": MetricInfo("former customers won back", "customers"),
    "points_liability_end": MetricInfo("value of unredeemed points, last day", MONEY),
    "list_revenue": MetricInfo("tickets sold at list price", MONEY),
    "effective_discount": MetricInfo("discount cost as a share of list revenue", SHARE),
    "profit_cash": MetricInfo("cash view: gross profit minus every other cost paid", MONEY),
    "points_liability_change": MetricInfo("points liability at the end minus at the start", MONEY),
    "points_breakage": MetricInfo("value of points that expired unredeemed", MONEY),
    "stated_satisfied_defector_share": MetricInfo(
        "share of defectors who said they were satisfied in their last survey answer", SHARE
    ),
    "survey_responses": MetricInfo("survey answers received", "answers"),
    "survey_cost": MetricInfo("cost of survey invitations", MONEY),
    "survived": MetricInfo("1 if the business was never ruined, else 0", SHARE),
    "lost_at_closure": MetricInfo("customers lost when ruin closed the business", "customers"),
}

METRIC_NAMES: tuple[str, ...] = tuple(METRICS)

# Metrics that are plain sums of a daily flow of the same name.
_SUMMED: tuple[str, ...] = (
    "churned",
    "acquired",
    "referred",
    "purchases",
    "revenue",
    "discount_cost",
    "gross_profit",
    "followup_cost",
    "acquisition_cost",
    "fixed_costs",
    "offer_cost",
    "complaints",
    "positive_mentions",
    "negative_mentions",
    "won_back",
    "list_revenue",
    "points_breakage",
    "survey_responses",
    "survey_cost",
    "lost_at_closure",
)

# Every cost paid below gross profit; the cash view of profit is what remains, and cash
# moves by exactly it. Profit proper also accrues the points liability (rewards owed).
PROFIT_COSTS: tuple[str, ...] = (
    "followup_cost",
    "acquisition_cost",
    "offer_cost",
    "fixed_costs",
    "survey_cost",
)


def daily_profit(daily: dict[str, np.ndarray]) -> np.ndarray:
    """Cash profit of each day (money): gross profit minus follow-up, acquisition, offer,
    fixed and survey costs (the points liability is accrued only in ``profit``)."""
    profit = np.array(daily["gross_profit"], dtype=np.float64, copy=True)
    for cost in PROFIT_COSTS:
        profit -= daily[cost]
    return profit


def run_metrics(result: RunResult, scenario: Scenario) -> dict[str, float]:
    """Every metric of :data:`METRIC_NAMES` for one replication.

    Parameters
    ----------
    result : RunResult
        One replication of one variant.
    scenario : Scenario
        The scenario it ran (kept in the signature so metrics may use its parameters).

    Returns
    -------
    dict
        ``{name: value}`` in :data:`METRIC_NAMES` order; units as in :data:`METRICS`.
        ``satisfied_defector_share`` is ``nan`` when nobody defected, and
        ``stated_satisfied_defector_share`` when no defector had answered a survey.
        ``profit`` accrues the points liability: ``profit_cash`` minus its change.
    """
    del scenario  # every current metric is in the recorded series
    d = result.daily
    horizon = result.horizon_days
    sums = {name: float(np.sum(d[name])) for name in _SUMMED}

    customers = np.asarray(d["customers"], dtype=np.float64)
    # Annualised over the days the business traded; on a closing day its customers are
    # those it lost when it closed (so a ruined plan's churn counts them).
    open_days = horizon if result.ruin_day is None else result.ruin_day + 1
    trading = customers[:open_days].copy()
    if result.ruin_day is not None and trading.size:
        trading[-1] += float(d["lost_at_closure"][result.ruin_day])
    mean_customers = float(trading.mean()) if trading.size else 0.0
    churn_rate = sums["churned"] / mean_customers * 365.0 / open_days if mean_customers > 0 else 0.0

    satisfaction = np.asarray(result.defections["satisfaction"], dtype=np.float64)
    satisfied_share = (
        float(np.mean(satisfaction >= SATISFIED_THRESHOLD)) if satisfaction.size else np.nan
    )
    stated = np.asarray(result.defections.get("stated_satisfied", ()), dtype=np.float64)
    stated = stated[np.isfinite(stated)]
    stated_share = float(np.mean(stated)) if stated.size else np.nan
    profit_cash = sums["gross_profit"] - sum(sums[c] for c in PROFIT_COSTS)
    # The liability starts at 0 (no points on day 0): its end level is its change.
    liability_change = float(d["points_liability"][-1])
    cash = np.asarray(d["cash"], dtype=np.float64)
    list_revenue = sums["list_revenue"]

    values = {
        **sums,
        "customers_end": float(customers[-1]),
        "churn_rate_annual": churn_rate,
        "profit": profit_cash - liability_change,
        "profit_cash": profit_cash,
        "points_liability_change": liability_change,
        "stated_satisfied_defector_share": stated_share,
        "survived": 0.0 if result.ruined else 1.0,
        "cash_end": float(cash[-1]),
        "cash_min": float(cash.min()),
        "satisfied_defector_share": satisfied_share,
        "mean_satisfaction_end": float(d["mean_satisfaction"][-1]),
        "mean_attachment_end": float(d["mean_attachment"][-1]),
        "points_liability_end": float(d["points_liability"][-1]),
        "effective_discount": sums["discount_cost"] / list_revenue if list_revenue > 0 else 0.0,
    }
    return {name: float(values[name]) for name in METRIC_NAMES}


def metric_arrays(results: Sequence[RunResult], scenario: Scenario) -> dict[str, np.ndarray]:
    """Metrics of several replications as columns, ordered by replication index.

    Returns
    -------
    dict
        ``{name: float64[n_replications]}`` for every name in :data:`METRIC_NAMES`.
    """
    ordered = sorted(results, key=lambda r: r.replication)
    rows = [run_metrics(r, scenario) for r in ordered]
    return {name: np.array([row[name] for row in rows], dtype=np.float64) for name in METRIC_NAMES}
