"""Small samples said out loud (issue #14 item 6): each warning fires when the sample
cannot support the statement and stays silent when it can; the commands print them and
their JSON carries them under ``sample_warnings``."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from loyaltysim.analysis import sample_size as ss
from loyaltysim.analysis.facts import Fact
from loyaltysim.analysis.verdict import decide_risk
from loyaltysim.cli import main

# ----------------------------------------------------------------------------- compare


def comparison(reps: int, entry_ruin: float, reference_ruin: float) -> dict[str, Any]:
    ruin = {"entry_mean": entry_ruin, "reference_mean": reference_ruin, "mean": 0.0}
    return {
        "reference": "base",
        "replications": reps,
        "differences": [{"entry": "10% off", "metrics": {"profit": {}, "ruin": ruin}}],
    }


def test_a_ruin_difference_from_runs_without_ruin_is_flagged() -> None:
    (warning,) = ss.compare_warnings(comparison(4, 0.0, 0.0))
    assert "No run of 'base' or '10% off' went bust in 4 replications" in warning
    assert "not a measured zero" in warning and "below 53% (95% sure)" in warning
    assert "loyaltysim check" in warning


def test_a_ruin_difference_from_runs_all_ruined_is_flagged() -> None:
    (warning,) = ss.compare_warnings(comparison(4, 1.0, 1.0))
    assert "Every run of 'base' or '10% off' went bust" in warning


def test_a_ruin_difference_with_ruins_to_compare_is_not_flagged() -> None:
    assert ss.compare_warnings(comparison(40, 0.25, 0.1)) == []


def test_one_replication_has_no_interval() -> None:
    (one, _ruin) = ss.compare_warnings(comparison(1, 0.0, 0.0))
    assert one.startswith("Each entry ran one replication") and "--reps 10" in one
    assert ss.compare_warnings(comparison(10, 0.5, 0.2)) == []


# ----------------------------------------------------------------------------- sensitivity


def sobol(st: float, st_conf: float, s1: float, drives: bool = True) -> dict[str, Any]:
    row = {"param": "business.price", "ST": st, "ST_conf": st_conf, "S1": s1, "S1_conf": 0.1}
    return {
        "method": "sobol",
        "replications": 2,
        "outputs": {"profit": {"ranking": [{**row, "drives": drives}]}},
    }


def test_sobol_with_an_interval_wider_than_its_index_is_flagged() -> None:
    # the case of the issue: `sensitivity --n 8` printed "drives: yes" for ST 0.93 +- 0.84
    (warning,) = ss.sensitivity_warnings(sobol(0.93, 0.84, 0.5), n=8)
    assert "ST 0.93 ± 0.84" in warning and "interval is wider than the index" in warning
    assert "rerun with --n 64" in warning


def test_sobol_with_s1_above_st_is_flagged() -> None:
    (warning,) = ss.sensitivity_warnings(sobol(0.6, 0.1, 0.8), n=8)
    assert "S1 0.80 > ST 0.60" in warning and "cannot happen" in warning


def test_sobol_with_st_above_one_is_flagged() -> None:
    warnings = ss.sensitivity_warnings(sobol(1.23, 0.5, 1.1), n=16)
    assert any("above 1" in w for w in warnings)
    assert all("--n 64" in w for w in warnings)


def test_sobol_with_enough_samples_is_not_flagged() -> None:
    assert ss.sensitivity_warnings(sobol(0.93, 0.06, 0.9), n=256) == []
    # a parameter that does not drive the output may have a wide interval: nothing claimed
    assert ss.sensitivity_warnings(sobol(0.004, 0.01, 0.0, drives=False), n=64) == []


def test_the_suggested_base_samples_grow_fourfold() -> None:
    (warning,) = ss.sensitivity_warnings(sobol(0.5, 0.4, 0.3), n=64)
    assert "--n 256" in warning


def morris(mu_star: float, conf: float) -> dict[str, Any]:
    row = {"param": "business.price", "mu_star": mu_star, "mu_star_conf": conf, "drives": True}
    return {"method": "morris", "replications": 3, "outputs": {"profit": {"ranking": [row]}}}


def test_morris_with_a_wide_interval_is_flagged_and_a_narrow_one_not() -> None:
    (warning,) = ss.sensitivity_warnings(morris(10.0, 8.0), n=4)
    assert "mu* interval is wider than mu*" in warning and "--n 16" in warning
    assert ss.sensitivity_warnings(morris(10.0, 1.0), n=40) == []


# ----------------------------------------------------------------------------- sweep


def test_a_sweep_of_one_replication_per_point_is_flagged() -> None:
    rows = [{"point": 0, "replications": 1}, {"point": 1, "replications": 1}]
    (warning,) = ss.sweep_warnings(rows)
    assert "one replication" in warning and "--reps 10" in warning
    assert ss.sweep_warnings([{"point": 0, "replications": 5}]) == []


# ----------------------------------------------------------------------------- check


def plan(name: str, ruin: Any, warning: Any) -> Any:
    return SimpleNamespace(variant=name, ruin=ruin, warning=warning)


def test_a_plan_undecided_at_the_cap_is_flagged() -> None:
    undecided = decide_risk(0, 8, 0.05)
    assert undecided.status == "undecided"
    (warning,) = ss.check_warnings([plan("base", undecided, undecided)], 8)
    assert warning.startswith("'base': the ruin risk could not be told from the 5.0% limit")
    assert f"--set guard.max_replications={undecided.runs_needed}" in warning


def test_decided_plans_are_not_flagged() -> None:
    safe = decide_risk(0, 100, 0.05)
    unsafe = decide_risk(50, 100, 0.05)
    assert (safe.status, unsafe.status) == ("safe", "unsafe")
    assert ss.check_warnings([plan("a", safe, safe), plan("b", unsafe, safe)], 100) == []


# ----------------------------------------------------------------------------- facts


def fact(value: float) -> Fact:
    return Fact(4, "a fact", "a target", value, (value, value), passed=False)


def test_facts_of_one_replication_or_unmeasured_are_flagged() -> None:
    (one,) = ss.facts_warnings([fact(0.5)], 1)
    assert "one replication" in one
    (nan,) = ss.facts_warnings([fact(math.nan)], 10)
    assert "Fact 4 (a fact) could not be measured" in nan
    assert ss.facts_warnings([fact(0.5)], 10) == []


# ----------------------------------------------------------------------------- commands

TINY = """
[scenario]
name = "Tiny shop"
horizon_days = 30
replications = 4
seed = 5

