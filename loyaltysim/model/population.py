"""Customer agents as columns.

Each customer is an index ``i`` into a set of numpy arrays (the engineering guide's
"columns of agents"): every agent keeps its own state, draws and history, but a day's
decisions for all customers are computed in one vectorised batch. Departed customers keep
their row (``active[i]`` is False) so that indices, and with them the per-customer random
draws that give common random numbers across variants, never shift.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from loyaltysim.limits import BYTES_PER_CUSTOMER

if TYPE_CHECKING:
    from loyaltysim.scenario.schema import Scenario

# ``last_visit`` of a customer who has never bought (days may be negative: history).
NEVER = -(2**31)

# How a customer came to the business (column ``origin``).
ORIGIN_INITIAL, ORIGIN_PAID, ORIGIN_REFERRAL, ORIGIN_WIN_BACK = 0, 1, 2, 3

# Outcome of a customer's complaints (column ``recovery``), ordered as the recovery ladder.
RECOVERY_NONE = 0  # never had a bad experience
RECOVERY_SILENT = 1  # had a bad experience, never complained
RECOVERY_PENDING = 2  # complained, waiting for the business
RECOVERY_UNRESOLVED = 3
RECOVERY_RESOLVED = 4
RECOVERY_RESOLVED_QUICKLY = 5

# ``survey_score`` of a customer who never answered a survey.
NO_ANSWER = -1

# Capacity grows by this factor when rows run out. Unused capacity is memory the run
# holds for nothing: 1.5 left a 1M-customer year at 2.25M rows for 1.6M used (issue #15),
# and 2 took 2M rows on day 0. An eighth keeps the slack under 12.5%; each row is then
# copied about 8 times over a run, a memcpy that costs ~1% of the day's passes over it.
GROWTH = 1.125


def _column(dtype: type) -> Any:
    """An empty column of ``dtype`` (rows are added by :meth:`Population.add`)."""
    return field(default_factory=lambda: np.zeros(0, dtype))


@dataclass
class Population:
    """State of every customer who ever dealt with the business, one array per attribute.

    Rates are per day, money in the scenario's currency, levels (satisfaction, attachment,
    awareness, habit, expectation) on 0..1.
    """

    # float32 behavioural state (21): half the memory traffic of float64 in the daily
    # passes over every customer; 7 significant digits are ample for 0..1 levels.
    visit_rate: np.ndarray = _column(np.float32)  # occasions/day
    price_sensitivity: np.ndarray = _column(np.float32)
    deal_proneness: np.ndarray = _column(np.float32)
    satisfaction: np.ndarray = _column(np.float32)  # S
    expectation: np.ndarray = _column(np.float32)  # E
    reference_price: np.ndarray = _column(np.float32)  # R at the business
    rival_reference_price: np.ndarray = _column(np.float32)  # R at the competitor
    attachment: np.ndarray = _column(np.float32)  # A
    awareness: np.ndarray = _column(np.float32)  # W
    habit: np.ndarray = _column(np.float32)  # L
    glow: np.ndarray = _column(np.float32)  # fading follow-up effect
    indifference_memory: np.ndarray = _column(np.float32)
    poor_service_memory: np.ndarray = _column(np.float32)
    unresolved_memory: np.ndarray = _column(np.float32)
    discount_loss: np.ndarray = _column(np.float32)
    last_discount: np.ndarray = _column(np.float32)
    usual_gap: np.ndarray = _column(np.float32)  # EWMA days
    satisfaction_before_failure: np.ndarray = _column(np.float32)
    offer_rate: np.ndarray = _column(np.float32)  # personal offer
    quality_offset: np.ndarray = _column(np.float32)  # persistent, per customer
    resentment: np.ndarray = _column(np.float32)  # hostage: months unhappy x switching cost
    # float64 money and points (4): these accumulate, so they keep full precision.
    points: np.ndarray = _column(np.float64)
    spend: np.ndarray = _column(np.float64)  # lifetime paid
    contribution: np.ndarray = _column(np.float64)  # lifetime margin
    repeat_spend: np.ndarray = _column(np.float64)  # paid on repeat purchase days in the run
    # int32 columns (11)
    joined: np.ndarray = _column(np.int32)
    left: np.ndarray = _column(np.int32)
    last_visit: np.ndarray = _column(np.int32)
    visits: np.ndarray = _column(np.int32)
    period_visits: np.ndarray = _column(np.int32)
    prev_period_visits: np.ndarray = _column(np.int32)
    offer_until: np.ndarray = _column(np.int32)
    last_contact: np.ndarray = _column(np.int32)
    survey_day: np.ndarray = _column(np.int32)  # day of the last survey answer, -1 none
    # The customer's purchase history within the run (the CLV libraries' RFM summary):
    # the first buying day (-1: none yet) and the buying days after it.
    first_purchase: np.ndarray = _column(np.int32)
    repeat_days: np.ndarray = _column(np.int32)
    # int16 columns (2)
    segment: np.ndarray = _column(np.int16)
    failures: np.ndarray = _column(np.int16)
    # bool / int8 columns (9)
    active: np.ndarray = _column(np.bool_)
    known_unhappy: np.ndarray = _column(np.bool_)
    ever_exceptional: np.ndarray = _column(np.bool_)
    ever_indifference: np.ndarray = _column(np.bool_)
    won_on_deal: np.ndarray = _column(np.bool_)
    recovery: np.ndarray = _column(np.int8)
    origin: np.ndarray = _column(np.int8)
    tier: np.ndarray = _column(np.int8)
    survey_score: np.ndarray = _column(np.int8)  # last answer on the survey's scale, -1 none

    size: int = 0  # rows in use; arrays may be longer (capacity)

    def column_names(self) -> list[str]:
        return [f.name for f in fields(self) if f.name != "size"]

    @property
    def capacity(self) -> int:
        return len(self.active)

    def reserve(self, extra: int) -> None:
        """Make room for ``extra`` more rows, growing capacity by :data:`GROWTH` to
        amortise the copies."""
        need = self.size + extra
        if need <= self.capacity:
            return
        self.resize(max(need, int(GROWTH * self.capacity), 64))

    def resize(self, capacity: int) -> None:
        """Give every column ``capacity`` rows (at least :attr:`size`), one column at a
        time: the transient copy is one column, never the whole population."""
        for name in self.column_names():
            old = getattr(self, name)
            grown = np.zeros(capacity, dtype=old.dtype)
            grown[: self.size] = old[: self.size]
            setattr(self, name, grown)
            del old, grown

    def add(self, count: int) -> slice:
        """Append ``count`` zero-filled rows and return their slice; the caller fills them."""
        self.reserve(count)
        rows = slice(self.size, self.size + count)
        self.size += count
        self.left[rows] = -1
        self.last_visit[rows] = NEVER
        self.offer_until[rows] = -1
        self.last_contact[rows] = -1
        self.survey_day[rows] = -1
        self.first_purchase[rows] = -1
        self.survey_score[rows] = -1
        return rows

    def view(self, name: str) -> np.ndarray:
        """The used part of a column."""
        return getattr(self, name)[: self.size]


class PopulationLimitError(RuntimeError):
    """A replication would hold more customers than ``scenario.max_customers`` allows.

    The replication stops here, before the arrays grow: a run whose population runs away
    (word of mouth compounding, say) ends with a message naming the mechanism and the
    settings that drove it, instead of swapping until the kernel kills it.
    """


def _cause(scenario: Scenario, origin: int) -> str:
    """The mechanism that adds customers of ``origin``, with the settings that drive it."""
    b, biz = scenario.behaviour, scenario.business
    if origin == ORIGIN_REFERRAL:
        return (
            "referrals (word of mouth): behaviour.positive_mentions_per_month="
            f"{b.positive_mentions_per_month:g}, behaviour.referral_conversion="
            f"{b.referral_conversion:g}, behaviour.delighted_threshold={b.delighted_threshold:g}"
        )
    if origin == ORIGIN_PAID:
        return (
            f"paid acquisition: business.prospects_per_month={biz.prospects_per_month:g}, "
            f"business.prospect_conversion={biz.prospect_conversion:g}"
        )
    return f"the starting customers: customers.initial={scenario.customers.initial:g}"


def ensure_room(pop: Population, scenario: Scenario, count: int, origin: int, day: int) -> None:
    """Check, before ``count`` rows of ``origin`` are added on ``day``, that the population
    stays within ``scenario.max_customers``; raise :class:`PopulationLimitError` if not.

    The per-customer arrays (the columns here, the per-customer table) grow with the
    rows, so bounding the rows bounds them; defection records are one per departure, so
    at most one per row, plus one per win-back (a customer brought back can leave again):
    :func:`ensure_record_room` bounds those. Growth near the bound is capped at the bound,
    so the arrays never double past it.
    """
    limit = scenario.scenario.max_customers
    need = pop.size + count
    if need > limit:
        raise PopulationLimitError(
            f"population bound reached on day {day}: {_cause(scenario, origin)} would take "
            f"the customers who ever dealt with the business to {need:,}, past "
            f"scenario.max_customers={limit:,}; lower those settings, shorten the horizon, "
            f"or raise scenario.max_customers (each customer takes {BYTES_PER_CUSTOMER} "
            "bytes per replication and worker)"
        )
    if need > pop.capacity and int(GROWTH * pop.capacity) > limit:
        # Population.reserve grows by GROWTH; near the bound, grow exactly to it instead.
        pop.resize(limit)


def ensure_record_room(scenario: Scenario, records: int, count: int, day: int) -> None:
    """Check, before ``count`` defection records are added on ``day`` to ``records``, that
    they stay within ``scenario.max_customers``; raise :class:`PopulationLimitError` if not.

    Without win-back offers a customer leaves once, so the rows' bound holds the records
    too; a customer won back can leave again, and again, so the records need a bound of
    their own (the same one: a record takes about as much memory as a customer's row).
    """
    limit = scenario.scenario.max_customers
    need = records + count
    if need <= limit:
        return
    discount = scenario.discount
    if discount.kind == "win_back":
        cause = (
            "win-back (customers won back and leaving again): "
            f"discount.after_days={getattr(discount, 'after_days', 0):g}, "
            f"discount.accept_probability={getattr(discount, 'accept_probability', 0):g}, "
            f"discount.take_up_base={getattr(discount, 'take_up_base', 0):g}"
        )
    else:
        cause = "departures"
    raise PopulationLimitError(
        f"defection-record bound reached on day {day}: {cause} would take the defection "
        f"records to {need:,}, past scenario.max_customers={limit:,}; lower those settings, "
        "shorten the horizon, or raise scenario.max_customers"
    )
