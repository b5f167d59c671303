"""The competitor: its promotion calendar and, optionally, its reactions (Lal 1990).

``competitor.reaction``:

- ``none``: a fixed regular price (the default);
- ``match``: at each review (every ``reaction_every_days``, weekly by default) from day
  ``reaction_lag_days`` on, the rival looks at the business's effective discount over
  the last ``reaction_lag_days`` days (discount cost over list revenue: what a mystery
  shopper sees); if it is deeper than its own cut, with
  probability ``reaction_probability`` it matches it (up to ``reaction_max_cut``); if the
  business has stopped, it follows back up with the same probability;
- ``share``: it watches its share of our customers' purchases (competitor tickets over
  all their tickets); when it falls by more than ``reaction_share_drop`` (relative) below
  the share of its first window, it cuts its price by ``reaction_step`` (probability
  ``reaction_probability`` per review), and raises it a step when its share is back.

A discount answered this way buys less and costs the same: the discount war.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np

from loyaltysim.model.base import AT_COMPETITOR, SimulationBase

TOLERANCE = 0.005  # discounts closer than half a point are "the same"


class RivalMixin(SimulationBase):
    reference_share: float | None

    def _competitor(self) -> Generator[Any, Any, None]:
        comp = self.sc.competitor
        if comp.promotion_days == 0 or comp.promotion_discount == 0:
            return
        yield self.env.timeout(comp.promotion_every_days + AT_COMPETITOR)
        while True:
            self.competitor_promo = True
            # A promotion is marketing: it reaches some of the customers who did not know.
            # Only those still customers: a departed customer's state waits as they left.
            on = np.flatnonzero(self.pop.active[: self.pop.size])
            w = self.pop.awareness[on]
            self.pop.awareness[on] = w + comp.promotion_awareness_boost * (1 - w)
            yield self.env.timeout(comp.promotion_days)
            self.competitor_promo = False
            yield self.env.timeout(comp.promotion_every_days - comp.promotion_days)

    def _reaction(self) -> Generator[Any, Any, None]:
        comp = self.sc.competitor
        if comp.reaction == "none":
            return
        yield self.env.timeout(comp.reaction_lag_days + AT_COMPETITOR)
        while True:
            self.review_price(int(self.env.now))
            yield self.env.timeout(comp.reaction_every_days)

    def review_price(self, day: int) -> None:
        """One review: the rival looks back ``reaction_lag_days`` days (up to
        yesterday, the last day recorded) and may move its cut."""
        comp, d = self.sc.competitor, self.daily
        window = slice(max(0, day - comp.reaction_lag_days), day)
        act = float(self.rng["rival"].random()) < comp.reaction_probability
        if comp.reaction == "match":
            list_revenue = float(d["list_revenue"][window].sum())
            seen = float(d["discount_cost"][window].sum()) / list_revenue if list_revenue else 0.0
            target = min(seen, comp.reaction_max_cut)
            if abs(target - self.rival_cut) > TOLERANCE and act:
                self.rival_cut = target
            return
        ours = float(d["purchases"][window].sum())
        theirs = float(d["competitor_purchases"][window].sum())
        share = theirs / (ours + theirs) if ours + theirs > 0 else 0.0
        if self.reference_share is None:
            self.reference_share = share
            return
        if share < self.reference_share * (1 - comp.reaction_share_drop):
            if act:
                self.rival_cut = min(self.rival_cut + comp.reaction_step, comp.reaction_max_cut)
        elif share >= self.reference_share and self.rival_cut > 0 and act:
            self.rival_cut = max(self.rival_cut - comp.reaction_step, 0.0)
