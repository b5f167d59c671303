"""The log's customers file of ``calibration.customers``: its columns, and the check that a
scenario naming it can run (the file is there and has them).

The file is what ``loyaltysim calibrate`` writes beside the scenario: one row per customer
of the log with their history at the calibration end, in weeks (the buy-till-you-die
summary: repeat purchases x, recency t_x and age T).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

COLUMNS = ("customer", "frequency", "recency_weeks", "T_weeks")


def resolve(value: str, scenario_file: str) -> Path:
    """The file ``value`` names, made absolute: relative to the scenario file's folder (or
    the current folder for a scenario given as text). String operations only, so that any
    name (one with a NUL, say) reaches :func:`problem` to be reported."""
    path = Path(value).expanduser()
    if not path.is_absolute() and not scenario_file.startswith("<"):
        path = Path(scenario_file).parent / path
    return Path(os.path.abspath(path))


def problem(path: Path) -> tuple[str, str] | None:
    """``(message, hint)`` when ``path`` cannot serve as the log's customers, else None.

    Reads the header line only: the values are checked when a run reads the file.
    """
    hint = "loyaltysim calibrate LOG --output SCENARIO writes it beside the scenario"
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh), [])
    except FileNotFoundError:
        return f"the log's customers file {path} does not exist", hint
    except IsADirectoryError:
        return f"the log's customers file {path} is a directory", hint
    except (OSError, ValueError, csv.Error) as exc:  # ValueError: a NUL in the name, bad UTF-8
        return f"the log's customers file {path} cannot be read: {exc}", hint
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        return (
            f"the log's customers file {path} lacks the column(s) {', '.join(missing)} "
            f"(it has: {', '.join(header) or 'none'})",
            f"it needs {', '.join(COLUMNS)}; {hint}",
        )
    return None
