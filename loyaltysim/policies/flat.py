"""A flat discount on every ticket."""

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


class FlatDiscount(DiscountBase):
    """Everyone pays ``(1 - rate)`` of list price on every visit.

    The over-discounting arithmetic (modelling basis, section 3) bites hardest here: with
    gross margin m the discount needs a volume lift of ``rate / (m - rate)`` to pay for itself.
    """

    kind: Literal["flat"] = "flat"
    rate: float = Field(0.10, ge=0.0, le=1.0, description="discount, fraction of list price")

    def headline_rate(self) -> float:
        return self.rate

    def offered(
        self, day: int, pop: Population, idx: np.ndarray, price: float, tickets: np.ndarray
    ) -> np.ndarray:
        return np.full(len(idx), self.rate)

    def prospect_discount(self, day: int) -> float:
        return self.rate
