"""Charts of experiments: sweeps, frontiers, sensitivity indices and paired comparisons.

Like :mod:`loyaltysim.output.charts` (whose palette, style and :func:`save_figure` it uses): the
Agg backend, figures built without pyplot, the Okabe-Ito palette, axes labelled with units,
PNG and SVG written atomically into ``<run_dir>/charts/``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

if "matplotlib.pyplot" not in sys.modules:
    matplotlib.use("Agg")

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from loyaltysim.analysis.metrics import METRICS, MONEY
from loyaltysim.analysis.stats import PairedDifference
from loyaltysim.output.charts import (
    OKABE_ITO,
    SLIDE,
    STYLE,
    _axes,
    _figure,
    _note,
    _styled,
    difference_chart,
    save_figure,
)
from loyaltysim.scenario.money import snap, with_unit

# (metric, panel title, y label) of a sweep chart's panels.
SWEEP_PANELS: tuple[tuple[str, str, str], ...] = (
    ("profit", "Profit over the horizon", "money"),
    ("churn_rate_annual", "Churn: defections per customer per year", "per year"),
    ("ruin_probability", "Ruin risk: share of replications ruined", "probability"),
)


def _money(x: float, _pos: object = None) -> str:
    return f"{snap(x):,.0f}".replace("-", "−")


def _unit_words(unit: str, currency: str | None) -> str:
    """A panel's unit: ``money`` (and the old ``currency units``) is the scenario's currency."""
    if unit in ("money", "currency units"):
        return currency or ""
    return unit


def bound_probability(ax: Axes) -> None:
    """A probability axis runs from 0 to 1, whatever the data (no ruin must not read as
    a range from -10% to +10%)."""
    ax.set_ylim(0.0, 1.0)


def _format_axis(ax: Axes, metric: str, axis: str = "y") -> None:
    target = ax.yaxis if axis == "y" else ax.xaxis
    unit = METRICS[metric].unit if metric in METRICS else "share"
    if unit == MONEY or unit in ("customers", "tickets"):
        target.set_major_formatter(FuncFormatter(_money))
    elif unit.startswith("share"):
        target.set_major_formatter(PercentFormatter(1.0, decimals=0))


def _interval(rows: Sequence[Mapping[str, float]], metric: str) -> tuple[np.ndarray, ...]:
    if metric == "ruin_probability":
        cols = ("ruin_probability", "ruin_ci_lo", "ruin_ci_hi")
    else:
        cols = (f"{metric}_mean", f"{metric}_ci_lo", f"{metric}_ci_hi")
    return tuple(np.array([r.get(c, math.nan) for r in rows], dtype=np.float64) for c in cols)


def _one_param(
    rows: Sequence[Mapping[str, float]], key: str, title: str, currency: str | None = None
) -> Figure:
    fig = Figure(figsize=(SLIDE[0], SLIDE[1] * 1.25), layout="constrained")
    axes = fig.subplots(len(SWEEP_PANELS), 1, sharex=True)
    ordered = sorted(rows, key=lambda r: r[key])
    x = np.array([r[key] for r in ordered], dtype=np.float64)
    for i, (ax, (metric, name, ylabel)) in enumerate(zip(axes, SWEEP_PANELS, strict=True)):
        mean, lo, hi = _interval(ordered, metric)
        c = OKABE_ITO[(i + 1) % len(OKABE_ITO)]
        ax.fill_between(x, lo, hi, color=c, alpha=0.2, linewidth=0, label="95% interval")
        ax.plot(x, mean, "o-", color=c, markersize=4, label="mean over replications")
        ax.set_title(name, loc="left", fontsize=13)
        ax.set_ylabel(_unit_words(ylabel, currency), fontsize=10)
        _format_axis(ax, metric)
        if metric == "profit":
            ax.axhline(0.0, color="#555555", linewidth=1.0)
        if metric == "ruin_probability":
            bound_probability(ax)
    axes[0].legend(frameon=False, fontsize=10, loc="best")
    axes[-1].set_xlabel(key)
    fig.suptitle(title, x=0.01, ha="left")
    return fig


def _two_params(
    rows: Sequence[Mapping[str, float]],
    keys: Sequence[str],
    title: str,
    currency: str | None = None,
) -> Figure:
    fig = Figure(figsize=SLIDE, layout="constrained")
    axes = fig.subplots(1, 2)
    kx, ky = keys
    xs = sorted({r[kx] for r in rows})
    ys = sorted({r[ky] for r in rows})
    grid = len(xs) * len(ys) == len(rows)
    profit_name = with_unit("Profit, mean", currency)
    panels = ((("profit", profit_name, "viridis")), ("ruin_probability", "Ruin risk", "magma_r"))
    for ax, (metric, name, cmap) in zip(axes, panels, strict=True):
        values, _, _ = _interval(rows, metric)
        if grid:
            z = np.full((len(ys), len(xs)), np.nan)
            for r, v in zip(rows, values, strict=True):
                z[ys.index(r[ky]), xs.index(r[kx])] = v
            mesh = ax.pcolormesh(_edges(xs), _edges(ys), z, cmap=cmap, shading="flat")
        else:  # a Latin hypercube: scattered points
            mesh = ax.scatter(
                [r[kx] for r in rows], [r[ky] for r in rows], c=values, cmap=cmap, s=40
            )
        if metric == "ruin_probability":
            mesh.set_clim(0.0, 1.0)  # a probability: 0 to 1, also when nothing was ruined
        bar = fig.colorbar(mesh, ax=ax)
        if metric == "ruin_probability":
            bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        else:
            bar.ax.yaxis.set_major_formatter(FuncFormatter(_money))
        ax.set_title(name, loc="left", fontsize=13)
        ax.set_xlabel(kx)
        ax.set_ylabel(ky)
        ax.grid(False)
    fig.suptitle(title, x=0.01, ha="left")
    return fig


def _edges(values: Sequence[float]) -> np.ndarray:
    """Cell edges around sorted centres (midpoints; half a step beyond the ends)."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 1:
        return np.array([v[0] - 0.5, v[0] + 0.5])
    mid = (v[1:] + v[:-1]) / 2.0
    return np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])


