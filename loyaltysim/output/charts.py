"""Charts of a run: figures built without pyplot, written as PNG and SVG.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot: no global
figure registry to leak memory in long sessions or across threads, and nothing here can pop
up a window. :func:`save_figure` writes PNG and SVG atomically; :func:`write_run_charts`
draws the charts of a ``run`` into ``<run_dir>/charts/``.

Style: the Okabe-Ito palette (distinguishable with every common colour-vision deficiency;
Okabe & Ito 2008), the base variant in black, 16:9 figures with type readable on a slide,
axes labelled with units. Bands are percentiles over replications computed with numpy, never
one line per replication, so drawing cost does not grow with the number of replications.
"""

from __future__ import annotations

import functools
import io
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import matplotlib

# A headless backend for files; leave an interactive session's backend alone.
if "matplotlib.pyplot" not in sys.modules:
    matplotlib.use("Agg")

import numpy as np
import PIL.Image
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from loyaltysim.analysis.metrics import SATISFIED_THRESHOLD, daily_profit
from loyaltysim.analysis.stats import PairedDifference
from loyaltysim.model.result import CAUSES, RunResult
from loyaltysim.output.folder import atomic_write_bytes
from loyaltysim.scenario.money import snap, with_unit
from loyaltysim.scenario.schema import Scenario

# Okabe & Ito (2008), "Color Universal Design"; black first for the base, yellow last
# because it is faint on white.
OKABE_ITO: tuple[str, ...] = (
    "#000000",  # black
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#0072B2",  # blue
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
)
CAUSE_COLOURS: dict[str, str] = dict(
    zip(
        CAUSES,
        ("#E69F00", "#D55E00", "#0072B2", "#CC79A7", "#009E73", "#999999", "#56B4E9"),
        strict=True,
    )
)
CAUSE_LABELS: dict[str, str] = {
    "indifference": "staff indifference",
    "poor_service": "poor service",
    "competitor_offer": "competitor's offer",
    "unresolved_complaint": "unresolved complaint",
    "discount_ended": "discount ended",
    "other": "other (moved, life events)",
    "hostage": "trapped, released (hostage)",
}

STYLE: dict[Any, Any] = {  # Any keys: matplotlib types rc keys as a Literal
    "font.size": 13,
    "axes.titlesize": 16,
    "axes.titleweight": "bold",
    "figure.titlesize": 16,
    "figure.titleweight": "bold",
    "axes.labelsize": 13,
    "legend.fontsize": 11,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 2.0,
    "svg.hashsalt": "loyaltysim",  # stable SVG ids: same run, same file
}
SLIDE = (10.0, 5.625)  # inches, 16:9
DPI = 150
BAND = (5.0, 95.0)  # percentiles of the band over replications
MAX_POINTS = 1000  # days drawn per line; longer horizons are thinned


def colour(i: int) -> str:
    """Colour of the ``i``-th variant (cycles after eight)."""
    return OKABE_ITO[i % len(OKABE_ITO)]


def _money(x: float, _pos: object = None) -> str:
    return f"{snap(x):,.0f}".replace("-", "−")


def _currency(scenario: Scenario | None) -> str | None:
    return scenario.scenario.currency if scenario is not None else None


_F = TypeVar("_F", bound=Callable[..., Figure])


def _styled(draw: _F) -> _F:
    """Draw under :data:`STYLE`: rcParams are read as each artist is made, so the whole
    drawing, not just figure creation, must run inside the context."""

    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _figure(size: tuple[float, float] = SLIDE) -> Figure:
    return Figure(figsize=size, layout="constrained")


def _axes(fig: Figure, *args: Any, **kwargs: Any) -> Axes:
    return fig.add_subplot(*args, **kwargs)


def _stack(results: Sequence[RunResult], series: str) -> np.ndarray:
    """``(replications, days)`` array of one daily series, replications in index order."""
    ordered = sorted(results, key=lambda r: r.replication)
    return np.vstack([np.asarray(r.daily[series], dtype=np.float64) for r in ordered])


LINE_NOTE = f"lines: mean (the tables' figure); bands: {BAND[0]:.0f}–{BAND[1]:.0f}% of runs"


