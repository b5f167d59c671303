"""Every shipped scenario validates, runs briefly, starts `init`, and makes a report."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from loyaltysim.cli import main
from loyaltysim.scenario import load_scenario, template_names

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
# The scenario library of issue 6: one per kind of business, each with 2-4 variants.
LIBRARY = ("cafe", "bakery", "grocery", "apparel-boutique", "b2b-distributor", "gym")
SHORT = ["--days", "30", "--reps", "2", "--workers", "1", "--quiet"]


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_the_library_is_shipped() -> None:
    names = set(template_names())
    assert set(LIBRARY) <= names
    assert {p.stem for p in SCENARIOS} <= names


@pytest.mark.parametrize("path", SCENARIOS, ids=_ids(SCENARIOS))
def test_validates(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.scenario.name
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", LIBRARY)
def test_library_scenarios_are_commented_with_meaningful_variants(name: str) -> None:
    text = (ROOT / "scenarios" / f"{name}.toml").read_text("utf-8")
    data = tomllib.loads(text)
    assert 2 <= len(data.get("variants", [])) <= 4
    assert data["scenario"]["seed"] is not None  # reproducible as shipped
    # Commented line by line: most key lines of [business] explain their figure.
    business = text.split("[business]", 1)[1].split("\n[", 1)[0]
    keys = [line for line in business.splitlines() if "=" in line and not line.startswith("#")]
    assert sum("#" in line for line in keys) >= 0.8 * len(keys)
    if name != "cafe":  # the new ones say where each figure comes from, or that it is assumed
        assert "assumption" in text.lower() and "come from" in text


@pytest.mark.parametrize("name", sorted(template_names()))
def test_init_from_every_template(name: str, tmp_path: Path) -> None:
    target = tmp_path / f"{name}.toml"
    result = CliRunner().invoke(main, ["init", str(target), "--template", name])
    assert result.exit_code == 0, result.output
    shipped = (ROOT / "scenarios" / f"{name}.toml").read_text("utf-8")
    # The template, with its commands naming the user's file instead of the shipped one.
    assert target.read_text("utf-8") == shipped.replace(f"scenarios/{name}.toml", str(target))
    assert CliRunner().invoke(main, ["validate", str(target)]).exit_code == 0


@pytest.mark.parametrize("path", SCENARIOS, ids=_ids(SCENARIOS))
def test_runs_briefly(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["run", str(path), *SHORT, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "summary.json").is_file() and (out / "charts" / "cash.png").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=_ids(SCENARIOS))
def test_report_in_both_formats(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    runner = CliRunner()
    assert runner.invoke(main, ["run", str(path), *SHORT, "--output", str(out)]).exit_code == 0
    for fmt in ("html", "pdf"):
        result = runner.invoke(main, ["report", str(out), "--format", fmt])
        assert result.exit_code == 0, result.output
        report = out / f"report.{fmt}"
        assert report.stat().st_size > 50_000
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    assert load_scenario(path).scenario.name in (out / "report.html").read_text("utf-8")
