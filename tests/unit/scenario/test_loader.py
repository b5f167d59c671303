"""The scenario loader: every bad input is a located, readable problem; good ones load."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path
from typing import Any

import pytest

from loyaltysim.policies.flat import FlatDiscount
from loyaltysim.scenario import (
    MAX_CUSTOMERS,
    MAX_FILE_BYTES,
    Problem,
    Scenario,
    ScenarioError,
    load_scenario,
    load_scenario_text,
    parse_override,
    parse_override_value,
    scenario_json_schema,
    variant_scenarios,
)
from loyaltysim.scenario.locations import _Locator
from loyaltysim.scenario.schema import Meta, Variant

MINIMAL = """\
[scenario]
name = "Corner café"

[business]
price = 4.5
"""


def problems_of(text: str, overrides: Any = None) -> list[Problem]:
    """The problems loading ``text`` raises (fails the test if it loads)."""
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(textwrap.dedent(text), "s.toml", overrides)
    return info.value.problems


def only(text: str, overrides: Any = None) -> Problem:
    found = problems_of(text, overrides)
    assert len(found) == 1, "\n".join(map(str, found))
    return found[0]


# ----------------------------------------------------------------------------- good files


def test_minimal_file_loads_with_defaults() -> None:
    scenario = load_scenario_text(MINIMAL)
    assert scenario.scenario.name == "Corner café"
    assert scenario.business.price == 4.5
    assert scenario.scenario.horizon_days == 730
    assert scenario.discount.kind == "none"
    assert scenario.variants == ()


def test_load_scenario_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    assert load_scenario(path).scenario.name == "Corner café"
    assert load_scenario(str(path)).business.price == 4.5


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_scenario(path).scenario.name == "Corner café"


def test_discount_table_without_kind_is_kind_none() -> None:
    scenario = load_scenario_text(MINIMAL + "[discount]\n")
    assert scenario.discount.kind == "none"


def test_integers_are_accepted_where_numbers_are_expected() -> None:
    assert load_scenario_text(MINIMAL.replace("4.5", "5")).business.price == 5


# ----------------------------------------------------------------------------- whole-file problems


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "nope.toml")
    (problem,) = info.value.problems
    assert problem.line == 0
    assert "no such file" in str(problem)
    assert str(problem).startswith(str(tmp_path / "nope.toml") + ": ")


def test_directory_is_not_a_scenario(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="is a directory"):
        load_scenario(tmp_path)


def test_not_utf8_reports_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[scenario]\nname = "Caf\xe9"\n')
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problems[0].line == 2
    assert "UTF-8" in info.value.problems[0].message


def test_not_toml_reports_tomllibs_line() -> None:
    problem = only('[scenario]\nname = "x"\n\n[business\nprice = 4\n')
    assert problem.line == 4
    assert problem.key_path == ""
    assert problem.message.startswith("not valid TOML: ")
    assert str(problem).startswith("s.toml:4: not valid TOML")


@pytest.mark.parametrize("text", ["", "   \n\t\n", "# only a comment\n\n# another\n"])
def test_empty_file(text: str) -> None:
    problem = only(text)
    assert problem.line == 1
    assert "empty" in problem.message


def test_file_larger_than_a_mebibyte(tmp_path: Path) -> None:
    text = MINIMAL + "#" * MAX_FILE_BYTES
    assert "larger than" in only(text).message
    path = tmp_path / "big.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"big\.toml:1: the file is larger than 1,048,576"):
        load_scenario(path)


def test_a_file_of_exactly_the_limit_is_not_too_large() -> None:
    text = MINIMAL + "#" * (MAX_FILE_BYTES - len(MINIMAL.encode()))
    assert load_scenario_text(text).business.price == 4.5


@pytest.mark.parametrize(
    ("text", "line", "key_path"),
    [
        (MINIMAL + "\na.b.c.d.e.f.g.h.i = 1\n", 7, "business.a.b.c.d.e.f.g"),
        (MINIMAL + "x = 1\n[p.q.r.s.t.u.v.w]\nz = 1\n", 7, "p.q.r.s.t.u.v.w"),
        (MINIMAL + "\n\nx = [[[[[[[[[1]]]]]]]]]\n", 8, "business.x.0.0.0.0.0.0"),
    ],
)
def test_too_deeply_nested(text: str, line: int, key_path: str) -> None:
    problem = only(text)
    assert (problem.line, problem.key_path) == (line, key_path)
    assert "deeper than 8 levels" in problem.message


def test_nesting_deep_enough_to_break_tomllib_is_a_problem_too() -> None:
    problem = only("x = " + "[" * 100_000)
    assert "deeper than 8 levels" in problem.message


@pytest.mark.parametrize(
    ("literal", "line", "key_path"),
    [
        ("price = nan", 5, "business.price"),
        ("price = inf", 5, "business.price"),
        ("price = -inf", 5, "business.price"),
        ("price = 4\n[[variants]]\nname = 'v'\nset = {'business.price' = +nan}", 8,
         'variants.0.set."business.price"'),
    ],
)  # fmt: skip
def test_nan_and_inf_are_rejected_where_they_stand(literal: str, line: int, key_path: str) -> None:
    problem = only(MINIMAL.replace("price = 4.5", literal))
    assert (problem.line, problem.key_path) == (line, key_path)
    assert "nan and inf are not allowed" in problem.message


# ----------------------------------------------------------------------------- schema problems


def test_unknown_key_with_did_you_mean() -> None:
    problem = only(MINIMAL + "prise = 3\n")
    assert (problem.line, problem.key_path) == (6, "business.prise")
    assert problem.message == "unknown key 'prise'"
    assert problem.hint == "did you mean 'price'?"
    assert str(problem) == ("s.toml:6: business.prise: unknown key 'prise' (did you mean 'price'?)")


def test_unknown_table_with_did_you_mean() -> None:
    problem = only(MINIMAL + "[competiter]\nprice = 4\n")
    assert (problem.line, problem.key_path) == (6, "competiter")
    assert problem.hint == "did you mean 'competitor'?"


def test_unknown_key_without_a_close_match_lists_the_valid_keys() -> None:
    problem = only(MINIMAL + "[guard]\nwhatever = 1\n")
    assert problem.hint is not None and problem.hint.startswith("valid keys: ")
    assert "max_ruin_probability" in problem.hint and "look_ahead_days" in problem.hint


def test_unknown_key_in_an_array_of_tables() -> None:
    text = (
        MINIMAL
        + """
