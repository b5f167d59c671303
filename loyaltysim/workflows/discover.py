"""The discover job: where in a sweep's parameter space does ruin (or any outcome) concentrate?

Reads a sweep folder (``sweep.json`` and ``sweep.csv``, as ``loyaltysim sweep`` writes
them), turns an outcome into cases of interest, runs PRIM
(:func:`loyaltysim.analysis.discovery.discover`) and writes, into ``<sweep>/discovery/``
(or the folder given):

- ``boxes.csv``: one row per box: its coverage, density, mass, points, cases, the
  restricted parameters and the box in words;
- ``limits.csv``: one row per box and parameter: the limits, whether each is restricted,
  and its quasi-p value;
- ``trajectory.csv``: every box on every peeling trajectory, the chosen one marked;
- ``discovery.json``: all of the above with the settings, the source's hash and versions;
- ``trajectory.png`` / ``.svg``: coverage against density along each trajectory, coloured
  by the number of restricted parameters.

Every file is written atomically (temporary file and rename) inside that folder, and
nowhere else.

Cases of interest:

- ``--outcome ruined`` (the default): every *run* is a case, ruined or not. A sweep point
  with ``R`` replications of which ``k`` were ruined counts as ``R`` runs at its parameter
  values, ``k`` of them ruined; density is then the share of runs ruined in the box, and
  coverage the share of all ruins that happened in it.
- any other column with ``--threshold X``: a sweep *point* is a case when its value is
  above ``X`` (or below, with ``below=True``). ``ruin_probability`` (and its interval
  bounds) default to the scenario's ``guard.max_ruin_probability``.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from loyaltysim.analysis.discovery import (
    Discovery,
    DiscoveryError,
    PrimOptions,
    discover,
    min_points,
)
from loyaltysim.analysis.discovery_words import describe_box, describe_limits, format_number
from loyaltysim.analysis.summary import dumps, json_safe

__all__ = [
    "DISCOVERY_DIR",
    "MIN_SWEEP_POINTS",
    "RUN_OUTCOME",
    "CaseDefinition",
    "DiscoverInputError",
    "DiscoverOutcome",
    "DiscoverUsageError",
    "SweepData",
    "define_cases",
    "load_sweep_folder",
    "run_discovery",
]

DISCOVERY_DIR = "discovery"
RUN_OUTCOME = "ruined"  # the sweep column counting ruined replications of a point
RUIN_SHARES = ("ruin_probability", "ruin_ci_lo", "ruin_ci_hi")
NOT_OUTCOMES = ("point", "replications")
MIN_SWEEP_POINTS = 10  # distinct settings; fewer cannot outline a region
DEFAULT_MAX_RUIN = 0.05  # the scenario schema's default guard.max_ruin_probability
SCHEMA_VERSION = 1


class DiscoverInputError(ValueError):
    """The folder cannot be discovered in: not a sweep folder, unreadable, too few points
    (invalid input, exit 3)."""


class DiscoverUsageError(ValueError):
    """The options do not fit the folder: an unknown outcome column, a missing threshold
    (usage error, exit 2)."""


@dataclass(frozen=True)
class SweepData:
    """A sweep folder's design and rows."""

    path: Path
    spec: dict[str, Any]
    keys: tuple[str, ...]
    rows: list[dict[str, float]]
    columns: tuple[str, ...]
    resolved: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def scenario_name(self) -> str:
        return str(self.resolved.get("scenario", {}).get("name", ""))

    def incomplete(self) -> str | None:
        """A sentence when the sweep did not finish (its manifest says so), else None."""
        status = self.manifest.get("status")
        if status in (None, "complete"):
            return None
        requested = self.manifest.get("points_requested", self.spec.get("points"))
        return (
            f"the sweep is {status}: {len(self.rows)} of {requested} points finished; the "
            "boxes describe those (finish it with loyaltysim sweep --resume --output "
            f"{self.path})"
        )


@dataclass(frozen=True)
class CaseDefinition:
    """What counts as a case of interest, and how to say it."""

    outcome: str
    threshold: float | None  # None: every run, ruined or not
    below: bool = False
    threshold_source: str = "given"

    @property
    def per_run(self) -> bool:
        return self.threshold is None

    @property
    def event(self) -> str:
        """What happens in a case: "ruin", "profit_mean below 0"."""
        if self.per_run:
            return "ruin"
        assert self.threshold is not None
        side = "below" if self.below else "above"
        return f"{self.outcome} {side} {format_number(self.threshold)}"

    @property
    def unit(self) -> str:
        return "runs" if self.per_run else "sweep points"

    @property
    def cases(self) -> str:
        return "ruins" if self.per_run else "such points"

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "threshold": self.threshold,
            "direction": None if self.per_run else ("below" if self.below else "above"),
            "threshold_source": None if self.per_run else self.threshold_source,
            "unit": "run" if self.per_run else "point",
            "event": self.event,
        }


