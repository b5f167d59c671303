"""A results folder read for a report: the manifest, the scenario, the summary and the tables.

The report reads only the folder it is given. Every file is resolved first and refused
when it leaves the folder (a symlink to elsewhere, ``..`` tricks) or is not a regular
file, so a hostile folder cannot pull another file of the machine into a client report.
What is wrong with the tables (missing, unreadable, or not matching the summary) is
collected in :attr:`RunData.alerts`, which the report shows at the top; the charts are then
left out rather than drawn from tables that contradict the folder's own status.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from loyaltysim.model.result import CAUSES, DAILY_SERIES, RunResult, Warning_
from loyaltysim.output.folder import (
    DEFECTIONS,
    JOURNAL,
    MANIFEST,
    REPLICATIONS,
    RESOLVED,
    SUMMARY,
    TIMESERIES,
    WARNINGS,
    read_defections,
    read_manifest,
    read_replications,
    read_resolved,
    read_summary,
    read_timeseries,
    read_warnings,
    table_file,
)

__all__ = [
    "EXIT_RUNTIME_FAILURE",
    "EXIT_USAGE",
    "ReportError",
    "RunData",
    "inside",
    "load_run",
    "load_runs",
]

EXIT_USAGE = 2  # the folder is not a results folder at all (or not a run's)
EXIT_RUNTIME_FAILURE = 4  # it is one, but broken
TABLES = (TIMESERIES, DEFECTIONS, REPLICATIONS, WARNINGS)
# Folders `report` reports: a run's (no kind) and a comparison's. Sweeps and sensitivity
# analyses have a design's rows, not replications of plans, so they are refused by name.
REPORTABLE_KINDS = (None, "run", "compare")


class ReportError(Exception):
    """The report cannot be made; ``exit_code`` is 2 (not a results folder) or 4 (broken)."""

    def __init__(self, message: str, exit_code: int = EXIT_RUNTIME_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# --------------------------------------------------------------------------- loading


@dataclass
class RunData:
    """Everything the report shows, read from one results folder.

    Attributes
    ----------
    run_dir : Path
        The folder.
    manifest : dict
        ``manifest.json``.
    resolved : dict
        ``scenario.resolved.json`` (plain JSON data).
    summary : dict or None
        ``summary.json``; None when the run left none (failed, or killed while running).
    scenario : Scenario or None
        The resolved scenario validated again; None if this version cannot read it.
    runs : dict
        ``{variant: [RunResult, ...]}`` rebuilt from the CSV tables (complete replications
        only), variants in the run's order; empty when the tables are missing or unreadable.
    notes : list of str
        What could not be read, said in the report rather than failing it.
    alerts : list of str
        What is wrong with the folder's tables or charts, said prominently at the top of
        the report; when there is any, the report embeds no chart.
    root : Path or None
        ``run_dir`` resolved (the folder every file must lie in).
    """

    run_dir: Path
    manifest: dict[str, Any]
    resolved: dict[str, Any]
    summary: dict[str, Any] | None
    scenario: Any
    runs: dict[str, list[RunResult]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    root: Path | None = None
    sample_warnings: list[str] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        """The folder resolved: every file the report reads lies inside it."""
        return self.root if self.root is not None else self.run_dir.resolve()

    @property
    def status(self) -> str:
        """The run's status: running, complete, interrupted or failed."""
        return str(self.manifest.get("status", "unknown"))

    @property
    def currency(self) -> str | None:
        """``scenario.currency`` of the run (None: amounts are shown without a unit)."""
        value = (self.resolved.get("scenario") or {}).get("currency")
        return value if isinstance(value, str) and value else None

    @property
    def title(self) -> str:
        """The scenario's name."""
        name = self.manifest.get("scenario") or self.resolved.get("scenario", {}).get("name")
        return str(name or "loyaltysim run")


MAX_JSON_BYTES = 50 * 1024 * 1024


