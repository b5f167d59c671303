"""The report's content: a results folder told in words, as a :class:`Report`.

The report says exactly what the folder says (:mod:`loyaltysim.output.report_data` reads
it):

- a plain-language summary per variant: profit with its interval, churn, ruin risk and a
  verdict in words, and whether it beats the base (paired interval);
- the charts (drawn by :mod:`loyaltysim.workflows.report` from the tables, plus any other
  chart another command left in ``charts/``);
- the causes of defection and the break-even arithmetic in words;
- the assumptions: every parameter of the resolved scenario with its unit and the
  schema's description, and what each variant changes;
- how to reproduce it: versions, seed, scenario hash, command line.

A run that did not complete (interrupted, failed, or killed while running), and a folder
whose tables are missing or do not match its summary, is reported as such at the top.

Every sentence of the report is written here, once; the HTML templates and the PDF
renderer only lay out the :class:`~loyaltysim.output.report_doc.Report` this module builds.
No click, no files written, no drawing.
"""

from __future__ import annotations

import math
import shlex
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loyaltysim.model.result import CAUSES
from loyaltysim.output.report_assumptions import (
    appendix_section,
    assumptions_section,
    parameters,
    reproduce_rows,
)
from loyaltysim.output.report_data import ReportError, RunData, load_run
from loyaltysim.output.report_doc import (
    Block,
    Bullets,
    Card,
    Cards,
    Cell,
    Figure,
    Paragraph,
    Report,
    Section,
    Table,
)
from loyaltysim.output.report_uncertainty import uncertainty_section
from loyaltysim.output.report_verdict import verdict_section
from loyaltysim.scenario.money import money as _money

__all__ = [
    "CHART_TEXT",
    "FORMATS",
    "ReportError",
    "RunData",
    "VariantStory",
    "build_report",
    "font_notice",
    "load_run",
    "parameters",
    "variant_stories",
]

FORMATS = ("html", "pdf")

VERDICT_LABELS: dict[str, str] = {
    "safe": "safe",
    "unsafe": "unsafe",
    "undecided": "undecided",
    "unresolved": "undecided",  # folders written before the guard's one vocabulary (#12)
}
COMPARISON_SHORT: dict[str, str] = {
    "beats the base": "better",
    "worse than the base": "worse",
    "no clear difference from the base": "unclear",
}
# Short cause names for table headers.
CAUSE_SHORT: dict[str, str] = {
    "indifference": "indifference",
    "poor_service": "poor service",
    "competitor_offer": "competitor",
    "unresolved_complaint": "unresolved complaint",
    "discount_ended": "discount ended",
    "other": "other",
    "hostage": "hostage",
}
CAUSE_LABELS: dict[str, str] = {
    "indifference": "staff indifference (felt ignored)",
    "poor_service": "poor service",
    "competitor_offer": "a competitor's offer or price",
    "unresolved_complaint": "an unresolved complaint",
    "discount_ended": "a discount that ended",
    "other": "other reasons (moved, life events)",
    "hostage": "resentment released when a switching cost dropped (a hostage)",
}


# --------------------------------------------------------------------------- words


def _num(x: Any) -> float | None:
    """A finite float, or None for null/NaN/missing."""
    if x is None or isinstance(x, bool):
        return None
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _pair(x: Any) -> tuple[Any, Any]:
    """The two ends of an interval (``[lo, hi]`` in JSON), None for what is missing."""
    items = list(x) if isinstance(x, list | tuple) else []
    items += [None, None]
    return items[0], items[1]


def money(x: Any, signed: bool = False, currency: str | None = None) -> str:
    """``12,345`` (``+12,345`` when ``signed``, ``12,345 EUR`` with a currency); ``n/a``
    when undefined; float noise reads as 0."""
    return _money(x, currency, signed)


def pct(x: Any, digits: int = 0, signed: bool = False) -> str:
    """``12%`` of a fraction; ``n/a`` when undefined."""
    v = _num(x)
    if v is None:
        return "n/a"
    text = f"{v:+.{digits}%}" if signed else f"{v:.{digits}%}"
    return text.replace("-", "−")


