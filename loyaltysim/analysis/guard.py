"""The over-discount guard: per plan, a verdict on the ruin risk, the warnings it raised,
and whether they were right.

Three things are judged per plan, each with the guard's one rule
(:func:`loyaltysim.analysis.verdict.decide_risk`):

- **before day 1**, the break-even arithmetic (modelling basis, section 3): a plan whose
  discount is at or above its own gross margin (its own price and unit cost) loses money
  on every discounted sale (:func:`structural_flag`), whatever the simulation says;
- the **ruin risk** within the user's horizon: SAFE, UNSAFE or UNDECIDED;
- the **ruin warning** (``cash_runway``: "at the trend of the last N days, cash falls
  below the floor within L days"): whether it fires in more runs than the acceptable risk
  (the same rule, counting warned runs), and, from the runs continued past the horizon
  (:mod:`loyaltysim.experiment.lookahead`), whether each warning was right: a **hit** when
  ruin followed within L days of it, a **false alarm** otherwise.

A plan **breaches** the guard (``check`` exits 1) when its ruin risk is UNSAFE, when it
loses money on every discounted sale, or when its ruin warning fires (the warned share is
decided above the acceptable risk). An UNDECIDED verdict does not breach: it says how many
runs would decide it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import numpy as np

from loyaltysim.analysis.verdict import (
    CONFIDENCE,
    SAFE,
    UNDECIDED,
    UNSAFE,
    RiskDecision,
    decide_risk,
    risk_status,
)
from loyaltysim.model.monitor import break_even_words
from loyaltysim.model.result import RunResult
from loyaltysim.scenario import Scenario

__all__ = [
    "SAFE",
    "UNDECIDED",
    "UNSAFE",
    "PlanVerdict",
    "WarningJudgement",
    "WarningPerformance",
    "decided",
    "judge_plan",
    "judge_warnings",
    "structural_flag",
    "warning_performance",
]

RUIN_WARNING = "cash_runway"


def structural_flag(scenario: Scenario) -> str | None:
    """Before any simulation: the break-even arithmetic of the plan's discount against its
    own gross margin, in words, when the discount is at or above it (else ``None``)."""
    d, m = scenario.discount.headline_rate(), scenario.business.gross_margin
    if d <= 0 or d < m:
        return None
    biz = scenario.business
    return f"{break_even_words(d, m)} (price {biz.price:,.2f}, unit cost {biz.unit_cost:,.2f})"


def break_even_note(scenario: Scenario) -> str | None:
    """The break-even arithmetic of a discount below the margin, in words (or ``None``
    without a discount)."""
    d, m = scenario.discount.headline_rate(), scenario.business.gross_margin
    if d <= 0 or d >= m:
        return None
    return break_even_words(d, m)


def _warning_day(run: RunResult) -> int | None:
    """The day the ruin warning fired in ``run``, if it did."""
    return next((w.day for w in run.warnings if w.indicator == RUIN_WARNING), None)


@dataclass
class WarningJudgement:
    """The ruin warnings of a set of replications, judged on what happened after.

    A warning on day ``w`` is a **hit** when ruin followed on a day ``r`` with
    ``w < r <= w + L`` (seen in the run continued past the horizon), else a **false
    alarm**. A ruin within the horizon is **caught** when a warning came before it and no
    more than L days before. Leads are ``r - w`` over hits.
    """

    look_ahead_days: int
    replications: int
    warned: int
    hits: int
    false_alarms: int
    ruined: int  # within the user's horizon
    caught: int
    ruined_after: int  # after the horizon, within the look-ahead
    leads: list[int] = field(default_factory=list)
    warning_days: list[int] = field(default_factory=list)

    @property
    def median_lead(self) -> float | None:
        return float(median(self.leads)) if self.leads else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "look_ahead_days": self.look_ahead_days,
            "replications": self.replications,
            "warned": self.warned,
            "hits": self.hits,
            "false_alarms": self.false_alarms,
            "ruined_within_horizon": self.ruined,
            "caught": self.caught,
            "ruined_after_horizon": self.ruined_after,
            "median_lead_days": self.median_lead,
            "median_warning_day": float(median(self.warning_days)) if self.warning_days else None,
        }


def judge_warnings(
    runs: list[RunResult], ruin_days: list[int | None], look_ahead: int
) -> WarningJudgement:
    """Judge each run's ruin warning (``runs`` cut to the horizon) by the ruin day of the
    same replication continued ``look_ahead`` days further (``ruin_days``, aligned)."""
    warned = hits = false = ruined = caught = after = 0
    leads: list[int] = []
    days: list[int] = []
    for run, ruin in zip(runs, ruin_days, strict=True):
        w = _warning_day(run)
        if run.ruin_day is not None:
            ruined += 1
            if w is not None and run.ruin_day - look_ahead <= w < run.ruin_day:
                caught += 1
        elif ruin is not None:
            after += 1
        if w is None:
            continue
        warned += 1
        days.append(w)
        if ruin is not None and w < ruin <= w + look_ahead:
            hits += 1
            leads.append(ruin - w)
        else:
            false += 1
    return WarningJudgement(
        look_ahead, len(runs), warned, hits, false, ruined, caught, after, leads, days
    )


def decided(
    runs: list[RunResult], limit: float, looks: int, confidence: float = CONFIDENCE
) -> bool:
    """The sequential check's stopping rule: both the ruin risk and the ruin warning's
    share are decided (neither UNDECIDED)."""
    n = len(runs)
    ruined = sum(r.ruined for r in runs)
    warned = sum(_warning_day(r) is not None for r in runs)
    return all(
        risk_status(k, n, limit, confidence=confidence, looks=looks) != UNDECIDED
        for k in (ruined, warned)
    )


@dataclass
class PlanVerdict:
    """The guard's verdict on one plan, with the figures behind it."""

    variant: str
    ruin: RiskDecision
    warning: RiskDecision
    judgement: WarningJudgement
    structural: str | None  # the break-even arithmetic when every discounted sale loses
    arithmetic: str | None  # the break-even arithmetic otherwise
    median_ruin_day: float | None
    replications_run: int
    looks_taken: int
    realised_lift: float | None = None
    required_lift: float | None = None
    advice: list[str] = field(default_factory=list)

    @property
    def warning_fired(self) -> bool:
        """The plan is flagged: every discounted sale loses money, or the ruin warning
        fires in more runs than the acceptable risk (decided)."""
        return self.structural is not None or self.warning.status == UNSAFE

    @property
    def breached(self) -> bool:
        """``check`` exits 1 for this plan."""
        return self.ruin.status == UNSAFE or self.warning_fired

    @property
    def status(self) -> str:
        return self.ruin.status

    def as_dict(self) -> dict[str, Any]:
        return {
            "variant": self.variant,
            "status": self.ruin.status,
            "breached": self.breached,
            "warning_fired": self.warning_fired,
            "structural_loss": self.structural is not None,
            "structural": self.structural,
            "arithmetic": self.arithmetic,
            "ruin": self.ruin.as_dict(),
            "warning": self.warning.as_dict(),
            "judgement": self.judgement.as_dict(),
            "median_ruin_day": self.median_ruin_day,
            "replications": self.replications_run,
            "looks_taken": self.looks_taken,
            "realised_lift": self.realised_lift,
            "required_lift": self.required_lift,
            "advice": list(self.advice),
            "text": self.text(),
        }

    def text(self) -> str:
        """The verdict in plain words, for a business owner."""
        j = self.judgement
        parts = [f"{self.variant}: ruin risk {self.ruin.sentence()}"]
        if self.ruin.events and self.median_ruin_day is not None:
            parts.append(f"Ruin came on day {self.median_ruin_day:.0f} (median).")
        if self.structural:
            parts.append(f"Flagged before day 1: {self.structural}.")
        else:
            words = self.break_even_text()
            if words:
                parts.append(words)
        if j.warned:
            parts.append(
                f"Ruin warning: {self.warning.sentence()} First on day {min(j.warning_days)}, "
                f"median day {median(j.warning_days):.0f}."
            )
            if self.example:
                parts.append(f"It said: {self.example}.")
            lead = f", a median {j.median_lead:.0f} days ahead" if j.median_lead else ""
            parts.append(
                f"With the plan continued {j.look_ahead_days} days past the horizon, ruin "
                f"followed within {j.look_ahead_days} days of the warning in {j.hits} of "
                f"{j.warned} warned runs{lead}; {j.false_alarms} false alarm"
                f"{'' if j.false_alarms == 1 else 's'}."
            )
        else:
            parts.append(f"No ruin warning in {j.replications} runs.")
        if j.ruined_after:
            parts.append(
                f"Past the horizon: ruined within {j.look_ahead_days} more days in "
                f"{j.ruined_after} of {j.replications} runs."
            )
        parts.extend(self.advice)
        return " ".join(parts)

    example: str | None = None
    effective_discount: float | None = None
    gross_margin: float | None = None

    def break_even_text(self) -> str:
        """One break-even figure for the plan, with what it is measured against.

        With the runs' books (a plan compared with the base): the discount actually given
        (share of list price over every sale, not the headline rate) against the gross
        margin, the extra sales over the base that would keep gross profit, and the extra
        sales the runs show. Without them (the base itself): the headline rate's arithmetic.
        """
        d, m = self.effective_discount, self.gross_margin
        need, got = self.required_lift, self.realised_lift
        if d is not None and m is not None and need is not None and d >= 0.0005:
            text = (
                f"Break-even: {d:.1%} of list price was given away on average (gross margin "
                f"{m:.1%}), so the plan needed {need:.1%} more sales than the base to keep "
                "its gross profit"
            )
            if got is None:
                return text + "."
            enough = "enough" if got >= need else "not enough"
            return text + f"; it made {got:+.1%} ({enough})."
        if d is not None and d < 0.0005:
            return ""
        return f"Break-even: {self.arithmetic}." if self.arithmetic else ""