def read_sample_warnings(root: Path) -> list[str]:
    """The ``"sample_warnings"`` sentences of every JSON file at the top of the folder
    (``summary.json``, ``check.json``, ``frontier.json``, ...), each once, in file order.

    Only regular files inside the folder are read; one that cannot be read is skipped
    (the report's other checks name broken files).
    """
    out: list[str] = []
    for path in sorted(root.glob("*.json")):
        try:
            real = inside(root, path.name)
            if not real.is_file() or real.stat().st_size > MAX_JSON_BYTES:
                continue
            data = json.loads(real.read_text("utf-8"))
        except (ReportError, OSError, ValueError, UnicodeDecodeError):
            continue
        found = data.get("sample_warnings") if isinstance(data, dict) else None
        if isinstance(found, list):
            out += [str(w) for w in found if isinstance(w, str) and str(w) not in out]
    return out


def inside(root: Path, relative: str | Path) -> Path:
    """``root / relative`` resolved, or ReportError when it leaves ``root`` (``root`` resolved).

    Symlinks are followed first, so a link to a file elsewhere on the machine is refused
    exactly like ``../../etc/passwd``; a link that stays inside the folder is fine.
    """
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        raise ReportError(
            f"{root / relative} points outside the results folder; the report reads only "
            "the folder's own files"
        )
    return path


def _read_json(run_dir: Path, name: str, reader: Callable[[Path], dict[str, Any]]) -> Any:
    path = inside(run_dir, name)
    if path.exists() and not path.is_file():
        raise ReportError(f"{run_dir / name} is not a regular file")
    try:
        return reader(run_dir)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ReportError(f"{run_dir / name} cannot be read: {exc}") from None


def _not_a_run(run_dir: Path, manifest: Mapping[str, Any]) -> str:
    kind = str(manifest.get("kind"))
    what = {"sweep": "a parameter sweep", "sensitivity": "a sensitivity analysis"}.get(
        kind, f"a {kind} folder"
    )
    points = manifest.get("points_finished")
    rows = f" ({points} points)" if isinstance(points, int) else ""
    return (
        f"{run_dir} holds {what}{rows}, not a run: its rows are in the CSV file and its "
        "chart in charts/. `loyaltysim report` reports the folder of `loyaltysim run` or "
        "`loyaltysim compare`; run a point of interest with `loyaltysim run` to report it"
    )


def load_run(run_dir: Path | str, tables: bool = True) -> RunData:
    """Read a results folder for a report.

    Parameters
    ----------
    run_dir : path
        The folder ``loyaltysim run`` (or ``loyaltysim compare``) wrote.
    tables : bool
        Also rebuild the replications from the CSV tables (needed for the charts).

    Raises
    ------
    ReportError
        Exit code 2 when ``run_dir`` is not a results folder (no such directory, no
        ``manifest.json``) or is another kind of folder (a sweep's); 4 when it is one but
        broken (unreadable manifest, scenario or summary, one of them pointing outside the
        folder, or a complete run without a summary).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir} is not a directory", EXIT_USAGE)
    root = run_dir.resolve()
    manifest = _read_json(root, MANIFEST, read_manifest)
    if manifest is None:
        raise ReportError(
            f"{run_dir} is not a results folder (no {MANIFEST}); pass the folder that "
            "`loyaltysim run` printed, e.g. results/<scenario>/<time>/",
            EXIT_USAGE,
        )
    if not isinstance(manifest, dict):
        raise ReportError(f"{run_dir / MANIFEST} is not a JSON object")
    if manifest.get("kind") not in REPORTABLE_KINDS:
        raise ReportError(_not_a_run(run_dir, manifest), EXIT_USAGE)
    resolved = _read_json(root, RESOLVED, read_resolved)
    if not isinstance(resolved, dict):
        raise ReportError(f"{run_dir / RESOLVED} is missing or not a JSON object")
    summary = _read_json(root, SUMMARY, read_summary)
    if summary is not None and not (
        isinstance(summary, dict) and isinstance(summary.get("variants"), list)
    ):
        raise ReportError(f"{run_dir / SUMMARY} is not a run summary")
    if summary is None and manifest.get("status") == "complete":
        raise ReportError(f"{run_dir} says the run is complete but has no {SUMMARY}")
    data = RunData(run_dir, manifest, resolved, summary, None, root=root)
    data.sample_warnings = read_sample_warnings(root)
    try:
        from loyaltysim.scenario.schema import Scenario

        data.scenario = Scenario.model_validate_json(json.dumps(resolved))
    except Exception as exc:  # pydantic's ValidationError, or anything odd in the file
        data.notes.append(f"the resolved scenario could not be validated again ({exc})")
    if tables:
        data.alerts += _table_problems(data)
        if not data.alerts:
            try:
                data.runs = load_runs(root, _variant_order(data), data.resolved)
            except (OSError, ValueError, KeyError, IndexError) as exc:
                data.alerts.append(
                    f"The result tables could not be read ({exc}). The figures below come "
                    f"from {SUMMARY} alone; no chart is shown."
                )
            else:
                data.alerts += _mismatch(data)
        if data.alerts:
            data.runs = {}
    return data


def _expected_replications(data: RunData) -> dict[str, int]:
    """``{variant: replications}`` the folder says it holds: the summary's, else the
    manifest's count of finished replications."""
    if data.summary:
        out = {}
        for v in data.summary["variants"]:
            n = v.get("replications", data.summary.get("replications"))
            if isinstance(n, int) and not isinstance(n, bool):
                out[str(v.get("name"))] = n
        return out
    finished = data.manifest.get("replications_finished")
    if isinstance(finished, dict):
        return {str(k): v for k, v in finished.items() if isinstance(v, int) and v > 0}
    return {}


