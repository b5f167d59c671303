"""Word of mouth, hostages' resentment, and the business's follow-up contacts."""

from __future__ import annotations

import numpy as np

from loyaltysim.followups import select_contacts
from loyaltysim.followups.strategy import KINDS
from loyaltysim.model.base import AT_DELIVERY, DAYS_PER_MONTH, SimulationBase
from loyaltysim.model.population import RECOVERY_PENDING


class ContactMixin(SimulationBase):
    def _word_of_mouth(self, n: int) -> None:
        """Delighted customers refer prospects; unhappy ones warn others, and the more
        switching cost holds them the more they resent it and talk (hostages: Jones &
        Sasser 1995; Burnham et al. 2003): ``1 + hostage_mention_factor x SC`` times as
        often. The warnings lower prospects' conversion and make customers aware of the
        competitor (Anderson 1998; East et al. 2007). A hostage's resentment builds by
        its switching cost for every month it stays unhappy (the hazard of §3.11, held
        back by that same switching cost, so it is released when the cost drops)."""
        b, pop, rng, act = self.beh, self.pop, self.rng["word_of_mouth"], self.act
        active = pop.active[:n]
        if self.dense:  # masks over the whole column: cheaper than gathering most of it
            s = pop.satisfaction[:n]
            delighted = int(np.count_nonzero((s >= b.delighted_threshold) & active))
            unhappy = ((s < b.dissatisfied_threshold) & active).nonzero()[0]
        else:
            s = pop.satisfaction[act]
            delighted = int(np.count_nonzero(s >= b.delighted_threshold))
            unhappy = act[s < b.dissatisfied_threshold]
        held = self.switching_cost(unhappy)
        pop.resentment[unhappy] += held / np.float32(DAYS_PER_MONTH)
        each = 1 + b.hostage_mention_factor * held
        if np.ndim(each):
            talkers = float(each.sum(dtype=np.float64))
        else:  # k equal float32 values: their float64 sum is exact, so it is k times one
            talkers = float(np.float64(each) * len(unhappy))
        positive = rng.poisson(b.positive_mentions_per_month / DAYS_PER_MONTH * delighted)
        negative = rng.poisson(b.negative_mentions_per_month / DAYS_PER_MONTH * talkers)
        self.today["positive_mentions"] += positive
        self.today["negative_mentions"] += negative
        n_active = max(len(act), 1)
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
        # The order of a budget cut: each candidate's own number (the candidates are the
        # only rows select_contacts reads it at; the rest of the row is never touched).
        candidates = KINDS[f.kind](f, day, self.pop, buyers)
        u = np.zeros(n, np.float32)
        u[candidates] = self.rng.uniform("followups", day, candidates)
        chosen = select_contacts(
            f, day, self.pop, buyers, u, f.monthly_budget - self.followup_spent, ch.cost
        )
        if len(chosen) == 0:
            return
        cost = len(chosen) * ch.cost
        self.followup_spent += cost
        self.spend("followup_cost", cost)
        self.pop.last_contact[chosen] = day
        reached = chosen[self.rng.uniform("followups", day, chosen, 1) < ch.reach]
        self._after(f.delay_days + AT_DELIVERY, self._deliver, reached)

    def _deliver(self, idx: np.ndarray) -> None:
        """A contact lands: a small lift in satisfaction, a fading glow of attachment; a
        channel that hears back (a call) finds the silently unhappy (felt satisfaction
        below ``dissatisfied_threshold``, whether or not they ever complained or answered
        a survey) and starts recovery, as a complaint would."""
        ch, pop = self.channel, self.pop
        idx = idx[pop.active[idx]]
        self.today["followups_reached"] += len(idx)
        felt = pop.satisfaction[idx] + ch.satisfaction_effect
        pop.satisfaction[idx] = np.minimum(np.maximum(felt, 0), 1)
        pop.glow[idx] += ch.attachment_effect
        if ch.hears_back:
            # It finds the silently unhappy, and those whose complaint went unresolved.
            unhappy = idx[
                ((pop.satisfaction[idx] < self.beh.dissatisfied_threshold) | pop.known_unhappy[idx])
                & (pop.recovery[idx] != RECOVERY_PENDING)
            ]
            silent = unhappy[~pop.known_unhappy[unhappy]]
            self.today["calls_found_unhappy"] += len(silent)
            pop.satisfaction_before_failure[unhappy] = np.maximum(
                pop.satisfaction[unhappy], self.sc.business.service_quality
            )
            self.start_recovery(unhappy, complained=False)  # type: ignore[attr-defined]
