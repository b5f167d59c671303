"""Follow-up channels: what a contact costs, how many it reaches, what it does.

Default figures and where they come from (override any of them in ``[channels.NAME]``):

============== ====== ===== ======= ======== ====== =========================================
channel        cost   reach dS      dA       fade   source / reasoning
============== ====== ===== ======= ======== ====== =========================================
email          0.05   0.25  0.000   0.005    14 d   send cost of an email platform plus copy;
                                                    open rates of 20-25% (Mailchimp
                                                    benchmarks); mass mail is barely personal
postcard       1.00   0.70  0.005   0.015    30 d   print plus postage; most are at least seen
thank_you_note 3.00   0.90  0.010   0.030    60 d   handwritten: ~5 min of staff time plus
                                                    postage; personal, so it lasts longer
phone_call     6.00   0.45  0.020   0.040    45 d   ~8 min of staff at a loaded 30/h plus
                                                    unanswered attempts; answer rates ~40-50%;
                                                    the only channel that hears back
============== ====== ===== ======= ======== ====== =========================================

The effects are deliberately small: a randomised trial of thank-you calls found an effect
near zero on retention (Samek & Longfield 2023). What a call adds is *hearing back*: it
finds a silent, dissatisfied customer and starts a recovery, as a complaint would.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from loyaltysim.config import Frozen

ChannelName = Literal["email", "postcard", "thank_you_note", "phone_call"]


class Channel(Frozen):
    """One contact channel. Money per contact; effects on the 0..1 scales of
    satisfaction (dS, absorbed into S) and attachment (dA, a glow that halves every
    ``fade_days``)."""

    cost: float = Field(ge=0.0, le=1e6, description="cost per contact attempted")
    reach: float = Field(ge=0.0, le=1.0, description="share of contacts that reach the customer")
    satisfaction_effect: float = Field(ge=-1.0, le=1.0, description="dS per contact reached")
    attachment_effect: float = Field(ge=-1.0, le=1.0, description="dA per contact reached")
    fade_days: float = Field(gt=0.0, le=3650.0, description="half-life of the attachment glow")
    hears_back: bool = Field(description="a reached, unhappy customer is found and recovered")


DEFAULT_CHANNELS: dict[str, Channel] = {
    "email": Channel(
        cost=0.05,
        reach=0.25,
        satisfaction_effect=0.0,
        attachment_effect=0.005,
        fade_days=14.0,
        hears_back=False,
    ),
    "postcard": Channel(
        cost=1.0,
        reach=0.70,
        satisfaction_effect=0.005,
        attachment_effect=0.015,
        fade_days=30.0,
        hears_back=False,
    ),
    "thank_you_note": Channel(
        cost=3.0,
        reach=0.90,
        satisfaction_effect=0.01,
        attachment_effect=0.03,
        fade_days=60.0,
        hears_back=False,
    ),
    "phone_call": Channel(
        cost=6.0,
        reach=0.45,
        satisfaction_effect=0.02,
        attachment_effect=0.04,
        fade_days=45.0,
        hears_back=True,
    ),
}


class ChannelOverride(Frozen):
    """``[channels.NAME]``: any subset of a channel's figures."""

    cost: float | None = Field(None, ge=0.0, le=1e6, description="what one contact costs")
    reach: float | None = Field(
        None, ge=0.0, le=1.0, description="share of contacts that reach the customer"
    )
    satisfaction_effect: float | None = Field(
        None, ge=-1.0, le=1.0, description="satisfaction a contact that reaches adds"
    )
    attachment_effect: float | None = Field(
        None, ge=-1.0, le=1.0, description="attachment a contact that reaches adds"
    )
    fade_days: float | None = Field(
        None, gt=0.0, le=3650.0, description="half-life of the attachment glow, days"
    )
    hears_back: bool | None = Field(
        None, description="a reached, unhappy customer is found and recovered"
    )

    def apply(self, base: Channel) -> Channel:
        return base.model_copy(update=self.model_dump(exclude_none=True))
