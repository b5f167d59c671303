"""A welcome discount on a customer's first purchase."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from loyaltysim.lazy_names import lazy_module
from loyaltysim.policies.base import DiscountBase

if TYPE_CHECKING:
    import numpy as np

    from loyaltysim.model.population import Population
else:
    np = lazy_module("numpy")  # loaded at first use: checking a scenario needs none


class FirstVisitDiscount(DiscountBase):
    """``rate`` off the first ``visits`` purchases of a new customer.

    It draws deal-prone prospects, who attach little and, when the full price arrives,
    carry a ``discount_loss`` that raises their hazard of leaving with cause
    ``discount_ended`` (Lewis 2006: customers acquired on deep promotions are worth less).
    """

    kind: Literal["first_visit"] = "first_visit"
    rate: float = Field(0.20, ge=0.0, le=1.0, description="welcome discount, fraction")
    visits: int = Field(1, ge=1, le=100, description="number of discounted first purchases")

    def headline_rate(self) -> float:
        return self.rate

    def offered(
        self, day: int, pop: Population, idx: np.ndarray, price: float, tickets: np.ndarray
    ) -> np.ndarray:
        return np.where(pop.visits[idx] < self.visits, self.rate, 0.0)

    def prospect_discount(self, day: int) -> float:
        return self.rate