def _many_params(
    rows: Sequence[Mapping[str, float]],
    keys: Sequence[str],
    title: str,
    currency: str | None = None,
) -> Figure:
    cols = min(3, len(keys))
    nrows = math.ceil(len(keys) / cols)
    fig = Figure(figsize=(SLIDE[0], max(SLIDE[1], 2.8 * nrows)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, cols, sharey=True)).ravel()
    profit, _, _ = _interval(rows, "profit")
    for i, key in enumerate(keys):
        ax = axes[i]
        ax.scatter([r[key] for r in rows], profit, s=14, color=OKABE_ITO[(i + 1) % 8], alpha=0.7)
        ax.set_xlabel(key, fontsize=10)
        ax.yaxis.set_major_formatter(FuncFormatter(_money))
        if i % cols == 0:
            ax.set_ylabel(with_unit("profit (mean)", currency))
    for ax in axes[len(keys) :]:
        ax.set_visible(False)
    fig.suptitle(title + ": profit against each parameter", x=0.01, ha="left")
    return fig


def sweep_figure(
    rows: Sequence[Mapping[str, float]],
    keys: Sequence[str],
    title: str = "Sweep",
    currency: str | None = None,
) -> Figure:
    """The sweep's chart: profit, churn and ruin risk with 95% intervals against one
    parameter; heat maps (grid) or coloured points (sampled) of profit and ruin risk over
    two; profit against each parameter for more."""
    with matplotlib.rc_context(STYLE):
        if len(keys) == 1:
            return _one_param(rows, keys[0], title, currency)
        if len(keys) == 2:
            return _two_params(rows, keys, title, currency)
        return _many_params(rows, keys, title, currency)


def write_sweep_chart(
    run_dir: Path | str,
    params: Sequence[Any],
    rows: Sequence[Mapping[str, float]],
    scenario: Any = None,
) -> list[Path]:
    """Draw ``charts/sweep.png`` and ``.svg``; returns the files written."""
    keys = [p.key for p in params]
    title = f"Sweep: {scenario.scenario.name}" if scenario is not None else "Sweep"
    charts = Path(run_dir) / "charts"
    charts.mkdir(parents=True, exist_ok=True)
    currency = scenario.scenario.currency if scenario is not None else None
    return save_figure(sweep_figure(rows, keys, title, currency), charts / "sweep")


