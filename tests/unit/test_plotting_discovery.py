"""The discovery chart: one coverage-density panel per box, coloured by restricted
parameters; drawn without pyplot."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy as np

from loyaltysim.analysis.discovery import discover
from loyaltysim.output.discovery_charts import (
    RES_DIM_COLOURS,
    res_dim_colour,
    trajectory_figure,
    write_trajectory_chart,
)


def test_one_panel_per_box_and_a_ring_on_the_chosen_one(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(400, 2))
    y = (x[:, 0] > 0.6) & (x[:, 1] < 0.4)
    result = discover(x, y, ["a", "b"])
    fig = trajectory_figure(result, "t")
    axes = [ax for ax in fig.axes if ax.get_title(loc="left").startswith("Box")]
    assert len(axes) == len(result.boxes) >= 1
    assert axes[0].get_xlim() == (0.0, 1.05)
    files = write_trajectory_chart(tmp_path / "discovery", result, "t")
    assert [f.name for f in files] == ["trajectory.png", "trajectory.svg"]
    assert matplotlib.image.imread(files[0]).shape[2] in (3, 4)
    # no box: a single, labelled panel
    empty = discover(x, np.zeros(400, dtype=bool) | (np.arange(400) == 0), ["a", "b"])
    assert trajectory_figure(empty).axes


def test_colours_by_restricted_count() -> None:
    assert res_dim_colour(0) == RES_DIM_COLOURS[0]
    assert res_dim_colour(1) != res_dim_colour(2)
    assert res_dim_colour(8) == res_dim_colour(1)  # cycles after seven
