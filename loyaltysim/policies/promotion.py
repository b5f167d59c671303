"""A calendar of sales: ``rate`` off for ``length_days`` every ``every_days``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator

from loyaltysim.lazy_names import lazy_module
from loyaltysim.policies.base import DiscountBase

if TYPE_CHECKING:
    import numpy as np

    from loyaltysim.model.population import Population
else:
    np = lazy_module("numpy")  # loaded at first use: checking a scenario needs none


class PromotionCalendar(DiscountBase):
    """Periodic sales. Frequent sales teach customers a lower reference price (Mela,
    Gupta & Lehmann 1997), so full price afterwards feels like a loss and sales dip below
    the pre-promotion baseline for a while (stylized fact 8). ``stop_day`` ends the
    calendar to show that dip."""

    kind: Literal["promotion"] = "promotion"
    rate: float = Field(0.20, ge=0.0, le=1.0, description="sale discount, fraction")
    every_days: int = Field(30, ge=1, le=3650, description="a sale starts every this many days")
    length_days: int = Field(7, ge=1, le=3650, description="length of each sale, days")
    start_day: int = Field(0, ge=0, le=36500, description="day of the first sale")
    stop_day: int | None = Field(None, ge=0, le=36500, description="no sale from this day on")

    @model_validator(mode="after")
    def _fits(self) -> PromotionCalendar:
        if self.length_days > self.every_days:
            raise ValueError("length_days cannot exceed every_days")
        return self

    def on_sale(self, day: int) -> bool:
        if day < self.start_day or (self.stop_day is not None and day >= self.stop_day):
            return False
        return (day - self.start_day) % self.every_days < self.length_days

    def headline_rate(self) -> float:
        return self.rate

    def offered(
        self, day: int, pop: Population, idx: np.ndarray, price: float, tickets: np.ndarray
    ) -> np.ndarray:
        return np.full(len(idx), self.rate if self.on_sale(day) else 0.0)

    def prospect_discount(self, day: int) -> float:
        return self.rate if self.on_sale(day) else 0.0