def sensitivity_figure(analysis: Mapping[str, Any]) -> Figure:
    """Horizontal bars of each parameter's index with its bootstrap interval, one panel per
    output: total (and first-order) Sobol indices, or Morris mu*."""
    outputs = list(analysis["outputs"])
    method = analysis["method"]
    n_params = len(analysis["params"])
    height = max(SLIDE[1], 1.2 + 0.45 * n_params * len(outputs) + 0.6 * len(outputs))
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(SLIDE[0], min(height, 16.0)), layout="constrained")
        axes = np.atleast_1d(fig.subplots(len(outputs), 1)).ravel()
        for ax, output in zip(axes, outputs, strict=True):
            ranked = analysis["outputs"][output]["ranking"][::-1]  # strongest on top
            names = [r["param"] for r in ranked]
            y = np.arange(len(names))
            if method == "sobol":
                ax.barh(
                    y + 0.18,
                    [r["ST"] for r in ranked],
                    height=0.36,
                    xerr=[r["ST_conf"] for r in ranked],
                    color=OKABE_ITO[5],
                    label="total (ST)",
                    capsize=3,
                )
                ax.barh(
                    y - 0.18,
                    [r["S1"] for r in ranked],
                    height=0.36,
                    xerr=[r["S1_conf"] for r in ranked],
                    color=OKABE_ITO[1],
                    label="first order (S1)",
                    capsize=3,
                )
                ax.set_xlabel("Sobol index (share of the output's variance)")
            else:
                ax.barh(
                    y,
                    [r["mu_star"] for r in ranked],
                    height=0.6,
                    xerr=[r["mu_star_conf"] for r in ranked],
                    color=OKABE_ITO[5],
                    label="mu* (mean |elementary effect|)",
                    capsize=3,
                )
                unit = METRICS[output].unit if output in METRICS else "share"
                ax.set_xlabel(f"change in {output} over the parameter's range ({unit})")
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.3g}"))
            ax.axvline(0.0, color="#555555", linewidth=1.0)
            ax.set_yticks(y, names)
            ax.set_title(f"What drives {output}", loc="left", fontsize=13)
            ax.grid(axis="y", visible=False)
            ax.legend(frameon=False, fontsize=10, loc="lower right")
        level = analysis.get("conf_level", 0.95)
        fig.suptitle(
            f"Sensitivity ({method}); error bars: {level:.0%} bootstrap intervals",
            x=0.01,
            ha="left",
        )
    return fig


def write_sensitivity_chart(run_dir: Path | str, analysis: Mapping[str, Any]) -> list[Path]:
    """Draw ``charts/sensitivity.png`` and ``.svg``; returns the files written."""
    charts = Path(run_dir) / "charts"
    charts.mkdir(parents=True, exist_ok=True)
    return save_figure(sensitivity_figure(analysis), charts / "sensitivity")


def write_compare_charts(
    run_dir: Path | str,
    differences: Mapping[str, Mapping[str, PairedDifference]],
    reference: str,
    titles: Mapping[str, tuple[str, str]],
    currency: str | None = None,
) -> list[Path]:
    """One forest plot per metric (:func:`loyaltysim.output.charts.difference_chart`): each
    entry's paired difference from ``reference`` with its paired and unpaired intervals.

    ``differences`` is ``{metric: {entry: PairedDifference}}``; ``titles`` gives each
    metric's ``(title, unit)``. Files: ``charts/compare_<metric>.png`` and ``.svg``.
    """
    charts = Path(run_dir) / "charts"
    charts.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for metric, diffs in differences.items():
        if not diffs:
            continue
        title, unit = titles.get(metric, (metric, ""))
        unit = _unit_words(unit, currency)
        fig = difference_chart(diffs, f"{title} vs {reference}", unit)
        if metric == "ruin" or (metric in METRICS and METRICS[metric].unit.startswith("share")):
            for ax in fig.axes:
                ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
                ax.set_xlabel(with_unit(f"difference from {reference}", unit or None))
        else:
            for ax in fig.axes:
                ax.set_xlabel(with_unit(f"difference from {reference}", unit or None))
        written += save_figure(fig, charts / f"compare_{metric}")
    return written


def _is_share(param: str, values: np.ndarray) -> bool:
    """Whether a swept parameter is a fraction (a rate or share) best shown as a percent."""
    leaf = param.rsplit(".", 1)[-1]
    fraction_words = ("rate", "share", "discount", "proneness", "probability", "conversion")
    return bool(
        values.size
        and np.all((values >= 0.0) & (values <= 1.0))
        and any(w in leaf for w in fraction_words)
    )


def _value_text(value: float, share: bool) -> str:
    if share:
        return f"{value:.0%}" if abs(value * 100 - round(value * 100)) < 1e-9 else f"{value:.1%}"
    return f"{value:,.4g}"


