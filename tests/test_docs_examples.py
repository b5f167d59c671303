"""Every example of README.md and docs/*.md runs: the front door cannot rot.

The runner below extracts, from each page,

- every command of a ```bash / ```sh / ```shell block (lines joined at a trailing ``\\``,
  ``&&`` chains split), every ``$ ...`` line of a ```console block, and every ``$ ...`` line
  of any other block (the README's ```text blocks show a command and its output: the
  command runs, the output is illustration);
- every ```python block, executed in one fresh namespace per block.

How it runs them, from a scratch folder that sees the repository's ``scenarios/``,
``tests/`` and ``docs/`` (so ``results/`` and files a command writes land there):

- ``loyaltysim ...`` through click's runner, in this process. A simulating command that
  gives no ``--days`` or ``--reps`` gets ``--days 30 --reps 2`` appended (``calibrate``:
  ``--reps 2``; ``discover`` of a sweep folder, which simulates nothing, none; ``check``:
  ``--set guard.max_replications=4`` too, so it stops doubling early):
  the same command, with a horizon short enough for a test. ``calibrate`` matches and
  backtests the agent model with one copy of each log customer per run
  (:data:`~loyaltysim.calibration.agents.AGENTS_PER_RUN` lowered, as
  ``tests/test_cli_calibrate.py`` does: enough for the plumbing; the CDNOW figures are
  the slow ``tests/validation/test_calibration_cdnow.py``'s). It must exit 0;
  ``check`` may also exit 1, which the README documents as its answer for an unsafe plan.
- Python blocks with ``loyaltysim.load_scenario`` wrapped to set
  ``scenario.horizon_days = 30`` after the block's own overrides (the same shortening).
- ``python -m pip install ...``, ``python -m pytest ...``, ``ruff ...`` and ``mypy`` are the
  set-up and development commands: ``.ci/run`` runs them on a clean clone, and
  :func:`test_ci_runs_the_readme_test_command` checks that it runs the README's.
- ``python some/script.py`` as a subprocess.
- Anything else fails the test, so a new kind of example cannot be skipped silently.

A block that must not run is marked by the line ``<!-- docs-test: skip (reason) -->`` right
above its fence (used sparingly: today only the gallery's regeneration, minutes long).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import loyaltysim
from loyaltysim.calibration import agents
from loyaltysim.cli import EXIT_GUARD_BREACHED, EXIT_OK, main

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SKIP_MARKER = re.compile(r"<!--\s*docs-test:\s*skip\b.*?-->")
SHELL = {"bash", "sh", "shell"}
SHORT_DAYS, SHORT_REPS = "30", "2"
SHORT_AGENTS = 2_500  # agents per calibration run: one copy of the CDNOW sample's 2,357
SIMULATING = {"run", "check", "frontier", "compare", "sweep", "sensitivity", "discover", "facts"}
SET_UP_TOOLS = (
    ("python", "-m", "pip"),
    ("python", "-m", "pytest"),
    ("ruff",),
    ("mypy",),
)
# A page whose commands another test already runs (and checks the files of) in the default
# suite: here it runs only with the slow tests, to keep the default suite quick.
# calibration.md fits a log twice (about a minute); the README's calibrate example, the same
# command as the page's first, runs in the default suite.
COVERED_ELSEWHERE = {
    "discovery.md": "tests/test_docs_discovery.py",
    "calibration.md": "tests/test_docs_examples.py on README.md, tests/unit/calibration",
}


@dataclass(frozen=True)
class Example:
    page: str
    line: int  # of the fence
    kind: str  # "command" or "python"
    text: str  # the command line, or the Python source

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.text.splitlines()[0]}"


def _blocks(text: str) -> Iterator[tuple[int, str, str, bool]]:
    """(line of the fence, language, body, marked skip) of every fenced block."""
    lines = text.splitlines()
    n = 0
    while n < len(lines):
        match = re.match(r"^(\s*)```\s*([\w+-]*)\s*$", lines[n])
        if not match:
            n += 1
            continue
        indent, lang = match.groups()
        start = n
        body = []
        n += 1
        while n < len(lines) and not re.match(rf"^{indent}```\s*$", lines[n]):
            body.append(lines[n][len(indent) :])
            n += 1
        above = next((line for line in reversed(lines[:start]) if line.strip()), "")
        yield start + 1, lang.lower(), "\n".join(body), bool(SKIP_MARKER.search(above))
        n += 1


def _logical_lines(body: str) -> Iterator[str]:
    """Lines with trailing-backslash continuations joined."""
    pending = ""
    for raw in body.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield pending + line
        pending = ""
    if pending:
        yield pending


def extract(page: Path) -> list[Example]:
    """The examples of one page, in order."""
    name = page.relative_to(ROOT).as_posix()
    out: list[Example] = []
    for line, lang, body, skip in _blocks(page.read_text("utf-8")):
        if skip:
            continue
        if lang == "python":
            out.append(Example(name, line, "python", body))
            continue
        for text in _logical_lines(body):
            stripped = text.strip()
            if lang in SHELL:
                command = stripped.removeprefix("$ ")
            elif stripped.startswith("$ "):
                command = stripped[2:]
            else:
                continue  # output, illustration
            if not command or command.startswith("#"):
                continue
            for part in command.split("&&"):
                out.append(Example(name, line, "command", part.strip()))
    return out


def _shortened(args: list[str]) -> list[str]:
    """``args`` of a loyaltysim command with a short horizon, unless the example sets one."""
    if not args:
        return args
    given = {a.split("=")[0] for a in args}
    extra: list[str] = []
    if args[0] == "discover" and not (len(args) > 1 and args[1].endswith(".toml")):
        return args  # discover on a sweep folder simulates nothing
    if args[0] in SIMULATING or args[0] == "calibrate":
        if args[0] != "calibrate" and "--days" not in given:
            extra += ["--days", SHORT_DAYS]
        if "--reps" not in given:
            extra += ["--reps", SHORT_REPS]
        if args[0] == "check" and "guard.max_replications" not in " ".join(args):
            extra += ["--set", f"guard.max_replications={2 * int(SHORT_REPS)}"]
    return [*args, *extra]


def _short_load(original: Callable[..., Any]) -> Callable[..., Any]:
    """``load_scenario`` with ``scenario.horizon_days`` set to the short horizon."""
    key = "scenario.horizon_days"

    def load(path: Any, overrides: Mapping[str, object] | Sequence[str] | None = None) -> Any:
        if overrides is None:
            overrides = {key: int(SHORT_DAYS)}
        elif isinstance(overrides, Mapping):
            overrides = {**overrides, key: int(SHORT_DAYS)}
        else:
            overrides = [*overrides, f"{key}={SHORT_DAYS}"]
        return original(path, overrides)

    return load


def run_example(example: Example, where: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run one example from ``where``; fail with the page, the line and the output."""
    if example.kind == "python":
        monkeypatch.setattr(loyaltysim, "load_scenario", _short_load(loyaltysim.load_scenario))
        code = compile(example.text, f"{example.page}:{example.line}", "exec")
        exec(code, {"__name__": "__docs_example__"})
        return
    words = shlex.split(example.text, comments=True)
    if any(tuple(words[: len(tool)]) == tool for tool in SET_UP_TOOLS):
        return  # run by .ci/run on a clean clone (checked below)
    if words[0] == "loyaltysim":
        args = _shortened(words[1:])
        if args and args[0] == "calibrate":
            monkeypatch.setattr(agents, "AGENTS_PER_RUN", SHORT_AGENTS)
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        allowed = {EXIT_OK, EXIT_GUARD_BREACHED} if args[0] == "check" else {EXIT_OK}
        assert result.exit_code in allowed, f"{example}\n{shlex.join(args)}\n{result.output}"
        return
    if words[0] == "python" and words[1].endswith(".py"):
        done = subprocess.run(
            [sys.executable, *words[1:]], cwd=where, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"{example}\n{done.stdout}\n{done.stderr}"
        return
    pytest.fail(f"{example}: the docs runner does not know how to run this; teach it or mark it")


def _scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("scenarios", "tests", "docs", "benchmarks"):
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return tmp_path


def _page_params() -> list[Any]:
    params = []
    for page in PAGES:
        marks = [pytest.mark.slow] if page.name in COVERED_ELSEWHERE else []
        params.append(pytest.param(page, id=page.relative_to(ROOT).as_posix(), marks=marks))
    return params


@pytest.mark.parametrize("page", _page_params())
def test_every_example_of_the_page_runs(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    where = _scratch(tmp_path, monkeypatch)
    for example in extract(page):
        run_example(example, where, monkeypatch)


def test_the_runner_finds_the_examples() -> None:
    """The extraction itself: the README's set-up, its check and Python examples are found,
    the illustrative output is not, and only the marked block is skipped."""
    readme = extract(ROOT / "README.md")
    commands = [e.text for e in readme if e.kind == "command"]
    assert "loyaltysim run scenarios/cafe.toml" in commands
    assert "loyaltysim check scenarios/discount-spiral.toml" in commands
    assert not any(c.startswith(("variant", "base", "results/")) for c in commands)
    assert any("load_scenario" in e.text for e in readme if e.kind == "python")
    every = [e for page in PAGES for e in extract(page)]
    assert len(every) >= 15
    marked = sum(
        bool(SKIP_MARKER.search(line)) for page in PAGES for line in page.read_text().splitlines()
    )
    assert marked <= 2  # sparingly


def test_ci_runs_the_readme_test_command() -> None:
    """The README's set-up block is two commands: the first installs what a user needs and
    runs the main job, the second installs [dev] and runs the tests; .ci/run installs at
    least [dev] and ends with that same test command."""
    text = (ROOT / "README.md").read_text("utf-8")
    heading = text[: text.index("## Set up and run")].count("\n") + 1
    _, lang, body, _ = next(b for b in _blocks(text) if b[0] > heading)
    assert lang == "bash"
    first, second = (c.split(" && ") for c in body.strip().splitlines())
    assert first == ["python -m pip install -e .", "loyaltysim run scenarios/cafe.toml"]
    install, tests = second
    assert install == "python -m pip install -e '.[dev]'"
    assert tests.startswith("python -m pytest")
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text("utf-8").splitlines()]
    steps = [s for s in ci if s and not s.startswith("#")]
    assert steps[-1] == tests
    assert any(re.search(r"pip install .*-e '\.\[dev[],]", s) for s in steps)