NO_INTERVAL = "n/a: 1 run"  # one replication has no interval (null in the summary)


def span(
    lo: Any, hi: Any, signed: bool = False, prefix: str = "", currency: str | None = None
) -> str:
    """``prefix + "lo to hi"`` of an interval, or ``n/a: 1 run`` when it is undefined."""
    if lo is None and hi is None:
        return NO_INTERVAL
    return f"{prefix}{money(lo, signed)} to {money(hi, signed, currency)}"


def _day(x: Any) -> str:
    v = _num(x)
    return "n/a" if v is None else f"{v:,.0f}"


@dataclass
class VariantStory:
    """A variant's results in words.

    Attributes
    ----------
    name : str
        The variant.
    verdict : str
        ``safe``, ``unsafe`` or ``unresolved`` (the ruin guard's verdict), or ``unknown``.
    headline : str
        One short line: the verdict and whether it beats the base.
    sentences : list of str
        Profit, comparison with the base, churn, ruin, break-even: one sentence each.
    """

    name: str
    verdict: str
    headline: str
    sentences: list[str]
    comparison: str = ""
    ruin: str = ""
    break_even: str = ""

    @property
    def badges(self) -> tuple[str, ...]:
        """The card's badges: the ruin verdict, and the comparison with the base."""
        label = "ruin risk: " + VERDICT_LABELS.get(self.verdict, self.verdict)
        return (label, self.comparison) if self.comparison else (label,)


def _ruin_sentence(ruin: Mapping[str, Any], n: int) -> str:
    k = int(ruin.get("ruined") or 0)
    # The bounds the verdict was decided on (the run table's and check's), where the
    # summary has them; older folders only have the Wilson interval.
    lo, hi = _pair(ruin.get("risk_bounds") or ruin.get("ci95"))
    limit = _num(ruin.get("max_ruin_probability"))
    limit_text = f"the {pct(limit)} limit" if limit is not None else "the limit"
    verdict = ruin.get("verdict")
    lead = _num(ruin.get("median_lead_days"))
    timing = ""
    if k:
        timing = f", median day {_day(ruin.get('median_day'))}"
        if lead is not None:
            timing += f", first warning {lead:,.0f} days earlier"
        elif int(ruin.get("warned_before_ruin") or 0) == 0:
            timing += ", with no warning before it"
    runs = f"{n} run{'s' if n != 1 else ''}"
    needed = ruin.get("replications_needed")
    settle = f"; about {int(needed):,} runs would settle it" if needed else ""
    if verdict == "safe":
        if k == 0:
            return f"Safe: no run was ruined; ruin risk below {pct(hi)} ({runs})."
        return (
            f"Safe: ruined in {k} of {runs}{timing}; ruin risk below {pct(hi)}, under {limit_text}."
        )
    if verdict == "unsafe":
        return f"Unsafe: ruined in {k} of {runs}{timing}; ruin risk {pct(lo)} to {pct(hi)}."
    if k == 0:
        return (
            f"Undecided: no run was ruined, but {runs} only show the ruin risk is "
            f"below {pct(hi)}, not that it is below {limit_text}{settle}."
        )
    return (
        f"Undecided: ruined in {k} of {runs}{timing}; the ruin risk lies between {pct(lo)} "
        f"and {pct(hi)}, around {limit_text}{settle}."
    )


def _break_even_sentence(be: Mapping[str, Any], is_base: bool) -> str:
    m = _num(be.get("gross_margin"))
    d = _num(be.get("effective_discount")) or 0.0
    if d < 0.0005:
        if is_base:
            return f"Gross margin at list price is {pct(m)}; no discount is given."
        return (
            f"No discount was given (gross margin {pct(m)}): nothing to break even; the "
            "plan's costs are in its profit."
        )
    if be.get("structural_loss"):
        return (
            f"The average discount ({pct(d, 1)} of list price) is at least the gross margin "
            f"({pct(m)}): every discounted sale loses money, and no extra volume can pay "
            "for it."
        )
    required = _num(be.get("required_lift"))
    text = (
        f"Gross margin at list price is {pct(m)}. On average {pct(d, 1)} of list price was "
        f"given away, so sales had to rise by {pct(required, 1)} to keep gross profit"
    )
    if is_base:
        return text + "."
    realised = _num(be.get("realised_lift"))
    lo, hi = _pair(be.get("realised_lift_ci95"))
    lo_v, hi_v = _num(lo), _num(hi)
    if lo is None and hi is None:
        text += f"; they rose by {pct(realised, 1)} ({NO_INTERVAL})"
    else:
        text += f"; they rose by {pct(realised, 1)} (95% interval {pct(lo, 1)} to {pct(hi, 1)})"
    if required is None or lo_v is None or hi_v is None:
        return text + "."
    if lo_v > required:
        return text + ": enough, the discount paid for itself in gross profit."
    if hi_v < required:
        return text + ": not enough, the discount cost more gross profit than it brought in."
    return text + ": too close to call with these runs."


