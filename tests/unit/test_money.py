"""Money in the scenario's currency, and no figure in e-notation (issue #16 item 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from loyaltysim.cli import summary_table
from loyaltysim.commands.experiments import compare_table, sweep_table
from loyaltysim.scenario.money import money, number, snap
from loyaltysim.scenario.schema import Meta


def test_money_in_a_code_or_a_symbol() -> None:
    assert money(12345.4) == "12,345"
    assert money(-1234.5, "EUR") == "−1,234 EUR"  # rounds half to even, minus sign
    assert money(1234, "€", signed=True) == "+€1,234"
    assert money(-3.95e-11, "EUR") == "0 EUR"  # float noise is zero, never "−0"
    assert money(None) == "n/a" and money(float("nan")) == "n/a"
    assert money(4.5, "€", digits=2) == "€4.50"


def test_figures_never_use_e_notation() -> None:
    assert number(-21800.4, minus="-") == "-21,800"  # facts printed -2.18e+04
    assert number(0.000123) == "0.000123"
    assert number(1.5e-7) == "0.00000015"
    assert number(-3.95e-11) == "0"
    assert snap(-0.0) == 0.0 and str(snap(-0.0)) == "0.0"


@pytest.mark.parametrize("good", ["EUR", "€", "US$", "CHF", "kr"])
def test_a_currency_is_a_code_or_a_symbol(good: str) -> None:
    assert Meta(name="x", currency=good).currency == good


@pytest.mark.parametrize("bad", ["EUR 1", " ", "1€", "euros per ticket"])
def test_a_bad_currency_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        Meta(name="x", currency=bad)


def test_no_currency_by_default() -> None:
    assert Meta(name="x").currency is None


def _summary() -> dict:
    metric = {"mean": 1000.0, "ci95": [-3.95e-11, 2000.0]}
    variant = {
        "name": "base",
        "metrics": {"profit": metric, "churn_rate_annual": metric, "customers_end": metric},
        "ruin": {"probability": 0.0, "text": "no ruin"},
    }
    return {"scenario": "x", "replications": 3, "horizon_days": 30, "seed": 1,
            "variants": [variant]}  # fmt: skip


def test_the_run_table_names_the_currency_and_shows_no_noise() -> None:
    text = summary_table(_summary(), "EUR")
    assert "profit (EUR), mean [95% CI]" in text
    assert "-0" not in text and "e-" not in text
    assert "(EUR)" not in summary_table(_summary())


def test_compare_and_sweep_tables_name_the_currency() -> None:
    data = {
        "scenario": "x", "replications": 3, "horizon_days": 30, "seed": 1, "reference": "base",
        "differences": [{"entry": "a", "metrics": {"profit": {
            "unit": "money", "entry_mean": 10.0, "mean": -3.95e-11, "ci95": [-1.0, 1.0],
            "unpaired_ci95": [-2.0, 2.0], "width_ratio": 2.0}}}],
    }  # fmt: skip
    text = compare_table(json.loads(json.dumps(data)), "€")
    assert "profit (€)" in text and "-0 " not in text
    row = {"point": 0, "k": 1.0, "profit_mean": 5.0, "profit_ci_lo": 1.0, "profit_ci_hi": 9.0,
           "churn_rate_annual_mean": 0.1, "ruined": 0, "replications": 3}  # fmt: skip
    assert "profit (EUR), mean" in sweep_table([row], ["k"], currency="EUR")


def test_the_schema_json_describes_the_currency(tmp_path: Path) -> None:
    from loyaltysim.scenario import scenario_json_schema

    schema = json.dumps(scenario_json_schema())
    assert "a code such as EUR" in schema
