"""The scenario schema: every key a scenario file may hold, its default, bounds and units.

Money is in the scenario's currency, rates and shares are fractions (0.15 = 15%), levels
(quality, satisfaction, attachment, awareness) are on 0..1, time is in days unless a key
says otherwise. Each model is strict (no coercion), closed (unknown keys are errors) and
frozen. Loading files, locating errors on their lines and applying overrides live in
:mod:`loyaltysim.scenario.loader`; this module only says what is valid.

It is over 700 lines on purpose: every key's description, in plain words, stands beside
the key, and that one description is what the schema's errors, the report's assumptions
and ``docs/scenario-keys.md`` show. Splitting the models apart would only scatter them.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field, Strict, ValidationInfo, field_validator, model_validator

from loyaltysim.config import Frozen
from loyaltysim.followups import DEFAULT_CHANNELS, Channel, ChannelOverride, Followup
from loyaltysim.followups.channels import ChannelName
from loyaltysim.limits import BYTES_PER_CUSTOMER
from loyaltysim.policies import DiscountPolicy, NoDiscountDefault
from loyaltysim.scenario.money import check_currency
from loyaltysim.scenario.survey import Survey

# A replication holds every customer who ever dealt with the business in memory. This cap
# keeps one replication's state near 1.2 GB, so a 2-core, 24 GB machine can run a worker
# per core with room to spare.
MAX_CUSTOMERS = 5_000_000
DAYS_PER_MONTH = 365.25 / 12


def _limit_text(limit: int) -> str:
    return (
        f"the limit is {limit:,} customers (scenario.max_customers, at most "
        f"{MAX_CUSTOMERS:,}: about {MAX_CUSTOMERS * BYTES_PER_CUSTOMER / 1e9:.1f} GB of "
        "state per replication)"
    )


def first_referrals(customers: Customers, behaviour: Behaviour, months: float) -> float:
    """Customers the starting customers who are delighted on day 0 would refer over
    ``months``: the first generation of word of mouth, what validation can know.

    Starting satisfaction is Beta around each segment's mean with concentration
    ``behaviour.trait_concentration`` (as the model draws it), so the share at or above
    ``behaviour.delighted_threshold`` is that Beta's upper tail. Later generations (the
    referred refer too) compound with satisfaction as it evolves, which only the run
    knows: the run-time bound (``scenario.max_customers``) catches those.
    """
    rate = behaviour.positive_mentions_per_month * behaviour.referral_conversion
    if rate <= 0 or customers.initial == 0:
        return 0.0
    from scipy.special import betainc  # lazily: only scenarios with referrals pay for it

    c = behaviour.trait_concentration
    delighted = 0.0
    for segment in customers.segments:
        m = min(max(segment.satisfaction, 1e-3), 1 - 1e-3)
        tail = 1.0 - float(betainc(m * c, (1 - m) * c, behaviour.delighted_threshold))
        delighted += segment.share * tail
    return customers.initial * delighted * rate * months


class Meta(Frozen):
    """``[scenario]``: what is run and for how long."""

    name: str = Field(min_length=1, max_length=200, description="shown in reports")
    horizon_days: int = Field(730, ge=1, le=36_500, description="simulated days")
    replications: int = Field(30, ge=1, le=100_000, description="independent runs per variant")
    seed: int | None = Field(
        None, ge=0, le=2**63 - 1, description="root seed; none draws one and records it"
    )
    max_customers: int = Field(
        MAX_CUSTOMERS,
        ge=1,
        le=MAX_CUSTOMERS,
        description="bound on the customers who ever dealt with the business in one "
        "replication (memory); a run that would pass it stops, naming the cause",
    )
    currency: str | None = Field(
        None,
        min_length=1,
        max_length=16,
        description="the currency money is shown in: a code such as EUR (written after "
        "amounts) or a symbol such as € (written before); without it amounts have no unit",
    )

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str | None) -> str | None:
        return None if value is None else check_currency(value)


class Business(Frozen):
    """``[business]``: prices, costs, cash and the service customers get."""

    price: float = Field(4.50, gt=0.0, le=1e7, description="list price of an average ticket")
    reservation_price: float = Field(
        4.50,
        gt=0.0,
        le=1e7,
        description="what customers think a ticket is worth, at either store: the price "
        "level against which they decide whether to buy at all (default: the list price "
        "written in the file, so a variant or override of the price moves demand)",
    )
    unit_cost: float = Field(1.40, ge=0.0, le=1e7, description="variable cost of a ticket")
    fixed_costs_per_month: float = Field(
        9000.0,
        ge=0.0,
        le=1e10,
        description="rent, wages and other costs paid every month whatever the sales",
    )
    starting_cash: float = Field(25000.0, ge=0.0, le=1e12, description="cash on day 0")
    cash_floor: float = Field(
        0.0, ge=-1e12, le=1e12, description="ruin when cash falls below (negative: overdraft)"
    )
    service_quality: float = Field(0.75, ge=0.0, le=1.0, description="mean experienced quality")
    staff_indifference: float = Field(
        0.08, ge=0.0, le=1.0, description="share of visits where the customer feels ignored"
    )
    poor_service: float = Field(
        0.03, ge=0.0, le=1.0, description="share of visits with poor service (a failure)"
    )
    exceptional_service: float = Field(
        0.10, ge=0.0, le=1.0, description="share of visits that feel exceptional"
    )
    complaint_resolution_rate: float = Field(
        0.6, ge=0.0, le=1.0, description="share of complaints resolved"
    )
    complaint_resolution_days: float = Field(
        3.0,
        ge=0.0,
        le=365.0,
        description="mean of the exponential delay to resolve a complaint, days (rounded up)",
    )
    prospects_per_month: float = Field(
        120.0, ge=0.0, le=1e7, description="prospects reached by paid marketing each month"
    )
    cost_per_prospect: float = Field(
        3.0, ge=0.0, le=1e6, description="what reaching one prospect with paid marketing costs"
    )
    prospect_conversion: float = Field(
        0.20, ge=0.0, le=1.0, description="share of paid prospects who become customers"
    )

    @model_validator(mode="before")
    @classmethod
    def _reservation_at_list(cls, data: Any) -> Any:
        # Without its own figure the ticket is worth its list price; the loader anchors it
        # to the file's price before overrides, so that changing the price moves demand.
        if isinstance(data, dict) and "reservation_price" not in data:
            price = data.get("price", 4.50)
            number = isinstance(price, int | float) and not isinstance(price, bool)
            if number and math.isfinite(price) and price > 0:
                return {**data, "reservation_price": float(price)}
        return data

    @model_validator(mode="after")
    def _events_fit(self) -> Business:
        events = self.staff_indifference + self.poor_service + self.exceptional_service
        if events > 1.0:
            raise ValueError(
                "staff_indifference + poor_service + exceptional_service is "
                f"{events:.3f}; they are shares of the same visits and must sum to at most 1"
            )
        return self

    @property
    def gross_margin(self) -> float:
        """Gross margin at list price, a fraction of price."""
        return (self.price - self.unit_cost) / self.price


def anchor_reservation_price(raw: dict[str, Any]) -> None:
    """Write the file's list price as the reservation price when the file gives none.

    Called on a scenario file's data *before* overrides and variants apply, so that an
    override or a variant of ``business.price`` changes the price customers face, not what
    they think a ticket is worth (otherwise the price level could never move demand).
    """
    business = raw.get("business", {})
    if not isinstance(business, dict) or "reservation_price" in business:
        return
    price = business.get("price", 4.50)
    number = isinstance(price, int | float) and not isinstance(price, bool)
    if number and math.isfinite(price) and 0 < price <= 1e7:
        raw["business"] = {**business, "reservation_price": float(price)}


class Segment(Frozen):
    """``[[customers.segments]]``: a kind of customer; individuals vary around these means."""

    name: str = Field(min_length=1, max_length=100, description="the segment's name, in reports")
    share: float = Field(1.0, ge=0.0, le=1.0, description="share of customers; all sum to 1")
    visits_per_month: float = Field(
        4.0, gt=0.0, le=300.0, description="average purchase occasions a month (at either store)"
    )
    visit_heterogeneity: float = Field(
        2.0,
        gt=0.0,
        le=1000.0,
        description="how alike customers' visit rates are: small values make a few very "
        "frequent customers and many rare ones",
    )
    price_sensitivity: float = Field(
        1.0,
        ge=0.0,
        le=10.0,
        description="how strongly price moves this segment's choices (1 = typical)",
    )
    deal_proneness: float = Field(
        0.2, ge=0.0, le=1.0, description="pull of discounts, and of competitor deals"
    )
    satisfaction: float = Field(
        0.75,
        ge=0.0,
        le=1.0,
        description="initial mean satisfaction, 0 (very unhappy) to 1 (delighted)",
    )
    attachment: float = Field(
        0.5, ge=0.0, le=1.0, description="initial mean emotional attachment to the business, 0 to 1"
    )
    competitor_awareness: float = Field(
        0.3,
        ge=0.0,
        le=1.0,
        description="initial mean share of the competitor's offer customers know of",
    )


class Customers(Frozen):
    """``[customers]``: the starting base and its segments."""

    initial: int = Field(1500, ge=0, le=MAX_CUSTOMERS, description="customers on day 0")
    segments: tuple[Segment, ...] = Field(
        (Segment(name="everyone"),), min_length=1, max_length=50, strict=False
    )

    @field_validator("segments")
    @classmethod
    def _shares_and_names(cls, segments: tuple[Segment, ...]) -> tuple[Segment, ...]:
        total = sum(s.share for s in segments)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"segment shares sum to {total:.6g}; they must sum to 1")
        names = [s.name for s in segments]
        if len(set(names)) != len(names):
            raise ValueError("segment names must be unique")
        return segments


class Competitor(Frozen):
    """``[competitor]``: the rival's price, promotions and marketing."""

    price: float = Field(4.20, gt=0.0, le=1e7, description="competitor's regular price")
    awareness_growth_per_month: float = Field(
        0.02, ge=0.0, le=1.0, description="share of the unaware who learn of it each month"
    )
    awareness_decay_per_month: float = Field(
        0.01, ge=0.0, le=1.0, description="share of awareness forgotten each month"
    )
    promotion_every_days: int = Field(60, ge=1, le=36_500, description="days between promotions")
    promotion_discount: float = Field(0.25, ge=0.0, le=1.0, description="promotion depth")
    promotion_days: int = Field(10, ge=0, le=36_500, description="length of a promotion")
    promotion_awareness_boost: float = Field(
        0.05, ge=0.0, le=1.0, description="share of the unaware reached by each promotion"
    )

    reaction: Literal["none", "match", "share"] = Field(
        "none",
        description="none: a fixed price; match: copies the business's discount after a "
        "lag; share: cuts its price when its share of our customers' purchases falls",
    )
    reaction_lag_days: int = Field(
        14, ge=1, le=3650, description="days of the business's prices it watches before acting"
    )
    reaction_every_days: int = Field(7, ge=1, le=3650, description="days between its reviews")
    reaction_probability: float = Field(
        0.5, ge=0.0, le=1.0, description="chance it acts at each weekly review that calls for it"
    )
    reaction_step: float = Field(
        0.05, gt=0.0, le=1.0, description="share: price cut per review (fraction of its price)"
    )
    reaction_share_drop: float = Field(
        0.10, gt=0.0, le=1.0, description="share: relative fall in its share that triggers a cut"
    )
    reaction_max_cut: float = Field(
        0.40, ge=0.0, le=1.0, description="deepest cut of its regular price it will make"
    )

    @model_validator(mode="after")
    def _promotion_fits(self) -> Competitor:
        if self.promotion_days > self.promotion_every_days:
            raise ValueError("promotion_days cannot exceed promotion_every_days")
        return self


