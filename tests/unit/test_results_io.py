"""The results folder: paths, atomic writes, manifest, CSV tables, interrupted runs."""

from __future__ import annotations

import csv
import errno
import hashlib
import json
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from loyaltysim.analysis.summary import summarize
from loyaltysim.model.result import CAUSES, RunResult
from loyaltysim.output import folder as rio
from loyaltysim.output import tables
from loyaltysim.output.folder import (
    DEFECTION_COLUMNS,
    TIMESERIES_COLUMNS,
    RunFolder,
    atomic_write_text,
    read_defections,
    read_manifest,
    read_replications,
    read_summary,
    read_timeseries,
    read_warnings,
    run_dir_for,
    slugify,
)
from loyaltysim.scenario.schema import Scenario
from tests.factories import make_result, make_results, make_scenario

CONTRACT_TIMESERIES = [
    "variant",
    "replication",
    "day",
    "customers",
    "purchases",
    "revenue",
    "discount_cost",
    "gross_profit",
    "followup_cost",
    "acquisition_cost",
    "fixed_costs",
    "cash",
    "churned",
    "acquired",
    "mean_satisfaction",
    "mean_attachment",
    "mean_competitor_awareness",
]
CONTRACT_DEFECTIONS = [
    "variant",
    "replication",
    "day",
    "customer",
    "segment",
    "cause",
    "satisfaction",
    "attachment",
    "tenure_days",
]
DAYS = 40


def _start(tmp_path: Path, reps: int = 3) -> tuple[RunFolder, Scenario]:
    scenario = make_scenario(horizon_days=DAYS, replications=reps)
    toml = tmp_path / "cafe.toml"
    toml.write_text('[scenario]\nname = "Corner café"\n', "utf-8")
    folder = RunFolder(tmp_path / "run")
    folder.start(
        scenario,
        scenario.model_dump(mode="json"),
        toml,
        ["discount.rate=0.1"],
        ["loyaltysim", "run", "cafe.toml"],
        seed=2026,
    )
    return folder, scenario


def _header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        return next(csv.reader(f))


def test_slug_and_run_dir(tmp_path: Path) -> None:
    assert slugify("Corner café") == "corner-cafe"
    assert slugify("  Bäckerei & Co.  (2026) ") == "backerei-co-2026"
    assert slugify("☕") == "scenario"
    scenario = make_scenario()
    now = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=2)))
    path = run_dir_for(scenario, None, root=tmp_path, now=now)
    assert path == tmp_path / "corner-cafe" / "20260304T030607Z"
    path.mkdir(parents=True)
    assert run_dir_for(scenario, None, root=tmp_path, now=now).name == "20260304T030607Z-2"
    assert run_dir_for(scenario, tmp_path / "mine") == tmp_path / "mine"
    assert run_dir_for(scenario, None, now=now).parts[0] == "results"


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "a.json"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert os.listdir(target.parent) == ["a.json"]

    class Boom(Exception):
        pass

    class Bad:
        def encode(self, _: str) -> bytes:
            raise Boom

    with pytest.raises(Boom):
        atomic_write_text(target, Bad())  # type: ignore[arg-type]
    assert target.read_text() == "two" and os.listdir(target.parent) == ["a.json"]


def test_manifest_lifecycle(tmp_path: Path) -> None:
    folder, scenario = _start(tmp_path)
    run = folder.path
    m = read_manifest(run)
    assert m["status"] == "running"
    assert m["seed"] == 2026
    assert m["scenario_sha256"] == hashlib.sha256((tmp_path / "cafe.toml").read_bytes()).hexdigest()
    assert m["overrides"] == ["discount.rate=0.1"]
    assert m["command_line"] == ["loyaltysim", "run", "cafe.toml"]
    assert m["versions"]["loyaltysim"]
    for dep in ("python", "numpy", "scipy", "simpy", "pydantic", "click", "matplotlib"):
        assert dep in m["versions"]
    datetime.fromisoformat(m["started_at"].replace("Z", "+00:00"))
    assert m["ended_at"] is None
    resolved = json.loads((run / "scenario.resolved.json").read_text("utf-8"))
    assert resolved["scenario"]["name"] == "Corner café"
    assert resolved["business"]["price"] == 4.5  # defaults filled in

    results = make_results(("base", "10% off"), 3, DAYS)
    for batch in results.values():
        folder.add_results(batch)
    summary = summarize(scenario, results, 2026)
    folder.finish(summary, "complete")
    m = read_manifest(run)
    assert m["status"] == "complete"
    assert m["replications_finished"] == {"base": 3, "10% off": 3}
    assert m["ended_at"] >= m["started_at"]
    assert read_summary(run) == json.loads(json.dumps(summary))
    with pytest.raises(ValueError):
        folder.finish(None, "done")