def _advice(runs: list[RunResult], window: int | None = None) -> list[str]:
    """The most common first message of each advice indicator, with how many runs saw it."""
    seen: Counter[str] = Counter()
    example: dict[str, str] = {}
    for r in runs:
        for w in r.warnings:
            if w.severity == "advice":
                seen[w.indicator] += 1
                example.setdefault(w.indicator, w.message)
    books = f", in the books of {window} days when it first fired" if window else ""
    return [
        f"Note ({count} of {len(runs)} runs{books if name in _BREAK_EVEN_ADVICE else ''}): "
        f"{_without_break_even(name, example[name])}."
        for name, count in seen.most_common()
    ]


# Advice whose message ends in the break-even arithmetic of a 30-day window: the verdict
# states the plan's one break-even figure, so the note keeps only what it observed.
_BREAK_EVEN_ADVICE = ("lift_shortfall", "discount_dependency")


def _without_break_even(indicator: str, message: str) -> str:
    if indicator in _BREAK_EVEN_ADVICE and ";" in message:
        return message.split(";", 1)[0]
    return message


def judge_plan(
    variant: str,
    scenario: Scenario,
    runs: list[RunResult],
    ruin_days_after: list[int | None],
    limit: float,
    *,
    looks: int = 1,
    looks_taken: int = 1,
    break_even: dict[str, Any] | None = None,
    confidence: float = CONFIDENCE,
) -> PlanVerdict:
    """One plan's verdict from its runs (cut to the horizon) and their outcomes past it."""
    n = len(runs)
    look_ahead = scenario.guard.look_ahead_days
    ruined = [r.ruin_day for r in runs if r.ruin_day is not None]
    warned = sum(_warning_day(r) is not None for r in runs)
    be = break_even or {}
    example = next(
        (w.message for r in runs for w in r.warnings if w.indicator == RUIN_WARNING), None
    )
    verdict = PlanVerdict(
        variant=variant,
        ruin=decide_risk(len(ruined), n, limit, confidence=confidence, looks=looks),
        warning=decide_risk(
            warned, n, limit, confidence=confidence, looks=looks, event="ruin warning"
        ),
        judgement=judge_warnings(runs, ruin_days_after, look_ahead),
        structural=structural_flag(scenario),
        arithmetic=break_even_note(scenario),
        median_ruin_day=float(np.median(ruined)) if ruined else None,
        replications_run=n,
        looks_taken=looks_taken,
        realised_lift=be.get("realised_lift"),
        required_lift=be.get("required_lift"),
        advice=_advice(runs, scenario.guard.books_window_days),
        effective_discount=be.get("effective_discount"),
        gross_margin=be.get("gross_margin"),
    )
    verdict.example = example
    return verdict


