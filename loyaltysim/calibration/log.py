"""Reading a purchase log: one row per purchase (customer, date, amount), checked whole.

A bad log is rejected before any fitting, with every problem at once, each located as
``FILE:LINE: column: message`` (the same shape as a scenario's problems). LINE is the line
of the CSV file (the header is line 1, the first purchase line 2); for Parquet it is the
row number plus one, as if the file had a header line.

Returns (negative amounts) are not purchase occasions, and netting them against the
purchase they undo needs a link the log rarely has. By default they are problems, so that
nobody calibrates on a log of sales and refunds mixed up without knowing; with
``returns="drop"`` their rows are left out (neither occasions nor spend) and counted.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

# Problems of one kind in one column listed one by one before they are summarised: a log
# of a million rows with a wrong date format would otherwise print a million lines.
MAX_LISTED = 20
RETURNS = ("reject", "drop")


@dataclass(frozen=True)
class LogProblem:
    """One problem of a log, at a line and column."""

    file: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        # Line 0: a problem of the whole file (it is not there, say), as a scenario's.
        where = f"{self.file}:{self.line}: " if self.line > 0 else f"{self.file}: "
        return f"{where}{self.column + ': ' if self.column else ''}{self.message}"


class LogError(Exception):
    """A purchase log that cannot be calibrated on, with all its problems."""

    def __init__(self, problems: list[LogProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class LogSpec:
    """How to read a log: its columns, date format and what to do with returns."""

    customer_col: str = "customer_id"
    date_col: str = "date"
    amount_col: str = "amount"
    date_format: str | None = None  # None: ISO 8601; else a strftime format
    returns: str = "reject"  # reject | drop


@dataclass
class PurchaseLog:
    """A checked log: one row per purchase, in file order.

    ``customer`` is the customer id as text, ``date`` the day of the purchase (datetime64,
    time of day dropped), ``amount`` what was paid (float), ``line`` where the row stands.
    """

    path: str
    customer: np.ndarray
    date: np.ndarray
    amount: np.ndarray
    line: np.ndarray
    dropped_returns: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.customer)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"customer": self.customer, "date": self.date, "amount": self.amount})


def _read_table(path: Path, columns: list[str]) -> tuple[pd.DataFrame, int]:
    """The raw table as text columns, and the line number of its first row."""
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow  # noqa: F401
        except ImportError:  # pragma: no cover - depends on the installation
            raise LogError(
                [
                    LogProblem(
                        str(path),
                        1,
                        "(file)",
                        "reading Parquet needs pyarrow: pip install 'loyaltysim[parquet]'",
                    )
                ]
            ) from None
        table = pd.read_parquet(path)
        return table, 1
    # Text throughout: ids keep their leading zeros, and amounts and dates are parsed
    # below where each failure can be reported on its line.
    table = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, engine="c")
    return table, 2


def read_log(path: Path | str, spec: LogSpec = LogSpec()) -> PurchaseLog:
    """Read and check a purchase log (CSV with a header, or Parquet).

    Raises :class:`LogError` with every problem found: missing columns (with the nearest
    existing names), empty customer ids, dates that do not parse (ISO 8601, or
    ``spec.date_format``), amounts that are not finite numbers, negative amounts (unless
    ``spec.returns == "drop"``) and a log with no purchases. Checks that need the
    calibration dates (no repeat purchase, periods outside the log) are
    :func:`loyaltysim.calibration.rfm.check_periods`'s.
    """
    path = Path(path)
    name = str(path)
    if spec.returns not in RETURNS:
        raise ValueError(f"returns must be one of {RETURNS}, not {spec.returns!r}")
    wanted = [spec.customer_col, spec.date_col, spec.amount_col]
    try:
        table, first_line = _read_table(path, wanted)
    except LogError:
        raise
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else "empty file"
        raise LogError(
            [LogProblem(name, 1, "(file)", f"not a readable table: {message}")]
        ) from None
    except FileNotFoundError:
        # Exit 3 with the scenario loader's words: an input file that is not there is a
        # bad input, as a missing scenario file is in every other command.
        raise LogError([LogProblem(name, 0, "", "no such file")]) from None
    except IsADirectoryError:
        raise LogError([LogProblem(name, 0, "", "is a directory, not a file")]) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise LogError([LogProblem(name, 0, "", f"cannot read the file: {reason}")]) from None

    problems: list[LogProblem] = []
    present = [str(c) for c in table.columns]
    for col in wanted:
        if col not in present:
            near = difflib.get_close_matches(col, present, n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            problems.append(
                LogProblem(
                    name,
                    1,
                    col,
                    f"missing column (the file has: {', '.join(present) or 'none'}){hint}",
                )
            )
    if problems:
        raise LogError(problems)
    if len(table) == 0:
        raise LogError(
            [LogProblem(name, first_line, spec.customer_col, "the log has no purchases")]
        )

    lines = np.arange(first_line, first_line + len(table), dtype=np.int64)

    def report(mask: np.ndarray, column: str, message: object) -> None:
        """Problems at the rows of ``mask``; ``message`` is text or a per-row callable."""
        where = np.flatnonzero(mask)
        for i in where[:MAX_LISTED]:
            text = message(i) if callable(message) else str(message)
            problems.append(LogProblem(name, int(lines[i]), column, text))
        if len(where) > MAX_LISTED:
            more = len(where) - MAX_LISTED
            problems.append(
                LogProblem(
                    name,
                    int(lines[where[MAX_LISTED]]),
                    column,
                    f"... and {more:,} more rows with the same problem",
                )
            )

    customer = table[spec.customer_col].astype(str).str.strip().to_numpy()
    report(customer == "", spec.customer_col, "empty customer id")

    raw_dates = table[spec.date_col]
    if pd.api.types.is_datetime64_any_dtype(raw_dates):
        dates = pd.to_datetime(raw_dates)
    else:
        text = raw_dates.astype(str).str.strip()
        fmt = spec.date_format or "ISO8601"
        dates = pd.to_datetime(text, format=fmt, errors="coerce")
    bad_date = dates.isna().to_numpy()
    shown = raw_dates.astype(str).to_numpy()
    expected = f"the format {spec.date_format!r}" if spec.date_format else "ISO form YYYY-MM-DD"
    report(
        bad_date,
        spec.date_col,
        lambda i: f"{shown[i]!r} is not a date in {expected} (see --date-format)",
    )

    raw_amount = table[spec.amount_col]
    if pd.api.types.is_numeric_dtype(raw_amount):
        amount = raw_amount.to_numpy(dtype=float)
        raw_text = raw_amount.astype(str).to_numpy()
    else:
        raw_text = raw_amount.astype(str).str.strip().to_numpy()
        amount = pd.to_numeric(pd.Series(raw_text), errors="coerce").to_numpy(dtype=float)
    bad_amount = ~np.isfinite(amount)
    report(bad_amount, spec.amount_col, lambda i: f"{raw_text[i]!r} is not a number")
    negative = np.isfinite(amount) & (amount < 0)
    dropped = 0
    if spec.returns == "reject":
        report(
            negative,
            spec.amount_col,
            lambda i: (
                f"negative amount {amount[i]:g}: a return is not a purchase; leave "
                "returns out of the log, or pass --returns drop to drop their rows"
            ),
        )
    else:
        dropped = int(negative.sum())
    if problems:
        raise LogError(problems)

    keep = ~negative
    log = PurchaseLog(
        path=name,
        customer=customer[keep],
        date=dates.dt.normalize().to_numpy(dtype="datetime64[ns]")[keep],
        amount=amount[keep],
        line=lines[keep],
        dropped_returns=dropped,
    )
    if dropped:
        log.notes.append(f"{dropped:,} return row(s) with a negative amount dropped")
    if log.rows == 0:
        raise LogError(
            [
                LogProblem(
                    name, first_line, spec.amount_col, "no purchases left once returns are dropped"
                )
            ]
        )
    return log
