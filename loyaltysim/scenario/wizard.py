"""The scenario ``loyaltysim init`` writes from a shop owner's answers.

A few figures an owner knows (what an average sale brings in and costs, the month's rent
and wages, the cash in the bank, the customers in a month, how often a regular comes) are
put into the café template, whose behavioural figures (satisfaction, attachment, the
competitor's pull) stay as its comments justify them; what follows from the answers is
scaled with them (the competitor's price and a loyalty reward with the ticket, the
prospects with the customers). Pure: builds text, validates it, writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from loyaltysim.scenario.templates import template_text

__all__ = ["QUESTIONS", "ShopAnswers", "wizard_text"]

TEMPLATE = "cafe"
# The template's own figures, against which the dependent ones are scaled.
_PRICE, _CUSTOMERS, _COMPETITOR_PRICE, _PROSPECTS = 4.50, 1500, 4.20, 400


@dataclass(frozen=True)
class ShopAnswers:
    """The owner's answers; the defaults are the café template's."""

    name: str = "My shop"
    price: float = 4.50
    unit_cost: float = 1.40
    fixed_costs_per_month: float = 17000.0
    starting_cash: float = 25000.0
    customers_per_month: int = 1500
    regular_visits_per_month: float = 12.0
    currency: str = ""  # none: amounts without a unit, as the template has them


# (field, question) in the order asked; the type is the field's.
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("name", "Name of your shop"),
    ("price", "What does an average sale cost the customer"),
    ("unit_cost", "What does that sale cost you (goods, packaging: not rent or wages)"),
    ("fixed_costs_per_month", "Rent, wages and other fixed costs a month"),
    ("starting_cash", "Cash in the bank today"),
    ("customers_per_month", "Different customers in a month"),
    ("regular_visits_per_month", "How many times a month does a regular come"),
    ("currency", "Your currency, a code like EUR or a sign like € (Enter for none)"),
)


def _literal(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):
        return repr(round(value, 6))
    return str(value)


def _set(text: str, table: str, key: str, value: object, comment: str) -> str:
    """``key = value  # comment`` in the first ``[table]`` / ``[[table]]`` of ``text``."""
    lines = text.splitlines()
    current = ""
    for n, line in enumerate(lines):
        header = re.match(r"^\[\[?([\w.]+)\]\]?\s*(#.*)?$", line)
        if header:
            current = header.group(1)
            continue
        if current == table and re.match(rf"^{re.escape(key)}\s*=", line):
            lines[n] = f"{f'{key} = {_literal(value)}':<26}  # {comment}"
            return "\n".join(lines) + "\n"
    raise LookupError(f"the template has no {table}.{key}")  # pragma: no cover


def wizard_text(answers: ShopAnswers, path: str) -> str:
    """The commented scenario for ``answers``, to be written to ``path``, validated.

    Raises
    ------
    ScenarioError
        If the answers do not make a valid scenario (each problem located in the text).
    """
    a = answers
    text = template_text(TEMPLATE)
    body = text[text.index("[scenario]") :]
    body = body[: body.index("# Variants run against")]
    scale = a.price / _PRICE
    margin = 1 - a.unit_cost / a.price if a.price > 0 else 0.0
    for table, key, value, comment in (
        ("scenario", "name", a.name, "your shop"),
        ("business", "price", a.price, "your answer: what an average sale costs the customer"),
        ("business", "unit_cost", a.unit_cost, f"your answer: a gross margin of {margin:.0%}"),
        ("business", "fixed_costs_per_month", a.fixed_costs_per_month, "your answer"),
        ("business", "starting_cash", a.starting_cash, "your answer: cash on day 0"),
        ("business", "prospects_per_month",
         max(1, round(_PROSPECTS * a.customers_per_month / _CUSTOMERS)),
         "the café's 400 a month per 1,500 customers, scaled to yours"),
        ("business", "cost_per_prospect", round(scale, 4), "the café's 1.0, scaled to your price"),
        ("customers", "initial", a.customers_per_month, "your answer: customers in a month"),
        ("customers.segments", "visits_per_month", a.regular_visits_per_month,
         "your answer: how often a regular comes"),
        ("competitor", "price", round(_COMPETITOR_PRICE * scale, 4),
         "the café's rival, 7% cheaper than you: change it to yours"),
    ):  # fmt: skip
        body = _set(body, table, key, value, comment)
    if a.currency.strip():
        # The template names no currency, so the line is added under the shop's name.
        named = body.index("\n", body.index("[scenario]\nname")) + 1
        line = f"{f'currency = {_literal(a.currency.strip())}':<26}  # your answer\n"
        body = body[:named] + line + body[named:]
    header = f"""# {a.name}: a scenario written by `loyaltysim init` from your answers.
#
# Your figures are marked "your answer"; the rest is the corner café's (the default
# scenario): its customers' satisfaction, attachment and eye on the competitor, each
# explained in the café template (`loyaltysim init cafe.toml --template cafe`). Money is
# in your currency, rates and shares are fractions (0.15 = 15%), time is in days. Every
# key not written here takes its documented default: list them with `loyaltysim schema`.
#
#   loyaltysim validate {path}     check the file
#   loyaltysim run {path}          simulate the base and every variant
#   loyaltysim check {path}        is any variant at risk of ruin?

"""
    reward = round(a.price, 4)
    variants = f"""# Variants run against the base with common random numbers: replication r of every
# variant sees the same customers and the same luck, so differences are paired.
[[variants]]
name = "10% off everything"
set = {{ "discount.kind" = "flat", "discount.rate" = 0.10 }}

[[variants]]
name = "Loyalty card: 10th visit free"
set = {{ "discount.kind" = "points", "discount.points_per_currency" = 1.0, "discount.reward_points" = {round(10 * a.price, 4)}, "discount.reward_value" = {reward} }}
"""  # noqa: E501
    out = header + body + variants
    # Here, not at the top: `loyaltysim --help` imports this module (through `init`) and
    # must not pay for the loader's pydantic and numpy.
    from loyaltysim.scenario.loader import load_scenario_text

    load_scenario_text(out, path)  # raises with every problem, located in this text
    return out
