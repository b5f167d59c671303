"""`loyaltysim discover`: PRIM on a tiny real sweep through click, its files, and every
error a user can meet. One tiny Latin-hypercube sweep (24 points x 2 replications x 60
days, 300 customers) is run once and copied per test; tmp_path only."""

from __future__ import annotations

import csv
import json
import shutil
from importlib import util as importlib_util
from pathlib import Path

import pytest
from click.testing import CliRunner

from loyaltysim.cli import (
    EXIT_INVALID_SCENARIO,
    EXIT_OK,
    EXIT_RUNTIME_FAILURE,
    EXIT_USAGE,
    main,
)

HAVE_EMA = importlib_util.find_spec("ema_workbench") is not None

# Fixed costs of 9,000 a month against a small café's takings: whether the cash lasts 60
# days depends mostly on the starting cash.
TINY = """
[scenario]
name = "Tiny café"
horizon_days = 60
replications = 2
seed = 7

[business]
starting_cash = 5000
fixed_costs_per_month = 9000

[customers]
initial = 300

[discount]
kind = "flat"
rate = 0.1
"""

PARAMS = ["--param", "business.starting_cash=0:20000", "--param", "discount.rate=0:0.4"]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("discover")
    scenario = root / "tiny.toml"
    scenario.write_text(TINY, encoding="utf-8")
    out = root / "sweep"
    code, _, err = invoke(
        "sweep", str(scenario), *PARAMS, "--sample", "lhs", "--n", "24", "--workers", "1",
        "--no-charts", "--quiet", "--output", str(out),
    )  # fmt: skip
    assert code == EXIT_OK, err
    return out


