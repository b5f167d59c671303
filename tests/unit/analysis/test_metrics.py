"""Per-replication metrics from synthetic results whose ledger is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

from loyaltysim.analysis.metrics import (
    METRIC_NAMES,
    METRICS,
    daily_profit,
    metric_arrays,
    run_metrics,
)
from tests.factories import CONTRACT_METRICS, make_result, make_scenario


def test_names_contract_first_and_described() -> None:
    assert METRIC_NAMES[: len(CONTRACT_METRICS)] == CONTRACT_METRICS
    assert len(set(METRIC_NAMES)) == len(METRIC_NAMES)
    for name in METRIC_NAMES:
        assert METRICS[name].description and METRICS[name].unit


def test_ledger_and_sums() -> None:
    scenario = make_scenario()
    r = make_result(horizon_days=90, discount=0.1, starting_cash=25_000.0)
    m = run_metrics(r, scenario)
    assert list(m) == list(METRIC_NAMES)
    # Cash moves by the cash view of profit; profit proper accrues the points liability
    # (issue #11: rewards owed are a cost when earned, not when redeemed).
    assert m["cash_end"] == pytest.approx(25_000.0 + m["profit_cash"])
    assert m["profit_cash"] == pytest.approx(
        m["gross_profit"]
        - m["followup_cost"]
        - m["acquisition_cost"]
        - m["offer_cost"]
        - m["fixed_costs"]
        - m["survey_cost"]
    )
    assert m["profit_cash"] == pytest.approx(daily_profit(r.daily).sum())
    assert m["points_liability_change"] == r.daily["points_liability"][-1] > 0
    assert m["profit"] == pytest.approx(m["profit_cash"] - m["points_liability_change"])
    assert m["revenue"] == pytest.approx(m["list_revenue"] - m["discount_cost"])
    assert m["effective_discount"] == pytest.approx(0.1)
    assert m["purchases"] == r.daily["purchases"].sum()
    assert m["customers_end"] == r.daily["customers"][-1]
    assert m["cash_min"] == r.daily["cash"].min()
    assert m["points_liability_end"] == r.daily["points_liability"][-1]
    expected_rate = m["churned"] / r.daily["customers"].mean() * 365 / 90
    assert m["churn_rate_annual"] == pytest.approx(expected_rate)
    assert m["fixed_costs"] == 3 * 3_000.0


def test_ledger_holds_after_ruin() -> None:
    r = make_result(horizon_days=120, ruin_day=50)
    m = run_metrics(r, make_scenario())
    assert m["cash_end"] == pytest.approx(25_000.0 + m["profit_cash"])
    assert m["churned"] == len(r.defections["day"])
    assert m["survived"] == 0.0


def test_satisfied_defector_share_bands() -> None:
    r = make_result(causes=[0, 1, 2, 3, 4], satisfaction=[0.1, 0.59, 0.6, 0.8, 1.0])
    assert run_metrics(r, make_scenario())["satisfied_defector_share"] == pytest.approx(0.6)
    none = run_metrics(make_result(causes=[]), make_scenario())
    assert math.isnan(none["satisfied_defector_share"])


def test_no_sales_no_customers() -> None:
    r = make_result(daily_purchases=0.0, initial_customers=0, causes=[])
    r.daily["customers"][:] = 0.0
    r.daily["churned"][:] = 0.0
    m = run_metrics(r, make_scenario())
    assert m["effective_discount"] == 0.0
    assert m["churn_rate_annual"] == 0.0


def test_metric_arrays_ordered_by_replication() -> None:
    results = [make_result(replication=k) for k in (2, 0, 1)]
    arrays = metric_arrays(results, make_scenario())
    by_rep = {r.replication: run_metrics(r, make_scenario())["profit"] for r in results}
    np.testing.assert_array_equal(arrays["profit"], [by_rep[0], by_rep[1], by_rep[2]])
