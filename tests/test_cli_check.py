"""`loyaltysim check` and `loyaltysim frontier` from the command line (CliRunner, tmp_path).

The scenarios are this file's own. A short look-ahead keeps the runs past the horizon
cheap where the test is not about it.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from loyaltysim.cli import main

TINY = """
[scenario]
name = "Tiny shop"
horizon_days = 60
replications = 4
seed = 11

[business]
price = 10.0
unit_cost = 3.0             # 70% gross margin
fixed_costs_per_month = 2000
starting_cash = 100000
prospects_per_month = 20

[customers]
initial = 300
"""
SHORT_LOOK = "[guard]\nlook_ahead_days = 30\nfire_within_days = 30\n"


def write(tmp_path: Path, extra: str = "", text: str = TINY, name: str = "tiny.toml") -> Path:
    path = tmp_path / name
    path.write_text(text + extra)
    return path


def check(path: Path, *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["check", str(path), "--workers", "1", "--json", *args])
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def test_a_variant_losing_on_every_sale_is_flagged_before_any_simulation(tmp_path: Path) -> None:
    # The variant's own margin: its dearer stock leaves 25%, below its 30% discount.
    variant = (
        '[[variants]]\nname = "30% off, dearer stock"\n'
        'set = { "discount.kind" = "flat", "discount.rate" = 0.3, "business.unit_cost" = 7.5 }\n'
    )
    path = write(tmp_path, SHORT_LOOK + "max_replications = 2\n" + variant)
    code, out = check(path, "--reps", "2")
    assert code == 1 and out["breached"]
    assert out["flags"]["base"] is None
    flag = out["flags"]["30% off, dearer stock"]
    assert "discount of 30.0% on a gross margin of 25.0%" in flag and "d/(m - d)" in flag
    base, plan = out["variants"]
    assert not base["breached"] and plan["structural_loss"] and plan["breached"]


def test_a_safe_plan_is_decided_safe_without_being_told_how_many_runs(tmp_path: Path) -> None:
    path = write(tmp_path, SHORT_LOOK + "max_replications = 32\n")
    code, out = check(path, "--max-ruin-risk", "0.2")
    assert code == 0, out
    (verdict,) = out["variants"]
    assert verdict["status"] == "safe" and out["safe"]
    # Looks 4, 8, 16, 32; with 4 looks, 0 ruins in 20 runs show a risk below 20%.
    assert out["looks"] == [4, 8, 16, 32] and verdict["replications"] == 32
    assert verdict["ruin"]["text"].startswith("SAFE (95% sure): no ruin in 32 runs")


def test_a_check_that_cannot_decide_says_so_and_how_many_runs_would(tmp_path: Path) -> None:
    path = write(tmp_path, SHORT_LOOK + "max_replications = 20\n")
    code, out = check(path, "--output", str(tmp_path / "out"))
    assert code == 0  # UNDECIDED is not a breach; the README says so
    saved = json.loads((tmp_path / "out" / "check.json").read_text())
    assert saved["undecided"] == ["base"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["replications"] == 20 and summary["horizon_days"] == 60
    (verdict,) = out["variants"]
    assert verdict["status"] == "undecided" and out["undecided"] == ["base"]
    assert not out["safe"] and not out["breached"]
    assert verdict["replications"] == 20 and verdict["ruin"]["runs_needed"] > 20
    assert "would decide it" in verdict["ruin"]["text"]


# Seed 20, not 5, since the counter-based random numbers (issue #15): in about one
# check in six of this shop no run is ruined within the year, under the old numbers as
# under the new (26 and 28 ruins in year one in 272 runs each, seeds 5-21), and seed 5
# now has one; the claims of the tests below are unchanged.
ERODING = """
[scenario]
name = "Eroding shop"
horizon_days = 365
replications = 8
seed = 20

[business]
fixed_costs_per_month = 3500
starting_cash = 6000
prospects_per_month = 3   # too few to replace the customers who leave

[customers]
initial = 400

[guard]
max_replications = 16
"""


def test_a_one_year_check_catches_a_ruin_in_year_two(tmp_path: Path) -> None:
    code, out = check(write(tmp_path, text=ERODING, name="eroding.toml"), "--max-ruin-risk", "0.3")
    assert code == 1, out
    (verdict,) = out["variants"]
    # Within the user's year nothing is ruined: the ruin risk itself is SAFE...
    assert verdict["status"] == "safe" and verdict["ruin"]["events"] == 0
    # ...but the warning fires in year one, and the runs continued past the horizon show
    # it was right: ruin followed within the look-ahead.
    assert verdict["warning_fired"] and verdict["warning"]["status"] == "unsafe"
    judged = verdict["judgement"]
    assert judged["warned"] >= 12 and judged["hits"] >= judged["warned"] - 1
    assert judged["ruined_after_horizon"] >= 12
    assert judged["median_warning_day"] < 365 and judged["median_lead_days"] <= 180
    assert "falls below the floor (0) within 180 days" in verdict["text"]


def test_ruin_is_reported_with_when_and_how_early(tmp_path: Path) -> None:
    broke = TINY.replace(
        "fixed_costs_per_month = 2000\nstarting_cash = 100000\n",
        "fixed_costs_per_month = 60000\nstarting_cash = 70000\n",
    )
    code, out = check(
        write(tmp_path, SHORT_LOOK + "max_replications = 3\n", text=broke), "--reps", "3"
    )
    assert code == 1
    verdict = out["variants"][0]
    assert verdict["ruin"]["events"] == 3 and verdict["median_ruin_day"] is not None
    assert "ruin in 3 of 3 runs" in verdict["text"]
    assert verdict["judgement"]["caught"] == 3  # warned before the ruin, from the books


def test_frontier_reports_the_cliff_and_writes_its_files(tmp_path: Path) -> None:
    out_dir = tmp_path / "frontier"
    result = CliRunner().invoke(
        main,
        ["frontier", str(write(tmp_path)), "--param", "discount.rate", "--range", "0:0.8:0.4",
         "--set", "discount.kind=flat", "--reps", "3", "--max-ruin-risk", "0.7",
         "--workers", "1", "--output", str(out_dir), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [p["value"] for p in data["points"]] == [0.0, 0.4, 0.8]
    # 80% off on a 70% margin loses money on every sale: the cliff.
    assert data["points"][2]["structural_loss"] and data["cliff"] == 0.8
    assert data["largest_safe"] == 0.4
    for name in ("frontier.json", "frontier.csv", "frontier.png", "frontier.svg"):
        assert (out_dir / name).stat().st_size > 0


def test_frontier_does_not_call_an_undecided_value_a_cliff(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["frontier", str(write(tmp_path)), "--param", "discount.rate", "--range", "0:0.8:0.4",
         "--set", "discount.kind=flat", "--reps", "3", "--workers", "1",
         "--output", str(tmp_path / "f"), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [p["verdict"] for p in data["points"]] == ["undecided", "undecided", "unsafe"]
    assert data["cliff"] == 0.8 and data["first_undecided"] == 0.0
    assert data["points"][0]["ruin_text"] == "no ruin in 3 runs (risk below 63%)"


def test_frontier_rejects_a_bad_range(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["frontier", str(write(tmp_path)), "--param", "discount.rate", "--range", "0:1"]
    )
    assert result.exit_code == 2
    assert "LO:HI:STEP" in result.output
