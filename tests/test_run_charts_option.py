"""`run --charts png|svg|both|none`: PNG by default, SVG on request, or no charts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image
import pytest
from click.testing import CliRunner

from loyaltysim.cli import main
from loyaltysim.output.charts import RUN_CHARTS

ROOT = Path(__file__).resolve().parents[1]
SHORT = ("--days", "10", "--reps", "1", "--workers", "1", "--quiet")


def _run(tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "run"
    scenario = str(ROOT / "scenarios" / "cafe.toml")
    result = CliRunner().invoke(main, ["run", scenario, *SHORT, *args, "--output", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _charts(out: Path) -> list[str]:
    folder = out / "charts"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.parametrize(
    ("args", "suffixes"),
    [
        ((), (".png",)),  # the default: the results contract's charts/*.png
        (("--charts", "svg"), (".svg",)),
        (("--charts", "both"), (".png", ".svg")),
    ],
)
def test_run_writes_the_charts_in_the_formats_asked(
    tmp_path: Path, args: tuple[str, ...], suffixes: tuple[str, ...]
) -> None:
    out = _run(tmp_path, *args)
    assert _charts(out) == sorted(f"{name}{s}" for name in RUN_CHARTS for s in suffixes)
    for name in _charts(out):
        path = out / "charts" / name
        if path.suffix == ".png":
            image = matplotlib.image.imread(path)
            assert image.ndim == 3 and image.std() > 0
        else:
            assert ET.parse(path).getroot().tag.endswith("svg")


@pytest.mark.parametrize("args", [("--charts", "none"), ("--no-charts",)])
def test_run_without_charts_writes_none(tmp_path: Path, args: tuple[str, ...]) -> None:
    out = _run(tmp_path, *args)
    assert _charts(out) == []
    assert (out / "summary.json").is_file()


def test_an_unknown_chart_format_is_a_usage_error(tmp_path: Path) -> None:
    scenario = str(ROOT / "scenarios" / "cafe.toml")
    result = CliRunner().invoke(main, ["run", scenario, "--charts", "jpeg"])
    assert result.exit_code == 2
    assert "png" in result.output and "svg" in result.output