class Guard(Frozen):
    """``[guard]``: when a plan counts as unsafe, and how the early warning reads the books.

    The warning projects cash ``look_ahead_days`` ahead at the trend of the last
    ``trend_window_days`` (see :mod:`loyaltysim.model.monitor`); ``check`` simulates that
    many days past the horizon to judge whether each warning was right.
    """

    # Above 0: no finite number of runs can show a risk of exactly zero.
    max_ruin_probability: float = Field(
        0.05, gt=0.0, lt=1.0, description="largest acceptable probability of ruin"
    )
    look_ahead_days: int = Field(
        180,
        ge=7,
        le=3650,
        description="days: the warning fires when projected cash falls below the floor "
        "within this many days; check simulates this far past the horizon to judge it",
    )
    fire_within_days: int = Field(
        150,
        ge=1,
        le=3650,
        description="days: the warning fires when the projection crosses the floor within "
        "this many days (at most look_ahead_days; the rest is room for the forecast's error)",
    )
    trend_window_days: int = Field(
        90,
        ge=7,
        le=730,
        description="days: trailing window whose joining and leaving of customers the cash "
        "projection continues",
    )
    trend_min_days: int = Field(
        28,
        ge=2,
        le=730,
        description="days of books before the customers' joining and leaving are projected; "
        "before, the count is held",
    )
    books_window_days: int = Field(
        30,
        ge=1,
        le=365,
        description="days: trailing window of the per-sale readings (effective discount, "
        "contribution per order and per customer, lift)",
    )
    dependency_share: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="share of purchases on a discount from which dependency is advised",
    )
    dependency_expectation: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="...when customers also expect at least this share of the discount "
        "(their reference price has fallen by it)",
    )
    max_replications: int = Field(
        480,
        ge=1,
        le=100_000,
        description="check adds replications (doubling) up to this many, then says UNDECIDED",
    )

    @model_validator(mode="after")
    def _trend_fits(self) -> Guard:
        if self.trend_min_days > self.trend_window_days:
            raise ValueError("trend_min_days cannot exceed trend_window_days")
        if self.fire_within_days > self.look_ahead_days:
            raise ValueError("fire_within_days cannot exceed look_ahead_days")
        return self


