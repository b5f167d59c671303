"""Consistent commands (issue #14 item 7): frontier takes the sweep's --param form, run
--resume finishes an interrupted run exactly, facts --quiet prints its verdict only, and
run --help names every file a run writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from loyaltysim.cli import main
from loyaltysim.scenario import load_scenario
from loyaltysim.workflows.run import run_job

TINY = """
[scenario]
name = "Tiny shop"
horizon_days = 40
replications = 5
seed = 7

[customers]
initial = 60

[[variants]]
name = "10% off"
set = { "discount.kind" = "flat", "discount.rate" = 0.1 }
"""

TABLES = ("timeseries.csv", "defections.csv", "replications.csv", "warnings.csv", "customers.csv")


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


def invoke(*args: Any) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


# ----------------------------------------------------------------------------- frontier


def test_frontier_takes_the_sweep_form_and_the_old_form_still_works(
    tiny: Path, tmp_path: Path
) -> None:
    common = ("--set", "discount.kind=flat", "--reps", 2, "--workers", 1, "--json")
    new = invoke(
        "frontier", tiny, "--param", "discount.rate=0:0.2:0.1", *common,
        "--output", tmp_path / "new",
    )  # fmt: skip
    old = invoke(
        "frontier", tiny, "--param", "discount.rate", "--range", "0:0.2:0.1", *common,
        "--output", tmp_path / "old",
    )  # fmt: skip
    assert new.exit_code == old.exit_code == 0, new.output + old.output
    assert json.loads(new.stdout) == json.loads(old.stdout)
    assert [p["value"] for p in json.loads(new.stdout)["points"]] == [0.0, 0.1, 0.2]
    assert "deprecated" not in new.stderr
    assert "note: --param KEY --range LO:HI:STEP is deprecated" in old.stderr
    assert "--param discount.rate=0:0.2:0.1" in old.stderr


def test_frontier_refuses_values_given_twice_or_not_at_all(tiny: Path) -> None:
    twice = invoke("frontier", tiny, "--param", "discount.rate=0:0.2:0.1", "--range", "0:1:1")
    assert twice.exit_code == 2 and "give the values once" in twice.stderr
    none = invoke("frontier", tiny, "--param", "discount.rate")
    assert none.exit_code == 2 and "expected KEY=LO:HI:STEP" in none.stderr


# ----------------------------------------------------------------------------- facts


def test_facts_quiet_prints_only_its_one_line_verdict(tiny: Path) -> None:
    quiet = invoke("facts", tiny, "--reps", 2, "--days", 60, "--workers", 1, "--quiet")
    assert quiet.exit_code in (0, 1), quiet.output
    lines = quiet.stdout.splitlines()
    assert len(lines) == 1, quiet.stdout
    assert (
        lines[0].startswith("Tiny shop: ") and " of 11 facts hold over 2 replications" in lines[0]
    )
    assert quiet.stderr == ""


# ----------------------------------------------------------------------------- run --help


def test_run_help_names_every_file_a_run_writes(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert (
        invoke("run", tiny, "--reps", 1, "--workers", 1, "--quiet", "--output", out).exit_code == 0
    )
    help_text = invoke("run", "--help").stdout
    written = {p.relative_to(out) for p in out.rglob("*") if p.is_file()}
    assert written
    for path in written:
        name = path.stem if path.parent.name == "charts" else path.name
        assert name in help_text, f"run --help does not name {path}"
    assert "charts/" in help_text and "--resume" in help_text


# ----------------------------------------------------------------------------- run --resume


def interrupted_run(tiny: Path, out: Path, after: int) -> None:
    """A run into ``out`` stopped by Ctrl-C after ``after`` replications."""

    def stop(done: int, total: int) -> None:
        if done == after:
            raise KeyboardInterrupt

    job = run_job(
        load_scenario(tiny), scenario_path=tiny, output=out, workers=1, charts=False,
        progress=stop,
    )  # fmt: skip
    assert job.status == "interrupted"


def test_resume_finishes_an_interrupted_run_as_if_it_never_stopped(
    tiny: Path, tmp_path: Path
) -> None:
    whole = invoke("run", tiny, "--workers", 1, "--no-charts", "--json", "--output", tmp_path / "a")
    assert whole.exit_code == 0, whole.output
    cut = tmp_path / "b"
    interrupted_run(tiny, cut, after=2)
    manifest = json.loads((cut / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    assert manifest["replications_done"] == {"base": [0, 1], "10% off": [0, 1]}

    resumed = invoke("run", "--resume", cut, "--workers", 1, "--no-charts", "--json")
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout) == json.loads(whole.stdout)
    for name in (*TABLES, "summary.json"):
        assert (cut / name).read_bytes() == (tmp_path / "a" / name).read_bytes(), name
    manifest = json.loads((cut / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["replications_done"] == {"base": [0, 1, 2, 3, 4], "10% off": [0, 1, 2, 3, 4]}
    assert len(manifest["resumed_at"]) == 1


def test_resume_refuses_what_it_cannot_continue(tiny: Path, tmp_path: Path) -> None:
    done = tmp_path / "done"
    assert (
        invoke("run", tiny, "--reps", 1, "--workers", 1, "--quiet", "--output", done).exit_code == 0
    )
    complete = invoke("run", "--resume", done)
    assert complete.exit_code == 2 and "is complete: there is nothing to resume" in complete.stderr
    both = invoke("run", tiny, "--resume", done)
    assert both.exit_code == 2 and "drop SCENARIO" in both.stderr
    reps = invoke("run", "--resume", done, "--reps", 3)
    assert reps.exit_code == 2 and "drop --reps" in reps.stderr
    neither = invoke("run")
    assert neither.exit_code == 2 and "give a SCENARIO file, or --resume RUN_DIR" in neither.stderr

    cut = tmp_path / "cut"
    interrupted_run(tiny, cut, after=1)
    tiny.write_text(TINY.replace("initial = 60", "initial = 70"), encoding="utf-8")
    changed = invoke("run", "--resume", cut)
    assert changed.exit_code == 2 and "has changed since the run started" in changed.stderr
    assert json.loads((cut / "manifest.json").read_text())["status"] == "interrupted"
