"""Parameter sweeps: a grid or a Latin hypercube of settings, one CSV row per point.

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
(:func:`run_sensitivity`): a sensitivity analysis is a sweep over a SALib design followed by
an estimator.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import itertools
import json
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict, Unpack

import numpy as np

from loyaltysim.analysis.metrics import METRIC_NAMES, METRICS, run_metrics
from loyaltysim.analysis.stats import mean_ci, wilson_interval
from loyaltysim.analysis.summary import dumps, json_safe
from loyaltysim.experiment.executors import DaskExecutor, Executor, ProcessExecutor, make_executor
from loyaltysim.experiment.runner import resolve_seed
from loyaltysim.model.simulation import simulate
from loyaltysim.output.lock import claim_run_dir
from loyaltysim.results_io import (
    append_durably,
    atomic_write_bytes,
    atomic_write_text,
    command_line_record,
    environment,
    scenario_file_record,
    utc_iso,
)
from loyaltysim.scenario import Scenario, load_scenario_text, variant_scenarios

# Metrics every sweep row carries (mean and 95% interval over the point's replications).
SWEEP_METRICS: tuple[str, ...] = (
    "profit",
    "revenue",
    "discount_cost",
    "customers_end",
    "churned",
    "churn_rate_annual",
    "cash_end",
    "cash_min",
    "mean_satisfaction_end",
)
RUIN_COLUMNS: tuple[str, ...] = ("ruined", "ruin_probability", "ruin_ci_lo", "ruin_ci_hi")
RUIN_METRIC = "ruin_probability"  # a row column usable as an output, like "profit"
OUTPUT_METRICS: tuple[str, ...] = (*METRIC_NAMES, RUIN_METRIC)

SWEEP_CSV = "sweep.csv"
SWEEP_SPEC = "sweep.json"
MANIFEST = "manifest.json"
RESOLVED = "scenario.resolved.json"
MAX_POINTS = 1_000_000
LEVEL = 0.95
# spawn_key of the design's random stream (LHS, SALib samplers): a one-element key can never
# equal a replication's (replication, stream) key, so the design is independent of the runs.
DESIGN_STREAM = (0xD5,)


class SweepError(ValueError):
    """A sweep that cannot start as asked: a malformed ``--param``, an empty design, or a
    ``--resume`` of a folder holding a different sweep. Usage errors, not failures."""


# ----------------------------------------------------------------------------- parameters

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^\s*({_NUMBER})\s*:\s*({_NUMBER})\s*(?::\s*({_NUMBER})\s*)?$")


@dataclass(frozen=True)
class Param:
    """One swept parameter: a dotted scenario key and its range.

    ``KEY=LO:HI:STEP`` gives the grid ``LO, LO+STEP, ... <= HI``; ``KEY=LO:HI`` a range
    to sample (Latin hypercube, sensitivity designs); ``KEY=V1,V2,...`` an explicit list
    of grid values. ``integer`` parameters (counts, days) are rounded to whole numbers.
    """

    key: str
    lo: float
    hi: float
    step: float | None = None
    values: tuple[float, ...] | None = None
    integer: bool = False

    def grid(self) -> list[float]:
        """The grid values, ascending (an explicit list keeps its given order)."""
        if self.values is not None:
            return [self.snap(v) for v in self.values]
        if self.step is None:
            raise SweepError(
                f"{self.key}: a grid needs a step, KEY=LO:HI:STEP (or use --sample lhs)"
            )
        count = math.floor((self.hi - self.lo) / self.step + 1e-9) + 1
        if count > MAX_POINTS:
            raise SweepError(f"{self.key}: {count:,} grid values; that is too many")
        out: list[float] = []
        for i in range(count):
            v = self.snap(self.lo + i * self.step)
            if not out or v != out[-1]:  # integer rounding can merge neighbours
                out.append(v)
        return out

    def scale(self, unit: np.ndarray) -> np.ndarray:
        """Map values on [0, 1] to [lo, hi] (rounded for an integer parameter)."""
        x = self.lo + np.asarray(unit, dtype=np.float64) * (self.hi - self.lo)
        return np.array([self.snap(v) for v in x.tolist()], dtype=np.float64)

    def text(self, value: float) -> str:
        """``value`` as a TOML literal for an override (exact: ``repr`` round-trips)."""
        return str(int(value)) if self.integer else repr(float(value))

    def snap(self, value: float) -> float:
        """``value`` as the parameter takes it (whole for an integer parameter)."""
        if self.integer:
            return float(round(value))
        # 0.1 + 2 * 0.1 is 0.30000000000000004; 12 significant digits is 0.3.
        return float(f"{value:.12g}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "lo": self.lo,
            "hi": self.hi,
            "step": self.step,
            "values": list(self.values) if self.values is not None else None,
            "integer": self.integer,
        }


def parse_param(text: str) -> Param:
    """Parse ``KEY=LO:HI[:STEP]`` or ``KEY=V1,V2,...`` (see :class:`Param`).

    Raises
    ------
    SweepError
        With what is wrong and what was expected.
    """
    key, sep, spec = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part.strip() for part in key.split(".")):
        raise SweepError(f"expected KEY=LO:HI:STEP or KEY=LO:HI, got {text!r}")
    if "," in spec:
        parts = [p.strip() for p in spec.split(",") if p.strip()]
        try:
            values = tuple(float(p) for p in parts)
        except ValueError:
            raise SweepError(f"{key}: values must be numbers, got {spec!r}") from None
        if not values or not all(math.isfinite(v) for v in values):
            raise SweepError(f"{key}: expected finite numbers, got {spec!r}")
        if len(set(values)) != len(values):
            raise SweepError(f"{key}: repeated values in {spec!r}")
        return Param(key, min(values), max(values), None, values)
    match = _RANGE.match(spec)
    if not match:
        raise SweepError(
            f"{key}: expected LO:HI:STEP (grid) or LO:HI (sampling), e.g. "
            f"{key}=0:0.3:0.05; got {spec!r}"
        )
    lo, hi = float(match[1]), float(match[2])
    step = float(match[3]) if match[3] is not None else None
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        raise SweepError(f"{key}: need LO <= HI, got {spec!r}")
    if step is not None and not (math.isfinite(step) and step > 0):
        raise SweepError(f"{key}: STEP must be positive, got {spec!r}")
    return Param(key, lo, hi, step, None)


def _lookup(data: Any, key: str) -> Any:
    node = data
    for part in key.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list | tuple) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(key)
    return node


def typed_params(params: Sequence[Param], scenario: Scenario) -> list[Param]:
    """Mark parameters integer when the scenario holds an integer at their key
    (``customers.initial``, ``scenario.horizon_days``); the rest are real-valued.

    Raises
    ------
    SweepError
        When a key is given twice, or the scenario holds something else than a number.
    """
    data = scenario.model_dump(mode="python")
    keys = [p.key for p in params]
    if len(set(keys)) != len(keys):
        raise SweepError(f"a parameter is given twice: {keys}")
    out = []
    for p in params:
        try:
            current = _lookup(data, p.key)
        except KeyError:
            out.append(p)
            continue
        integer = isinstance(current, int) and not isinstance(current, bool)
        if isinstance(current, bool) or not isinstance(current, int | float):
            raise SweepError(f"{p.key} is not a number in the scenario ({current!r})")
        out.append(Param(p.key, p.lo, p.hi, p.step, p.values, integer))
    return out


# ----------------------------------------------------------------------------- designs


@dataclass(frozen=True)
class Point:
    """One setting of the swept parameters, ``values`` in parameter order."""

    index: int
    values: tuple[float, ...]


def grid_points(params: Sequence[Param]) -> list[Point]:
    """Every combination of the parameters' grids (the last parameter varies fastest)."""
    if not params:
        raise SweepError("give at least one --param KEY=LO:HI:STEP")
    grids = [p.grid() for p in params]
    total = math.prod(len(g) for g in grids)
    if total > MAX_POINTS:
        raise SweepError(f"the grid has {total:,} points; at most {MAX_POINTS:,}")
    return [Point(i, tuple(v)) for i, v in enumerate(itertools.product(*grids))]


