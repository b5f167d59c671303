"""SIGTERM is an interruption like Ctrl-C (issue #9, item 3).

Real signals throughout. Two tests run the command in a real subprocess with a process
pool, send SIGTERM once the first results are on disk and then look at the process tree:
the workers are gone, finished work is kept, the manifest says ``interrupted``, the exit
code is 143. The others send a real SIGTERM to the test's own process from inside the
run (in process, so they are quick) for every command that simulates. Waiting is for a
sign on disk, never for a guessed length of time; timeouts are generous for loaded
machines.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner

from loyaltysim.cli import EXIT_TERMINATED, main
from loyaltysim.experiment.executors import SerialExecutor

T = TypeVar("T")
R = TypeVar("R")

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# Many cheap replications: the run is still going long after its first one is on disk.
LONG = """
[scenario]
name = "Long tiny shop"
horizon_days = 30
replications = 5000
seed = 11

[customers]
initial = 150

[[variants]]
name = "5% off"
set = { "discount.kind" = "flat", "discount.rate" = 0.05 }
"""

SHORT = LONG.replace("replications = 5000", "replications = 3")


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for(condition: Callable[[], bool], what: str, tries: int = 1200) -> None:
    """Poll ``condition`` every 0.1 s, up to ``tries`` times (2 minutes by default)."""
    for _ in range(tries):
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    scenario = tmp_path / "long.toml"
    scenario.write_text(LONG, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Output to files, not pipes: a worker left behind would hold a pipe open.
    with open(tmp_path / "stderr.txt", "w") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "loyaltysim", args[0], str(scenario), *args[1:]],
            stdout=subprocess.DEVNULL,
            stderr=err,
            text=True,
            env=env,
            cwd=tmp_path,
        )


def _terminate_and_check_tree(proc: subprocess.Popen[str], tmp_path: Path) -> tuple[int, str]:
    _wait_for(lambda: len(_children(proc.pid)) >= 2, "the pool's worker processes")
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=180)
    finally:
        orphans = [pid for pid in workers if _alive(pid)]
        for pid in orphans:  # never leave them running on the machine
            os.kill(pid, signal.SIGKILL)
    assert not orphans, f"worker processes left behind: {orphans}"
    return proc.returncode, (tmp_path / "stderr.txt").read_text()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_sigterm_stops_a_pooled_run_keeps_replications_and_leaves_no_process(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    proc = _start(tmp_path, "run", "--workers", "2", "--output", str(out), "--quiet")
    try:
        journal = out / ".blocks.jsonl"
        _wait_for(lambda: journal.exists() and journal.stat().st_size > 0, "a replication")
        code, err = _terminate_and_check_tree(proc, tmp_path)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == EXIT_TERMINATED, err
    assert "interrupted" in err and "Traceback" not in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    kept = manifest["replications_finished"]
    assert kept["base"] == kept["5% off"] >= 1
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replications"] == kept["base"]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_sigterm_stops_a_pooled_sweep_and_keeps_its_rows(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    proc = _start(
        tmp_path, "sweep", "--param", "business.price=3:6:0.01", "--reps", "2",
        "--workers", "2", "--output", str(out), "--no-charts", "--quiet",
    )  # fmt: skip
    try:
        rows = out / "sweep.csv"
        _wait_for(lambda: rows.exists() and rows.read_text().count("\n") >= 2, "a row")
        code, err = _terminate_and_check_tree(proc, tmp_path)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == EXIT_TERMINATED, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"
    with open(out / "sweep.csv", encoding="utf-8", newline="") as f:
        kept = list(csv.DictReader(f))
    assert len(kept) == manifest["points_finished"] >= 1
    assert "--resume" in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux")
def test_even_a_sigkill_of_the_parent_leaves_no_worker(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _start(tmp_path, "run", "--workers", "2", "--output", str(out), "--no-charts")
    try:
        _wait_for(lambda: len(_children(proc.pid)) >= 2, "the pool's worker processes")
        workers = _children(proc.pid)
        proc.kill()  # no handler can run: the workers must go with their parent
        proc.wait(timeout=60)
        try:
            _wait_for(lambda: not any(_alive(pid) for pid in workers), "the workers to die", 300)
        finally:
            for pid in workers:
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()


class SignallingExecutor(SerialExecutor):
    """Serial, but sends a real SIGTERM to this process after ``after`` results."""

    def __init__(self, after: int) -> None:
        self.after = after

    def map_unordered(self, fn: Callable[[T], R], tasks: Sequence[T]) -> Iterator[tuple[int, R]]:
        for n, item in enumerate(super().map_unordered(fn, tasks), start=1):
            yield item
            if n == self.after:
                os.kill(os.getpid(), signal.SIGTERM)


COMMANDS: dict[str, tuple[str, ...]] = {
    "run": ("--no-charts",),
    "check": ("--reps", "3"),
    "compare": ("--no-charts",),
    "sweep": ("--param", "business.price=4:6:0.5", "--no-charts"),
    "sensitivity": ("--param", "business.price=4:5", "--n", "4", "--no-charts"),
    "frontier": ("--param", "business.price", "--range", "4:6:0.5"),
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_sigterm_interrupts_every_simulating_command(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if command == "sensitivity":
        pytest.importorskip("SALib")
    import loyaltysim.experiment
    from loyaltysim.workflows import check, compare, sweep
    from loyaltysim.workflows import run as jobs

    after = 2 if command in ("run", "check", "compare") else 3
    for module in (jobs, check, compare, sweep, loyaltysim.experiment):
        monkeypatch.setattr(module, "make_executor", lambda *a, **k: SignallingExecutor(after))
    scenario = tmp_path / "short.toml"
    scenario.write_text(SHORT, encoding="utf-8")
    out = tmp_path / "out"
    # check writes (and draws) only with --output; its folder is run's, tested above.
    output = [] if command == "check" else ["--output", str(out)]
    args = [command, str(scenario), *COMMANDS[command], *output, "--quiet"]
    previous = signal.getsignal(signal.SIGTERM)
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert signal.getsignal(signal.SIGTERM) == previous  # the handler is the command's only
    assert result.exit_code == EXIT_TERMINATED, result.output
    assert "Traceback" not in result.output
    if command == "check":
        return
    if command == "frontier":
        with open(out / "frontier.csv", encoding="utf-8", newline="") as f:
            assert len(list(csv.DictReader(f))) >= 1  # the values finished are kept
        return
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "interrupted"


def test_ctrl_c_stays_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from loyaltysim.workflows import run as jobs

    class CtrlC(SerialExecutor):
        def map_unordered(self, fn: Any, tasks: Any) -> Any:
            yield from list(super().map_unordered(fn, tasks))[:2]
            raise KeyboardInterrupt

    monkeypatch.setattr(jobs, "make_executor", lambda *a, **k: CtrlC())
    scenario = tmp_path / "short.toml"
    scenario.write_text(SHORT, encoding="utf-8")
    result = CliRunner().invoke(
        main, ["run", str(scenario), "--output", str(tmp_path / "o"), "--quiet", "--no-charts"]
    )
    assert result.exit_code == 130
