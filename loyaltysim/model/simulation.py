"""The agent-based model on a SimPy clock.

SimPy is the discrete-event backbone; customers are columns (see ``population.py``). The
processes and their place in a day (events at the same time run in this order):

==========  =====================================================================
day + 0.0   market day: occasions, choice, service, complaints, survey, word of
            mouth, follow-up decisions, defection, acquisition (one vectorised batch)
day + 0.5   follow-up deliveries and complaint resolutions due today
day + 0.7   competitor: promotions start and end; its weekly price review (if it reacts)
day + 0.8   first day of a month: fixed costs
day + 0.9   recorder: the day's aggregates
day + 0.95  monitor: early warnings, and ruin, which ends the replication
==========  =====================================================================

The concerns live in their own modules, one mixin each: ``market`` (occasions, prices,
choice, purchases, acquisition), ``service`` (experience, satisfaction, complaints,
recovery), ``contact`` (word of mouth, hostages, follow-ups), ``survey`` (what customers
say), ``defection`` (competing risks) and ``rival`` (promotions, reactions).

Everything arrives as arguments and nothing is written: :func:`simulate` is pure.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from loyaltysim.model.base import (
    AT_ACCOUNTS,
    AT_MONITOR,
    AT_RECORD,
    DAYS_PER_MONTH,
    DENSE_SHARE,
    half_life_factor,
)
from loyaltysim.model.contact import ContactMixin
from loyaltysim.model.customers import (
    add_customers,
    draw_segments,
    segment_cdf,
    segment_table,
)
from loyaltysim.model.defection import DefectionMixin
from loyaltysim.model.log_customers import add_log_customers, replication_scenario
from loyaltysim.model.market import MarketMixin, poisson_from_uniform
from loyaltysim.model.monitor import Monitor
from loyaltysim.model.population import (
    ORIGIN_INITIAL,
    ORIGIN_WIN_BACK,
    RECOVERY_NONE,
    RECOVERY_PENDING,
    RECOVERY_RESOLVED,
    RECOVERY_RESOLVED_QUICKLY,
    RECOVERY_SILENT,
    RECOVERY_UNRESOLVED,
    Population,
)
from loyaltysim.model.result import (
    CUSTOMER_FIELDS,
    DAILY_SERIES,
    DEFECTION_FIELDS,
    STOCK_SERIES,
    RunResult,
)
from loyaltysim.model.rival import RivalMixin
from loyaltysim.model.service import ServiceMixin
from loyaltysim.model.survey import run_survey
from loyaltysim.rng import streams
from loyaltysim.scenario.schema import Scenario


class Simulation(MarketMixin, ServiceMixin, ContactMixin, DefectionMixin, RivalMixin):
    """One replication of one scenario. Build it, call :meth:`run`, read the result."""

    def __init__(
        self,
        scenario: Scenario,
        replication: int,
        root_seed: int,
        variant: str = "base",
        keep_customers: bool = False,
    ) -> None:
        # [calibration]: this replication's fitted parameters and the log's customers.
        scenario = replication_scenario(scenario, replication, root_seed)
        self.sc = scenario
        self.beh = scenario.behaviour
        self.biz = scenario.business
        self.policy = scenario.discount
        self.followup = scenario.followup
        self.channel = scenario.channel()
        self.variant = variant
        self.replication = replication
        self.keep_customers = keep_customers
        self.horizon = scenario.scenario.horizon_days
        self.rng = streams(root_seed, replication)
        self.env = simpy.Environment()
        self.pop = Population()
        self.daily = {name: np.zeros(self.horizon) for name in DAILY_SERIES}
        self.today = {name: 0.0 for name in DAILY_SERIES}  # flows accumulated today
        self.defections: dict[str, list[np.ndarray]] = {f: [] for f in DEFECTION_FIELDS}
        self.defection_records = 0  # bounded by ensure_record_room (win-backs leave again)
        self.cash = self.biz.starting_cash
        self.competitor_promo = False
        self.rival_cut = 0.0
        self.reference_share = None
        self.followup_month = -1
        self.followup_spent = 0.0
        self.recent_warnings = 0.0  # negative mentions per customer per month, smoothed
        self.referral_prospects = 0  # today's positive mentions: prospects for referrals
        self.ruin_day = None
        self._switching = np.zeros(0, np.float32)  # switching cost per customer, each morning
        self.act = np.zeros(0, np.int64)  # today's customers (rows), set each morning
        self._rows_at_open = 0  # rows this morning: later rows joined today
        self.live: np.ndarray | None = None  # the active rows at the day's end (_record)
        self.dense = True  # most rows active: whole-column passes beat gathers
        self.toggled: list[np.ndarray] = []  # rows whose `active` changed since the drift
        self._factors: dict[tuple[float, float], np.ndarray] = {}  # rows of _factor_block
        self._factor_block = np.zeros((0, 0), np.float32)
        self._factor_values = np.zeros((2, 0, 1), np.float32)  # each factor's two values
        self._factor_rows = 0
        self.end = self.env.event()
        self.monitor = Monitor(scenario)

        b = self.beh
        self.memory_decay = half_life_factor(b.memory_half_life_days)
        self.attachment_decay = half_life_factor(b.attachment_half_life_days)
        self.glow_decay = half_life_factor(self.channel.fade_days)
        comp = scenario.competitor
        self.awareness_growth = 1 - (1 - comp.awareness_growth_per_month) ** (1 / DAYS_PER_MONTH)
        self.awareness_decay = (1 - comp.awareness_decay_per_month) ** (1 / DAYS_PER_MONTH)
        self.segment_shares = np.array([s.share for s in scenario.customers.segments])
        self.segment_deal = np.array([s.deal_proneness for s in scenario.customers.segments])
        self.segment_traits = segment_table(scenario)
        self.segment_cdf = segment_cdf(self.segment_shares)

        initial = scenario.customers.initial
        seg = draw_segments(self.rng["population"], self.segment_shares, initial)
        add_customers(
            self.pop,
            scenario,
            seg,
            0,
            ORIGIN_INITIAL,
            self.rng["population"],
            prior_tenure=True,
            table=self.segment_traits,
        )
        add_log_customers(self.pop, scenario, replication, root_seed)
        self.act = np.flatnonzero(self.pop.active[: self.pop.size])

    # ----------------------------------------------------------------- processes
    def run(self) -> RunResult:
        for process in (
            self._market(),
            self._competitor(),
            self._reaction(),
            self._month_start(),
            self._recorder(),
            self._monitor(),
        ):
            self.env.process(process)
        self.env.run(until=self.end)
        return self._result()

    def close(self) -> None:
        """Free this spent replication's state (the result keeps what it needs).

        The events still queued at the horizon hold bound methods of this object and the
        environment holds the queue: a reference cycle that only the cyclic collector
        frees, so without this the population (most of a large run's memory) outlived the
        run while its tables were formatted, the peak of a million-customer run.
        """
        vars(self).clear()

    def _market(self) -> Generator[Any, Any, None]:
        for day in range(self.horizon):
            yield self.env.timeout(day - self.env.now)
            self.market_day(day)

    def _month_start(self) -> Generator[Any, Any, None]:
        month = 0
        while True:
            # Fixed costs (rent, wages) are paid at the start of each month, so a horizon
            # of n months pays n months.
            due = int(np.ceil(month * DAYS_PER_MONTH))
            yield self.env.timeout(due + AT_ACCOUNTS - self.env.now)
            self.today["fixed_costs"] += self.biz.fixed_costs_per_month
            self.cash -= self.biz.fixed_costs_per_month
            month += 1

    def _recorder(self) -> Generator[Any, Any, None]:
        yield self.env.timeout(AT_RECORD)
        while True:
            self._record(int(self.env.now))
            yield self.env.timeout(1)

    def _monitor(self) -> Generator[Any, Any, None]:
        yield self.env.timeout(AT_MONITOR)
        while True:
            day = int(self.env.now)
            self.monitor.observe(day, self.daily, self.cash)
            if self.cash < self.biz.cash_floor:
                self.ruin_day = day
                self._close(day)
                self.end.succeed()
                return
            if day == self.horizon - 1:
                self.end.succeed()
                return
            yield self.env.timeout(1)

    def _close(self, day: int) -> None:
        """Ruin closes the business at the end of ``day``: every customer it still had is
        lost (counted as churned that day, in ``lost_at_closure`` too, but not as a
        defection with a cause), so a ruined plan never looks healthier than one that
        traded on."""
        pop, n = self.pop, self.pop.size
        lost = np.flatnonzero(pop.active[:n])
        pop.active[lost] = False
        self.toggled.append(lost)
        pop.left[lost] = day
        for series in ("churned", "lost_at_closure"):
            self.daily[series][day] += len(lost)
        self.daily["customers"][day] = 0.0

    # ---------------------------------------------------------------- market day
    def market_day(self, day: int) -> None:
        pop, n = self.pop, self.pop.size
        self._rows_at_open = n
        self.rng.start_day(day)
        # Points change only at purchases and expiry: what is owed this morning is what
        # yesterday's record found.
        owed = self.daily["points_liability"][day - 1] if day else self.policy.liability(pop)
        returning = self.policy.brings_back
        if returning:  # customers it brings back pick up the drift of their days away
            was_active, left = pop.active[:n].copy(), pop.left[:n].copy()
        self.spend("offer_cost", self.policy.start_of_day(day, pop, self.rng["policy"]))
        # Points that expire overnight are breakage: owed no more, never redeemed.
        self.today["points_breakage"] += owed - self.policy.liability(pop)
        # Today's customers, once: the day's work follows them, not every row that ever
        # existed (departed customers keep their rows, frozen as they left). Nothing
        # changes who is active between yesterday's record and now but a win-back.
        act = self.live if self.live is not None and not returning else pop.active[:n].nonzero()[0]
        self.act = act
        self.dense = len(act) > DENSE_SHARE * n
        if returning:
            back = np.flatnonzero(pop.active[:n] & ~was_active)
            self.toggled.append(back)
            self._catch_up(back, day - 1 - left[back])
        self._drift(n)
        # The programme's effects for today's customers alone (the whole columns when
        # most are active): a departed customer's are never read.
        rows = slice(0, n) if self.dense else act
        financial, visit_multiplier = self.policy.customer_effects(pop, rows)
        switching = np.asarray(
            np.float32(self.beh.procedural_switching_cost) + financial, dtype=np.float32
        )
        if not self.dense:  # back to one value per row, as the rest of the day reads them
            switching = _on_rows(switching, act, n)
            visit_multiplier = _on_rows(visit_multiplier, act, n)
        self._switching = switching
        shoppers, occasions = self._shoppers(day, visit_multiplier)
        buyers, rates, rivals, bought, rival_tickets = self._choose(day, shoppers, occasions, n)
        self._purchase(day, buyers, bought, rates)
        self._competitor_purchase(rivals, rival_tickets)
        self._service(day, buyers, n)
        run_survey(self, day, n)
        self._word_of_mouth(n)
        self._followups(day, buyers, n)
        self._defect(day)
        # Newcomers arrive at the end of the day: they neither shop nor leave on day one.
        self._acquire(day)

    def _scale(self, column: np.ndarray, factor: np.ndarray | np.float32) -> None:
        """``column *= factor`` for today's customers only, in place. With most rows
        active, over the whole contiguous column by a factor that is 1 on departed rows
        (x * 1 is exactly x; much faster than a masked ufunc or a gather and a scatter);
        otherwise on the gathered rows. The same arithmetic either way, so the numbers do
        not depend on which."""
        n = self.pop.size
        if self.dense:
            column[:n] *= factor
        else:
            column[self.act] *= factor

    def _drift(self, n: int) -> None:
        """What time alone does: memories fade; attachment decays every day (complacency:
        only exceptional moments, recoveries and follow-ups renew it); follow-up glow
        fades; the competitor's marketing spreads awareness, and unused awareness is
        forgotten. Only for today's customers: a departed customer's state waits, and
        :meth:`_catch_up` applies the days away if a win-back brings them back."""
        pop = self.pop
        f = self._drift_factors(n)

        def rate(value: float, departed: float) -> np.ndarray | np.float32:
            return f[value, departed][:n] if self.dense else np.float32(value)

        m = rate(self.memory_decay, 1.0)
        for memory in (
            pop.indifference_memory,
            pop.poor_service_memory,
            pop.unresolved_memory,
            pop.discount_loss,
            pop.resentment,
        ):
            self._scale(memory, m)
        self._scale(pop.attachment, rate(self.attachment_decay, 1.0))
        self._scale(pop.glow, rate(self.glow_decay, 1.0))
        # w -> w d + g (1 - w); on a departed row d = 1 and g = 0 leave w exactly as is.
        wd, wg = rate(self.awareness_decay, 1.0), rate(self.awareness_growth, 0.0)
        rows: slice | np.ndarray = slice(0, n) if self.dense else self.act
        w = pop.awareness[rows] * wd
        w += wg * (1 - w)
        pop.awareness[rows] = w

    def _drift_factors(self, n: int) -> dict[tuple[float, float], np.ndarray]:
        """Per row, each daily drift factor where the customer is active and its
        departed value (1, or 0 for an increment) where not: kept from day to day and
        mended only where ``active`` changed (:attr:`toggled`) or rows were added, so a
        day's drift is a plain multiply over contiguous columns."""
        if not self.dense:  # gathered days scale by scalars: drop the factors, rebuilt if needed
            self._factors, self.toggled = {}, []
            return self._factors
        active = self.pop.active[:n]
        if not self._factors or self._factor_block.shape[1] < n:
            rates = sorted(
                {
                    (self.memory_decay, 1.0),
                    (self.attachment_decay, 1.0),
                    (self.glow_decay, 1.0),
                    (self.awareness_decay, 1.0),
                    (self.awareness_growth, 0.0),
                }
            )
            # One row per factor, so a day's mending is one np.where over all of them.
            self._factors = {}  # the old block goes first: it and the new never coexist
            del self._factor_block
            self._factor_block = np.zeros((len(rates), self.pop.capacity), np.float32)
            self._factor_values = np.array(rates, np.float32).T[:, :, None]  # value, departed
            self._factors = dict(zip(rates, self._factor_block, strict=True))
            self._factor_rows = 0
        value, departed = self._factor_values
        block = self._factor_block
        if n > self._factor_rows:  # rows added (all of them, for a new block): in place
            new = slice(self._factor_rows, n)
            block[:, new] = departed
            np.copyto(block[:, new], value, where=active[new])
        if self.toggled:  # most days: a few defectors
            rows = np.concatenate(self.toggled) if len(self.toggled) > 1 else self.toggled[0]
            block[:, rows] = np.where(active[rows], value, departed)
        self.toggled, self._factor_rows = [], n
        return self._factors

    def _catch_up(self, idx: np.ndarray, days: np.ndarray) -> None:
        """The drift a customer won back missed while away (``days`` days), at once."""
        if len(idx) == 0:
            return
        pop, k = self.pop, np.maximum(days, 0).astype(np.float64)
        for column, decay in (
            (pop.unresolved_memory, self.memory_decay),
            (pop.resentment, self.memory_decay),
            (pop.attachment, self.attachment_decay),
            (pop.glow, self.glow_decay),
        ):
            column[idx] = column[idx] * decay**k
        # w -> d w + g (1 - w) has the fixed point w* = g / (1 - (1 - g) d); the gap to
        # it shrinks by (1 - g) d a day.
        d, g = self.awareness_decay, self.awareness_growth
        fixed = g / (1 - (1 - g) * d)
        w = pop.awareness[idx].astype(np.float64)
        pop.awareness[idx] = fixed + ((1 - g) * d) ** k * (w - fixed)

    # ------------------------------------------------------------------ records
    def _record(self, day: int) -> None:
        pop, n = self.pop, self.pop.size
        # Kept for tomorrow's market: who is active changes overnight only by a programme
        # that brings customers back.
        if self.policy.brings_back:
            act = pop.active[:n].nonzero()[0]
        else:  # this morning's customers less today's leavers, and today's newcomers:
            # a pass over the active rows, not over every row that ever existed
            morning, opened = self.act, self._rows_at_open
            joined = opened + np.flatnonzero(pop.active[opened:n])
            act = np.concatenate((morning[pop.active[morning]], joined))
        self.live = act
        count = len(act)
        t = self.today
        t["customers"] = count
        t["cash"] = self.cash
        t["points_liability"] = self.policy.liability(pop)

        def mean(column: np.ndarray) -> float:
            # numpy's pairwise sum over the active customers, in float64, not a BLAS
            # dot: a threaded BLAS sums in an order that depends on the thread count,
            # and results must not depend on the machine's load.
            return float(column.sum(dtype=np.float64)) / max(count, 1)

        t["mean_satisfaction"] = mean(pop.satisfaction[act])
        t["mean_attachment"] = mean(self.felt_attachment(act))
        t["mean_competitor_awareness"] = mean(pop.awareness[act])
        t["mean_reference_price"] = mean(pop.reference_price[act])
        t["competitor_price"] = self.competitor_price()
        # Only a win-back policy brings customers back (origin ORIGIN_WIN_BACK).
        if self.policy.kind == "win_back":
            won_back = pop.joined[:n][pop.origin[:n] == ORIGIN_WIN_BACK] == day
            t["won_back"] = float(np.count_nonzero(won_back))
        t["acquired"] += t["won_back"]
        for name in DAILY_SERIES:
            self.daily[name][day] = t[name]
            t[name] = 0.0

    def _result(self) -> RunResult:
        if self.ruin_day is not None:
            # The business is closed after ruin: no flows, no customers, other stocks
            # frozen at their last level.
            after = slice(self.ruin_day + 1, self.horizon)
            for name in DAILY_SERIES:
                self.daily[name][after] = (
                    self.daily[name][self.ruin_day] if name in STOCK_SERIES else 0.0
                )
        defections = {
            name: (np.concatenate(parts) if parts else np.zeros(0))
            for name, parts in self.defections.items()
        }
        customers = None
        if self.keep_customers:
            n = self.pop.size
            # Views, not copies: the population is freed when the run closes (simulate),
            # and a copy here was the peak of a million-customer run.
            customers = {name: getattr(self.pop, name)[:n] for name in CUSTOMER_FIELDS}
        return RunResult(
            variant=self.variant,
            replication=self.replication,
            horizon_days=self.horizon,
            daily=self.daily,
            defections=defections,
            ruin_day=self.ruin_day,
            warnings=self.monitor.warnings,
            customers=customers,
            initial_customers=self.sc.customers.initial,
        )


def _on_rows(values: Any, rows: np.ndarray, n: int) -> Any:
    """``values`` of ``rows`` spread over ``n`` rows; a scalar, which stands for everyone,
    as it is. The other rows are NaN: a read of a departed customer's value, which the
    day never makes, would show in the numbers instead of passing as a plausible 0."""
    if np.ndim(values) == 0:
        return values
    spread = np.full(n, np.nan, np.asarray(values).dtype)
    spread[rows] = values
    return spread


def simulate(
    scenario: Scenario,
    replication: int = 0,
    root_seed: int = 0,
    variant: str = "base",
    keep_customers: bool = False,
) -> RunResult:
    """Run one replication of ``scenario`` and return its daily series and defections.

    Pure: the result depends only on the arguments. ``replication`` and ``root_seed`` key
    the random streams; the variant's name does not, so every variant of a replication
    sees the same customers and luck (common random numbers).
    """
    sim = Simulation(scenario, replication, root_seed, variant, keep_customers)
    try:
        return sim.run()
    finally:
        sim.close()


__all__ = [
    "RECOVERY_NONE",
    "RECOVERY_PENDING",
    "RECOVERY_RESOLVED",
    "RECOVERY_RESOLVED_QUICKLY",
    "RECOVERY_SILENT",
    "RECOVERY_UNRESOLVED",
    "Simulation",
    "poisson_from_uniform",
    "simulate",
]