class Behaviour(Frozen):
    """``[behaviour]``: the model's behavioural coefficients (see docs/model.md).

    Utilities are in logit units; hazards per year; half-lives in days.
    """

    # Choice (multinomial logit; Guadagni & Little 1983)
    focal_constant: float = Field(
        0.0,
        ge=-20,
        le=20,
        description="a standing preference for the business over the competitor, all else "
        "equal (choice-model units)",
    )
    competitor_constant: float = Field(
        0.5,
        ge=-20,
        le=20,
        description="a standing preference for the competitor (its location, range), all "
        "else equal (choice-model units)",
    )
    habit_weight: float = Field(
        1.0,
        ge=0,
        le=20,
        description="how strongly habit (buying where one bought before) draws a customer back",
    )
    satisfaction_weight: float = Field(
        2.0,
        ge=0,
        le=20,
        description="how strongly a customer's satisfaction draws them to the business",
    )
    satisfaction_utility_centre: float = Field(
        0.5,
        ge=0,
        le=1,
        description="the satisfaction at which it neither draws customers nor pushes them away",
    )
    attachment_weight: float = Field(
        1.5,
        ge=0,
        le=20,
        description="how strongly emotional attachment draws a customer to the business",
    )
    switching_cost_weight: float = Field(
        1.0,
        ge=0,
        le=20,
        description="how strongly the cost of leaving (points, effort) holds a customer back",
    )
    price_weight: float = Field(
        3.0,
        ge=0,
        le=50,
        description="how strongly a price below what the ticket is worth attracts buyers "
        "(times the segment's price sensitivity); it sets how much sales "
        "respond to price",
    )
    gain_weight: float = Field(
        1.0,
        ge=0,
        le=50,
        description="how much a price below the price a customer is used to pleases them",
    )
    loss_weight: float = Field(
        2.0,
        ge=0,
        le=50,
        description="how much a price above the price a customer is used to puts them off "
        "(losses weigh more than gains)",
    )
    deal_weight: float = Field(
        1.0,
        ge=0,
        le=20,
        description="the pull of any deal, beyond its money, for deal-prone customers",
    )
    reference_price_memory: float = Field(
        0.9,
        ge=0,
        le=1,
        description="how slowly customers forget past prices (0.9: the price they are used "
        "to moves a tenth of the way to each price paid)",
    )
    habit_learning: float = Field(
        0.1, ge=0, le=1, description="how fast a habit forms with each buying day"
    )
    prior_habit: float = Field(
        0.5, ge=0, le=1, description="how habitual the customers on day 0 already are, 0 to 1"
    )
    prior_tenure_days: float = Field(
        365.0,
        gt=0,
        le=36_500,
        description="how long, on average, the customers on day 0 have been customers (days)",
    )
    visit_gap_smoothing: float = Field(
        0.2,
        gt=0,
        le=1,
        description="how much the latest gap between visits changes a customer's usual gap",
    )
    # Service experience and satisfaction (Oliver 1980; Anderson & Sullivan 1993)
    quality_noise: float = Field(
        0.10, ge=0, le=1, description="how much one visit's quality varies around the usual"
    )
    quality_heterogeneity: float = Field(
        0.10,
        ge=0,
        le=1,
        description="how much the quality customers get differs from one customer to another",
    )
    indifference_drop: float = Field(
        0.05, ge=0, le=1, description="how much worse a visit feels when staff ignore the customer"
    )
    poor_service_drop: float = Field(
        0.35, ge=0, le=1, description="how much worse a visit feels when the service fails"
    )
    exceptional_boost: float = Field(
        0.20,
        ge=0,
        le=1,
        description="how much better a visit feels when the service is exceptional",
    )
    disconfirmation_weight: float = Field(
        0.3,
        ge=0,
        le=5,
        description="how much a visit better or worse than expected moves satisfaction",
    )
    shortfall_asymmetry: float = Field(
        2.0,
        ge=1,
        le=5,
        description="how many times more a disappointment weighs than a pleasant surprise",
    )
    satisfaction_smoothing: float = Field(
        0.1,
        gt=0,
        le=1,
        description="how fast satisfaction follows the visits (share of the way per buying day)",
    )
    expectation_learning: float = Field(
        0.05, ge=0, le=1, description="how fast customers' expectations follow the quality they get"
    )
    # Attachment
    attachment_half_life_days: float = Field(
        365.0, gt=0, le=36_500, description="days for unrenewed attachment to fade by half"
    )
    exceptional_attachment: float = Field(
        0.15, ge=0, le=1, description="attachment gained from an exceptional visit"
    )
    indifference_attachment: float = Field(
        0.10, ge=0, le=1, description="attachment lost when staff ignore the customer"
    )
    poor_service_attachment: float = Field(
        0.15, ge=0, le=1, description="attachment lost to a service failure"
    )
    recovery_attachment: float = Field(
        0.10, ge=0, le=1, description="attachment gained when a complaint is put right quickly"
    )
    unresolved_attachment: float = Field(
        0.20, ge=0, le=1, description="attachment lost when a complaint is never put right"
    )
    # Defection (competing risks, per year; Jones & Sasser 1995)
    other_hazard: float = Field(
        0.35,
        ge=0,
        le=100,
        description="yearly chance-rate of leaving for reasons the business cannot touch "
        "(moving away, life events)",
    )
    indifference_hazard: float = Field(
        1.3,
        ge=0,
        le=100,
        description="how much remembered staff indifference raises the rate of leaving (per year)",
    )
    poor_service_hazard: float = Field(
        1.0,
        ge=0,
        le=100,
        description="how much remembered poor service raises the rate of leaving (per year)",
    )
    competitor_hazard: float = Field(
        0.8,
        ge=0,
        le=100,
        description="how much the competitor's pull raises the rate of leaving (per year)",
    )
    unresolved_hazard: float = Field(
        3.0,
        ge=0,
        le=100,
        description="how much an unresolved complaint raises the rate of leaving (per year)",
    )
    discount_ended_hazard: float = Field(
        4.0,
        ge=0,
        le=100,
        description="how much a discount taken away raises the rate of leaving (per year)",
    )
    attachment_protection: float = Field(
        3.0,
        ge=0,
        le=20,
        description="how much attachment protects against leaving (higher: attached "
        "customers stay much longer)",
    )
    switching_cost_protection: float = Field(
        1.5, ge=0, le=20, description="how much the cost of leaving protects against leaving"
    )
    satisfaction_hazard_weight: float = Field(
        1.0,
        ge=0,
        le=20,
        description="how much low satisfaction itself raises the rate of leaving (kept "
        "weak: satisfied customers leave too)",
    )
    satisfaction_hazard_pivot: float = Field(
        0.6,
        ge=0,
        le=1,
        description="the satisfaction at which it neither raises nor lowers the rate of leaving",
    )
    pending_complaint_hazard: float = Field(
        12.0,
        ge=0,
        le=100,
        description="yearly rate of leaving added for every day a complaint waits for an answer",
    )
    hostage_hazard: float = Field(
        1.0,
        ge=0,
        le=100,
        description="how much pent-up resentment (unhappy but held by a switching cost) "
        "raises the rate of leaving",
    )
    hostage_mention_factor: float = Field(
        1.0,
        ge=0,
        le=20,
        description="how much more often unhappy customers held by a switching cost warn others",
    )
    memory_half_life_days: float = Field(
        60.0, gt=0, le=36_500, description="days for the memory of a bad experience to fade by half"
    )
    procedural_switching_cost: float = Field(
        0.2,
        ge=0,
        le=10,
        description="the effort of changing store, for everyone (before any points or rewards)",
    )
    # Complaints and recovery (TARP; de Matos et al. 2007)
    complaint_probability: float = Field(
        0.10,
        ge=0,
        le=1,
        description="chance that a customer with a bad experience complains (at middling "
        "attachment)",
    )
    bad_experience_threshold: float = Field(
        0.40,
        ge=0,
        le=1,
        description="a visit that feels worse than this (0 to 1) is a bad experience",
    )
    bad_experience_weight: float = Field(
        1.0,
        ge=0,
        le=10,
        description="how much grievance a bad experience leaves, like a service failure",
    )
    quick_resolution_days: float = Field(
        2.0, ge=0, le=365, description="a complaint put right within this many days counts as quick"
    )
    recovery_bonus: float = Field(
        0.05,
        ge=0,
        le=1,
        description="satisfaction above its level before the failure after a first "
        "complaint is fixed quickly (the recovery paradox)",
    )
    repeat_quick_restore: float = Field(
        0.5,
        ge=0,
        le=1,
        description="share of the lost satisfaction a quick fix of a repeated failure gives back",
    )
    late_restore: float = Field(
        0.3, ge=0, le=1, description="share of the lost satisfaction a late fix gives back"
    )
    late_grievance_kept: float = Field(
        0.5, ge=0, le=1, description="share of a failure's memory that remains after a late fix"
    )
    unresolved_satisfaction_drop: float = Field(
        0.05, ge=0, le=1, description="satisfaction lost when a complaint is never put right"
    )
    # Word of mouth (East et al. 2007; Anderson 1998)
    delighted_threshold: float = Field(
        0.8, ge=0, le=1, description="satisfaction from which customers recommend the business"
    )
    dissatisfied_threshold: float = Field(
        0.5, ge=0, le=1, description="satisfaction below which customers warn others off"
    )
    positive_mentions_per_month: float = Field(
        0.3, ge=0, le=100, description="recommendations a delighted customer makes a month"
    )
    negative_mentions_per_month: float = Field(
        2.0, ge=0, le=100, description="warnings an unhappy customer gives a month"
    )
    referral_conversion: float = Field(
        0.05, ge=0, le=1, description="chance a recommendation brings a new customer"
    )
    negative_awareness_effect: float = Field(
        0.05, ge=0, le=1, description="how much a warning makes a customer aware of the competitor"
    )
    negative_conversion_effect: float = Field(
        5.0,
        ge=0,
        le=100,
        description="how much warnings in the market cut the share of prospects who become "
        "customers",
    )
    # Acquisition and deals (Lewis 2006)
    deal_attraction: float = Field(
        3.0,
        ge=0,
        le=100,
        description="how much a discount raises the share of prospects who become customers"
        " (times the discount and deal proneness)",
    )
    discount_loss_weight: float = Field(
        1.0,
        ge=0,
        le=100,
        description="how much a discount taken away hurts deal-prone customers (per unit of"
        " discount withdrawn)",
    )
    trait_concentration: float = Field(
        20.0,
        gt=0,
        le=1e4,
        description="how alike customers of a segment are (higher: closer to the segment's means)",
    )