[[customers.segments]]
name = "a"
share = 0.5

[[customers.segments]]
name = "b"
shar = 0.5
"""
    )
    problems = problems_of(text)
    assert any(
        (p.line, p.key_path, p.hint) == (13, "customers.segments.1.shar", "did you mean 'share'?")
        for p in problems
    ), problems


def test_unknown_discount_key_suggests_among_the_kinds_keys() -> None:
    problem = only(MINIMAL + '[discount]\nkind = "flat"\nrat = 0.1\n')
    assert (problem.line, problem.key_path) == (8, "discount.rat")
    assert "discount kind 'flat'" in problem.message
    assert problem.hint == "did you mean 'rate'?"


def test_key_of_another_discount_kind_says_so() -> None:
    problem = only(MINIMAL + '[discount]\nkind = "points"\nrate = 0.1\n')
    assert problem.key_path == "discount.rate"
    assert "'flat'" in problem.hint and "'promotion'" in problem.hint


def test_discount_keys_without_kind_hint_at_the_kind() -> None:
    problem = only(MINIMAL + "[discount]\nrate = 0.1\n")
    assert (problem.line, problem.key_path) == (7, "discount.rate")
    assert "set discount.kind" in problem.hint


def test_unknown_discount_kind_lists_the_valid_kinds() -> None:
    problem = only(MINIMAL + '[discount]\nkind = "flatt"\n')
    assert (problem.line, problem.key_path) == (7, "discount.kind")
    assert problem.message == "unknown discount kind 'flatt'"
    assert problem.hint.startswith("did you mean 'flat'?")
    assert "none, flat, first_visit, tiers, points, promotion, win_back" in problem.hint


def test_unknown_channel_name() -> None:
    problem = only(MINIMAL + "[channels.phone_cal]\ncost = 3\n")
    assert (problem.line, problem.key_path) == (6, "channels.phone_cal")
    assert problem.hint == "did you mean 'phone_call'?"


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ('price = "4.5"', 'expected a number, got the string "4.5"'),
        ("price = true", "expected a number, got the boolean true"),
        ("price = [4.5]", "expected a number, got an array"),
        ("prospects_per_month = {a = 1}", "expected a number, got a table"),
    ],
)
def test_wrong_types_say_what_was_expected_and_given(assignment: str, message: str) -> None:
    problem = only(MINIMAL.replace("price = 4.5", assignment))
    assert problem.line == 5
    assert problem.message == message


def test_quoted_number_hints_at_the_quotes() -> None:
    assert only(MINIMAL.replace("4.5", '"4.5"')).hint == "remove the quotes"


def test_whole_number_written_with_a_decimal_point() -> None:
    text = MINIMAL.replace('name = "Corner café"', 'name = "x"\nhorizon_days = 90.0')
    found = only(text)
    assert (found.line, found.key_path) == (3, "scenario.horizon_days")
    assert found.message == "expected a whole number, got the number 90.0"
    assert found.hint == "write 90 without a decimal point"


def test_string_expected() -> None:
    problem = only(MINIMAL.replace('"Corner café"', "42"))
    assert (problem.line, problem.key_path) == (2, "scenario.name")
    assert problem.message == "expected a string (in quotes), got the integer 42"


def test_negative_money() -> None:
    problem = only(MINIMAL + "unit_cost = -1.4\n")
    assert (problem.line, problem.key_path) == (6, "business.unit_cost")
    assert problem.message == "must be at least 0, got -1.4"


def test_price_must_be_positive() -> None:
    problem = only(MINIMAL.replace("4.5", "0"))
    assert problem.message == "must be greater than 0, got 0"


@pytest.mark.parametrize(
    ("extra", "line", "key_path", "message"),
    [
        ("[discount]\nkind = 'flat'\nrate = 1.5\n", 8, "discount.rate",
         "must be at most 1, got 1.5"),
        ("[discount]\nkind = 'flat'\nrate = -0.1\n", 8, "discount.rate",
         "must be at least 0, got -0.1"),
        ("[guard]\nmax_ruin_probability = 2\n", 7, "guard.max_ruin_probability",
         "must be less than 1, got 2"),
        # No finite number of runs can show a risk of exactly zero.
        ("[guard]\nmax_ruin_probability = 0\n", 7, "guard.max_ruin_probability",
         "must be greater than 0, got 0"),
        ("[[customers.segments]]\nname = 'a'\ndeal_proneness = 1.01\n", 8,
         "customers.segments.0.deal_proneness", "must be at most 1, got 1.01"),
    ],
)  # fmt: skip
def test_rates_outside_zero_to_one(extra: str, line: int, key_path: str, message: str) -> None:
    problem = only(MINIMAL + extra)
    assert (problem.line, problem.key_path, problem.message) == (line, key_path, message)


def test_a_percentage_written_as_a_rate_gets_a_hint() -> None:
    problem = only(MINIMAL + "service_quality = 75\n")
    assert problem.hint == "rates and shares are fractions: write 0.75 for 75%"


def test_discriminator_tag_is_stripped_from_the_key_path() -> None:
    text = (
        MINIMAL
        + """