[customers]
initial = 50

[[variants]]
name = "5% off"
set = { "discount.kind" = "flat", "discount.rate" = 0.05 }
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


def invoke(*args: Any) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_compare_prints_and_stores_the_ruin_warning(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    shown = invoke("compare", tiny, "--workers", 1, "--no-charts", "--output", out)
    assert shown.exit_code == 0, shown.output
    assert "sample warning: No run of 'base' or '5% off' went bust in 4" in shown.stdout
    stored = json.loads((out / "comparison.json").read_text())
    assert stored["sample_warnings"] and "not a measured zero" in stored["sample_warnings"][0]
    printed = json.loads(invoke("compare", tiny, "--workers", 1, "--no-charts", "--json").stdout)
    assert printed["sample_warnings"] == stored["sample_warnings"]


def test_sweep_of_one_replication_warns_in_print_json_and_manifest(
    tiny: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sw"
    args = ("sweep", tiny, "--param", "business.price=4:5:1", "--reps", 1, "--workers", 1)
    shown = invoke(*args, "--no-charts", "--output", out)
    assert "sample warning: Each point ran one replication" in shown.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sample_warnings"] == [shown.stdout.split("sample warning: ")[1].split("\n")[0]]
    spec = json.loads((out / "sweep.json").read_text())
    assert spec["sample_warnings"] == manifest["sample_warnings"]
    # a finished sweep resumed: its warnings are results, not a different design
    again = invoke(*args, "--no-charts", "--output", out, "--resume")
    assert again.exit_code == 0, again.output
    printed = json.loads(invoke(*args, "--no-charts", "--json").stdout)
    assert printed["sample_warnings"] == manifest["sample_warnings"]
    enough = json.loads(invoke(*args[:-4], "--reps", 2, "--workers", 1, "--json").stdout)
    assert enough["sample_warnings"] == []


def test_check_json_carries_the_key(tiny: Path) -> None:
    shown = invoke("check", tiny, "--set", "guard.max_replications=4", "--workers", 1, "--json")
    data = json.loads(shown.stdout)
    assert "sample_warnings" in data
    assert any("could not be told from the" in w for w in data["sample_warnings"])


def test_sensitivity_json_carries_the_key(tiny: Path, tmp_path: Path) -> None:
    pytest.importorskip("SALib")
    out = tmp_path / "sa"
    shown = invoke(
        "sensitivity", tiny, "--param", "business.price=4:5", "--method", "morris", "--n", 2,
        "--reps", 1, "--days", 15, "--workers", 1, "--no-charts", "--output", out,
    )  # fmt: skip
    assert shown.exit_code == 0, shown.output
    stored = json.loads((out / "sensitivity.json").read_text())
    assert isinstance(stored["sample_warnings"], list)
    assert stored["sample_warnings"][0].startswith("Each design point ran one replication")
    assert "sample warning: Each design point ran one replication" in shown.stdout
