"""The whole API at the top level (issue #14 item 4): every job of the command line as a
function returning an object with ``to_frame()``, a progress callback, no folder unless
``output=`` is given, and the same numbers as the command line for the same seed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import loyaltysim
from loyaltysim.cli import main

TINY = """
[scenario]
name = "Tiny shop"
horizon_days = 40
replications = 3
seed = 11

[customers]
initial = 60

[[variants]]
name = "10% off"
set = { "discount.kind" = "flat", "discount.rate" = 0.1 }
"""


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # a stray default folder would land here: none may
    return path


class Recorder:
    """A progress callback that keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))

    def check(self) -> None:
        assert self.calls, "progress was never called"
        done = [d for d, _ in self.calls]
        assert done == sorted(done) and len(set(done[1:])) == len(done[1:]), self.calls
        last_done, last_total = self.calls[-1]
        assert last_done == last_total > 0, self.calls


def cli_json(*args: Any) -> dict[str, Any]:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def nothing_written(folder: Path) -> None:
    assert not (folder / "results").exists(), list((folder / "results").rglob("*"))


def test_import_loyaltysim_loads_none_of_the_machinery() -> None:
    code = (
        "import sys, loyaltysim; "
        "heavy = [m for m in ('numpy', 'pandas', 'pydantic', 'simpy', 'loyaltysim.api', "
        "'loyaltysim.scenario') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_api_names_are_at_the_top_level() -> None:
    for name in (
        "load_scenario", "run", "compare", "sweep", "sensitivity", "check", "frontier",
        "facts", "calibrate", "Results", "Scenario", "ScenarioError",
    ):  # fmt: skip
        assert name in loyaltysim.__all__
        assert callable(getattr(loyaltysim, name))
        assert name in dir(loyaltysim)
    with pytest.raises(AttributeError):
        loyaltysim.no_such_thing  # noqa: B018


def test_run_returns_results_frames_and_counts_progress(tiny: Path) -> None:
    progress = Recorder()
    results = loyaltysim.run(tiny, replications=2, workers=1, progress=progress)
    assert isinstance(results, loyaltysim.Results)
    assert progress.calls == [(1, 2), (2, 2)]
    frame = results.to_frame("replications")
    assert isinstance(frame, pd.DataFrame)
    assert {"variant", "replication", "profit"} <= set(frame.columns)
    assert len(frame) == 4  # two variants x two replications
    customers = results.to_frame("customers")
    assert {"frequency", "recency", "T", "monetary_value"} <= set(customers.columns)
    nothing_written(tiny.parent)


def test_run_gives_the_numbers_of_the_command_line(tiny: Path) -> None:
    summary = loyaltysim.run(tiny, days=30, workers=1).summary()
    cli = cli_json(
        "run", tiny, "--days", 30, "--workers", 1, "--json", "--output", "cli", "--no-charts"
    )
    assert json.loads(json.dumps(summary)) == cli


def test_a_loaded_scenario_and_its_path_give_the_same_numbers(tiny: Path) -> None:
    loaded = loyaltysim.load_scenario(tiny, {"business.price": 4.5})
    a = loyaltysim.run(loaded, replications=2, workers=1).summary()
    b = loyaltysim.run(tiny, replications=2, workers=1, overrides=["business.price=4.5"])
    assert a == b.summary()


def test_run_writes_the_folder_only_when_asked(tiny: Path) -> None:
    loyaltysim.run(tiny, replications=1, workers=1, output="out", charts=False)
    manifest = json.loads((tiny.parent / "out" / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["scenario_file"] == str(tiny)
    assert manifest["replications_done"] == {"base": [0], "10% off": [0]}
    nothing_written(tiny.parent)


def test_compare_returns_paired_differences_like_the_command_line(tiny: Path) -> None:
    progress = Recorder()
    c = loyaltysim.compare(tiny, workers=1, progress=progress)
    progress.check()
    assert isinstance(c, loyaltysim.api.Comparison)
    frame = c.to_frame()
    assert list(frame.columns[:3]) == ["entry", "reference", "metric"]
    assert set(frame["metric"]) >= {"profit", "ruin"}
    assert c.results.to_frame("replications")["variant"].nunique() == 2
    cli = cli_json("compare", tiny, "--workers", 1, "--json", "--output", "cli", "--no-charts")
    cli.pop("status"), cli.pop("run_dir")
    assert json.loads(json.dumps(c.comparison)) == cli
    assert c.sample_warnings == cli["sample_warnings"]
    nothing_written(tiny.parent)


def test_sweep_returns_rows_like_the_command_line(tiny: Path) -> None:
    progress = Recorder()
    s = loyaltysim.sweep(
        tiny, {"business.price": (4.0, 5.0, 0.5)}, replications=2, workers=1, progress=progress
    )
    progress.check()
    frame = s.to_frame()
    assert list(frame["business.price"]) == [4.0, 4.5, 5.0]
    assert {"point", "replications", "ruined", "profit_mean", "profit_ci_lo"} <= set(frame.columns)
    assert s.run_dir is None
    cli = cli_json(
        "sweep", tiny, "--param", "business.price=4:5:0.5", "--reps", 2, "--workers", 1,
        "--json", "--output", "cli", "--no-charts",
    )  # fmt: skip
    assert s.rows == cli["rows"]
    nothing_written(tiny.parent)


def test_sensitivity_returns_indices(tiny: Path) -> None:
    pytest.importorskip("SALib")
    progress = Recorder()
    s = loyaltysim.sensitivity(
        tiny,
        {"business.price": (4.0, 5.0), "competitor.price": (3.8, 4.6)},
        method="morris",
        n=2,
        replications=1,
        days=20,
        workers=1,
        progress=progress,
    )
    progress.check()
    frame = s.to_frame()
    assert {"output", "rank", "param", "mu_star", "drives"} <= set(frame.columns)
    assert set(frame["param"]) == {"business.price", "competitor.price"}
    assert len(s.to_frame("samples")) == 2 * 3  # trajectories x (params + 1)
    assert s.analysis["sample_warnings"] == s.sample_warnings
    nothing_written(tiny.parent)


def test_check_returns_verdicts(tiny: Path) -> None:
    progress = Recorder()
    verdict = loyaltysim.check(
        tiny, replications=2, overrides={"guard.max_replications": 4}, workers=1,
        progress=progress,
    )  # fmt: skip
    progress.check()
    frame = verdict.to_frame()
    assert list(frame["variant"]) == ["base", "10% off"]
    assert {"status", "breached", "replications", "ruined"} <= set(frame.columns)
    assert verdict.as_dict()["sample_warnings"] == verdict.sample_warnings
    nothing_written(tiny.parent)


def test_frontier_takes_the_sweep_form_and_matches_the_command_line(tiny: Path) -> None:
    progress = Recorder()
    f = loyaltysim.frontier(
        tiny, "discount.rate=0:0.2:0.1", overrides={"discount.kind": "flat"},
        replications=2, workers=1, progress=progress,
    )  # fmt: skip
    progress.check()
    frame = f.to_frame()
    assert frame["value"].tolist() == [0.0, 0.1, 0.2]
    assert {"profit_mean", "ruin_probability", "verdict"} <= set(frame.columns)
    cli = cli_json(
        "frontier", tiny, "--param", "discount.rate=0:0.2:0.1", "--set", "discount.kind=flat",
        "--reps", 2, "--workers", 1, "--json", "--output", "cli",
    )  # fmt: skip
    assert json.loads(json.dumps(f.as_dict())) == cli
    nothing_written(tiny.parent)


def test_facts_returns_the_facts(tiny: Path) -> None:
    progress = Recorder()
    f = loyaltysim.facts(tiny, replications=2, days=60, workers=1, progress=progress)
    assert progress.calls == [(1, 2), (2, 2)]
    frame = f.to_frame()
    assert frame["number"].tolist() == list(range(1, 12))
    assert {"name", "value", "ci95_lo", "ci95_hi", "passed"} <= set(frame.columns)
    assert f.verdict().startswith("Tiny shop: ")
    assert f.as_dict()["sample_warnings"] == f.sample_warnings


@pytest.mark.slow  # a calibration costs about 45 s of CPU whatever the log's size
def test_calibrate_returns_the_fit_and_its_customers(tmp_path: Path) -> None:
    from loyaltysim.calibration.synthetic import pareto_nbd_log

    log = tmp_path / "log.csv"
    pareto_nbd_log(60, 300, np.random.default_rng(5)).to_csv(log, index=False)
    progress = Recorder()
    fit = loyaltysim.calibrate(
        log, calibration_end="2024-08-31", replications=2, progress=progress,
        scenario_file=tmp_path / "fitted.toml",
    )  # fmt: skip
    progress.check()
    assert fit.payload["model"] == "bg_nbd"
    frame = fit.to_frame()
    assert list(frame.columns[:5]) == ["customer", "frequency", "recency", "T", "monetary_value"]
    assert len(frame) == fit.payload["customers"]
    assert isinstance(fit.scenario, loyaltysim.Scenario)
    assert (
        loyaltysim.load_scenario(tmp_path / "fitted.toml").scenario.name
        == fit.scenario.scenario.name
    )
    assert fit.folder is None  # no folder without output=


def test_progress_true_draws_a_tqdm_bar(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    loyaltysim.run(tiny, replications=2, workers=1, progress=True)
    err = capsys.readouterr().err
    assert "simulating" in err and "2/2" in err  # tqdm's own counter


def test_progress_true_without_tqdm_prints_text(
    tiny: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # as if not installed
    loyaltysim.run(tiny, replications=2, workers=1, progress=True)
    assert capsys.readouterr().err.splitlines() == ["simulating: 1 of 2", "simulating: 2 of 2"]


def test_a_scenario_built_in_code_cannot_be_swept_without_its_file(tiny: Path) -> None:
    loaded = loyaltysim.load_scenario(tiny)
    built = loaded.model_copy()
    with pytest.raises(TypeError, match="pass the file's path"):
        loyaltysim.sweep(built, {"business.price": (4.0, 5.0, 0.5)})
    # but it runs, with new run settings
    assert loyaltysim.run(built, replications=1, workers=1).replications == 1