@dataclass
class WarningPerformance:
    """How well the early warning did over a set of replications (within one horizon)."""

    replications: int
    ruined: int
    warned_before_ruin: int  # ruined runs whose first warning came before the ruin day
    median_lead_days: float | None
    warned: int  # runs in which any ruin warning fired

    @property
    def caught_share(self) -> float:
        """Share of ruined runs warned before the ruin."""
        return self.warned_before_ruin / self.ruined if self.ruined else float("nan")

    @property
    def alarm_share(self) -> float:
        """Share of runs with a warning (on a safe plan: the false-alarm rate)."""
        return self.warned / self.replications if self.replications else float("nan")


def warning_performance(runs: list[RunResult]) -> WarningPerformance:
    """Lead times and alarm rates of the ruin warnings ("advice" does not count)."""
    ruined = [r for r in runs if r.ruin_day is not None]
    leads = [
        r.ruin_day - r.first_warning_day
        for r in ruined
        if r.ruin_day is not None
        and r.first_warning_day is not None
        and r.first_warning_day < r.ruin_day
    ]
    return WarningPerformance(
        replications=len(runs),
        ruined=len(ruined),
        warned_before_ruin=len(leads),
        median_lead_days=float(median(leads)) if leads else None,
        warned=sum(r.first_warning_day is not None for r in runs),
    )
