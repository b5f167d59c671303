"""summary.json: the contract's shape, no NaN, ruin and break-even arithmetic."""

from __future__ import annotations

import json
import random

import pytest

from loyaltysim.analysis.metrics import METRIC_NAMES
from loyaltysim.analysis.summary import dumps, json_safe, summarize
from loyaltysim.model.result import CAUSES
from tests.factories import CONTRACT_METRICS, make_result, make_results, make_scenario


def _summary(**kwargs: object) -> dict:
    scenario = make_scenario(horizon_days=60, replications=4)
    return summarize(scenario, make_results(("base", "10% off"), 4, 60, **kwargs), seed=7)


def test_contract_shape() -> None:
    s = _summary()
    assert {"schema_version", "scenario", "replications", "horizon_days", "seed", "variants"} <= (
        s.keys()
    )
    assert (s["schema_version"], s["scenario"], s["replications"]) == (1, "Corner café", 4)
    assert (s["horizon_days"], s["seed"]) == (60, 7)
    assert [v["name"] for v in s["variants"]] == ["base", "10% off"]
    for v in s["variants"]:
        assert {"name", "metrics", "churn_causes", "ruin", "break_even"} <= v.keys()
        assert set(CONTRACT_METRICS) <= v["metrics"].keys()
        assert list(v["metrics"]) == list(METRIC_NAMES)
        for m in v["metrics"].values():
            assert set(m) == {"mean", "ci95"} and len(m["ci95"]) == 2
            assert m["ci95"][0] <= m["mean"] <= m["ci95"][1]
        assert list(v["churn_causes"]) == list(CAUSES)
        assert sum(v["churn_causes"].values()) == pytest.approx(1.0)
        assert {
            "probability",
            "ci95",
            "median_day",
            "median_warning_day",
            "median_lead_days",
        } <= v["ruin"].keys()
        assert {"gross_margin", "effective_discount", "required_lift", "realised_lift"} <= (
            v["break_even"].keys()
        )
    json.dumps(s, allow_nan=False)  # plain JSON data, no NaN anywhere


def test_no_nan_when_undefined() -> None:
    scenario = make_scenario(horizon_days=30, replications=2)
    results = {"base": [make_result("base", k, 30, causes=[]) for k in range(2)]}
    s = summarize(scenario, results, seed=1)
    v = s["variants"][0]
    # An undefined interval is null as a whole (issue #9, item 8), not [null, null].
    assert v["metrics"]["satisfied_defector_share"] == {"mean": None, "ci95": None}
    assert all(share == 0.0 for share in v["churn_causes"].values())
    assert v["ruin"]["median_day"] is None and v["ruin"]["median_lead_days"] is None
    text = dumps(s)
    assert "NaN" not in text and "Infinity" not in text


def test_ruin_block() -> None:
    scenario = make_scenario(horizon_days=100, replications=30)
    ruin_days = {0: 40, 1: 60, 2: 80, 3: 20}
    warning_days = {0: [10], 2: [80], 3: [5, 30], 9: [50]}  # rep 9 warned, never ruined
    results = {
        "base": [
            make_result("base", k, 100, ruin_day=ruin_days.get(k), warning_days=warning_days.get(k))
            for k in range(30)
        ]
    }
    ruin = summarize(scenario, results, seed=1)["variants"][0]["ruin"]
    assert ruin["probability"] == pytest.approx(4 / 30)
    assert ruin["ruined"] == 4
    assert ruin["median_day"] == 50.0  # median of 20, 40, 60, 80
    assert ruin["warned"] == 4  # reps 0, 2, 3 and 9
    assert ruin["median_warning_day"] == pytest.approx(30.0)  # 5, 10, 50, 80
    assert ruin["warned_before_ruin"] == 2  # rep 2 warned on its ruin day: no lead
    assert ruin["median_lead_days"] == pytest.approx(22.5)  # (30 + 15) / 2
    # The guard's rule: exact one-sided 95% lower bound of 4 in 30 is 0.047, not above 5%.
    assert ruin["verdict"] == "undecided"
    assert ruin["risk_bounds"][0] == pytest.approx(0.0470, abs=1e-3)
    assert ruin["replications_needed"] > 30
    assert ruin["text"] == "ruin in 4 of 30 runs (risk 4.7% to 28%)"


def test_ruin_undecided_says_how_many_replications() -> None:
    scenario = make_scenario(horizon_days=30, replications=30)
    results = {"base": [make_result("base", k, 30) for k in range(30)]}
    ruin = summarize(scenario, results, seed=1)["variants"][0]["ruin"]
    assert ruin["probability"] == 0.0
    assert ruin["ci95"][0] == 0.0 and ruin["ci95"][1] == pytest.approx(0.1135, abs=1e-4)
    assert ruin["verdict"] == "undecided"  # 30 clean runs cannot show a risk below 5%
    assert ruin["replications_needed"] == 59  # exact one-sided: 1 - 0.05 ** (1 / 59) < 5%
    assert ruin["text"] == "no ruin in 30 runs (risk below 9.5%)"
    assert ruin["median_day"] is None


def test_break_even() -> None:
    s = _summary()
    base, variant = s["variants"]
    m = (4.5 - 1.4) / 4.5
    assert base["break_even"]["gross_margin"] == pytest.approx(m)
    assert base["break_even"]["realised_lift"] == 0.0
    assert base["break_even"]["effective_discount"] == 0.0
    assert base["break_even"]["required_lift"] == 0.0
    d = variant["break_even"]["effective_discount"]
    assert d == pytest.approx(0.1)
    assert variant["break_even"]["required_lift"] == pytest.approx(0.1 / (m - 0.1))
    assert variant["break_even"]["structural_loss"] is False
    # Same seed per replication, 5% more purchases on average in the variant.
    assert variant["break_even"]["realised_lift"] == pytest.approx(0.05, abs=0.02)


def test_structural_loss() -> None:
    scenario = make_scenario(horizon_days=30, replications=2)
    results = {"base": [make_result("base", k, 30, discount=0.8) for k in range(2)]}
    be = summarize(scenario, results, seed=1)["variants"][0]["break_even"]
    assert be["structural_loss"] is True and be["required_lift"] is None


def test_order_of_completion_does_not_matter() -> None:
    scenario = make_scenario(horizon_days=60, replications=4)
    results = make_results(("base", "10% off"), 4, 60)
    shuffled = {k: random.Random(3).sample(v, len(v)) for k, v in results.items()}
    assert dumps(summarize(scenario, results, 1)) == dumps(summarize(scenario, shuffled, 1))


def test_vs_base_and_duplicates() -> None:
    s = _summary()
    assert "vs_base" not in s["variants"][0]
    profit = s["variants"][1]["vs_base"]["profit"]
    assert profit["ci95"][0] <= profit["mean"] <= profit["ci95"][1]
    assert set(profit) == {"mean", "ci95", "unpaired_ci95", "variance_reduction"}
    scenario = make_scenario(horizon_days=60)
    with pytest.raises(ValueError, match="duplicate"):
        summarize(scenario, {"base": [make_result(), make_result()]}, 1)
    with pytest.raises(ValueError, match="days"):
        summarize(scenario, {"base": [make_result(horizon_days=30)]}, 1)


def test_json_safe() -> None:
    import numpy as np

    assert json_safe({"a": np.float64("nan"), "b": (np.int64(2), float("inf")), "c": True}) == {
        "a": None,
        "b": [2, None],
        "c": True,
    }
