"""Early warnings of ruin, computed as the simulation runs.

Each indicator looks at what a business owner could see in their own books up to that day
(a trailing window of the daily series and the cash balance), fires at most once per
replication, and says why in plain words. One is a forecast rather than a reading of the
books: ``lift_shortfall`` uses the model's own counterfactual (the same shoppers priced at
list price), as an analyst's demand model would. Thresholds follow the over-discounting
arithmetic of the modelling basis: with gross margin m and effective discount d, every
discounted sale loses money once d >= m, and the volume lift needed to keep gross profit
is d / (m - d).
"""

from __future__ import annotations

import numpy as np

from loyaltysim.model.result import Warning_
from loyaltysim.scenario.schema import Scenario

DAYS_PER_MONTH = 365.25 / 12
WINDOW_DAYS = 30  # trailing window of the indicators
WARM_UP_DAYS = 30  # no verdicts on the first month's thin data


class Monitor:
    """Watches the books day by day and records the first firing of each indicator."""

    def __init__(self, scenario: Scenario) -> None:
        self.biz = scenario.business
        self.horizon = scenario.scenario.horizon_days
        self.margin = scenario.business.gross_margin
        self.warnings: list[Warning_] = []
        self._fired: dict[str, int] = {}

    def _fire(self, day: int, indicator: str, message: str, severity: str = "warning") -> None:
        if indicator not in self._fired:
            self._fired[indicator] = day
            self.warnings.append(Warning_(day, indicator, message, severity))

    def observe(self, day: int, daily: dict[str, np.ndarray], cash: float) -> None:
        """Check every indicator with the books up to and including ``day``."""
        if day + 1 < WARM_UP_DAYS:
            return
        window = slice(max(0, day + 1 - WINDOW_DAYS), day + 1)
        days = window.stop - window.start

        def total(name: str) -> float:
            return float(daily[name][window].sum())

        purchases = total("purchases")
        list_revenue = total("list_revenue")
        if purchases > 0 and list_revenue > 0:
            discount = total("discount_cost") / list_revenue
            if discount >= self.margin:
                self._fire(
                    day,
                    "structural_loss",
                    f"the effective discount ({discount:.1%}) is at or above the gross margin "
                    f"({self.margin:.1%}): every discounted sale loses money",
                )
            elif discount > 0:
                needed = discount / (self.margin - discount)
                at_list = total("demand_at_list")
                lift = total("demand") / at_list - 1 if at_list > 0 else 0.0
                if lift < needed:
                    self._fire(
                        day,
                        "lift_shortfall",
                        f"the {discount:.1%} discount wins about {lift:.1%} more purchases "
                        f"from today's customers; it needs {needed:.1%} to pay for itself",
                        severity="advice",
                    )
                share = total("discounted_purchases") / purchases
                reference = float(daily["mean_reference_price"][day]) / self.biz.price
                if share >= 0.5 and reference <= 1 - discount / 2:
                    self._fire(
                        day,
                        "discount_dependency",
                        f"{share:.0%} of purchases are on a discount and customers now expect "
                        f"{1 - reference:.1%} off; the discount needs {needed:.1%} more "
                        "volume to pay for itself",
                        severity="advice",
                    )
            contribution = (
                total("gross_profit") - total("followup_cost") - total("offer_cost")
            ) / purchases
            if contribution <= 0:
                self._fire(
                    day,
                    "negative_contribution",
                    f"each order now contributes {contribution:.2f} after discounts, rewards "
                    "and follow-ups: more sales mean more losses",
                )
        # Fixed costs are charged monthly; amortise them so the window is not lumpy.
        operating = (
            (
                total("gross_profit")
                - total("followup_cost")
                - total("acquisition_cost")
                - total("offer_cost")
            )
            * DAYS_PER_MONTH
            / days
        )
        burn = self.biz.fixed_costs_per_month - operating
        remaining_months = (self.horizon - 1 - day) / DAYS_PER_MONTH
        if burn > 0 and remaining_months > 0:
            runway = max(cash - self.biz.cash_floor, 0.0) / burn
            if runway < remaining_months:
                self._fire(
                    day,
                    "cash_runway",
                    f"the business burns {burn:,.0f} a month; cash lasts about "
                    f"{runway:.1f} months (to day {day + runway * DAYS_PER_MONTH:.0f}), "
                    "before the end of the horizon",
                )
