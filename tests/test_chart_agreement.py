"""Charts agree with the tables: every chart ends where the summary says (issue #16 item 6).

The charts are read as data (the matplotlib artists' coordinates), never as images: the
line of each plan must end at the summary's mean, bars must have the summary's shares,
probability axes run from 0 to 1, and causes nobody left for are not in the legend.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure

from loyaltysim.cli import main
from loyaltysim.model.result import CAUSES
from loyaltysim.output import charts
from loyaltysim.output.experiment_charts import frontier_chart, sweep_figure, sweep_heatmap
from loyaltysim.output.report_data import RunData, load_run

ROOT = Path(__file__).resolve().parents[1]
DAYS = 75  # two month ends and a tail after the last one: the chart must reach the end


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> RunData:
    """A short real run of the café in euros: 3 replications x 75 days, every variant."""
    out = tmp_path_factory.mktemp("agree") / "cafe"
    result = CliRunner().invoke(
        main,
        [
            "run", str(ROOT / "scenarios" / "cafe.toml"), "--days", str(DAYS), "--reps", "3",
            "--workers", "1", "--quiet", "--no-charts", "--output", str(out),
            "--set", "scenario.currency=EUR",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    loaded = load_run(out)
    assert loaded.runs and loaded.summary and not loaded.alerts
    return loaded


def _metric(data: RunData, variant: str, name: str) -> float:
    assert data.summary is not None
    block = next(v for v in data.summary["variants"] if v["name"] == variant)
    return float(block["metrics"][name]["mean"])


def _lines_by_label(fig: Figure) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for line in fig.axes[0].get_lines():
        label = str(line.get_label())
        if not label.startswith("_"):
            out[label] = (np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float))
    return out


@pytest.mark.parametrize(
    ("chart", "metric"),
    [("cumulative_profit", "profit"), ("customers", "customers_end"), ("cash", "cash_end")],
)
def test_each_line_ends_at_the_summary_mean(data: RunData, chart: str, metric: str) -> None:
    """Cumulative profit ends at the profit figure (it used to stop at the last month end,
    near 51k where the table said 69,570); customers and cash end at theirs."""
    assert data.scenario is not None
    fig = charts.run_charts(data.scenario, data.runs)[chart]
    lines = _lines_by_label(fig)
    for name in data.runs:
        x, y = lines[name]
        assert x[-1] == DAYS - 1, (chart, name)
        assert y[-1] == pytest.approx(_metric(data, name, metric), rel=1e-9, abs=1e-6)


def test_profit_vs_base_dots_are_the_summary_differences(data: RunData) -> None:
    assert data.scenario is not None and data.summary is not None
    fig = charts.profit_vs_base_chart(data.scenario, data.runs)
    ax = fig.axes[0]
    names = [t.get_text() for t in ax.get_yticklabels()]
    ticks = list(ax.get_yticks())
    dots = {}
    for line in ax.get_lines():
        if line.get_marker() == "o":
            y = float(np.asarray(line.get_ydata())[0])
            dots[names[ticks.index(y)]] = float(np.asarray(line.get_xdata())[0])
    expected = {
        v["name"]: v["vs_base"]["profit"]["mean"]
        for v in data.summary["variants"]
        if v["name"] != "base"
    }
    assert dots.keys() == expected.keys()
    for name, mean in expected.items():
        assert dots[name] == pytest.approx(mean, rel=1e-9, abs=1e-6)
    assert "EUR" in ax.get_xlabel()


def test_cause_bars_are_the_summary_shares_and_zero_causes_have_no_legend(
    data: RunData,
) -> None:
    assert data.summary is not None
    fig = charts.churn_causes_chart(data.runs)
    ax = fig.axes[0]
    names = list(data.runs)
    y_of = dict(zip(np.arange(len(names))[::-1].tolist(), names, strict=True))
    widths: dict[str, dict[str, float]] = {n: {} for n in names}
    legend = [t.get_text() for t in fig.legends[0].get_texts()] if fig.legends else []
    labels = {charts.CAUSE_LABELS[c]: c for c in CAUSES}
    for container in ax.containers:
        cause = labels[str(container.get_label())]
        for bar in container:
            y = round(bar.get_y() + bar.get_height() / 2)
            widths[y_of[y]][cause] = bar.get_width()
    for v in data.summary["variants"]:
        for cause in CAUSES:
            share = float(v["churn_causes"].get(cause, 0.0))
            assert widths[v["name"]].get(cause, 0.0) == pytest.approx(share, abs=1e-9)
    for cause in CAUSES:
        seen = any(float(v["churn_causes"].get(cause, 0.0)) > 0 for v in data.summary["variants"])
        assert (charts.CAUSE_LABELS[cause] in legend) == seen, cause
    assert any(
        all(float(v["churn_causes"].get(c, 0.0)) == 0 for v in data.summary["variants"])
        for c in CAUSES
    ), "the café's run should have a cause nobody left for (hostage): the test needs one"


def test_satisfied_defectors_share_is_the_summary_figure(data: RunData) -> None:
    fig = charts.defector_satisfaction_chart(data.runs)
    for ax, name in zip(fig.axes, data.runs, strict=True):
        title = ax.get_title(loc="left")
        share = _metric(data, name, "satisfied_defector_share")
        assert title.startswith(f"{name}: {share:.0%} of"), title


def test_money_axes_are_in_the_currency(data: RunData) -> None:
    assert data.scenario is not None
    figs = charts.run_charts(data.scenario, data.runs)
    for name in ("cash", "cumulative_profit", "profit_vs_base"):
        label = figs[name].axes[0].get_ylabel() + figs[name].axes[0].get_xlabel()
        assert "EUR" in label and "currency units" not in label, (name, label)


# --------------------------------------------------------------------------- experiments


def test_frontier_chart_draws_the_points_and_bounds_the_risk_axis() -> None:
    values = [0.0, 0.1, 0.2]
    profit = [5000.0, 3000.0, -2000.0]
    fig = frontier_chart(
        values, profit, [4000.0, 2000.0, -3000.0], [6000.0, 4000.0, -1000.0],
        [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.05, 0.05, 0.05], "discount.rate", 0.1, 0.0,
        max_ruin_probability=0.05, currency="€",
    )  # fmt: skip
    ax, risk = fig.axes[0], fig.axes[1]
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "profit (mean)")
    assert list(line.get_ydata()) == profit
    assert risk.get_ylim() == (0.0, 1.0)
    assert "€" in ax.get_ylabel()


def _rows(ruin: float) -> list[dict[str, float]]:
    rows = []
    for i, (a, b) in enumerate([(a, b) for a in (0.0, 0.1) for b in (1.0, 2.0)]):
        rows.append(
            {
                "point": i, "discount.rate": a, "x.y": b, "profit_mean": 1000.0 * (i + 1),
                "profit_ci_lo": 900.0, "profit_ci_hi": 1100.0, "churn_rate_annual_mean": 0.3,
                "churn_rate_annual_ci_lo": 0.2, "churn_rate_annual_ci_hi": 0.4,
                "ruin_probability": ruin, "ruin_ci_lo": 0.0, "ruin_ci_hi": ruin + 0.1,
            }
        )  # fmt: skip
    return rows


def test_a_sweep_without_ruin_has_a_ruin_scale_of_0_to_1() -> None:
    """No ruin anywhere used to give a colour bar from -10% to +10% ruin risk."""
    fig = sweep_figure(_rows(0.0), ["discount.rate", "x.y"], currency="EUR")
    (ruin,) = [c for c in fig.axes[1].collections if isinstance(c, QuadMesh)]
    assert ruin.get_clim() == (0.0, 1.0)
    one = sweep_figure(_rows(0.0)[:2], ["x.y"])
    assert one.axes[2].get_ylim() == (0.0, 1.0)
    assert "EUR" in fig.axes[0].get_title(loc="left")


def test_a_ruin_heat_map_is_bounded_to_0_1() -> None:
    fig = sweep_heatmap(
        [0.0, 0.1], [1.0, 2.0], [[0.0, 0.0], [0.0, 0.0]], "discount.rate", "x.y",
        "ruin probability",
    )  # fmt: skip
    image = fig.axes[0].get_images()[0]
    assert image.get_clim() == (0.0, 1.0)


def test_float_noise_is_zero_in_a_sweep_row() -> None:
    from loyaltysim.experiment.design import Point
    from loyaltysim.experiment.sweep import point_row

    values = {"discount_cost": np.array([-3.95e-11, 2e-12, -1e-13])}
    row = point_row([], Point(0, ()), values, np.zeros(3, bool), ["discount_cost"])
    assert row["discount_cost_mean"] == 0.0 and not math.copysign(1, row["discount_cost_mean"]) < 0


def test_the_reports_forest_plot_is_in_the_currency(data: RunData) -> None:
    """The report draws its own forest plot from the summary: in the currency too (it was
    unitless while the run's chart files said EUR: found looking at the PDF)."""
    from loyaltysim.workflows.report import _forest

    assert "EUR" in _forest(data).axes[0].get_xlabel()
