"""One output folder, one run (issue #9, item 5)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from loyaltysim.cli import EXIT_OK, EXIT_USAGE, main
from loyaltysim.output.lock import (
    FolderInUse,
    claim_fresh_folder,
    claim_run_dir,
    command_session,
    lock_folder,
)
from loyaltysim.workflows.run import run_job
from tests.factories import make_scenario

TINY = """
[scenario]
name = "Tiny shop"
horizon_days = 10
replications = 1
seed = 3

[customers]
initial = 50
"""

HOLD = """
import sys, time
from loyaltysim.output.lock import lock_folder
held = lock_folder(sys.argv[1])
print("locked", flush=True)
sys.stdin.readline()  # hold the lock until the test says so
"""


def test_a_second_run_into_a_held_folder_refuses_with_exit_2(tmp_path: Path) -> None:
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY, encoding="utf-8")
    out = tmp_path / "out"
    # The first run is another process that holds the folder, as a running run does.
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = CliRunner().invoke(main, ["run", str(scenario), "--output", str(out)])
        assert result.exit_code == EXIT_USAGE, result.output
        assert f"{out} is in use by another run" in result.stderr
        assert not (out / "manifest.json").exists()  # the holder's folder is untouched
    finally:
        holder.communicate("\n", timeout=60)
    # Once the first run has ended, the folder is free again.
    result = CliRunner().invoke(
        main, ["run", str(scenario), "--output", str(out), "--quiet", "--no-charts"]
    )
    assert result.exit_code == EXIT_OK, result.output
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


def test_run_job_refuses_a_folder_another_lock_holds(tmp_path: Path) -> None:
    held = lock_folder(tmp_path / "out")  # another open file description: a conflict
    try:
        with pytest.raises(FolderInUse):
            run_job(
                make_scenario(replications=1, horizon_days=5, variants=()), output=tmp_path / "out"
            )
    finally:
        held.close()
    job = run_job(
        make_scenario(replications=1, horizon_days=5, variants=()),
        output=tmp_path / "out",
        workers=1,
        charts=False,
    )
    assert job.status == "complete"


def test_two_runs_without_output_in_the_same_second_get_two_folders(tmp_path: Path) -> None:
    # The race: both runs pick the same free name before either creates it.
    name = tmp_path / "shop" / "20260101T000000Z"
    picks = iter([name, name, name.with_name(name.name + "-2")])
    first = claim_fresh_folder(lambda: name)
    second = claim_fresh_folder(lambda: next(picks))
    assert (first.path, second.path) == (name, name.with_name(name.name + "-2"))
    first.close()
    second.close()


def test_fresh_folders_from_the_naming_rule_never_collide(tmp_path: Path) -> None:
    scenario = make_scenario(replications=1, horizon_days=5, variants=())
    held = [claim_run_dir(scenario, None, root=tmp_path) for _ in range(5)]
    assert len({h.path for h in held}) == 5 and all(h.path.is_dir() for h in held)
    for h in held:
        h.close()


def test_a_command_session_holds_its_folders_until_it_ends(tmp_path: Path) -> None:
    with command_session():
        held = lock_folder(tmp_path / "a")
        held.release()  # deferred: the command may still mark the folder
        with pytest.raises(FolderInUse):
            lock_folder(tmp_path / "a")
    lock_folder(tmp_path / "a").close()