[discount]
kind = "tiers"
tiers = [
    {visits = 5, rate = 0.05},
    {visits = 20, rate = 10},
]
"""
    )
    problem = only(text)
    assert (problem.line, problem.key_path) == (11, "discount.tiers.1.rate")


def test_model_level_check_points_at_the_table() -> None:
    text = MINIMAL + "\n[competitor]\npromotion_every_days = 10\npromotion_days = 20\n"
    problem = only(text)
    assert (problem.line, problem.key_path) == (7, "competitor")
    assert problem.message == "promotion_days cannot exceed promotion_every_days"


def test_segment_shares_must_sum_to_one() -> None:
    text = (
        MINIMAL
        + """
[[customers.segments]]
name = "regulars"
share = 0.5

[[customers.segments]]
name = "occasionals"
share = 0.4
"""
    )
    problem = only(text)
    assert (problem.line, problem.key_path) == (7, "customers.segments")
    assert "sum to 0.9; they must sum to 1" in problem.message


def test_a_bad_segment_does_not_also_report_an_empty_segments_list() -> None:
    problem = only(MINIMAL + "[[customers.segments]]\nname = 'a'\nshare = 'all'\n")
    assert problem.key_path == "customers.segments.0.share"


def test_duplicate_variant_names() -> None:
    text = (
        MINIMAL
        + """
