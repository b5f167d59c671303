"""The interface every discount policy implements.

A policy is a frozen, validated configuration object that also carries its behaviour: the
scenario's ``[discount]`` table *is* the policy. Hooks receive the population columns and
work on whole index arrays at once; none of them loops over customers in Python.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from loyaltysim.config import Frozen
from loyaltysim.lazy_names import lazy_module

if TYPE_CHECKING:
    import numpy as np

    from loyaltysim.model.population import Population
else:
    np = lazy_module("numpy")  # loaded at first use: checking a scenario needs none


class DiscountBase(Frozen):
    """Default behaviour: no discount, no points, no switching cost of its own."""

    kind: str
    # True when the programme's discounts are one-off rewards (a points card), not a
    # standing price: they set no expectation and are not missed once spent.
    one_off_rewards: ClassVar[bool] = False
    # True when the programme brings departed customers back (sets ``active`` again, in
    # ``start_of_day``): the only change to who is active besides leavers and newcomers.
    brings_back: ClassVar[bool] = False

    def headline_rate(self) -> float:
        """The discount a discounted sale carries, as a fraction of list price: what the
        break-even arithmetic compares with the gross margin before anything is run."""
        return 0.0

    def offered(
        self, day: int, pop: Population, idx: np.ndarray, price: float, tickets: np.ndarray
    ) -> np.ndarray:
        """Discount rate (fraction of list price) on each of today's ``tickets`` of each
        shopper in ``idx``."""
        return np.zeros(len(idx))

    def prospect_discount(self, day: int) -> float:
        """The discount a prospect is shown today; deal-prone prospects convert more."""
        return 0.0

    def after_purchase(
        self, day: int, pop: Population, idx: np.ndarray, rates: np.ndarray, paid: np.ndarray
    ) -> None:
        """Update the programme's state of the buyers ``idx`` (``paid``: money paid each)."""

    def start_of_day(self, day: int, pop: Population, rng: np.random.Generator) -> float:
        """Housekeeping before the market opens. ``rng`` is the policy's own stream (draw
        one value per customer row, so draws stay aligned across variants). Returns
        money spent (e.g. offers sent)."""
        return 0.0

    def customer_effects(
        self, pop: Population, rows: slice | np.ndarray
    ) -> tuple[np.ndarray | float, np.ndarray | float]:
        """Per customer of ``rows`` (today's, or ``slice(0, pop.size)`` for every row), as
        of this morning: the financial switching cost the programme creates (points,
        status; in utility units) and the multiplier on the visit rate (the goal gradient
        of a points card). A float stands for the same value for everyone."""
        return 0.0, 1.0

    def liability(self, pop: Population) -> float:
        """Money owed in unredeemed rewards (points liability) at face value."""
        return 0.0
