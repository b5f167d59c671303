"""Discount policies, one module each, and their registry.

Adding a kind is one module: a :class:`DiscountBase` subclass with ``kind`` as a
``Literal``; list it in ``POLICY_CLASSES`` and the scenario schema, the JSON Schema and
the error messages pick it up.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from loyaltysim.policies.base import DiscountBase
from loyaltysim.policies.first_visit import FirstVisitDiscount
from loyaltysim.policies.flat import FlatDiscount
from loyaltysim.policies.none import NoDiscount
from loyaltysim.policies.points import PointsProgram
from loyaltysim.policies.promotion import PromotionCalendar
from loyaltysim.policies.tiers import Tier, TiersDiscount
from loyaltysim.policies.win_back import WinBackOffer

POLICY_CLASSES = (
    NoDiscount,
    FlatDiscount,
    FirstVisitDiscount,
    TiersDiscount,
    PointsProgram,
    PromotionCalendar,
    WinBackOffer,
)
POLICIES: dict[str, type[DiscountBase]] = {
    cls.model_fields["kind"].default: cls for cls in POLICY_CLASSES
}

# The scenario's ``[discount]`` table: one of the classes above, chosen by ``kind``.
DiscountPolicy = Annotated[
    NoDiscount
    | FlatDiscount
    | FirstVisitDiscount
    | TiersDiscount
    | PointsProgram
    | PromotionCalendar
    | WinBackOffer,
    Field(discriminator="kind"),
]

__all__ = ["POLICIES", "DiscountBase", "DiscountPolicy", "NoDiscountDefault", "Tier"]

# The default ``[discount]`` when a scenario has none.
NoDiscountDefault = NoDiscount()
