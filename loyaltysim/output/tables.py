"""The CSV tables of a results folder: their columns, their rows, the journal, the readers.

``timeseries.csv``, ``defections.csv``, ``replications.csv`` and ``warnings.csv`` grow by one
block of rows per finished replication (:class:`~loyaltysim.output.folder.RunFolder`
appends them); the journal ``.blocks.jsonl`` records where each complete block sits, so a
reader takes only complete replications, even of a run that is still going or was killed.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from loyaltysim.analysis.tables import (
    CONTRACT_SERIES as CONTRACT_SERIES,
)
from loyaltysim.analysis.tables import (
    CUSTOMER_COLUMNS,
    DEFECTION_COLUMNS,
    OPTIONAL_INT_COLUMNS,
    REPLICATION_COLUMNS,
    TEXT_COLUMNS,
    TIMESERIES_COLUMNS,
    WARNING_COLUMNS,
    block_columns,
)
from loyaltysim.analysis.tables import (
    TIMESERIES_SERIES as TIMESERIES_SERIES,
)
from loyaltysim.model.result import RunResult
from loyaltysim.scenario.schema import Scenario

TIMESERIES = "timeseries.csv"


DEFECTIONS = "defections.csv"


REPLICATIONS = "replications.csv"


WARNINGS = "warnings.csv"


# Write-ahead record of which replication blocks of the CSV tables are complete.
JOURNAL = ".blocks.jsonl"


CUSTOMERS = "customers.csv"


# The tables in the order a run writes them, with their columns (defined, with their
# descriptions, in loyaltysim.analysis.tables: one source for files and DataFrames).
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (TIMESERIES, TIMESERIES_COLUMNS),
    (DEFECTIONS, DEFECTION_COLUMNS),
    (REPLICATIONS, REPLICATION_COLUMNS),
    (WARNINGS, WARNING_COLUMNS),
    (CUSTOMERS, CUSTOMER_COLUMNS),  # header only when the run kept no customers
)

# Columns read back as text and as integers; every other column is float64.
_TEXT_COLUMNS = TEXT_COLUMNS


_INT_COLUMNS = frozenset(
    {"replication", "day", "customer", "ruined", "warnings", "joined", "frequency", "recency"}
)


def csv_field(text: str) -> str:
    """A text field quoted as RFC 4180 requires (only when it holds , " or a line break)."""
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _integral(values: np.ndarray) -> bool:
    """True when a numeric column holds only integers (counts): printed without ".0".

    Decided on the whole column, so that a table formatted a slice at a time prints a
    column one way in every row.
    """
    a = np.asarray(values)
    if a.dtype.kind in "iub":
        return True
    return bool(
        a.size and np.all(np.isfinite(a)) and np.all(a == np.trunc(a)) and np.abs(a).max() < 2**53
    )


def _format_column(values: np.ndarray, integral: bool) -> list[str]:
    """Text of a numeric column: integers without ".0", floats as their shortest repr.

    ``repr`` round-trips exactly, so numbers read back from the CSV equal the simulated
    ones; integral columns (counts, see :func:`_integral`) skip float formatting, the
    costly part.
    """
    a = np.asarray(values)
    if integral:
        return _int_text(a.astype(np.int64))
    return _repr_text(a.astype(np.float64, copy=False))


def _int_text(ints: np.ndarray) -> list[str]:
    """Decimal text of int64 values.

    Days and counts span far fewer values than the column has rows: each value of the
    range is formatted once and the rows gathered (several times faster than ``str``
    per row on a customers table).
    """
    if not ints.size:
        return []
    lo, hi = int(ints.min()), int(ints.max())
    if 2 * (hi - lo) >= ints.size:  # customer numbers: every value once
        return list(map(str, ints.tolist()))
    labels = np.array(list(map(str, range(lo, hi + 1))), dtype=object)
    return labels[ints - lo].tolist()


def _repr_text(a: np.ndarray) -> list[str]:
    """``repr`` of each float64 value, each distinct value formatted once.

    Float columns repeat values (mean spends at the list price, whole days with NaN
    gaps): 160k customers hold about 6k distinct mean spends, and a sort costs far
    less than a ``repr`` per row.
    """
    if np.any((a == 0) & np.signbit(a)):  # np.unique would merge -0.0 into 0.0
        return list(map(repr, a.tolist()))
    distinct, rows = np.unique(a, return_inverse=True)  # NaNs become one value
    labels = np.array(list(map(repr, distinct.tolist())), dtype=object)
    return labels[rows].tolist()


def _rows(prefix: str, columns: Sequence[Sequence[str]]) -> bytes:
    """CSV lines ``prefix,a,b,c`` from column-wise text; joining in C beats per-row code."""
    if not columns or not len(columns[0]):
        return b""
    lines = map(",".join, zip(itertools.repeat(prefix, len(columns[0])), *columns, strict=True))
    return ("\n".join(lines) + "\n").encode()


def _header(columns: Iterable[str]) -> bytes:
    return (",".join(columns) + "\n").encode()


@dataclass
class _Block:
    """Where one replication's rows sit in each CSV table: ``{file: (offset, length)}``."""

    variant: str
    replication: int
    spans: dict[str, tuple[int, int]]


def _journal_line(block: _Block) -> str:
    record = {"variant": block.variant, "replication": block.replication, "spans": block.spans}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def _read_journal(run_dir: Path) -> tuple[list[_Block], int]:
    """Blocks of the complete journal lines, and the byte length those lines take.

    The piece after the last newline is a torn write and is ignored (as is anything after a
    line that does not parse, which only a torn write can produce).
    """
    path = Path(run_dir) / JOURNAL
    if not path.exists():
        return [], 0
    blocks, valid = [], 0
    for line in path.read_bytes().split(b"\n")[:-1]:
        try:
            rec = json.loads(line)
            spans = {k: (int(v[0]), int(v[1])) for k, v in rec["spans"].items()}
            blocks.append(_Block(str(rec["variant"]), int(rec["replication"]), spans))
        except (ValueError, KeyError, TypeError, IndexError):
            break
        valid += len(line) + 1
    return blocks, valid


def _committed_ends(blocks: Sequence[_Block]) -> dict[str, int]:
    ends = {}
    for name, columns in TABLES:
        end = len(_header(columns))
        for b in blocks:
            if name in b.spans:
                start, length = b.spans[name]
                end = max(end, start + length)
        ends[name] = end
    return ends


# Rows of a table formatted at a time: its text (a Python string per field, ~50 bytes
# each) never exists whole, so a million-row defections table costs a slice's worth of
# memory (1M customers x 365 days: its text whole added 120 MiB to the run's peak).
ROWS_AT_A_TIME = 65536


def _format_field_column(column: str, values: np.ndarray, integral: bool) -> list[str]:
    """Text of one column of a block: quoted text, empty optional integers, numbers."""
    if column in TEXT_COLUMNS:
        # A text column repeats a few labels (segments, causes): quote each label once.
        items = values.tolist()
        quoted = {v: csv_field(str(v)) for v in set(items)}
        return [quoted[v] for v in items]
    if column in OPTIONAL_INT_COLUMNS:
        a = np.asarray(values, dtype=np.float64)
        # NaN (no value) is an empty field; the rest are integers, formatted as a block.
        text = np.full(len(a), "", dtype=object)
        present = ~np.isnan(a)
        text[present] = _int_text(a[present].astype(np.int64))
        return text.tolist()
    return _format_column(values, integral)


def _block_rows(
    name: str, columns: tuple[str, ...]
) -> Callable[[RunResult, Scenario], Iterator[bytes]]:
    table = name.removesuffix(".csv")

    def rows(r: RunResult, scenario: Scenario) -> Iterator[bytes]:
        """One replication's CSV lines, :data:`ROWS_AT_A_TIME` rows per piece."""
        if table == "customers" and r.customers is None:
            return
        block = block_columns(table, r, scenario)
        fields = columns[2:]
        # Text and optional-integer columns have formats of their own.
        plain = TEXT_COLUMNS | OPTIONAL_INT_COLUMNS
        integral = {c: c not in plain and _integral(block[c]) for c in fields}
        prefix = f"{csv_field(r.variant)},{r.replication}"
        n = len(block[fields[0]]) if fields else 0
        for start in range(0, n, ROWS_AT_A_TIME):
            part = slice(start, start + ROWS_AT_A_TIME)
            yield _rows(
                prefix, [_format_field_column(c, block[c][part], integral[c]) for c in fields]
            )

    return rows


_FORMATTERS: dict[str, Callable[[RunResult, Scenario], Iterator[bytes]]] = {
    name: _block_rows(name, columns) for name, columns in TABLES
}


# How a finished run stores its tables: CSV (the default, the contract's file names) or
# Parquet (``--format parquet``, needs pyarrow: the ``[parquet]`` extra), one
# ``<table>.parquet`` in place of each ``<table>.csv``. A run always appends CSV blocks
# while it goes (the journal keeps them whole); a Parquet run converts them when it ends.
FORMATS: tuple[str, ...] = ("csv", "parquet")
DEFAULT_FORMAT = "csv"


def parquet_available() -> bool:
    """True when pyarrow (the ``[parquet]`` extra) is installed."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def parquet_name(name: str) -> str:
    """``timeseries.csv`` -> ``timeseries.parquet``."""
    return name.removesuffix(".csv") + ".parquet"


def table_file(run_dir: Path | str, name: str) -> Path:
    """The file holding table ``name`` (``timeseries.csv``) in ``run_dir``: the CSV, or
    the Parquet file when only that exists (the CSV's path when neither does)."""
    csv_path = Path(run_dir) / name
    parquet = csv_path.with_name(parquet_name(name))
    return parquet if not csv_path.exists() and parquet.exists() else csv_path


def table_bytes_parquet(columns: dict[str, np.ndarray]) -> bytes:
    """Columns (as :func:`read_table` returns them) as a Parquet file's bytes (zstd)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {
        name: pa.array(values.tolist() if values.dtype.kind in "OU" else values)
        for name, values in columns.items()
    }
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table(arrays), sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def _read_parquet(path: Path) -> dict[str, np.ndarray]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    columns: dict[str, np.ndarray] = {}
    for name in table.column_names:
        values = table.column(name).to_numpy(zero_copy_only=False)
        if name in _TEXT_COLUMNS:
            columns[name] = np.asarray(values, dtype=str)
        elif name in _INT_COLUMNS:
            columns[name] = np.asarray(values, dtype=np.int64)
        else:
            columns[name] = np.asarray(values, dtype=np.float64)
    return columns


def read_table(run_dir: Path | str, name: str) -> dict[str, np.ndarray]:
    """A table of a results folder (CSV, or its Parquet file) as columns, complete
    replications only.

    Text columns come back as ``str`` arrays, ``replication``/``day``/``customer`` and counts
    as int64, everything else float64 (an empty field is NaN). While a run is still going, or
    after it was killed, bytes past the journal's last complete replication are ignored.
    """
    run_dir = Path(run_dir)
    path = table_file(run_dir, name)
    if path.suffix == ".parquet":
        return _read_parquet(path)
    if name == CUSTOMERS and not path.exists():
        return {}  # a folder written before the customers table existed
    data = path.read_bytes()
    if (run_dir / JOURNAL).exists():
        end = _committed_ends(_read_journal(run_dir)[0]).get(name, len(data))
        data = data[:end]
    header = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r").split(",")
    if not header or header == [""]:
        return {}
    try:
        return _parse_fast(data, header)
    except ValueError:
        # Empty fields (a replication without ruin day) defeat loadtxt; parse in Python.
        return _parse_general(data)


def _parse_fast(data: bytes, header: list[str]) -> dict[str, np.ndarray]:
    # numpy's C reader is ~3x faster than csv + conversion on a 66k-row time series:
    # one pass for the numeric columns, one for the (few) text columns.
    text_idx = [j for j, c in enumerate(header) if c in _TEXT_COLUMNS]
    num_idx = [j for j, c in enumerate(header) if c not in _TEXT_COLUMNS]

    def load(usecols: list[int], dtype: Any) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data"
            table = np.loadtxt(
                io.BytesIO(data),
                delimiter=",",
                quotechar='"',
                skiprows=1,
                usecols=usecols,
                dtype=dtype,
                encoding="utf-8",
                ndmin=2,
            )
        return table.reshape(-1, len(usecols))

    columns: dict[str, np.ndarray] = {}
    if num_idx:
        numbers = load(num_idx, np.float64)
        for k, j in enumerate(num_idx):
            col = header[j]
            columns[col] = numbers[:, k].astype(np.int64) if col in _INT_COLUMNS else numbers[:, k]
    if text_idx:
        texts = load(text_idx, str)
        for k, j in enumerate(text_idx):
            columns[header[j]] = texts[:, k]
    return {col: columns[col] for col in header}


def _parse_general(data: bytes) -> dict[str, np.ndarray]:
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    header = next(reader)
    transposed = list(zip(*reader, strict=True)) or [() for _ in header]
    columns: dict[str, np.ndarray] = {}
    for col, raw in zip(header, transposed, strict=True):
        text = np.array(raw, dtype=str)
        if col in _TEXT_COLUMNS:
            columns[col] = text
        elif col in _INT_COLUMNS:
            columns[col] = text.astype(np.int64)
        else:
            columns[col] = np.where(text == "", "nan", text).astype(np.float64)
    return columns


def read_timeseries(run_dir: Path | str) -> dict[str, np.ndarray]:
    """``timeseries.csv`` as columns (see :func:`read_table`)."""
    return read_table(run_dir, TIMESERIES)


def read_defections(run_dir: Path | str) -> dict[str, np.ndarray]:
    """``defections.csv`` as columns (see :func:`read_table`)."""
    return read_table(run_dir, DEFECTIONS)


def read_replications(run_dir: Path | str) -> dict[str, np.ndarray]:
    """``replications.csv`` (ruin, warnings and metrics per replication) as columns."""
    return read_table(run_dir, REPLICATIONS)


def read_warnings(run_dir: Path | str) -> dict[str, np.ndarray]:
    """``warnings.csv`` (every early warning, with its message) as columns."""
    return read_table(run_dir, WARNINGS)


def read_customers(run_dir: Path | str) -> dict[str, np.ndarray]:
    """``customers.csv`` (one row per simulated customer, with its RFM summary) as columns."""
    return read_table(run_dir, CUSTOMERS)
