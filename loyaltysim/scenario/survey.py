"""``[survey]``: how the business asks its customers (the survey layer's settings).

The mechanism (who is invited, who answers, what they state) is in
:mod:`loyaltysim.model.survey`; the settings live here, in the scenario layer, because the
schema below the model must be able to validate them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from loyaltysim.config import Frozen
from loyaltysim.lazy_names import lazy_module

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy_module("numpy")  # loaded at first use: checking a scenario needs none


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
        description="how much less often unhappy customers answer a survey",
    )
    courtesy_bias: float = Field(
        0.05, ge=-1.0, le=1.0, description="stated minus felt satisfaction, on average (0..1 scale)"
    )
    answer_noise: float = Field(
        0.10, ge=0.0, le=1.0, description="sd of stated around felt satisfaction (0..1 scale)"
    )
    cost_per_invite: float = Field(
        0.0, ge=0.0, le=1e6, description="what sending one survey invitation costs"
    )

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