def design_rng(root_seed: int) -> np.random.Generator:
    """The generator of a sweep's design, derived from the root seed (reproducible)."""
    seq = np.random.SeedSequence(root_seed, spawn_key=DESIGN_STREAM)
    return np.random.Generator(np.random.PCG64(seq))


def lhs_points(params: Sequence[Param], n: int, seed: int) -> list[Point]:
    """``n`` points of a Latin hypercube over the parameters' ranges.

    Each parameter's range is cut into ``n`` equal strata with exactly one point in each
    (McKay, Beckman & Conover 1979), via :class:`scipy.stats.qmc.LatinHypercube`; the same
    ``seed`` gives the same points.
    """
    from scipy.stats import qmc

    if not params:
        raise SweepError("give at least one --param KEY=LO:HI")
    if n < 1 or n > MAX_POINTS:
        raise SweepError(f"--n must be between 1 and {MAX_POINTS:,}, got {n}")
    rng = design_rng(seed)
    try:
        sampler = qmc.LatinHypercube(d=len(params), rng=rng)
    except TypeError:  # scipy < 1.15 calls it seed
        sampler = qmc.LatinHypercube(d=len(params), seed=rng)
    unit = sampler.random(n)
    columns = [p.scale(unit[:, j]) for j, p in enumerate(params)]
    return [Point(i, tuple(float(c[i]) for c in columns)) for i in range(n)]


