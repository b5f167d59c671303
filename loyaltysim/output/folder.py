"""The results folder: manifest, resolved scenario, summary and tidy CSV tables.

Layout (contract, "Results folder")::

    results/<scenario-slug>/<UTC timestamp>/
        manifest.json            status, versions, seed, scenario hash, overrides, times
        scenario.resolved.json   the validated scenario, every default filled in
        summary.json             see loyaltysim.analysis.summary
        timeseries.csv           one row per variant x replication x day
        defections.csv           one row per defection
        replications.csv         extra: one row per variant x replication (ruin, warnings, metrics)
        warnings.csv             extra: one row per early warning
        charts/                  written by loyaltysim.output.charts
        .blocks.jsonl            journal: which replications the CSV tables hold, and where

Small files (JSON, charts) are replaced atomically: temp file in the same directory, fsync,
``os.replace``. The CSV tables depart from temp-and-rename on purpose: they grow while the
run goes on, one finished replication at a time, by durable appends recorded in a journal
(linear cost; see :class:`RunFolder`), and an interrupt still leaves only complete
replications in them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import re
import sys
import tempfile
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from loyaltysim.analysis.summary import dumps, json_safe
from loyaltysim.model.result import RunResult
from loyaltysim.output.tables import (
    _FORMATTERS,
    CONTRACT_SERIES,
    CUSTOMERS,
    DEFAULT_FORMAT,
    DEFECTION_COLUMNS,
    DEFECTIONS,
    FORMATS,
    JOURNAL,
    REPLICATION_COLUMNS,
    REPLICATIONS,
    TABLES,
    TIMESERIES,
    TIMESERIES_COLUMNS,
    TIMESERIES_SERIES,
    WARNING_COLUMNS,
    WARNINGS,
    _Block,
    _committed_ends,
    _header,
    _journal_line,
    _read_journal,
    csv_field,
    parquet_available,
    parquet_name,
    read_customers,
    read_defections,
    read_replications,
    read_table,
    read_timeseries,
    read_warnings,
    table_bytes_parquet,
    table_file,
)
from loyaltysim.scenario.schema import Scenario

# The folder's API in one import: its own names and the tables' (output/tables.py).
__all__ = [
    "CONTRACT_SERIES",
    "CUSTOMERS",
    "DEFAULT_FORMAT",
    "DEFECTIONS",
    "DEFECTION_COLUMNS",
    "DEPENDENCIES",
    "FORMATS",
    "JOURNAL",
    "MANIFEST",
    "REPLICATIONS",
    "REPLICATION_COLUMNS",
    "RESOLVED",
    "STATUSES",
    "SUMMARY",
    "TIMESERIES",
    "TIMESERIES_COLUMNS",
    "TIMESERIES_SERIES",
    "WARNINGS",
    "WARNING_COLUMNS",
    "RunFolder",
    "append_durably",
    "atomic_write_bytes",
    "atomic_write_text",
    "command_line_record",
    "csv_field",
    "environment",
    "file_sha256",
    "package_version",
    "parquet_available",
    "read_customers",
    "read_defections",
    "read_manifest",
    "read_replications",
    "read_resolved",
    "read_summary",
    "read_table",
    "read_timeseries",
    "read_warnings",
    "run_dir_for",
    "scenario_file_record",
    "slugify",
    "table_file",
    "utc_iso",
    "utc_stamp",
]

MANIFEST = "manifest.json"
RESOLVED = "scenario.resolved.json"
SUMMARY = "summary.json"

STATUSES = ("running", "complete", "interrupted", "failed")
DEPENDENCIES = ("numpy", "scipy", "simpy", "pydantic", "click", "matplotlib")


# --------------------------------------------------------------------------- paths


def slugify(name: str) -> str:
    """ASCII, lowercase, hyphen-separated form of a name ("Corner café" -> "corner-cafe")."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug or "scenario"


def utc_stamp(now: datetime | None = None) -> str:
    """A UTC timestamp for folder names, ``YYYYmmddTHHMMSSZ``; naive times are taken as UTC."""
    now = now or datetime.now(UTC)
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    return now.strftime("%Y%m%dT%H%M%SZ")


