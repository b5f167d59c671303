"""Loading scenario files: read, check, override, validate, and say where it went wrong.

The flow for one file::

    bytes -> text -> tomllib dict -> (pre-checks) -> overrides applied -> Scenario
                                                                       -> each variant

Everything that can be wrong with a file is reported as a :class:`Problem` that names the
file, the line where the key stands, the key in the user's dotted form and a hint, and all
of a file's problems are raised together in one :class:`ScenarioError`. A file that loads
has had every ``[[variants]]`` entry built and validated too, so a bad variant never starts
a run.

The loader is split by concern: this module is the flow and the public API; the error
report (:class:`Problem`, :class:`ScenarioError`, explaining pydantic's errors) is
:mod:`loyaltysim.scenario.problems`; overrides (``--set`` and a variant's ``set``) are
:mod:`loyaltysim.scenario.overrides`; finding the line of a key in the TOML text is
:mod:`loyaltysim.scenario.locations`. Their public names are this module's too.
"""

from __future__ import annotations

import copy
import os
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

from loyaltysim.scenario.errors import KeyPath, Problem, ScenarioError
from loyaltysim.scenario.locations import _Locator
from loyaltysim.scenario.overrides import (
    OVERRIDE_SOURCE,
    RUN_LEVEL_KEYS,
    ValueTooDeep,
    _fixed,
    _Override,
    _overrides,
    _resolve,
    _split_key,
    _thaw,
    _variant_keys_allowed,
    parse_override,
    parse_override_value,
)
from loyaltysim.scenario.problems import (
    MAX_DEPTH,
    _depth_problem,
    _nonfinite,
    _nonfinite_problem,
    _toml_error,
    _unique,
)
from loyaltysim.scenario.schema import Scenario, anchor_reservation_price

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "OVERRIDE_SOURCE",
    "RUN_LEVEL_KEYS",
    "Problem",
    "ScenarioError",
    "ValueTooDeep",
    "load_scenario",
    "load_scenario_text",
    "parse_override",
    "parse_override_value",
    "scenario_json_schema",
    "variant_scenarios",
]

MAX_FILE_BYTES = 1 << 20  # 1 MiB: a scenario is a page of settings, not a data file


def load_scenario(
    path: str | os.PathLike[str],
    overrides: Mapping[str, object] | Sequence[str] | None = None,
) -> Scenario:
    """Read, check and validate a scenario file, with its variants.

    Parameters
    ----------
    path
        The TOML file.
    overrides
        Either ``"dotted.key=VALUE"`` strings (the value a TOML literal, falling back to
        a plain string, as ``--set`` on the command line) or a mapping of dotted key to a
        Python value (used as is). Applied to the file's data before validation.

    Returns
    -------
    Scenario
        The validated scenario; :func:`variant_scenarios` expands its variants.

    Raises
    ------
    ScenarioError
        With every problem found: unreadable, too large, empty, not TOML, too deeply
        nested, NaN/inf values, unknown keys, wrong types, values out of bounds, bad
        overrides, bad variants.
    """
    name = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError([Problem(name, 0, "", "no such file")]) from None
    except IsADirectoryError:
        raise ScenarioError([Problem(name, 0, "", "is a directory, not a file")]) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ScenarioError([Problem(name, 0, "", f"cannot read the file: {reason}")]) from None
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioError([_too_large(name)])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            [Problem(name, line, "", "the file is not UTF-8 text", "TOML files are UTF-8")]
        ) from None
    return _load(text, name, overrides)


def load_scenario_text(
    text: str,
    filename: str = "<string>",
    overrides: Mapping[str, object] | Sequence[str] | None = None,
) -> Scenario:
    """Like :func:`load_scenario`, from TOML text; ``filename`` is used in problems."""
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        raise ScenarioError([_too_large(filename)])
    return _load(text, filename, overrides)


