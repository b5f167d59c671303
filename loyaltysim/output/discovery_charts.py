"""The chart of a scenario discovery: PRIM's peeling trajectories.

Like :mod:`loyaltysim.output.charts` (whose palette, style and :func:`save_figure` it uses): the
Agg backend, figures built without pyplot, the Okabe-Ito palette, atomic PNG and SVG.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

if "matplotlib.pyplot" not in sys.modules:
    matplotlib.use("Agg")

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from loyaltysim.analysis.discovery import Discovery
from loyaltysim.output.charts import OKABE_ITO, SLIDE, STYLE, save_figure

# Colours for 0, 1, 2, ... restricted parameters: grey for none, then Okabe-Ito (black is
# kept for the chosen box's ring).
RES_DIM_COLOURS: tuple[str, ...] = ("#999999", *OKABE_ITO[1:])
MAX_PANELS = 3


def res_dim_colour(count: int) -> str:
    """Colour of a box restricting ``count`` parameters (cycles after seven)."""
    if count == 0:
        return RES_DIM_COLOURS[0]
    return RES_DIM_COLOURS[1 + (count - 1) % (len(RES_DIM_COLOURS) - 1)]


def trajectory_figure(discovery: Discovery, title: str = "Peeling trajectory") -> Figure:
    """Coverage (x) against density (y) of every box on each PRIM trajectory, one panel per
    box found (at most three), coloured by the number of restricted parameters; the chosen
    box is ringed and labelled."""
    boxes = discovery.boxes[:MAX_PANELS]
    panels = max(1, len(boxes))
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(max(SLIDE[0], 4.2 * panels), SLIDE[1]), layout="constrained")
        axes = fig.subplots(1, panels, squeeze=False)[0]
        counts: set[int] = set()
        for ax, box in zip(axes, boxes, strict=False):
            steps = box.trajectory
            cov = [s.coverage for s in steps]
            den = [s.density for s in steps]
            ax.plot(cov, den, color="#BBBBBB", linewidth=1.0, zorder=1)
            ax.scatter(
                cov,
                den,
                c=[res_dim_colour(s.res_dim) for s in steps],
                s=36,
                zorder=2,
                edgecolors="white",
                linewidths=0.5,
            )
            counts.update(s.res_dim for s in steps)
            chosen = box.step
            ax.scatter(
                [chosen.coverage],
                [chosen.density],
                s=190,
                facecolors="none",
                edgecolors=OKABE_ITO[0],
                linewidths=2.0,
                zorder=3,
            )
            # Label away from the trajectory: to the side with more room, below a dense box.
            right = chosen.coverage < 0.5
            ax.annotate(
                f"chosen: {chosen.coverage:.0%} coverage,\n{chosen.density:.0%} density, "
                f"{chosen.res_dim} restricted",
                (chosen.coverage, chosen.density),
                xytext=(14 if right else -14, -34 if chosen.density > 0.5 else 22),
                textcoords="offset points",
                ha="left" if right else "right",
                fontsize=10,
                arrowprops={"arrowstyle": "-", "color": "#555555", "linewidth": 0.8},
            )
            ax.axhline(box.remaining_cases / box.remaining, color="#555555", linewidth=1.0,
                       linestyle="--")  # fmt: skip
            ax.set_xlim(0.0, 1.05)
            ax.set_ylim(0.0, 1.05)
            ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
            ax.set_xlabel("coverage (share of all cases in the box)")
            ax.set_title(f"Box {box.number}", loc="left", fontsize=13)
        axes[0].set_ylabel("density (share of the box that are cases)")
        if not boxes:
            axes[0].text(0.5, 0.5, "no box found", ha="center", va="center")
        handles = [
            Line2D([], [], marker="o", linestyle="", color=res_dim_colour(c),
                   label=f"{c} restricted")
            for c in sorted(counts)
        ]  # fmt: skip
        handles.append(
            Line2D(
                [], [], color="#555555", linestyle="--", label="base rate of the points searched"
            )
        )
        fig.legend(handles=handles, frameon=False, fontsize=10, loc="outside right upper")
        fig.suptitle(title, x=0.01, ha="left")
    return fig


def write_trajectory_chart(out_dir: Path | str, discovery: Discovery, title: str) -> list[Path]:
    """Draw ``trajectory.png`` and ``.svg`` into ``out_dir``; returns the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return save_figure(trajectory_figure(discovery, title), out / "trajectory")
