"""The report's section on where a calibrated run's uncertainty comes from.

A scenario with ``calibration.parameter_uncertainty`` draws its fitted purchase and
dropout parameters afresh in every replication, so each interval holds two kinds of
spread: what the purchase log could not pin down, and the simulation's own luck.
``summary.json`` splits them (:mod:`loyaltysim.analysis.parameter_uncertainty`); this
section says the split in words and a table, for the metrics a client asks about.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyaltysim.output.report_doc import Block, Cell, Paragraph, Section, Table
from loyaltysim.scenario.money import money, number

# The metrics shown: key, label, and how the figure reads (money, a count, a share).
SHOWN: tuple[tuple[str, str, str], ...] = (
    ("profit", "profit", "money"),
    ("revenue", "revenue", "money"),
    ("purchases", "purchases", "count"),
    ("customers_end", "customers at the end", "count"),
    ("churn_rate_annual", "churn a year", "share"),
)

INTRO = (
    "This run draws the fitted purchase and dropout parameters afresh in every replication "
    "(calibration.parameter_uncertainty), so each interval also holds what the sales log "
    "could not pin down. The table splits it: the share of the spread between runs that the "
    "drawn parameters explain, and the interval the same runs would give without them."
)
NOTE = (
    "Share: the adjusted R² of each run's figure on its drawn log-parameters. A large share "
    "means more sales history, not more replications, would narrow the interval."
)


def _figure(x: Any, kind: str, currency: str | None) -> str:
    if x is None:
        return "n/a"
    if kind == "money":
        return money(x, currency)
    return f"{100 * x:.1f}%" if kind == "share" else number(x)


def _interval(ci: Any, kind: str, currency: str | None) -> str:
    if not ci or ci[0] is None:
        return "n/a"
    return f"{_figure(ci[0], kind, currency)} to {_figure(ci[1], kind, currency)}"


def uncertainty_section(
    summary: Mapping[str, Any] | None, currency: str | None = None
) -> Section | None:
    """The section, or None when the run drew no parameters (nothing to split)."""
    block = (summary or {}).get("parameter_uncertainty")
    if not block:
        return None
    metrics = {v["name"]: v.get("metrics", {}) for v in (summary or {}).get("variants", [])}
    rows: list[tuple[Cell, ...] | str] = []
    for variant, split in block.get("variants", {}).items():
        rows.append(variant)
        for metric, label, kind in SHOWN:
            if metric not in split:
                continue
            share = split[metric].get("share")
            rows.append(
                (
                    Cell(label),
                    Cell(_interval(metrics.get(variant, {}).get(metric, {}).get("ci95"),
                                   kind, currency)),
                    Cell(_interval(split[metric].get("ci95_without"), kind, currency)),
                    Cell("n/a" if share is None else f"{share:.0%}"),
                )
            )  # fmt: skip
    table = Table(
        ("figure", "95% interval", "without the parameter draws", "share from the parameters"),
        tuple(rows),
        (0.25, 0.28, 0.28, 0.19),
        numeric=(3,),
    )
    blocks: tuple[Block, ...] = (Paragraph(INTRO), table, Paragraph(NOTE, "note"))
    return Section("uncertainty", "Where the uncertainty comes from", blocks)