def _table_problems(data: RunData) -> list[str]:
    """Tables that point outside the folder, are not files, or are missing when the folder
    says it holds replications."""
    problems = []
    expected = any(_expected_replications(data).values())
    for csv_name in (*TABLES, JOURNAL):
        # A table is its CSV or its Parquet file (``run --format parquet``).
        name = table_file(data.folder, csv_name).name if csv_name != JOURNAL else csv_name
        try:
            path = inside(data.folder, name)
        except ReportError:
            problems.append(
                f"{name} points outside the results folder and was not read: no chart is shown."
            )
            continue
        if path.exists() and not path.is_file():
            problems.append(f"{name} is not a regular file: no chart is shown.")
        elif not path.exists() and expected and name != JOURNAL:
            problems.append(
                f"The table {name} is missing although the folder says replications "
                f"finished. The figures below come from {SUMMARY} alone; no chart is shown."
            )
    return problems


def _mismatch(data: RunData) -> list[str]:
    """A sentence when the tables do not hold the replications the folder says it has."""
    expected = _expected_replications(data)
    found = {name: len(rs) for name, rs in data.runs.items()}
    if not expected or found == {k: v for k, v in expected.items() if v}:
        return []

    def counts(c: Mapping[str, int]) -> str:
        return ", ".join(f"{k}: {v}" for k, v in c.items()) or "none"

    source = SUMMARY if data.summary else MANIFEST
    return [
        f"The result tables do not match {source}: they hold replications "
        f"({counts(found)}) where {source} says ({counts(expected)}). The figures below come "
        f"from {source}; no chart is shown."
    ]


def _variant_order(data: RunData) -> list[str]:
    names = data.manifest.get("variants")
    if isinstance(names, list) and names:
        return [str(n) for n in names]
    if data.summary:
        return [str(v["name"]) for v in data.summary["variants"]]
    return ["base", *(str(v.get("name")) for v in data.resolved.get("variants", []))]


def load_runs(
    run_dir: Path | str, variants: Sequence[str], resolved: Mapping[str, Any]
) -> dict[str, list[RunResult]]:
    """Rebuild every complete replication from the folder's CSV tables.

    Returns
    -------
    dict
        ``{variant: [RunResult, ...]}`` for the variants that have replications, in the
        order of ``variants`` (others found in the tables follow), replications ascending.
    """
    run_dir = Path(run_dir)
    if not table_file(run_dir, TIMESERIES).exists():
        return {}
    ts = read_timeseries(run_dir)
    if not ts or len(ts.get("day", ())) == 0:
        return {}
    order = list(variants) + sorted(set(np.unique(ts["variant"]).tolist()) - set(variants))
    rank = {name: i for i, name in enumerate(order)}
    variant_rank = np.array([rank[v] for v in ts["variant"].tolist()], dtype=np.int64)
    idx = np.lexsort((ts["day"], ts["replication"], variant_rank))
    key_v, key_r = variant_rank[idx], ts["replication"][idx]
    cuts = np.flatnonzero((np.diff(key_v) != 0) | (np.diff(key_r) != 0)) + 1
    groups = np.split(idx, cuts)

    extra = _per_replication(run_dir, resolved)
    runs: dict[str, list[RunResult]] = {}
    for rows in groups:
        name = order[int(variant_rank[rows[0]])]
        rep = int(ts["replication"][rows[0]])
        daily = {s: np.asarray(ts[s][rows], dtype=np.float64) for s in DAILY_SERIES if s in ts}
        for s in DAILY_SERIES:
            daily.setdefault(s, np.zeros(len(rows)))
        ruin_day, warnings, defections = extra.get((name, rep), (None, [], None))
        result = RunResult(
            variant=name,
            replication=rep,
            horizon_days=len(rows),
            daily=daily,
            defections=defections if defections is not None else _no_defections(),
            ruin_day=ruin_day,
            warnings=warnings,
        )
        runs.setdefault(name, []).append(result)
    return {name: runs[name] for name in order if name in runs}


