"""The file formats a run's charts can be written in, by the name the command line uses.

Apart from :mod:`loyaltysim.output.charts` so that the command line can offer the choice
(and ``--help`` list it) without importing matplotlib. PNG is the default: the results
contract names ``charts/*.png``, and each format is a rendering of its own, so SVG (for
print or editing) is drawn on request (``python benchmarks/bench_charts.py`` measures
what each costs).
"""

from __future__ import annotations

from collections.abc import Sequence

CHART_FORMATS: dict[str, tuple[str, ...]] = {
    "png": (".png",),
    "svg": (".svg",),
    "both": (".png", ".svg"),
    "none": (),
}
DEFAULT_CHARTS = "png"
DEFAULT_CHART_FORMATS = CHART_FORMATS[DEFAULT_CHARTS]


def chart_suffixes(charts: bool | Sequence[str]) -> tuple[str, ...]:
    """The suffixes a job's ``charts`` argument asks for: True the default ones, False
    none, or the suffixes themselves."""
    return DEFAULT_CHART_FORMATS if charts is True else tuple(charts or ())


__all__ = ["CHART_FORMATS", "DEFAULT_CHARTS", "DEFAULT_CHART_FORMATS", "chart_suffixes"]
