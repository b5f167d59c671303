"""The agent-based model on a SimPy clock.

SimPy is the discrete-event backbone; customers are columns (see ``population.py``). The
processes and their place in a day (events at the same time run in this order):

==========  =====================================================================
day + 0.0   market day: occasions, choice, service, complaints, word of mouth,
            follow-up decisions, defection, acquisition (one vectorised batch)
day + 0.5   follow-up deliveries and complaint resolutions due today
day + 0.7   competitor: promotions start and end
day + 0.8   first day of a month: fixed costs
day + 0.9   recorder: the day's aggregates
day + 0.95  monitor: early warnings, and ruin, which ends the replication
==========  =====================================================================

Everything arrives as arguments and nothing is written: :func:`simulate` is pure.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy
from scipy.special import ndtri

from loyaltysim.followups import select_contacts
from loyaltysim.model.customers import DAYS_PER_MONTH, add_customers, draw_segments
from loyaltysim.model.monitor import Monitor
from loyaltysim.model.population import (
    NEVER,
    ORIGIN_INITIAL,
    ORIGIN_PAID,
    ORIGIN_REFERRAL,
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
    CAUSES,
    CUSTOMER_FIELDS,
    DAILY_SERIES,
    DEFECTION_FIELDS,
    STOCK_SERIES,
    RunResult,
)
from loyaltysim.rng import streams
from loyaltysim.scenario.schema import Scenario

SATISFIED = 0.6  # top two of five satisfaction bands
CAUSE = {name: code for code, name in enumerate(CAUSES)}
DAYS_PER_YEAR = 365.0

# Offsets of the processes within a day (see the module docstring).
AT_DELIVERY, AT_COMPETITOR, AT_ACCOUNTS, AT_RECORD, AT_MONITOR = 0.5, 0.7, 0.8, 0.9, 0.95


def half_life_factor(days: float) -> float:
    """Daily multiplier of a quantity that halves every ``days`` days."""
    return float(0.5 ** (1.0 / days))


def poisson_from_uniform(rate: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Poisson counts by inverting the CDF at ``u``: one uniform per customer, so a
    customer's draw does not depend on anyone else's (common random numbers survive a
    variant that changes other customers' rates)."""
    p = np.exp(-rate)
    k = (u > p).astype(np.int64)
    # Only the few with at least one occasion need the further terms.
    idx = np.flatnonzero(k)
    lam, ui, p = rate[idx], u[idx], p[idx]
    cdf = p.copy()
    # Enough terms for the largest rate (mean + 10 sd); the loop stops early anyway.
    top = float(lam.max(initial=0.0))
    terms = int(np.ceil(top + 10 * np.sqrt(top) + 10))
    extra = np.zeros(len(idx), dtype=np.int64)
    for j in range(1, terms):
        p = p * lam / j
        cdf += p
        beyond = ui > cdf
        if not beyond.any():
            break
        extra += beyond
    k[idx] += extra
    return k