def _band(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Days, mean and the 5-95% band over replications (rows), thinned to MAX_POINTS.

    The line is the mean, the figure the summary and every table report, so a chart
    ends where its table says (the band shows the spread).
    """
    days = np.arange(values.shape[1])
    step = max(1, int(np.ceil(values.shape[1] / MAX_POINTS)))
    keep = days[::step]
    if keep[-1] != days[-1]:
        keep = np.append(keep, days[-1])  # always show the last day
    return (keep, *_mean_band(values[:, keep]))


def _mean_band(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and the 5-95% band over replications (rows) of each column."""
    lo, hi = np.percentile(values, [BAND[0], BAND[1]], axis=0)
    return values.mean(axis=0), lo, hi


def _band_chart(
    results_by_variant: Mapping[str, Sequence[RunResult]],
    values_of: Any,
    title: str,
    ylabel: str,
    money: bool,
) -> tuple[Figure, Axes]:
    fig = _figure()
    ax = _axes(fig)
    for i, (name, results) in enumerate(results_by_variant.items()):
        if not results:
            continue
        days, mid, lo, hi = _band(values_of(results))
        c = colour(i)
        ax.fill_between(days, lo, hi, color=c, alpha=0.18, linewidth=0)
        ax.plot(days, mid, color=c, label=name)
    ax.set_title(title, loc="left")
    ax.set_xlabel("day")
    ax.set_ylabel(ylabel)
    if money:
        ax.yaxis.set_major_formatter(FuncFormatter(_money))
    _note(ax, LINE_NOTE)
    return fig, ax


def _note(ax: Axes, text: str) -> None:
    """A small grey note above the top right corner of the axes (how to read the chart)."""
    ax.text(
        1.0,
        1.01,
        text,
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=10,
        color="#555555",
    )


def _legend(ax: Axes, **kwargs: Any) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, **kwargs)


@_styled
def customers_chart(results_by_variant: Mapping[str, Sequence[RunResult]]) -> Figure:
    """Active customers over time per variant: median line and 5-95% band."""
    fig, ax = _band_chart(
        results_by_variant,
        lambda rs: _stack(rs, "customers"),
        "Active customers",
        "customers (end of day)",
        money=False,
    )
    ax.yaxis.set_major_formatter(FuncFormatter(_money))
    _legend(ax)
    return fig


@_styled
def cash_chart(results_by_variant: Mapping[str, Sequence[RunResult]], scenario: Scenario) -> Figure:
    """Cash over time per variant with its band, the cash floor, and each ruin as a marker."""
    fig, ax = _band_chart(
        results_by_variant,
        lambda rs: _stack(rs, "cash"),
        "Cash",
        with_unit("cash, end of day", _currency(scenario)),
        money=True,
    )
    floor = scenario.business.cash_floor
    ax.axhline(floor, color="#D55E00", linestyle="--", linewidth=1.5, label="cash floor (ruin)")
    for i, (name, results) in enumerate(results_by_variant.items()):
        ruined = [r for r in results if r.ruin_day is not None]
        if ruined:
            days = np.array([r.ruin_day for r in ruined], dtype=np.int64)
            cash = np.array([r.daily["cash"][d] for r, d in zip(ruined, days, strict=True)])
            ax.scatter(
                days,
                cash,
                marker="X",
                s=130,
                color=colour(i),
                edgecolor="black",
                linewidth=0.8,
                zorder=5,
                label=f"{name}: ruined ({len(ruined)} of {len(results)})",
            )
    _legend(ax)
    return fig


def _month_ends(results_by_variant: Mapping[str, Sequence[RunResult]]) -> np.ndarray | None:
    """Days on which fixed costs were charged in any run (the months' accounting days).

    ``None`` when no run charged fixed costs (then every day is drawn).
    """
    charged: set[int] = set()
    horizon = 0
    for results in results_by_variant.values():
        for r in results:
            horizon = max(horizon, r.horizon_days)
            charged.update(np.flatnonzero(np.asarray(r.daily["fixed_costs"]) > 0).tolist())
    if not charged or horizon == 0:
        return None
    return np.array(sorted(charged), dtype=np.int64)


def cumulative_profit(result: RunResult) -> np.ndarray:
    """Profit since day 0 at the end of each day, as the summary counts it: cash profit
    less the points still owed (so the last day is the run's ``profit``)."""
    liability = np.asarray(result.daily.get("points_liability", 0.0), dtype=np.float64)
    return np.cumsum(daily_profit(result.daily)) - liability


