"""A PRIM box in words: its restricted parameters only, with its density and coverage.

"discount.rate above 0.14 and business.starting_cash below 30,000: ruin in 83% of runs,
covering 71% of all ruins". Pure text from :mod:`loyaltysim.analysis.discovery`'s results.
"""

from __future__ import annotations

import math

from loyaltysim.analysis.discovery import BoxStep, Discovery, PrimBox

__all__ = ["describe_box", "describe_limits", "format_number"]


def format_number(value: float) -> str:
    """A limit as people read it: three significant figures, thousands separated
    (``0.142``, ``30,000``, ``1.5e-05``)."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{round(value, -math.floor(math.log10(magnitude)) + 2):,.0f}"
    if magnitude < 1e-3:
        return f"{value:.2e}"
    digits = max(0, 2 - math.floor(math.log10(magnitude)))
    text = f"{value:.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def describe_limits(discovery: Discovery, step: BoxStep) -> list[str]:
    """One phrase per restricted parameter: "KEY above A", "below B" or "between A and B"."""
    parts = []
    for j in step.restricted:
        name = discovery.names[j]
        lo_set = step.lower[j] != discovery.lower[j]
        hi_set = step.upper[j] != discovery.upper[j]
        lo, hi = format_number(step.lower[j]), format_number(step.upper[j])
        if lo_set and hi_set:
            parts.append(f"{name} between {lo} and {hi}")
        elif lo_set:
            parts.append(f"{name} above {lo}")
        else:
            parts.append(f"{name} below {hi}")
    return parts


def describe_box(
    discovery: Discovery,
    box: PrimBox,
    event: str = "the outcome",
    unit: str = "points",
    cases: str = "cases",
) -> str:
    """The box in one sentence, restricted parameters only, e.g. "discount.rate above 0.14
    and business.starting_cash below 30,000: ruin in 83% of runs, covering 71% of all
    ruins"."""
    step = box.step
    limits = describe_limits(discovery, step)
    where = " and ".join(limits) if limits else "anywhere"
    return (
        f"{where}: {event} in {step.density:.0%} of {unit}, covering {step.coverage:.0%} "
        f"of all {cases}"
    )