def variant_stories(data: RunData) -> list[VariantStory]:
    """The plain-language summary of every variant in the summary (empty without one)."""
    if not data.summary:
        return []
    summary = data.summary
    base = summary.get("base", "base")
    horizon = summary.get("horizon_days")
    initial = data.resolved.get("customers", {}).get("initial")
    cur = data.currency
    stories = []
    for v in summary["variants"]:
        name = str(v.get("name"))
        metrics = v.get("metrics", {})
        n = int(v.get("replications") or summary.get("replications") or 0)
        is_base = name == base
        sentences = []
        profit = metrics.get("profit", {})
        lo, hi = _pair(profit.get("ci95"))
        interval = span(lo, hi, prefix="95% interval ", currency=cur)
        runs = f", over {n} runs" if interval != NO_INTERVAL else ""
        sentences.append(
            f"Profit over {horizon} days: {money(profit.get('mean'), currency=cur)} "
            f"({interval}{runs})."
        )
        comparison = ""
        diff = (v.get("vs_base") or {}).get("profit")
        if not is_base and diff:
            d_lo, d_hi = _pair(diff.get("ci95"))
            lo_v, hi_v = _num(d_lo), _num(d_hi)
            if lo_v is not None and lo_v > 0:
                comparison = "beats the base"
            elif hi_v is not None and hi_v < 0:
                comparison = "worse than the base"
            else:
                comparison = "no clear difference from the base"
            sentences.append(
                f"Against the base: {money(diff.get('mean'), True, cur)} profit "
                f"({span(d_lo, d_hi, True, 'paired 95% interval ', cur)}): {comparison}."
            )
        churn = _num(metrics.get("churn_rate_annual", {}).get("mean"))
        end = metrics.get("customers_end", {}).get("mean")
        start = f" (from {int(initial):,})" if isinstance(initial, int | float) else ""
        sentences.append(
            f"Churn: {pct(churn)} of the average customer base left per year; "
            f"{money(end)} customers at the end{start}."
        )
        satisfied = _num(metrics.get("satisfied_defector_share", {}).get("mean"))
        if satisfied is not None:
            sentences.append(f"{pct(satisfied)} of those who left were satisfied when they left.")
        ruin = v.get("ruin") or {}
        ruin_text = _ruin_sentence(ruin, n)
        warned = int(ruin.get("warned") or 0)
        if warned and not int(ruin.get("ruined") or 0):
            ruin_text += (
                f" Early warnings fired in {warned} of {n} runs (median day "
                f"{_day(ruin.get('median_warning_day'))}) without a ruin."
            )
        sentences.append(ruin_text)
        be_text = _break_even_sentence(v.get("break_even") or {}, is_base)
        sentences.append(be_text)
        verdict = str(ruin.get("verdict") or "unknown")
        label = "Ruin risk: " + VERDICT_LABELS.get(verdict, "unknown")
        headline = label + (f"; {comparison}" if comparison else "")
        stories.append(
            VariantStory(name, verdict, headline, sentences, comparison, ruin_text, be_text)
        )
    return stories


