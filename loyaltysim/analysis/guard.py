"""The over-discount guard: is each variant safe, and if not, how likely, how soon, why.

A variant is **unsafe** when its headline discount is at or above the gross margin (every
discounted sale loses money: the structural flag of the modelling basis, section 3, known
before anything runs), when a structural-loss warning fired in the simulation, or when the
upper bound of its ruin probability's 95% Wilson interval exceeds the acceptable risk.
When no run was ruined but there are too few runs for the upper bound to fall below the
acceptable risk, the verdict is **unresolved** (and says how many runs would settle it):
the guard does not call a plan safe on evidence that cannot show it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from statistics import median
from typing import Any

from loyaltysim.analysis.stats import reps_to_resolve, wilson_interval
from loyaltysim.model.result import RunResult
from loyaltysim.scenario import Scenario

SAFE, UNSAFE, UNRESOLVED = "safe", "unsafe", "unresolved"


def ruin_verdict(ruined: int, n: int, max_ruin_risk: float) -> tuple[str, int | None]:
    """The ruin rule, used by ``check`` and ``summary.json`` alike.

    Safe when the upper bound of the 95% Wilson interval is at most ``max_ruin_risk``;
    unsafe when a run was ruined and the upper bound exceeds it (the guard errs on the
    side of the business); unresolved when no run was ruined but too few ran to show the
    risk is small enough, with the number of runs that would.
    """
    if n == 0:
        return UNRESOLVED, reps_to_resolve(max_ruin_risk)
    hi = wilson_interval(ruined, n)[1]
    if hi <= max_ruin_risk:
        return SAFE, None
    if ruined:
        return UNSAFE, None
    return UNRESOLVED, reps_to_resolve(max_ruin_risk)


@dataclass
class Verdict:
    """The guard's verdict on one variant, with the figures behind it."""

    variant: str
    status: str  # safe | unsafe | unresolved
    structural_loss: bool
    replications: int
    ruined: int
    ruin_probability: float
    ruin_ci95: tuple[float, float]
    median_ruin_day: float | None
    median_warning_day: float | None
    median_lead_days: float | None
    warned_before_ruin: int
    headline_discount: float
    gross_margin: float
    required_lift: float | None
    realised_lift: float | None
    replications_needed: int | None
    why: list[str] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)

    @property
    def safe(self) -> bool:
        return self.status == SAFE

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ruin_ci95"] = list(self.ruin_ci95)
        out["text"] = self.text()
        return out

    def text(self) -> str:
        """The verdict in plain words, for a business owner."""
        n, k = self.replications, self.ruined
        lo, hi = self.ruin_ci95
        head = f"{self.variant}: {self.status.upper()}."
        parts = [head]
        if self.structural_loss:
            parts.append(
                f"The discount ({self.headline_discount:.1%}) is at or above the gross margin "
                f"({self.gross_margin:.1%}): every discounted sale loses money, whatever the "
                "volume."
            )
        if k:
            when = f", typically on day {self.median_ruin_day:.0f}" if self.median_ruin_day else ""
            parts.append(
                f"Ruined in {k} of {n} runs ({self.ruin_probability:.0%}; 95% interval "
                f"{lo:.0%} to {hi:.0%}){when}."
            )
            if self.median_lead_days is not None:
                parts.append(
                    f"The first warning came a median {self.median_lead_days:.0f} days before "
                    f"the ruin (in {self.warned_before_ruin} of the {k} ruined runs)."
                )
        elif self.status == UNRESOLVED:
            parts.append(
                f"No run was ruined, but {n} runs can only show the risk is below {hi:.0%}; "
                f"{self.replications_needed} runs are needed to show it is below the "
                "acceptable risk (pass --reps)."
            )
        else:
            parts.append(f"Not ruined in any of {n} runs: ruin risk below {hi:.1%}.")
        parts.extend(self.why)
        if self.required_lift is not None and self.realised_lift is not None:
            verdict = "enough" if self.realised_lift >= self.required_lift else "not enough"
            parts.append(
                f"To pay for itself the discount needs {self.required_lift:.1%} more sales; "
                f"the simulation delivered {self.realised_lift:+.1%} ({verdict})."
            )
        parts.extend(self.advice)
        return " ".join(parts)


def _reasons(runs: list[RunResult], severity: str) -> list[str]:
    """The most common first message of each indicator, with how many runs saw it."""
    seen: Counter[str] = Counter()
    example: dict[str, str] = {}
    for r in runs:
        for w in r.warnings:
            if w.severity == severity:
                seen[w.indicator] += 1
                example.setdefault(w.indicator, w.message)
    label = "Warning" if severity == "warning" else "Note"
    return [
        f"{label} ({count} of {len(runs)} runs): {example[name]}."
        for name, count in seen.most_common()
    ]


def assess(
    variants: list[tuple[str, Scenario]],
    runs: dict[str, list[RunResult]],
    summary: dict[str, Any],
    max_ruin_risk: float,
) -> list[Verdict]:
    """One verdict per variant, in the order of ``variants``."""
    blocks = {v["name"]: v for v in summary["variants"]}
    verdicts = []
    for name, scenario in variants:
        block, results = blocks[name], runs[name]
        n = len(results)
        ruined = sum(r.ruined for r in results)
        lo, hi = wilson_interval(ruined, n)
        margin = scenario.business.gross_margin
        headline = scenario.discount.headline_rate()
        fired_structural = any(
            w.indicator == "structural_loss" for r in results for w in r.warnings
        )
        structural = headline >= margin or fired_structural
        status, needed = ruin_verdict(ruined, n, max_ruin_risk)
        if structural:
            status, needed = UNSAFE, None
        ruin = block["ruin"]
        be = block["break_even"]
        discounted = be["effective_discount"] > 0 and name != summary["variants"][0]["name"]
        verdicts.append(
            Verdict(
                variant=name,
                status=status,
                structural_loss=structural,
                replications=n,
                ruined=ruined,
                ruin_probability=ruined / n if n else float("nan"),
                ruin_ci95=(lo, hi),
                median_ruin_day=ruin["median_day"],
                median_warning_day=ruin["median_warning_day"],
                median_lead_days=ruin["median_lead_days"],
                warned_before_ruin=ruin["warned_before_ruin"],
                headline_discount=headline,
                gross_margin=margin,
                required_lift=be["required_lift"] if discounted else None,
                realised_lift=be["realised_lift"] if discounted else None,
                replications_needed=needed,
                why=_reasons(results, "warning"),
                advice=_reasons(results, "advice"),
            )
        )
    return verdicts


def replications_for(max_ruin_risk: float, requested: int) -> int:
    """Enough replications for a run with no ruin to show a risk below ``max_ruin_risk``
    (at least ``requested``)."""
    return max(requested, reps_to_resolve(max_ruin_risk))


@dataclass
class WarningPerformance:
    """How well the early warning did over a set of replications."""

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
