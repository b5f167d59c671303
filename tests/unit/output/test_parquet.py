"""Parquet tables: the same columns as the CSV run, and every reader takes either."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from loyaltysim.cli import main
from loyaltysim.output.report_data import load_run
from loyaltysim.output.tables import TABLES, read_table
from loyaltysim.workflows.run import run_job
from tests.unit.experiment.test_to_frame import tiny

pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("formats")
    out = {}
    for fmt in ("csv", "parquet"):
        job = run_job(tiny(60, 2, 11), output=root / fmt, workers=1, charts=False, table_format=fmt)
        assert job.run_dir is not None
        out[fmt] = job.run_dir
    return out


def test_a_parquet_run_holds_parquet_tables_only(folders: dict[str, Path]) -> None:
    names = {p.name for p in folders["parquet"].iterdir()}
    for name, _ in TABLES:
        assert name not in names
        assert name.replace(".csv", ".parquet") in names


@pytest.mark.parametrize("name", [name for name, _ in TABLES])
def test_parquet_tables_read_back_as_the_csv_ones(folders: dict[str, Path], name: str) -> None:
    a, b = read_table(folders["csv"], name), read_table(folders["parquet"], name)
    assert list(a) == list(b)
    for column in a:
        assert a[column].dtype.kind == b[column].dtype.kind, column
        if a[column].dtype.kind in "US":
            assert a[column].tolist() == b[column].tolist(), column
        else:
            np.testing.assert_array_equal(a[column], b[column], err_msg=column)


def test_the_report_reads_a_parquet_folder(folders: dict[str, Path], tmp_path: Path) -> None:
    data = load_run(folders["parquet"])
    assert not [a for a in data.alerts if "missing" in a or "table" in a.lower()]
    result = CliRunner().invoke(
        main, ["report", str(folders["parquet"]), "--output", str(tmp_path / "r.html")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.html").stat().st_size > 0
