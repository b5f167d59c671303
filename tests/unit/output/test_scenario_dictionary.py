"""docs/scenario-keys.md is generated from the schema's descriptions and is up to date."""

from __future__ import annotations

from pathlib import Path

from loyaltysim.output.scenario_dictionary import missing_descriptions, scenario_dictionary
from loyaltysim.scenario.problems import key_description

DOC = Path(__file__).resolve().parents[3] / "docs" / "scenario-keys.md"


def test_every_key_has_a_description() -> None:
    assert missing_descriptions() == []


def test_the_doc_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == scenario_dictionary(), (
        "docs/scenario-keys.md is stale: "
        "python -m loyaltysim.output.scenario_dictionary docs/scenario-keys.md"
    )


def test_one_description_serves_the_doc_and_the_errors() -> None:
    text = DOC.read_text(encoding="utf-8")
    for path in (("business", "fixed_costs_per_month"), ("behaviour", "recovery_bonus")):
        meaning = key_description(path)
        assert meaning and f"| `{'.'.join(path)}` |" in text and meaning in text
    points = key_description(("discount", "reward_value"), {"discount": {"kind": "points"}})
    assert points == "money off each reward gives"
