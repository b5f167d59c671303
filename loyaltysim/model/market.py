"""The market: purchase occasions, prices, the choice of store, purchases and acquisition."""

from __future__ import annotations

import numpy as np

from loyaltysim.model.base import DAYS_PER_MONTH, SimulationBase
from loyaltysim.model.customers import add_customers, draw_segments
from loyaltysim.model.population import NEVER, ORIGIN_PAID, ORIGIN_REFERRAL
from loyaltysim.rng import CHUNK


def poisson_from_uniform(rate: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Poisson counts by inverting the CDF at ``u``: one uniform per customer, so a
    customer's draw does not depend on anyone else's (common random numbers survive a
    variant that changes other customers' rates)."""
    k = np.zeros(len(rate), np.int64)
    idx, counts = poisson_hits(rate, u)
    k[idx] = counts
    return k


def poisson_hits(rate: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions where :func:`poisson_from_uniform` is at least one, in order, and
    its counts there: a day's shoppers without a second pass over every customer."""
    idx, lam, ui, p = _first_hits(rate, u)
    return idx, _hit_counts(lam, ui, p)


def _first_hits(
    rate: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The positions with at least one occasion (``u > exp(-rate)``), and there the
    rate, the uniform and ``exp(-rate)``: what :func:`_hit_counts` needs of them."""
    p = np.negative(rate)
    np.exp(p, out=p)  # exp(-rate), in the negation's array
    idx = (u > p).nonzero()[0]
    return idx, rate[idx], u[idx], p[idx]


def _hit_counts(lam: np.ndarray, ui: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The counts (at least one) where ``ui > p = exp(-lam)``: the CDF's further terms.
    Once ``ui`` is within the CDF it stays there (the CDF only grows), so each term is
    taken only for the rows still beyond it."""
    cdf = p.copy()
    # Enough terms for the largest rate (mean + 10 sd); the loop stops early anyway.
    top = float(lam.max(initial=0.0))
    terms = int(np.ceil(top + 10 * np.sqrt(top) + 10))
    counts = np.ones(len(lam), dtype=np.int64)
    rows = np.arange(len(lam))
    for j in range(1, terms):
        p = p * lam / j
        cdf += p
        beyond = (ui > cdf).nonzero()[0]
        if len(beyond) == 0:
            break
        rows, lam, ui, p, cdf = rows[beyond], lam[beyond], ui[beyond], p[beyond], cdf[beyond]
        counts[rows] += 1
    return counts


class MarketMixin(SimulationBase):
    def _shoppers(self, day: int, multiplier: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Today's shoppers (rows, in order) and their purchase occasions: Poisson at each
        active customer's visit rate times the policy's ``multiplier`` (one per row, or
        one for all). A block of customers at a time: small work arrays that stay in the
        cache, not several fresh arrays of every customer each day (the same numbers:
        each customer's rate and uniform are its own)."""
        pop, act = self.pop, self.act
        parts = []
        for start in range(0, max(len(act), 1), CHUNK):
            ids = act[start : start + CHUNK]
            rate = pop.visit_rate[ids]
            if np.ndim(multiplier):
                rate *= np.asarray(multiplier)[ids]
            else:
                rate *= np.float32(multiplier)
            hit, lam, ui, p = _first_hits(rate, self.rng.uniform("arrivals", day, ids))
            parts.append((ids[hit], lam, ui, p))
        shoppers, lam, ui, p = (np.concatenate(column) for column in zip(*parts, strict=True))
        return shoppers, _hit_counts(lam, ui, p)

    def price_utility(
        self,
        idx: np.ndarray,
        price: np.ndarray | float,
        sensitivity: np.ndarray,
        rival: bool = False,
    ) -> np.ndarray:
        """Utility of paying ``price`` at one store, for shoppers ``idx`` (their price
        ``sensitivity``, gathered once by the caller).

        A level term against the reservation price P* (what a ticket is worth, at either
        store), so buying at all answers to the price level, plus gains and larger losses
        against the price the customer is used to *at that store* (Kalyanaram & Winer
        1995): ``s (b (P* - p) + g (R_j - p)+ - l (p - R_j)+) / P*``.
        """
        b, pop = self.beh, self.pop
        worth = self.biz.reservation_price
        ref = (pop.rival_reference_price if rival else pop.reference_price)[idx]
        gain = np.maximum(ref - price, 0.0)
        loss = np.maximum(price - ref, 0.0)
        level = b.price_weight * (worth - price)
        return sensitivity * (level + b.gain_weight * gain - b.loss_weight * loss) / worth

    def _choose(
        self, day: int, shoppers: np.ndarray, tickets: np.ndarray, n: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Multinomial logit among the business, the competitor (only when it is on the
        customer's mind today, probability W) and not buying (Guadagni & Little 1983).

        Returns the buyers, their rates of discount, the competitor's buyers, and each
        group's tickets."""
        b, pop = self.beh, self.pop
        u_aware, u_choice = self.rng.uniforms((("awareness", 0), ("choice", 0)), day, shoppers)
        # Personal offers (offer_until, offer_rate) are the win-back policy's, and its
        # offered() is that offer: the policy's rates are the rates.
        rates = self.policy.offered(day, pop, shoppers, self.biz.price, tickets)
        price = self.biz.price * (1 - rates)
        discounted = rates > 0
        attach = self.felt_attachment(shoppers)
        deal = pop.deal_proneness[shoppers]
        sens = pop.price_sensitivity[shoppers]
        v_focal = (
            b.focal_constant
            + b.habit_weight * pop.habit[shoppers]
            + b.satisfaction_weight * (pop.satisfaction[shoppers] - b.satisfaction_utility_centre)
            + b.attachment_weight * attach
            + b.switching_cost_weight * self.switching_cost(shoppers)
            + self.price_utility(shoppers, price, sens)
            + b.deal_weight * deal * discounted
        )
        comp_price = self.competitor_price()
        v_rival = (
            b.competitor_constant
            + self.price_utility(shoppers, comp_price, sens, rival=True)
            + b.deal_weight * deal * self.competitor_promo
        )
        e_focal = np.exp(v_focal)
        e_rival = np.where(u_aware < pop.awareness[shoppers], np.exp(v_rival), 0.0)
        total = 1.0 + e_focal + e_rival
        expected = e_focal / total
        self._count_demand(
            shoppers, tickets, discounted, price, v_focal, expected, e_rival, sens, deal
        )
        to_focal = u_choice < expected
        to_rival = ~to_focal & (u_choice < (e_focal + e_rival) / total)
        # Positions, not masks: a mask that is hard to predict indexes several times
        # slower than the positions it selects, and each mask indexes more than once.
        focal, rival = to_focal.nonzero()[0], to_rival.nonzero()[0]
        return shoppers[focal], rates[focal], shoppers[rival], tickets[focal], tickets[rival]

    def _count_demand(
        self,
        shoppers: np.ndarray,
        tickets: np.ndarray,
        discounted: np.ndarray,
        price: np.ndarray,
        v_focal: np.ndarray,
        expected: np.ndarray,
        e_rival: np.ndarray,
        sens: np.ndarray,
        deal: np.ndarray,
    ) -> None:
        """Expected tickets at the offered prices (``expected``: the focal choice's
        probability) and, for the same shoppers, at list price: their ratio is the lift
        the discount buys from today's customers (the monitor compares it with the
        d / (m - d) a discount needs). Retention and acquisition gains come on top, and
        show in the paired comparison with the base."""
        demand = float(np.einsum("i,i->", expected, tickets))
        self.today["demand"] += demand
        # Only the discounted shoppers' demand changes at list price.
        off = discounted.nonzero()[0]
        if len(off):
            idx, s = shoppers[off], sens[off]
            v_list = (
                v_focal[off]
                - self.price_utility(idx, price[off], s)
                + self.price_utility(idx, self.biz.price, s)
                - self.beh.deal_weight * deal[off]
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
        sold = float(tickets.sum())  # once: the same sum three figures use
        list_revenue = sold * p0
        cogs = sold * self.biz.unit_cost
        t = self.today
        t["purchases"] += sold
        t["discounted_purchases"] += float(tickets[rates > 0].sum())
        t["list_revenue"] += list_revenue
        t["revenue"] += revenue
        t["discount_cost"] += list_revenue - revenue
        t["cost_of_goods"] += cogs
        t["gross_profit"] += revenue - cogs
        self.cash += revenue - cogs
        # Price memory: the reference price at this store moves towards what was paid
        # (Kalyanaram & Winer 1995), so frequent discounts teach customers to expect them.
        a = b.reference_price_memory
        # A one-off reward is a gift, not a price: the price remembered is the list price.
        remembered = p0 if self.policy.one_off_rewards else paid_each
        pop.reference_price[idx] = a * pop.reference_price[idx] + (1 - a) * remembered
        habit = pop.habit[idx]  # each column gathered once, written back once
        habit += b.habit_learning * (1 - habit)
        pop.habit[idx] = habit
        # A deal withdrawn is felt as a loss by the deal-prone (cause `discount_ended`). A
        # reward (points) is a one-off, not a standing deal: it neither sets the price a
        # customer is used to nor is missed when it has been spent.
        if not self.policy.one_off_rewards:
            withdrawn = np.maximum(pop.last_discount[idx] - rates, 0.0)
            pop.discount_loss[idx] += b.discount_loss_weight * withdrawn * pop.deal_proneness[idx]
            pop.last_discount[idx] = rates
        last = pop.last_visit[idx]
        gap = (day - last.astype(np.int64)).astype(float)
        w, usual = b.visit_gap_smoothing, pop.usual_gap[idx]
        pop.usual_gap[idx] = np.where(last != NEVER, (1 - w) * usual + w * gap, usual)
        pop.last_visit[idx] = day
        pop.visits[idx] += tickets.astype(np.int32)
        pop.spend[idx] += paid
        # RFM within the run (one call per market day, so each call is one buying day):
        # a buyer with a first purchase already makes a repeat purchase today.
        first = pop.first_purchase[idx]
        repeat = first >= 0
        pop.repeat_days[idx] += repeat
        pop.repeat_spend[idx] += np.where(repeat, paid, 0.0)
        pop.first_purchase[idx] = np.where(repeat, first, day)
        pop.contribution[idx] += paid - tickets * self.biz.unit_cost
        self.policy.after_purchase(day, pop, idx, rates, paid)

    def _competitor_purchase(self, idx: np.ndarray, tickets: np.ndarray) -> None:
        b, pop = self.beh, self.pop
        self.today["competitor_purchases"] += float(tickets.sum())
        a = b.reference_price_memory
        pop.rival_reference_price[idx] = (
            a * pop.rival_reference_price[idx] + (1 - a) * self.competitor_price()
        )
        pop.habit[idx] *= 1 - b.habit_learning

    def _acquire(self, day: int) -> None:
        """Paid prospects convert at a rate that discounts raise (more so for the
        deal-prone: Lewis 2006) and warnings lower; referred prospects come free."""
        b, biz, rng = self.beh, self.biz, self.rng["acquisition"]
        discount = self.policy.prospect_discount(day)
        pull = 1 + b.deal_attraction * discount * self.segment_deal
        warned = float(np.exp(-b.negative_conversion_effect * self.recent_warnings))
        prospects = rng.poisson(biz.prospects_per_month / DAYS_PER_MONTH)
        self.spend("acquisition_cost", prospects * biz.cost_per_prospect)
        seg = draw_segments(rng, self.segment_shares, prospects, self.segment_cdf)
        converted = seg[
            rng.random(prospects) < np.minimum(biz.prospect_conversion * pull[seg] * warned, 1)
        ]
        referrals = int(rng.binomial(self.referral_prospects, b.referral_conversion))
        ref_seg = draw_segments(rng, self.segment_shares, referrals, self.segment_cdf)
        new = add_customers(
            self.pop, self.sc, converted, day, ORIGIN_PAID, rng, table=self.segment_traits
        )
        self.pop.won_on_deal[new] = discount > 0
        add_customers(
            self.pop, self.sc, ref_seg, day, ORIGIN_REFERRAL, rng, table=self.segment_traits
        )
        self.today["acquired"] += len(converted) + referrals
        self.today["referred"] += referrals