@_styled
def frontier_chart(
    values: Sequence[float],
    profit_mean: Sequence[float],
    profit_lo: Sequence[float],
    profit_hi: Sequence[float],
    ruin_p: Sequence[float],
    ruin_lo: Sequence[float],
    ruin_hi: Sequence[float],
    param: str,
    safe_max: float | None,
    best: float | None,
    *,
    max_ruin_probability: float | None = None,
    currency: str | None = None,
    cliff: float | None = math.nan,
) -> Figure:
    """The safe-discount frontier: profit and ruin risk as one parameter grows.

    Profit (mean and 95% interval, in the scenario's currency) is drawn on the left axis, the
    probability of ruin (share of replications, with its 95% Wilson interval) on a twin
    right axis. The cliff, the first value past ``safe_max`` (the last safe value), is
    marked by a vertical line and the unsafe side is shaded; ``best`` (the most profitable
    safe value) is starred.

    Parameters
    ----------
    values : sequence of float
        The parameter's values, in increasing order.
    profit_mean, profit_lo, profit_hi : sequence of float
        Mean profit over the horizon and its 95% interval at each value (money).
    ruin_p, ruin_lo, ruin_hi : sequence of float
        Probability of ruin and its 95% interval at each value (fractions).
    param : str
        The parameter's dotted key, e.g. ``"discount.rate"`` (the x-axis label).
    safe_max : float or None
        The largest value judged safe; None when no value is safe.
    best : float or None
        The most profitable safe value; None when there is none.
    max_ruin_probability : float, optional
        The guard's limit, drawn as a dotted line on the ruin axis.
    """
    x = np.asarray(values, dtype=np.float64)
    share = _is_share(param, x)
    fig = _figure()
    ax = _axes(fig)
    profit_colour, ruin_colour = "#0072B2", "#D55E00"
    ax.fill_between(
        x, np.asarray(profit_lo, float), np.asarray(profit_hi, float),
        color=profit_colour, alpha=0.18, linewidth=0,
    )  # fmt: skip
    ax.plot(x, np.asarray(profit_mean, float), "o-", color=profit_colour, label="profit (mean)")
    ax.axhline(0.0, color="#555555", linewidth=1.0)
    ax.set_xlabel(param + (" (share of list price)" if share and "discount" in param else ""))
    ax.set_ylabel(with_unit("profit over the horizon", currency), color=profit_colour)
    ax.yaxis.set_major_formatter(FuncFormatter(_money))
    ax.tick_params(axis="y", colors=profit_colour)
    if share:
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))

    risk = ax.twinx()
    risk.spines["right"].set_visible(True)
    risk.grid(False)
    risk.fill_between(
        x, np.asarray(ruin_lo, float), np.asarray(ruin_hi, float),
        color=ruin_colour, alpha=0.15, linewidth=0,
    )  # fmt: skip
    risk.plot(x, np.asarray(ruin_p, float), "s--", color=ruin_colour, label="ruin risk")
    risk.set_ylim(0.0, 1.0)
    risk.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    risk.set_ylabel("probability of ruin", color=ruin_colour)
    risk.tick_params(axis="y", colors=ruin_colour)
    if max_ruin_probability is not None:
        risk.axhline(
            max_ruin_probability, color=ruin_colour, linestyle=":", linewidth=1.5,
            label=f"guard: {max_ruin_probability:.0%} ruin risk",
        )  # fmt: skip

    if cliff is not None and math.isnan(cliff):  # not given: the first value past safe_max
        past = x[x > safe_max] if safe_max is not None else x
        cliff = float(past.min()) if past.size else None
    if cliff is not None:
        right = float(x.max()) if x.size else cliff
        pad = (right - float(x.min())) * 0.03 if x.size > 1 else 0.5
        ax.axvspan(cliff, right + pad, color=ruin_colour, alpha=0.07, linewidth=0)
        ax.axvline(cliff, color=ruin_colour, linewidth=2.0)
        risk.annotate(
            f"cliff: {_value_text(cliff, share)}",
            xy=(cliff, 1.0), xycoords=("data", "axes fraction"),
            xytext=(6, -6), textcoords="offset points", ha="left", va="top",
            color=ruin_colour, fontsize=12, fontweight="bold",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5},
        )  # fmt: skip
    if best is not None and x.size:
        k = int(np.argmin(np.abs(x - best)))
        ax.plot(
            [x[k]], [np.asarray(profit_mean, float)[k]], marker="*", markersize=18,
            color="#009E73", markeredgecolor="black", linestyle="none", zorder=6,
            label=f"best safe: {_value_text(float(x[k]), share)}",
        )  # fmt: skip
    ax.set_title("Safe-discount frontier", loc="left")
    _note(ax, "bands: 95% intervals")
    handles, labels = ax.get_legend_handles_labels()
    h2, l2 = risk.get_legend_handles_labels()
    fig.legend(handles + h2, labels + l2, frameon=False, loc="outside lower center", ncols=4)
    return fig


