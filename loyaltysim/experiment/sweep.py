"""Parameter sweeps, executed: the points of a design run in chunks, one row per point.

A *point* is one setting of the swept parameters. It runs ``R`` replications of the
scenario with that point's overrides, every point with the same root seed, so replication
``r`` of every point sees the same customers and luck (common random numbers across
points: differences between neighbouring points are not drowned in noise).

How a long sweep stays cheap and safe:

- **Flat memory.** A worker runs the replications of (part of) a point and returns only
  their metrics, a few numbers per replication; the parent turns a finished point into
  one row, appends it to ``sweep.csv`` and forgets it. Nothing grows with the number of
  points but the file.
- **Streaming and resume.** Each row is appended with one ``write`` and an ``fsync`` as
  soon as its point is done (header once). A kill loses at most the points in flight and
  perhaps a torn last line; ``resume=True`` reads the file back, drops a torn line, checks
  that ``sweep.json`` describes the same sweep, and runs only the missing points.
- **Same numbers anywhere.** Results are filed by point and replication index, never by
  completion order; at the end the file is rewritten in point order, so a serial run, a
  process pool and a Dask cluster write the same bytes.

The same machinery evaluates the designs of :mod:`loyaltysim.analysis.sensitivity`
(:func:`loyaltysim.workflows.sweep.run_sensitivity`): a sensitivity analysis is a sweep over
a SALib design followed by an estimator.

The sweep is split by concern: the design (parameters, points) in
:mod:`loyaltysim.experiment.design`, execution (chunks on an executor, rows of numbers) here,
the row journal (``sweep.csv``, durable appends, resume) in
:mod:`loyaltysim.output.sweep_journal`, and the job that writes the folder in
:mod:`loyaltysim.workflows.sweep`. Nothing in this module writes a file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from loyaltysim.analysis.metrics import run_metrics
from loyaltysim.analysis.stats import mean_ci, wilson_interval
from loyaltysim.experiment.design import (
    DESIGN_STREAM,
    LEVEL,
    MAX_POINTS,
    OUTPUT_METRICS,
    RUIN_COLUMNS,
    RUIN_METRIC,
    SAMPLES,
    SWEEP_METRICS,
    Param,
    Point,
    SweepError,
    design_rng,
    grid_points,
    lhs_points,
    parse_param,
    point_overrides,
    typed_params,
)
from loyaltysim.experiment.executors import DaskExecutor, Executor, ProcessExecutor
from loyaltysim.experiment.runner import resolve_seed
from loyaltysim.model.simulation import simulate
from loyaltysim.scenario import (
    Scenario,
    ScenarioError,
    load_scenario_text,
    variant_scenarios,
)
from loyaltysim.scenario.money import snap
from loyaltysim.scenario.overrides import OVERRIDE_SOURCE

# The design's names are this module's too: callers import them from here.
__all__ = [
    "DESIGN_STREAM",
    "LEVEL",
    "MAX_POINTS",
    "OUTPUT_METRICS",
    "RUIN_COLUMNS",
    "RUIN_METRIC",
    "SAMPLES",
    "SWEEP_METRICS",
    "ChunkResult",
    "Param",
    "Point",
    "PointChunk",
    "ScenarioSource",
    "SweepError",
    "best_rows",
    "check_corners",
    "chunk_plan",
    "design_rng",
    "grid_points",
    "lhs_points",
    "metric_columns",
    "output_column",
    "parallelism",
    "parse_param",
    "parse_rows",
    "plan_sweep",
    "point_overrides",
    "point_row",
    "row_columns",
    "run_chunk",
    "typed_params",
]


# ----------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class ScenarioSource:
    """A scenario file's text and the overrides to apply, to build each point from.

    The text is read once, so that editing the file during a long sweep cannot change the
    points still to run.
    """

    text: str
    filename: str
    overrides: tuple[str, ...] = ()
    variant: str = "base"

    @classmethod
    def from_file(
        cls, path: Path | str, overrides: Sequence[str] = (), variant: str = "base"
    ) -> ScenarioSource:
        return cls(Path(path).read_text("utf-8"), str(path), tuple(overrides), variant)

    def load(self, extra: Sequence[str] = ()) -> Scenario:
        """The chosen variant of the scenario, with the overrides and then ``extra``."""
        try:
            scenario = load_scenario_text(self.text, self.filename, [*self.overrides, *extra])
        except ScenarioError as exc:
            raise _blame_params(exc, len(self.overrides), extra) from None
        if self.variant == "base":
            return scenario
        found = dict(variant_scenarios(scenario))
        if self.variant not in found:
            raise SweepError(
                f"no variant {self.variant!r} in {self.filename}; variants: "
                + ", ".join(repr(n) for n in found)
            )
        return found[self.variant]


def _blame_params(exc: ScenarioError, given: int, extra: Sequence[str]) -> ScenarioError:
    """Problems of a point's overrides (after the ``given`` ones of ``--set``) are the
    ``--param``'s: reported as ``<--param>:N`` (the N-th parameter) with its value."""
    problems = []
    for p in exc.problems:
        n = p.line - given
        if p.file == OVERRIDE_SOURCE and 1 <= n <= len(extra):
            hint = f"{p.hint}; " if p.hint else ""
            p = dataclasses.replace(
                p, file=PARAM_SOURCE, line=n, hint=f"{hint}at this point {extra[n - 1]}"
            )
        problems.append(p)
    return ScenarioError(problems)