class Calibration(Frozen):
    """``[calibration]``: what ``loyaltysim calibrate`` fitted to a purchase log, for a run
    to start from the log's own customers and to carry the fit's uncertainty.

    The BG/NBD fit (Fader, Hardie & Lee 2005) is in weeks, as the fit reports it;
    ``covariance`` is that of the logarithms of (r, alpha, a, b), the inverse Hessian of the
    fit. See docs/calibration.md.
    """

    customers: str = Field(
        "",
        description="CSV of the log's customers (columns customer, frequency, recency_weeks, "
        "T_weeks; relative to the scenario file): the run starts from them, each agent's "
        "purchase rate and alive-probability drawn from the BG/NBD posterior given its "
        "history, instead of drawing customers.initial customers from the segments",
    )
    r: float | None = Field(None, gt=0.0, le=1e6, description="BG/NBD r (Gamma shape of rates)")
    alpha: float | None = Field(None, gt=0.0, le=1e9, description="BG/NBD alpha (weeks)")
    a: float | None = Field(None, gt=0.0, le=1e9, description="BG/NBD a (Beta of dropout)")
    b: float | None = Field(None, gt=0.0, le=1e9, description="BG/NBD b (Beta of dropout)")
    # Strict(False) on the tuples only lets TOML arrays (lists) in; the floats stay strict.
    covariance: tuple[Annotated[tuple[float, ...], Strict(False)], ...] = Field(
        (),
        strict=False,
        description="4x4 covariance of log(r), log(alpha), log(a), log(b)",
    )
    visit_scale: float = Field(
        1.0,
        gt=0.0,
        le=1e6,
        description="occasion rate per purchase rate (found by simulation by calibrate)",
    )
    parameter_uncertainty: bool = Field(
        False,
        description="each replication draws (r, alpha, a, b) from their sampling "
        "distribution (normal on the logarithms, the covariance), so intervals include what "
        "the log does not pin down",
    )

    @model_validator(mode="after")
    def _complete(self) -> Calibration:
        if not (self.customers or self.parameter_uncertainty):
            return self
        missing = [k for k in ("r", "alpha", "a", "b") if getattr(self, k) is None]
        if missing:
            need = "customers" if self.customers else "parameter_uncertainty"
            raise ValueError(
                f"calibration.{need} needs the BG/NBD fit: set calibration."
                + ", calibration.".join(missing)
                + " (loyaltysim calibrate writes them)"
            )
        if self.parameter_uncertainty:
            cov = self.covariance
            if len(cov) != 4 or any(len(row) != 4 for row in cov):
                raise ValueError(
                    "calibration.parameter_uncertainty needs calibration.covariance, the 4x4 "
                    "covariance of the log-parameters (loyaltysim calibrate writes it)"
                )
            if not all(math.isfinite(v) for row in cov for v in row) or any(
                cov[i][i] < 0 for i in range(4)
            ):
                raise ValueError(
                    "calibration.covariance must be finite with a non-negative diagonal"
                )
        return self


