"""``loyaltysim init``: the questions a shop owner answers, and the template without them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from loyaltysim.cli import EXIT_INVALID_SCENARIO, EXIT_OK, main
from loyaltysim.commands import init as init_command
from loyaltysim.scenario import load_scenario
from loyaltysim.scenario.templates import template_text
from loyaltysim.scenario.wizard import QUESTIONS

ANSWERS = ["Bike repair", "60", "22", "9500", "40000", "300", "2", "€"]


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(init_command, "has_terminal", lambda: True)


def test_the_questions_write_a_valid_commented_scenario(tmp_path: Path, terminal: None) -> None:
    target = tmp_path / "bikes.toml"
    result = CliRunner().invoke(main, ["init", str(target)], input="\n".join(ANSWERS) + "\n")
    assert result.exit_code == EXIT_OK, result.output
    for _, question in QUESTIONS:
        assert question in result.output
    assert "[My shop]" in result.output and "[4.5]" in result.output  # defaults shown
    assert "from your answers" in result.output
    text = target.read_text("utf-8")
    assert "# your answer" in text and f"loyaltysim validate {target}" in text
    scenario = load_scenario(target)
    b = scenario.business
    assert (scenario.scenario.name, b.price, b.unit_cost) == ("Bike repair", 60, 22)
    assert (b.fixed_costs_per_month, b.starting_cash) == (9500, 40000)
    assert scenario.customers.initial == 300
    assert scenario.customers.segments[0].visits_per_month == 2
    assert scenario.competitor.price == pytest.approx(60 * 4.20 / 4.50)
    assert scenario.scenario.currency == "€"
    run = CliRunner().invoke(
        main,
        ["run", str(target), "--days", "30", "--reps", "2", "--no-charts", "--quiet",
         "--workers", "1", "--output", str(tmp_path / "out")],
    )  # fmt: skip
    assert run.exit_code == EXIT_OK, run.output
    assert (tmp_path / "out" / "summary.json").is_file()


def test_enter_keeps_the_defaults(tmp_path: Path, terminal: None) -> None:
    target = tmp_path / "mine.toml"
    result = CliRunner().invoke(main, ["init", str(target)], input="\n" * len(QUESTIONS))
    assert result.exit_code == EXIT_OK, result.output
    assert load_scenario(target).business.price == 4.5


def test_a_bad_number_is_asked_again(tmp_path: Path, terminal: None) -> None:
    answers = ["Shop", "-3", "abc", "10", *ANSWERS[2:]]
    result = CliRunner().invoke(main, ["init", str(tmp_path / "s.toml")], input="\n".join(answers))
    assert result.exit_code == EXIT_OK, result.output
    assert load_scenario(tmp_path / "s.toml").business.price == 10


def test_answers_that_make_no_valid_scenario_write_nothing(tmp_path: Path, terminal: None) -> None:
    answers = ["Shop", "0", *ANSWERS[2:]]  # a price of 0 is refused by the schema
    target = tmp_path / "s.toml"
    result = CliRunner().invoke(main, ["init", str(target)], input="\n".join(answers) + "\n")
    assert result.exit_code == EXIT_INVALID_SCENARIO
    assert "business.price" in result.output
    assert not target.exists()


def test_a_currency_that_is_no_currency_is_refused(tmp_path: Path, terminal: None) -> None:
    answers = [*ANSWERS[:-1], "12 euros"]  # digits and a space: not a code, not a sign
    target = tmp_path / "s.toml"
    result = CliRunner().invoke(main, ["init", str(target)], input="\n".join(answers) + "\n")
    assert result.exit_code == EXIT_INVALID_SCENARIO, result.output
    assert "scenario.currency" in result.output
    assert not target.exists()


def test_enter_writes_no_currency(tmp_path: Path, terminal: None) -> None:
    target = tmp_path / "s.toml"
    CliRunner().invoke(main, ["init", str(target)], input="\n" * len(QUESTIONS))
    assert "currency =" not in target.read_text("utf-8")
    assert load_scenario(target).scenario.currency is None


@pytest.mark.parametrize("flags", [["--template", "cafe"], ["--no-input"]])
def test_template_or_no_input_asks_nothing(
    tmp_path: Path, terminal: None, flags: list[str]
) -> None:
    target = tmp_path / "t.toml"
    result = CliRunner().invoke(main, ["init", str(target), *flags], input="")
    assert result.exit_code == EXIT_OK, result.output
    assert QUESTIONS[1][1] not in result.output and "template cafe" in result.output
    expected = template_text("cafe").replace("scenarios/cafe.toml", str(target))
    assert target.read_text("utf-8") == expected


def test_without_a_terminal_it_writes_the_template(tmp_path: Path) -> None:
    target = tmp_path / "t.toml"
    result = CliRunner().invoke(main, ["init", str(target)])  # CliRunner's stdin is no tty
    assert result.exit_code == EXIT_OK, result.output
    assert "template cafe" in result.output
    load_scenario(target)