class Simulation:
    """One replication of one scenario. Build it, call :meth:`run`, read the result."""

    def __init__(
        self,
        scenario: Scenario,
        replication: int,
        root_seed: int,
        variant: str = "base",
        keep_customers: bool = False,
    ) -> None:
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
        self.cash = self.biz.starting_cash
        self.competitor_promo = False
        self.followup_month = -1
        self.followup_spent = 0.0
        self.recent_warnings = 0.0  # negative mentions per customer per month, smoothed
        self.referral_prospects = 0  # today's positive mentions: prospects for referrals
        self.ruin_day: int | None = None
        self._switching = np.zeros(0)  # switching cost per customer, set each morning
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

        initial = scenario.customers.initial
        seg = draw_segments(self.rng["population"], self.segment_shares, initial)
        add_customers(
            self.pop, scenario, seg, 0, ORIGIN_INITIAL, self.rng["population"], prior_tenure=True
        )

    # ----------------------------------------------------------------- processes
    def run(self) -> RunResult:
        for process in (
            self._market(),
            self._competitor(),
            self._month_start(),
            self._recorder(),
            self._monitor(),
        ):
            self.env.process(process)
        self.env.run(until=self.end)
        return self._result()

    def _market(self) -> Generator[Any, Any, None]:
        for day in range(self.horizon):
            yield self.env.timeout(day - self.env.now)
            self.market_day(day)

    def _competitor(self) -> Generator[Any, Any, None]:
        comp = self.sc.competitor
        if comp.promotion_days == 0 or comp.promotion_discount == 0:
            return
        yield self.env.timeout(comp.promotion_every_days + AT_COMPETITOR)
        while True:
            self.competitor_promo = True
            # A promotion is marketing: it reaches some of the customers who did not know.
            n = self.pop.size
            self.pop.awareness[:n] += comp.promotion_awareness_boost * (1 - self.pop.awareness[:n])
            yield self.env.timeout(comp.promotion_days)
            self.competitor_promo = False
            yield self.env.timeout(comp.promotion_every_days - comp.promotion_days)

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
                self.end.succeed()
                return
            if day == self.horizon - 1:
                self.end.succeed()
                return
            yield self.env.timeout(1)

    def _after(self, delay: float, action: Any, *args: Any) -> None:
        """Run ``action(*args)`` at ``delay`` days from now, at the delivery slot."""

        def process() -> Generator[Any, Any, None]:
            yield self.env.timeout(delay)
            action(*args)

        self.env.process(process())

    # ---------------------------------------------------------------- market day
    def market_day(self, day: int) -> None:
        pop, n = self.pop, self.pop.size
        self.rng.start_day(day)
        self._spend("offer_cost", self.policy.start_of_day(day, pop, self.rng["policy"]))
        self._drift(n)
        financial, visit_multiplier = self.policy.customer_effects(pop)
        self._switching = self.beh.procedural_switching_cost + np.broadcast_to(financial, (n,))
        # Departed customers get rate 0, hence no occasions.
        occasions = poisson_from_uniform(
            pop.visit_rate[:n] * visit_multiplier * pop.active[:n],
            self.rng["arrivals"].random(n, dtype=np.float32),
        )
        shoppers = np.flatnonzero(occasions)
        buyers, rates, rivals = self._choose(day, shoppers, occasions[shoppers], n)
        self._purchase(day, buyers, occasions[buyers], rates)
        self._competitor_purchase(rivals, occasions[rivals])
        self._service(day, buyers, n)
        self._word_of_mouth(n)
        self._followups(day, buyers, n)
        self._defect(day)
        # Newcomers arrive at the end of the day: they neither shop nor leave on day one.
        self._acquire(day)

    def _spend(self, series: str, amount: float) -> None:
        self.today[series] += amount
        self.cash -= amount

    def _drift(self, n: int) -> None:
        """What time alone does: memories fade; attachment decays every day (complacency:
        only exceptional moments, recoveries and follow-ups renew it); follow-up glow
        fades; the competitor's marketing spreads awareness, and unused awareness is
        forgotten."""
        pop = self.pop
        for memory in (
            pop.indifference_memory,
            pop.poor_service_memory,
            pop.unresolved_memory,
            pop.discount_loss,
        ):
            memory[:n] *= self.memory_decay
        pop.attachment[:n] *= self.attachment_decay
        pop.glow[:n] *= self.glow_decay
        w = pop.awareness[:n]
        w *= self.awareness_decay
        w += self.awareness_growth * (1 - w)

    def competitor_price(self) -> float:
        comp = self.sc.competitor
        return comp.price * (1 - comp.promotion_discount) if self.competitor_promo else comp.price

    def price_utility(self, idx: np.ndarray, price: np.ndarray | float) -> np.ndarray:
        """Utility of paying ``price`` for shoppers ``idx``, relative to list price P0:
        a level term plus reference-price gains and larger losses (Kalyanaram & Winer
        1995): ``s (b (P0 - p) + g (R - p)+ - l (p - R)+) / P0``."""
        b, pop, p0 = self.beh, self.pop, self.biz.price
        ref = pop.reference_price[idx]
        gain = np.maximum(ref - price, 0.0)
        loss = np.maximum(price - ref, 0.0)
        level = b.price_weight * (p0 - price)
        return (
            pop.price_sensitivity[idx] * (level + b.gain_weight * gain - b.loss_weight * loss) / p0
        )

    def felt_attachment(self, idx: np.ndarray | slice) -> np.ndarray:
        """Attachment plus the fading glow of follow-ups, kept within 0..1 (a channel's
        effect may be negative: a pushy call)."""
        return np.clip(self.pop.attachment[idx] + self.pop.glow[idx], 0.0, 1.0)

    def switching_cost(self, idx: np.ndarray | slice) -> np.ndarray:
        """Procedural plus financial (points, status) switching cost (Burnham et al. 2003),
        as of the start of today; the relational part is attachment, which enters the
        models on its own."""
        return self._switching[idx]

    def _choose(
        self, day: int, shoppers: np.ndarray, tickets: np.ndarray, n: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Multinomial logit among the business, the competitor (only when it is on the
        customer's mind today, probability W) and not buying (Guadagni & Little 1983)."""
        b, pop = self.beh, self.pop
        u_aware = self.rng["awareness"].random(n, dtype=np.float32)[shoppers]
        u_choice = self.rng["choice"].random(n, dtype=np.float32)[shoppers]
        rates = self.policy.offered(day, pop, shoppers, self.biz.price, tickets)
        personal = np.where(pop.offer_until[shoppers] >= day, pop.offer_rate[shoppers], 0.0)
        rates = np.maximum(rates, personal)
        price = self.biz.price * (1 - rates)
        attach = self.felt_attachment(shoppers)
        deal = pop.deal_proneness[shoppers]
        v_focal = (
            b.focal_constant
            + b.habit_weight * pop.habit[shoppers]
            + b.satisfaction_weight * (pop.satisfaction[shoppers] - 0.5)
            + b.attachment_weight * attach
            + b.switching_cost_weight * self.switching_cost(shoppers)
            + self.price_utility(shoppers, price)
            + b.deal_weight * deal * (rates > 0)
        )
        comp_price = self.competitor_price()
        v_rival = (
            b.competitor_constant
            + self.price_utility(shoppers, comp_price)
            + b.deal_weight * deal * self.competitor_promo
        )
        e_focal = np.exp(v_focal)
        e_rival = np.where(u_aware < pop.awareness[shoppers], np.exp(v_rival), 0.0)
        total = 1.0 + e_focal + e_rival
        self._count_demand(shoppers, tickets, rates, price, v_focal, e_focal, e_rival, total)
        to_focal = u_choice < e_focal / total
        to_rival = ~to_focal & (u_choice < (e_focal + e_rival) / total)
        return shoppers[to_focal], rates[to_focal], shoppers[to_rival]

    def _count_demand(
        self,
        shoppers: np.ndarray,
        tickets: np.ndarray,
        rates: np.ndarray,
        price: np.ndarray,
        v_focal: np.ndarray,
        e_focal: np.ndarray,
        e_rival: np.ndarray,
        total: np.ndarray,
    ) -> None:
        """Expected tickets at the offered prices and, for the same shoppers, at list
        price: their ratio is the lift the discount buys from today's customers (the
        monitor compares it with the d / (m - d) a discount needs). Retention and
        acquisition gains come on top, and show in the paired comparison with the base."""
        expected = e_focal / total
        demand = float(np.einsum("i,i->", expected, tickets))
        self.today["demand"] += demand
        # Only the discounted shoppers' demand changes at list price.
        off = np.flatnonzero(rates > 0)
        if len(off):
            idx = shoppers[off]
            v_list = (
                v_focal[off]
                - self.price_utility(idx, price[off])
                + self.price_utility(idx, self.biz.price)
                - self.beh.deal_weight * self.pop.deal_proneness[idx]
            )
            e_list = np.exp(v_list)
            change = e_list / (1.0 + e_list + e_rival[off]) - expected[off]
            demand += float(np.einsum("i,i->", change, tickets[off]))
        self.today["demand_at_list"] += demand

    def _purchase(self, day: int, idx: np.ndarray, tickets: np.ndarray, rates: np.ndarray) -> None:
        b, pop, p0 = self.beh, self.pop, self.biz.price
        paid_each = p0 * (1 - rates)
        paid = paid_each * tickets
        revenue = float(paid.sum())
        list_revenue = float(tickets.sum()) * p0
        cogs = float(tickets.sum()) * self.biz.unit_cost
        t = self.today
        t["purchases"] += float(tickets.sum())
        t["discounted_purchases"] += float(tickets[rates > 0].sum())
        t["list_revenue"] += list_revenue
        t["revenue"] += revenue
        t["discount_cost"] += list_revenue - revenue
        t["cost_of_goods"] += cogs
        t["gross_profit"] += revenue - cogs
        self.cash += revenue - cogs
        # Price memory: the reference price moves towards what was paid (Kalyanaram &
        # Winer 1995), so frequent discounts teach customers to expect them.
        a = b.reference_price_memory
        # A one-off reward is a gift, not a price: the price remembered is the list price.
        remembered = p0 if self.policy.one_off_rewards else paid_each
        pop.reference_price[idx] = a * pop.reference_price[idx] + (1 - a) * remembered
        pop.habit[idx] += b.habit_learning * (1 - pop.habit[idx])
        # A deal withdrawn is felt as a loss by the deal-prone (cause `discount_ended`). A
        # reward (points) is a one-off, not a standing deal: it neither sets the price a
        # customer is used to nor is missed when it has been spent.
        if not self.policy.one_off_rewards:
            withdrawn = np.maximum(pop.last_discount[idx] - rates, 0.0)
            pop.discount_loss[idx] += b.discount_loss_weight * withdrawn * pop.deal_proneness[idx]
            pop.last_discount[idx] = rates
        seen = pop.last_visit[idx] != NEVER
        gap = (day - pop.last_visit[idx].astype(np.int64)).astype(float)
        pop.usual_gap[idx] = np.where(
            seen, 0.8 * pop.usual_gap[idx] + 0.2 * gap, pop.usual_gap[idx]
        )
        pop.last_visit[idx] = day
        pop.visits[idx] += tickets.astype(np.int32)
        pop.spend[idx] += paid
        pop.contribution[idx] += paid - tickets * self.biz.unit_cost
        self.policy.after_purchase(day, pop, idx, rates, paid)

    def _competitor_purchase(self, idx: np.ndarray, tickets: np.ndarray) -> None:
        b, pop = self.beh, self.pop
        self.today["competitor_purchases"] += float(tickets.sum())
        a = b.reference_price_memory
        pop.reference_price[idx] = a * pop.reference_price[idx] + (1 - a) * self.competitor_price()
        pop.habit[idx] *= 1 - b.habit_learning

    def _service(self, day: int, idx: np.ndarray, n: int) -> None:
        """One service experience per buying day: quality plus events, satisfaction by
        asymmetric disconfirmation (Oliver 1980; Anderson & Sullivan 1993), adaptive
        expectations (Rust & Oliver 2000), attachment moved by events, and complaints."""
        b, biz, pop = self.beh, self.biz, self.pop
        u = self.rng["service"].random(n, dtype=np.float32)[idx]
        # Normal noise by inverting the CDF of a uniform, only for today's buyers: one
        # draw per customer keeps common random numbers, at a fifth of the cost of
        # drawing a normal for everyone.
        z = ndtri(np.clip(self.rng["quality"].random(n, dtype=np.float32)[idx], 1e-7, 1 - 1e-7))
        indifferent = u < biz.staff_indifference
        poor = (u >= biz.staff_indifference) & (u < biz.staff_indifference + biz.poor_service)
        exceptional = u >= 1.0 - biz.exceptional_service
        quality = np.clip(
            biz.service_quality
            + pop.quality_offset[idx]
            + b.quality_noise * z
            - b.indifference_drop * indifferent
            - b.poor_service_drop * poor
            + b.exceptional_boost * exceptional,
            0.0,
            1.0,
        )
        gap = quality - pop.expectation[idx]
        felt = np.clip(
            quality
            + b.disconfirmation_weight
            * (np.maximum(gap, 0) - b.shortfall_asymmetry * np.maximum(-gap, 0)),
            0.0,
            1.0,
        )
        before = pop.satisfaction[idx].copy()
        pop.satisfaction[idx] += b.satisfaction_smoothing * (felt - before)
        pop.expectation[idx] += b.expectation_learning * (quality - pop.expectation[idx])
        a = pop.attachment[idx]
        a += b.exceptional_attachment * (1 - a) * exceptional
        a -= b.indifference_attachment * a * indifferent + b.poor_service_attachment * a * poor
        pop.attachment[idx] = a
        pop.indifference_memory[idx] += indifferent
        pop.poor_service_memory[idx] += poor
        pop.ever_exceptional[idx] |= exceptional
        pop.ever_indifference[idx] |= indifferent
        bad = poor | (felt < b.bad_experience_threshold)
        self._complaints(idx[bad], before[bad], n)

    def _complaints(self, idx: np.ndarray, satisfaction_before: np.ndarray, n: int) -> None:
        """Few unhappy customers complain (TARP: 1 in 4 to 1 in 27); attached customers
        voice, detached ones exit (Hirschman 1970), so the chance rises with attachment."""
        b, pop = self.beh, self.pop
        pop.failures[idx] += 1
        u = self.rng["complaints"].random(n, dtype=np.float32)[idx]
        attach = self.felt_attachment(idx)
        voiced = u < np.minimum(b.complaint_probability * 2 * attach, 1.0)
        silent = idx[~voiced]
        pop.recovery[silent] = np.where(
            pop.recovery[silent] == RECOVERY_NONE, RECOVERY_SILENT, pop.recovery[silent]
        )
        pending = pop.recovery[idx] == RECOVERY_PENDING
        complained = idx[voiced & ~pending]
        pop.satisfaction_before_failure[complained] = satisfaction_before[voiced & ~pending]
        self.today["complaints"] += len(complained)
        self.start_recovery(complained)

    def start_recovery(self, idx: np.ndarray, complained: bool = True) -> None:
        """The business knows of the problem: it resolves it (or not) after a delay.

        ``complained`` is False when the business found the problem itself (a call): a
        fix it then fails to make leaves the customer as they were, whereas a complaint
        left unresolved is an injury of its own.
        """
        if len(idx) == 0:
            return
        pop, biz = self.pop, self.biz
        pop.known_unhappy[idx] = True
        if complained:  # a call is not a complaint: the complaint history stays as it was
            pop.recovery[idx] = RECOVERY_PENDING
        draws = self.rng["complaints"].random((2, len(idx)))
        resolved = draws[0] < biz.complaint_resolution_rate
        delay = np.ceil(-biz.complaint_resolution_days * np.log1p(-draws[1]))
        for d in np.unique(delay):
            group = delay == d
            # Due d days after today, at the delivery slot, whenever today it is called.
            wait = d + AT_DELIVERY - self.env.now % 1.0
            self._after(wait, self._resolve, idx[group], resolved[group], float(d), complained)

    def _resolve(
        self, idx: np.ndarray, resolved: np.ndarray, delay: float, complained: bool = True
    ) -> None:
        """The recovery ladder (de Matos et al. 2007): a quick fix of a first failure can
        leave the customer slightly happier than before (the recovery paradox); a second
        failure never does; an unresolved complaint hurts more than the failure itself."""
        b, pop = self.beh, self.pop
        idx, resolved = idx[pop.active[idx]], resolved[pop.active[idx]]
        # An unresolved complaint leaves a customer the business knows to be unhappy.
        pop.known_unhappy[idx] = ~resolved
        fixed, unfixed = idx[resolved], idx[~resolved]
        restore = pop.satisfaction_before_failure[fixed]
        if delay <= b.quick_resolution_days:
            first = pop.failures[fixed] == 1
            target = np.where(first, restore + b.recovery_bonus, restore)
            now = pop.satisfaction[fixed]
            pop.satisfaction[fixed] = np.clip(
                np.where(first, np.maximum(now, target), now + 0.5 * np.maximum(target - now, 0)),
                0,
                1,
            )
            pop.attachment[fixed] += b.recovery_attachment * (1 - pop.attachment[fixed])
            # The failure is fixed: its grievance (one unit of memory) is gone.
            pop.poor_service_memory[fixed] = np.maximum(pop.poor_service_memory[fixed] - 1, 0)
            pop.recovery[fixed] = RECOVERY_RESOLVED_QUICKLY
        else:
            now = pop.satisfaction[fixed]
            pop.satisfaction[fixed] = now + 0.3 * np.maximum(restore - now, 0)
            # Fixed, but late: half the grievance stays.
            pop.poor_service_memory[fixed] = np.maximum(pop.poor_service_memory[fixed] - 0.5, 0)
            pop.recovery[fixed] = RECOVERY_RESOLVED
        # A call that fails to fix things leaves the customer as they were: nothing had
        # been asked of the business, so nothing was refused.
        if complained:
            pop.unresolved_memory[unfixed] += 1.0
            pop.attachment[unfixed] *= 1 - b.unresolved_attachment
            pop.satisfaction[unfixed] = np.maximum(pop.satisfaction[unfixed] - 0.05, 0)
            pop.recovery[unfixed] = RECOVERY_UNRESOLVED

    def _word_of_mouth(self, n: int) -> None:
        """Delighted customers refer prospects; unhappy ones, and resentful hostages (high
        switching cost, low satisfaction), warn others: the warnings lower prospects'
        conversion and make customers aware of the competitor (Anderson 1998; East et
        al. 2007)."""
        b, pop, rng = self.beh, self.pop, self.rng["word_of_mouth"]
        active = pop.active[:n]
        s = pop.satisfaction[:n]
        delighted = int(np.count_nonzero(active & (s >= b.delighted_threshold)))
        unhappy = active & (s < b.dissatisfied_threshold)
        hostages = unhappy & (self.switching_cost(slice(0, n)) > 2 * b.procedural_switching_cost)
        # Hostages talk twice as much: they feel trapped as well as let down.
        talkers = int(np.count_nonzero(unhappy)) + int(np.count_nonzero(hostages))
        positive = rng.poisson(b.positive_mentions_per_month / DAYS_PER_MONTH * delighted)
        negative = rng.poisson(b.negative_mentions_per_month / DAYS_PER_MONTH * talkers)
        self.today["positive_mentions"] += positive
        self.today["negative_mentions"] += negative
        n_active = max(int(np.count_nonzero(active)), 1)
        per_month = negative / n_active * DAYS_PER_MONTH
        self.recent_warnings = (
            self.memory_decay * self.recent_warnings + (1 - self.memory_decay) * per_month
        )
        if negative:
            # Warnings reach people around the business: those who are customers learn
            # of the competitor; those who left already are past caring.
            heard = rng.integers(0, n, negative)
            heard = heard[active[heard]]
            pop.awareness[heard] += b.negative_awareness_effect * (1 - pop.awareness[heard])
        self.referral_prospects = positive

    def _followups(self, day: int, buyers: np.ndarray, n: int) -> None:
        f, ch = self.followup, self.channel
        if f.kind == "none":
            return
        month = int(day // DAYS_PER_MONTH)
        if month != self.followup_month:
            self.followup_month, self.followup_spent = month, 0.0
        u = self.rng["followups"].random(n, dtype=np.float32)
        chosen = select_contacts(
            f, day, self.pop, buyers, u, f.monthly_budget - self.followup_spent, ch.cost
        )
        if len(chosen) == 0:
            return
        cost = len(chosen) * ch.cost
        self.followup_spent += cost
        self._spend("followup_cost", cost)
        self.pop.last_contact[chosen] = day
        reached = chosen[self.rng["followups"].random(len(chosen)) < ch.reach]
        self._after(f.delay_days + AT_DELIVERY, self._deliver, reached)

    def _deliver(self, idx: np.ndarray) -> None:
        """A contact lands: a small lift in satisfaction, a fading glow of attachment; a
        channel that hears back (a call) finds the silently unhappy and starts recovery."""
        ch, pop = self.channel, self.pop
        idx = idx[pop.active[idx]]
        self.today["followups_reached"] += len(idx)
        pop.satisfaction[idx] = np.clip(pop.satisfaction[idx] + ch.satisfaction_effect, 0, 1)
        pop.glow[idx] += ch.attachment_effect
        if ch.hears_back:
            # It finds the silently unhappy, and those whose complaint went unresolved.
            unhappy = idx[
                ((pop.satisfaction[idx] < self.beh.dissatisfied_threshold) | pop.known_unhappy[idx])
                & (pop.recovery[idx] != RECOVERY_PENDING)
            ]
            pop.satisfaction_before_failure[unhappy] = np.maximum(
                pop.satisfaction[unhappy], self.sc.business.service_quality
            )
            self.start_recovery(unhappy, complained=False)

    def _acquire(self, day: int) -> None:
        """Paid prospects convert at a rate that discounts raise (more so for the
        deal-prone: Lewis 2006) and warnings lower; referred prospects come free."""
        b, biz, rng = self.beh, self.biz, self.rng["acquisition"]
        discount = self.policy.prospect_discount(day)
        pull = 1 + b.deal_attraction * discount * self.segment_deal
        warned = float(np.exp(-b.negative_conversion_effect * self.recent_warnings))
        prospects = rng.poisson(biz.prospects_per_month / DAYS_PER_MONTH)
        self._spend("acquisition_cost", prospects * biz.cost_per_prospect)
        seg = draw_segments(rng, self.segment_shares, prospects)
        converted = seg[
            rng.random(prospects) < np.minimum(biz.prospect_conversion * pull[seg] * warned, 1)
        ]
        referrals = int(rng.binomial(self.referral_prospects, b.referral_conversion))
        ref_seg = draw_segments(rng, self.segment_shares, referrals)
        new = add_customers(self.pop, self.sc, converted, day, ORIGIN_PAID, rng)
        self.pop.won_on_deal[new] = discount > 0
        add_customers(self.pop, self.sc, ref_seg, day, ORIGIN_REFERRAL, rng)
        self.today["acquired"] += len(converted) + referrals
        self.today["referred"] += referrals

    def _defect(self, day: int) -> None:
        """Competing risks (per year), all damped by attachment and switching cost, only
        weakly by satisfaction: satisfied customers still leave (Jones & Sasser 1995). The
        recorded cause is drawn in proportion to the cause-specific hazards."""
        pop, n = self.pop, self.pop.size
        u = self.rng["churn"].random(n)
        # Whole columns (views), masked by `active` at the end: cheaper than gathering.
        cols = slice(0, n)
        total = sum(self._cause_hazards(cols), np.zeros(n, np.float32))
        leave_p = -np.expm1(-self._protection(cols) * total / DAYS_PER_YEAR)
        leaving = pop.active[:n] & (u < leave_p)
        if not leaving.any():
            return
        who = np.flatnonzero(leaving)
        hazards = np.stack(np.broadcast_arrays(*self._cause_hazards(who)))
        # Given that u < p, u / p is uniform on (0, 1): reuse it to pick the cause.
        position = u[who] / leave_p[who] * hazards.sum(axis=0)
        cause = (np.cumsum(hazards, axis=0) < position).sum(axis=0)
        cause = np.minimum(cause, len(CAUSES) - 1)
        pop.active[who] = False
        pop.left[who] = day
        self.today["churned"] += len(who)
        rec = self.defections
        rec["day"].append(np.full(len(who), day))
        rec["customer"].append(who)
        rec["segment"].append(pop.segment[who].copy())
        rec["cause"].append(cause)
        rec["satisfaction"].append(pop.satisfaction[who].copy())
        rec["attachment"].append(pop.attachment[who].copy())
        rec["tenure_days"].append(day - pop.joined[who])

    def _protection(self, idx: np.ndarray | slice) -> np.ndarray:
        """Multiplier of every cause's hazard: attachment and switching cost protect;
        satisfaction only a little."""
        b, pop = self.beh, self.pop
        attach = self.felt_attachment(idx)
        return np.exp(
            -b.attachment_protection * attach
            - b.switching_cost_protection * self.switching_cost(idx)
            + b.satisfaction_hazard_weight * (SATISFIED - pop.satisfaction[idx])
        )

    def _cause_hazards(self, idx: np.ndarray | slice) -> list[Any]:
        """Cause-specific hazards per year, one entry per CAUSES ("other" is a scalar)."""
        b, pop = self.beh, self.pop
        usual_price = self.biz.price * (1 - pop.last_discount[idx])
        advantage = (usual_price - self.competitor_price()) / self.biz.price
        pull = pop.awareness[idx] * np.exp(b.price_weight * pop.price_sensitivity[idx] * advantage)
        if self.competitor_promo:
            pull *= 1 + pop.deal_proneness[idx]
        return [
            b.indifference_hazard * pop.indifference_memory[idx],
            b.poor_service_hazard * pop.poor_service_memory[idx],
            b.competitor_hazard * pull,
            b.unresolved_hazard * pop.unresolved_memory[idx],
            b.discount_ended_hazard * pop.discount_loss[idx],
            np.float32(b.other_hazard),
        ]

    # ------------------------------------------------------------------ records
    def _record(self, day: int) -> None:
        pop, n = self.pop, self.pop.size
        active = pop.active[:n]
        count = int(np.count_nonzero(active))
        t = self.today
        t["customers"] = count
        t["cash"] = self.cash
        t["points_liability"] = self.policy.liability(pop)
        weight = active / max(count, 1)

        def mean(column: np.ndarray) -> float:
            # einsum, not a BLAS dot: a threaded BLAS sums in an order that depends on
            # the thread count, and results must not depend on the machine's load.
            return float(np.einsum("i,i->", weight, column))

        t["mean_satisfaction"] = mean(pop.satisfaction[:n])
        t["mean_attachment"] = mean(self.felt_attachment(slice(0, n)))
        t["mean_competitor_awareness"] = mean(pop.awareness[:n])
        t["mean_reference_price"] = mean(pop.reference_price[:n])
        t["won_back"] = float(
            np.count_nonzero(pop.joined[:n][pop.origin[:n] == ORIGIN_WIN_BACK] == day)
        )
        t["acquired"] += t["won_back"]
        for name in DAILY_SERIES:
            self.daily[name][day] = t[name]
            t[name] = 0.0

    def _result(self) -> RunResult:
        if self.ruin_day is not None:
            # The business is closed after ruin: no flows, stocks frozen at their last level.
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
            customers = {name: getattr(self.pop, name)[:n].copy() for name in CUSTOMER_FIELDS}
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
    return Simulation(scenario, replication, root_seed, variant, keep_customers).run()


__all__ = [
    "RECOVERY_NONE",
    "RECOVERY_PENDING",
    "RECOVERY_RESOLVED",
    "RECOVERY_RESOLVED_QUICKLY",
    "RECOVERY_SILENT",
    "RECOVERY_UNRESOLVED",
    "Simulation",
    "simulate",
]
