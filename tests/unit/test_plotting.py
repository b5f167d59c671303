"""Charts are written, readable, and drawn without pyplot's global state."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import matplotlib
import matplotlib.image
import numpy as np
import pytest
from matplotlib.figure import Figure

from loyaltysim.analysis.stats import paired_difference
from loyaltysim.output import charts as plotting
from tests.factories import make_result, make_results, make_scenario


@pytest.fixture(scope="module")
def results() -> dict:
    res = make_results(("base", "10% off"), 5, 120)
    res["10% off"][2] = make_result("10% off", 2, 120, ruin_day=80, warning_days=[60])
    res["quiet"] = [make_result("quiet", k, 120, causes=[]) for k in range(2)]
    return res


def test_write_run_charts(tmp_path: Path, results: dict) -> None:
    scenario = make_scenario(horizon_days=120, variants=("10% off", "quiet"))
    written = plotting.write_run_charts(tmp_path, scenario, results)
    names = {p.name for p in written}
    for chart in plotting.RUN_CHARTS:
        assert {f"{chart}.png", f"{chart}.svg"} <= names
    for path in written:
        assert path.parent == tmp_path / "charts" and path.stat().st_size > 1000
        if path.suffix == ".png":
            image = matplotlib.image.imread(path)
            assert image.ndim == 3 and image.shape[0] > 300 and image.std() > 0
        else:
            assert path.read_text("utf-8").lstrip().startswith("<?xml")


def test_functions_return_figures(results: dict) -> None:
    scenario = make_scenario(horizon_days=120)
    figs = plotting.run_charts(scenario, results)
    assert list(figs) == list(plotting.RUN_CHARTS)
    assert all(isinstance(f, Figure) for f in figs.values())
    cash = figs["cash"].axes[0]
    # Issue #16: money is in the scenario's currency, and without one has no unit name.
    assert cash.get_ylabel() == "cash, end of day"
    legend = cash.get_legend()
    assert legend is not None
    assert any("ruined (1 of 5)" in t.get_text() for t in legend.get_texts())
    diff = plotting.difference_chart(
        {"10% off": paired_difference(np.arange(5.0) + 1, np.arange(5.0))}, "Profit"
    )
    assert isinstance(diff, Figure)


def test_save_figure_is_reproducible(tmp_path: Path, results: dict) -> None:
    fig = plotting.customers_chart(results)
    a = plotting.save_figure(fig, tmp_path / "a" / "customers")
    b = plotting.save_figure(fig, tmp_path / "b" / "customers")
    assert [p.suffix for p in a] == [".png", ".svg"]
    assert a[1].read_bytes() == b[1].read_bytes()


@pytest.mark.parametrize("chart", ["cash", "churn_causes", "defector_satisfaction"])
def test_png_has_the_pixels_of_savefig(tmp_path: Path, results: dict, chart: str) -> None:
    # save_figure draws once and drops the (opaque) alpha channel: the same image.
    scenario = make_scenario(horizon_days=120, variants=("10% off", "quiet"))
    fig = plotting.run_charts(scenario, results)[chart]
    canvas, dpi = fig.canvas, fig.dpi
    (png,) = plotting.save_figure(fig, tmp_path / chart, formats=(".png",))
    assert fig.canvas is canvas and fig.dpi == dpi  # the figure is left as it was
    buffer = io.BytesIO()
    with matplotlib.rc_context(plotting.STYLE):
        fig.savefig(buffer, format="png", dpi=plotting.DPI, facecolor="white")
    buffer.seek(0)
    expected = matplotlib.image.imread(buffer, format="png")
    assert np.array_equal(matplotlib.image.imread(png), expected[..., :3])


def test_long_horizons_are_thinned() -> None:
    days, mid, lo, hi = plotting._band(np.random.default_rng(0).normal(size=(4, 36_500)))
    assert len(days) <= plotting.MAX_POINTS + 1 and days[-1] == 36_499
    assert np.all(lo <= mid) and np.all(mid <= hi)


def test_importing_the_analysis_does_not_import_matplotlib() -> None:
    code = (
        "import sys, loyaltysim.analysis, loyaltysim.output.folder; "
        "sys.exit('matplotlib' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