class Variant(Frozen):
    """``[[variants]]``: an alternative run against the base with common random numbers."""

    name: str = Field(min_length=1, max_length=200)
    set: dict[str, Any] = Field(default_factory=dict, description="dotted key -> value")


class Scenario(Frozen):
    """A complete, validated scenario."""

    scenario: Meta
    business: Business = Business()
    customers: Customers = Customers()
    competitor: Competitor = Competitor()
    discount: DiscountPolicy = NoDiscountDefault
    followup: Followup = Followup()
    survey: Survey = Survey()
    channels: dict[ChannelName, ChannelOverride] = Field(default_factory=dict)
    guard: Guard = Guard()
    behaviour: Behaviour = Behaviour()
    calibration: Calibration = Calibration()
    # strict=False on tuple fields only lets TOML arrays (lists) in; items stay strict.
    variants: tuple[Variant, ...] = Field((), max_length=1000, strict=False)

    @field_validator("variants")
    @classmethod
    def _unique_variants(cls, variants: tuple[Variant, ...]) -> tuple[Variant, ...]:
        names = [v.name for v in variants]
        for name in names:
            if name == "base":
                raise ValueError("'base' is the name of the scenario itself; pick another")
            if names.count(name) > 1:
                raise ValueError(f"duplicate variant name {name!r}")
        return variants

    # A field validator on ``customers`` rather than a model validator: the error then
    # carries the location ``customers`` (a model validator's is empty, so the loader could
    # not point at a line). ``scenario`` and ``business`` are declared before ``customers``,
    # so they are in ``info.data`` when they validated.
    @field_validator("customers")
    @classmethod
    def _fits_in_memory(cls, customers: Customers, info: ValidationInfo) -> Customers:
        meta, business = info.data.get("scenario"), info.data.get("business")
        if meta is None or business is None:
            return customers  # their own errors are reported; nothing to check against
        months = meta.horizon_days / DAYS_PER_MONTH
        most = customers.initial + business.prospects_per_month * months
        if most > meta.max_customers:
            raise ValueError(
                f"population too large: up to {most:,.0f} customers (initial plus every "
                f"prospect over the horizon); {_limit_text(meta.max_customers)}"
            )
        return customers

    # On ``behaviour`` (declared after ``customers``): word of mouth needs its keys.
    @field_validator("behaviour")
    @classmethod
    def _referrals_fit_in_memory(cls, behaviour: Behaviour, info: ValidationInfo) -> Behaviour:
        meta, business = info.data.get("scenario"), info.data.get("business")
        customers = info.data.get("customers")
        if meta is None or business is None or customers is None:
            return behaviour
        months = meta.horizon_days / DAYS_PER_MONTH
        paid = customers.initial + business.prospects_per_month * months
        # With every starting customer delighted (a Beta tail is at most 1) the referrals
        # are at most this; below the limit, the exact figure (SciPy's incomplete beta,
        # ~0.2 s to import) cannot pass it either, so `validate` stays fast.
        rate = behaviour.positive_mentions_per_month * behaviour.referral_conversion
        shares = sum(segment.share for segment in customers.segments)
        if paid + customers.initial * shares * rate * months <= meta.max_customers:
            return behaviour
        referred = first_referrals(customers, behaviour, months)
        if referred and paid + referred > meta.max_customers:
            raise ValueError(
                f"population too large: about {paid + referred:,.0f} customers, of whom "
                f"{referred:,.0f} referred by the starting customers who are delighted "
                "(behaviour.positive_mentions_per_month="
                f"{behaviour.positive_mentions_per_month:g} x behaviour.referral_conversion="
                f"{behaviour.referral_conversion:g} a month each, over the horizon; those "
                f"they refer refer others, too); {_limit_text(meta.max_customers)}"
            )
        return behaviour

    def channel(self) -> Channel:
        """The follow-up channel in use, with the scenario's overrides applied."""
        name = self.followup.channel
        base = DEFAULT_CHANNELS[name]
        override = self.channels.get(name)
        return override.apply(base) if override else base