PARAM_SOURCE = "<--param>"  # the "file" of a point's problems; the line is the parameter


# ----------------------------------------------------------------------------- worker side


@dataclass(frozen=True)
class PointChunk:
    """Some replications of one point: everything a worker needs, and picklable."""

    point: int
    scenario: Scenario
    variant: str
    replications: tuple[int, ...]
    root_seed: int
    metrics: tuple[str, ...]


@dataclass
class ChunkResult:
    """The metrics of a chunk's replications (nothing else: memory stays flat)."""

    point: int
    replications: tuple[int, ...]
    values: dict[str, np.ndarray]  # metric -> float64[len(replications)]
    ruined: np.ndarray  # bool[len(replications)]


def run_chunk(task: PointChunk) -> ChunkResult:
    """Run a chunk's replications one at a time, keeping only their metrics."""
    columns: dict[str, list[float]] = {m: [] for m in task.metrics}
    ruined: list[bool] = []
    for rep in task.replications:
        result = simulate(task.scenario, rep, task.root_seed, task.variant)
        metrics = run_metrics(result, task.scenario)
        for m in task.metrics:
            columns[m].append(metrics[m])
        ruined.append(result.ruined)
        del result  # the daily arrays of one replication at most, never a point's
    return ChunkResult(
        task.point,
        task.replications,
        {m: np.array(v, dtype=np.float64) for m, v in columns.items()},
        np.array(ruined, dtype=bool),
    )


class _Chunks(Sequence[PointChunk]):
    """The chunks of a sweep, each built (scenario validated) only when an executor asks
    for it: a 100,000-point sweep does not hold 100,000 scenarios."""

    def __init__(
        self,
        plan: list[tuple[Point, tuple[int, ...]]],
        build: Callable[[Point], Scenario],
        variant: str,
        root_seed: int,
        metrics: tuple[str, ...],
    ) -> None:
        self.plan, self._build = plan, build
        self.variant, self.root_seed, self.metrics = variant, root_seed, metrics
        self._cache: tuple[int, Scenario] | None = None

    def __len__(self) -> int:
        return len(self.plan)

    def __getitem__(self, i: int) -> PointChunk:  # type: ignore[override]
        if not 0 <= i < len(self.plan):
            raise IndexError(i)
        point, reps = self.plan[i]
        if self._cache is None or self._cache[0] != point.index:
            self._cache = (point.index, self._build(point))
        scenario = self._cache[1]
        return PointChunk(point.index, scenario, self.variant, reps, self.root_seed, self.metrics)


def parallelism(executor: Executor) -> int:
    """How many tasks the executor runs at once (1 for serial and unknown executors)."""
    if isinstance(executor, ProcessExecutor):
        return executor.workers
    if isinstance(executor, DaskExecutor):
        with contextlib.suppress(Exception):
            return max(1, sum(executor.client.nthreads().values()))
    return 1


def chunk_plan(
    points: Sequence[Point], replications: int, workers: int
) -> list[tuple[Point, tuple[int, ...]]]:
    """Split each point's replications into chunks when there are too few points to keep
    ``workers`` busy (2 tasks per worker); otherwise one task per point."""
    if not points:
        return []
    per_point = 1
    if workers > 1:
        per_point = min(replications, max(1, math.ceil(2 * workers / len(points))))
    bounds = np.linspace(0, replications, per_point + 1).round().astype(int).tolist()
    return [(p, tuple(range(a, b))) for p in points for a, b in itertools.pairwise(bounds) if b > a]


# ----------------------------------------------------------------------------- rows


def metric_columns(metrics: Sequence[str]) -> list[str]:
    """``{m}_mean, {m}_ci_lo, {m}_ci_hi`` for each metric."""
    return [f"{m}_{s}" for m in metrics for s in ("mean", "ci_lo", "ci_hi")]


