"""The report's first page: the question, the answer per plan, a recommendation, one chart.

A client reads this page in two minutes; the rest of the report is the evidence. Every
figure comes from the folder's ``summary.json`` (as the evidence does): the guard's ruin
verdict and the bound it was decided on, the paired difference of profit from the base,
over the run's horizon. The words are plain: "safe" is the guard's verdict (95% sure the
ruin risk is below the limit), "earns/costs" is the paired 95% interval of profit against
the base.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loyaltysim.output.report_data import RunData
from loyaltysim.output.report_doc import Block, Bullets, Figure, Paragraph, Section
from loyaltysim.scenario.money import money

__all__ = ["PlanAnswer", "plan_answers", "recommendation", "verdict_section"]

# The chart the verdict page shows: the plans against the base, else the profit over time.
VERDICT_CHARTS = ("profit_vs_base", "cumulative_profit")


def _num(x: Any) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if v == v and abs(v) != float("inf") else None


def _pct(x: float | None) -> str:
    if x is None:
        return "n/a"
    text = f"{x:.0%}" if x >= 0.01 or x == 0 else f"{x:.1%}"
    return text.replace("-", "−")


def horizon_words(days: Any) -> str:
    """``365 days (1 year)``, ``730 days (2 years)``, ``90 days (about 3 months)``."""
    n = _num(days)
    if n is None:
        return "the horizon"
    d = int(n)
    years = d / 365.25
    if abs(years - round(years)) < 0.01 and round(years) >= 1:
        y = round(years)
        return f"{d:,} days ({y} year{'s' if y != 1 else ''})"
    months = d / (365.25 / 12)
    if months >= 1.5:
        return f"{d:,} days (about {months:.0f} months)"
    return f"{d:,} days"


def base_words(data: RunData) -> str:
    """What the base is: "doing nothing" when it gives no discount and makes no contacts."""
    discount = (data.resolved.get("discount") or {}).get("kind", "none")
    followup = (data.resolved.get("followup") or {}).get("kind", "none")
    if discount == "none" and followup == "none":
        return "doing nothing new (the base)"
    return "the base (the business as the scenario describes it)"


@dataclass(frozen=True)
class PlanAnswer:
    """One plan's answer: safe or not, how sure, what it earns against the base."""

    name: str
    is_base: bool
    verdict: str  # safe | unsafe | undecided | unknown
    sentence: str
    difference: float | None = None  # mean paired profit difference from the base
    difference_lo: float | None = None
    difference_hi: float | None = None

    @property
    def beats_base(self) -> bool:
        return self.difference_lo is not None and self.difference_lo > 0

    @property
    def loses_to_base(self) -> bool:
        return self.difference_hi is not None and self.difference_hi < 0


def _safety(ruin: Mapping[str, Any], n: int) -> tuple[str, str]:
    """``(verdict, words)``: the guard's verdict and how sure it is, in a clause."""
    verdict = str(ruin.get("verdict") or "unknown")
    if verdict == "unresolved":
        verdict = "undecided"
    k = int(ruin.get("ruined") or 0)
    lo, hi = [*(ruin.get("risk_bounds") or ruin.get("ci95") or []), None, None][:2]
    limit = _num(ruin.get("max_ruin_probability"))
    limit_text = f"the {_pct(limit)} limit" if limit is not None else "the limit"
    runs = f"{n} simulated run{'s' if n != 1 else ''}"
    if verdict == "safe":
        return verdict, (
            f"safe: ruined in {k} of {runs}, so 95% sure its risk of running out of cash is "
            f"below {_pct(_num(hi))} (under {limit_text})"
        )
    if verdict == "unsafe":
        return verdict, (
            f"NOT safe: it ran out of cash in {k} of {runs}, a ruin risk of "
            f"{_pct(_num(lo))} to {_pct(_num(hi))}, above {limit_text}"
        )
    if verdict == "undecided":
        needed = ruin.get("replications_needed")
        more = f" (about {int(needed):,} runs would settle it)" if needed else ""
        ruined = f"ruined in {k} of {runs}" if k else f"no ruin in {runs}"
        return verdict, (
            f"not yet shown safe: {ruined}, too few to show its ruin risk is below "
            f"{limit_text}{more}"
        )
    return "unknown", "its ruin risk is not in the results"