[[variants]]
name = "a"

[[variants]]
name = "a"
"""
    )
    problem = only(text)
    assert (problem.line, problem.key_path) == (7, "variants")
    assert problem.message == "duplicate variant name 'a'"


def test_population_too_large_for_memory_states_the_limit() -> None:
    text = MINIMAL + f"prospects_per_month = 1000\n\n[customers]\ninitial = {MAX_CUSTOMERS}\n"
    problem = only(text)
    assert (problem.line, problem.key_path) == (8, "customers")
    assert "population too large" in problem.message
    assert f"the limit is {MAX_CUSTOMERS:,} customers" in problem.message


def test_missing_scenario_table_and_name() -> None:
    problem = only("[business]\nprice = 4\n")
    assert (problem.line, problem.key_path) == (1, "scenario")
    assert "required" in problem.message
    problem = only("[business]\nprice = 4\n\n[scenario]\nhorizon_days = 30\n")
    assert (problem.line, problem.key_path) == (4, "scenario.name")


def test_every_problem_is_reported_at_once_in_line_order() -> None:
    text = """\
[scenario]
name = "x"
horizon_days = -5

[business]
price = "4.5"
pricee = 3
"""
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, "f.toml")
    assert str(info.value).splitlines() == [
        # Issue #16: a bound names what the key means (its schema description).
        "f.toml:3: scenario.horizon_days: must be at least 1, got -5 "
        "(horizon_days: simulated days)",
        'f.toml:6: business.price: expected a number, got the string "4.5" (remove the quotes)',
        "f.toml:7: business.pricee: unknown key 'pricee' (did you mean 'price'?)",
    ]


# ----------------------------------------------------------------------------- overrides


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0.1", 0.1),
        ("90", 90),
        ("true", True),
        ('"0.1"', "0.1"),
        ("'quoted'", "quoted"),
        ("flat", "flat"),
        ("Corner café", "Corner café"),
        ("  padded  ", "padded"),
        ("", ""),
        ("[1, 2]", [1, 2]),
        ("{visits = 5, rate = 0.05}", {"visits": 5, "rate": 0.05}),
        ("0.1\nx = 2", "0.1\nx = 2"),
    ],
)
def test_override_values_are_toml_literals_or_text(text: str, value: object) -> None:
    assert parse_override_value(text) == value


def test_parse_override_splits_on_the_first_equals_sign() -> None:
    assert parse_override(" discount.rate = 0.1") == ("discount.rate", 0.1)
    assert parse_override("scenario.name=a=b") == ("scenario.name", "a=b")
    for bad in ("discount.rate", "=1", "discount..rate=1", "discount.=1"):
        with pytest.raises(ValueError):
            parse_override(bad)


def test_overrides_apply_before_validation() -> None:
    overrides = ["scenario.horizon_days=90", "business.price=5", "guard.max_ruin_probability=0.1"]
    scenario = load_scenario_text(MINIMAL, overrides=overrides)
    assert scenario.scenario.horizon_days == 90
    assert scenario.business.price == 5
    assert scenario.guard.max_ruin_probability == 0.1


def test_override_creates_missing_tables_in_any_order() -> None:
    for overrides in (
        ["discount.kind=flat", "discount.rate=0.3"],
        ["discount.rate=0.3", "discount.kind=flat"],
    ):
        assert load_scenario_text(MINIMAL, overrides=overrides).discount == FlatDiscount(rate=0.3)


def test_mapping_overrides_are_python_values_used_as_is() -> None:
    scenario = load_scenario_text(MINIMAL, overrides={"scenario.seed": 7, "business.price": 3})
    assert (scenario.scenario.seed, scenario.business.price) == (7, 3)
    problem = only(MINIMAL, {"business.price": "3"})
    assert problem.message == 'expected a number, got the string "3"'


def test_override_into_an_array_of_tables() -> None:
    text = MINIMAL + "[[customers.segments]]\nname = 'a'\n[[customers.segments]]\nname = 'b'\n"
    scenario = load_scenario_text(
        text, overrides=["customers.segments.0.share=0.4", "customers.segments.1.share=0.6"]
    )
    assert [s.share for s in scenario.customers.segments] == [0.4, 0.6]


def test_override_index_must_exist() -> None:
    text = MINIMAL + "[[customers.segments]]\nname = 'a'\n"
    problem = only(text, ["customers.segments.2.share=0.4"])
    assert (problem.file, problem.line) == ("<--set>", 1)
    assert "index 2 does not exist" in problem.message
    problem = only(MINIMAL, ["customers.segments.0.share=0.4"])
    assert "index 0 does not exist" in problem.message


def test_override_of_an_unknown_key_is_a_problem_with_did_you_mean() -> None:
    problem = only(MINIMAL, ["discount.kind=flat", "discount.rat=0.1"])
    assert str(problem) == (
        "<--set>:2: discount.rat: unknown key 'rat' for discount kind 'flat' (did you mean 'rate'?)"
    )
    problem = only(MINIMAL, ["busines.price=3"])
    assert (problem.key_path, problem.hint) == ("busines.price", "did you mean 'business'?")


def test_override_into_a_value_is_a_problem() -> None:
    problem = only(MINIMAL, ["business.price.x=3"])
    assert problem.file == "<--set>"
    assert "not a table" in problem.message


def test_bad_override_value_is_reported_at_the_override() -> None:
    problem = only(MINIMAL, ["scenario.horizon_days=90", "business.price=-1"])
    assert str(problem) == (
        "<--set>:2: business.price: must be greater than 0, got -1 "
        "(price: list price of an average ticket)"  # issue #16: the key's meaning
    )


def test_malformed_override_text() -> None:
    problem = only(MINIMAL, ["discount.rate"])
    assert (problem.file, problem.line) == ("<--set>", 1)
    assert "KEY=VALUE" in problem.message


def test_nan_override_is_rejected() -> None:
    problem = only(MINIMAL, ["business.price=nan"])
    assert (problem.file, problem.key_path) == ("<--set>", "business.price")


def test_switching_kind_starts_a_fresh_discount_table() -> None:
    # The base's keys belong to the old kind; the overrides' own keys of the new one apply.
    text = MINIMAL + '[discount]\nkind = "flat"\nrate = 0.1\n'
    scenario = load_scenario_text(text, overrides=["discount.kind=points"])
    assert scenario.discount.kind == "points"
    scenario = load_scenario_text(
        text, overrides=["discount.kind=points", "discount.reward_points=50.0"]
    )
    assert scenario.discount.kind == "points" and scenario.discount.reward_points == 50.0


def test_keys_of_another_kind_in_the_same_overrides_are_errors_with_a_hint() -> None:
    text = MINIMAL + '[discount]\nkind = "flat"\nrate = 0.1\n'
    problem = only(text, ["discount.kind=points", "discount.rate=0.2"])
    assert (problem.file, problem.line, problem.key_path) == ("<--set>", 2, "discount.rate")
    assert "'rate' is a key of discount kind" in problem.hint


# ----------------------------------------------------------------------------- variants

VARIANTS = (
    MINIMAL
    + """
