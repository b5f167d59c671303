"""Loyalty tiers: the more a customer visits, the larger the discount."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from loyaltysim.config import Frozen
from loyaltysim.lazy_names import lazy_module
from loyaltysim.policies.base import DiscountBase

if TYPE_CHECKING:
    import numpy as np

    from loyaltysim.model.population import Population
else:
    np = lazy_module("numpy")  # loaded at first use: checking a scenario needs none


class Tier(Frozen):
    visits: int = Field(ge=1, le=100_000, description="visits in a period to qualify")
    rate: float = Field(ge=0.0, le=1.0, description="discount of this tier, fraction")


class TiersDiscount(DiscountBase):
    """Status by visits per qualification period, kept for the following period.

    Status is ``max(visits this period, visits last period)`` as airline and retail
    programmes do, so a good period buys a year of status. Status is a financial
    switching cost (Burnham et al. 2003): losing it by leaving is a cost of change.
    """

    kind: Literal["tiers"] = "tiers"
    tiers: tuple[Tier, ...] = Field(
        (Tier(visits=5, rate=0.05), Tier(visits=20, rate=0.10)),
        min_length=1,
        max_length=20,
        strict=False,
        description="tiers in increasing order of visits",
    )
    period_days: int = Field(365, ge=7, le=3650, description="qualification period, days")
    status_switching_cost: float = Field(
        0.3, ge=0.0, le=5.0, description="switching cost of holding the top tier (utils)"
    )

    @field_validator("tiers")
    @classmethod
    def _increasing(cls, tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
        visits = [t.visits for t in tiers]
        if visits != sorted(set(visits)):
            raise ValueError("tiers must be listed with strictly increasing visits")
        return tiers

    def _thresholds(self) -> np.ndarray:
        return np.array([t.visits for t in self.tiers])

    def _rates(self) -> np.ndarray:
        return np.array([0.0] + [t.rate for t in self.tiers])

    def _update_tier(self, pop: Population, idx: np.ndarray | slice) -> None:
        status = np.maximum(pop.period_visits[idx], pop.prev_period_visits[idx])
        pop.tier[idx] = np.searchsorted(self._thresholds(), status, side="right")

    def headline_rate(self) -> float:
        return max(t.rate for t in self.tiers)

    def offered(
        self, day: int, pop: Population, idx: np.ndarray, price: float, tickets: np.ndarray
    ) -> np.ndarray:
        return self._rates()[pop.tier[idx]]

    def after_purchase(
        self, day: int, pop: Population, idx: np.ndarray, rates: np.ndarray, paid: np.ndarray
    ) -> None:
        pop.period_visits[idx] += 1
        self._update_tier(pop, idx)

    def start_of_day(self, day: int, pop: Population, rng: np.random.Generator) -> float:
        if day > 0 and day % self.period_days == 0:
            n = pop.size
            pop.prev_period_visits[:n] = pop.period_visits[:n]
            pop.period_visits[:n] = 0
            self._update_tier(pop, slice(0, n))
        return 0.0

    def customer_effects(
        self, pop: Population, rows: slice | np.ndarray
    ) -> tuple[np.ndarray, float]:
        share = pop.tier[rows].astype(np.float32) / len(self.tiers)
        return self.status_switching_cost * share, 1.0
