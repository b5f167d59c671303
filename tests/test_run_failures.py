"""Any failure after simulating marks the folder (issue #9, item 4).

Every exit path ends with the manifest saying ``complete``, ``interrupted`` or ``failed``
(with the error); a full disk is said in words and what is on disk is kept. The full
disk is simulated by making the writes raise ``OSError(errno.ENOSPC)``.
"""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from loyaltysim.cli import EXIT_INTERRUPTED, EXIT_RUNTIME_FAILURE, main
from loyaltysim.output import folder as results_io

TINY = """
[scenario]
name = "Tiny shop"
horizon_days = 15
replications = 2
seed = 3

[customers]
initial = 80

[[variants]]
name = "5% off"
set = { "discount.kind" = "flat", "discount.rate" = 0.05 }
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


def invoke(*args: Any) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def manifest(out: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((out / "manifest.json").read_text("utf-8"))
    return result


def disk_full(*args: Any, **kwargs: Any) -> None:
    path = next((a for a in args if isinstance(a, str | Path)), "charts/cash.png")
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def test_a_full_disk_while_drawing_charts_fails_the_run_in_words(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import loyaltysim.output.charts

    monkeypatch.setattr(loyaltysim.output.charts, "write_run_charts", disk_full)
    out = tmp_path / "out"
    result = invoke("run", tiny, "--output", out, "--workers", 1, "--quiet")
    assert result.exit_code == EXIT_RUNTIME_FAILURE, result.output
    assert "the disk is full" in result.stderr and "kept" in result.stderr
    m = manifest(out)
    assert m["status"] == "failed" and "the disk is full" in m["error"]
    assert m["replications_finished"] == {"base": 2, "5% off": 2}
    # What was on disk stays: every replication's rows, and the summary made before.
    assert len(results_io.read_timeseries(out)["day"]) == 2 * 2 * 15
    assert results_io.read_summary(out)["replications"] == 2


def test_a_full_disk_when_writing_the_summary_still_marks_the_manifest(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import loyaltysim.output.charts

    monkeypatch.setattr(loyaltysim.output.charts, "write_run_charts", lambda *a, **k: [])
    real = results_io.atomic_write_bytes
    out = tmp_path / "out"

    def full_after_the_tables(path: Any, data: bytes) -> None:
        # The disk fills up once the replications are in: no new file fits any more.
        if (out / results_io.JOURNAL).exists() and (out / results_io.JOURNAL).stat().st_size:
            disk_full(path)
        real(path, data)

    monkeypatch.setattr(results_io, "atomic_write_bytes", full_after_the_tables)
    result = invoke("run", tiny, "--output", out, "--workers", 1, "--quiet")
    assert result.exit_code == EXIT_RUNTIME_FAILURE, result.output
    assert "the disk is full" in result.stderr
    m = manifest(out)  # rewritten in place: a full disk cannot leave it "running"
    assert m["status"] == "failed" and "the disk is full while writing" in m["error"]
    assert len(results_io.read_timeseries(out)["day"]) == 2 * 2 * 15


def test_a_failure_while_summarising_marks_the_folder_failed(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyaltysim.experiment import runner

    def broken(self: Any) -> dict:
        raise ZeroDivisionError("a metric divided by zero")

    monkeypatch.setattr(runner.Results, "summary", broken)
    out = tmp_path / "out"
    result = invoke("run", tiny, "--output", out, "--workers", 1, "--quiet")
    assert result.exit_code == EXIT_RUNTIME_FAILURE
    m = manifest(out)
    assert m["status"] == "failed" and "ZeroDivisionError" in m["error"]


def test_an_interrupt_while_drawing_marks_the_folder_interrupted(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import loyaltysim.output.charts

    def interrupted(*args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(loyaltysim.output.charts, "write_run_charts", interrupted)
    out = tmp_path / "out"
    result = invoke("run", tiny, "--output", out, "--workers", 1, "--quiet")
    assert result.exit_code == EXIT_INTERRUPTED
    assert manifest(out)["status"] == "interrupted"
    assert results_io.read_summary(out)["replications"] == 2


@pytest.mark.parametrize("command", ["compare", "sweep"])
def test_a_full_disk_after_the_results_marks_compare_and_sweep_failed(
    command: str, tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import loyaltysim.output.charts
    import loyaltysim.output.experiment_charts

    monkeypatch.setattr(loyaltysim.output.charts, "write_run_charts", disk_full)
    monkeypatch.setattr(loyaltysim.output.experiment_charts, "write_sweep_chart", disk_full)
    out = tmp_path / "out"
    extra = ("--param", "business.price=4:5:1") if command == "sweep" else ()
    result = invoke(command, tiny, *extra, "--output", out, "--workers", 1, "--quiet")
    assert result.exit_code == EXIT_RUNTIME_FAILURE, result.output
    assert "the disk is full" in result.stderr
    m = manifest(out)
    assert m["status"] == "failed" and "the disk is full" in m["error"]
