"""The results tables as columns: one source for the files and the DataFrames.

Each table of a results folder (``timeseries``, ``defections``, ``replications``,
``warnings``, ``customers``) is built here from a :class:`RunResult`, one replication's
block of columns at a time. :mod:`loyaltysim.output.tables` formats these columns as CSV
(or Parquet), and :meth:`loyaltysim.experiment.Results.to_frame` stacks them into a pandas
DataFrame, so a column is defined once. Every column has its description in
:data:`DESCRIPTIONS`; :mod:`loyaltysim.output.data_dictionary` makes ``docs/data.md`` of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from loyaltysim.analysis.metrics import METRIC_NAMES, METRICS, run_metrics
from loyaltysim.model.result import CAUSES, DAILY_SERIES, RunResult
from loyaltysim.scenario.schema import Scenario

# The contract's time-series columns in the contract's order, then every other daily series.
CONTRACT_SERIES: tuple[str, ...] = (
    "customers",
    "purchases",
    "revenue",
    "discount_cost",
    "gross_profit",
    "followup_cost",
    "acquisition_cost",
    "fixed_costs",
    "cash",
    "churned",
    "acquired",
    "mean_satisfaction",
    "mean_attachment",
    "mean_competitor_awareness",
)

TIMESERIES_SERIES: tuple[str, ...] = CONTRACT_SERIES + tuple(
    s for s in DAILY_SERIES if s not in CONTRACT_SERIES
)

# Every table starts with these two columns: which variant, which replication.
KEY_COLUMNS: tuple[str, ...] = ("variant", "replication")

TIMESERIES_COLUMNS: tuple[str, ...] = (*KEY_COLUMNS, "day", *TIMESERIES_SERIES)

DEFECTION_COLUMNS: tuple[str, ...] = (
    *KEY_COLUMNS,
    "day",
    "customer",
    "segment",
    "cause",
    "satisfaction",
    "attachment",
    "tenure_days",
)

REPLICATION_COLUMNS: tuple[str, ...] = (
    *KEY_COLUMNS,
    "ruined",
    "ruin_day",
    "first_warning_day",
    "warnings",
    *METRIC_NAMES,
)

WARNING_COLUMNS: tuple[str, ...] = (
    *KEY_COLUMNS,
    "day",
    "indicator",
    "severity",
    "message",
)

CUSTOMER_COLUMNS: tuple[str, ...] = (
    *KEY_COLUMNS,
    "customer",
    "segment",
    "origin",
    "joined",
    "left",
    "first_purchase",
    "last_purchase",
    "frequency",
    "recency",
    "T",
    "monetary_value",
)

# table name -> its columns, in the order a run writes the tables.
COLUMNS: dict[str, tuple[str, ...]] = {
    "timeseries": TIMESERIES_COLUMNS,
    "defections": DEFECTION_COLUMNS,
    "replications": REPLICATION_COLUMNS,
    "warnings": WARNING_COLUMNS,
    "customers": CUSTOMER_COLUMNS,
}

# Columns that hold text; every other column is a number.
TEXT_COLUMNS = frozenset(
    {"variant", "segment", "cause", "indicator", "severity", "message", "origin"}
)

# Integer columns that may be empty (a replication without ruin, a customer who never bought):
# NaN in the columns, an empty field in a CSV.
OPTIONAL_INT_COLUMNS = frozenset({"ruin_day", "first_warning_day", "first_purchase", "left"})

ORIGINS: tuple[str, ...] = ("initial", "paid", "referral", "win_back")

_SERIES_TEXT: dict[str, str] = {
    "customers": "active customers at the end of the day",
    "purchases": "tickets sold by the business that day",
    "discounted_purchases": "of the day's tickets, those sold below list price",
    "competitor_purchases": "tickets the business's customers bought from the competitor",
    "demand": "expected tickets of the day's shoppers at the prices they were offered",
    "demand_at_list": "the same shoppers' expected tickets had every price been the list price",
    "list_revenue": "tickets sold times the list price (money)",
    "revenue": "money taken that day, after discounts and rewards",
    "discount_cost": "list_revenue minus revenue: what the discounts gave away (money)",
    "cost_of_goods": "unit cost of the tickets sold (money)",
    "gross_profit": "revenue minus cost_of_goods (money)",
    "followup_cost": "cost of the follow-up contacts made that day (money)",
    "acquisition_cost": "cost of the paid prospects reached that day (money)",
    "offer_cost": "cost of the win-back offers sent that day (money)",
    "fixed_costs": "fixed costs, paid on the first day of each month (money)",
    "cash": "cash at the end of the day (money)",
    "churned": "customers who defected that day (with those lost when ruin closed the business)",
    "acquired": "new customers that day: paid, referred and won back",
    "referred": "of the day's new customers, those who came by word of mouth",
    "won_back": "of the day's new customers, former customers won back",
    "complaints": "complaints made that day",
    "positive_mentions": "positive word-of-mouth mentions that day",
    "negative_mentions": "negative word-of-mouth mentions that day",
    "followups_reached": "customers a follow-up reached that day",
    "mean_satisfaction": "mean satisfaction of the active customers at the end of the day (0..1)",
    "mean_attachment": "mean emotional attachment of the active customers (0..1)",
    "mean_competitor_awareness": "mean awareness of the competitor among active customers (0..1)",
    "mean_reference_price": "mean price the active customers expect at the business (money)",
    "points_liability": "points still redeemable at the end of the day, at face value (money)",
    "points_breakage": "value of the points that expired unredeemed that day (money)",
    "survey_cost": "cost of the surveys sent that day (money)",
    "survey_responses": "survey answers received that day",
    "survey_satisfied": "answers in the top two CSAT boxes, or NPS 7-10, that day",
    "calls_found_unhappy": "unhappy customers a call found who had not complained",
    "lost_at_closure": "customers lost when ruin closed the business (also in churned)",
    "competitor_price": "the competitor's price that day, after any reaction or promotion (money)",
}

# table -> column -> what it means. One description per column; docs/data.md is made from it.
DESCRIPTIONS: dict[str, dict[str, str]] = {
    "timeseries": {
        "variant": "the variant: base or a variant's name in the scenario",
        "replication": "replication number (0-based); the same number shares random numbers "
        "across variants",
        "day": "day of the run, 0 to horizon_days - 1",
        **{s: _SERIES_TEXT[s] for s in TIMESERIES_SERIES if s in _SERIES_TEXT},
    },
    "defections": {
        "variant": "the variant",
        "replication": "replication number",
        "day": "day the customer defected",
        "customer": "the customer's row number in the replication (as in the customers table)",
        "segment": "the customer's segment name",
        "cause": "why the customer left: " + ", ".join(CAUSES),
        "satisfaction": "the customer's satisfaction when leaving (0..1)",
        "attachment": "the customer's attachment when leaving (0..1)",
        "tenure_days": "days from joining to leaving",
    },
    "replications": {
        "variant": "the variant",
        "replication": "replication number",
        "ruined": "1 if cash ran out (the business closed), else 0",
        "ruin_day": "day of ruin; empty when not ruined",
        "first_warning_day": "day of the first early warning of ruin; empty when none fired",
        "warnings": "early warnings and advice that fired in the replication",
        **{m: f"{METRICS[m].description} ({METRICS[m].unit})" for m in METRIC_NAMES},
    },
    "warnings": {
        "variant": "the variant",
        "replication": "replication number",
        "day": "day the warning fired",
        "indicator": "the early-warning indicator",
        "severity": "warning (predicts ruin) or advice (informs only)",
        "message": "why, in plain words",
    },
    "customers": {
        "variant": "the variant",
        "replication": "replication number",
        "customer": "the customer's row number in the replication",
        "segment": "the customer's segment name",
        "origin": "how the customer came: " + ", ".join(ORIGINS),
        "joined": "day the customer joined (negative for starting customers: their history)",
        "left": "day the customer last defected; empty while still a customer",
        "first_purchase": "first buying day within the run; empty for a customer who never "
        "bought in it (a starting customer's earlier history is not counted)",
        "last_purchase": "last buying day within the run; empty when none",
        "frequency": "repeat purchases: buying days after the first within the run (CLV "
        "convention: several tickets on one day are one purchase)",
        "recency": "days from the first purchase to the last (0 for a one-time buyer)",
        "T": "days from the first purchase to the end of observation (the last day, or the "
        "ruin day); empty for a customer who never bought",
        "monetary_value": "mean amount paid per repeat purchase day (0 without repeats)",
    },
}


def _timeseries(r: RunResult, scenario: Scenario) -> dict[str, np.ndarray]:
    return {"day": np.arange(r.horizon_days), **{s: r.daily[s] for s in TIMESERIES_SERIES}}


def _label(codes: np.ndarray, labels: Sequence[str]) -> np.ndarray:
    """The label of each code, by one gather (a defections table has a row per leaver)."""
    names = np.array(list(labels), dtype=object)
    known = (codes >= 0) & (codes < len(names))
    out = np.empty(len(codes), dtype=object)
    out[known] = names[codes[known]]
    # An unknown code stays visible as its number rather than failing the whole run.
    out[~known] = [str(c) for c in codes[~known].tolist()]
    return out


def _defections(r: RunResult, scenario: Scenario) -> dict[str, np.ndarray]:
    d = r.defections
    names = [s.name for s in scenario.customers.segments]
    return {
        "day": np.asarray(d["day"]),
        "customer": np.asarray(d["customer"]),
        "segment": _label(np.asarray(d["segment"], dtype=np.int64), names),
        "cause": _label(np.asarray(d["cause"], dtype=np.int64), CAUSES),
        "satisfaction": np.asarray(d["satisfaction"]),
        "attachment": np.asarray(d["attachment"]),
        "tenure_days": np.asarray(d["tenure_days"]),
    }


def _optional(value: int | None) -> np.ndarray:
    return np.array([np.nan if value is None else float(value)])


def _replications(r: RunResult, scenario: Scenario) -> dict[str, np.ndarray]:
    metrics = run_metrics(r, scenario)
    return {
        "ruined": np.array([int(r.ruined)]),
        "ruin_day": _optional(r.ruin_day),
        "first_warning_day": _optional(r.first_warning_day),
        "warnings": np.array([len(r.warnings)]),
        **{m: np.array([metrics[m]], dtype=np.float64) for m in METRIC_NAMES},
    }


def _warnings(r: RunResult, scenario: Scenario) -> dict[str, np.ndarray]:
    ws = sorted(r.warnings, key=lambda w: w.day)
    return {
        "day": np.array([w.day for w in ws], dtype=np.int64),
        "indicator": np.array([w.indicator for w in ws], dtype=object),
        "severity": np.array([w.severity for w in ws], dtype=object),
        "message": np.array([w.message for w in ws], dtype=object),
    }


def _customers(r: RunResult, scenario: Scenario) -> dict[str, np.ndarray]:
    c = r.customers
    if c is None:
        raise ValueError(
            f"replication {r.replication} of {r.variant!r} kept no customers "
            "(run with customers=True)"
        )
    first = c["first_purchase"].astype(np.int64)
    bought = first >= 0
    last = np.where(bought, c["last_visit"].astype(np.int64), -1)
    frequency = c["repeat_days"].astype(np.int64)
    end = r.horizon_days - 1 if r.ruin_day is None else r.ruin_day
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, c["repeat_spend"] / np.maximum(frequency, 1), 0.0)
    names = [s.name for s in scenario.customers.segments]
    left = c["left"].astype(np.int64)
    return {
        "customer": np.arange(len(first)),
        "segment": _label(c["segment"].astype(np.int64), names),
        "origin": _label(c["origin"].astype(np.int64), ORIGINS),
        "joined": c["joined"].astype(np.int64),
        "left": np.where(left >= 0, left, np.nan),
        "first_purchase": np.where(bought, first, np.nan),
        "last_purchase": np.where(bought, last, np.nan),
        "frequency": frequency,
        "recency": np.where(bought, last - first, 0).astype(np.int64),
        "T": np.where(bought, end - first, np.nan),
        "monetary_value": monetary.astype(np.float64),
    }


# table -> the columns of one replication's block, without the key columns.
BUILDERS: dict[str, Callable[[RunResult, Scenario], dict[str, np.ndarray]]] = {
    "timeseries": _timeseries,
    "defections": _defections,
    "replications": _replications,
    "warnings": _warnings,
    "customers": _customers,
}


def block_columns(name: str, r: RunResult, scenario: Scenario) -> dict[str, np.ndarray]:
    """One replication's rows of table ``name`` as columns (without variant, replication)."""
    return BUILDERS[name](r, scenario)


def table_columns(
    name: str, runs: dict[str, list[RunResult]], scenario: Scenario
) -> dict[str, np.ndarray]:
    """Every replication's rows of table ``name`` stacked, key columns first, in the
    folder's order (variants as given, replications ascending)."""
    if name not in BUILDERS:
        raise KeyError(f"unknown table {name!r}; the tables are: {', '.join(BUILDERS)}")
    parts: dict[str, list[np.ndarray]] = {c: [] for c in COLUMNS[name]}
    for variant, results in runs.items():
        for r in sorted(results, key=lambda r: r.replication):
            block = block_columns(name, r, scenario)
            n = len(next(iter(block.values()))) if block else 0
            parts["variant"].append(np.full(n, variant, dtype=object))
            parts["replication"].append(np.full(n, r.replication, dtype=np.int64))
            for col, values in block.items():
                parts[col].append(np.asarray(values))
    out: dict[str, np.ndarray] = {}
    for col, chunks in parts.items():
        if chunks:
            out[col] = np.concatenate(chunks)
        else:
            out[col] = np.zeros(0, dtype=object if col in TEXT_COLUMNS else np.float64)
    return out
