"""A points card: earn on spend, redeem for a reward."""

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


class PointsProgram(DiscountBase):
    """Points per unit of money paid; ``reward_points`` buy ``reward_value`` off a ticket.

    - Goal gradient (Kivetz, Urminsky & Zheng 2006): customers visit faster as the reward
      nears, ``rate x (1 + goal_gradient x progress^2)``, and slow down after redeeming.
    - Breakage: points expire after ``expiry_days`` without a visit. The business cannot
      tell a quiet customer from one who has left, so a leaver's points stay on the books
      (and in the liability) until they expire; the expired value is the breakage.
    - The balance is a financial switching cost: leaving forfeits it.
    """

    kind: Literal["points"] = "points"
    one_off_rewards: ClassVar[bool] = True
    points_per_currency: float = Field(1.0, gt=0.0, le=1000.0, description="points per unit paid")
    reward_points: float = Field(100.0, gt=0.0, le=1e7, description="points for one reward")
    reward_value: float = Field(5.0, gt=0.0, le=1e6, description="money off each reward gives")
    expiry_days: int = Field(
        365, ge=1, le=3650, description="days without a visit after which points expire"
    )
    goal_gradient: float = Field(
        0.25, ge=0.0, le=3.0, description="how much more often customers come as a reward gets near"
    )
    balance_switching_cost: float = Field(
        0.3, ge=0.0, le=5.0, description="switching cost of a full card (utils)"
    )

    def _progress(self, pop: Population, rows: slice | np.ndarray) -> np.ndarray:
        # float32 like the behavioural state it feeds (switching cost, visit rates): the
        # float64 quotient rounded straight into float32 (capping at 1 before or after
        # the rounding gives the same number), without a float64 array of every row.
        points = pop.points[rows]
        progress = np.empty(len(points), np.float32)
        np.divide(points, self.reward_points, out=progress, casting="same_kind")
        return np.minimum(progress, 1.0, out=progress)

    def headline_rate(self) -> float:
        # Money back per unit spent: a reward of V for P points earned at c per unit.
        return self.reward_value * self.points_per_currency / self.reward_points

    def offered(
        self, day: int, pop: Population, idx: np.ndarray, price: float, tickets: np.ndarray
    ) -> np.ndarray:
        # The reward is money off the day's bill, spread over its tickets: one reward per
        # redemption however many tickets the customer buys that day.
        redeem = pop.points[idx] >= self.reward_points
        return np.where(redeem, np.minimum(1.0, self.reward_value / (price * tickets)), 0.0)

    def after_purchase(
        self, day: int, pop: Population, idx: np.ndarray, rates: np.ndarray, paid: np.ndarray
    ) -> None:
        points = pop.points[idx]  # gathered once, written back once (buyers are unique)
        points -= np.where(points >= self.reward_points, self.reward_points, 0.0)
        points += paid * self.points_per_currency
        pop.points[idx] = points

    def start_of_day(self, day: int, pop: Population, rng: np.random.Generator) -> float:
        n = pop.size
        points = pop.points[:n]
        # Compared as last_visit < day - expiry: no subtraction that could overflow int32.
        expired = pop.last_visit[:n] < day - self.expiry_days
        # Only balances still held expire: once customers have left, most rows are long
        # expired and already zero, and a masked write of them all cost 15x this pass.
        expired &= points != 0
        if expired.any():
            points[expired] = 0.0
        return 0.0

    def customer_effects(
        self, pop: Population, rows: slice | np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        progress = self._progress(pop, rows)
        # 1 + g p^2, in place (every row, every morning: no more temporaries than needed).
        multiplier = np.square(progress)
        multiplier *= self.goal_gradient
        multiplier += 1.0
        progress *= self.balance_switching_cost
        return progress, multiplier

    def liability(self, pop: Population) -> float:
        return float(pop.points[: pop.size].sum() / self.reward_points * self.reward_value)