def utc_iso(now: datetime | None = None) -> str:
    """A UTC time for manifests, ISO 8601 to the second with a ``Z``: ``2026-03-04T03:06:07Z``."""
    return (
        (now or datetime.now(UTC))
        .astimezone(UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
    )


def run_dir_for(
    scenario: Scenario,
    output: Path | str | None,
    root: Path = Path("results"),
    now: datetime | None = None,
    kind: str | None = None,
) -> Path:
    """Where a run writes: ``output`` if given, else ``root/<slug>/<UTC timestamp>/``
    (``root/<slug>/<kind>-<UTC timestamp>/`` with a ``kind``, as sweeps name theirs).

    Two runs started in the same second get ``...Z-2``, ``...Z-3`` rather than sharing a
    folder. Nothing is created here.
    """
    if output is not None:
        return Path(output)
    base = Path(root) / slugify(scenario.scenario.name)
    stamp = utc_stamp(now) if kind is None else f"{kind}-{utc_stamp(now)}"
    path, k = base / stamp, 1
    while path.exists():
        k += 1
        path = base / f"{stamp}-{k}"
    return path


# --------------------------------------------------------------------------- atomic writes


def _fsync_dir(directory: Path) -> None:
    # Makes a rename durable on POSIX; directories cannot be opened this way on Windows.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: Path | str, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically: readers see the old file or the new one.

    Writes a temp file in the same directory (same file system, so the rename is atomic),
    fsyncs it, then ``os.replace``; the temp file is removed on any failure, Ctrl-C included.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates files readable by the owner only; results are meant to be shared.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_text(path: Path | str, text: str) -> None:
    """:func:`atomic_write_bytes` of UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _write_json(path: Path, obj: Any) -> None:
    atomic_write_text(path, dumps(obj) + "\n")


# --------------------------------------------------------------------------- CSV formatting


# --------------------------------------------------------------------------- versions


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        module = sys.modules.get(dist)
        return getattr(module, "__version__", None) if module else None


def package_version() -> str | None:
    """Installed version of loyaltysim; in an uninstalled checkout, pyproject's version."""
    found = _version("loyaltysim")
    if found:
        return found
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    with contextlib.suppress(OSError, tomllib.TOMLDecodeError, KeyError, TypeError):
        return str(tomllib.loads(pyproject.read_text("utf-8"))["project"]["version"])
    return None


def environment() -> dict[str, Any]:
    """Versions of Python, the package and its dependencies, and the platform."""
    return {
        "loyaltysim": package_version(),
        "python": platform.python_version(),
        **{dist: _version(dist) for dist in DEPENDENCIES},
        "platform": platform.platform(),
    }


def file_sha256(path: Path | str) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def scenario_file_record(scenario_path: Path | str | None) -> dict[str, str | None]:
    """A manifest's ``scenario_file`` and ``scenario_sha256`` (None for scenarios built in
    code, and the hash None for a path that is not a file)."""
    path = Path(scenario_path) if scenario_path is not None else None
    return {
        "scenario_file": str(path) if path is not None else None,
        "scenario_sha256": file_sha256(path) if path is not None and path.is_file() else None,
    }


def command_line_record(command_line: Sequence[str] | str | None) -> list[str] | str:
    """A manifest's ``command_line``: ``sys.argv`` when None, a string as given, else a list."""
    if command_line is None:
        return list(sys.argv)
    return command_line if isinstance(command_line, str) else list(command_line)


def write_experiment_manifest(
    folder: Path | str,
    scenario: Scenario,
    kind: str,
    status: str,
    seed: int | None,
    scenario_path: Path | str | None = None,
    overrides: Sequence[str] | None = None,
    command_line: Sequence[str] | str | None = None,
    **extra: Any,
) -> Path:
    """``manifest.json`` (and ``scenario.resolved.json``) of a folder that is not a run's,
    like a run's: its ``kind``, status, versions, seed, files, command line and times, so
    that ``report`` and a reader of the folder know what it holds and how to redo it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    resolved_text = dumps(json.loads(scenario.model_dump_json())) + "\n"
    now = utc_iso()
    manifest = {
        "schema_version": 1,
        "kind": kind,
        "status": status,
        "scenario": scenario.scenario.name,
        "versions": environment(),
        "seed": seed,
        **scenario_file_record(scenario_path),
        "resolved_sha256": hashlib.sha256(resolved_text.encode()).hexdigest(),
        "overrides": list(overrides) if overrides is not None else None,
        "command_line": command_line_record(command_line),
        "replications_requested": scenario.scenario.replications,
        "horizon_days": scenario.scenario.horizon_days,
        "started_at": extra.pop("started_at", now),
        "ended_at": now,
        **json_safe(extra),
    }
    atomic_write_text(folder / RESOLVED, resolved_text)
    _write_json(folder / MANIFEST, manifest)
    return folder / MANIFEST


# --------------------------------------------------------------------------- the run folder


class RunFolder:
    """A results folder being written by a run.

    Usage::

        folder = RunFolder(run_dir_for(scenario, output))
        folder.start(scenario, resolved, scenario_path, overrides, argv, seed)
        for batch in finished_replications:      # any completion order
            folder.add_results(batch)
        folder.finish(summary, "complete")       # or "interrupted" / "failed"

    How the CSV tables stay consistent: each :meth:`add_results` call appends every table's
    rows for its replications (a slice of rows per ``write``), fsyncs, and only then appends one
    line per replication to the journal ``.blocks.jsonl`` (and fsyncs it). A replication is
    complete exactly when its journal line is, so after a crash anywhere — mid-append, or
    mid-journal-line — the complete replications are the journal's complete lines and the
    tables' valid bytes end where the last of them ends. :meth:`finish` (and
    :meth:`open` on a folder left behind by a killed process) truncates any torn tail past
    that point. Appends keep the cost linear in the output: rewriting a growing CSV
    atomically after every replication would be quadratic (hours for large runs).

    :meth:`finish` also puts the blocks in canonical order (variants as in the scenario,
    replications ascending), so the files do not depend on which worker finished first:
    same seed, same bytes.
    """

    TABLES: tuple[tuple[str, tuple[str, ...]], ...] = TABLES

    def __init__(self, path: Path | str, table_format: str = DEFAULT_FORMAT) -> None:
        if table_format not in FORMATS:
            raise ValueError(f"table format must be one of {FORMATS}, got {table_format!r}")
        if table_format == "parquet" and not parquet_available():
            raise RuntimeError(
                "Parquet tables need pyarrow: pip install 'loyaltysim[parquet]', or use CSV"
            )
        self.path = Path(path)
        self.table_format = table_format
        self._scenario: Scenario | None = None
        self._variant_order: list[str] = []
        self._blocks: list[_Block] = []
        self._ends: dict[str, int] = {}
        self._started: datetime | None = None

    # ---- set-up

    def start(
        self,
        scenario: Scenario,
        resolved_json: Mapping[str, Any],
        scenario_path: Path | str | None,
        overrides: Mapping[str, Any] | Sequence[str] | None,
        command_line: Sequence[str] | str | None,
        seed: int,
    ) -> None:
        """Create the folder, write ``manifest.json`` (status "running") and the scenario.

        Parameters
        ----------
        scenario : Scenario
            The validated scenario, overrides applied.
        resolved_json : mapping
            Its JSON form with every default filled in (``scenario.resolved.json``).
        scenario_path : path or None
            The scenario file, hashed into the manifest (None for scenarios built in code).
        overrides : mapping or sequence of str or None
            The ``--set`` overrides as given.
        command_line : sequence of str or str or None
            The command line; ``sys.argv`` when None.
        seed : int
            The root seed actually used (drawn from entropy when the user gave none).
        """
        self.path.mkdir(parents=True, exist_ok=True)
        # A reused --output folder must not show a previous run's summary or journal.
        for stale in (SUMMARY, JOURNAL):
            with contextlib.suppress(FileNotFoundError):
                (self.path / stale).unlink()
        self._scenario = scenario
        self._variant_order = ["base", *(v.name for v in scenario.variants)]
        self._started = datetime.now(UTC)
        resolved_text = dumps(resolved_json) + "\n"
        manifest = {
            "schema_version": 1,
            "status": "running",
            "scenario": scenario.scenario.name,
            "versions": environment(),
            "seed": seed,
            **scenario_file_record(scenario_path),
            "resolved_sha256": hashlib.sha256(resolved_text.encode()).hexdigest(),
            "overrides": json_safe(overrides) if overrides is not None else None,
            "command_line": command_line_record(command_line),
            "variants": self._variant_order,
            "replications_requested": scenario.scenario.replications,
            "horizon_days": scenario.scenario.horizon_days,
            "started_at": utc_iso(self._started),
            "ended_at": None,
            "elapsed_seconds": None,
            "replications_finished": {name: 0 for name in self._variant_order},
        }
        atomic_write_text(self.path / RESOLVED, resolved_text)
        for name, columns in self.TABLES:
            header = _header(columns)
            atomic_write_bytes(self.path / name, header)
            self._ends[name] = len(header)
        self._blocks = []
        atomic_write_bytes(self.path / JOURNAL, b"")
        _write_json(self.path / MANIFEST, manifest)

    @classmethod
    def open(cls, path: Path | str, scenario: Scenario | None = None) -> RunFolder:
        """Reopen a folder written earlier (to finish or resume it), repairing torn tails.

        ``scenario`` defaults to the folder's ``scenario.resolved.json``.
        """
        folder = cls(path)
        if scenario is None:
            scenario = Scenario.model_validate_json((folder.path / RESOLVED).read_bytes())
        folder._scenario = scenario
        folder._variant_order = ["base", *(v.name for v in scenario.variants)]
        manifest = read_manifest(folder.path)
        folder._started = datetime.fromisoformat(manifest["started_at"].replace("Z", "+00:00"))
        folder._recover()
        return folder

    # ---- progress

    @property
    def completed(self) -> list[tuple[str, int]]:
        """``(variant, replication)`` of every complete replication, in file order."""
        return [(b.variant, b.replication) for b in self._blocks]

    def finished_counts(self) -> dict[str, int]:
        """Complete replications per variant, variants in canonical order."""
        counts = {name: 0 for name in self._variant_order}
        for b in self._blocks:
            counts[b.variant] = counts.get(b.variant, 0) + 1
        return counts

    def add_results(self, results: Sequence[RunResult]) -> None:
        """Append finished replications to the CSV tables (see the class docstring).

        Raises
        ------
        ValueError
            If a replication is already in the folder.
        """
        if not results:
            return
        scenario = self._require_started()
        done = {(b.variant, b.replication) for b in self._blocks}
        batch = sorted(results, key=self._order_key)
        for r in batch:
            if (r.variant, r.replication) in done:
                raise ValueError(f"replication {r.replication} of {r.variant!r} already written")
            done.add((r.variant, r.replication))

        spans: list[dict[str, tuple[int, int]]] = [{} for _ in batch]
        try:
            # Each table's rows are formatted and written a slice at a time (their text
            # never exists whole) and synced once per batch; the journal, written after,
            # decides what counts: a kill, a full disk or a formatting error mid-batch
            # leaves bytes past the journal's blocks, which _recover cuts off.
            for name, _ in self.TABLES:
                offset = self._ends[name]
                with open(self.path / name, "ab") as f:
                    for i, r in enumerate(batch):
                        length = 0
                        for piece in _FORMATTERS[name](r, scenario):
                            f.write(piece)
                            length += len(piece)
                        spans[i][name] = (offset, length)
                        offset += length
                    if offset > self._ends[name]:
                        f.flush()
                        os.fsync(f.fileno())
            blocks = [
                _Block(r.variant, r.replication, s) for r, s in zip(batch, spans, strict=True)
            ]
            append_durably(self.path / JOURNAL, "".join(map(_journal_line, blocks)).encode())
        except BaseException:
            # Fall back to what the journal says is whole.
            self._recover()
            raise
        for name, _ in self.TABLES:
            self._ends[name] = spans[-1][name][0] + spans[-1][name][1]
        self._blocks.extend(blocks)

    # ---- the end

    def finish(
        self, summary: Mapping[str, Any] | None, status: str, error: str | None = None
    ) -> None:
        """Seal the folder: tidy the tables, write ``summary.json``, update the manifest.

        Parameters
        ----------
        summary : mapping or None
            The run summary (:func:`loyaltysim.analysis.summary.summarize`); None when a
            failure left nothing to summarise.
        status : str
            "complete", "interrupted" or "failed".
        error : str, optional
            What went wrong, recorded in the manifest for a failed run.
        """
        if status not in STATUSES[1:]:
            raise ValueError(f"status must be one of {STATUSES[1:]}, got {status!r}")
        self._require_started()
        # The journal on disk, not memory, is the truth about what is complete.
        self._recover()
        self._canonicalise()
        if self.table_format == "parquet":
            self._to_parquet()
        if summary is not None:
            _write_json(self.path / SUMMARY, summary)
        manifest = read_manifest(self.path)
        ended = datetime.now(UTC)
        manifest.update(
            status=status,
            ended_at=utc_iso(ended),
            elapsed_seconds=(
                round((ended - self._started).total_seconds(), 3) if self._started else None
            ),
            replications_finished=self.finished_counts(),
            # Which replications are complete (what `run --resume` keeps), by variant.
            replications_done={
                name: sorted(b.replication for b in self._blocks if b.variant == name)
                for name in self.finished_counts()
            },
        )
        if error is not None:
            manifest["error"] = error
        _write_json(self.path / MANIFEST, manifest)

    # ---- internals

    def _require_started(self) -> Scenario:
        if self._scenario is None:
            raise RuntimeError("RunFolder.start() (or RunFolder.open()) must come first")
        return self._scenario

    def _order_key(self, item: RunResult | _Block) -> tuple[int, str, int]:
        # Variants unknown to the scenario (none in normal use) sort after it, by name.
        try:
            return self._variant_order.index(item.variant), "", item.replication
        except ValueError:
            return len(self._variant_order), item.variant, item.replication

    def _recover(self) -> None:
        """Trust the journal: drop its torn last line, and table bytes past its last block."""
        self._blocks, valid = _read_journal(self.path)
        journal = self.path / JOURNAL
        if journal.exists() and journal.stat().st_size > valid:
            os.truncate(journal, valid)
        self._ends = _committed_ends(self._blocks)
        for name, _ in self.TABLES:
            path = self.path / name
            if path.stat().st_size > self._ends[name]:
                os.truncate(path, self._ends[name])

    def _canonicalise(self) -> None:
        """Rewrite the tables with blocks in canonical order, if they are not already."""
        ordered = sorted(self._blocks, key=self._order_key)
        if [id(b) for b in ordered] == [id(b) for b in self._blocks]:
            return
        new_blocks = [_Block(b.variant, b.replication, {}) for b in ordered]
        for name, columns in self.TABLES:
            path = self.path / name
            offset = len(_header(columns))
            parts = [_header(columns)]
            with open(path, "rb") as f:
                for old, new in zip(ordered, new_blocks, strict=True):
                    start, length = old.spans[name]
                    f.seek(start)
                    parts.append(f.read(length))
                    new.spans[name] = (offset, length)
                    offset += length
            atomic_write_bytes(path, b"".join(parts))
            self._ends[name] = offset
        atomic_write_bytes(
            self.path / JOURNAL, "".join(_journal_line(b) for b in new_blocks).encode()
        )
        self._blocks = new_blocks

    def _to_parquet(self) -> None:
        """Replace each CSV table by its Parquet file (written atomically, then the CSV
        removed, so that a kill in between leaves both, and readers take the CSV)."""
        for name, _ in self.TABLES:
            columns = read_table(self.path, name)
            atomic_write_bytes(self.path / parquet_name(name), table_bytes_parquet(columns))
        for name, _ in self.TABLES:
            (self.path / name).unlink()


def append_durably(path: Path | str, data: bytes) -> None:
    """Append ``data`` to ``path`` with one ``write``, then fsync: a kill leaves every
    earlier append whole and at worst this one torn, for the reader to drop."""
    with open(path, "ab") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def read_manifest(run_dir: Path | str) -> dict[str, Any]:
    """``manifest.json`` of a results folder."""
    result: dict[str, Any] = json.loads((Path(run_dir) / MANIFEST).read_text("utf-8"))
    return result


def read_summary(run_dir: Path | str) -> dict[str, Any]:
    """``summary.json`` of a results folder (FileNotFoundError if the run never finished)."""
    result: dict[str, Any] = json.loads((Path(run_dir) / SUMMARY).read_text("utf-8"))
    return result


def read_resolved(run_dir: Path | str) -> dict[str, Any]:
    """``scenario.resolved.json`` of a results folder, as plain JSON data."""
    result: dict[str, Any] = json.loads((Path(run_dir) / RESOLVED).read_text("utf-8"))
    return result
