"""Fuzzing the scenario loader: any input either loads or is a clean ScenarioError.

Three sources of input: scenario-shaped data built from the schema's own key names (plus
typos), so that validation, overrides and variants are reached deeply; arbitrary TOML
documents; and byte-level mutations of a valid file. Whatever comes in, the loader returns
a Scenario whose variants all build, or raises ScenarioError with one-line problems.
"""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from loyaltysim.followups import DEFAULT_CHANNELS, ChannelOverride, Followup
from loyaltysim.policies import POLICIES
from loyaltysim.scenario import Scenario, ScenarioError, load_scenario_text, variant_scenarios
from loyaltysim.scenario.schema import (
    Behaviour,
    Business,
    Competitor,
    Customers,
    Guard,
    Meta,
    Segment,
)

MODELS: dict[str, type[BaseModel]] = {
    "scenario": Meta,
    "business": Business,
    "customers": Customers,
    "competitor": Competitor,
    "followup": Followup,
    "guard": Guard,
    "behaviour": Behaviour,
}

FUZZ = settings(
    derandomize=True,  # the same examples on every run, as CI needs
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

WORDS = [*POLICIES, "email", "phone_call", "fax", "after_purchase", "dissatisfied", "x", ""]

scalars = st.one_of(
    st.integers(min_value=-10, max_value=100),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0, max_value=1),
    st.booleans(),
    st.sampled_from(WORDS),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=8),
)
# Mostly plausible values, so that files get past the type checks to bounds and variants.
values = st.one_of(st.floats(0, 1), st.integers(1, 60), st.sampled_from(WORDS), scalars)
keys = st.one_of(st.text(max_size=6), st.sampled_from(["kind", "rate", "0", "set"]))
tables = st.recursive(
    st.dictionaries(keys, scalars, max_size=5),
    lambda inner: st.dictionaries(
        keys, st.one_of(scalars, inner, st.lists(inner, max_size=3)), max_size=5
    ),
    max_leaves=25,
)


def fields_of(*models: type[BaseModel], typos: tuple[str, ...] = ()) -> st.SearchStrategy[Any]:
    """Tables with the models' own keys (and a few typos) and plausible values."""
    names = sorted({name for model in models for name in model.model_fields} | set(typos))
    return st.dictionaries(st.sampled_from(names), values, max_size=4)


SECTIONS: dict[str, st.SearchStrategy[Any]] = {
    "business": fields_of(Business, typos=("prise",)),
    "customers": st.fixed_dictionaries(
        {},
        optional={
            "initial": st.integers(0, 6_000_000),
            "segments": st.lists(fields_of(Segment), min_size=1, max_size=3),
        },
    ),
    "competitor": fields_of(Competitor),
    "discount": fields_of(*POLICIES.values(), typos=("rat",)),
    "followup": fields_of(Followup),
    "channels": st.dictionaries(
        st.sampled_from([*DEFAULT_CHANNELS, "fax"]), fields_of(ChannelOverride), max_size=2
    ),
    "guard": fields_of(Guard),
    "behaviour": fields_of(Behaviour),
    "busines": tables,
}
PATHS = sorted(
    {f"{section}.{name}" for section, model in MODELS.items() for name in model.model_fields}
    | {f"discount.{n}" for cls in POLICIES.values() for n in cls.model_fields}
    | {"discount", "discount.rat", "customers.segments.0.share", "customers.segments.3.share",
       "scenario", "variants", "business.price.x", "channels.fax.cost", "nope"}
)  # fmt: skip
dotted = st.one_of(
    st.sampled_from(PATHS),
    st.lists(st.sampled_from(["discount", "kind", "rate", "0", "x"]), min_size=1, max_size=3).map(
        ".".join
    ),
)
variants = st.lists(
    st.fixed_dictionaries(
        {"name": st.sampled_from(["a", "b", "base", ""])},
        optional={"set": st.dictionaries(dotted, st.one_of(values, tables), max_size=3)},
    ),
    max_size=3,
)
scenarios = st.fixed_dictionaries(
    {
        "scenario": st.fixed_dictionaries(
            {"name": st.sampled_from(["x", "café"])},
            optional={
                "horizon_days": st.integers(-1, 800),
                "replications": st.integers(0, 50),
                "seed": st.one_of(st.integers(-1, 2**64), values),
                "nam": values,
            },
        )
    },
    optional={**SECTIONS, "variants": variants},
)


def toml_value(value: Any) -> str:
    """A value as TOML (inline form), for the fuzzer's own documents."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return (
        "{" + ", ".join(f"{toml_value(str(k))} = {toml_value(v)}" for k, v in value.items()) + "}"
    )


def toml_document(data: dict[str, Any]) -> str:
    """Tables as headers where the value is a table, else ``key = value`` lines."""
    lines = [f"{toml_value(k)} = {toml_value(v)}" for k, v in data.items() if not _table(v)]
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"[{toml_value(key)}]")
            lines += [f"{toml_value(k)} = {toml_value(v)}" for k, v in value.items()]
        elif _table(value):
            for item in value:
                lines.append(f"[[{toml_value(key)}]]")
                lines += [f"{toml_value(k)} = {toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def _table(value: Any) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)
    )


def loads_or_fails_cleanly(text: str, overrides: list[str] | None = None) -> None:
    """The property: a Scenario whose variants build, or a ScenarioError; nothing else."""
    try:
        scenario = load_scenario_text(text, "fuzz.toml", overrides)
    except ScenarioError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.message
            assert problem.line >= 0
            assert "\n" not in str(problem), "a problem must fit on one line"
        assert len(str(error).splitlines()) == len(error.problems)
        return
    assert isinstance(scenario, Scenario)
    # A loaded scenario promises that its variants were checked.
    names = [name for name, _ in variant_scenarios(scenario)]
    assert names[0] == "base" and len(names) == len(scenario.variants) + 1


@FUZZ
@given(scenarios, st.lists(st.builds("{}={}".format, dotted, scalars.map(toml_value)), max_size=3))
def test_scenario_shaped_data(data: dict[str, Any], overrides: list[str]) -> None:
    loads_or_fails_cleanly(toml_document(data), overrides or None)


@FUZZ
@given(tables)
def test_arbitrary_documents(data: dict[str, Any]) -> None:
    loads_or_fails_cleanly(toml_document(data))


VALID = """\
[scenario]
name = "Corner café"
horizon_days = 90

[business]
price = 4.5
unit_cost = 1.4

[[customers.segments]]
name = "regulars"
share = 0.5

[[customers.segments]]
name = "occasionals"
share = 0.5

[discount]
kind = "tiers"
tiers = [{visits = 5, rate = 0.05}, {visits = 20, rate = 0.10}]

[[variants]]
name = "flat"
[variants.set]
"discount" = { kind = "flat", rate = 0.1 }
"customers.segments.0.share" = 0.6
"customers.segments.1.share" = 0.4
"""


@FUZZ
@given(st.data())
def test_mutated_valid_file(data: st.DataObject) -> None:
    text = VALID
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(at, min(len(text), at + 6)))
        text = (
            text[:at]
            + data.draw(st.sampled_from(["", "[", "]", "=", '"', "\n", "0", "."]))
            + text[end:]
        )
    loads_or_fails_cleanly(text)


def test_the_unmutated_file_loads() -> None:
    # Guards the fuzzers above: if VALID were invalid they would only test errors.
    assert [name for name, _ in variant_scenarios(load_scenario_text(VALID))] == ["base", "flat"]
