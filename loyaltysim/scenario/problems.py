"""The error report of a scenario: what is wrong, where, and how to fix it.

A :class:`Problem` names the file, the line where the key stands, the key in the user's
dotted form and a hint; :class:`ScenarioError` carries all of a file's problems at once
(both in :mod:`loyaltysim.scenario.errors`, which imports nothing heavy). This module
turns pydantic's errors and the raw TOML data into such problems: it walks the schema's
types to tell an unknown key from a wrong value, suggests the key that was meant, and
describes the value that was given.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import tomllib
import types
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from loyaltysim.policies import POLICIES, DiscountBase
from loyaltysim.scenario.errors import KeyPath, Problem
from loyaltysim.scenario.schema import Scenario

MAX_DEPTH = 8  # the deepest valid scenario nests 6 levels (variants.N.set."k".N.key)


def _toml_error(exc: tomllib.TOMLDecodeError, text: str) -> tuple[int, str]:
    """tomllib's message without its position suffix, and the line it names."""
    message = str(exc)
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if match:
        what = _lower_first(message[: match.start()])
        return int(match.group(1)), f"{what} (column {match.group(2)})"
    if message.endswith("(at end of document)"):
        return text.count("\n") + 1, message.replace("(at end of document)", "at the end")
    return 1, message


def _depth_problem(file: str, line: int, path: KeyPath) -> Problem:
    shown = _dotted(path[: MAX_DEPTH + 1]) + (" ..." if len(path) > MAX_DEPTH + 1 else "")
    return Problem(
        file, line, shown, f"tables and arrays are nested deeper than {MAX_DEPTH} levels",
        "no scenario key is that deep",
    )  # fmt: skip


