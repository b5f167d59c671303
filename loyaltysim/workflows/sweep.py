"""The ``sweep`` and ``sensitivity`` jobs: a design run point by point into a folder.

Composes the pure layers (:mod:`loyaltysim.experiment.design` for the points,
:mod:`loyaltysim.experiment.sweep` for running them in chunks on an executor,
:mod:`loyaltysim.analysis.sensitivity` for the indices) with the folder they fill: the
manifest, ``sweep.json``, the row journal (:mod:`loyaltysim.output.sweep_journal`) and the
charts. See :mod:`loyaltysim.experiment.sweep` for how a long sweep stays cheap and safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict, Unpack

import numpy as np

from loyaltysim.analysis.metrics import METRICS
from loyaltysim.analysis.sample_size import sensitivity_warnings, sweep_warnings
from loyaltysim.analysis.summary import dumps, json_safe
from loyaltysim.experiment.design import (
    OUTPUT_METRICS,
    RUIN_METRIC,
    SWEEP_METRICS,
    Param,
    Point,
    SweepError,
    point_overrides,
    typed_params,
)
from loyaltysim.experiment.executors import DaskExecutor, Executor, make_executor
from loyaltysim.experiment.sweep import (
    ChunkResult,
    ScenarioSource,
    _cell,
    _Chunks,
    _root_seed,
    check_corners,
    chunk_plan,
    output_column,
    parallelism,
    parse_rows,
    plan_sweep,
    point_row,
    row_columns,
    run_chunk,
)
from loyaltysim.output.folder import (
    atomic_write_text,
    command_line_record,
    environment,
    scenario_file_record,
    utc_iso,
)
from loyaltysim.output.lock import claim_run_dir
from loyaltysim.output.sweep_journal import MANIFEST, RESOLVED, SWEEP_CSV, SWEEP_SPEC, RowLog
from loyaltysim.scenario import Scenario


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
    # What this sample cannot support, in sentences (loyaltysim.analysis.sample_size).
    sample_warnings: list[str] = field(default_factory=list)

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


# Keys of sweep.json written after the run (results, not the design): not compared on resume.
_SPEC_RESULTS = ("sample_warnings",)


def _add_to_spec(run_dir: Path, **updates: Any) -> None:
    """Add result keys (:data:`_SPEC_RESULTS`) to a finished design's ``sweep.json``."""
    path = Path(run_dir) / SWEEP_SPEC
    spec = json.loads(path.read_text("utf-8"))
    spec.update(updates)
    atomic_write_text(path, dumps(spec) + "\n")


def _spec_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    keys = sorted((set(old) | set(new)) - set(_SPEC_RESULTS))
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
    outcome.sample_warnings = sweep_warnings(outcome.rows)
    finish_manifest(outcome.run_dir, sample_warnings=outcome.sample_warnings)
    _add_to_spec(outcome.run_dir, sample_warnings=outcome.sample_warnings)
    if charts and outcome.rows:
        from loyaltysim.output.experiment_charts import write_sweep_chart

        outcome.charts = write_sweep_chart(outcome.run_dir, params, outcome.rows, base)
    return outcome


def _resume_seed(output: Path | None, resume: bool) -> int | None:
    """The seed recorded by the sweep being resumed (for scenarios without one)."""
    if not resume or output is None:
        return None
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return int(json.loads((Path(output) / SWEEP_SPEC).read_text("utf-8"))["seed"])
    return None


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
    analysis["sample_warnings"] = sensitivity_warnings(analysis, n)
    outcome.sample_warnings = analysis["sample_warnings"]
    analysis = json_safe(analysis)
    atomic_write_text(outcome.run_dir / "sensitivity.json", dumps(analysis) + "\n")
    atomic_write_text(outcome.run_dir / "indices.csv", sa.indices_csv(analysis))
    if charts:
        from loyaltysim.output.experiment_charts import write_sensitivity_chart

        outcome.charts = write_sensitivity_chart(outcome.run_dir, analysis)
    finish_manifest(
        outcome.run_dir,
        sample_warnings=outcome.sample_warnings,
        ranking={m: [r["param"] for r in analysis["outputs"][m]["ranking"]] for m in outputs},
    )
    return outcome, analysis
