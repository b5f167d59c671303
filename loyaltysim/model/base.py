"""The state one replication carries, and the small helpers every concern of the model uses.

:class:`~loyaltysim.model.simulation.Simulation` is assembled from one mixin per concern
(``market``, ``service``, ``contact``, ``defection``, ``rival``); each derives from
:class:`SimulationBase`, which declares the shared state (set in ``Simulation.__init__``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import simpy

from loyaltysim.followups import Channel, Followup
from loyaltysim.model.monitor import Monitor
from loyaltysim.model.population import Population
from loyaltysim.policies import DiscountPolicy
from loyaltysim.rng import Streams
from loyaltysim.scenario.schema import Behaviour, Business, Scenario

DAYS_PER_MONTH = 365.25 / 12
DAYS_PER_YEAR = 365.0

# Offsets of the processes within a day (see the simulation module's docstring).
AT_DELIVERY, AT_COMPETITOR, AT_ACCOUNTS, AT_RECORD, AT_MONITOR = 0.5, 0.7, 0.8, 0.9, 0.95

# Above this share of rows active, a day's passes run over whole contiguous columns
# (masked by ``active``); below it, over the gathered active rows.
DENSE_SHARE = 0.5


def half_life_factor(days: float) -> float:
    """Daily multiplier of a quantity that halves every ``days`` days."""
    return float(0.5 ** (1.0 / days))


class SimulationBase:
    """Shared state of one replication (all set by ``Simulation.__init__``)."""

    sc: Scenario
    beh: Behaviour
    biz: Business
    policy: DiscountPolicy
    followup: Followup
    channel: Channel
    variant: str
    replication: int
    keep_customers: bool
    horizon: int
    rng: Streams
    env: simpy.Environment
    pop: Population
    daily: dict[str, np.ndarray]
    today: dict[str, float]
    defections: dict[str, list[np.ndarray]]
    defection_records: int
    cash: float
    competitor_promo: bool
    rival_cut: float  # the competitor's reaction: a cut of its regular price, fraction
    followup_month: int
    followup_spent: float
    recent_warnings: float
    referral_prospects: int
    ruin_day: int | None
    _switching: np.ndarray  # float32, one per row, or a float32 scalar for everyone
    act: np.ndarray
    dense: bool
    toggled: list[np.ndarray]
    end: simpy.Event
    monitor: Monitor
    memory_decay: float
    attachment_decay: float
    glow_decay: float
    awareness_growth: float
    awareness_decay: float
    segment_shares: np.ndarray
    segment_deal: np.ndarray
    segment_traits: dict[str, np.ndarray]
    segment_cdf: np.ndarray

    def spend(self, series: str, amount: float) -> None:
        """Book a cost in today's ``series`` and take it from cash."""
        self.today[series] += amount
        self.cash -= amount

    _spend = spend

    def competitor_price(self) -> float:
        """The rival's price today: its regular price, less any reaction cut, less a
        promotion when one runs."""
        comp = self.sc.competitor
        price = comp.price * (1 - self.rival_cut)
        return price * (1 - comp.promotion_discount) if self.competitor_promo else price

    def felt_attachment(self, idx: np.ndarray | slice, out: np.ndarray | None = None) -> np.ndarray:
        """Attachment plus the fading glow of follow-ups, kept within 0..1 (a channel's
        effect may be negative: a pushy call); into ``out`` when given."""
        # np.minimum(np.maximum(...)) is np.clip's arithmetic without its dispatch layers.
        felt = np.add(self.pop.attachment[idx], self.pop.glow[idx], out=out)
        np.maximum(felt, 0.0, out=felt)
        return np.minimum(felt, 1.0, out=felt)

    def switching_cost(self, idx: np.ndarray | slice) -> np.ndarray | np.float32:
        """Procedural plus financial (points, status) switching cost (Burnham et al. 2003),
        as of the start of today; the relational part is attachment, which enters the
        models on its own. A float32 scalar when it is the same for everyone (no
        programme): it enters elementwise arithmetic as the broadcast array would."""
        if self._switching.ndim == 0:
            return self._switching[()]
        return self._switching[idx]

    def _after(self, delay: float, action: Any, *args: Any) -> None:
        """Run ``action(*args)`` at ``delay`` days from now: a timeout with a callback, not
        a process (no generator, no initialising event). Timeouts due at the same moment
        fire in the order they were made, as the process's timeouts did: a process makes
        its timeout as soon as it starts, before any other event of that moment."""
        self.env.timeout(delay).callbacks.append(lambda _event: action(*args))