def status_message(data: RunData) -> str | None:
    """A prominent line for a run that did not complete; None when it did."""
    status = data.status
    if status == "complete":
        return None
    finished = data.manifest.get("replications_finished") or {}
    requested = data.manifest.get("replications_requested")
    counts = ", ".join(f"{k}: {v}" for k, v in finished.items()) if finished else "unknown"
    of = f" of {requested}" if requested else ""
    if status == "interrupted":
        return (
            f"This run was INTERRUPTED: only some replications finished ({counts}{of} per "
            "variant). The figures cover those alone; intervals are wider and verdicts less "
            "certain than a complete run would give."
        )
    if status == "failed":
        error = data.manifest.get("error") or "no error recorded"
        return (
            f"This run FAILED ({error}). Replications finished: {counts}{of}. Any figures "
            "below are partial."
        )
    return (
        f"This run had not finished when the report was made (status: {status}): it may "
        f"still be going, or it was killed. Replications finished: {counts}{of}."
    )


def cause_rows(data: RunData) -> list[tuple[str, list[float]]]:
    """``(variant, [share per cause in CAUSES order])`` from the summary."""
    if not data.summary:
        return []
    rows = []
    for v in data.summary["variants"]:
        shares = v.get("churn_causes") or {}
        rows.append((str(v.get("name")), [_num(shares.get(c)) or 0.0 for c in CAUSES]))
    return rows


def causes_sentence(data: RunData) -> str:
    """The base's main causes of defection in one sentence."""
    rows = cause_rows(data)
    if not rows:
        return ""
    name, shares = rows[0]
    if not sum(shares):
        return f"Nobody left in the {name}."
    ranked = sorted(zip(CAUSES, shares, strict=True), key=lambda cs: -cs[1])
    top = [f"{CAUSE_LABELS[c]} ({pct(s)})" for c, s in ranked[:3] if s > 0]
    return f"In the {name}, customers left mostly because of " + ", ".join(top) + "."


# --------------------------------------------------------------------------- charts


CHART_TEXT: dict[str, tuple[str, str]] = {
    "customers": (
        "Active customers",
        "How many customers each plan keeps, day by day. Lines are means over the runs "
        "(they end at the tables' figures); shaded bands hold 90% of runs.",
    ),
    "cash": (
        "Cash",
        "Cash in the bank at the end of each day (lines: means over the runs; bands: 90% "
        "of runs). The dashed line is the floor below which the business is ruined; a "
        "cross marks each run that hit it.",
    ),
    "cumulative_profit": (
        "Cumulative profit",
        "Profit since day 0 (gross profit less every other cost), shown at the close of "
        "each month, its fixed costs paid and its sales in, so the rent's saw-tooth does "
        "not hide the differences. Lines are means over the runs; each ends, on the last "
        "day, at the plan's profit in the tables.",
    ),
    "profit_vs_base": (
        "Profit compared with the base",
        "Each plan's profit minus the base's, run by run on the same customers and luck. "
        "When the thick bar (the paired 95% interval) is clear of zero the difference is "
        "real, not chance.",
    ),
    "churn_causes": (
        "Why customers left",
        "Shares of all defections by recorded cause.",
    ),
    "defector_satisfaction": (
        "Satisfaction when customers left",
        "How satisfied customers were at the moment they left. The shaded band is "
        "'satisfied': customers there left although satisfied.",
    ),
}
CHART_ORDER: tuple[str, ...] = tuple(CHART_TEXT)


def _runs_per_plan(data: RunData) -> str:
    """Replications per plan: those summarised, else those asked for."""
    if data.summary and data.summary.get("replications") is not None:
        return str(data.summary["replications"])
    return str(data.manifest.get("replications_requested", "?"))


def _date(stamp: Any) -> str:
    if not isinstance(stamp, str) or len(stamp) < 10:
        return "unknown date"
    return stamp[:10]