@dataclass
class DiscoverOutcome:
    """What a discovery leaves: the result (None when no box can be found), its JSON,
    the files written and, when there is nothing to find, why."""

    sweep: SweepData
    output_dir: Path
    case: CaseDefinition
    discovery: Discovery | None
    data: dict[str, Any]
    files: list[Path] = field(default_factory=list)
    nothing_to_find: str | None = None

    def sentences(self) -> list[str]:
        """The boxes in words, one sentence each."""
        if self.discovery is None:
            return []
        return [
            describe_box(self.discovery, b, self.case.event, self.case.unit, self.case.cases)
            for b in self.discovery.boxes
        ]


# ----------------------------------------------------------------------------- reading


def load_sweep_folder(path: Path | str) -> SweepData:
    """Read a sweep (or sensitivity) folder's ``sweep.json`` and rows.

    Raises
    ------
    DiscoverInputError
        With a sentence saying what is missing or unreadable.
    """
    from loyaltysim.output.sweep_journal import SWEEP_SPEC, read_sweep

    path = Path(path)
    if not path.is_dir():
        raise DiscoverInputError(f"{path} is not a folder; give the folder `sweep` wrote")
    spec_path = path / SWEEP_SPEC
    if not spec_path.is_file():
        raise DiscoverInputError(
            f"{path} is not a sweep folder: it has no {SWEEP_SPEC} (run `loyaltysim sweep "
            "... --output DIR` first, or give a scenario with --param and --n)"
        )
    try:
        spec, rows = read_sweep(path)
        keys = tuple(str(p["key"]) for p in spec["params"])
        columns = tuple(str(c) for c in spec["columns"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DiscoverInputError(
            f"{path}: cannot read the sweep ({type(exc).__name__}: {exc})"
        ) from None
    resolved: dict[str, Any] = {}
    try:
        resolved = json.loads((path / "scenario.resolved.json").read_text("utf-8"))
    except (OSError, ValueError):
        resolved = {}
    manifest: dict[str, Any] = {}
    try:
        manifest = json.loads((path / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        manifest = {}
    return SweepData(path, spec, keys, rows, columns, resolved, manifest)


def define_cases(
    sweep: SweepData,
    outcome: str = RUN_OUTCOME,
    threshold: float | None = None,
    below: bool = False,
) -> tuple[np.ndarray, np.ndarray, CaseDefinition, int]:
    """The points ``x``, the cases ``y`` and their definition; also how many rows were
    left out for a missing outcome value.

    Raises
    ------
    DiscoverUsageError
        For an outcome that is not a column, a parameter, or a column without a default
        threshold.
    """
    outcomes = [c for c in sweep.columns if c not in sweep.keys and c not in NOT_OUTCOMES]
    if outcome not in sweep.columns:
        raise DiscoverUsageError(
            f"no column {outcome!r} in {sweep.path / sweep.spec.get('csv', 'sweep.csv')}; "
            f"outcome columns: {', '.join(outcomes)}"
        )
    if outcome not in outcomes:
        raise DiscoverUsageError(
            f"{outcome!r} is a parameter of the sweep, not an outcome; outcome columns: "
            + ", ".join(outcomes)
        )
    source = "given"
    if below and threshold is None and outcome == RUN_OUTCOME:
        raise DiscoverUsageError(
            "--below needs --threshold: with --outcome ruined alone every run is a case, "
            "ruined or not"
        )
    if threshold is None and outcome != RUN_OUTCOME:
        if outcome in RUIN_SHARES:
            guard = sweep.resolved.get("guard", {}) or {}
            threshold = float(guard.get("max_ruin_probability", DEFAULT_MAX_RUIN))
            source = "guard.max_ruin_probability"
        else:
            raise DiscoverUsageError(
                f"--outcome {outcome} needs --threshold X: the points above X are the cases "
                f"(with --below, those below), e.g. --outcome {outcome} --threshold 0 --below"
            )
    if threshold is not None and not math.isfinite(threshold):
        raise DiscoverUsageError(f"--threshold must be a finite number, got {threshold}")
    case = CaseDefinition(outcome, threshold, below, source)
    rows = sweep.rows
    x_rows = np.array([[r[k] for k in sweep.keys] for r in rows], dtype=np.float64)
    x_rows = x_rows.reshape(len(rows), len(sweep.keys))
    values = np.array([r[outcome] for r in rows], dtype=np.float64)
    keep = np.isfinite(values) & np.isfinite(x_rows).all(axis=1)
    dropped = int((~keep).sum())
    x_rows, values = x_rows[keep], values[keep]
    if case.per_run:
        reps = np.array([r["replications"] for r in rows], dtype=np.float64)[keep]
        reps_i = reps.astype(np.int64)
        ruined = values.astype(np.int64)
        x = np.repeat(x_rows, reps_i, axis=0)
        # within a point, the first k runs are the ruined ones (their order carries nothing)
        offsets = np.concatenate([np.arange(n) for n in reps_i]) if reps_i.size else np.zeros(0)
        y = offsets < np.repeat(ruined, reps_i)
    else:
        assert threshold is not None
        x = x_rows
        y = values < threshold if below else values > threshold
    return x, y.astype(bool), case, dropped


# ----------------------------------------------------------------------------- the job


def run_discovery(
    sweep_dir: Path | str,
    *,
    outcome: str = RUN_OUTCOME,
    threshold: float | None = None,
    below: bool = False,
    options: PrimOptions | None = None,
    max_boxes: int = 3,
    min_density: float | None = None,
    significance: float = 0.05,
    drop_above: float | None = 0.05,
    engine: str = "own",
    output: Path | str | None = None,
    charts: bool = True,
    command_line: Sequence[str] | None = None,
) -> DiscoverOutcome:
    """Discover the boxes of a sweep folder and write them (see the module's docstring).

    ``engine`` is ``own`` (loyaltysim's PRIM) or ``ema`` (EMA Workbench's, the ``[ema]``
    extra). When the outcome never or always happens there is nothing to locate: the
    outcome says so in ``nothing_to_find`` and only ``discovery.json`` is written.

    Raises
    ------
    DiscoverInputError, DiscoverUsageError
        See the classes.
    loyaltysim.analysis.ema_prim.MissingEMA
        ``engine="ema"`` without the extra.
    """
    options = options or PrimOptions()
    sweep = load_sweep_folder(sweep_dir)
    out_dir = Path(output) if output is not None else sweep.path / DISCOVERY_DIR
    if out_dir.exists() and not out_dir.is_dir():
        raise DiscoverUsageError(f"--output {out_dir} is a file, not a folder")
    x, y, case, dropped = define_cases(sweep, outcome, threshold, below)
    search_engine: Callable[..., Any] | None = None
    if engine == "ema":
        from loyaltysim.analysis.ema_prim import ema_engine, require_ema

        require_ema()
        search_engine = ema_engine
    elif engine != "own":
        raise DiscoverUsageError(f"engine must be 'own' or 'ema', got {engine!r}")
    data = _header(sweep, case, options, max_boxes, min_density, significance, engine, y)
    data["options"]["drop_above"] = drop_above
    data["notes"] = [note] if (note := sweep.incomplete()) else []
    data["rows_without_outcome"] = dropped
    if command_line is not None:
        data["command_line"] = list(command_line)
    cases = int(y.sum())
    nothing = None
    if cases == 0:
        nothing = (
            f"{case.event} happens in none of the {y.size} {case.unit}: there is nothing "
            "to locate, so no box can be found"
        )
    elif cases == y.size:
        nothing = (
            f"{case.event} happens in all {y.size} {case.unit}: it is everywhere in the "
            "swept ranges, so no box can be found (widen the ranges)"
        )
    if nothing is None:
        _check_size(sweep, case, x, y, options, outcome)
    if nothing is not None:
        data.update(boxes=[], stop_reason=nothing)
        files = [_write_text(out_dir, "discovery.json", dumps(data) + "\n")]
        return DiscoverOutcome(sweep, out_dir, case, None, data, files, nothing)
    try:
        result = discover(
            x,
            y,
            sweep.keys,
            options,
            max_boxes=max_boxes,
            min_density=min_density,
            significance=significance,
            drop_above=drop_above,
            engine=search_engine,
            unit=case.unit,
        )
    except DiscoveryError as exc:
        raise DiscoverInputError(f"{sweep.path}: {exc}") from None
    outcome_obj = DiscoverOutcome(sweep, out_dir, case, result, data)
    data.update(_result_dict(result, case, outcome_obj.sentences()))
    files = [
        _write_text(out_dir, "boxes.csv", boxes_csv(result, outcome_obj.sentences())),
        _write_text(out_dir, "limits.csv", limits_csv(result)),
        _write_text(out_dir, "trajectory.csv", trajectory_csv(result)),
    ]
    if charts:
        from loyaltysim.output.discovery_charts import write_trajectory_chart

        title = f"Where {case.event} concentrates"
        if sweep.scenario_name:
            title += f": {sweep.scenario_name}"
        files += write_trajectory_chart(out_dir, result, title)
    data["files"] = sorted(p.name for p in [*files, out_dir / "discovery.json"])
    files.append(_write_text(out_dir, "discovery.json", dumps(data) + "\n"))
    outcome_obj.files = files
    return outcome_obj


def _check_size(
    sweep: SweepData,
    case: CaseDefinition,
    x: np.ndarray,
    y: np.ndarray,
    options: PrimOptions,
    outcome: str,
) -> None:
    """Too few points for PRIM: say how many are needed (:class:`DiscoverInputError`)."""
    points = _distinct(x)
    if points < MIN_SWEEP_POINTS:
        raise DiscoverInputError(
            f"{sweep.path} has {points} sweep point(s) with a value of {outcome}; PRIM needs "
            f"at least {MIN_SWEEP_POINTS} to outline a region (run a larger sweep, e.g. "
            f"--sample lhs --n {max(50, 5 * MIN_SWEEP_POINTS)})"
        )
    if y.size < min_points(options):
        raise DiscoverInputError(
            f"{sweep.path} gives {y.size} {case.unit}; PRIM with mass_min "
            f"{options.mass_min:g} needs at least {min_points(options)} (more points or "
            "replications, or a larger --mass-min)"
        )


def _distinct(x: np.ndarray) -> int:
    return int(np.unique(x, axis=0).shape[0]) if x.size else 0


def _write_text(out_dir: Path, name: str, text: str) -> Path:
    from loyaltysim.output.folder import atomic_write_text

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    atomic_write_text(path, text)
    return path


def _header(
    sweep: SweepData,
    case: CaseDefinition,
    options: PrimOptions,
    max_boxes: int,
    min_density: float | None,
    significance: float,
    engine: str,
    y: np.ndarray,
) -> dict[str, Any]:
    from loyaltysim.output.folder import environment, file_sha256, utc_iso

    versions = environment()
    if engine == "ema":
        from loyaltysim.analysis.ema_prim import ema_version

        versions["ema_workbench"] = ema_version()
    csv_path = sweep.path / str(sweep.spec.get("csv", "sweep.csv"))
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "discovery",
        "method": "PRIM (Friedman & Fisher 1999), as in EMA Workbench",
        "engine": engine,
        "created_at": utc_iso(datetime.now(UTC)),
        "versions": versions,
        "source": {
            "folder": str(sweep.path),
            "kind": sweep.spec.get("kind", "sweep"),
            "csv": csv_path.name,
            "csv_sha256": file_sha256(csv_path),
            "scenario": sweep.scenario_name,
            "points": len(sweep.rows),
            "params": list(sweep.keys),
        },
        "cases": {**case.as_dict(), "n": int(y.size), "count": int(y.sum())},
        "options": {
            "peel_alpha": options.peel_alpha,
            "paste_alpha": options.paste_alpha,
            "mass_min": options.mass_min,
            "objective": options.objective,
            "max_boxes": max_boxes,
            "min_density": min_density,
            "significance": significance,
        },
    }


def _limits(d: Discovery, step: Any, qp: Mapping[int, Any] | None = None) -> dict[str, Any]:
    out = {}
    for j, name in enumerate(d.names):
        q = (qp or {}).get(j, (None, None))
        out[name] = {
            "lower": step.lower[j],
            "upper": step.upper[j],
            "restricted_lower": step.lower[j] != d.lower[j],
            "restricted_upper": step.upper[j] != d.upper[j],
            "qp_lower": q[0],
            "qp_upper": q[1],
        }
    return out


def _step_dict(d: Discovery, step: Any, chosen: bool) -> dict[str, Any]:
    return {
        "step": step.index,
        "phase": step.phase,
        "chosen": chosen,
        "coverage": step.coverage,
        "density": step.density,
        "mass": step.mass,
        "n": step.n,
        "k": step.k,
        "res_dim": step.res_dim,
        "restricted": [d.names[j] for j in step.restricted],
        "lower": list(step.lower),
        "upper": list(step.upper),
    }


def _result_dict(d: Discovery, case: CaseDefinition, sentences: Sequence[str]) -> dict[str, Any]:
    boxes = []
    for box, sentence in zip(d.boxes, sentences, strict=True):
        s = box.step
        boxes.append(
            {
                "box": box.number,
                "description": sentence,
                "conditions": describe_limits(d, s),
                "coverage": s.coverage,
                "density": s.density,
                "mass": s.mass,
                "n": s.n,
                "k": s.k,
                "res_dim": s.res_dim,
                "restricted": [d.names[j] for j in s.restricted],
                "step": s.index,
                "picked_step": box.picked,
                "dropped": [d.names[j] for j in box.dropped],
                "rule": box.rule,
                "searched_among": {"n": box.remaining, "k": box.remaining_cases},
                "limits": _limits(d, s, box.quasi_p),
                "trajectory": [_step_dict(d, t, t.index == box.chosen) for t in box.trajectory],
            }
        )
    return json_safe(
        {
            "n": d.n,
            "total_cases": d.cases,
            "base_density": d.base_density,
            "ranges": {n: [lo, hi] for n, lo, hi in zip(d.names, d.lower, d.upper, strict=True)},
            "boxes": boxes,
            "stop_reason": d.stop_reason,
        }
    )


# ----------------------------------------------------------------------------- tables


def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _cell(v) for v in row])
    return out.getvalue()


def _cell(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, float):
        return "" if not math.isfinite(v) else repr(v)
    return v


def boxes_csv(d: Discovery, sentences: Sequence[str]) -> str:
    """One row per box."""
    header = [
        "box", "coverage", "density", "mass", "n", "k", "res_dim", "restricted", "step",
        "picked_step", "dropped", "rule", "description",
    ]  # fmt: skip
    rows = []
    for box, sentence in zip(d.boxes, sentences, strict=True):
        s = box.step
        rows.append(
            [
                box.number,
                s.coverage,
                s.density,
                s.mass,
                s.n,
                s.k,
                s.res_dim,
                ";".join(d.names[j] for j in s.restricted),
                s.index,
                box.picked,
                ";".join(d.names[j] for j in box.dropped),
                box.rule,
                sentence,
            ]
        )
    return _csv(header, rows)


def limits_csv(d: Discovery) -> str:
    """One row per box and parameter: limits, data range, restriction and quasi-p values."""
    header = [
        "box", "param", "lower", "upper", "data_min", "data_max", "restricted_lower",
        "restricted_upper", "qp_lower", "qp_upper",
    ]  # fmt: skip
    rows = []
    for box in d.boxes:
        s = box.step
        for j, name in enumerate(d.names):
            q = box.quasi_p.get(j, (None, None))
            rows.append(
                [
                    box.number,
                    name,
                    s.lower[j],
                    s.upper[j],
                    d.lower[j],
                    d.upper[j],
                    s.lower[j] != d.lower[j],
                    s.upper[j] != d.upper[j],
                    q[0],
                    q[1],
                ]
            )
    return _csv(header, rows)


def trajectory_csv(d: Discovery) -> str:
    """Every step of every box's trajectory, with every parameter's limits."""
    header = [
        "box", "step", "phase", "chosen", "coverage", "density", "mass", "n", "k", "res_dim",
        *(f"{n}_lower" for n in d.names), *(f"{n}_upper" for n in d.names),
    ]  # fmt: skip
    rows = []
    for box in d.boxes:
        for s in box.trajectory:
            rows.append(
                [
                    box.number,
                    s.index,
                    s.phase,
                    s.index == box.chosen,
                    s.coverage,
                    s.density,
                    s.mass,
                    s.n,
                    s.k,
                    s.res_dim,
                    *s.lower,
                    *s.upper,
                ]
            )
    return _csv(header, rows)


# ----------------------------------------------------------------------------- fresh sweeps


def sweep_then_discover(
    source: Any,
    params: Sequence[Any],
    n: int,
    *,
    sweep_charts: bool = True,
    design: Mapping[str, Any] | None = None,
    **discovery: Any,
) -> tuple[Any, DiscoverOutcome | None]:
    """Run a Latin-hypercube sweep of ``n`` points (the sweep job, unchanged: its folder,
    ``sweep.csv``, manifest and chart), then :func:`run_discovery` on its folder.

    ``source`` is a :class:`~loyaltysim.experiment.sweep.ScenarioSource`, ``params`` its
    :class:`~loyaltysim.experiment.sweep.Param` ranges, ``design`` the sweep's
    :class:`~loyaltysim.experiment.sweep.DesignOptions` and ``discovery`` the keywords of
    :func:`run_discovery` (``output`` excepted: the discovery goes into the sweep folder's
    ``discovery/``). Returns the sweep's outcome and the discovery (None when the sweep
    did not complete).
    """
    from loyaltysim.workflows.sweep import run_sweep

    outcome = run_sweep(
        source, params, sample="lhs", n=n, charts=sweep_charts, **dict(design or {})
    )
    if outcome.status != "complete":
        return outcome, None
    return outcome, run_discovery(outcome.run_dir, **discovery)
