"""Charts of experiments: sweeps, sensitivity indices and paired comparisons.

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
from loyaltysim.output.charts import OKABE_ITO, SLIDE, STYLE, difference_chart, save_figure

# (metric, panel title, y label) of a sweep chart's panels.
SWEEP_PANELS: tuple[tuple[str, str, str], ...] = (
    ("profit", "Profit over the horizon", "currency units"),
    ("churn_rate_annual", "Churn: defections per customer per year", "per year"),
    ("ruin_probability", "Ruin risk: share of replications ruined", "probability"),
)


def _money(x: float, _pos: object = None) -> str:
    return f"{x:,.0f}"


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


def _one_param(rows: Sequence[Mapping[str, float]], key: str, title: str) -> Figure:
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
        ax.set_ylabel(ylabel, fontsize=10)
        _format_axis(ax, metric)
        if metric == "profit":
            ax.axhline(0.0, color="#555555", linewidth=1.0)
    axes[0].legend(frameon=False, fontsize=10, loc="best")
    axes[-1].set_xlabel(key)
    fig.suptitle(title, x=0.01, ha="left")
    return fig


def _two_params(rows: Sequence[Mapping[str, float]], keys: Sequence[str], title: str) -> Figure:
    fig = Figure(figsize=SLIDE, layout="constrained")
    axes = fig.subplots(1, 2)
    kx, ky = keys
    xs = sorted({r[kx] for r in rows})
    ys = sorted({r[ky] for r in rows})
    grid = len(xs) * len(ys) == len(rows)
    panels = (("profit", "Profit (mean)", "viridis"), ("ruin_probability", "Ruin risk", "magma_r"))
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


def _many_params(rows: Sequence[Mapping[str, float]], keys: Sequence[str], title: str) -> Figure:
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
            ax.set_ylabel("profit (mean)")
    for ax in axes[len(keys) :]:
        ax.set_visible(False)
    fig.suptitle(title + ": profit against each parameter", x=0.01, ha="left")
    return fig


def sweep_figure(
    rows: Sequence[Mapping[str, float]], keys: Sequence[str], title: str = "Sweep"
) -> Figure:
    """The sweep's chart: profit, churn and ruin risk with 95% intervals against one
    parameter; heat maps (grid) or coloured points (sampled) of profit and ruin risk over
    two; profit against each parameter for more."""
    with matplotlib.rc_context(STYLE):
        if len(keys) == 1:
            return _one_param(rows, keys[0], title)
        if len(keys) == 2:
            return _two_params(rows, keys, title)
        return _many_params(rows, keys, title)


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
    return save_figure(sweep_figure(rows, keys, title), charts / "sweep")


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
        fig = difference_chart(diffs, f"{title} vs {reference}", unit)
        if metric == "ruin" or (metric in METRICS and METRICS[metric].unit.startswith("share")):
            for ax in fig.axes:
                ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
                ax.set_xlabel(f"difference from {reference} ({unit})")
        else:
            for ax in fig.axes:
                ax.set_xlabel(f"difference from {reference} ({unit})")
        written += save_figure(fig, charts / f"compare_{metric}")
    return written