def summary_rows(data: RunData) -> list[list[str]]:
    """The at-a-glance table: plan, profit [CI], vs base, churn/yr, customers, ruin, verdict."""
    rows: list[list[str]] = []
    if not data.summary:
        return rows
    base = data.summary.get("base", "base")
    for v, s in zip(data.summary["variants"], variant_stories(data), strict=True):
        m = v.get("metrics", {})
        p = m.get("profit", {})
        lo, hi = _pair(p.get("ci95"))
        diff = (v.get("vs_base") or {}).get("profit")
        if v.get("name") != base and diff:
            d_lo, d_hi = _pair(diff.get("ci95"))
            vs = (
                f"{money(diff.get('mean'), True)} ({COMPARISON_SHORT.get(s.comparison, '?')})\n"
                f"{span(d_lo, d_hi, True)}"
            )
        else:
            vs = "–"
        ruin = v.get("ruin") or {}
        n = int(v.get("replications") or data.summary.get("replications") or 0)
        rows.append(
            [
                str(v.get("name")),
                f"{money(p.get('mean'))}\n{span(lo, hi)}",
                vs,
                pct(m.get("churn_rate_annual", {}).get("mean")),
                money(m.get("customers_end", {}).get("mean")),
                f"{int(ruin.get('ruined') or 0)} of {n}",
                VERDICT_LABELS.get(s.verdict, s.verdict),
            ]
        )
    return rows


SUMMARY_HEADER = (
    "plan",
    "profit{unit}\n95% interval",
    "vs base{unit}\npaired 95% interval",
    "churn\nper year",
    "customers\nat end",
    "runs\nruined",
    "ruin risk",
)


# --------------------------------------------------------------------------- the report

SUMMARY_NOTE = (
    "Intervals are 95% confidence intervals over the runs. Every plan is run on the same "
    "simulated customers and luck as the base (common random numbers), so its difference "
    "from the base is measured run by run (paired). “Safe” means the 95% upper bound of the "
    "ruin risk is below the guard’s limit."
)
BREAK_EVEN_RULE = (
    "A discount d cuts the margin on every discounted sale, so with a gross margin m sales "
    "must rise by d/(m − d) just to keep gross profit where it was; when d ≥ m no rise is "
    "enough."
)
REPRODUCE_NOTE = (
    "The same scenario file, seed and version give the same numbers, to the digit, on any "
    "machine and with any number of workers."
)
DISCLAIMER = (
    "Made with loyaltysim, an agent-based simulator of discount and loyalty programmes. "
    "Simulated results depend on the assumptions above; they are a way to compare plans, "
    "not a forecast."
)


def font_notice(missing: Sequence[str]) -> str:
    """The alert of a PDF whose fonts lack some characters (drawn as empty boxes).

    The characters are named by code point and Unicode name: the PDF cannot draw them.
    """
    chars = list(dict.fromkeys(missing))
    named = [f"U+{ord(c):04X} {unicodedata.name(c, '').lower()}".rstrip() for c in chars[:8]]
    more = f" and {len(chars) - 8} more" if len(chars) > 8 else ""
    return (
        f"Some characters of this report ({', '.join(named)}{more}) are in none of the "
        "fonts this machine has, so this PDF draws them as empty boxes. The HTML report "
        "shows them (your browser has the fonts); or install a font that covers them (for "
        "example Noto Sans CJK for Chinese, Japanese and Korean, Symbola for emoji) and "
        "make the PDF again."
    )


def _summary_table(data: RunData) -> Table:
    rows = []
    for row in summary_rows(data):
        verdict = next((k for k, v in VERDICT_LABELS.items() if v == row[-1]), "unknown")
        rows.append((*(Cell(c) for c in row[:-1]), Cell(row[-1], "badge", verdict)))
    unit = f" ({data.currency})" if data.currency else ""
    return Table(
        tuple(h.replace("{unit}", unit) for h in SUMMARY_HEADER),
        tuple(rows),
        (0.18, 0.15, 0.19, 0.09, 0.11, 0.08, 0.2),
        numeric=(1, 2, 3, 4, 5),
    )


def _summary_section(data: RunData, stories: Sequence[VariantStory]) -> Section:
    blocks: list[Block]
    if not stories:
        blocks = [Paragraph("No summary: the run left no results to summarise.")]
    else:
        cards = tuple(Card(s.name, s.verdict, s.badges, tuple(s.sentences)) for s in stories)
        blocks = [_summary_table(data), Cards(cards), Paragraph(SUMMARY_NOTE, "note")]
    return Section("summary", "Summary of the evidence, plan by plan", tuple(blocks), new_page=True)


