"""The README's first command needs no [dev] package: the main job imports none of them.

(The install itself is checked by building a fresh virtual environment with
``pip install -e .`` and running the main job there; this test guards the imports.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV_ONLY = ("pytest", "hypothesis", "SALib", "pyarrow", "ruff", "mypy", "dask")

SCRIPT = f"""
import sys
from click.testing import CliRunner
from loyaltysim.cli import main
out = sys.argv[1]
for args in (
    ["run", "scenarios/cafe.toml", "--days", "10", "--reps", "1", "--workers", "1",
     "--output", out],
    ["report", out],
    ["validate", "scenarios/cafe.toml"],
):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, (args, result.output)
loaded = sorted({{m.split(".")[0] for m in sys.modules}} & set({DEV_ONLY!r}))
print(",".join(loaded))
"""


def test_the_main_job_imports_no_dev_package(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "run")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"the default path imported {done.stdout.strip()}"
