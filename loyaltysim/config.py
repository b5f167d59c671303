"""The base of every configuration object: strict, closed and immutable.

Scenario sections, discount policies, follow-up strategies and channels all derive from
:class:`Frozen`, so a typo is an error, a string never silently becomes a number, and a
validated scenario cannot be changed behind the simulator's back.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Strict (no type coercion), closed (unknown keys are errors) and frozen."""

    model_config = ConfigDict(
        strict=True,
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
        validate_default=True,
    )