def variant_scenarios(scenario: Scenario) -> list[tuple[str, Scenario]]:
    """The base scenario and one scenario per ``[[variants]]`` entry, in file order.

    Each variant is the base with the variant's ``set`` applied (as overrides of the keys
    the base sets; defaults stay defaults) and with no variants of its own.

    Returns
    -------
    list of (name, Scenario)
        ``("base", scenario)`` first.

    Raises
    ------
    ScenarioError
        If a variant is invalid. Never for a scenario that came from :func:`load_scenario`,
        which checks its variants (with line numbers) before returning.
    """
    out: list[tuple[str, Scenario]] = [("base", scenario)]
    if not scenario.variants:
        return out
    # The keys the user set, not the full dump: a full dump would carry every default of
    # the base's discount kind into a variant that switches kinds, where they are unknown.
    base = _thaw(scenario.model_dump(mode="python", exclude_unset=True))
    base.pop("variants", None)
    # Seed, replications and horizon are shared by every variant: copy them in full, so
    # that no way of building the base (model_copy, defaults) can let a variant differ.
    base["scenario"] = scenario.scenario.model_dump(mode="python")
    if "discount" in base:
        # The discriminator is needed even when the policy was built with its default kind.
        base["discount"]["kind"] = scenario.discount.kind
    problems: list[Problem] = []
    for variant in scenario.variants:
        label = f"variant {variant.name!r}: "
        ovs = [
            _Override("<scenario>", 0, key, _split_key(key), value, label)
            for key, value in variant.set.items()
        ]
        ovs, bad = _variant_keys_allowed(ovs)
        problems += bad
        built, found = _resolve(copy.deepcopy(base), ovs, _fixed("<scenario>", 0), label)
        problems += found
        if built is not None:
            out.append((variant.name, built))
    if problems:
        raise ScenarioError(problems)
    return out


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file, for editor completion and checking.

    Returns
    -------
    dict
        A JSON Schema (draft 2020-12) generated from :class:`Scenario`.
    """
    schema = Scenario.model_json_schema()
    schema.pop("title", None)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "loyaltysim scenario",
        **schema,
    }


def _too_large(name: str) -> Problem:
    return Problem(
        name, 1, "", f"the file is larger than {MAX_FILE_BYTES:,} bytes (1 MiB)",
        "a scenario is a page of settings; is this the right file?",
    )  # fmt: skip


def _load(text: str, file: str, overrides: Mapping[str, object] | Sequence[str] | None) -> Scenario:
    text = text.removeprefix("\ufeff")  # editors on Windows write a BOM; TOML has none
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line, message = _toml_error(exc, text)
        raise ScenarioError([Problem(file, line, "", f"not valid TOML: {message}")]) from None
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        raise ScenarioError([_depth_problem(file, 1, ())]) from None
    if not raw:
        raise ScenarioError(
            [Problem(file, 1, "", "the file is empty", "`loyaltysim init FILE` writes a start")]
        )
    locator = _Locator(text)
    deep = _too_deep(raw)
    if deep is not None:
        raise ScenarioError([_depth_problem(file, locator.line(deep), deep)])
    anchor_reservation_price(raw)  # before overrides: a changed price then moves demand

    def in_file(path: KeyPath) -> tuple[str, int]:
        return file, locator.line(path)

    problems: list[Problem] = []
    nonfinite = list(_nonfinite(raw))
    for path in nonfinite:
        problems.append(_nonfinite_problem(file, locator.line(path), path))
    ovs, found = _overrides(overrides)
    problems += found
    scenario, found = _resolve(raw, ovs, in_file, skip=nonfinite)
    problems += found
    problems += _check_variants(raw, locator, file, validate=scenario is not None)
    if problems:
        ordered = sorted(_unique(problems), key=lambda p: (p.file != file, p.line))
        raise ScenarioError(ordered)
    assert scenario is not None  # _resolve returns a scenario when it finds no problem
    return _with_customers_file(scenario, file, locator)


def _with_customers_file(scenario: Scenario, file: str, locator: _Locator) -> Scenario:
    """Check the file of ``calibration.customers`` and keep its path absolute (a run's
    workers and its resolved scenario do not know the scenario file's folder)."""
    value = scenario.calibration.customers
    if not value:
        return scenario
    from loyaltysim.scenario import customers_file

    path = customers_file.resolve(value, file)
    found = customers_file.problem(path)
    if found is not None:
        line = locator.line(("calibration", "customers"))
        raise ScenarioError([Problem(file, line, "calibration.customers", *found)])
    calibration = scenario.calibration.model_copy(update={"customers": str(path)})
    return scenario.model_copy(update={"calibration": calibration})


def _check_variants(
    data: dict[str, Any], locator: _Locator, file: str, *, validate: bool
) -> list[Problem]:
    """Build every ``[[variants]]`` entry of the (overridden) base ``data``.

    Unknown keys and run-level keys are always reported; building and validating each
    variant only when the base is valid (otherwise its errors would repeat the base's).
    """
    variants = data.get("variants")
    if not isinstance(variants, list):
        return []
    base = {key: value for key, value in data.items() if key != "variants"}
    problems: list[Problem] = []
    for i, variant in enumerate(variants):
        if not isinstance(variant, dict) or not isinstance(variant.get("set"), dict):
            continue  # the schema reports it
        label = f"variant {variant.get('name', i)!r}: "
        where = ("variants", i, "set")
        ovs = [
            _Override(file, locator.line((*where, key)), key, _split_key(key), value, label)
            for key, value in variant["set"].items()
            if next(_nonfinite(value), None) is None  # reported with the file's own checks
        ]
        ovs, bad = _variant_keys_allowed(ovs)
        problems += bad
        _, found = _resolve(
            copy.deepcopy(base), ovs, _fixed(file, locator.line(where)), label, validate=validate
        )
        problems += found
    return problems


# ----------------------------------------------------------------------------- pre-checks


def _too_deep(data: dict[str, Any]) -> KeyPath | None:
    """The first path nested deeper than :data:`MAX_DEPTH` (the file is level 1), if any."""
    # Iterative: dotted keys can nest a table thousands deep without tomllib recursing.
    stack: list[tuple[KeyPath, Any]] = [((), data)]
    while stack:
        path, node = stack.pop()
        if len(path) + 1 > MAX_DEPTH:
            return path
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if isinstance(value, dict | list):
                stack.append(((*path, key), value))
    return None
