"""Win-back offers to customers who have lapsed (not seen for a while)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from loyaltysim.lazy_names import lazy_module
from loyaltysim.policies.base import DiscountBase

if TYPE_CHECKING:
    import numpy as np

    from loyaltysim.model.population import Population
else:
    np = lazy_module("numpy")  # loaded at first use: checking a scenario needs none


class WinBackOffer(DiscountBase):
    """A customer not seen for ``after_days`` is sent one offer of ``rate`` off for
    ``offer_days``: the business sees a lapse, not a departure. A lapsed customer who has
    in fact left returns with probability ``accept_probability x (take_up_base +
    deal_proneness)``, with ``attachment_kept`` of their attachment and, being won on a
    deal, may leave again when it ends; one who still comes now and then simply gets the
    discount."""

    kind: Literal["win_back"] = "win_back"
    brings_back: ClassVar[bool] = True
    rate: float = Field(0.20, ge=0.0, le=1.0, description="offer discount, fraction")
    after_days: int = Field(
        30, ge=1, le=3650, description="an offer goes to a customer unseen for this many days"
    )
    offer_days: int = Field(30, ge=1, le=3650, description="how long the offer is valid")
    accept_probability: float = Field(
        0.15, ge=0.0, le=1.0, description="chance a customer who receives the offer uses it"
    )
    offer_cost: float = Field(1.0, ge=0.0, le=1e6, description="cost of sending one offer")
    take_up_base: float = Field(
        0.5,
        ge=0.0,
        le=10.0,
        description="how readily customers who already left take the offer "
        "(added to their deal proneness)",
    )
    attachment_kept: float = Field(
        0.5, ge=0.0, le=1.0, description="share of attachment a returning customer still has"
    )

    def headline_rate(self) -> float:
        return self.rate

    def offered(
        self, day: int, pop: Population, idx: np.ndarray, price: float, tickets: np.ndarray
    ) -> np.ndarray:
        return np.where(pop.offer_until[idx] >= day, pop.offer_rate[idx], 0.0)

    def start_of_day(self, day: int, pop: Population, rng: np.random.Generator) -> float:
        n = pop.size
        u = rng.random(n, dtype=np.float32)
        targets = np.flatnonzero(pop.last_visit[:n] == day - self.after_days)
        if len(targets) == 0:
            return 0.0
        slow = targets[pop.active[targets]]
        pop.offer_rate[slow] = self.rate
        pop.offer_until[slow] = day + self.offer_days
        gone = targets[~pop.active[targets]]
        take_up = self.accept_probability * (self.take_up_base + pop.deal_proneness[gone])
        back = gone[u[gone] < take_up]
        # Imported here: the model's modules load numpy, which checking a scenario skips.
        from loyaltysim.model.population import ORIGIN_WIN_BACK

        pop.active[back] = True
        pop.left[back] = -1
        pop.origin[back] = ORIGIN_WIN_BACK
        pop.won_on_deal[back] = True
        pop.attachment[back] *= self.attachment_kept
        pop.offer_rate[back] = self.rate
        pop.offer_until[back] = day + self.offer_days
        pop.joined[back] = day
        for memory in (pop.indifference_memory, pop.poor_service_memory, pop.discount_loss):
            memory[back] = 0.0
        return float(len(targets) * self.offer_cost)
