"""Scenario schema, loading, validation and overrides."""

from loyaltysim.scenario.loader import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    RUN_LEVEL_KEYS,
    Problem,
    ScenarioError,
    load_scenario,
    load_scenario_text,
    parse_override,
    parse_override_value,
    scenario_json_schema,
    variant_scenarios,
)
from loyaltysim.scenario.schema import MAX_CUSTOMERS, Scenario
from loyaltysim.scenario.templates import template_names, template_text

__all__ = [
    "MAX_CUSTOMERS",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "RUN_LEVEL_KEYS",
    "Problem",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "load_scenario_text",
    "parse_override",
    "parse_override_value",
    "scenario_json_schema",
    "template_names",
    "template_text",
    "variant_scenarios",
]
