"""Defection: competing risks, each damped by attachment and switching cost."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from loyaltysim.model.base import DAYS_PER_YEAR, SimulationBase
from loyaltysim.model.population import NO_ANSWER, RECOVERY_PENDING, ensure_record_room
from loyaltysim.model.result import CAUSES

ROW_BLOCK = 32768  # rows of the leave probability at a time (see _leavers)


class DefectionMixin(SimulationBase):
    def _defect(self, day: int) -> None:
        """Competing risks (per year), all damped by attachment and switching cost, only
        weakly by satisfaction: satisfied customers still leave (Jones & Sasser 1995). The
        recorded cause is drawn in proportion to the cause-specific hazards."""
        pop = self.pop
        who, u, leave_p = self._leavers(day)
        if len(who) == 0:
            return
        # The leavers' cause hazards: the same arithmetic as the day's total, for them.
        # Filled row by row: np.stack(np.broadcast_arrays(...))'s values in its dtype,
        # without its Python-level broadcasting machinery (a few leavers a day).
        parts = self._cause_hazards(who)
        hazards = np.empty((len(parts), len(who)), np.result_type(*parts))
        for row, part in zip(hazards, parts, strict=True):
            row[...] = part
        # Given that u < p, u / p is uniform on (0, 1): reuse it to pick the cause.
        position = u / leave_p * hazards.sum(axis=0)
        cause = (hazards.cumsum(axis=0) < position).sum(axis=0)
        cause = np.minimum(cause, len(CAUSES) - 1)
        rec = self.defections
        ensure_record_room(self.sc, self.defection_records, len(who), day)
        self.defection_records += len(who)
        pop.active[who] = False
        self.toggled.append(who)
        pop.left[who] = day
        self.today["churned"] += len(who)
        rec["day"].append(np.full(len(who), day))
        rec["customer"].append(who)
        rec["segment"].append(pop.segment[who])
        rec["cause"].append(cause)
        rec["satisfaction"].append(pop.satisfaction[who])
        rec["attachment"].append(pop.attachment[who])
        rec["tenure_days"].append(day - pop.joined[who])
        score = pop.survey_score[who]  # gathers are copies
        said = self.sc.survey.satisfied(score).astype(np.float64)
        rec["survey_score"].append(score)
        rec["stated_satisfied"].append(np.where(score == NO_ANSWER, np.nan, said))

    def _leavers(self, day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Today's leavers (rows, in order), their churn uniforms and leave probabilities.

        With most rows active, over whole columns (views are cheaper than gathers) a
        block of rows at a time: the work arrays of a block are reused from block to
        block and stay in the cache, where arrays of every row were fresh memory each
        day (page faults). The same numbers either way: the arithmetic is elementwise,
        and each customer's uniform is its own."""
        act = self.act
        if not self.dense:
            u = self.rng.uniform("churn", day, act, dtype=np.float64)
            leave_p = self._leave_probability(act)
            leaving = (u < leave_p).nonzero()[0]
            return act[leaving], u[leaving], leave_p[leaving]
        n = self.pop.size
        # Where each block's rows start in act (ascending).
        starts = [*np.searchsorted(act, range(0, n, ROW_BLOCK)).tolist(), len(act)]
        parts = []
        for first, (lo, hi) in zip(range(0, n, ROW_BLOCK), itertools.pairwise(starts), strict=True):
            if lo == hi:
                continue
            ids = act[lo:hi]
            leave_p = self._leave_probability(slice(first, min(first + ROW_BLOCK, n)))
            leave_p = leave_p[ids - first]
            u = self.rng.uniform("churn", day, ids, dtype=np.float64)
            leaving = (u < leave_p).nonzero()[0]
            parts.append((ids[leaving], u[leaving], leave_p[leaving]))
        who, u, leave_p = (np.concatenate(column) for column in zip(*parts, strict=True))
        return who, u, leave_p

    def _leave_probability(self, rows: np.ndarray | slice) -> np.ndarray:
        """``1 - exp(-protection x total hazard / 365)`` for ``rows``: the sum of
        :meth:`_cause_hazards` times :meth:`_protection`, in the same float32 arithmetic
        and order, in three work arrays instead of a dozen temporaries (the day's widest
        pass: every active customer may leave; :meth:`_leavers` calls it a block of rows
        at a time, so the arrays are small and not kept)."""
        b, pop = self.beh, self.pop
        size = len(range(pop.size)[rows]) if isinstance(rows, slice) else len(rows)
        total, t, p = (np.empty(size, np.float32) for _ in range(3))
        np.multiply(b.indifference_hazard, pop.indifference_memory[rows], out=total)
        total += np.multiply(b.poor_service_hazard, pop.poor_service_memory[rows], out=t)
        total += np.multiply(b.competitor_hazard, self._pull(rows, out=p, work=t), out=t)
        np.multiply(b.unresolved_hazard, pop.unresolved_memory[rows], out=t)
        waiting = pop.recovery[rows] == RECOVERY_PENDING
        t += np.multiply(np.float32(b.pending_complaint_hazard), waiting, out=p)  # p is free
        total += t
        total += np.multiply(b.discount_ended_hazard, pop.discount_loss[rows], out=t)
        total += np.float32(b.other_hazard)
        total += np.multiply(b.hostage_hazard, pop.resentment[rows], out=t)
        p = self._protection(rows, out=p, work=t)  # the pull's array: its sum is taken
        np.negative(p, out=p)
        p *= total
        p /= DAYS_PER_YEAR
        np.expm1(p, out=p)
        return np.negative(p, out=p)

    def _pull(
        self, idx: np.ndarray | slice, out: np.ndarray | None = None, work: np.ndarray | None = None
    ) -> np.ndarray:
        """The competitor's pull: awareness times its price advantage (and promotion),
        ``awareness x exp(min(price_weight x sensitivity x advantage, 50))``; into ``out``
        (with ``work`` as scratch) when given, in the same float32 operations."""
        b, pop = self.beh, self.pop
        # The advantage: (the usual price here - the rival's) / the reservation price.
        advantage = np.subtract(1, pop.last_discount[idx], out=work)
        advantage *= self.biz.price
        advantage -= self.competitor_price()
        advantage /= self.biz.reservation_price
        pull = np.multiply(b.price_weight, pop.price_sensitivity[idx], out=out)
        pull *= advantage
        # Capped exponent: a price many times the rival's makes the pull huge, not infinite.
        np.minimum(pull, 50.0, out=pull)
        np.exp(pull, out=pull)
        pull *= pop.awareness[idx]
        if self.competitor_promo:
            pull *= np.add(1, pop.deal_proneness[idx], out=advantage)
        return pull

    def _protection(
        self, idx: np.ndarray | slice, out: np.ndarray | None = None, work: np.ndarray | None = None
    ) -> np.ndarray:
        """Multiplier of every cause's hazard: attachment and switching cost protect;
        satisfaction only a little, around its pivot:
        ``exp(-a x attachment - s x switching cost + w x (pivot - satisfaction))``."""
        b, pop = self.beh, self.pop
        p = self.felt_attachment(idx, out=out)
        p *= -b.attachment_protection
        cost = self.switching_cost(idx)
        if np.ndim(cost):
            p -= np.multiply(b.switching_cost_protection, cost, out=work)
        else:
            p -= b.switching_cost_protection * cost
        sat = np.subtract(b.satisfaction_hazard_pivot, pop.satisfaction[idx], out=work)
        sat *= b.satisfaction_hazard_weight
        p += sat
        return np.exp(p, out=p)

    def _cause_hazards(self, idx: np.ndarray | slice) -> list[Any]:
        """Cause-specific hazards per year, one entry per CAUSES ("other" is a scalar).

        An open complaint adds ``pending_complaint_hazard`` to the unresolved-complaint
        cause every day it waits; a hostage's resentment drives the ``hostage`` cause."""
        b, pop = self.beh, self.pop
        pull = self._pull(idx)
        waiting = pop.recovery[idx] == RECOVERY_PENDING
        return [
            b.indifference_hazard * pop.indifference_memory[idx],
            b.poor_service_hazard * pop.poor_service_memory[idx],
            b.competitor_hazard * pull,
            b.unresolved_hazard * pop.unresolved_memory[idx]
            + np.float32(b.pending_complaint_hazard) * waiting,
            b.discount_ended_hazard * pop.discount_loss[idx],
            np.float32(b.other_hazard),
            b.hostage_hazard * pop.resentment[idx],
        ]