def point_overrides(params: Sequence[Param], point: Point) -> list[str]:
    """The ``--set`` overrides of a point."""
    return [f"{p.key}={p.text(v)}" for p, v in zip(params, point.values, strict=True)]


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
        scenario = load_scenario_text(self.text, self.filename, [*self.overrides, *extra])
        if self.variant == "base":
            return scenario
        found = dict(variant_scenarios(scenario))
        if self.variant not in found:
            raise SweepError(
                f"no variant {self.variant!r} in {self.filename}; variants: "
                + ", ".join(repr(n) for n in found)
            )
        return found[self.variant]


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
        row.update({f"{m}_mean": mean, f"{m}_ci_lo": lo, f"{m}_ci_hi": hi})
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


class RowLog:
    """A CSV file that grows by one durable row per finished point.

    Each :meth:`append` is one ``write`` of a whole line followed by ``fsync``: after a kill
    the file holds every finished row and at worst one torn line at the end, which
    :meth:`read` drops (and truncates away, so the next append starts on a fresh line).
    """

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self.path = Path(path)
        self.columns = list(columns)

    def create(self) -> None:
        atomic_write_text(self.path, ",".join(self.columns) + "\n")

    def read(self) -> dict[int, list[str]]:
        """The complete rows, by point; repairs a torn last line.

        Raises
        ------
        SweepError
            When the header differs (another sweep's file) or a row in the middle is bad.
        """
        data = self.path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):  # a row torn by a kill mid-write
            os.truncate(self.path, end)
            data = data[:end]
        lines = data.decode("utf-8").splitlines()
        if not lines or next(csv.reader([lines[0]])) != self.columns:
            raise SweepError(
                f"{self.path} has other columns than this sweep would write; "
                "it holds a different sweep"
            )
        rows: dict[int, list[str]] = {}
        for number, fields in enumerate(csv.reader(lines[1:]), start=2):
            try:
                if len(fields) != len(self.columns):
                    raise ValueError("wrong number of fields")
                for f in fields[1:]:
                    _parse_cell(f)
                rows[int(fields[0])] = fields
            except ValueError as exc:
                if number == len(lines):  # the last line: torn, drop it
                    keep = len("\n".join(lines[:-1]).encode("utf-8")) + 1
                    os.truncate(self.path, keep)
                    break
                raise SweepError(f"{self.path}:{number}: unreadable row ({exc})") from None
        return rows

    def append(self, row: Mapping[str, Any]) -> list[str]:
        fields = [_cell(row[c]) for c in self.columns]
        line = io.StringIO()
        csv.writer(line, lineterminator="\n").writerow(fields)
        append_durably(self.path, line.getvalue().encode("utf-8"))
        return fields

    def canonicalise(self, rows: Mapping[int, Sequence[str]]) -> None:
        """Rewrite the file atomically with the rows in point order."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        for key in sorted(rows):
            writer.writerow(rows[key])
        atomic_write_bytes(self.path, out.getvalue().encode("utf-8"))


def parse_rows(columns: Sequence[str], rows: Mapping[int, Sequence[str]]) -> list[dict[str, float]]:
    """Rows as ``{column: float}`` in point order (empty cells are NaN)."""
    return [
        {c: _parse_cell(v) for c, v in zip(columns, rows[k], strict=True)} for k in sorted(rows)
    ]


def read_sweep(run_dir: Path | str) -> tuple[dict[str, Any], list[dict[str, float]]]:
    """A sweep folder's ``sweep.json`` and its rows, in point order."""
    run_dir = Path(run_dir)
    spec: dict[str, Any] = json.loads((run_dir / SWEEP_SPEC).read_text("utf-8"))
    log = RowLog(run_dir / spec["csv"], spec["columns"])
    with open(log.path, encoding="utf-8", newline="") as f:
        lines = f.read().splitlines()
    complete = {int(r[0]): r for r in csv.reader(lines[1:]) if len(r) == len(log.columns)}
    return spec, parse_rows(log.columns, complete)


