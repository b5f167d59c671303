"""What customers say: a satisfaction survey of a sample, and what the business learns.

The business never sees a customer's satisfaction S; it sees survey answers. Every
``every_days`` it invites a random ``sample_share`` of the customers on its books (seen
within ``followup.lapsed_after_days``; some of them have quietly left and never answer).
An invited customer answers with probability ``response_rate x (1 - unhappy_nonresponse x
(1 - S))``: the unhappy answer less (non-response bias). What they state is their felt
satisfaction plus a courtesy bias and noise, ``S + courtesy_bias + answer_noise x z``,
put on the survey's scale:

- ``csat``: 1..5, the band of the stated level in five equal bands; "satisfied" is the top
  two (4 or 5), "dissatisfied" the bottom two;
- ``nps``: 0..10, the stated level x 10 rounded; "satisfied" is 7 or more (passive or
  promoter), "dissatisfied" 6 or less (a detractor).

The last answer is kept per customer (``survey_score``, ``survey_day``), carried into the
defection record (``stated_satisfied``), and a dissatisfied answer tells the business the
customer is unhappy (``known_unhappy``: follow-ups to "the dissatisfied" reach them).
Sources: Reichheld (2003) for NPS; the seed figure ("80% of defectors *call themselves*
satisfied") is about what defectors say; courtesy bias and the lower response of the
dissatisfied are usual findings of survey research (e.g. Peterson & Wilson 1992).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field
from scipy.special import ndtri

from loyaltysim.config import Frozen

if TYPE_CHECKING:
    from loyaltysim.model.simulation import Simulation


class Survey(Frozen):
    """``[survey]``: the business's satisfaction survey."""

    kind: Literal["none", "csat", "nps"] = Field(
        "csat", description="none, CSAT (1..5) or NPS (0..10)"
    )
    every_days: int = Field(30, ge=1, le=3650, description="days between survey waves")
    sample_share: float = Field(
        0.10, ge=0.0, le=1.0, description="share of customers on the books invited per wave"
    )
    response_rate: float = Field(
        0.30, ge=0.0, le=1.0, description="chance a fully satisfied invitee answers"
    )
    unhappy_nonresponse: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="answer chance x (1 - k x (1 - S)): the unhappy answer less",
    )
    courtesy_bias: float = Field(
        0.05, ge=-1.0, le=1.0, description="stated minus felt satisfaction, on average (0..1 scale)"
    )
    answer_noise: float = Field(
        0.10, ge=0.0, le=1.0, description="sd of stated around felt satisfaction (0..1 scale)"
    )
    cost_per_invite: float = Field(0.0, ge=0.0, le=1e6, description="money per invitation")

    def scores(self, stated: np.ndarray) -> np.ndarray:
        """Answers on the survey's own scale from stated levels on 0..1."""
        if self.kind == "nps":
            return np.clip(np.rint(10 * stated), 0, 10).astype(np.int8)
        return np.clip(np.ceil(5 * stated), 1, 5).astype(np.int8)

    def satisfied(self, scores: np.ndarray) -> np.ndarray:
        """Top two CSAT boxes, or NPS passives and promoters."""
        return scores >= (7 if self.kind == "nps" else 4)

    def dissatisfied(self, scores: np.ndarray) -> np.ndarray:
        """Bottom two CSAT boxes, or NPS detractors (answered, below passive)."""
        return (scores >= 0) & (scores <= (6 if self.kind == "nps" else 2))


def run_survey(sim: Simulation, day: int, n: int) -> None:
    """One wave: invite, answer, record; the business learns who said they are unhappy."""
    s = sim.sc.survey
    if s.kind == "none" or day == 0 or day % s.every_days:
        return
    pop, rng = sim.pop, sim.rng["survey"]
    u = rng.random((3, n), dtype=np.float32)
    since = day - pop.last_visit[:n].astype(np.int64)
    on_books = since <= sim.followup.lapsed_after_days
    invited = np.flatnonzero(on_books & (u[0] < s.sample_share))
    sim.spend("survey_cost", len(invited) * s.cost_per_invite)
    sat = pop.satisfaction[invited]
    answer_p = s.response_rate * (1 - s.unhappy_nonresponse * (1 - sat))
    answers = pop.active[invited] & (u[1][invited] < answer_p)
    who = invited[answers]
    z = ndtri(np.clip(u[2][who], 1e-7, 1 - 1e-7))
    stated = np.clip(pop.satisfaction[who] + s.courtesy_bias + s.answer_noise * z, 0.0, 1.0)
    scores = s.scores(stated)
    pop.survey_score[who] = scores
    pop.survey_day[who] = day
    unhappy = s.dissatisfied(scores)
    pop.known_unhappy[who[unhappy]] = True
    sim.today["survey_responses"] += len(who)
    sim.today["survey_satisfied"] += int(np.count_nonzero(s.satisfied(scores)))