@pytest.fixture
def sweep(sweep_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "sweep"
    shutil.copytree(sweep_dir, copy)
    return copy


def files_under(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


def test_discover_ruin_writes_boxes_table_json_and_chart_inside_the_folder(
    sweep: Path, tmp_path: Path
) -> None:
    before = files_under(tmp_path)
    code, out, err = invoke("discover", str(sweep))
    assert code == EXIT_OK, err
    # in words: restricted parameters only, with density and coverage
    assert "box 1: business.starting_cash below " in out
    assert "ruin in " in out and "of runs, covering " in out and "of all ruins" in out
    assert "stopped: " in out and f"results: {sweep / 'discovery'}" in out
    written = files_under(tmp_path) - before
    names = {
        "boxes.csv", "limits.csv", "trajectory.csv", "discovery.json", "trajectory.png",
        "trajectory.svg",
    }  # fmt: skip
    assert written == {Path("sweep/discovery")} | {Path("sweep/discovery") / n for n in names}
    data = json.loads((sweep / "discovery" / "discovery.json").read_text("utf-8"))
    box = data["boxes"][0]
    assert data["cases"]["unit"] == "run" and data["cases"]["n"] == 48
    assert box["restricted"][0] == "business.starting_cash"
    assert box["limits"]["business.starting_cash"]["restricted_upper"] is True
    # coverage and density as defined, from the sweep's own counts
    with open(sweep / "sweep.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    upper = box["limits"]["business.starting_cash"]["upper"]
    lims = box["limits"]
    inside = [
        r for r in rows
        if all(lims[k]["lower"] <= float(r[k]) <= lims[k]["upper"] for k in lims)
    ]  # fmt: skip
    ruins = sum(int(r["ruined"]) for r in rows)
    k = sum(int(r["ruined"]) for r in inside)
    n = sum(int(r["replications"]) for r in inside)
    assert upper < 20000
    assert box["k"] == k and box["n"] == n
    assert box["coverage"] == pytest.approx(k / ruins)
    assert box["density"] == pytest.approx(k / n)
    with open(sweep / "discovery" / "boxes.csv", newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert table[0]["description"] == box["description"]
    assert float(table[0]["coverage"]) == pytest.approx(box["coverage"])
    with open(sweep / "discovery" / "trajectory.csv", newline="", encoding="utf-8") as f:
        steps = list(csv.DictReader(f))
    assert [s["chosen"] for s in steps].count("1") == len(data["boxes"])
    assert (sweep / "discovery" / "trajectory.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_json_output_and_a_threshold_on_a_column(sweep: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "elsewhere"
    code, out, err = invoke(
        "discover", str(sweep), "--outcome", "cash_min_mean", "--threshold", "0", "--below",
        "--min-density", "0.95", "--no-charts", "--json", "--output", str(out_dir),
    )  # fmt: skip
    assert code == EXIT_OK, err
    data = json.loads(out)
    assert data["output_dir"] == str(out_dir)
    assert data["cases"]["event"] == "cash_min_mean below 0"
    assert data["cases"]["unit"] == "point" and data["cases"]["n"] == 24
    assert data["options"]["min_density"] == 0.95
    assert data["boxes"] and all(b["density"] >= 0.95 for b in data["boxes"])
    assert "such points" in data["boxes"][0]["description"]
    assert not (sweep / "discovery").exists()  # --output: nothing written into the sweep
    assert {p.name for p in out_dir.iterdir()} == {
        "boxes.csv", "limits.csv", "trajectory.csv", "discovery.json",
    }  # fmt: skip


def test_ruin_probability_defaults_to_the_guard_threshold(sweep: Path) -> None:
    code, out, err = invoke("discover", str(sweep), "--outcome", "ruin_probability",
                            "--json", "--no-charts")  # fmt: skip
    assert code == EXIT_OK, err
    cases = json.loads(out)["cases"]
    assert cases["threshold"] == 0.05
    assert cases["threshold_source"] == "guard.max_ruin_probability"


def test_not_a_sweep_folder_is_invalid_input(tmp_path: Path) -> None:
    code, _, err = invoke("discover", str(tmp_path))
    assert code == EXIT_INVALID_SCENARIO
    assert "is not a sweep folder" in err and "sweep.json" in err


def test_a_missing_outcome_column_lists_the_columns(sweep: Path) -> None:
    code, _, err = invoke("discover", str(sweep), "--outcome", "bankrupt")
    assert code == EXIT_USAGE
    assert "no column 'bankrupt'" in err
    assert "profit_mean" in err and "ruined" in err
    code, _, err = invoke("discover", str(sweep), "--outcome", "discount.rate", "--threshold", "1")
    assert code == EXIT_USAGE and "is a parameter" in err
    code, _, err = invoke("discover", str(sweep), "--outcome", "profit_mean")
    assert code == EXIT_USAGE and "needs --threshold" in err
    code, _, err = invoke("discover", str(sweep), "--below")
    assert code == EXIT_USAGE and "--below needs --threshold" in err


@pytest.mark.parametrize(
    ("threshold", "words"),
    [("1e12", "happens in none of the 24 sweep points"),
     ("-1e12", "happens in all 24 sweep points")],
)  # fmt: skip
def test_an_outcome_that_never_or_always_happens_exits_cleanly(
    sweep: Path, threshold: str, words: str
) -> None:
    code, out, err = invoke("discover", str(sweep), "--outcome", "profit_mean", "--threshold",
                            threshold)  # fmt: skip
    assert code == EXIT_OK, err
    assert words in out and "no box can be found" in out
    data = json.loads((sweep / "discovery" / "discovery.json").read_text("utf-8"))
    assert data["boxes"] == [] and words in data["stop_reason"]
    assert not (sweep / "discovery" / "boxes.csv").exists()


def test_an_unfinished_sweep_is_said_out_loud(sweep: Path) -> None:
    manifest = json.loads((sweep / "manifest.json").read_text("utf-8"))
    manifest["status"] = "interrupted"
    (sweep / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    code, out, err = invoke("discover", str(sweep), "--no-charts")
    assert code == EXIT_OK, err
    assert "note: the sweep is interrupted: 24 of 24 points finished" in out
    data = json.loads((sweep / "discovery" / "discovery.json").read_text("utf-8"))
    assert data["notes"] and "--resume" in data["notes"][0]


def test_too_few_points_says_how_many_are_needed(sweep: Path) -> None:
    lines = (sweep / "sweep.csv").read_text("utf-8").splitlines(keepends=True)
    (sweep / "sweep.csv").write_text("".join(lines[:9]), encoding="utf-8")  # 8 points
    code, _, err = invoke("discover", str(sweep))
    assert code == EXIT_INVALID_SCENARIO
    assert "has 8 sweep point(s)" in err and "at least 10" in err


def test_fresh_sweep_options_need_a_scenario(sweep: Path, tmp_path: Path) -> None:
    code, _, err = invoke("discover", str(sweep), "--n", "20")
    assert code == EXIT_USAGE and "give a SCENARIO file" in err
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY, encoding="utf-8")
    code, _, err = invoke("discover", str(scenario))
    assert code == EXIT_USAGE and "--param" in err and "--n" in err
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace("replications = 2", "replications = -2"), encoding="utf-8")
    code, _, err = invoke("discover", str(bad), *PARAMS, "--n", "20")
    assert code == EXIT_INVALID_SCENARIO and "replications" in err


def test_discover_on_a_fresh_latin_hypercube(tmp_path: Path) -> None:
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY, encoding="utf-8")
    out = tmp_path / "fresh"
    code, stdout, err = invoke(
        "discover", str(scenario), *PARAMS, "--n", "12", "--workers", "1", "--no-charts",
        "--output", str(out), "--json",
    )  # fmt: skip
    assert code == EXIT_OK, err
    data = json.loads(stdout)
    assert data["output_dir"] == str(out / "discovery")
    assert (out / "sweep.csv").is_file() and (out / "manifest.json").is_file()
    assert data["source"]["points"] == 12 and data["cases"]["n"] == 24
    assert json.loads((out / "sweep.json").read_text("utf-8"))["sample"] == "lhs"


@pytest.mark.skipif(HAVE_EMA, reason="checks the message shown without EMA Workbench")
def test_the_ema_engine_without_the_extra_names_it(sweep: Path) -> None:
    code, _, err = invoke("discover", str(sweep), "--engine", "ema")
    assert code == EXIT_RUNTIME_FAILURE
    assert "loyaltysim[ema]" in err


@pytest.mark.skipif(not HAVE_EMA, reason="EMA Workbench (the [ema] extra) absent")
def test_the_ema_engine_finds_the_same_boxes(sweep: Path) -> None:
    code, ours, err = invoke("discover", str(sweep), "--json", "--no-charts")
    assert code == EXIT_OK, err
    code, theirs, err = invoke("discover", str(sweep), "--json", "--no-charts", "--engine", "ema")
    assert code == EXIT_OK, err
    a, b = json.loads(ours), json.loads(theirs)
    assert b["engine"] == "ema" and b["versions"]["ema_workbench"]
    assert [x["limits"] for x in a["boxes"]] == [x["limits"] for x in b["boxes"]]
    assert [x["coverage"] for x in a["boxes"]] == [x["coverage"] for x in b["boxes"]]
