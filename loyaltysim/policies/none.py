"""No discount: every ticket at list price."""

from __future__ import annotations

from typing import Literal

from loyaltysim.policies.base import DiscountBase


class NoDiscount(DiscountBase):
    """Every ticket at list price."""

    kind: Literal["none"] = "none"
