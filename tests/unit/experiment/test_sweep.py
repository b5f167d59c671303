"""Sweeps: parameter parsing, grid and Latin hypercube designs, rows, the streamed CSV,
resume, chunking, and what an interrupt or a crashed worker leaves."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from loyaltysim.experiment import ExecutorError, SerialExecutor
from loyaltysim.experiment.sweep import (
    Param,
    Point,
    PointChunk,
    ScenarioSource,
    SweepError,
    chunk_plan,
    grid_points,
    lhs_points,
    parse_param,
    point_overrides,
    point_row,
    row_columns,
    run_chunk,
    typed_params,
)
from loyaltysim.output.sweep_journal import RowLog, read_sweep
from loyaltysim.scenario import ScenarioError
from loyaltysim.workflows.sweep import run_sweep

T = TypeVar("T")
R = TypeVar("R")

TINY = """
[scenario]
name = "Tiny"
horizon_days = 30
replications = 2
seed = 11

[customers]
initial = 200

[discount]
kind = "flat"
rate = 0.05

[[variants]]
name = "deep"
set = { "discount.rate" = 0.3 }
"""


@pytest.fixture
def source(tmp_path: Path) -> ScenarioSource:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return ScenarioSource.from_file(path)


# ----------------------------------------------------------------------------- parsing


def test_parse_grid_range_and_sampling_range() -> None:
    p = parse_param("discount.rate=0:0.3:0.1")
    assert (p.key, p.lo, p.hi, p.step, p.values) == ("discount.rate", 0.0, 0.3, 0.1, None)
    assert p.grid() == [0.0, 0.1, 0.2, 0.3]  # no 0.30000000000000004, HI included
    q = parse_param(" business.price = 4 : 5 ")
    assert (q.key, q.lo, q.hi, q.step) == ("business.price", 4.0, 5.0, None)
    with pytest.raises(SweepError, match="needs a step"):
        q.grid()


def test_parse_explicit_values() -> None:
    p = parse_param("customers.initial=100,400,200")
    assert p.values == (100.0, 400.0, 200.0) and (p.lo, p.hi) == (100.0, 400.0)
    assert p.grid() == [100.0, 400.0, 200.0]


@pytest.mark.parametrize(
    "text",
    [
        "discount.rate",
        "=0:1",
        "discount.rate=1:0",
        "discount.rate=0:1:0",
        "discount.rate=a:b",
        "discount.rate=0:1:-1",
        "x..y=0:1",
        "discount.rate=1,1",
        "discount.rate=nan:1",
    ],
)
def test_parse_rejects_malformed(text: str) -> None:
    with pytest.raises(SweepError):
        parse_param(text)


def test_grid_step_that_does_not_divide_stops_below_hi() -> None:
    assert parse_param("k=0:1:0.3").grid() == [0.0, 0.3, 0.6, 0.9]
    assert parse_param("k=2:2:1").grid() == [2.0]


def test_integer_params_round_and_print_as_integers(source: ScenarioSource) -> None:
    base = source.load()
    (p,) = typed_params([parse_param("customers.initial=100.0:300.0:50")], base)
    assert p.integer
    assert p.text(150.0) == "150"
    (q,) = typed_params([parse_param("discount.rate=0:1:1")], base)
    assert not q.integer  # the scenario holds a float there, whatever the literal says
    assert q.text(1.0) == "1.0"
    with pytest.raises(SweepError, match="not a number"):
        typed_params([parse_param("discount.kind=0:1:1")], base)
    with pytest.raises(SweepError, match="twice"):
        typed_params([parse_param("discount.rate=0:1"), parse_param("discount.rate=0:2")], base)


# ----------------------------------------------------------------------------- designs


def test_grid_is_the_full_product_last_param_fastest() -> None:
    params = [parse_param("a=0:1:1"), parse_param("b=10:30:10")]
    points = grid_points(params)
    assert [p.index for p in points] == list(range(6))
    assert [p.values for p in points] == [
        (0.0, 10.0),
        (0.0, 20.0),
        (0.0, 30.0),
        (1.0, 10.0),
        (1.0, 20.0),
        (1.0, 30.0),
    ]


def test_lhs_has_n_points_inside_bounds_one_per_stratum() -> None:
    params = [parse_param("a=0:1"), parse_param("b=-5:5")]
    points = lhs_points(params, 20, seed=3)
    assert len(points) == 20
    x = np.array([p.values for p in points])
    assert np.all((x[:, 0] >= 0) & (x[:, 0] <= 1))
    assert np.all((x[:, 1] >= -5) & (x[:, 1] <= 5))
    # Latin: each of the 20 equal strata of each parameter holds exactly one point.
    for j, (lo, hi) in enumerate([(0, 1), (-5, 5)]):
        strata = np.floor((x[:, j] - lo) / (hi - lo) * 20).astype(int)
        assert sorted(strata.tolist()) == list(range(20))


def test_lhs_is_deterministic_by_seed() -> None:
    params = [parse_param("a=0:1"), parse_param("b=0:1")]
    assert lhs_points(params, 8, seed=5) == lhs_points(params, 8, seed=5)
    assert lhs_points(params, 8, seed=5) != lhs_points(params, 8, seed=6)


def test_lhs_rounds_integer_parameters() -> None:
    p = Param("customers.initial", 100, 200, integer=True)
    values = [pt.values[0] for pt in lhs_points([p], 10, seed=1)]
    assert all(v == round(v) and 100 <= v <= 200 for v in values)


def test_point_overrides_are_toml_literals() -> None:
    params = [Param("discount.rate", 0, 1), Param("customers.initial", 1, 9, integer=True)]
    assert point_overrides(params, Point(0, (0.1, 5.0))) == [
        "discount.rate=0.1",
        "customers.initial=5",
    ]


# ----------------------------------------------------------------------------- rows


def test_point_row_means_intervals_and_wilson_ruin() -> None:
    params = [Param("k", 0, 1)]
    values = {"profit": np.array([1.0, 2.0, 3.0])}
    row = point_row(params, Point(4, (0.5,)), values, np.array([True, False, False]), ["profit"])
    assert row["point"] == 4 and row["k"] == 0.5 and row["replications"] == 3
    assert row["profit_mean"] == pytest.approx(2.0)
    half = 4.302652729911275 * 1.0 / math.sqrt(3)  # t(0.975, 2) * s / sqrt(n)
    assert row["profit_ci_lo"] == pytest.approx(2.0 - half)
    assert row["profit_ci_hi"] == pytest.approx(2.0 + half)
    assert row["ruined"] == 1 and row["ruin_probability"] == pytest.approx(1 / 3)
    assert 0 < row["ruin_ci_lo"] < 1 / 3 < row["ruin_ci_hi"] < 1


def test_chunk_plan_splits_replications_only_when_points_are_few() -> None:
    points = [Point(i, (float(i),)) for i in range(3)]
    many = chunk_plan(points * 10, 6, workers=2)
    assert all(len(reps) == 6 for _, reps in many)
    few = chunk_plan(points[:1], 6, workers=2)
    assert len(few) == 4  # two tasks per worker
    assert sorted(r for _, reps in few for r in reps) == list(range(6))
    assert len(chunk_plan(points[:1], 6, workers=1)) == 1  # serial: nothing to gain


def test_chunks_of_a_point_give_the_same_metrics_as_one_task(source: ScenarioSource) -> None:
    scenario = source.load()
    whole = run_chunk(PointChunk(0, scenario, "base", (0, 1, 2), 11, ("profit",)))
    a = run_chunk(PointChunk(0, scenario, "base", (0,), 11, ("profit",)))
    b = run_chunk(PointChunk(0, scenario, "base", (1, 2), 11, ("profit",)))
    np.testing.assert_array_equal(
        whole.values["profit"], np.concatenate([a.values["profit"], b.values["profit"]])
    )


# ----------------------------------------------------------------------------- the CSV


def test_row_log_drops_a_torn_last_line_and_appends_after_it(tmp_path: Path) -> None:
    log = RowLog(tmp_path / "s.csv", ["point", "k", "v"])
    log.create()
    log.append({"point": 0, "k": 0.5, "v": 1.25})
    log.append({"point": 1, "k": 1.0, "v": math.nan})
    with open(log.path, "ab") as f:
        f.write(b"2,1.5,3.")  # killed mid-write
    rows = log.read()
    assert sorted(rows) == [0, 1]
    assert rows[1] == ["1", "1", ""]  # NaN is an empty cell
    assert log.path.read_bytes().endswith(b"\n")
    log.append({"point": 2, "k": 1.5, "v": 3.0})
    assert sorted(log.read()) == [0, 1, 2]


def test_row_log_drops_a_last_line_with_missing_fields(tmp_path: Path) -> None:
    log = RowLog(tmp_path / "s.csv", ["point", "k", "v"])
    log.create()
    log.append({"point": 0, "k": 0.5, "v": 1.0})
    with open(log.path, "ab") as f:
        f.write(b"1,0.7\n")
    assert sorted(log.read()) == [0]
    assert log.path.read_text().count("\n") == 2


def test_row_log_refuses_another_sweeps_file(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("point,other\n0,1\n")
    with pytest.raises(SweepError, match="different sweep"):
        RowLog(path, ["point", "k"]).read()


def test_row_log_canonicalises_in_point_order(tmp_path: Path) -> None:
    log = RowLog(tmp_path / "s.csv", ["point", "k"])
    log.create()
    for i in (2, 0, 1):
        log.append({"point": i, "k": float(i)})
    log.canonicalise(log.read())
    assert log.path.read_text() == "point,k\n0,0\n1,1\n2,2\n"


# ----------------------------------------------------------------------------- whole sweeps


class ShuffledExecutor:
    """Finishes tasks in a scrambled order."""

    def map_unordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        order = np.random.default_rng(1).permutation(len(tasks))
        for key in order:
            yield int(key), fn(tasks[int(key)])


class StoppingExecutor:
    """Finishes ``n`` tasks, then raises ``exc`` (Ctrl-C, or a worker crash)."""

    def __init__(self, n: int, exc: BaseException) -> None:
        self.n, self.exc = n, exc

    def map_unordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        for key in range(len(tasks)):
            if key == self.n:
                raise self.exc
            yield key, fn(tasks[key])


PARAMS = [parse_param("discount.rate=0:0.2:0.1")]


def test_sweep_rows_do_not_depend_on_completion_order(
    source: ScenarioSource, tmp_path: Path
) -> None:
    a = run_sweep(source, PARAMS, output=tmp_path / "a", executor=SerialExecutor(), charts=False)
    b = run_sweep(source, PARAMS, output=tmp_path / "b", executor=ShuffledExecutor(), charts=False)
    assert a.status == b.status == "complete"
    assert (tmp_path / "a/sweep.csv").read_bytes() == (tmp_path / "b/sweep.csv").read_bytes()
    assert [r["discount.rate"] for r in a.rows] == [0.0, 0.1, 0.2]
    # Common random numbers across points: deeper discounts, lower revenue per ticket.
    assert a.rows[0]["discount_cost_mean"] < a.rows[2]["discount_cost_mean"]
    spec, rows = read_sweep(tmp_path / "a")
    assert spec["points"] == 3 and rows == a.rows
    manifest = json.loads((tmp_path / "a/manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["points_finished"] == 3


def test_interrupted_sweep_keeps_rows_and_resume_runs_only_the_rest(
    source: ScenarioSource, tmp_path: Path
) -> None:
    out = tmp_path / "s"
    first = run_sweep(
        source, PARAMS, output=out, executor=StoppingExecutor(2, KeyboardInterrupt()), charts=False
    )
    assert first.status == "interrupted" and first.finished == 2
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    calls: list[int] = []

    class Counting(SerialExecutor):
        def map_unordered(self, fn: Any, tasks: Any) -> Any:
            for key, result in super().map_unordered(fn, tasks):
                calls.append(result.point)
                yield key, result

    second = run_sweep(source, PARAMS, output=out, resume=True, executor=Counting(), charts=False)
    assert second.status == "complete" and second.skipped == 2 and calls == [2]
    run_sweep(source, PARAMS, output=tmp_path / "w", executor=SerialExecutor(), charts=False)
    assert (out / "sweep.csv").read_bytes() == (tmp_path / "w/sweep.csv").read_bytes()


def test_resume_of_a_different_sweep_is_refused(source: ScenarioSource, tmp_path: Path) -> None:
    out = tmp_path / "s"
    run_sweep(source, PARAMS, output=out, executor=SerialExecutor(), charts=False)
    with pytest.raises(SweepError, match="different sweep"):
        run_sweep(
            source,
            [parse_param("discount.rate=0:0.3:0.1")],
            output=out,
            resume=True,
            executor=SerialExecutor(),
            charts=False,
        )
    with pytest.raises(SweepError, match="--resume"):
        run_sweep(source, PARAMS, output=out, executor=SerialExecutor(), charts=False)
    with pytest.raises(SweepError, match="needs --output"):
        run_sweep(source, PARAMS, resume=True, executor=SerialExecutor(), charts=False)


def test_worker_crash_is_reported_and_finished_points_kept(
    source: ScenarioSource, tmp_path: Path
) -> None:
    out = tmp_path / "s"
    crash = ExecutorError("task 1 failed: a worker process died")
    outcome = run_sweep(
        source, PARAMS, output=out, executor=StoppingExecutor(1, crash), charts=False
    )
    assert outcome.status == "failed" and "worker process died" in (outcome.error or "")
    assert outcome.finished == 1
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "worker" in manifest["error"]


def test_bad_key_fails_before_anything_runs(source: ScenarioSource, tmp_path: Path) -> None:
    with pytest.raises(ScenarioError):
        run_sweep(
            source,
            [parse_param("discount.rat=0:0.2:0.1")],
            output=tmp_path / "x",
            executor=SerialExecutor(),
            charts=False,
        )
    with pytest.raises(ScenarioError):  # out of bounds at the high end
        run_sweep(
            source,
            [parse_param("discount.rate=0:2:1")],
            output=tmp_path / "y",
            executor=SerialExecutor(),
            charts=False,
        )
    assert not (tmp_path / "x").exists()


def test_sweep_of_a_variant(source: ScenarioSource, tmp_path: Path) -> None:
    deep = ScenarioSource(source.text, source.filename, (), "deep")
    assert deep.load().discount.rate == 0.3  # type: ignore[union-attr]
    outcome = run_sweep(
        deep,
        [parse_param("customers.initial=200,300")],
        output=tmp_path / "v",
        executor=SerialExecutor(),
        charts=False,
    )
    assert outcome.spec["variant"] == "deep" and outcome.finished == 2
    with pytest.raises(SweepError, match="no variant"):
        ScenarioSource(source.text, source.filename, (), "nope").load()


def test_columns_are_point_params_replications_metrics_ruin() -> None:
    cols = row_columns([Param("a", 0, 1)], ["profit"])
    assert cols == [
        "point",
        "a",
        "replications",
        "profit_mean",
        "profit_ci_lo",
        "profit_ci_hi",
        "ruined",
        "ruin_probability",
        "ruin_ci_lo",
        "ruin_ci_hi",
    ]
