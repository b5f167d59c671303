"""The scenario commands (init, validate, schema) and the CLI's shared plumbing."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from loyaltysim import cli
from loyaltysim.cli import (
    EXIT_GUARD_BREACHED,
    EXIT_INTERRUPTED,
    EXIT_INVALID_SCENARIO,
    EXIT_OK,
    EXIT_RUNTIME_FAILURE,
    EXIT_USAGE,
    ExitCodeGroup,
    RunOptions,
    load_or_exit,
    main,
    run_options,
)
from loyaltysim.scenario import Problem, ScenarioError, load_scenario, template_names

GOOD = '[scenario]\nname = "x"\n\n[business]\nprice = 4.5\n'
BAD = '[scenario]\nname = "x"\n\n[business]\nprice = "4.5"\nprise = 3\n'


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_exit_codes_are_the_contracts() -> None:
    codes = (
        EXIT_OK,
        EXIT_GUARD_BREACHED,
        EXIT_USAGE,
        EXIT_INVALID_SCENARIO,
        EXIT_RUNTIME_FAILURE,
        EXIT_INTERRUPTED,
    )
    assert codes == (0, 1, 2, 3, 4, 130)


def test_help_lists_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "validate", "schema"):
        assert f"  {command} " in result.output


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("loyaltysim, version ")


# ----------------------------------------------------------------------------- init


def test_init_writes_a_template_that_validate_accepts(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "new" / "mine.toml"
    result = runner.invoke(main, ["init", str(target)])
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    assert "#" in text, "a template is commented"
    assert [p.name for p in target.parent.iterdir()] == ["mine.toml"], "no temp file left"
    result = runner.invoke(main, ["validate", str(target)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"{target}: ok (")


@pytest.mark.parametrize("name", template_names())
def test_every_template_is_valid(runner: CliRunner, tmp_path: Path, name: str) -> None:
    target = tmp_path / f"{name}.toml"
    assert runner.invoke(main, ["init", str(target), "--template", name]).exit_code == 0
    load_scenario(target)


def test_init_refuses_to_overwrite_without_force(runner: CliRunner, tmp_path: Path) -> None:
    target = write(tmp_path / "mine.toml", "keep me\n")
    result = runner.invoke(main, ["init", str(target)])
    assert result.exit_code == EXIT_USAGE
    assert "--force" in result.stderr
    assert target.read_text() == "keep me\n"
    result = runner.invoke(main, ["init", str(target), "--force"])
    assert result.exit_code == 0
    assert target.read_text() != "keep me\n"


def test_init_with_an_unknown_template_lists_the_names(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["init", str(tmp_path / "x.toml"), "--template", "nope"])
    assert result.exit_code == EXIT_USAGE
    assert "unknown template 'nope'" in result.stderr
    assert "cafe" in result.stderr
    assert not (tmp_path / "x.toml").exists()


def test_init_template_names_cannot_escape_the_directory(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["init", str(tmp_path / "x.toml"), "-t", "../pyproject"])
    assert result.exit_code == EXIT_USAGE


# ----------------------------------------------------------------------------- validate


def test_validate_good_and_bad_files(runner: CliRunner, tmp_path: Path) -> None:
    good = write(tmp_path / "good.toml", GOOD)
    bad = write(tmp_path / "bad.toml", BAD)
    result = runner.invoke(main, ["validate", str(good), str(bad)])
    assert result.exit_code == EXIT_INVALID_SCENARIO
    assert result.stdout == f"{good}: ok (0 variants)\n"
    assert result.stderr.splitlines() == [
        f'{bad}:5: business.price: expected a number, got the string "4.5" (remove the quotes)',
        f"{bad}:6: business.prise: unknown key 'prise' (did you mean 'price'?)",
    ]


def test_validate_counts_variants(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path / "v.toml", GOOD + "\n[[variants]]\nname = 'a'\n")
    result = runner.invoke(main, ["validate", str(path)])
    assert (result.exit_code, result.stdout) == (0, f"{path}: ok (1 variant)\n")


def test_validate_missing_file_is_an_invalid_scenario(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["validate", str(tmp_path / "nope.toml")])
    assert result.exit_code == EXIT_INVALID_SCENARIO
    assert "no such file" in result.stderr


@pytest.mark.parametrize(
    "text",
    ["", "[scenario\n", "x = " + "[" * 20 + "]" * 20, "[scenario]\nname = 'x'\nseed = nan\n"],
)
def test_validate_rejects_broken_files_with_exit_3(
    runner: CliRunner, tmp_path: Path, text: str
) -> None:
    path = write(tmp_path / "s.toml", text)
    result = runner.invoke(main, ["validate", str(path)])
    assert result.exit_code == EXIT_INVALID_SCENARIO
    assert result.stderr.startswith(f"{path}:")


def test_validate_applies_set(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path / "s.toml", GOOD)
    ok = runner.invoke(main, ["validate", str(path), "--set", "discount.kind=flat"])
    assert ok.exit_code == 0, ok.stderr
    result = runner.invoke(
        main, ["validate", str(path), "--set", "discount.kind=flat", "--set", "discount.rat=0.1"]
    )
    assert result.exit_code == EXIT_INVALID_SCENARIO
    assert result.stderr == (
        "<--set>:2: discount.rat: unknown key 'rat' for discount kind 'flat' "
        "(did you mean 'rate'?)\n"
    )


def test_validate_rejects_a_malformed_set_as_usage(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path / "s.toml", GOOD)
    result = runner.invoke(main, ["validate", str(path), "--set", "discount.rate"])
    assert result.exit_code == EXIT_USAGE
    assert "KEY=VALUE" in result.stderr


def test_validate_needs_a_file(runner: CliRunner) -> None:
    assert runner.invoke(main, ["validate"]).exit_code == EXIT_USAGE


# ----------------------------------------------------------------------------- schema


def test_schema_prints_json_schema(runner: CliRunner) -> None:
    result = runner.invoke(main, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert "discount" in schema["properties"]


# ----------------------------------------------------------------------------- plumbing


def probe_group() -> click.Group:
    """A group like ``main`` with a command using the shared options, for the tests."""

    @click.group(cls=ExitCodeGroup)
    def group() -> None:
        pass

    @group.command()
    @click.argument("scenario")
    @run_options
    @click.option("--extra", default="e")
    def probe(scenario: str, opts: RunOptions, extra: str) -> None:
        loaded = opts.load(scenario)
        click.echo(json.dumps({"extra": extra, "opts": repr(opts)}))
        meta = loaded.scenario
        click.echo(f"{meta.replications} {meta.horizon_days} {meta.seed} {loaded.business.price}")

    @group.command()
    @click.argument("what")
    def fail(what: str) -> None:
        if what == "interrupt":
            raise KeyboardInterrupt
        if what == "scenario":
            raise ScenarioError([Problem("f.toml", 2, "a.b", "bad")])
        if what == "usage":
            raise click.UsageError("no")
        raise RuntimeError("boom")

    return group


def test_run_options_reach_the_command_as_one_object(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path / "s.toml", GOOD)
    args = [
        "probe", str(path), "--reps", "3", "--days", "40", "--seed", "7",
        "--set", "business.price=5", "--workers", "2", "--scheduler", "tcp://h:8786",
        "--output", str(tmp_path / "out"), "--json", "--quiet", "--extra", "z",
    ]  # fmt: skip
    result = runner.invoke(probe_group(), args)
    assert result.exit_code == 0, result.output
    first, second = result.stdout.splitlines()
    assert json.loads(first)["extra"] == "z"
    assert "workers=2" in first and "scheduler='tcp://h:8786'" in first
    assert "as_json=True" in first and "quiet=True" in first
    assert second == "3 40 7 5.0"


def test_run_options_defaults(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path / "s.toml", GOOD)
    result = runner.invoke(probe_group(), ["probe", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == "30 730 None 4.5"


def test_run_flags_win_over_set(tmp_path: Path) -> None:
    path = write(tmp_path / "s.toml", GOOD)
    loaded = load_or_exit(path, ["scenario.replications=9"], reps=4)
    assert loaded.scenario.replications == 4


def test_load_or_exit_prints_problems_and_exits_3(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.toml", BAD)
    result = runner.invoke(probe_group(), ["probe", str(path)])
    assert result.exit_code == EXIT_INVALID_SCENARIO
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 2
    assert result.stderr.startswith(f"{path}:5: business.price:")


def test_bad_run_option_values_are_usage_errors(runner: CliRunner, tmp_path: Path) -> None:
    path = write(tmp_path / "s.toml", GOOD)
    for bad in (["--reps", "0"], ["--days", "x"], ["--seed", "-1"], ["--set", "nope"]):
        assert runner.invoke(probe_group(), ["probe", str(path), *bad]).exit_code == EXIT_USAGE


@pytest.mark.parametrize(
    ("what", "code", "stderr"),
    [
        ("interrupt", EXIT_INTERRUPTED, "interrupted"),
        ("scenario", EXIT_INVALID_SCENARIO, "f.toml:2: a.b: bad"),
        ("usage", EXIT_USAGE, "no"),
        ("boom", EXIT_RUNTIME_FAILURE, "error: RuntimeError: boom"),
    ],
)
def test_group_maps_failures_to_exit_codes(
    runner: CliRunner, what: str, code: int, stderr: str
) -> None:
    result = runner.invoke(probe_group(), ["fail", what])
    assert result.exit_code == code
    assert stderr in result.stderr


def test_debug_env_shows_the_exception(runner: CliRunner) -> None:
    result = runner.invoke(probe_group(), ["fail", "boom"], env={cli.DEBUG_ENV: "1"})
    assert isinstance(result.exception, RuntimeError)
