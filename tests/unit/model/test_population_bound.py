"""Memory is bounded at run time, not only at validation (issue #9, item 2).

The issue's scenario (cafe with 40 customers, 100 positive mentions a month per delighted
customer, every referral converting, 2,000 paid prospects a month, all converting)
validated, then grew past 5,000,000 customers through referrals and took 24 GB before the
kernel killed it. Here it runs with a small bound (scenario.max_customers), never the
real one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from loyaltysim.cli import EXIT_INVALID_SCENARIO, EXIT_OK, EXIT_RUNTIME_FAILURE, main
from loyaltysim.model.customers import add_customers
from loyaltysim.model.population import ORIGIN_PAID, Population, PopulationLimitError
from loyaltysim.model.simulation import simulate
from loyaltysim.rng import stream
from loyaltysim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[3]
CAFE = ROOT / "scenarios" / "cafe.toml"
RUNAWAY = [
    "customers.initial=40",
    "behaviour.positive_mentions_per_month=100",
    "behaviour.referral_conversion=1",
    "business.prospects_per_month=2000",
    "business.prospect_conversion=1",
    "scenario.horizon_days=60",
    "scenario.replications=2",
]


def test_the_issues_runaway_scenario_stops_at_the_bound_naming_referrals() -> None:
    scenario = load_scenario(CAFE, [*RUNAWAY, "scenario.max_customers=20000"])
    with pytest.raises(PopulationLimitError) as caught:
        simulate(scenario, 0, 1)
    message = str(caught.value)
    assert "referrals (word of mouth)" in message
    assert "behaviour.positive_mentions_per_month=100" in message
    assert "behaviour.referral_conversion=1" in message
    assert "scenario.max_customers=20,000" in message


def test_the_run_exits_4_and_the_manifest_says_failed_with_the_reason(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["run", str(CAFE), "--output", str(out), "--workers", "1", "--quiet"]
    for override in [*RUNAWAY, "scenario.max_customers=20000"]:
        args += ["--set", override]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == EXIT_RUNTIME_FAILURE, result.output
    assert "population bound reached" in result.stderr and "referrals" in result.stderr
    assert "Traceback" not in result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed"
    assert "positive_mentions_per_month=100" in manifest["error"]


def test_the_arrays_never_grow_past_the_bound() -> None:
    scenario = load_scenario(
        CAFE,
        ["scenario.max_customers=1000", "customers.initial=600", "business.prospects_per_month=0"],
    )
    pop = Population()
    rng = stream(1, 0, "population")
    add_customers(pop, scenario, np.zeros(600, np.int64), 0, ORIGIN_PAID, rng)
    add_customers(pop, scenario, np.zeros(400, np.int64), 1, ORIGIN_PAID, rng)  # the bound
    assert pop.size == 1000 and pop.capacity == 1000  # not doubled to 1200
    with pytest.raises(PopulationLimitError, match="paid acquisition"):
        add_customers(pop, scenario, np.zeros(1, np.int64), 2, ORIGIN_PAID, rng)
    assert pop.size == 1000 and pop.capacity == 1000


def test_validation_counts_the_referrals_of_the_starting_customers(tmp_path: Path) -> None:
    # The first generation of word of mouth alone passes the bound: known before running.
    sets = [
        "customers.initial=2000",
        "customers.segments.0.satisfaction=0.95",
        "behaviour.positive_mentions_per_month=100",
        "behaviour.referral_conversion=1",
        "scenario.max_customers=100000",
    ]
    args = ["validate", str(CAFE)] + [a for s in sets for a in ("--set", s)]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == EXIT_INVALID_SCENARIO, result.output
    assert "referred by the starting customers" in result.stderr
    assert "behaviour.positive_mentions_per_month=100" in result.stderr
    # The same file with word of mouth at its defaults is fine.
    result = CliRunner().invoke(main, ["validate", str(CAFE), "--set", sets[-1]])
    assert result.exit_code == EXIT_OK, result.output


# Customers won back can leave again: with eager win-backs and fast departures the
# defection records outgrow the rows, so they need (and have) a bound of their own.
REVOLVING_DOOR = [
    "customers.initial=40",
    "business.prospects_per_month=0",
    "business.fixed_costs_per_month=0",  # no ruin: the door must keep revolving
    "behaviour.referral_conversion=0",
    "behaviour.other_hazard=100",
    "discount.kind='win_back'",
    "discount.after_days=20",
    "discount.accept_probability=1",
    "discount.take_up_base=10",
    "scenario.horizon_days=365",
    "scenario.max_customers=60",
]


def test_repeat_defections_after_win_backs_stop_at_the_bound_naming_win_back() -> None:
    scenario = load_scenario(CAFE, REVOLVING_DOOR)
    with pytest.raises(PopulationLimitError) as caught:
        simulate(scenario, 0, 1)
    message = str(caught.value)
    assert "defection-record bound reached" in message and "win-back" in message
    assert "discount.after_days=20" in message and "scenario.max_customers=60" in message


def test_the_records_bound_does_not_touch_a_run_below_it() -> None:
    # The same revolving door with room to spare runs to its end, every record kept.
    roomy = [*REVOLVING_DOOR[:-1], "scenario.max_customers=100000"]
    result = simulate(load_scenario(CAFE, roomy), 0, 1)
    records = len(result.defections["day"])
    assert records > 60  # more departures than customers: the door really revolves
    assert records <= 100_000