def test_tables_headers_and_rows(tmp_path: Path) -> None:
    folder, _ = _start(tmp_path)
    run = folder.path
    results = make_results(("base", "10% off"), 3, DAYS, warning_days=[7, 3])
    folder.add_results([r for rs in results.values() for r in rs])
    folder.finish(None, "complete")

    header = _header(run / "timeseries.csv")
    assert header[: len(CONTRACT_TIMESERIES)] == CONTRACT_TIMESERIES
    assert tuple(header) == TIMESERIES_COLUMNS
    assert _header(run / "defections.csv") == CONTRACT_DEFECTIONS == list(DEFECTION_COLUMNS)

    ts = read_timeseries(run)
    assert len(ts["day"]) == 2 * 3 * DAYS
    first = results["base"][0]
    rows = (ts["variant"] == "base") & (ts["replication"] == 0)
    np.testing.assert_array_equal(ts["day"][rows], np.arange(DAYS))
    for series in ("cash", "revenue", "mean_satisfaction", "customers", "points_liability"):
        np.testing.assert_array_equal(ts[series][rows], first.daily[series])  # exact round trip

    d = read_defections(run)
    n_def = sum(len(r.defections["day"]) for rs in results.values() for r in rs)
    assert len(d["day"]) == n_def
    assert set(d["segment"]) <= {"regulars", "deal, seekers"}  # quoted comma survives
    assert set(d["cause"]) <= set(CAUSES)
    reps = read_replications(run)
    assert len(reps["variant"]) == 6 and np.all(np.isnan(reps["ruin_day"]))
    w = read_warnings(run)
    assert list(w["day"][:2]) == [3, 7] and "cash runway" in w["message"][0]


def test_completion_order_does_not_change_files(tmp_path: Path) -> None:
    results = make_results(("base", "10% off"), 3, DAYS)
    flat = [r for rs in results.values() for r in rs]
    contents = []
    for k, order in enumerate((flat, random.Random(5).sample(flat, len(flat)))):
        folder = RunFolder(tmp_path / f"run{k}")
        scenario = make_scenario(horizon_days=DAYS)
        folder.start(scenario, scenario.model_dump(mode="json"), None, None, [], 1)
        for r in order:
            folder.add_results([r])
        folder.finish(None, "complete")
        contents.append([(folder.path / t).read_bytes() for t, _ in RunFolder.TABLES])
    assert contents[0] == contents[1]
    with pytest.raises(ValueError, match="already written"):
        folder.add_results([flat[0]])


