"""What one simulated replication returns: plain numpy data, no behaviour.

This is the boundary between the model and everything downstream (experiments, analysis,
files, charts); nothing here refers to the SimPy environment or the population.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Recorded causes of defection, in the order of their integer codes.
CAUSES: tuple[str, ...] = (
    "indifference",
    "poor_service",
    "competitor_offer",
    "unresolved_complaint",
    "discount_ended",
    "other",
    "hostage",  # resentment of the trapped, released when the switching cost drops
)

# Daily series, each a float64 array of length horizon_days (day 0 .. horizon_days - 1).
# Flows (money, counts) are that day's amounts; stocks (customers, cash, means, liability)
# are end-of-day levels. A ruin closes the business at the end of its day: its customers
# are lost (churned, lost_at_closure), customers are 0 from then on, flows are 0 and the
# other stocks frozen.
DAILY_SERIES: tuple[str, ...] = (
    "customers",  # active customers, end of day
    "purchases",  # tickets sold by the business
    "discounted_purchases",  # of which sold below list price
    "competitor_purchases",  # tickets our customers bought from the competitor
    "demand",  # expected tickets of today's shoppers at the prices they were offered
    "demand_at_list",  # the same shoppers' expected tickets had every price been list
    "list_revenue",  # tickets x list price
    "revenue",  # money taken, after discounts and rewards
    "discount_cost",  # list_revenue - revenue
    "cost_of_goods",
    "gross_profit",  # revenue - cost_of_goods
    "followup_cost",
    "acquisition_cost",  # paid prospects
    "offer_cost",  # win-back offers sent
    "fixed_costs",  # paid on the first day of each month
    "cash",  # end of day
    "churned",
    "acquired",  # all new customers (paid + referred + won back)
    "referred",  # of which came by word of mouth, at no acquisition cost
    "won_back",
    "complaints",
    "positive_mentions",
    "negative_mentions",
    "followups_reached",
    "mean_satisfaction",
    "mean_attachment",
    "mean_competitor_awareness",
    "mean_reference_price",
    "points_liability",  # points still redeemable (active or not), at face value
    "points_breakage",  # value of points that expired unredeemed today
    "survey_cost",
    "survey_responses",
    "survey_satisfied",  # answers in the top two CSAT boxes, or NPS 7-10
    "calls_found_unhappy",  # unhappy customers a call found who had not complained
    "lost_at_closure",  # customers lost when ruin closed the business (also in churned)
    "competitor_price",  # the rival's price today (after any reaction and promotion)
)

# The end-of-day levels among DAILY_SERIES (the rest are flows).
STOCK_SERIES: tuple[str, ...] = (
    "customers",
    "cash",
    "mean_satisfaction",
    "mean_attachment",
    "mean_competitor_awareness",
    "mean_reference_price",
    "points_liability",
    "competitor_price",
)

# Columns of the per-defection record.
DEFECTION_FIELDS: tuple[str, ...] = (
    "day",
    "customer",
    "segment",
    "cause",  # index into CAUSES
    "satisfaction",
    "attachment",
    "tenure_days",
    "survey_score",  # the last survey answer before leaving, -1 if never answered
    "stated_satisfied",  # 1 if that answer was "satisfied", 0 if not, nan if none
)

# Per-customer end state, kept only when asked (stylized facts need cohorts).
CUSTOMER_FIELDS: tuple[str, ...] = (
    "segment",
    "origin",
    "joined",
    "left",
    "active",
    "ever_exceptional",
    "ever_indifference",
    "recovery",
    "won_on_deal",
    "contribution",
    "spend",
    "visits",
    "survey_score",
    "first_purchase",  # first buying day in the run, -1 none
    "last_visit",  # last buying day (before the run for a starting customer who never bought)
    "repeat_days",  # buying days after the first, in the run
    "repeat_spend",  # paid on those days
)


@dataclass
class Warning_:
    """An early warning: the day it fired, which indicator, and why in plain words.

    ``severity`` is "warning" for indicators that predict ruin (they count for the lead
    time and the false-alarm rate) and "advice" for those that only inform (a discount
    customers have come to depend on is a risk to margins, not by itself to cash).
    """

    day: int
    indicator: str
    message: str
    severity: str = "warning"


@dataclass
class RunResult:
    """One replication of one variant."""

    variant: str
    replication: int
    horizon_days: int
    daily: dict[str, np.ndarray]  # DAILY_SERIES -> float64[horizon_days]
    defections: dict[str, np.ndarray]  # DEFECTION_FIELDS -> array[n_defections]
    ruin_day: int | None = None
    warnings: list[Warning_] = field(default_factory=list)
    customers: dict[str, np.ndarray] | None = None  # CUSTOMER_FIELDS, when kept
    initial_customers: int = 0

    @property
    def first_warning_day(self) -> int | None:
        """The day the first ruin warning fired (advice does not count)."""
        return min((w.day for w in self.warnings if w.severity == "warning"), default=None)

    @property
    def ruined(self) -> bool:
        return self.ruin_day is not None