# ----------------------------------------------------------------------------- the folder


def resolved_text(scenario: Scenario) -> str:
    return dumps(json.loads(scenario.model_dump_json())) + "\n"


@dataclass
class DesignOutcome:
    """What running a design leaves: where, how it ended, and its rows."""

    run_dir: Path
    status: str  # complete | interrupted | failed
    seed: int
    spec: dict[str, Any]
    rows: list[dict[str, float]]  # parsed, point order
    points: int  # requested
    skipped: int  # finished by an earlier run (resume)
    error: str | None = None
    charts: list[Path] = field(default_factory=list)

    @property
    def finished(self) -> int:
        return len(self.rows)


Progress = Callable[[int, int], None]  # (points done, points in all)


class DesignOptions(TypedDict, total=False):
    """How and where :func:`run_design` runs a design; :func:`run_sweep` and
    :func:`run_sensitivity` take these keywords and pass them on (absent: its defaults)."""

    resume: bool
    output: Path | None
    results_root: Path
    workers: int | None
    scheduler: str | None
    executor: Executor | None
    progress: Progress | None
    command_line: Sequence[str] | str | None
    scenario_path: Path | str | None


def _previous_design(run_dir: Path) -> dict[str, Any] | None:
    """The ``sweep.json`` of a design in ``run_dir`` that has at least one row, else None."""
    try:
        old: dict[str, Any] = json.loads((run_dir / SWEEP_SPEC).read_text("utf-8"))
        with open(run_dir / old["csv"], "rb") as f:
            has_rows = f.read().count(b"\n") > 1
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return old if has_rows else None


def _spec_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    keys = sorted(set(old) | set(new))
    return [k for k in keys if json_safe(old.get(k)) != json_safe(new.get(k))]