@pytest.mark.parametrize(
    ("table", "stop"),
    [
        ("timeseries.csv", KeyboardInterrupt()),
        ("timeseries.csv", OSError(errno.ENOSPC, "No space left on device")),
        # The time series of the third replication is then whole on disk, but not
        # journalled: it must not count.
        ("defections.csv", OSError(errno.ENOSPC, "No space left on device")),
    ],
)
def test_interrupt_mid_append_keeps_complete_replications(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str, stop: BaseException
) -> None:
    folder, _ = _start(tmp_path)
    folder.add_results([make_result("base", 0, DAYS), make_result("base", 1, DAYS)])

    real = rio._FORMATTERS[table]

    def torn(r: RunResult, scenario: Scenario) -> Iterator[bytes]:
        # The table gets half its bytes, then Ctrl-C (or a full disk) arrives.
        data = b"".join(real(r, scenario))
        yield data[: len(data) // 2]
        raise stop

    monkeypatch.setitem(rio._FORMATTERS, table, torn)
    with pytest.raises(type(stop)):
        folder.add_results([make_result("base", 2, DAYS)])
    monkeypatch.setitem(rio._FORMATTERS, table, real)
    folder.finish(None, "interrupted")

    m = read_manifest(folder.path)
    assert m["status"] == "interrupted"
    assert m["replications_finished"]["base"] == 2
    ts = read_timeseries(folder.path)
    assert len(ts["day"]) == 2 * DAYS and set(ts["replication"]) == {0, 1}
    # No journal needed to read it: the file itself holds whole replications only.
    with open(folder.path / "timeseries.csv", newline="") as f:
        assert sum(1 for _ in f) == 1 + 2 * DAYS
    assert (folder.path / "timeseries.csv").read_bytes().endswith(b"\n")
    assert set(read_defections(folder.path)["replication"].tolist()) == {0, 1}


def test_a_table_written_in_slices_has_the_bytes_of_one_piece(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Large tables are formatted and written a slice of rows at a time (memory); the
    # files must not show where the slices fell. The first 4 defections have whole
    # satisfaction values: a column decided per slice would print them without ".0".
    def files(name: str) -> list[bytes]:
        folder = RunFolder(tmp_path / name)
        scenario = make_scenario(horizon_days=DAYS, replications=2)
        folder.start(scenario, scenario.model_dump(mode="json"), None, None, [], 1)
        sat = [1.0, 0.0, 1.0, 0.0] + [0.3] * 16
        folder.add_results([make_result("base", k, DAYS, satisfaction=sat) for k in range(2)])
        folder.finish(None, "complete")
        return [(folder.path / t).read_bytes() for t, _ in RunFolder.TABLES]

    whole = files("whole")
    monkeypatch.setattr(tables, "ROWS_AT_A_TIME", 4)
    sliced = files("sliced")
    assert sliced == whole
    assert b",1.0," in whole[1]  # defections: the whole values printed as floats
    assert read_defections(tmp_path / "sliced")["satisfaction"][:4].tolist() == [1, 0, 1, 0]


def test_killed_process_is_repaired_on_open(tmp_path: Path) -> None:
    folder, _ = _start(tmp_path)
    folder.add_results([make_result("base", 0, DAYS)])
    run = folder.path
    # A kill -9 after part of the next block and part of its journal line reached the disk.
    with open(run / "timeseries.csv", "ab") as f:
        f.write(b"base,1,0,200,15")
    with open(run / ".blocks.jsonl", "ab") as f:
        f.write(b'{"variant":"base","replication":1,"sp')
    assert len(read_timeseries(run)["day"]) == DAYS  # readers ignore the torn tail
    assert read_manifest(run)["status"] == "running"

    reopened = RunFolder.open(run)
    assert reopened.completed == [("base", 0)]
    reopened.add_results([make_result("base", 1, DAYS)])
    reopened.finish(None, "interrupted")
    ts = read_timeseries(run)
    assert len(ts["day"]) == 2 * DAYS
    assert read_manifest(run)["replications_finished"]["base"] == 2


def test_failed_run_records_error(tmp_path: Path) -> None:
    folder, _ = _start(tmp_path)
    folder.finish(None, "failed", error="RuntimeError: boom")
    m = read_manifest(folder.path)
    assert (m["status"], m["error"]) == ("failed", "RuntimeError: boom")
    assert not (folder.path / "summary.json").exists()
    assert read_timeseries(folder.path)["day"].size == 0
    with pytest.raises(RuntimeError):
        RunFolder(tmp_path / "never").add_results([make_result()])


def test_a_full_size_run_is_written_whole(tmp_path: Path) -> None:
    # 3 variants x 30 replications x 730 days = 65,700 rows, one replication per call.
    # How long this takes is benchmarks/bench_results_io.py's figure, never a test's: CI
    # machines are loaded.
    results = make_results(("base", "a", "b"), 30, 730)
    scenario = make_scenario(horizon_days=730, replications=30, variants=("a", "b"))
    folder = RunFolder(tmp_path / "big")
    folder.start(scenario, scenario.model_dump(mode="json"), None, None, [], 1)
    for rs in results.values():
        for r in rs:
            folder.add_results([r])
    folder.finish(None, "complete")
    assert len(read_timeseries(folder.path)["day"]) == 65_700


def test_now_is_utc() -> None:
    assert rio.utc_stamp(datetime(2026, 1, 2, 3, 4, 5)) == "20260102T030405Z"
    assert rio.utc_stamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "20260102T030405Z"
