"""A purchase log of the simulator's own customers, for the round trip of calibration.

:class:`PurchaseLogSimulation` is the model's :class:`~loyaltysim.model.simulation.Simulation`
that also writes down, every day, which customers bought and what they paid: one row per
customer and buying day, the format ``loyaltysim calibrate`` reads. Calibrating such a log
back must give the scenario's purchase process back (the round-trip test); it is also a
way to see what a log of a simulated business would look like. The model is not changed:
the log is read off the population after each market day. A customer bought that day when
their ticket count went up (the rule of ``loyaltysim export --transactions``); their
``last_visit`` is no such sign, since a customer who exists at the start has a history whose
last visit may fall on day 0 without a purchase in the run.

**Which customers a log can identify.** A purchase log knows a customer from their first
purchase, and buy-till-you-die models start each customer's clock there. The model's
customers start earlier: a converted prospect (or a customer who exists on day 0) is a
customer before their first purchase *in the log*. Measured (``python
benchmarks/calibration_roundtrip.py``), this selection is what a fit sees, not a fault of
the fit: a business born on day 0 logs, in its first year, the frequent visitors among its
new customers and misses the rare ones who have not bought yet (the fitted spread of a
Gamma shape 1.5 comes back as 1.86); the customers who exist on day 0 enter the log at
their first purchase of the run, the frequent ones first (shape 1.5 comes back as 1.85).
Neither happens to the new customers of a business in its steady state: every converted
customer who buys at all buys some time, so the flow of first purchases carries the visit
rates of the flow of conversions. :func:`simulated_log` therefore gives the log of a cohort,
as the CDNOW sample is one (customers new in a period): the customers whose first purchase
comes after ``burn_in_days`` of the business, with the dates counted from there. What stays
out of reach of any log: a converted customer who leaves before buying at all, which the
rarest visitors do most (a spread so wide that many rates are near zero, shape below 1,
comes back narrower).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyaltysim.model.simulation import Simulation
from loyaltysim.scenario.schema import Scenario


class PurchaseLogSimulation(Simulation):
    """A replication that records a purchase log (customer, day, amount)."""

    def __init__(self, scenario: Scenario, replication: int, root_seed: int) -> None:
        super().__init__(scenario, replication, root_seed)
        # Attribute names apart from the model's (which has a ``_spend`` method, say).
        self.log_rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def market_day(self, day: int) -> None:
        n_before = self.pop.size
        visits_before = self.pop.visits[:n_before].copy()
        spend_before = self.pop.spend[:n_before].copy()
        super().market_day(day)
        # Newcomers join at the end of the day, after the market: they have not bought.
        bought = np.flatnonzero(self.pop.visits[:n_before] != visits_before)
        paid = self.pop.spend[bought] - spend_before[bought]
        self.log_rows.append((bought, np.full(len(bought), day), paid))

    def log(self, start: str = "2024-01-01", first_from: int = 0) -> pd.DataFrame:
        """The purchase log so far: customer_id, date (ISO), amount; only the customers
        whose first purchase is on day ``first_from`` or later, dated from that day."""
        who = np.concatenate([r[0] for r in self.log_rows]) if self.log_rows else np.zeros(0, int)
        day = np.concatenate([r[1] for r in self.log_rows]) if self.log_rows else np.zeros(0, int)
        paid = np.concatenate([r[2] for r in self.log_rows]) if self.log_rows else np.zeros(0)
        if first_from > 0 and len(who):
            first = np.full(int(who.max()) + 1, np.iinfo(np.int64).max)
            np.minimum.at(first, who, day)
            keep = first[who] >= first_from
            who, day, paid = who[keep], day[keep] - first_from, paid[keep]
        dates = np.datetime64(start, "D") + day.astype("timedelta64[D]")
        return pd.DataFrame(
            {
                "customer_id": [f"s{i:07d}" for i in who],
                "date": pd.to_datetime(dates).strftime("%Y-%m-%d"),
                "amount": np.round(paid, 2),
            }
        )


def simulated_log(
    scenario: Scenario, replication: int = 0, seed: int = 0, burn_in_days: int = 0
) -> pd.DataFrame:
    """Run one replication of ``scenario`` and return its purchase log; with
    ``burn_in_days``, the log of the cohort whose first purchase comes after that many
    days (the scenario's horizon includes them), dated from there (see the module
    docstring)."""
    if not 0 <= burn_in_days < scenario.scenario.horizon_days:
        raise ValueError("burn_in_days must lie within the scenario's horizon")
    sim = PurchaseLogSimulation(scenario, replication, seed)
    sim.run()
    return sim.log(first_from=burn_in_days)