def _charts_section(charts: Sequence[Figure], data: RunData, shown: str | None = None) -> Section:
    if charts:
        rest: tuple[Block, ...] = tuple(c for c in charts if c.name != shown)
        if not rest:
            rest = (Paragraph("The one chart of this run is on the first page."),)
        return Section("charts", "Charts", rest, new_page=True)
    why = (
        "the folder's tables cannot be trusted (see the top of this report)"
        if data.alerts
        else "the run left no complete replication to draw"
    )
    return Section("charts", "Charts", (Paragraph(f"No charts: {why}."),), new_page=True)


def _share(s: float) -> str:
    """A cause's share; a small one keeps a decimal, so that it does not read as none."""
    return pct(s, 1) if 0 < s < 0.01 else pct(s)


def _causes_section(data: RunData) -> Section:
    rows = cause_rows(data)
    if not rows:
        return Section("causes", "Why customers left", (Paragraph("No summary of defections."),))
    table = Table(
        ("plan", *(CAUSE_SHORT[c] for c in CAUSES)),
        tuple((Cell(name), *(Cell(_share(s)) for s in shares)) for name, shares in rows),
        (0.22, *(0.78 / len(CAUSES),) * len(CAUSES)),
        numeric=tuple(range(1, len(CAUSES) + 1)),
    )
    note = Paragraph(
        "Shares of all defections in all runs. “Staff indifference” and “poor service” are "
        "counted apart.",
        "note",
    )
    return Section("causes", "Why customers left", (Paragraph(causes_sentence(data)), table, note))


def _break_even_section(stories: Sequence[VariantStory]) -> Section:
    title = "Does the discount pay for itself?"
    if not stories:
        return Section("break-even", title, (Paragraph("No summary: nothing to compare."),))
    items = Bullets(tuple((s.name, s.break_even) for s in stories))
    return Section("break-even", title, (Paragraph(BREAK_EVEN_RULE), items))


def _reproduce_section(data: RunData) -> Section:
    table = Table(
        None,
        tuple((Cell(label), Cell(value, "code")) for label, value in reproduce_rows(data)),
        (0.25, 0.75),
    )
    return Section("reproduce", "How to reproduce", (Paragraph(REPRODUCE_NOTE), table))


def build_report(data: RunData, charts: Sequence[Figure], generated: datetime) -> Report:
    """The whole report of a results folder, as plain data for a renderer.

    Parameters
    ----------
    data : RunData
        The folder, read by :func:`~loyaltysim.output.report_data.load_run`.
    charts : sequence of Figure
        The charts to show, in order (none when ``data.alerts`` says the tables are wrong).
    generated : datetime
        When the report is made (UTC), stamped on it.
    """
    m = data.manifest
    horizon = m.get("horizon_days") or data.resolved.get("scenario", {}).get("horizon_days")
    subtitle = (
        f"Simulation report · run of {_date(m.get('started_at'))} · {_runs_per_plan(data)} "
        f"runs per plan × {horizon} days · report made "
        f"{generated.strftime('%Y-%m-%d %H:%M UTC')}"
    )
    message = status_message(data)
    alerts = ([message] if message else []) + list(data.alerts)
    stories = variant_stories(data)
    verdict, shown = verdict_section(data, charts, data.sample_warnings)
    uncertainty = uncertainty_section(data.summary, data.currency)
    sections = (
        verdict,
        _summary_section(data, stories),
        _charts_section(charts, data, shown),
        _causes_section(data),
        _break_even_section(stories),
        *((uncertainty,) if uncertainty else ()),
        assumptions_section(data),
        _reproduce_section(data),
        appendix_section(data),
    )
    return Report(
        title=data.title,
        document_title=f"{data.title}: simulation report",
        subject="Simulation of discount and loyalty plans",
        subtitle=subtitle,
        alerts=tuple(alerts),
        notes=tuple(f"Note: {note}." for note in data.notes),
        sections=sections,
        closing=Paragraph(
            "This report:", code=f"loyaltysim report {shlex.quote(str(data.run_dir))}"
        ),
        footer=DISCLAIMER,
        page_footer=f"{data.title} · loyaltysim report · {generated.strftime('%Y-%m-%d')}",
    )
