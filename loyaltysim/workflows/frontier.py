"""The frontier's files: ``frontier.json``, ``frontier.csv`` and its chart.

:func:`loyaltysim.experiment.frontier.run_frontier` measures the frontier and writes
nothing; the ``check --frontier`` command calls :func:`write_frontier` with its result.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from loyaltysim.experiment.frontier import FrontierResult
from loyaltysim.output.folder import atomic_write_text
from loyaltysim.scenario import Scenario


def write_frontier(
    result: FrontierResult,
    scenario: Scenario,
    folder: Path,
    scenario_path: Path | str | None = None,
    overrides: list[str] | None = None,
) -> Path:
    """``frontier.json``, ``frontier.csv``, the chart (PNG and SVG) and a manifest like a
    run folder's (kind ``frontier``, so that ``loyaltysim report`` reports it) into
    ``folder``."""
    from loyaltysim.output.folder import write_experiment_manifest

    folder.mkdir(parents=True, exist_ok=True)
    write_experiment_manifest(
        folder,
        scenario,
        "frontier",
        "interrupted" if result.interrupted else "complete",
        result.seed,
        scenario_path,
        overrides,
        param=result.param,
        points=len(result.points),
    )
    atomic_write_text(folder / "frontier.json", json.dumps(result.as_dict(), indent=2))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["value", "replications", "profit_mean", "profit_lo", "profit_hi", "ruined",
         "ruin_probability", "ruin_lo", "ruin_hi", "structural_loss", "safe"]
    )  # fmt: skip
    for p in result.points:
        writer.writerow(
            [p.value, p.replications, p.profit_mean, *p.profit_ci95, p.ruined,
             p.ruin_probability, *p.ruin_ci95, p.structural_loss, p.safe]
        )  # fmt: skip
    atomic_write_text(folder / "frontier.csv", buffer.getvalue())
    if result.points:
        from loyaltysim.output.charts import save_figure

        save_figure(frontier_figure(result, scenario), folder / "frontier")
    return folder


def frontier_figure(result: FrontierResult, scenario: Scenario) -> Any:
    """The frontier chart (a matplotlib Figure): profit and ruin risk with their bands,
    the cliff marked, the most profitable safe value starred."""
    from loyaltysim.output.experiment_charts import frontier_chart

    pts = result.points
    return frontier_chart(
        [p.value for p in pts],
        [p.profit_mean for p in pts],
        [p.profit_ci95[0] for p in pts],
        [p.profit_ci95[1] for p in pts],
        [p.ruin_probability for p in pts],
        [p.ruin_ci95[0] for p in pts],
        [p.ruin_ci95[1] for p in pts],
        result.param,
        result.largest_safe,
        result.most_profitable,
        max_ruin_probability=result.max_ruin_risk,
        currency=scenario.scenario.currency,
        cliff=result.cliff,  # none while no value is decided unsafe (undecided is not a cliff)
    )
