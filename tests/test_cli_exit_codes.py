"""Bad values never become exit 4 (issue #9, item 6).

A value nested too deep for the TOML reader, a scenario file that is not there and an
``--output`` the run cannot write each get their own code and a sentence, in every command.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from loyaltysim.cli import EXIT_INVALID_SCENARIO, EXIT_OK, EXIT_USAGE, main

TINY = """
[scenario]
name = "Tiny shop"
horizon_days = 10
replications = 1
seed = 3

[customers]
initial = 50

[[variants]]
name = "5% off"
set = { "discount.kind" = "flat", "discount.rate" = 0.05 }
"""

# Every command that reads a scenario, with the options it needs to get that far.
COMMANDS: dict[str, tuple[str, ...]] = {
    "validate": (),
    "run": ("--quiet",),
    "compare": ("--quiet",),
    "check": ("--quiet",),
    "sweep": ("--param", "business.price=4:5:1", "--quiet"),
    "frontier": ("--param", "business.price", "--range", "4:5:1", "--quiet"),
    "sensitivity": ("--param", "business.price=4:5", "--quiet"),
    "facts": ("--quiet",),
}
SIMULATING = ("run", "compare", "check", "sweep", "frontier", "sensitivity")


def invoke(*args: Any) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_missing_scenario_file_is_exit_3_in_every_command(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    result = invoke(command, missing, *COMMANDS[command])
    assert result.exit_code == EXIT_INVALID_SCENARIO, result.output
    assert f"{missing}: no such file" in result.stderr


@pytest.mark.parametrize("command", ["validate", "run", "sweep"])
def test_a_deeply_nested_set_value_is_exit_3_with_its_location(
    command: str, tiny: Path, tmp_path: Path
) -> None:
    deep = "[" * 3000 + "]" * 3000
    args = COMMANDS[command] + (("--output", tmp_path / "out") if command != "validate" else ())
    result = invoke(command, tiny, "--set", "scenario.seed=1", "--set", f"x={deep}", *args)
    assert result.exit_code == EXIT_INVALID_SCENARIO, result.output
    assert "<--set>:2: x: the value is nested deeper than 8 levels" in result.stderr
    assert "RecursionError" not in result.output
    assert not (tmp_path / "out").exists()  # nothing ran


def test_a_deeply_nested_set_key_or_inline_table_is_exit_3(tiny: Path) -> None:
    key = ".".join(["a"] * 5000)
    table = "{a=" * 3000 + "1" + "}" * 3000
    result = invoke("validate", tiny, "--set", f"{key}=1", "--set", f"variants={table}")
    assert result.exit_code == EXIT_INVALID_SCENARIO, result.output
    assert "<--set>:1: a.a.a.a.a.a.a.a.a ...: the key is nested deeper" in result.stderr
    assert "<--set>:2: variants: the value is nested deeper" in result.stderr


def _outputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    plain = tmp_path / "plain"
    plain.write_text("not a folder\n", encoding="utf-8")
    return {
        "below a plain file": (plain / "out", "a part of the path is a plain file"),
        "under /proc": (Path("/proc/loyaltysim-test/out"), "cannot write the results folder"),
    }


@pytest.mark.parametrize("command", SIMULATING)
@pytest.mark.parametrize("where", ["below a plain file", "under /proc"])
def test_an_unwritable_output_is_exit_2_with_a_sentence(
    command: str, where: str, tiny: Path, tmp_path: Path
) -> None:
    if where == "under /proc" and not Path("/proc/self").exists():
        pytest.skip("no /proc on this system")
    out, sentence = _outputs(tmp_path)[where]
    result = invoke(command, tiny, *COMMANDS[command], "--output", out, "--reps", 1)
    assert result.exit_code == EXIT_USAGE, result.output
    assert f"error: cannot write the results folder {out}" in result.stderr
    assert sentence in result.stderr
    assert "OSError" not in result.output and "Traceback" not in result.output


def test_a_read_only_output_is_exit_2_with_a_sentence(tiny: Path, tmp_path: Path) -> None:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders; see the EROFS test below")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        result = invoke("run", tiny, "--output", ro / "out", "--quiet")
    finally:
        ro.chmod(0o755)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "permission denied" in result.stderr


def test_a_read_only_file_system_is_exit_2_with_a_sentence(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What mkdir says on a file system mounted read-only, for any user (root included).
    real_mkdir = Path.mkdir

    def read_only(self: Path, *args: Any, **kwargs: Any) -> None:
        if tmp_path / "mnt" in (self, *self.parents):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    result = invoke("run", tiny, "--output", tmp_path / "mnt" / "out", "--quiet")
    assert result.exit_code == EXIT_USAGE, result.output
    assert "the file system is read-only" in result.stderr


def test_a_good_run_still_exits_0(tiny: Path, tmp_path: Path) -> None:
    result = invoke(
        "run", tiny, "--output", tmp_path / "ok", "--quiet", "--workers", 1, "--no-charts"
    )
    assert result.exit_code == EXIT_OK, result.output