def run_design(
    source: ScenarioSource,
    params: Sequence[Param],
    points: Sequence[Point],
    spec: dict[str, Any],
    *,
    base: Scenario,
    seed: int,
    metrics: Sequence[str] = SWEEP_METRICS,
    csv_name: str = SWEEP_CSV,
    kind: str = "sweep",
    resume: bool = False,
    output: Path | None = None,
    results_root: Path = Path("results"),
    workers: int | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    command_line: Sequence[str] | str | None = None,
    scenario_path: Path | str | None = None,
) -> DesignOutcome:
    """Run every point of a design (or the ones missing, with ``resume``), streaming rows.

    The folder gets ``manifest.json`` (status running, then complete | interrupted |
    failed), ``scenario.resolved.json`` (the base of the design), ``sweep.json`` (what
    the design is, to check a resume against) and the CSV of rows.

    Ctrl-C (KeyboardInterrupt) and failures are caught: the rows finished so far are
    kept, the manifest says ``interrupted`` or ``failed`` and the outcome is returned; the
    caller decides the exit code.
    """
    if resume and output is None:
        raise SweepError("--resume needs --output DIR, the folder of the sweep to continue")
    held = claim_run_dir(base, output, root=results_root, kind=kind)  # locked: one run
    run_dir = held.path
    metrics = tuple(metrics)
    columns = row_columns(params, metrics)
    spec = {
        **spec,
        "kind": kind,
        "csv": csv_name,
        "columns": columns,
        "points": len(points),
        "seed": seed,
        "replications": base.scenario.replications,
        "horizon_days": base.scenario.horizon_days,
        "variant": source.variant,
        "params": [p.as_dict() for p in params],
        "resolved_sha256": hashlib.sha256(resolved_text(base).encode()).hexdigest(),
    }
    spec = json_safe(spec)
    log = RowLog(run_dir / csv_name, columns)
    rows: dict[int, list[str]] = {}
    manifest_path = run_dir / MANIFEST
    started = datetime.now(UTC)
    previous: dict[str, Any] = {}
    old = _previous_design(run_dir)
    if old is not None and not resume:
        raise SweepError(
            f"{run_dir} already holds a {old.get('kind', 'sweep')} with results; pass "
            "--resume to continue it, or choose another --output"
        )
    if old is not None:
        differ = _spec_differences(old, spec)
        if differ:
            raise SweepError(
                f"{run_dir} holds a different {old.get('kind', 'sweep')}: "
                + ", ".join(differ)
                + " differ. Resume with the same scenario, --param, --sample, --n, --reps, "
                "--days, --seed and --set, or choose another --output"
            )
        rows = log.read()
        planned = {p.index: p for p in points}
        for key, fields in rows.items():
            point = planned.get(key)
            expect = [_cell(v) for v in point.values] if point else None
            if expect is None or fields[1 : 1 + len(params)] != expect:
                raise SweepError(f"{log.path}: row of point {key} does not match this design")
        with contextlib.suppress(OSError, ValueError):
            previous = json.loads(manifest_path.read_text("utf-8"))
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(run_dir / RESOLVED, resolved_text(base))
    atomic_write_text(run_dir / SWEEP_SPEC, dumps(spec) + "\n")
    if not rows:
        log.create()
    skipped = len(rows)
    manifest: dict[str, Any] = {
        "schema_version": 1,
        "kind": kind,
        "status": "running",
        "scenario": base.scenario.name,
        "versions": environment(),
        "seed": seed,
        **scenario_file_record(scenario_path),
        "overrides": list(source.overrides),
        "command_line": command_line_record(command_line),
        "variant": source.variant,
        "points_requested": len(points),
        "points_finished": skipped,
        "replications_per_point": base.scenario.replications,
        "horizon_days": base.scenario.horizon_days,
        "started_at": previous.get("started_at") or utc_iso(started),
        "resumed_at": [*previous.get("resumed_at", []), utc_iso(started)] if resume else [],
        "ended_at": None,
        "elapsed_seconds": None,
    }
    if kind == "sensitivity":
        manifest["versions"]["SALib"] = _salib_version()
    atomic_write_text(manifest_path, dumps(manifest) + "\n")

    def build(point: Point) -> Scenario:
        return source.load(point_overrides(params, point))

    todo = [p for p in points if p.index not in rows]
    by_index = {p.index: p for p in todo}
    waiting: dict[int, list[ChunkResult]] = {}
    total = len(points)
    status, error = "complete", None
    own_executor = executor is None
    if progress is not None:
        progress(len(rows), total)
    try:
        # Inside the try: an unreachable Dask scheduler marks the folder failed, too.
        executor = executor or make_executor(workers, scheduler)
        plan = chunk_plan(todo, base.scenario.replications, parallelism(executor))
        chunks = _Chunks(plan, build, source.variant, seed, metrics)
        needed = Counter(point.index for point, _ in plan)
        for _key, part in executor.map_unordered(run_chunk, chunks):
            parts = waiting.setdefault(part.point, [])
            parts.append(part)
            if len(parts) < needed[part.point]:
                continue
            del waiting[part.point]
            parts.sort(key=lambda c: c.replications[0])  # by replication, not completion
            values = {m: np.concatenate([c.values[m] for c in parts]) for m in metrics}
            ruined = np.concatenate([c.ruined for c in parts])
            row = point_row(params, by_index[part.point], values, ruined, metrics)
            rows[part.point] = log.append(row)
            if progress is not None:
                progress(len(rows), total)
    except KeyboardInterrupt:
        status = "interrupted"
    except Exception as exc:  # a worker crash or a failing point: keep what finished
        status, error = "failed", f"{type(exc).__name__}: {exc}"
    finally:
        if own_executor and isinstance(executor, DaskExecutor):
            executor.close()
    if status == "complete" and len(rows) < len(points):
        status = "interrupted"  # an executor that stopped early without saying why
    # The file on disk is the truth: re-read it (a row half-written at the interrupt is
    # dropped), then put the rows in point order.
    rows = log.read()
    log.canonicalise(rows)
    ended = datetime.now(UTC)
    manifest.update(
        status=status,
        points_finished=len(rows),
        ended_at=utc_iso(ended),
        elapsed_seconds=round((ended - started).total_seconds(), 3),
    )
    if error is not None:
        manifest["error"] = error
    atomic_write_text(manifest_path, dumps(manifest) + "\n")
    held.release()
    return DesignOutcome(
        run_dir, status, seed, spec, parse_rows(columns, rows), len(points), skipped, error
    )