def _nonfinite(value: Any) -> Iterator[KeyPath]:
    """Paths (relative to ``value``) of NaN and infinite floats, in order."""
    stack: list[tuple[KeyPath, Any]] = [((), value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            yield path
        elif isinstance(node, dict | list):
            items = list(node.items() if isinstance(node, dict) else enumerate(node))
            stack.extend(((*path, key), item) for key, item in reversed(items))


def _nonfinite_problem(file: str, line: int, path: KeyPath, label: str = "") -> Problem:
    return Problem(file, line, _dotted(path), label + "nan and inf are not allowed",
                   "every number in a scenario must be finite")  # fmt: skip


def _unique(problems: Sequence[Problem]) -> list[Problem]:
    """Problems in order, each once (two errors can explain to the same line)."""
    return list(dict.fromkeys(problems))


def _unwrap(ann: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` down to the type that holds the value."""
    while True:
        origin = get_origin(ann)
        if origin is Annotated:
            ann = get_args(ann)[0]
        elif origin in (Union, types.UnionType):
            args = [arg for arg in get_args(ann) if arg is not type(None)]
            if len(args) != 1:
                return ann
            ann = args[0]
        else:
            return ann


def _is_discount_union(ann: Any) -> bool:
    return get_origin(ann) in (Union, types.UnionType) and all(
        isinstance(arg, type) and issubclass(arg, DiscountBase) for arg in get_args(ann)
    )


def _is_model(ann: Any) -> bool:
    return isinstance(ann, type) and issubclass(ann, BaseModel)


def _child(ann: Any, part: str | int) -> Any:
    """The annotation of ``part`` inside a value of annotation ``ann`` (Any if unknown)."""
    ann = _unwrap(ann)
    if _is_model(ann):
        field = ann.model_fields.get(part) if isinstance(part, str) else None
        return field.annotation if field is not None else Any
    origin = get_origin(ann)
    if origin in (tuple, list):
        return get_args(ann)[0]
    if origin is dict:
        return get_args(ann)[1]
    return Any


def _check_path(path: KeyPath, data: Any) -> tuple[int, str, str] | None:
    """Whether ``path`` names a key the schema has.

    Returns None if it does, else ``(index of the bad part, message, hint)``. The discount
    kind, which decides the discount's keys, is read from ``data``.
    """
    ann: Any = Scenario
    node = data
    for n, part in enumerate(path):
        ann = _unwrap(ann)
        here = _dotted(path[:n])
        if _is_discount_union(ann):
            kind = node.get("kind", "none") if isinstance(node, dict) else "none"
            if not isinstance(kind, str) or kind not in POLICIES:
                return None  # validation reports the kind itself
            ann = POLICIES[kind]
        if _is_model(ann):
            if not isinstance(part, str) or part not in ann.model_fields:
                message, hint = _unknown_key(str(part), ann)
                return n, message, hint
            ann = ann.model_fields[part].annotation
        elif get_origin(ann) in (tuple, list):
            if not isinstance(part, int) and not str(part).isdigit():
                return n, f"{here} is an array; expected an index, got {part!r}", ""
            ann = get_args(ann)[0]
        elif get_origin(ann) is dict:
            keys = _unwrap(get_args(ann)[0])
            if get_origin(keys) is Literal and part not in get_args(keys):
                names = [str(arg) for arg in get_args(keys)]
                return n, f"unknown key {part!r} in {here}", _did_you_mean(str(part), names)
            ann = get_args(ann)[1]
        elif ann is Any:
            return None  # free-form (a variant's set): anything goes here
        else:
            return n, f"{here} is a single value, not a table; it has no key {part!r}", ""
        node = _get(node, part)
    return None


def key_description(path: KeyPath, data: Any = None) -> str:
    """The schema's description of the key at ``path`` (the one kept beside the key in
    :mod:`loyaltysim.scenario.schema`, which the report and the docs show too), or ``""``.

    A discount key is looked up in the class of the discount kind ``data`` names.
    """
    ann: Any = Scenario
    node = data
    description = ""
    for part in path:
        ann = _unwrap(ann)
        if _is_discount_union(ann):
            kind = node.get("kind", "none") if isinstance(node, dict) else "none"
            ann = POLICIES.get(kind) if isinstance(kind, str) else None
            if ann is None:
                return ""
        if _is_model(ann):
            field = ann.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return ""
            description, ann = field.description or "", field.annotation
        elif get_origin(ann) in (tuple, list, dict):
            ann = get_args(ann)[-1] if get_origin(ann) is dict else get_args(ann)[0]
            description = ""
        else:
            return ""
        node = _get(node, part)
    return description


def _get(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and str(part).isdigit() and int(part) < len(node):
        return node[int(part)]
    return None


def _typed(parts: Sequence[str], data: Any) -> KeyPath:
    """``parts`` with list indexes as ints, following ``data`` as far as it goes."""
    out: list[str | int] = []
    node = data
    for part in parts:
        out.append(int(part) if isinstance(node, list) and part.isdigit() else part)
        node = _get(node, part)
    return tuple(out)


def _unknown_key(key: str, model: type[BaseModel]) -> tuple[str, str]:
    """Message and hint for ``key`` that ``model`` does not have."""
    valid = list(model.model_fields)
    if issubclass(model, DiscountBase):
        kind = model.model_fields["kind"].default
        owners = [k for k, cls in POLICIES.items() if key in cls.model_fields]
        if owners and kind == "none":
            return (
                f"unknown key {key!r} for discount kind 'none'",
                f"{key!r} is a key of discount kind {_or(owners)}; the scenario has no "
                f"discount, so name the kind in the same go: --set discount.kind={owners[0]} "
                f"--set discount.{key}=..., or in Python {{'discount.kind': '{owners[0]}', "
                f"'discount.{key}': ...}}",
            )
        if owners:
            return (
                f"unknown key {key!r} for discount kind {kind!r}",
                f"{key!r} is a key of discount kind {_or(owners)}, not carried over to another "
                f"kind; remove it, or switch kinds by setting the whole table: "
                f'discount = {{kind = "{kind}", ...}}',
            )
        return f"unknown key {key!r} for discount kind {kind!r}", _did_you_mean(key, valid)
    return f"unknown key {key!r}", _did_you_mean(key, valid)


def _did_you_mean(word: str, valid: Sequence[str]) -> str:
    lowered = {v.lower(): v for v in valid}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    if close:
        return f"did you mean {lowered[close[0]]!r}?"
    if len(valid) <= 12:
        return "valid keys: " + ", ".join(valid)
    return "`loyaltysim schema` lists the valid keys"


def _or(words: Sequence[str]) -> str:
    quoted = [repr(w) for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _drop_echoes(errors: list[Any]) -> list[Any]:
    """Drop a tuple's ``too_short`` that only echoes errors in its items.

    pydantic validates a tuple's length after its items, counting only the valid ones, so
    a bad segment also yields "should have at least 1 item" for the segments.
    """
    locs = [tuple(e["loc"]) for e in errors]
    return [
        e
        for e, loc in zip(errors, locs, strict=True)
        if not (
            e["type"] == "too_short"
            and any(len(o) > len(loc) and o[: len(loc)] == loc for o in locs)
        )
    ]


def _user_path(loc: Sequence[str | int]) -> tuple[KeyPath, bool]:
    """pydantic's ``loc`` as the user's key path, and whether the error is about a key.

    The discount union adds its tag (``('discount', 'flat', 'rate')``) and dict keys add
    ``'[key]'``; neither is in the file.
    """
    out: list[str | int] = []
    ann: Any = Scenario
    about_key = False
    for element in loc:
        if element == "[key]":
            about_key = True
            continue
        current = _unwrap(ann)
        if _is_discount_union(current) and isinstance(element, str) and element in POLICIES:
            ann = POLICIES[element]
            continue
        out.append(element)
        ann = _child(current, element)
    return tuple(out), about_key


_EXPECTED = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "a string (in quotes)",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "tuple_type": "an array",
    "list_type": "an array",
    "none_required": "nothing",
}


_BOUNDS = {
    "greater_than": ("gt", "greater than"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "less than"),
    "less_than_equal": ("le", "at most"),
}


def _explain(error: Any, data: Any) -> tuple[KeyPath, str, str]:
    """One pydantic error as (user path, message, hint)."""
    kind = error["type"]
    path, about_key = _user_path(error["loc"])
    ctx = error.get("ctx") or {}
    value = error.get("input")
    if kind == "extra_forbidden":
        unknown = _check_path(path, data)
        if unknown is not None:
            return path, unknown[1], unknown[2]
        return path, "unknown key", ""
    if about_key:
        valid = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return (
            path,
            f"unknown key {value!r} in {_dotted(path[:-1])}",
            _did_you_mean(str(value), valid),
        )
    if kind == "union_tag_invalid":
        path = (*path, "kind")
        tag = _get(_node_at(data, path[:-1]), "kind")
        if not isinstance(tag, str):
            return path, f"expected a string, got {_describe(tag)}", ""
        kinds = list(POLICIES)
        close = _did_you_mean(tag, kinds)
        hint = (close + " " if close.startswith("did") else "") + "valid kinds: " + ", ".join(kinds)
        return path, f"unknown discount kind {tag!r}", hint
    if kind == "missing":
        if len(path) == 1:
            return path, f"the [{path[0]}] table is required", _REQUIRED_HINTS.get(path, "")
        return path, "required key is missing", _REQUIRED_HINTS.get(path, "")
    if kind in _EXPECTED:
        return path, f"expected {_EXPECTED[kind]}, got {_describe(value)}", _type_hint(kind, value)
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        limit = ctx.get(key)
        hint = ""
        percent = isinstance(value, int | float) and 1 < value <= 100
        if key in ("le", "lt") and limit == 1 and percent:
            hint = f"rates and shares are fractions: write {value / 100:g} for {value:g}%"
        if not hint:
            meaning = key_description(path, data)
            hint = f"{_dotted(path[-1:])}: {meaning}" if meaning else ""
        return path, f"must be {words} {_number(limit)}, got {_number(value)}", hint
    if kind == "literal_error":
        valid = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = _did_you_mean(str(value), valid) if isinstance(value, str) else ""
        if hint and not hint.startswith("did"):
            hint = ""  # the message lists them already
        return path, f"expected one of {ctx.get('expected')}, got {_describe(value)}", hint
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return path, "must not be empty", ""
    if kind == "too_short":
        return path, f"needs at least {ctx.get('min_length')} entries", ""
    if kind == "too_long":
        return path, f"has more than the {ctx.get('max_length')} entries allowed", ""
    if kind == "string_too_long":
        return path, f"is longer than {ctx.get('max_length')} characters", ""
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return path, _lower_first(message), ""


_REQUIRED_HINTS: dict[KeyPath, str] = {
    ("scenario",): 'every scenario starts with [scenario] and name = "..."',
    ("scenario", "name"): "every scenario needs a name, shown in reports",
}


def _node_at(data: Any, path: KeyPath) -> Any:
    node = data
    for part in path:
        node = _get(node, part)
    return node


def _type_hint(kind: str, value: Any) -> str:
    if isinstance(value, str) and kind.startswith(("float", "int")):
        try:
            float(value)
        except ValueError:
            return ""
        return "remove the quotes"
    if isinstance(value, float) and kind.startswith("int") and value.is_integer():
        return f"write {int(value)} without a decimal point"
    if isinstance(value, str) and kind.startswith("bool") and value.lower() in ("true", "false"):
        return "remove the quotes"
    if isinstance(value, int | float) and not isinstance(value, bool) and kind == "string_type":
        return "put text in quotes"
    return ""


def _describe(value: Any) -> str:
    """A value the way a TOML user would name it."""
    if isinstance(value, bool):
        return f"the boolean {'true' if value else 'false'}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {_quote(shown)}"
    if isinstance(value, int):
        return f"the integer {value}"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    if value is None:
        return "nothing"
    return f"a {type(value).__name__}"  # dates and times


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return repr(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else repr(value)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _dotted(path: KeyPath) -> str:
    """``('customers', 'segments', 1, 'share')`` -> ``customers.segments.1.share``."""
    return ".".join(
        str(p) if isinstance(p, int) or re.fullmatch(r"[A-Za-z0-9_-]+", p) else _quote(p)
        for p in path
    )


def _quote(text: str) -> str:
    """``text`` as a TOML basic string, with every unprintable character escaped so that a
    problem always stays on one line (``json.dumps`` leaves e.g. U+2028 raw)."""
    quoted = json.dumps(text, ensure_ascii=False)
    return "".join(c if c.isprintable() else _escape(c) for c in quoted)


def _escape(c: str) -> str:
    return f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}"
