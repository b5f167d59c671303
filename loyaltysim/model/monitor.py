"""Early warnings of ruin, computed as the simulation runs.

Each indicator reads what a business owner could see in their own books up to that day
(trailing windows of the daily series, the cash balance, the rent schedule), fires at most
once per replication, carries its day and says what it sees in plain words. Every window
and threshold is a ``[guard]`` key (:class:`loyaltysim.scenario.schema.Guard`).

Severities (``Warning_.severity``):

``structural``
    ``structural_loss``: the effective discount is at or above the gross margin, so every
    discounted sale loses money (modelling basis, section 3: the extra volume needed to keep
    gross profit, ``d / (m - d)``, has no finite value once ``d >= m``). The plan's headline
    discount against its own margin (its own price and unit cost) is known before anything
    runs, so it fires on day 0; a measured effective discount at or above the margin fires
    on the first day it is seen. It is arithmetic, not a forecast: it says nothing about
    *when* cash runs out, so it is not judged as a hit or a false alarm.
``warning``
    ``cash_runway``: at the trend of the last ``trend_window_days`` days, cash falls below
    the floor within ``look_ahead_days`` days. The look-ahead is fixed, not the remaining
    horizon, so the warning means the same thing whatever the horizon, and it can be judged:
    it is right when ruin follows within ``look_ahead_days`` (``check`` and the guard
    benchmark simulate that far past the horizon to know). It reads the books from day 0,
    without a warm-up: a plan that loses money on every sale with little cash is warned on
    its first days.
``advice``
    Readings that inform but do not predict ruin by themselves: ``negative_contribution``,
    ``lift_shortfall`` (the lift a discount buys, from the model's own counterfactual of the
    same shoppers at list price, as an analyst's demand model would give it, against the
    ``d / (m - d)`` it needs) and ``discount_dependency``. They wait for one full
    ``books_window_days`` window: a ratio of a few days' sales is mostly noise.

The projection (:meth:`Monitor.projected_cash`) reads the trend of contribution through
its two parts. Customers are a stock with its flows: over the last ``trend_window_days``,
they join at a daily rate ``a`` and leave at a hazard ``h`` per customer-day, so the count
heads for ``a / h`` as ``n(t + k) = a/h + (n_t - a/h) exp(-h k)`` and slows as it nears it
(an exponential or straight-line trend of the count would overshoot a decline that is
settling). Each customer's contribution (gross profit less follow-up, acquisition and offer
costs, per customer-day) is held at its level of the last ``books_window_days``. Fixed
costs follow the model's rent schedule (paid on the first day of each month), so the low
point after a rent day is where it will be. With less than ``trend_min_days`` of books the
count is held too. The warning fires when the projected cash falls below the floor within
``fire_within_days`` (default 150 of the 180 it claims: room for the forecast's error).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from loyaltysim.model.result import Warning_
from loyaltysim.scenario.schema import Scenario

DAYS_PER_MONTH = 365.25 / 12


def rent_days(until: int) -> np.ndarray:
    """Days 0..``until`` on which a month's fixed costs are paid (as the model pays them:
    month ``k`` on day ``ceil(k * 365.25/12)``)."""
    months = np.arange(0, int(until / DAYS_PER_MONTH) + 2)
    days = np.ceil(months * DAYS_PER_MONTH).astype(np.int64)
    return days[days <= until]


def break_even_words(discount: float, margin: float) -> str:
    """The break-even arithmetic of a discount in words (modelling basis, section 3)."""
    if discount >= margin:
        return (
            f"a discount of {discount:.1%} on a gross margin of {margin:.1%} leaves "
            f"{margin - discount:+.1%} of the list price per discounted sale, so every "
            "discounted sale loses money; the extra volume that keeps gross profit, "
            "d/(m - d), has no finite value when d >= m"
        )
    return (
        f"a discount of {discount:.1%} on a gross margin of {margin:.1%} needs d/(m - d) = "
        f"{discount:.1%}/({margin:.1%} - {discount:.1%}) = {discount / (margin - discount):.1%} "
        "more sales to keep gross profit"
    )


def _mean(values: np.ndarray) -> float:
    """``float(values.mean())`` of a non-empty float64 array (the same sum over the same
    count), without the Python layers of ndarray.mean."""
    return float(values.sum()) / len(values)


class Monitor:
    """Watches the books day by day and records the first firing of each indicator."""

    def __init__(self, scenario: Scenario) -> None:
        self.biz = scenario.business
        self.guard = scenario.guard
        self.margin = scenario.business.gross_margin
        self.headline = scenario.discount.headline_rate()
        self.warnings: list[Warning_] = []
        self._fired: dict[str, int] = {}
        look = self.guard.look_ahead_days
        self._ahead = np.arange(1, look + 1, dtype=np.float64)
        self._rent = rent_days(scenario.scenario.horizon_days + look + 1)
        # Rent days up to each day: a window's rent days by two lookups, not two searches.
        self._rents_by = np.searchsorted(self._rent, np.arange(self._rent[-1] + 1), side="right")

    def _fire(self, day: int, indicator: str, message: str, severity: str = "warning") -> None:
        if indicator not in self._fired:
            self._fired[indicator] = day
            self.warnings.append(Warning_(day, indicator, message, severity))

    def observe(self, day: int, daily: dict[str, np.ndarray], cash: float) -> None:
        """Check every indicator with the books up to and including ``day``."""
        g = self.guard
        if day == 0 and self.headline > 0 and self.headline >= self.margin:
            self._fire(
                0,
                "structural_loss",
                f"before the first sale: {break_even_words(self.headline, self.margin)} "
                f"(price {self.biz.price:,.2f}, unit cost {self.biz.unit_cost:,.2f})",
                severity="structural",
            )
        books = slice(max(0, day + 1 - g.books_window_days), day + 1)

        def total(name: str) -> float:
            return float(daily[name][books].sum())

        purchases = total("purchases")
        list_revenue = total("list_revenue")
        if purchases > 0 and list_revenue > 0:
            discount = total("discount_cost") / list_revenue
            if discount > 0 and discount >= self.margin:
                self._fire(
                    day,
                    "structural_loss",
                    f"in the books of the last {books.stop - books.start} days: "
                    f"{break_even_words(discount, self.margin)}",
                    severity="structural",
                )
            if day + 1 >= g.books_window_days:
                self._advice(day, total, purchases, discount, daily)
        self._runway(day, daily, cash)

    def _advice(
        self,
        day: int,
        total: Callable[[str], float],
        purchases: float,
        discount: float,
        daily: dict[str, np.ndarray],
    ) -> None:
        g = self.guard
        contribution = (
            total("gross_profit") - total("followup_cost") - total("offer_cost")
        ) / purchases
        if contribution <= 0:
            self._fire(
                day,
                "negative_contribution",
                f"each order of the last {g.books_window_days} days contributed "
                f"{contribution:.2f} after discounts, rewards and follow-ups: more sales "
                "mean more losses",
                severity="advice",
            )
        if not 0 < discount < self.margin:
            return
        needed = discount / (self.margin - discount)
        at_list = total("demand_at_list")
        lift = total("demand") / at_list - 1 if at_list > 0 else 0.0
        if lift < needed:
            self._fire(
                day,
                "lift_shortfall",
                f"the {discount:.1%} discount wins about {lift:.1%} more purchases from "
                f"today's customers; {break_even_words(discount, self.margin)}",
                severity="advice",
            )
        share = total("discounted_purchases") / purchases
        reference = float(daily["mean_reference_price"][day]) / self.biz.price
        if share >= g.dependency_share and reference <= 1 - g.dependency_expectation * discount:
            self._fire(
                day,
                "discount_dependency",
                f"{share:.0%} of purchases are on a discount and customers now expect "
                f"{1 - reference:.1%} off; the discount needs {needed:.1%} more volume to "
                "pay for itself",
                severity="advice",
            )

    def projected_cash(
        self, day: int, daily: dict[str, np.ndarray], cash: float
    ) -> tuple[np.ndarray, dict[str, float]]:
        """End-of-day cash on days ``day + 1 .. day + look_ahead_days`` if the trend of the
        last ``trend_window_days`` continues, and the figures it rests on: ``per_customer``
        contribution (money per customer-day), ``customers`` today, ``joining`` and
        ``leaving`` (customers per day) and ``customers_ahead`` (at the look-ahead)."""
        g = self.guard
        window = slice(max(0, day + 1 - g.trend_window_days), day + 1)
        customers = daily["customers"][window]
        contribution = (
            daily["gross_profit"][window]
            - daily["followup_cost"][window]
            - daily["acquisition_cost"][window]
            - daily["offer_cost"][window]
        )
        open_days = customers > 0
        opened = np.count_nonzero(open_days)  # one C call, not .any() and .sum()
        if not opened:
            return np.full(len(self._ahead), cash), {}
        per_customer = contribution[open_days] / customers[open_days]
        # Each customer's contribution at its recent level: a straight-line trend of it is
        # not continued, because what moves it (reference prices adapting, satisfaction
        # settling) fades rather than persists; continued, it raised false alarms.
        level = _mean(per_customer[-g.books_window_days :])
        k = self._ahead
        heads, joining, leaving = float(customers[-1]), 0.0, 0.0
        ahead: np.ndarray | None = None
        if opened >= g.trend_min_days:
            # Customers as a stock with its flows: joining at the window's daily rate,
            # leaving at its hazard per customer-day, so the count heads for
            # joining / hazard and slows as it nears it (an exponential trend would not).
            joining = _mean(daily["acquired"][window])
            churned = float(daily["churned"][window].sum())
            hazard = churned / float(customers.sum())
            leaving = hazard * heads
            if hazard > 0:
                settle = joining / hazard
                ahead = settle + (heads - settle) * np.exp(-hazard * k)
            else:
                ahead = heads + joining * k
        if ahead is None:
            ahead = np.full(len(k), heads)
        flows = ahead * level
        if day + len(k) < len(self._rents_by):
            due = self._rents_by[day + 1 : day + 1 + len(k)] - self._rents_by[day]
        else:  # past the horizon the model was built for (a caller's own books)
            due = np.searchsorted(self._rent, day + k, side="right") - np.searchsorted(
                self._rent, day, side="right"
            )
        path = cash + flows.cumsum() - self.biz.fixed_costs_per_month * due
        facts = {
            "per_customer": level,
            "customers": heads,
            "joining": joining,
            "leaving": leaving,
            "customers_ahead": float(ahead[-1]),
        }
        return path, facts

    def _runway(self, day: int, daily: dict[str, np.ndarray], cash: float) -> None:
        if "cash_runway" in self._fired or cash < self.biz.cash_floor:
            return
        path, facts = self.projected_cash(day, daily, cash)
        g = self.guard
        below = (path[: g.fire_within_days] < self.biz.cash_floor).nonzero()[0]
        if not len(below):
            return
        when = day + 1 + int(below[0])
        seen = min(day + 1, g.trend_window_days)
        month = DAYS_PER_MONTH
        per_customer = facts["per_customer"] * month
        self._fire(
            day,
            "cash_runway",
            f"at the trend of the last {seen} days, cash ({cash:,.0f} today) falls below the "
            f"floor ({self.biz.cash_floor:,.0f}) within {g.look_ahead_days} days (projected: "
            f"day {when}): each customer contributes {per_customer:,.2f} a month (last "
            f"{min(day + 1, g.books_window_days)} days); {facts['customers']:,.0f} customers, "
            f"{facts['joining'] * month:,.0f} joining and {facts['leaving'] * month:,.0f} "
            f"leaving a month (about {facts['customers_ahead']:,.0f} in "
            f"{g.look_ahead_days} days); fixed costs {self.biz.fixed_costs_per_month:,.0f} "
            "a month",
        )
