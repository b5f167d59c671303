"""`loyaltysim check` and `loyaltysim frontier` from the command line (CliRunner, tmp_path)."""

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


def write(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY + extra)
    return path


def check(path: Path, *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["check", str(path), "--workers", "1", "--json", *args])
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def test_a_discount_at_or_above_the_margin_is_always_flagged(tmp_path: Path) -> None:
    code, out = check(write(tmp_path, '[discount]\nkind = "flat"\nrate = 0.7\n'), "--reps", "2")
    assert code == 1
    (verdict,) = out["variants"]
    assert verdict["status"] == "unsafe" and verdict["structural_loss"]
    assert "every discounted sale loses money" in verdict["text"]


def test_a_small_discount_on_a_high_margin_with_ample_cash_is_safe(tmp_path: Path) -> None:
    # Without --reps, check runs enough replications to show a risk below 5% (73).
    code, out = check(write(tmp_path, '[discount]\nkind = "flat"\nrate = 0.05\n'))
    assert code == 0, out
    assert out["safe"] and out["replications"] == 73
    assert out["variants"][0]["status"] == "safe"


def test_too_few_replications_cannot_call_a_plan_safe(tmp_path: Path) -> None:
    code, out = check(write(tmp_path), "--reps", "10")
    assert code == 1
    verdict = out["variants"][0]
    assert verdict["status"] == "unresolved" and verdict["replications_needed"] == 73
    assert verdict["ruin_ci95"][1] > 0.05


def test_a_looser_risk_limit_is_resolved_with_fewer_runs(tmp_path: Path) -> None:
    code, out = check(write(tmp_path), "--max-ruin-risk", "0.3")
    assert code == 0 and out["max_ruin_risk"] == 0.3
    assert out["replications"] < 73


def test_ruin_is_reported_with_when_and_how_early(tmp_path: Path) -> None:
    broke = "[business]\n" + "fixed_costs_per_month = 60000\nstarting_cash = 20000\n"
    path = tmp_path / "broke.toml"
    path.write_text(
        TINY.replace("[business]\n", broke).replace(
            "fixed_costs_per_month = 2000\nstarting_cash = 100000\n", "", 1
        )
    )
    code, out = check(path, "--reps", "3", "--days", "120")
    assert code == 1
    verdict = out["variants"][0]
    assert verdict["ruined"] == 3 and verdict["median_ruin_day"] is not None
    assert "Ruined in 3 of 3 runs" in verdict["text"]


def test_frontier_reports_the_cliff_and_writes_its_files(tmp_path: Path) -> None:
    out_dir = tmp_path / "frontier"
    result = CliRunner().invoke(
        main,
        ["frontier", str(write(tmp_path)), "--param", "discount.rate", "--range", "0:0.8:0.4",
         "--set", "discount.kind=flat", "--reps", "3", "--max-ruin-risk", "0.6",
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


def test_frontier_rejects_a_bad_range(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["frontier", str(write(tmp_path)), "--param", "discount.rate", "--range", "0:1"]
    )
    assert result.exit_code == 2
    assert "LO:HI:STEP" in result.output
