"""Follow-up strategies: *when* the business reaches out (kind) and *to whom* (target).

Kinds and targets are small functions in explicit registries; adding one is one function
and one registry line. Everything the business uses to pick targets is something it can
observe: purchases, visit gaps, spend, complaints, survey answers and what its calls
heard back (``known_unhappy``). It never reads a customer's true satisfaction, nor
whether a customer has quietly left: its books hold everyone seen within
``lapsed_after_days``, and contacts to those who have in fact gone cost money and do
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from loyaltysim.config import Frozen
from loyaltysim.followups.channels import ChannelName
from loyaltysim.lazy_names import lazy_module

if TYPE_CHECKING:
    import numpy as np

    from loyaltysim.model.population import Population
else:
    np = lazy_module("numpy")  # loaded at first use: checking a scenario needs none


class Followup(Frozen):
    """The scenario's ``[followup]`` table."""

    kind: Literal["none", "after_purchase", "periodic", "at_risk"] = Field(
        "none", description="when contacts are made"
    )
    channel: ChannelName = Field("email", description="how customers are contacted")
    target: Literal["all", "sample", "dissatisfied", "at_risk", "top_spenders"] = Field(
        "all", description="who, among the candidates of the kind, is contacted"
    )
    sample_share: float = Field(0.2, ge=0.0, le=1.0, description="share contacted (sample)")
    top_share: float = Field(0.2, gt=0.0, le=1.0, description="share counted as top spenders")
    delay_days: int = Field(2, ge=0, le=365, description="days from decision to contact")
    monthly_budget: float = Field(
        500.0, ge=0.0, le=1e9, description="most spent on contacts in a month"
    )
    every_days: int = Field(30, ge=1, le=3650, description="interval of periodic contacts")
    at_risk_gap_factor: float = Field(
        2.0,
        gt=1.0,
        le=50.0,
        description="at risk: a customer unseen for this many times their usual gap between visits",
    )
    min_days_between_contacts: int = Field(
        14, ge=0, le=3650, description="a customer is not contacted again within this many days"
    )
    lapsed_after_days: int = Field(
        180, ge=1, le=36_500, description="unseen this long, a customer is off the books"
    )


def _after_purchase(f: Followup, day: int, pop: Population, buyers: np.ndarray) -> np.ndarray:
    return buyers


def on_the_books(f: Followup, day: int, pop: Population) -> np.ndarray:
    """Customers the business still counts as its own: seen within ``lapsed_after_days``."""
    since = day - pop.last_visit[: pop.size].astype(np.int64)
    return since <= f.lapsed_after_days


def _periodic(f: Followup, day: int, pop: Population, buyers: np.ndarray) -> np.ndarray:
    if day == 0 or day % f.every_days:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(on_the_books(f, day, pop))


def _at_risk_kind(f: Followup, day: int, pop: Population, buyers: np.ndarray) -> np.ndarray:
    return np.flatnonzero(at_risk_mask(f, day, pop))


def at_risk_mask(f: Followup, day: int, pop: Population) -> np.ndarray:
    """Observable risk: a customer on the books whose time since the last visit exceeds
    ``at_risk_gap_factor`` times their own usual gap between visits."""
    n = pop.size
    gap = day - pop.last_visit[:n].astype(np.int64)
    return on_the_books(f, day, pop) & (gap > f.at_risk_gap_factor * pop.usual_gap[:n])


KINDS: dict[str, Callable[[Followup, int, Population, np.ndarray], np.ndarray]] = {
    "after_purchase": _after_purchase,
    "periodic": _periodic,
    "at_risk": _at_risk_kind,
}


def _all(f: Followup, day: int, pop: Population, c: np.ndarray, u: np.ndarray) -> np.ndarray:
    return c


def _sample(f: Followup, day: int, pop: Population, c: np.ndarray, u: np.ndarray) -> np.ndarray:
    return c[u[c] < f.sample_share]


def _dissatisfied(
    f: Followup, day: int, pop: Population, c: np.ndarray, u: np.ndarray
) -> np.ndarray:
    return c[pop.known_unhappy[c]]


def _at_risk(f: Followup, day: int, pop: Population, c: np.ndarray, u: np.ndarray) -> np.ndarray:
    return c[at_risk_mask(f, day, pop)[c]]


def _top_spenders(
    f: Followup, day: int, pop: Population, c: np.ndarray, u: np.ndarray
) -> np.ndarray:
    spend = pop.spend[: pop.size][on_the_books(f, day, pop)]
    if len(spend) == 0:
        return c[:0]
    cut = np.quantile(spend, 1.0 - f.top_share)
    return c[pop.spend[c] >= max(cut, np.finfo(float).tiny)]


TARGETS: dict[str, Callable[[Followup, int, Population, np.ndarray, np.ndarray], np.ndarray]] = {
    "all": _all,
    "sample": _sample,
    "dissatisfied": _dissatisfied,
    "at_risk": _at_risk,
    "top_spenders": _top_spenders,
}


def select_contacts(
    f: Followup,
    day: int,
    pop: Population,
    buyers: np.ndarray,
    u: np.ndarray,
    budget_left: float,
    cost: float,
) -> np.ndarray:
    """Customers to contact today: the kind's candidates, filtered by target, not
    contacted recently, and as many as the month's remaining budget pays for (in the
    random order of ``u``, so a budget cut is a random sample, not the lowest indices)."""
    if f.kind == "none":
        return np.zeros(0, dtype=np.int64)
    candidates = KINDS[f.kind](f, day, pop, buyers)
    chosen = TARGETS[f.target](f, day, pop, candidates, u)
    last = pop.last_contact[chosen]
    chosen = chosen[(last < 0) | (day - last >= f.min_days_between_contacts)]
    affordable = len(chosen) if cost <= 0 else int(budget_left // cost)
    if affordable < len(chosen):
        chosen = chosen[np.argsort(u[chosen], kind="stable")[: max(affordable, 0)]]
    return np.sort(chosen)