def _no_defections() -> dict[str, np.ndarray]:
    return {
        "day": np.zeros(0, np.int64),
        "customer": np.zeros(0, np.int64),
        "segment": np.zeros(0, np.int64),
        "cause": np.zeros(0, np.int64),
        "satisfaction": np.zeros(0),
        "attachment": np.zeros(0),
        "tenure_days": np.zeros(0),
    }


_Extra = tuple[int | None, list[Warning_], dict[str, np.ndarray] | None]


def _per_replication(run_dir: Path, resolved: Mapping[str, Any]) -> dict[tuple[str, int], _Extra]:
    """Ruin day, warnings and defections of each ``(variant, replication)``."""
    out: dict[tuple[str, int], _Extra] = {}

    def slot(key: tuple[str, int]) -> _Extra:
        return out.get(key, (None, [], None))

    if table_file(run_dir, REPLICATIONS).exists():
        reps = read_replications(run_dir)
        for v, r, day in zip(
            reps.get("variant", []), reps.get("replication", []), reps.get("ruin_day", []),
            strict=True,
        ):  # fmt: skip
            key = (str(v), int(r))
            ruin = None if not np.isfinite(day) else int(day)
            out[key] = (ruin, slot(key)[1], slot(key)[2])
    if table_file(run_dir, WARNINGS).exists():
        warns = read_warnings(run_dir)
        for v, r, day, ind, msg in zip(
            warns.get("variant", []), warns.get("replication", []), warns.get("day", []),
            warns.get("indicator", []), warns.get("message", []), strict=True,
        ):  # fmt: skip
            key = (str(v), int(r))
            ruin, ws, defs = slot(key)
            out[key] = (ruin, [*ws, Warning_(int(day), str(ind), str(msg))], defs)
    if table_file(run_dir, DEFECTIONS).exists():
        d = read_defections(run_dir)
        if d and len(d.get("day", ())):
            segments = [
                str(s.get("name")) for s in resolved.get("customers", {}).get("segments", [])
            ]
            seg_code = {name: i for i, name in enumerate(segments)}
            cause_code = {c: i for i, c in enumerate(CAUSES)}
            other = cause_code["other"]
            causes = np.array([cause_code.get(c, other) for c in d["cause"].tolist()], np.int64)
            segs = np.array([seg_code.get(s, -1) for s in d["segment"].tolist()], np.int64)
            rank = {name: i for i, name in enumerate(sorted(set(d["variant"].tolist())))}
            vr = np.array([rank[v] for v in d["variant"].tolist()], np.int64)
            idx = np.lexsort((d["day"], d["replication"], vr))
            cuts = np.flatnonzero((np.diff(vr[idx]) != 0) | (np.diff(d["replication"][idx]) != 0))
            for rows in np.split(idx, cuts + 1):
                key = (str(d["variant"][rows[0]]), int(d["replication"][rows[0]]))
                ruin, ws, _ = slot(key)
                out[key] = (
                    ruin,
                    ws,
                    {
                        "day": d["day"][rows],
                        "customer": d["customer"][rows],
                        "segment": segs[rows],
                        "cause": causes[rows],
                        "satisfaction": d["satisfaction"][rows],
                        "attachment": d["attachment"][rows],
                        "tenure_days": d["tenure_days"][rows],
                    },
                )
    return out
