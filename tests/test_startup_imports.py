"""`loyaltysim --help` and `loyaltysim validate` import none of the heavy libraries.

They are what a user types first and most often; the simulation stack (SimPy, SciPy),
the tables (pandas), the charts (matplotlib) and the report (Jinja2) cost several tenths
of a second to import, so the commands that need them import them in their bodies. This
is a structural check of which modules get imported, not a clock: the time itself is a
figure of ``benchmarks/bench_startup.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("jinja2", "matplotlib", "pandas", "pyarrow", "scipy", "simpy")

SCRIPT = """
import sys
from loyaltysim.cli import main
try:
    main(sys.argv[1:], prog_name="loyaltysim")
except SystemExit as exc:
    code = exc.code
print(code)
print(",".join(sorted(sys.modules)))
"""


def _imported(*args: str) -> tuple[int, set[str]]:
    """The command's exit code and every module it imported (full dotted names)."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    code, modules = done.stdout.strip().splitlines()[-2:]
    return int(code), set(modules.split(","))


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("validate", "scenarios/cafe.toml"),
        # word of mouth on: validation bounds the first referrals before the exact figure
        ("validate", "scenarios/seed-claims.toml", "scenarios/gym.toml"),
        ("run", "--help"),
    ],
)
def test_the_first_commands_import_no_heavy_library(args: tuple[str, ...]) -> None:
    code, modules = _imported(*args)
    assert code == 0
    assert "loyaltysim" in modules and "click" in modules  # the check ran the command
    assert sorted(_top_level(modules) & set(HEAVY)) == []
    # Nor numpy: the policies that checking a scenario loads use it only in a simulation,
    # so it stays an unexecuted lazy module (executing it imports numpy._core).
    assert "numpy._core" not in modules


@pytest.mark.parametrize("args", [("--help",), ("run", "--help"), ("init", "--help")])
def test_help_imports_neither_numpy_nor_pydantic(args: tuple[str, ...]) -> None:
    # Help needs click and the commands' texts only: the scenario loader (pydantic, the
    # schema, the policies' numpy) is imported where a scenario is loaded.
    code, modules = _imported(*args)
    assert code == 0
    assert sorted(_top_level(modules) & {"numpy", "pydantic"}) == []


def _top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_a_run_still_imports_the_simulation(tmp_path: Path) -> None:
    # the other side of the check: the names are the modules' real top-level names
    code, modules = _imported(
        "run", "scenarios/cafe.toml", "--days", "5", "--reps", "1", "--workers", "1",
        "--quiet", "--charts", "none", "--output", str(tmp_path / "run"),
    )  # fmt: skip
    assert code == 0
    assert {"simpy", "scipy", "numpy"} <= _top_level(modules)
    assert "numpy._core" in modules  # the lazy numpy of the policies was loaded
    # Intervals and verdicts need quantiles only (scipy.special), not scipy.stats, whose
    # import (optimize, linprog, ...) cost every run about 0.4 s; a chartless run draws
    # nothing and reads no table.
    assert sorted(m for m in modules if m.startswith(("scipy.stats", "scipy.optimize"))) == []
    assert sorted(_top_level(modules) & {"matplotlib", "pandas", "jinja2"}) == []


def test_every_name_of_the_lazy_scenario_package_resolves() -> None:
    import loyaltysim.scenario as package

    assert sorted(package.__all__) == sorted(package._LAZY)
    for name in package.__all__:
        assert getattr(package, name) is not None, name


LAZY_SCRIPT = """
import sys
from loyaltysim.lazy_names import lazy_module
colorsys = lazy_module("colorsys")
before = type(colorsys).__name__  # type() reads no attribute: loads nothing
hsv = colorsys.rgb_to_hsv(1.0, 0.0, 0.0)
import colorsys as again
print(before, hsv, again is colorsys, type(colorsys).__name__)
"""


def test_a_lazy_module_runs_at_its_first_use_and_is_then_the_module() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LAZY_SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["_LazyModule", "(0.0,", "1.0,", "1.0)", "True", "module"]
