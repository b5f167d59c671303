"""Money and numbers as people read them: the scenario's currency, no e-notation, no noise.

``scenario.currency`` (``"EUR"``, ``"€"``, ``"US$"``, or none) names the unit every table,
chart axis and sentence shows money in. A code made of letters follows the amount
(``12,345 EUR``), a symbol precedes it (``€12,345``); without a currency the amount stands
alone. Float noise (a sum of zeros that comes out as ``-3.95e-11``) is snapped to zero
before anything is shown, and no figure is ever written in e-notation.

The lowest layer that shows money imports this module, so it depends on nothing.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

__all__ = [
    "MINUS",
    "NOISE",
    "check_currency",
    "money",
    "number",
    "snap",
    "unit_label",
    "with_unit",
]

MINUS = "−"  # U+2212: a minus sign, not a hyphen
# Below this an amount, a rate or a share is rounding noise of float sums: no simulated
# money is a millionth of a unit, no share is measured to a millionth.
NOISE = 1e-6
MAX_CURRENCY = 8


def check_currency(text: str) -> str:
    """``text`` trimmed, or ValueError with what a currency may be."""
    value = text.strip()
    if not value:
        raise ValueError("currency must not be empty: leave the key out to show no unit")
    if len(value) > MAX_CURRENCY:
        raise ValueError(
            f"currency {value!r} is longer than {MAX_CURRENCY} characters: give a code such "
            "as EUR or a symbol such as €"
        )
    for c in value:
        kind = unicodedata.category(c)
        if c.isdigit() or kind.startswith(("C", "Z")) or c in "+-−.,%":
            raise ValueError(
                f"currency {value!r} holds {c!r}: give a code such as EUR or a symbol such "
                "as € (no digits, spaces, signs or separators)"
            )
    return value


def _is_code(currency: str) -> bool:
    return currency.isalpha()


def snap(x: float, noise: float = NOISE) -> float:
    """``x`` with float noise snapped to zero (``-3.95e-11`` -> ``0.0``, ``-0.0`` -> ``0.0``)."""
    if not math.isfinite(x):
        return x
    return 0.0 if abs(x) < noise else x


def _finite(x: Any) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def money(x: Any, currency: str | None = None, signed: bool = False, digits: int = 0) -> str:
    """An amount as text: ``12,345``, ``−1,234 EUR``, ``+€1,234``; ``n/a`` when undefined.

    Never in e-notation, noise shown as ``0``, the minus a real minus sign.
    """
    v = _finite(x)
    if v is None:
        return "n/a"
    v = snap(round(v, digits))
    body = f"{abs(v):,.{digits}f}"
    sign = MINUS if v < 0 else ("+" if signed and v > 0 else "")
    if not currency:
        return sign + body
    if _is_code(currency):
        return f"{sign}{body} {currency}"
    return f"{sign}{currency}{body}"


def unit_label(currency: str | None, fallback: str = "") -> str:
    """The currency as an axis or column unit (``EUR``, ``€``), ``fallback`` without one."""
    return currency or fallback


def with_unit(label: str, currency: str | None) -> str:
    """``"profit (EUR)"``, or ``"profit"`` without a currency."""
    return f"{label} ({currency})" if currency else label


def number(x: Any, significant: int = 3, minus: str = MINUS) -> str:
    """A figure without e-notation: thousands grouped, small ones to ``significant``
    digits (``-21,800`` is ``−21,800``; ``0.000123`` stays ``0.000123``); ``n/a`` when
    undefined."""
    v = _finite(x)
    if v is None:
        return "n/a"
    v = snap(v, 1e-9)
    if v == 0:
        return "0"
    sign = minus if v < 0 else ""
    a = abs(v)
    if a >= 10 ** (significant - 1):
        return f"{sign}{a:,.0f}"
    decimals = max(0, significant - 1 - math.floor(math.log10(a)))
    text = f"{a:.{decimals}f}".rstrip("0").rstrip(".")
    return sign + text
