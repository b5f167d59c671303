"""The row journal of a sweep: ``sweep.csv`` (or ``samples.csv``) grown one durable row per
finished point, read back on resume, rewritten in point order at the end.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from loyaltysim.experiment.design import SweepError
from loyaltysim.experiment.sweep import _cell, _parse_cell, parse_rows
from loyaltysim.output.folder import append_durably, atomic_write_bytes, atomic_write_text

SWEEP_CSV = "sweep.csv"


SWEEP_SPEC = "sweep.json"


MANIFEST = "manifest.json"


RESOLVED = "scenario.resolved.json"


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


def read_sweep(run_dir: Path | str) -> tuple[dict[str, Any], list[dict[str, float]]]:
    """A sweep folder's ``sweep.json`` and its rows, in point order."""
    run_dir = Path(run_dir)
    spec: dict[str, Any] = json.loads((run_dir / SWEEP_SPEC).read_text("utf-8"))
    log = RowLog(run_dir / spec["csv"], spec["columns"])
    with open(log.path, encoding="utf-8", newline="") as f:
        lines = f.read().splitlines()
    complete = {int(r[0]): r for r in csv.reader(lines[1:]) if len(r) == len(log.columns)}
    return spec, parse_rows(log.columns, complete)
