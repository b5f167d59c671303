"""The scenario the benchmarks time: café-like, scaled to any number of customers.

Imported by the benchmark scripts, which run from this folder (``python benchmarks/...``),
so it is on ``sys.path``.
"""

from __future__ import annotations

import json
from typing import Any


def scenario_for(customers: int, days: int) -> dict:
    """A café-like scenario scaled to ``customers``, with every mechanism switched on:
    three segments, a competitor with promotions, a points card, phone follow-ups to the
    dissatisfied, complaints, word of mouth, acquisition."""
    return {
        "scenario": {"name": "bench", "horizon_days": days, "seed": 1},
        "business": {
            "fixed_costs_per_month": 14.0 * customers,
            "starting_cash": 20.0 * customers,
            "prospects_per_month": 0.25 * customers,
        },
        "customers": {
            "initial": customers,
            "segments": [
                {"name": "regulars", "share": 0.35, "visits_per_month": 12.0, "attachment": 0.55},
                {"name": "occasional", "share": 0.45, "visits_per_month": 3.0},
                {
                    "name": "deal seekers",
                    "share": 0.2,
                    "visits_per_month": 2.0,
                    "deal_proneness": 0.7,
                    "price_sensitivity": 1.6,
                },
            ],
        },
        "discount": {"kind": "points", "reward_points": 45.0, "reward_value": 4.5},
        "followup": {
            "kind": "after_purchase",
            "channel": "phone_call",
            "target": "dissatisfied",
            "monthly_budget": 0.5 * customers,
        },
    }


def leaving_scenario(customers: int, days: int) -> dict:
    """:func:`scenario_for` with no paid acquisition and the cash to pay the fixed costs
    over the whole horizon: the customers mostly leave within a few years (referrals
    replace few of them) and no ruin ends the run early, the case of a long horizon in
    which the active customer-days grow far less than the days."""
    data = scenario_for(customers, days)
    business = data["business"]
    business["prospects_per_month"] = 0.0
    months = days / 30.4375 + 1
    business["starting_cash"] = business["fixed_costs_per_month"] * months
    return data


def toml_text(data: dict[str, Any]) -> str:
    """``data`` (tables, lists, strings, numbers, booleans) as a TOML document, for code
    that reads a scenario file: one line per top-level key, inline tables below it."""

    def value(v: Any) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        return repr(v)

    return "".join(f"{k} = {value(v)}\n" for k, v in data.items())