def _salib_version() -> str | None:
    from importlib import metadata

    try:
        return metadata.version("SALib")
    except metadata.PackageNotFoundError:
        return None


def finish_manifest(run_dir: Path, **updates: Any) -> None:
    """Add keys to a finished experiment's manifest (charts written, analysis results)."""
    path = Path(run_dir) / MANIFEST
    manifest = json.loads(path.read_text("utf-8"))
    manifest.update(updates)
    atomic_write_text(path, dumps(manifest) + "\n")


# ----------------------------------------------------------------------------- sweeps


SAMPLES = ("grid", "lhs")


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


def run_sweep(
    source: ScenarioSource,
    params: Sequence[Param],
    *,
    sample: str = "grid",
    n: int | None = None,
    charts: bool = True,
    **options: Unpack[DesignOptions],
) -> DesignOutcome:
    """A parameter sweep end to end: plan, run (streaming ``sweep.csv``), chart.

    ``options`` (``resume``, ``output``, ``workers``, ...: :class:`DesignOptions`) go to
    :func:`run_design`. A scenario without a seed gets a fresh one, recorded; resuming such
    a sweep reuses the recorded seed.
    """
    seed = _resume_seed(options.get("output"), options.get("resume", False))
    base, params, points, root_seed = plan_sweep(source, params, sample, n, seed)
    spec = {"sample": sample, "n": n}
    outcome = run_design(source, params, points, spec, base=base, seed=root_seed, **options)
    if charts and outcome.rows:
        from loyaltysim.plotting_experiments import write_sweep_chart

        outcome.charts = write_sweep_chart(outcome.run_dir, params, outcome.rows, base)
    return outcome


def _resume_seed(output: Path | None, resume: bool) -> int | None:
    """The seed recorded by the sweep being resumed (for scenarios without one)."""
    if not resume or output is None:
        return None
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return int(json.loads((Path(output) / SWEEP_SPEC).read_text("utf-8"))["seed"])
    return None


def best_rows(
    rows: Sequence[Mapping[str, float]], metric: str = "profit", count: int = 10
) -> list[Mapping[str, float]]:
    """The ``count`` rows with the highest mean of ``metric`` (NaN last), ties by point."""
    col = output_column(metric)

    def key(r: Mapping[str, float]) -> tuple[bool, float, float]:
        v = r[col]
        return (math.isnan(v), -v if not math.isnan(v) else 0.0, r["point"])

    return sorted(rows, key=key)[:count]


# ----------------------------------------------------------------------------- sensitivity


