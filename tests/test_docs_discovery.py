"""The commands of docs/discovery.md run as written (from a scratch folder, with the
repository's scenarios) and leave the files the page describes."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from loyaltysim.cli import EXIT_OK, main

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "discovery.md"


def console_commands(text: str) -> list[list[str]]:
    """The `$ loyaltysim ...` lines of the page's ```console blocks, split as a shell would."""
    blocks = re.findall(r"```console\n(.*?)```", text, flags=re.S)
    commands = []
    for block in blocks:
        for line in block.splitlines():
            if line.startswith("$ "):
                words = shlex.split(line[2:])
                assert words[0] == "loyaltysim", line
                commands.append(words[1:])
    return commands


def test_the_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    commands = console_commands(PAGE.read_text("utf-8"))
    assert len(commands) == 2 and all(c[0] == "discover" for c in commands)
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios", target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    for args in commands:
        result = CliRunner().invoke(main, args)
        assert result.exit_code == EXIT_OK, result.output
        assert "box 1: " in result.stdout or "stopped: " in result.stdout
    demo = tmp_path / "results" / "discovery-demo"
    described = re.findall(r"^\| `([a-z._]+)`(?:, `(\.svg)`)? \|", PAGE.read_text("utf-8"), re.M)
    names = {n for n, _ in described} | {"trajectory.svg"}
    assert names == {p.name for p in (demo / "discovery").iterdir()}
    data = json.loads((demo / "discovery" / "discovery.json").read_text("utf-8"))
    assert data["cases"]["outcome"] == "ruined" and data["source"]["points"] == 20
    assert (demo / "cash" / "discovery.json").is_file()