@_styled
def cumulative_profit_chart(
    results_by_variant: Mapping[str, Sequence[RunResult]], currency: str | None = None
) -> Figure:
    """Cumulative profit (gross profit minus all other costs) per variant, with its band.

    Fixed costs are paid at the start of each month, so day by day the cumulative profit
    is a saw-tooth whose teeth hide the differences between variants. The chart shows it
    where it is comparable: on day 0 and at the close of each month (the eve of the next
    payment), the month's fixed costs paid and its sales in; the last day closes the last
    month, so each line ends at the profit the tables report (the mean over runs).
    Without fixed costs every day is drawn.
    """
    ends = _month_ends(results_by_variant)
    fig = _figure()
    ax = _axes(fig)
    for i, (name, results) in enumerate(results_by_variant.items()):
        if not results:
            continue
        ordered = sorted(results, key=lambda r: r.replication)
        values = np.vstack([cumulative_profit(r) for r in ordered])
        if ends is not None:
            last = values.shape[1] - 1
            closes = ends[(ends > 0) & (ends <= last)] - 1  # the eve of each payment
            # Day 0, each month's close, and the horizon (where the profit figure is).
            days = np.unique(np.concatenate([[0], closes, [last]]).astype(np.int64))
            mid, lo, hi = _mean_band(values[:, days])
        else:
            days, mid, lo, hi = _band(values)
        c = colour(i)
        ax.fill_between(days, lo, hi, color=c, alpha=0.15, linewidth=0)
        marker = "o" if ends is not None and len(days) <= 60 else None
        ax.plot(days, mid, color=c, label=name, marker=marker, markersize=3.5)
    ax.axhline(0.0, color="#555555", linewidth=1.0)
    ax.set_title("Cumulative profit", loc="left")
    ax.set_xlabel("day")
    when = "at each month's close" if ends is not None else "end of day"
    ax.set_ylabel(with_unit("profit since day 0", currency))
    ax.yaxis.set_major_formatter(FuncFormatter(_money))
    _note(ax, f"{when}; lines: means; bands: {BAND[0]:.0f}–{BAND[1]:.0f}% of runs")
    _legend(ax)
    return fig


def _cause_shares(results: Sequence[RunResult]) -> np.ndarray:
    counts = np.zeros(len(CAUSES))
    for r in results:
        counts += np.bincount(np.asarray(r.defections["cause"], np.int64), minlength=len(CAUSES))
    total = counts.sum()
    return counts / total if total else counts


@_styled
def churn_causes_chart(results_by_variant: Mapping[str, Sequence[RunResult]]) -> Figure:
    """Causes of defection by variant: stacked horizontal bars of shares of all defections."""
    names = list(results_by_variant)
    height = min(12.0, max(3.5, 1.6 + 0.7 * len(names)))
    fig = _figure((SLIDE[0], height))
    ax = _axes(fig)
    y = np.arange(len(names))[::-1]  # first variant on top
    left = np.zeros(len(names))
    shares = np.array([_cause_shares(results_by_variant[n]) for n in names]).reshape(
        len(names), len(CAUSES)
    )
    for k, cause in enumerate(CAUSES):
        widths = shares[:, k]
        # A cause no plan recorded gets no bar and no legend entry.
        if not np.any(widths > 0):
            continue
        bars = ax.barh(
            y,
            widths,
            left=left,
            color=CAUSE_COLOURS[cause],
            label=CAUSE_LABELS[cause],
            edgecolor="white",
            height=0.6,
        )
        labels = [f"{w:.0%}" if w >= 0.06 else "" for w in widths]
        ax.bar_label(bars, labels=labels, label_type="center", fontsize=10, color="white")
        left += widths
    for yi, n in zip(y, names, strict=True):
        total = sum(len(r.defections["cause"]) for r in results_by_variant[n])
        if total == 0:
            ax.text(0.01, yi, "no defections", va="center", fontsize=11, color="#555555")
    ax.set_yticks(y, names)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("share of all defections (all replications)")
    ax.set_title("Why customers left", loc="left")
    ax.grid(axis="y", visible=False)
    if ax.get_legend_handles_labels()[0]:
        fig.legend(frameon=False, ncols=3, loc="outside lower center")
    return fig


