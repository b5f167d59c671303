"""The ``report`` job: a results folder -> its charts -> the content -> HTML or PDF.

Composes :mod:`loyaltysim.output.report_data` (reading the folder, only inside it),
:mod:`loyaltysim.output.charts` (drawing), :mod:`loyaltysim.output.report_content` (the
words) and a renderer (:mod:`~loyaltysim.output.report_html` or
:mod:`~loyaltysim.output.report_pdf`). The file is written atomically.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loyaltysim.output.folder import atomic_write_bytes, atomic_write_text
from loyaltysim.output.report_content import (
    CHART_ORDER,
    CHART_TEXT,
    FORMATS,
    _num,
    _pair,
    build_report,
)
from loyaltysim.output.report_data import ReportError, RunData, inside, load_run
from loyaltysim.output.report_doc import Figure
from loyaltysim.output.report_html import render_html
from loyaltysim.output.report_kinds import OTHER_KINDS, comparison_section, folder_kind, kind_report
from loyaltysim.output.report_pdf import render_pdf

__all__ = ["ReportError", "build_charts", "default_output", "write_report"]


def build_charts(data: RunData, dpi: int = 130) -> list[Figure]:
    """Draw the report's charts (from the rebuilt replications) as PNG bytes.

    Charts a command left in ``charts/`` that the report does not draw itself (a
    comparison's forest plots, a safe frontier) are added as they are, by
    :func:`saved_charts`. Nothing is drawn when the tables cannot be trusted
    (``data.alerts``).
    """
    from loyaltysim.output import charts as plotting

    charts: list[Figure] = []
    drawn: set[str] = set()
    if data.runs and data.scenario is not None:
        figures: dict[str, Callable[[], Any]] = {
            "customers": lambda: plotting.customers_chart(data.runs),
            "cash": lambda: plotting.cash_chart(data.runs, data.scenario),
            "cumulative_profit": lambda: plotting.cumulative_profit_chart(data.runs, data.currency),
            "profit_vs_base": lambda: _forest(data),
            "churn_causes": lambda: plotting.churn_causes_chart(data.runs),
            "defector_satisfaction": lambda: plotting.defector_satisfaction_chart(data.runs),
        }
        for name in CHART_ORDER:
            if name == "profit_vs_base" and len(data.runs) < 2:
                continue
            fig = figures[name]()
            title, caption = CHART_TEXT[name]
            charts.append(Figure(name, title, caption, _png(fig, dpi)))
            drawn.add(name)
    charts += saved_charts(data, drawn)
    return charts


MAX_CHART_BYTES = 20 * 1024 * 1024  # a chart of the report is a few hundred kB


def saved_charts(data: RunData, drawn: set[str]) -> list[Figure]:
    """The PNG charts in the folder's ``charts/`` that the report does not draw itself.

    Only files inside the folder are read (a chart that is a symlink out of it is refused
    and named in the report's alerts), and only for a folder whose tables are sound and
    whose run completed or was interrupted: a chart of a run the folder says failed or is
    still running, or whose tables are missing, could contradict what the report says.
    The report's own charts (:data:`CHART_TEXT`) are always redrawn from the tables, never
    taken from files.
    """
    root = data.folder
    try:
        folder = inside(root, "charts")
    except ReportError:
        data.alerts.append("charts/ points outside the results folder: its charts are left out.")
        return []
    if not folder.is_dir():
        return []
    candidates = [p for p in sorted(folder.glob("*.png")) if p.stem not in CHART_TEXT]
    candidates = [p for p in candidates if p.stem not in drawn]
    if not candidates:
        return []
    if data.alerts or data.status not in ("complete", "interrupted"):
        names = ", ".join(f"charts/{p.name}" for p in candidates)
        data.alerts.append(
            f"Charts left out ({names}): they were not drawn by this report, and a folder "
            f"whose run is {data.status} or whose tables are unsound cannot vouch for them."
        )
        return []
    out: list[Figure] = []
    for path in candidates:
        try:
            real = inside(root, Path("charts") / path.name)
        except ReportError:
            data.alerts.append(
                f"charts/{path.name} points outside the results folder: it is left out."
            )
            continue
        if not real.is_file() or real.stat().st_size > MAX_CHART_BYTES:
            continue
        try:
            png = real.read_bytes()
        except OSError:
            continue
        if not png.startswith(b"\x89PNG"):
            continue
        title, caption = path.stem.replace("_", " ").capitalize(), f"charts/{path.name}"
        out.append(Figure(path.stem, title, caption, png))
    return out


def _forest(data: RunData) -> Any:
    """The forest plot of profit differences: the summary's numbers when it has them."""
    from loyaltysim.analysis.stats import PairedDifference
    from loyaltysim.output import charts as plotting

    diffs: dict[str, PairedDifference] = {}
    if data.summary:
        base = data.summary.get("base", "base")
        for v in data.summary["variants"]:
            d = (v.get("vs_base") or {}).get("profit")
            if v.get("name") == base or not d:
                continue
            ci, un = _interval(d.get("ci95")), _interval(d.get("unpaired_ci95"))
            diffs[str(v["name"])] = PairedDifference(
                _num(d.get("mean")) or 0.0,
                ci,
                un,
                _num(d.get("variance_reduction")) or float("nan"),
            )
    if diffs:
        return plotting.profit_difference_chart(diffs, data.currency)
    return plotting.profit_vs_base_chart(data.scenario, data.runs)


def _interval(x: Any) -> tuple[float, float]:
    lo, hi = (_num(v) for v in _pair(x))
    nan = float("nan")
    return (nan if lo is None else lo, nan if hi is None else hi)


def _png(fig: Any, dpi: int) -> bytes:
    import matplotlib

    from loyaltysim.output import charts as plotting

    buffer = io.BytesIO()
    with matplotlib.rc_context(plotting.STYLE):
        fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


def with_comparison(report: Any, data: RunData) -> Any:
    """A compare folder's report with its metric-by-metric comparison after the summary."""
    section = comparison_section(data.run_dir, data.currency)
    if section is None:
        return report
    sections = list(report.sections)
    at = next((i + 1 for i, s in enumerate(sections) if s.anchor == "summary"), len(sections))
    return dataclasses.replace(report, sections=(*sections[:at], section, *sections[at:]))


def default_output(run_dir: Path | str, fmt: str) -> Path:
    """Where a report goes by default: ``RUN_DIR/report.html`` or ``RUN_DIR/report.pdf``."""
    return Path(run_dir) / f"report.{fmt}"


def write_report(
    run_dir: Path | str,
    fmt: str = "html",
    output: Path | str | None = None,
    now: datetime | None = None,
) -> Path:
    """Make the report of a results folder and write it atomically.

    Parameters
    ----------
    run_dir : path
        The results folder.
    fmt : {"html", "pdf"}
        The format.
    output : path, optional
        The file to write; ``RUN_DIR/report.<fmt>`` by default.
    now : datetime, optional
        The time stamped on the report (UTC now by default).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ReportError
        When the folder is not a results folder (exit code 2) or is broken (4).
    ValueError
        For an unknown format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    generated = (now or datetime.now(UTC)).astimezone(UTC)
    path = Path(output) if output is not None else default_output(run_dir, fmt)
    kind = folder_kind(run_dir)
    if kind in OTHER_KINDS:
        report = kind_report(run_dir, kind, generated)
    else:
        data = load_run(run_dir)
        charts = build_charts(data, dpi=130 if fmt == "html" else 150)
        report = with_comparison(build_report(data, charts, generated), data)
    if fmt == "html":
        atomic_write_text(path, render_html(report))
    else:
        atomic_write_bytes(path, render_pdf(report))
    return path