def run_sensitivity(
    source: ScenarioSource,
    params: Sequence[Param],
    *,
    method: str = "sobol",
    n: int = 64,
    levels: int = 4,
    outputs: Sequence[str] = ("profit", "churned"),
    conf_level: float = 0.95,
    resamples: int = 1000,
    seed: int | None = None,
    charts: bool = True,
    **options: Unpack[DesignOptions],
) -> tuple[DesignOutcome, dict[str, Any] | None]:
    """Sobol or Morris indices of ``outputs`` over ``params``' ranges.

    The design (SALib's sampler, seeded from the root seed) is run as a sweep, streamed to
    ``samples.csv`` (resumable); when every sample is in, the SALib estimator gives the
    indices with bootstrap intervals, written to ``sensitivity.json`` and
    ``indices.csv``, with a chart. Returns the run's outcome and the analysis (``None``
    when the run did not complete). ``options`` go to :func:`run_design`, as for
    :func:`run_sweep`.
    """
    from loyaltysim.analysis import sensitivity as sa

    sa.check_method(method)
    for m in outputs:
        if m not in OUTPUT_METRICS:
            raise SweepError(
                f"unknown output metric {m!r}; choose from {', '.join(OUTPUT_METRICS)}"
            )
    if not params:
        raise SweepError("give at least one --param KEY=LO:HI")
    if seed is None:
        seed = _resume_seed(options.get("output"), options.get("resume", False))
    base = source.load()
    params = typed_params(params, base)
    for p in params:
        if p.values is not None or p.hi <= p.lo:
            raise SweepError(f"{p.key}: sensitivity needs a range LO:HI with LO < HI")
    root_seed = _root_seed(base, seed)
    problem = sa.problem([(p.key, p.lo, p.hi) for p in params])
    unit_seed = sa.salib_seed(root_seed)
    try:
        design = sa.sample(method, problem, n, unit_seed, levels=levels)
    except ValueError as exc:  # n not a power of 2, odd levels: the user's to fix
        raise SweepError(str(exc)) from None
    # Integer parameters are rounded; the estimator then sees the values actually run.
    columns = [p.scale((design[:, j] - p.lo) / (p.hi - p.lo)) for j, p in enumerate(params)]
    x = np.column_stack(columns) if columns else design
    points = [Point(i, tuple(float(v) for v in x[i])) for i in range(x.shape[0])]
    check_corners(source, params)
    metrics = tuple(dict.fromkeys([*SWEEP_METRICS, *(m for m in outputs if m != RUIN_METRIC)]))
    spec = {"method": method, "n": n, "levels": levels if method == "morris" else None}
    outcome = run_design(
        source,
        params,
        points,
        spec,
        base=base,
        seed=root_seed,
        metrics=metrics,
        csv_name="samples.csv",
        kind="sensitivity",
        **options,
    )
    if outcome.status != "complete":
        return outcome, None
    y_by_output = {
        m: np.array([r[output_column(m)] for r in outcome.rows], dtype=np.float64) for m in outputs
    }
    analysis = sa.analyze_outputs(
        method,
        problem,
        x,
        y_by_output,
        conf_level=conf_level,
        resamples=resamples,
        seed=unit_seed,
        levels=levels,
    )
    analysis.update(
        scenario=base.scenario.name,
        seed=root_seed,
        replications=base.scenario.replications,
        horizon_days=base.scenario.horizon_days,
        evaluations=len(points),
        units={m: METRICS[m].unit if m in METRICS else "share" for m in outputs},
    )
    analysis = json_safe(analysis)
    atomic_write_text(outcome.run_dir / "sensitivity.json", dumps(analysis) + "\n")
    atomic_write_text(outcome.run_dir / "indices.csv", sa.indices_csv(analysis))
    if charts:
        from loyaltysim.plotting_experiments import write_sensitivity_chart

        outcome.charts = write_sensitivity_chart(outcome.run_dir, analysis)
    finish_manifest(
        outcome.run_dir,
        ranking={m: [r["param"] for r in analysis["outputs"][m]["ranking"]] for m in outputs},
    )
    return outcome, analysis