[discount]
kind = "flat"
rate = 0.1

[[variants]]
name = "deeper discount"
set = { "discount.rate" = 0.2 }

[[variants]]
name = "points card"
set = { "discount" = { kind = "points", reward_value = 4.5 }, "business.price" = 5 }
"""
)


def test_variant_scenarios_apply_each_set_to_the_base() -> None:
    scenario = load_scenario_text(VARIANTS)
    variants = variant_scenarios(scenario)
    assert [name for name, _ in variants] == ["base", "deeper discount", "points card"]
    assert variants[0][1] is scenario
    deeper, points = variants[1][1], variants[2][1]
    assert deeper.discount == FlatDiscount(rate=0.2)
    assert points.discount.kind == "points"
    assert (points.business.price, deeper.business.price) == (5, 4.5)
    assert deeper.variants == () and points.variants == ()
    assert deeper.scenario == scenario.scenario


def test_a_variant_equals_the_base_with_the_same_overrides() -> None:
    scenario = load_scenario_text(VARIANTS)
    (_, _, (_, points)) = variant_scenarios(scenario)
    direct = load_scenario_text(
        VARIANTS.split("[[variants]]")[0],
        overrides={"discount": {"kind": "points", "reward_value": 4.5}, "business.price": 5},
    )
    assert points == direct


def test_overrides_reach_the_variants() -> None:
    scenario = load_scenario_text(VARIANTS, overrides=["business.unit_cost=2"])
    assert {v.business.unit_cost for _, v in variant_scenarios(scenario)} == {2}


def test_variants_of_a_scenario_built_in_python() -> None:
    base = Scenario(
        scenario=Meta(name="x"),
        discount=FlatDiscount(),
        variants=(Variant(name="v", set={"discount.rate": 0.3}),),
    )
    (_, _), (name, variant) = variant_scenarios(base)
    assert (name, variant.discount) == ("v", FlatDiscount(rate=0.3))
    bad = base.model_copy(update={"variants": (Variant(name="v", set={"discount.rat": 1}),)})
    with pytest.raises(ScenarioError, match="did you mean 'rate'"):
        variant_scenarios(bad)


def test_variant_naming_an_unknown_key_is_reported_at_its_set_line() -> None:
    text = VARIANTS.replace('"discount.rate" = 0.2', '"discount.rat" = 0.2')
    problem = only(text)
    assert (problem.line, problem.key_path) == (13, "discount.rat")
    assert problem.message.startswith("variant 'deeper discount': unknown key 'rat'")
    assert problem.hint == "did you mean 'rate'?"


def test_variant_with_a_bad_value_is_reported_at_load_time() -> None:
    text = VARIANTS.replace('"discount.rate" = 0.2', '"discount.rate" = 2')
    problem = only(text)
    assert (problem.line, problem.key_path) == (13, "discount.rate")
    assert "must be at most 1" in problem.message


def test_variant_with_a_set_subtable_is_located() -> None:
    text = MINIMAL + "\n[[variants]]\nname = 'v'\n[variants.set]\n'business.prise' = 3\n"
    problem = only(text)
    assert (problem.line, problem.key_path) == (10, "business.prise")


@pytest.mark.parametrize(
    ("key", "flag"),
    [("scenario.seed", "--seed"), ("scenario.replications", "--reps"),
     ("scenario.horizon_days", "--days")],
)  # fmt: skip
def test_a_variant_cannot_change_run_level_keys(key: str, flag: str) -> None:
    text = MINIMAL + f"\n[[variants]]\nname = 'v'\nset = {{'{key}' = 3}}\n"
    problem = only(text)
    assert (problem.line, problem.key_path) == (9, key)
    assert "cannot change" in problem.message
    assert flag in problem.hint


def test_a_variant_replacing_the_scenario_table_is_caught_too() -> None:
    problem = only(MINIMAL + "\n[[variants]]\nname = 'v'\nset = {scenario = {name = 'y'}}\n")
    assert "scenario.seed, scenario.replications, scenario.horizon_days" in problem.message


def test_a_variant_cannot_define_variants() -> None:
    problem = only(MINIMAL + "\n[[variants]]\nname = 'v'\nset = {variants = []}\n")
    assert problem.message.endswith("a variant cannot set variants")


def test_a_variant_switching_kinds_drops_the_base_kinds_keys() -> None:
    text = VARIANTS.replace('"discount.rate" = 0.2', '"discount.kind" = "tiers"')
    base, variant = variant_scenarios(load_scenario_text(text))[:2]
    assert base[1].discount.kind == "flat"
    assert variant[1].discount.kind == "tiers"


def test_a_variant_switching_kinds_with_keys_of_another_kind_is_reported() -> None:
    text = VARIANTS.replace(
        '"discount.rate" = 0.2', '"discount.kind" = "tiers", "discount.rate" = 0.2'
    )
    problem = only(text)
    assert (problem.line, problem.key_path) == (13, "discount.rate")
    assert "for discount kind 'tiers'" in problem.message


# ----------------------------------------------------------------------------- the rest


def test_scenario_error_is_a_value_error_that_pickles() -> None:
    error = ScenarioError([Problem("f", 3, "a.b", "bad", "fix"), Problem("f", 0, "", "gone")])
    assert isinstance(error, ValueError)
    assert str(error) == "f:3: a.b: bad (fix)\nf: gone"
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems and str(copy) == str(error)


def test_json_schema_names_the_sections() -> None:
    schema = scenario_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "loyaltysim scenario"
    assert {"scenario", "business", "discount", "variants"} <= set(schema["properties"])
    assert schema["required"] == ["scenario"]


def test_shipped_scenarios_load_with_their_variants() -> None:
    shipped = sorted((Path(__file__).resolve().parents[3] / "scenarios").glob("*.toml"))
    assert shipped, "no scenarios/*.toml found"
    for path in shipped:
        assert variant_scenarios(load_scenario(path))[0][0] == "base"


# ----------------------------------------------------------------------------- the locator

LOCATED = '''\
title."a.b" = 1
[scenario]
name = """two
lines "" here"""
other = 'x'
[[customers.segments]]
name = "a"
[customers.segments.extra]
z = 1
[[customers.segments]]
  name = "b"  # comment with [brackets] and = signs
[discount]
kind = "tiers"
tiers = [
  { visits = 5, rate = 0.05 },  # first

  { visits = 20, rate = 0.1 },
]
[[variants]]
name = "v"
set = { "discount.rate" = 0.1, plain.dotted = 2 }
'''


@pytest.mark.parametrize(
    ("path", "line"),
    [
        (("title", "a.b"), 1),
        (("scenario",), 2),
        (("scenario", "other"), 5),
        (("customers", "segments", 0), 6),
        (("customers", "segments", 0, "extra", "z"), 9),
        (("customers", "segments", 1), 10),
        (("customers", "segments", 1, "name"), 11),
        (("discount", "tiers", 0, "rate"), 15),
        (("discount", "tiers", 1, "visits"), 17),
        (("variants", 0, "set", "discount.rate"), 21),
        (("variants", 0, "set", "plain", "dotted"), 21),
        (("customers", "segments", 1, "share"), 10),  # not in the file: its table
        (("nowhere", "at", "all"), 1),
    ],
)
def test_locator_finds_the_line_of_a_key(path: tuple[str | int, ...], line: int) -> None:
    assert _Locator(LOCATED).line(path) == line


def test_locator_stops_gracefully_on_text_it_does_not_expect() -> None:
    locator = _Locator("[scenario]\nname = 'x'\n!!! not toml\n")
    assert locator.line(("scenario", "name")) == 2
    assert locator.line(("later",)) == 1