@_styled
def defector_satisfaction_chart(results_by_variant: Mapping[str, Sequence[RunResult]]) -> Figure:
    """Satisfaction at the moment of defection: one histogram per variant.

    The band at or above :data:`SATISFIED_THRESHOLD` is shaded: defectors there left although
    satisfied (the top two of five satisfaction bands).
    """
    names = list(results_by_variant) or ["(no variants)"]
    rows = len(names)
    height = min(14.0, max(SLIDE[1], 1.9 * rows + 1.2))
    fig = _figure((SLIDE[0], height))
    bins = np.linspace(0.0, 1.0, 21)
    first: Axes | None = None
    for i, name in enumerate(names):
        ax = _axes(fig, rows, 1, i + 1, sharex=first)
        first = first or ax
        parts = [
            np.asarray(r.defections["satisfaction"], np.float64)
            for r in results_by_variant.get(name, [])
        ]
        sat = np.concatenate(parts) if parts else np.empty(0)
        ax.axvspan(
            SATISFIED_THRESHOLD,
            1.0,
            color="#009E73",
            alpha=0.12,
            linewidth=0,
            label=f"satisfied (≥ {SATISFIED_THRESHOLD})",
        )
        if sat.size:
            weights = np.full(sat.size, 1.0 / sat.size)
            ax.hist(sat, bins=bins.tolist(), weights=weights, color=colour(i), edgecolor="white")
            # The summary's figure: the share in each run, averaged over the runs.
            shares = [float(np.mean(p >= SATISFIED_THRESHOLD)) for p in parts if p.size]
            share = float(np.mean(shares))
            note = f"{share:.0%} of defectors were satisfied (mean of {len(shares)} runs)"
        else:
            note = "no defections"
        ax.set_title(f"{name}: {note}", loc="left", fontsize=12, fontweight="normal")
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylabel("share of defectors")
        ax.set_xlim(0.0, 1.0)
        if i < rows - 1:
            ax.tick_params(labelbottom=False)
    fig.axes[-1].set_xlabel("satisfaction when leaving (0 = very unhappy, 1 = delighted)")
    fig.suptitle("Satisfaction when customers left", x=0.01, ha="left")
    handles, labels = fig.axes[0].get_legend_handles_labels()
    fig.legend(handles[:1], labels[:1], frameon=False, loc="outside upper right")
    return fig


@_styled
def difference_chart(
    differences: Mapping[str, PairedDifference], title: str, unit: str = ""
) -> Figure:
    """Paired differences from the base with their intervals (a forest plot).

    Each row shows the mean difference, its paired 95% interval (thick) and, faint, the
    unpaired interval the same replications would give without common random numbers.
    """
    names = list(differences)
    height = min(12.0, max(3.0, 1.4 + 0.6 * len(names)))
    fig = _figure((SLIDE[0], height))
    ax = _axes(fig)
    y = np.arange(len(names))[::-1]
    for yi, (i, name) in zip(y, enumerate(names), strict=True):
        d = differences[name]
        c = colour(i + 1)
        if np.all(np.isfinite(d.unpaired_ci)):
            ax.plot(d.unpaired_ci, [yi, yi], color=c, alpha=0.3, linewidth=8, solid_capstyle="butt")
        if np.all(np.isfinite(d.ci)):
            ax.plot(d.ci, [yi, yi], color=c, linewidth=3)
        ax.plot([d.mean], [yi], "o", color=c, markersize=8)
    ax.axvline(0.0, color="#555555", linewidth=1.0)
    ax.set_yticks(y, names)
    ax.xaxis.set_major_formatter(FuncFormatter(_money))
    ax.set_xlabel(with_unit("difference from base", unit or None))
    ax.set_title(title, loc="left")
    ax.grid(axis="y", visible=False)
    return fig


@_styled
def profit_vs_base_chart(
    scenario: Scenario, results_by_variant: Mapping[str, Sequence[RunResult]]
) -> Figure:
    """Profit of each variant minus the base's, paired by replication (a forest plot).

    The base is the entry named ``"base"`` (else the first). Replications are paired by
    index, as common random numbers make them comparable (see :func:`difference_chart`).
    """
    from loyaltysim.analysis.metrics import run_metrics
    from loyaltysim.analysis.stats import paired_difference

    names = list(results_by_variant)
    base = "base" if "base" in results_by_variant else (names[0] if names else None)
    differences: dict[str, PairedDifference] = {}
    if base is not None:
        base_profit = {
            r.replication: run_metrics(r, scenario)["profit"] for r in results_by_variant[base]
        }
        for name in names:
            if name == base:
                continue
            mine = {
                r.replication: run_metrics(r, scenario)["profit"] for r in results_by_variant[name]
            }
            common = sorted(mine.keys() & base_profit.keys())
            if common:
                differences[name] = paired_difference(
                    [mine[k] for k in common], [base_profit[k] for k in common]
                )
    if not differences:
        fig = _figure((SLIDE[0], 3.0))
        ax = _axes(fig)
        ax.axis("off")
        ax.text(0.5, 0.5, "No variants to compare with the base", ha="center", va="center")
        ax.set_title("Profit compared with the base", loc="left")
        return fig
    return profit_difference_chart(differences, _currency(scenario))