def plan_answers(data: RunData) -> list[PlanAnswer]:
    """One answer per plan in the summary, base first (empty without a summary)."""
    summary = data.summary
    if not summary:
        return []
    base = summary.get("base", "base")
    days = _num(summary.get("horizon_days"))
    horizon = f"{int(days):,} days" if days is not None else "the horizon"
    currency = data.currency
    against = "the base"
    answers = []
    for v in summary["variants"]:
        name = str(v.get("name"))
        n = int(v.get("replications") or summary.get("replications") or 0)
        verdict, safety = _safety(v.get("ruin") or {}, n)
        profit = (v.get("metrics") or {}).get("profit") or {}
        if name == base:
            sentence = (
                f"{safety}; profit {money(profit.get('mean'), currency)} over {horizon} on average."
            )
            answers.append(PlanAnswer(name, True, verdict, sentence[0].upper() + sentence[1:]))
            continue
        diff = (v.get("vs_base") or {}).get("profit") or {}
        mean = _num(diff.get("mean"))
        lo, hi = [*(diff.get("ci95") or []), None, None][:2]
        lo_v, hi_v = _num(lo), _num(hi)
        if mean is None:
            money_words = "its profit was not compared with the base"
        else:
            size = money(abs(mean), currency)
            if lo_v is not None and lo_v > 0:
                money_words = (
                    f"it earns {size} more than {against} over {horizon} (95% sure: "
                    f"between {money(lo_v, currency)} and {money(hi_v, currency)} more)"
                )
            elif hi_v is not None and hi_v < 0:
                money_words = (
                    f"it costs {size} of profit against {against} over {horizon} (95% sure: "
                    f"between {money(-hi_v, currency)} and {money(-lo_v, currency)} less)"
                    if lo_v is not None
                    else f"it costs {size} of profit against {against} over {horizon}"
                )
            elif lo_v is None or hi_v is None:
                money_words = (
                    f"its profit differs from {against} by {money(mean, currency, True)} "
                    f"over {horizon} (one run: no interval)"
                )
            else:
                money_words = (
                    f"its profit is not clearly different from {against} over {horizon} "
                    f"({money(mean, currency, True)} on average; 95% sure it lies between "
                    f"{money(lo_v, currency, True)} and {money(hi_v, currency, True)})"
                )
        sentence = f"{safety[0].upper()}{safety[1:]}; {money_words}."
        answers.append(PlanAnswer(name, False, verdict, sentence, mean, lo_v, hi_v))
    return answers


def _names(answers: Sequence[PlanAnswer]) -> str:
    quoted = [f"“{a.name}”" for a in answers]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def recommendation(data: RunData, answers: Sequence[PlanAnswer]) -> str:
    """What to do, in a few sentences, from the answers alone."""
    if not answers:
        return "No recommendation: the run left no results."
    currency = data.currency
    base = next((a for a in answers if a.is_base), answers[0])
    plans = [a for a in answers if not a.is_base]
    unsafe = [a for a in plans if a.verdict == "unsafe"]
    winners = sorted(
        (a for a in plans if a.verdict == "safe" and a.beats_base),
        key=lambda a: -(a.difference or 0.0),
    )
    maybe = [a for a in plans if a.verdict != "safe" and a.verdict != "unsafe" and a.beats_base]
    parts: list[str] = []
    if base.verdict == "unsafe":
        parts.append(
            "Warning: the business as it stands may run out of cash within the horizon; fix "
            "that first (costs, cash, prices) before choosing a plan."
        )
    if winners:
        best = winners[0]
        parts.append(
            f"Recommendation: adopt “{best.name}”. It is safe and earns about "
            f"{money(best.difference, currency)} more than {base_words(data)}."
        )
        if len(winners) > 1:
            parts.append(f"{_names(winners[1:])} also earn more, but less.")
    elif not plans:
        parts.append(
            "Only the base was simulated: add plans as [[variants]] to compare them with it."
        )
    else:
        parts.append(
            f"Recommendation: keep {base_words(data)} for now. "
            + (
                "No plan shown safe earns reliably more than it."
                if maybe
                else "No plan earns reliably more than it."
            )
        )
    if maybe:
        parts.append(
            f"{_names(maybe)} may earn more, but {'its' if len(maybe) == 1 else 'their'} ruin "
            "risk is not yet shown to be low enough: run `loyaltysim check` before adopting "
            f"{'it' if len(maybe) == 1 else 'them'}."
        )
    losers = [a for a in plans if a.loses_to_base and a not in unsafe]
    if losers:
        parts.append(f"{_names(losers)} earn{'s' if len(losers) == 1 else ''} less: avoid.")
    if unsafe:
        parts.append(
            f"{_names(unsafe)} put{'s' if len(unsafe) == 1 else ''} the business at risk of "
            "running out of cash: do not adopt."
        )
    return " ".join(parts)


def question(data: RunData) -> str:
    """The question the report answers, with its horizon and how it was measured."""
    summary = data.summary or {}
    horizon = horizon_words(summary.get("horizon_days") or data.manifest.get("horizon_days"))
    names = [str(v.get("name")) for v in summary.get("variants", [])]
    base = summary.get("base", "base")
    plans = [n for n in names if n != base]
    n = summary.get("replications") or data.manifest.get("replications_requested") or "?"
    what = (
        f"Which of {len(plans)} plan{'s' if len(plans) != 1 else ''} should "
        f"{data.title} adopt, against {base_words(data)}, and does any of them risk "
        f"running out of cash?"
        if plans
        else f"Can {data.title} stay clear of running out of cash, and what does it earn?"
    )
    return (
        f"The question: {what} Each plan was simulated {n} times over {horizon}, on the "
        "same simulated customers and luck as the base, so the differences are the plans' "
        "own."
    )


def verdict_section(
    data: RunData, charts: Sequence[Figure], warnings: Sequence[str] = ()
) -> tuple[Section, str | None]:
    """The first page, and the name of the chart it shows (left out of the evidence)."""
    answers = plan_answers(data)
    blocks: list[Block] = [Paragraph(question(data))]
    if answers:
        blocks.append(Bullets(tuple((a.name, a.sentence) for a in answers)))
        blocks.append(Paragraph(recommendation(data, answers), "lead"))
    else:
        blocks.append(Paragraph("No answer: the run left no results to summarise."))
    for text in warnings:
        blocks.append(Paragraph(f"Caution: {text}", "note"))
    shown = None
    by_name = {c.name: c for c in charts}
    for name in VERDICT_CHARTS:
        if name in by_name:
            blocks.append(by_name[name])
            shown = name
            break
    return Section("verdict", "The answer", tuple(blocks)), shown
