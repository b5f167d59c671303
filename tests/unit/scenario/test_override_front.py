"""What users expect of --set and a sweep's --param on the default scenario (issue #16)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from loyaltysim.cli import EXIT_INVALID_SCENARIO, main
from loyaltysim.experiment.sweep import ScenarioSource
from loyaltysim.scenario import ScenarioError, load_scenario

CAFE = Path(__file__).resolve().parents[3] / "scenarios" / "cafe.toml"


def test_a_key_of_another_kind_says_which_kind_and_how() -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(CAFE, {"discount.rate": 0.1})
    (problem,) = caught.value.problems
    assert problem.key_path == "discount.rate"
    assert "'flat'" in problem.hint
    assert "--set discount.kind=flat --set discount.rate=" in problem.hint
    assert "{'discount.kind': 'flat', 'discount.rate': ...}" in problem.hint


@pytest.mark.parametrize(
    "overrides",
    [
        {"discount.kind": "flat", "discount.rate": 0.1},
        {"discount.rate": 0.1, "discount.kind": "flat"},
        ["discount.rate=0.1", "discount.kind=flat"],
    ],
)
def test_kind_and_rate_in_one_go(overrides: object) -> None:
    scenario = load_scenario(CAFE, overrides)  # type: ignore[arg-type]
    assert scenario.discount.kind == "flat"
    assert scenario.discount.rate == pytest.approx(0.1)  # type: ignore[union-attr]


def test_one_share_scales_the_others() -> None:
    before = [s.share for s in load_scenario(CAFE).customers.segments]
    after = [
        s.share for s in load_scenario(CAFE, ["customers.segments.0.share=0.4"]).customers.segments
    ]
    assert after[0] == 0.4 and sum(after) == pytest.approx(1.0)
    assert after[1] / after[2] == pytest.approx(before[1] / before[2])


def test_every_share_given_is_kept_as_given() -> None:
    n = len(load_scenario(CAFE).customers.segments)
    sets = [f"customers.segments.{i}.share=0.5" for i in range(n)]
    with pytest.raises(ScenarioError, match="shares sum to"):
        load_scenario(CAFE, sets)


def test_a_sweep_point_blames_the_param_not_a_set() -> None:
    source = ScenarioSource.from_file(CAFE, ["scenario.horizon_days=30", "scenario.seed=1"])
    with pytest.raises(ScenarioError) as caught:
        source.load(["discount.rate=0.1"])
    (problem,) = caught.value.problems
    assert (problem.file, problem.line) == ("<--param>", 1)
    assert "discount.rate=0.1" in problem.hint


def test_the_sweep_command_names_the_param(tmp_path: Path) -> None:
    args = ["sweep", str(CAFE), "--param", "discount.rate=0:0.2:0.1", "--days", "10"]
    result = CliRunner().invoke(main, [*args, "--reps", "1", "--output", str(tmp_path / "s")])
    assert result.exit_code == EXIT_INVALID_SCENARIO
    assert "<--param>:1: discount.rate" in result.output
    assert "<--set>" not in result.output


def test_init_names_the_users_file(tmp_path: Path) -> None:
    target = tmp_path / "mine.toml"
    result = CliRunner().invoke(main, ["init", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text("utf-8")
    assert f"loyaltysim validate {target}" in text
    assert "scenarios/cafe.toml" not in text


def test_a_customers_key_that_is_not_a_table_is_a_validation_problem(tmp_path: Path) -> None:
    # Found by the CLI fuzzer: the share rescaling read `customers` as a table.
    bad = tmp_path / "bad.toml"
    bad.write_text('customers = 0\n[scenario]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(bad)
    assert any("customers" in str(p) for p in caught.value.problems)
