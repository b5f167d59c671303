"""Scenario schema, loading, validation and overrides.

The names are imported lazily (PEP 562): ``loyaltysim --help`` imports
:mod:`loyaltysim.scenario.errors` and must not pay for pydantic, numpy and the schema
(issue #15); the first use of any name below imports its module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyaltysim.lazy_names import lazy_names

if TYPE_CHECKING:
    from loyaltysim.scenario.errors import Problem, ScenarioError
    from loyaltysim.scenario.loader import (
        MAX_DEPTH,
        MAX_FILE_BYTES,
        RUN_LEVEL_KEYS,
        load_scenario,
        load_scenario_text,
        parse_override,
        parse_override_value,
        scenario_json_schema,
        variant_scenarios,
    )
    from loyaltysim.scenario.schema import MAX_CUSTOMERS, Scenario
    from loyaltysim.scenario.templates import template_names, template_text

_LOADER = "loyaltysim.scenario.loader"
# name -> the module that defines it (imported on first use).
_LAZY = {
    "MAX_CUSTOMERS": "loyaltysim.scenario.schema",
    "MAX_DEPTH": _LOADER,
    "MAX_FILE_BYTES": _LOADER,
    "RUN_LEVEL_KEYS": _LOADER,
    "Problem": "loyaltysim.scenario.errors",
    "Scenario": "loyaltysim.scenario.schema",
    "ScenarioError": "loyaltysim.scenario.errors",
    "load_scenario": _LOADER,
    "load_scenario_text": _LOADER,
    "parse_override": _LOADER,
    "parse_override_value": _LOADER,
    "scenario_json_schema": _LOADER,
    "template_names": "loyaltysim.scenario.templates",
    "template_text": "loyaltysim.scenario.templates",
    "variant_scenarios": _LOADER,
}


__getattr__, __dir__ = lazy_names(globals(), _LAZY)

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