def row_columns(params: Sequence[Param], metrics: Sequence[str]) -> list[str]:
    """The columns of ``sweep.csv``: point, parameters, replications, metrics, ruin."""
    return [
        "point",
        *(p.key for p in params),
        "replications",
        *metric_columns(metrics),
        *RUIN_COLUMNS,
    ]


def output_column(metric: str) -> str:
    """The row column holding a metric's mean over replications."""
    return RUIN_METRIC if metric == RUIN_METRIC else f"{metric}_mean"


def point_row(
    params: Sequence[Param],
    point: Point,
    values: Mapping[str, np.ndarray],
    ruined: np.ndarray,
    metrics: Sequence[str],
) -> dict[str, float]:
    """A point's row: mean and Student-t 95% interval of each metric over its replications,
    and the share of replications ruined with its Wilson interval."""
    n = int(ruined.size)
    row: dict[str, float] = {"point": point.index}
    row.update({p.key: v for p, v in zip(params, point.values, strict=True)})
    row["replications"] = n
    for m in metrics:
        mean, (lo, hi) = mean_ci(values[m], LEVEL)
        # Float noise (a sum of zero discounts that comes out as -3.95e-11) reads as 0.
        row.update({f"{m}_mean": snap(mean), f"{m}_ci_lo": snap(lo), f"{m}_ci_hi": snap(hi)})
    k = int(np.sum(ruined))
    lo, hi = wilson_interval(k, n, LEVEL)
    row.update(
        {"ruined": k, RUIN_METRIC: k / n if n else math.nan, "ruin_ci_lo": lo, "ruin_ci_hi": hi}
    )
    return row


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            return ""
        return str(int(v)) if v.is_integer() and abs(v) < 2**53 else repr(v)
    return str(value)


def _parse_cell(text: str) -> float:
    return math.nan if text == "" else float(text)


def parse_rows(columns: Sequence[str], rows: Mapping[int, Sequence[str]]) -> list[dict[str, float]]:
    """Rows as ``{column: float}`` in point order (empty cells are NaN)."""
    return [
        {c: _parse_cell(v) for c, v in zip(columns, rows[k], strict=True)} for k in sorted(rows)
    ]


# ----------------------------------------------------------------------------- sweeps


def plan_sweep(
    source: ScenarioSource,
    params: Sequence[Param],
    sample: str = "grid",
    n: int | None = None,
    seed: int | None = None,
) -> tuple[Scenario, list[Param], list[Point], int]:
    """Check a sweep before anything runs: the base scenario, typed parameters, the points
    and the root seed (the scenario's, else ``seed``, else fresh).

    The corner points (every parameter at its low, then at its high end) are built, so a
    key the scenario does not know, or a range it rejects, fails here with the loader's
    located messages (:class:`~loyaltysim.scenario.ScenarioError`), not mid-sweep.
    """
    base = source.load()
    params = typed_params(params, base)
    root_seed = _root_seed(base, seed)
    if sample == "grid":
        if n is not None:
            raise SweepError("--n is for --sample lhs; a grid's size follows from its steps")
        points = grid_points(params)
    elif sample == "lhs":
        if n is None:
            raise SweepError("--sample lhs needs --n N, the number of points")
        for p in params:
            if p.values is not None:
                raise SweepError(f"{p.key}: --sample lhs needs a range LO:HI, not a list")
        points = lhs_points(params, n, root_seed)
    else:
        raise SweepError(f"--sample must be one of {', '.join(SAMPLES)}, got {sample!r}")
    check_corners(source, params)
    return base, params, points, root_seed


def _root_seed(base: Scenario, seed: int | None) -> int:
    """The root seed of a design: the scenario's, else ``seed``, else a fresh one."""
    if base.scenario.seed is not None:
        return base.scenario.seed
    return seed if seed is not None else resolve_seed(base)


def check_corners(source: ScenarioSource, params: Sequence[Param]) -> None:
    """Build the scenario with every parameter at its low end, then its high end: an
    unknown key or a value out of bounds fails now, with the loader's located message
    (:class:`~loyaltysim.scenario.ScenarioError`), not in the middle of a sweep."""
    for ends in ([p.lo for p in params], [p.hi for p in params]):
        values = tuple(p.snap(v) for p, v in zip(params, ends, strict=True))
        source.load(point_overrides(params, Point(-1, values)))


def best_rows(
    rows: Sequence[Mapping[str, float]], metric: str = "profit", count: int = 10
) -> list[Mapping[str, float]]:
    """The ``count`` rows with the highest mean of ``metric`` (NaN last), ties by point."""
    col = output_column(metric)

    def key(r: Mapping[str, float]) -> tuple[bool, float, float]:
        v = r[col]
        return (math.isnan(v), -v if not math.isnan(v) else 0.0, r["point"])

    return sorted(rows, key=key)[:count]
