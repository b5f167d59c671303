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

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtri

from loyaltysim.scenario.survey import Survey

if TYPE_CHECKING:
    from loyaltysim.model.simulation import Simulation

__all__ = ["Survey", "run_survey"]


def run_survey(sim: Simulation, day: int, n: int) -> None:
    """One wave: invite, answer, record; the business learns who said they are unhappy."""
    s = sim.sc.survey
    if s.kind == "none" or day == 0 or day % s.every_days:
        return
    pop, rng = sim.pop, sim.rng
    since = day - pop.last_visit[:n].astype(np.int64)
    # Counter-based, per customer: who is invited (slot 0), answers (1) and what they
    # say (2), drawn only for those it concerns.
    on_books = (since <= sim.followup.lapsed_after_days).nonzero()[0]
    invited = on_books[rng.uniform("survey", day, on_books) < s.sample_share]
    sim.spend("survey_cost", len(invited) * s.cost_per_invite)
    sat = pop.satisfaction[invited]
    answer_p = s.response_rate * (1 - s.unhappy_nonresponse * (1 - sat))
    answers = pop.active[invited] & (rng.uniform("survey", day, invited, 1) < answer_p)
    who = invited[answers]
    z = ndtri(np.minimum(np.maximum(rng.uniform("survey", day, who, 2), 1e-7), 1 - 1e-7))
    stated = np.minimum(
        np.maximum(pop.satisfaction[who] + s.courtesy_bias + s.answer_noise * z, 0.0), 1.0
    )
    scores = s.scores(stated)
    pop.survey_score[who] = scores
    pop.survey_day[who] = day
    unhappy = s.dissatisfied(scores)
    pop.known_unhappy[who[unhappy]] = True
    sim.today["survey_responses"] += len(who)
    sim.today["survey_satisfied"] += int(np.count_nonzero(s.satisfied(scores)))
