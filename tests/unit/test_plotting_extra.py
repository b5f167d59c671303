"""The frontier, the sweep heat map, the profit forest plot and the month-end profit."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from matplotlib.figure import Figure

from loyaltysim.output import charts as plotting
from loyaltysim.output import experiment_charts
from tests.factories import make_result, make_results, make_scenario

VALUES = [0.0, 0.05, 0.10, 0.15, 0.20, 0.25]


def _frontier(safe_max: float | None, best: float | None, **kwargs: object) -> Figure:
    v = np.array(VALUES)
    profit = 50_000 - 400_000 * (v - 0.08) ** 2
    ruin = np.clip((v - 0.12) * 4, 0, 1)
    return experiment_charts.frontier_chart(
        VALUES, profit, profit - 5_000, profit + 5_000,
        ruin, np.clip(ruin - 0.1, 0, 1), np.clip(ruin + 0.1, 0, 1),
        "discount.rate", safe_max, best, **kwargs,
    )  # fmt: skip


def _vertical_lines_at(fig: Figure) -> list[float]:
    ax = fig.axes[0]
    return [
        float(line.get_xdata()[0])
        for line in ax.get_lines()
        if len(set(np.atleast_1d(line.get_xdata()).tolist())) == 1 and len(line.get_xdata()) == 2
    ]


def test_frontier_marks_the_cliff_and_the_best(tmp_path: Path) -> None:
    fig = _frontier(0.10, 0.10, max_ruin_probability=0.05, currency="EUR")
    profit_ax, risk_ax = fig.axes
    assert "EUR" in profit_ax.get_ylabel() and "ruin" in risk_ax.get_ylabel()  # issue #16
    assert risk_ax.get_ylim() == (0.0, 1.0)
    assert _vertical_lines_at(fig) == [0.15]  # the cliff: the first value past safe_max
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "cliff: 15%" in texts
    labels = fig.legends[0].get_texts()
    assert any(t.get_text() == "best safe: 10%" for t in labels)
    assert any("guard: 5%" in t.get_text() for t in labels)
    for path in plotting.save_figure(fig, tmp_path / "frontier"):
        assert path.stat().st_size > 1000
        if path.suffix == ".png":
            assert matplotlib.image.imread(path).std() > 0
        else:
            assert ET.parse(path).getroot().tag.endswith("svg")


def test_frontier_without_a_cliff_or_without_a_safe_value() -> None:
    all_safe = _frontier(0.25, 0.05)
    assert _vertical_lines_at(all_safe) == []
    none_safe = _frontier(None, None)
    assert _vertical_lines_at(none_safe) == [0.0]


def test_sweep_heatmap_diverges_around_zero_for_profit(tmp_path: Path) -> None:
    xs, ys = [0.0, 0.1, 0.2], [1.0, 2.0]
    grid = [[1000.0, -200.0, np.nan], [3000.0, 500.0, -4000.0]]
    fig = experiment_charts.sweep_heatmap(
        xs, ys, grid, "discount.rate", "visits per month", "profit (currency units)"
    )
    ax = fig.axes[0]
    image = ax.get_images()[0]
    assert image.get_cmap().name.startswith("RdBu")
    assert image.norm(0.0) == pytest.approx(0.5)
    cells = [t.get_text() for t in ax.texts]
    assert len(cells) == 6 and "–" in cells and "-4.0k" in cells
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0%", "10%", "20%"]
    assert any(p.suffix == ".png" for p in plotting.save_figure(fig, tmp_path / "heat"))


def test_sweep_heatmap_one_signed_metric_uses_cividis_and_big_grids_are_not_labelled() -> None:
    grid = np.arange(20 * 15, dtype=float).reshape(15, 20) / 300
    fig = experiment_charts.sweep_heatmap(
        np.arange(20.0), np.arange(15.0), grid, "x (days)", "y (days)", "ruin probability"
    )
    ax = fig.axes[0]
    assert ax.get_images()[0].get_cmap().name.startswith("cividis")
    assert len(ax.texts) == 0


def test_profit_vs_base_chart() -> None:
    scenario = make_scenario(horizon_days=90, variants=("10% off",))
    results = make_results(("base", "10% off"), 4, 90)
    fig = plotting.profit_vs_base_chart(scenario, results)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["10% off"]
    assert "difference from base" in ax.get_xlabel()
    alone = plotting.profit_vs_base_chart(scenario, {"base": results["base"]})
    assert "No variants" in alone.axes[0].texts[0].get_text()


def test_cumulative_profit_is_drawn_at_month_ends() -> None:
    results = {"base": [make_result("base", k, 120) for k in range(3)]}
    fig = plotting.cumulative_profit_chart(results)
    line = fig.axes[0].get_lines()[0]
    # make_result charges fixed costs on days 29, 59, 89 and 119. Issue #16 changes the
    # days on purpose: day 0, each month's close (the eve of a payment) and the last day,
    # where the line ends at the profit the tables report.
    assert list(line.get_xdata()) == [0, 28, 58, 88, 118, 119]
    no_fixed = {"base": [make_result("base", 0, 40, fixed_costs_per_month=0.0)]}
    assert len(plotting.cumulative_profit_chart(no_fixed).axes[0].get_lines()[0].get_xdata()) == 40