@_styled
def sweep_heatmap(
    x_values: Sequence[float],
    y_values: Sequence[float],
    grid: Any,
    x_label: str,
    y_label: str,
    metric_label: str,
) -> Figure:
    """A two-parameter sweep as a heat map: one cell per pair of values.

    ``grid[i][j]`` is the metric at ``y_values[i]`` and ``x_values[j]``; NaN marks a point
    not run (drawn grey). A metric with both signs (profit) gets a diverging map centred on
    zero (ColorBrewer RdBu, safe for colour-vision deficiencies), else cividis (designed
    for them; Nuñez et al. 2018). Cells are labelled with their values while the grid is
    small enough to read.

    Parameters
    ----------
    x_values, y_values : sequence of float
        The two parameters' values (columns and rows).
    grid : array_like
        ``(len(y_values), len(x_values))`` metric values.
    x_label, y_label : str
        Axis labels: the parameters' keys, with units.
    metric_label : str
        What the colours show, with its unit (the colour bar's label).
    """
    from matplotlib import colors as mcolors

    xs = np.asarray(x_values, dtype=np.float64)
    ys = np.asarray(y_values, dtype=np.float64)
    z = np.asarray(grid, dtype=np.float64).reshape(len(ys), len(xs))
    finite = z[np.isfinite(z)]
    fig = _figure()
    ax = _axes(fig)
    probability = any(w in metric_label.lower() for w in ("probability", "risk"))
    norm: mcolors.Normalize
    if probability:
        cmap = matplotlib.colormaps["cividis"].with_extremes(bad="#DDDDDD")
        norm = mcolors.Normalize(0.0, 1.0)  # a probability: 0 to 1, whatever was seen
    elif finite.size and finite.min() < 0.0 < finite.max():
        cmap = matplotlib.colormaps["RdBu"].with_extremes(bad="#DDDDDD")
        bound = float(np.abs(finite).max())
        norm = mcolors.TwoSlopeNorm(0.0, -bound, bound)
    else:
        cmap = matplotlib.colormaps["cividis"].with_extremes(bad="#DDDDDD")
        lo = float(finite.min()) if finite.size else 0.0
        hi = float(finite.max()) if finite.size else 1.0
        norm = mcolors.Normalize(lo, hi if hi > lo else lo + 1.0)
    image = ax.imshow(
        np.ma.masked_invalid(z), cmap=cmap, norm=norm, origin="lower", aspect="auto",
        interpolation="nearest",
    )  # fmt: skip
    x_share = _is_share(x_label.split(" ")[0], xs)
    y_share = _is_share(y_label.split(" ")[0], ys)
    ax.set_xticks(np.arange(len(xs)), [_value_text(v, x_share) for v in xs])
    ax.set_yticks(np.arange(len(ys)), [_value_text(v, y_share) for v in ys])
    if len(xs) > 12:
        ax.tick_params(axis="x", labelrotation=45)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.grid(False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    bar = fig.colorbar(image, ax=ax, shrink=0.9)
    bar.set_label(metric_label)
    bar.formatter = FuncFormatter(_compact)
    bar.update_ticks()
    if z.size <= 144:
        size = 11 if z.size <= 49 else 9
        for i in range(len(ys)):
            for j in range(len(xs)):
                v = z[i, j]
                if not np.isfinite(v):
                    ax.text(j, i, "–", ha="center", va="center", fontsize=size, color="#555555")
                    continue
                r, g, b, _ = cmap(norm(v))
                dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5
                ax.text(
                    j, i, _compact(v), ha="center", va="center", fontsize=size,
                    color="white" if dark else "black",
                )  # fmt: skip
    ax.set_title(f"Sweep: {metric_label}", loc="left")
    return fig


def _compact(x: float, _pos: object = None) -> str:
    """Short number for cells and colour bars: 1.2k, 3.4M, 0.25."""
    a = abs(x)
    if a >= 1e6:
        return f"{x / 1e6:.1f}M"
    if a >= 1e4:
        return f"{x / 1e3:.0f}k"
    if a >= 1e3:
        return f"{x / 1e3:.1f}k"
    if a >= 10 or a == 0:
        return f"{x:.0f}"
    return f"{x:.2g}"
