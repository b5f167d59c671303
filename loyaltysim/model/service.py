"""Service: the experience of a buying day, satisfaction, complaints and recovery."""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

from loyaltysim.model.base import AT_DELIVERY, SimulationBase
from loyaltysim.model.population import (
    RECOVERY_NONE,
    RECOVERY_PENDING,
    RECOVERY_RESOLVED,
    RECOVERY_RESOLVED_QUICKLY,
    RECOVERY_SILENT,
    RECOVERY_UNRESOLVED,
)


class ServiceMixin(SimulationBase):
    def _service(self, day: int, idx: np.ndarray, n: int) -> None:
        """One service experience per buying day: quality plus events, satisfaction by
        asymmetric disconfirmation (Oliver 1980; Anderson & Sullivan 1993), adaptive
        expectations (Rust & Oliver 2000), attachment moved by events, and complaints.

        A visit is a failure when service was poor or the customer came away feeling
        bad (felt below ``bad_experience_threshold``): both leave a grievance
        (``poor_service_memory``; a felt-bad visit by ``bad_experience_weight``) and may
        lead to a complaint, so service that disappoints drives customers away through
        the poor-service hazard, whatever caused it."""
        b, biz, pop = self.beh, self.biz, self.pop
        u, u_quality = self.rng.uniforms((("service", 0), ("quality", 0)), day, idx)
        # Normal noise by inverting the CDF of a uniform, only for today's buyers: one
        # counter-based draw per buyer keeps common random numbers.
        z = ndtri(np.minimum(np.maximum(u_quality, 1e-7), 1 - 1e-7))
        indifferent = u < biz.staff_indifference
        poor = (u >= biz.staff_indifference) & (u < biz.staff_indifference + biz.poor_service)
        exceptional = u >= 1.0 - biz.exceptional_service
        quality = np.minimum(
            np.maximum(
                biz.service_quality
                + pop.quality_offset[idx]
                + b.quality_noise * z
                - b.indifference_drop * indifferent
                - b.poor_service_drop * poor
                + b.exceptional_boost * exceptional,
                0.0,
            ),
            1.0,
        )
        expectation = pop.expectation[idx]  # gathers copy: each column read once
        gap = quality - expectation
        felt = np.minimum(
            np.maximum(
                quality
                + b.disconfirmation_weight
                * (np.maximum(gap, 0) - b.shortfall_asymmetry * np.maximum(-gap, 0)),
                0.0,
            ),
            1.0,
        )
        before = pop.satisfaction[idx]
        pop.satisfaction[idx] = before + b.satisfaction_smoothing * (felt - before)
        pop.expectation[idx] = expectation + b.expectation_learning * (quality - expectation)
        a = pop.attachment[idx]
        a += b.exceptional_attachment * (1 - a) * exceptional
        a -= b.indifference_attachment * a * indifferent + b.poor_service_attachment * a * poor
        pop.attachment[idx] = a
        felt_bad = (felt < b.bad_experience_threshold) & ~poor
        # Only the few buyers with an event change here (x | False is x; x + 0 is x, and
        # these memories are never -0): write those rows alone, found by position (a
        # mask that is hard to predict indexes several times slower than positions).
        touched = idx[indifferent.nonzero()[0]]
        pop.indifference_memory[touched] += 1
        pop.ever_indifference[touched] = True
        pop.ever_exceptional[idx[exceptional.nonzero()[0]]] = True
        bad = (poor | felt_bad).nonzero()[0]
        failed = idx[bad]
        pop.poor_service_memory[failed] += poor[bad] + b.bad_experience_weight * felt_bad[bad]
        self._complaints(day, failed, before[bad])

    def _complaints(self, day: int, idx: np.ndarray, satisfaction_before: np.ndarray) -> None:
        """Few unhappy customers complain (TARP: 1 in 4 to 1 in 27); attached customers
        voice, detached ones exit (Hirschman 1970), so the chance rises with attachment:
        ``complaint_probability x 2 A`` (the key's value at attachment 0.5)."""
        if len(idx) == 0:  # no failure today: nothing to count or draw
            return
        b, pop = self.beh, self.pop
        pop.failures[idx] += 1
        u = self.rng.uniform("complaints", day, idx)
        attach = self.felt_attachment(idx)
        voiced = u < np.minimum(b.complaint_probability * 2 * attach, 1.0)
        silent = idx[~voiced]
        was = pop.recovery[silent]
        pop.recovery[silent] = np.where(was == RECOVERY_NONE, RECOVERY_SILENT, was)
        pending = pop.recovery[idx] == RECOVERY_PENDING
        new = voiced & ~pending
        complained = idx[new]
        pop.satisfaction_before_failure[complained] = satisfaction_before[new]
        self.today["complaints"] += len(complained)
        self.start_recovery(complained)

    def start_recovery(self, idx: np.ndarray, complained: bool = True) -> None:
        """The business knows of the problem: it resolves it (or not) after a delay.

        ``complained`` is False when the business found the problem itself (a call): a
        fix it then fails to make leaves the customer as they were, whereas a complaint
        left unresolved is an injury of its own. While a complaint waits for its answer
        it weighs on the customer every day (``pending_complaint_hazard``, §3.11), so
        slow handling costs customers as well as the recovery it forgoes.
        """
        if len(idx) == 0:
            return
        pop, biz = self.pop, self.biz
        pop.known_unhappy[idx] = True
        if complained:  # a call is not a complaint: the complaint history stays as it was
            pop.recovery[idx] = RECOVERY_PENDING
        # Per customer, counter-based: a complaint's fate (slots 1, 2) and a call's
        # (slots 3, 4) are each a customer's own numbers for the day.
        day, slot = int(self.env.now), 1 if complained else 3
        fixed, wait_u = self.rng.uniforms(
            (("complaints", slot), ("complaints", slot + 1)), day, idx, np.float64
        )
        resolved = fixed < biz.complaint_resolution_rate
        delay = np.ceil(-biz.complaint_resolution_days * np.log1p(-wait_u))
        for d in sorted(set(delay.tolist())):  # np.unique's values, without its overhead
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
        live = pop.active[idx]
        idx, resolved = idx[live], resolved[live]
        # An unresolved complaint leaves a customer the business knows to be unhappy.
        pop.known_unhappy[idx] = ~resolved
        fixed, unfixed = idx[resolved], idx[~resolved]
        # A group (one day's complaints with one delay) is often a single customer, so
        # one of the updates below has nobody to update: skip its dozen empty passes.
        restore = pop.satisfaction_before_failure[fixed]
        if len(fixed) and delay <= b.quick_resolution_days:
            first = pop.failures[fixed] == 1
            target = np.where(first, restore + b.recovery_bonus, restore)
            now = pop.satisfaction[fixed]
            repeat = now + b.repeat_quick_restore * np.maximum(target - now, 0)
            pop.satisfaction[fixed] = np.minimum(
                np.maximum(np.where(first, np.maximum(now, target), repeat), 0), 1
            )
            pop.attachment[fixed] += b.recovery_attachment * (1 - pop.attachment[fixed])
            # The failure is fixed: its grievance (one unit of memory) is gone.
            pop.poor_service_memory[fixed] = np.maximum(pop.poor_service_memory[fixed] - 1, 0)
            pop.recovery[fixed] = RECOVERY_RESOLVED_QUICKLY
        elif len(fixed):
            now = pop.satisfaction[fixed]
            pop.satisfaction[fixed] = now + b.late_restore * np.maximum(restore - now, 0)
            # Fixed, but late: part of the grievance stays.
            pop.poor_service_memory[fixed] = np.maximum(
                pop.poor_service_memory[fixed] - (1 - b.late_grievance_kept), 0
            )
            pop.recovery[fixed] = RECOVERY_RESOLVED
        # A call that fails to fix things leaves the customer as they were: nothing had
        # been asked of the business, so nothing was refused.
        if complained and len(unfixed):
            pop.unresolved_memory[unfixed] += 1.0
            pop.attachment[unfixed] *= 1 - b.unresolved_attachment
            pop.satisfaction[unfixed] = np.maximum(
                pop.satisfaction[unfixed] - b.unresolved_satisfaction_drop, 0
            )
            pop.recovery[unfixed] = RECOVERY_UNRESOLVED
