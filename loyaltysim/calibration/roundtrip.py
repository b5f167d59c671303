"""A purchase log of the simulator's own customers, for the round trip of calibration.

:class:`PurchaseLogSimulation` is the model's :class:`~loyaltysim.model.simulation.Simulation`
that also writes down, every day, which customers bought and what they paid: one row per
customer and buying day, the format ``loyaltysim calibrate`` reads. Calibrating such a log
back must give the scenario's purchase process back (the round-trip test); it is also a
way to see what a log of a simulated business would look like. The model is not changed:
the log is read off the population after each market day (``last_visit`` and ``spend``).
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
        spend_before = self.pop.spend[:n_before].copy()
        super().market_day(day)
        bought = np.flatnonzero(self.pop.last_visit[:n_before] == day)
        paid = self.pop.spend[bought] - spend_before[bought]
        self.log_rows.append((bought, np.full(len(bought), day), paid))

    def log(self, start: str = "2024-01-01") -> pd.DataFrame:
        """The purchase log so far: customer_id, date (ISO), amount."""
        who = np.concatenate([r[0] for r in self.log_rows]) if self.log_rows else np.zeros(0, int)
        day = np.concatenate([r[1] for r in self.log_rows]) if self.log_rows else np.zeros(0, int)
        paid = np.concatenate([r[2] for r in self.log_rows]) if self.log_rows else np.zeros(0)
        dates = np.datetime64(start, "D") + day.astype("timedelta64[D]")
        return pd.DataFrame(
            {
                "customer_id": [f"s{i:07d}" for i in who],
                "date": pd.to_datetime(dates).strftime("%Y-%m-%d"),
                "amount": np.round(paid, 2),
            }
        )


def simulated_log(scenario: Scenario, replication: int = 0, seed: int = 0) -> pd.DataFrame:
    """Run one replication of ``scenario`` and return its purchase log."""
    sim = PurchaseLogSimulation(scenario, replication, seed)
    sim.run()
    return sim.log()