def profit_difference_chart(
    differences: Mapping[str, PairedDifference], currency: str | None = None
) -> Figure:
    """:func:`difference_chart` of profit, with how to read it under the axis."""
    fig = difference_chart(differences, "Profit compared with the base", currency or "")
    ax = fig.axes[0]
    with matplotlib.rc_context(STYLE):
        ax.set_xlabel(
            with_unit("profit difference from base", currency) + "\n"
            "dot: mean · thick bar: paired 95% interval · faint bar: without pairing"
        )
    return fig


def save_figure(
    fig: Figure,
    path_without_suffix: Path | str,
    *,
    dpi: int = DPI,
    formats: Sequence[str] = (".png", ".svg"),
) -> list[Path]:
    """Write ``fig`` as PNG (``dpi``, 150 by default) and SVG side by side, each atomically.

    Parameters
    ----------
    fig : Figure
        The chart.
    path_without_suffix : path
        Where to write, without ``.png``/``.svg``.
    dpi : int, optional
        Resolution of the PNG (dots per inch); 110 keeps committed images small.
    formats : sequence of str, optional
        Which of ``".png"`` and ``".svg"`` to write.

    Returns
    -------
    list of Path
        The paths written, in the order of ``formats``.
    """
    base = Path(path_without_suffix)
    written = []
    for suffix in formats:
        with matplotlib.rc_context(STYLE):
            if suffix == ".png":
                data = _png(fig, dpi)
            else:
                buffer = io.BytesIO()
                # No date in the SVG: the same run gives the same bytes.
                fig.savefig(buffer, format="svg", facecolor="white", metadata={"Date": None})
                data = buffer.getvalue()
        path = base.with_name(base.name + suffix)
        atomic_write_bytes(path, data)
        written.append(path)
    return written


def _png(fig: Figure, dpi: int) -> bytes:
    """``fig`` as an opaque RGB PNG at ``dpi``, from one Agg draw.

    The same pixels as ``savefig`` at a quarter less CPU (issue #15): under a layout
    engine ``savefig`` draws the figure twice (a dry draw to lay it out, then the real
    one), and it writes RGBA although a white figure has nothing in its alpha channel.
    """
    canvas, size, facecolor = fig.canvas, fig.dpi, fig.get_facecolor()
    agg = FigureCanvasAgg(fig)  # becomes fig.canvas until restored below
    try:
        fig.set_dpi(dpi)
        fig.set_facecolor("white")
        agg.draw()  # runs the layout engine, then paints once
        image = PIL.Image.fromarray(np.asarray(agg.buffer_rgba())).convert("RGB")
    finally:
        fig.set_facecolor(facecolor)
        fig.set_dpi(size)
        fig.set_canvas(canvas)
    buffer = io.BytesIO()
    image.save(buffer, format="png", dpi=(dpi, dpi))
    return buffer.getvalue()


RUN_CHARTS: tuple[str, ...] = (
    "customers",
    "cash",
    "churn_causes",
    "defector_satisfaction",
    "cumulative_profit",
    "profit_vs_base",
)


def run_charts(
    scenario: Scenario, results_by_variant: Mapping[str, Sequence[RunResult]]
) -> dict[str, Figure]:
    """The charts of a run, by file name (without suffix), in :data:`RUN_CHARTS` order."""
    return {name: _CHARTS[name](scenario, results_by_variant) for name in RUN_CHARTS}


def write_run_charts(
    run_dir: Path | str,
    scenario: Scenario,
    results_by_variant: Mapping[str, Sequence[RunResult]],
    *,
    formats: Sequence[str] = (".png", ".svg"),
) -> list[Path]:
    """Draw every chart of a run into ``run_dir/charts/``, in ``formats`` (PNG and SVG
    unless told; ``loyaltysim run`` asks for PNG alone unless ``--charts`` says otherwise).

    Returns
    -------
    list of Path
        Every file written.
    """
    charts = Path(run_dir) / "charts"
    charts.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in RUN_CHARTS:
        # One figure at a time: drawing them all first would hold every canvas in memory.
        fig = _CHARTS[name](scenario, results_by_variant)
        written += save_figure(fig, charts / name, formats=formats)
    return written


_ChartFn = Callable[[Scenario, Mapping[str, Sequence[RunResult]]], Figure]
_CHARTS: dict[str, _ChartFn] = {
    "customers": lambda s, r: customers_chart(r),
    "cash": lambda s, r: cash_chart(r, s),
    "churn_causes": lambda s, r: churn_causes_chart(r),
    "defector_satisfaction": lambda s, r: defector_satisfaction_chart(r),
    "cumulative_profit": lambda s, r: cumulative_profit_chart(r, s.scenario.currency),
    "profit_vs_base": profit_vs_base_chart,
}
