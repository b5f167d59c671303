"""Loading scenario files: read, check, override, validate, and say where it went wrong.

The flow for one file::

    bytes -> text -> tomllib dict -> (pre-checks) -> overrides applied -> Scenario
                                                                       -> each variant

Everything that can be wrong with a file is reported as a :class:`Problem` that names the
file, the line where the key stands, the key in the user's dotted form and a hint, and all
of a file's problems are raised together in one :class:`ScenarioError`. A file that loads
has had every ``[[variants]]`` entry built and validated too, so a bad variant never starts
a run.

``tomllib`` gives no positions, so :class:`_Locator` scans the text for the line of each
key path. It understands headers, arrays of tables, dotted and quoted keys, and arrays and
inline tables spanning lines; it is only run on text ``tomllib`` has already accepted, and
anything it cannot place falls back to the enclosing table's line, then to line 1.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import json
import math
import os
import re
import tomllib
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from loyaltysim.policies import POLICIES, DiscountBase
from loyaltysim.scenario.schema import Scenario, anchor_reservation_price

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "OVERRIDE_SOURCE",
    "RUN_LEVEL_KEYS",
    "Problem",
    "ScenarioError",
    "load_scenario",
    "load_scenario_text",
    "parse_override",
    "parse_override_value",
    "scenario_json_schema",
    "variant_scenarios",
]

MAX_FILE_BYTES = 1 << 20  # 1 MiB: a scenario is a page of settings, not a data file
MAX_DEPTH = 8  # the deepest valid scenario nests 6 levels (variants.N.set."k".N.key)
OVERRIDE_SOURCE = "<--set>"  # the "file" of problems in overrides; the line is their position
# Keys that belong to a run, not to a variant: every variant of a run shares the seed (common
# random numbers), the replications and the horizon.
RUN_LEVEL_KEYS = ("scenario.seed", "scenario.replications", "scenario.horizon_days")
_RUN_LEVEL_FLAGS = {
    "scenario.seed": "--seed",
    "scenario.replications": "--reps",
    "scenario.horizon_days": "--days",
}

KeyPath = tuple[str | int, ...]


# ----------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario.

    Parameters
    ----------
    file
        The file as the user named it, ``<string>`` for text, or ``<--set>`` for overrides.
    line
        1-based line where the key stands; for overrides, the override's 1-based position
        among all overrides; 0 when there is no line (e.g. the file cannot be read).
    key_path
        The key in dotted form (``customers.segments.1.share``); empty for whole-file
        problems such as a syntax error.
    message
        What is wrong.
    hint
        How to fix it (a did-you-mean, the valid choices); may be empty.
    """

    file: str
    line: int
    key_path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}: " if self.line > 0 else f"{self.file}: "
        if self.key_path:
            text += f"{self.key_path}: "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class ScenarioError(ValueError):
    """A scenario is invalid; ``problems`` lists everything wrong with it, at once.

    ``str()`` is one ``FILE:LINE: key.path: message (hint)`` line per problem.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

    def __reduce__(self) -> tuple[Any, ...]:
        # Default exception pickling passes ``self.args`` (the joined text) back to
        # ``__init__``; process pools and Dask need the problems themselves.
        return (type(self), (self.problems,))


# ----------------------------------------------------------------------------- public API


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


class ValueTooDeep(ValueError):
    """An override's value nests arrays or tables too deep to be read."""


def parse_override(text: str) -> tuple[str, object]:
    """Split ``"dotted.key=VALUE"`` into the key and the parsed value.

    Raises
    ------
    ValueError
        If there is no ``=`` or the key is empty or malformed.
    """
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep:
        raise ValueError(f"expected KEY=VALUE, got {text!r}")
    if not key or any(not part.strip() for part in key.split(".")):
        raise ValueError(f"malformed key {key!r}; expected a dotted path like discount.rate")
    return key, parse_override_value(value)


def parse_override_value(text: str) -> object:
    """A TOML literal (``0.1``, ``true``, ``"x"``, ``[1, 2]``, ``{a = 1}``), else the text.

    Unquoted words fall back to strings, so ``discount.kind=flat`` works without quotes;
    quote a value to keep it a string (``scenario.name='"2026"'``).
    """
    stripped = text.strip()
    try:
        doc = tomllib.loads(f"v = {stripped}")
    except tomllib.TOMLDecodeError:
        return stripped
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        raise ValueTooDeep(
            f"the value is nested deeper than {MAX_DEPTH} levels (no scenario key is that deep)"
        ) from None
    # A newline in the value could smuggle in more keys; then it was not one literal.
    return doc["v"] if list(doc) == ["v"] else stripped


# ----------------------------------------------------------------------------- the pipeline


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
    return scenario


@dataclass
class _Override:
    """One ``key = value`` to apply to the raw data, and where to report its problems."""

    file: str
    line: int
    key: str  # as the user wrote it
    parts: tuple[str, ...]
    value: object
    label: str = ""  # prefix of messages, e.g. "variant 'x': "
    path: KeyPath = ()  # typed path (list indexes as ints), known once applied


def _split_key(key: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in key.split("."))


def _overrides(
    overrides: Mapping[str, object] | Sequence[str] | None,
) -> tuple[list[_Override], list[Problem]]:
    """Normalise the ``overrides`` argument; malformed entries are problems."""
    if overrides is None:
        return [], []
    items: list[tuple[str, object]] = []
    problems: list[Problem] = []
    if isinstance(overrides, Mapping):
        items = [(str(key), value) for key, value in overrides.items()]
    else:
        entries = [overrides] if isinstance(overrides, str) else list(overrides)
        for n, entry in enumerate(entries, start=1):
            if not isinstance(entry, str):
                problems.append(
                    Problem(OVERRIDE_SOURCE, n, "", f"expected KEY=VALUE text, got {entry!r}")
                )
                items.append(("", None))
                continue
            try:
                items.append(parse_override(entry))
            except ValueTooDeep as exc:
                key = entry.partition("=")[0].strip()
                problems.append(Problem(OVERRIDE_SOURCE, n, key, str(exc)))
                items.append(("", None))
            except ValueError as exc:
                problems.append(Problem(OVERRIDE_SOURCE, n, "", str(exc)))
                items.append(("", None))
    out = []
    for n, (key, value) in enumerate(items, start=1):
        if not key:
            continue  # already reported
        parts = _split_key(key)
        if not all(parts):
            problems.append(
                Problem(OVERRIDE_SOURCE, n, key, "malformed key; expected a dotted path")
            )
            continue
        if len(parts) > MAX_DEPTH:  # deeper than any key; applying it would recurse
            shown = ".".join(parts[: MAX_DEPTH + 1]) + " ..."
            problems.append(
                Problem(OVERRIDE_SOURCE, n, shown, f"the key is nested deeper than {MAX_DEPTH} "
                        "levels (no scenario key is that deep)")
            )  # fmt: skip
            continue
        out.append(_Override(OVERRIDE_SOURCE, n, key, parts, value))
    return out, problems


def _resolve(
    data: dict[str, Any],
    overrides: Sequence[_Override],
    locate: Callable[[KeyPath], tuple[str, int]],
    label: str = "",
    *,
    validate: bool = True,
    skip: Sequence[KeyPath] = (),
) -> tuple[Scenario | None, list[Problem]]:
    """Apply ``overrides`` to ``data`` (in place), then validate it.

    Problems caused by an override are reported where the override is; the rest where
    ``locate`` says. Errors at or under a path in ``skip`` (already reported) are dropped.
    """
    problems: list[Problem] = []
    applied: list[_Override] = []
    reported: list[KeyPath] = list(skip)
    _switch_discount_kind(data, overrides)
    for ov in overrides:
        bad = next(_nonfinite(ov.value), None)
        if bad is not None:
            path = _typed(ov.parts, data) + bad
            problems.append(_nonfinite_problem(ov.file, ov.line, path, ov.label))
            continue
        failure = _assign(data, ov)
        if failure is None:
            applied.append(ov)
        else:
            problems.append(Problem(ov.file, ov.line, ov.key, ov.label + failure))
    _default_kind(data)
    # Checked against the final data, so the order of overrides does not matter (setting
    # discount.rate before discount.kind=flat is fine).
    for ov in applied:
        unknown = _check_path(ov.path, data)
        if unknown is not None:
            at, message, hint = unknown
            reported.append(ov.path[: at + 1])
            problems.append(Problem(ov.file, ov.line, _dotted(ov.path), ov.label + message, hint))
    if not validate:
        return None, problems
    try:
        return Scenario.model_validate(data), problems
    except ValidationError as exc:
        errors = _drop_echoes(exc.errors(include_url=False))
    for error in errors:
        path, message, hint = _explain(error, data)
        if any(path[: len(done)] == done for done in reported):
            continue
        source = _last_override_over(path, applied)
        file, line = (source.file, source.line) if source else locate(path)
        problems.append(Problem(file, line, _dotted(path), label + message, hint))
    return None, problems


def _switch_discount_kind(data: dict[str, Any], overrides: Sequence[_Override]) -> None:
    """Overrides that change ``discount.kind`` start a fresh ``[discount]`` table.

    The keys already there belong to the old kind (a points card's ``reward_points`` mean
    nothing to a flat discount), so a variant written as the contract shows it,
    ``{"discount.kind" = "flat", "discount.rate" = 0.1}``, works whatever the base's
    discount is; only the same overrides' own ``discount.*`` keys apply.
    """
    kinds = [ov.value for ov in overrides if ov.parts == ("discount", "kind")]
    discount = data.get("discount")
    if kinds and isinstance(discount, dict) and discount.get("kind", "none") != kinds[-1]:
        data["discount"] = {}


def _last_override_over(path: KeyPath, applied: Sequence[_Override]) -> _Override | None:
    """The override that set ``path`` or a table above it (the last one wins, as it did)."""
    for ov in reversed(applied):
        if path[: len(ov.path)] == ov.path:
            return ov
    return None


def _assign(data: dict[str, Any], ov: _Override) -> str | None:
    """Set ``ov.parts`` in ``data`` to ``ov.value``, creating missing tables.

    Returns why it cannot be set, or None. Records the typed path on ``ov``.
    """
    node: Any = data
    path: list[str | int] = []
    for n, part in enumerate(ov.parts):
        last = n == len(ov.parts) - 1
        where = _dotted(tuple(path)) or "the scenario"
        if isinstance(node, dict):
            path.append(part)
            if last:
                # A table value replaces the whole table: the way to switch a discount's
                # kind when the base sets keys the new kind does not have.
                node[part] = copy.deepcopy(ov.value)
            elif part not in node and ov.parts[n + 1].isdigit():
                # Only arrays the data holds can be indexed; a default (e.g. the one
                # segment "everyone") is not in the data and has no entries to change.
                name = _dotted((*path,))
                return (
                    f"index {ov.parts[n + 1]} does not exist: {name} is not written in the "
                    "scenario, so it has no entries to change"
                )
            else:
                node = node.setdefault(part, {})
        elif isinstance(node, list):
            if not part.isdigit():
                return f"{where} is an array; expected an index 0..{len(node) - 1}, got {part!r}"
            index = int(part)
            if index >= len(node):
                size = f"has {len(node)} entries (0..{len(node) - 1})" if node else "is empty"
                size = "has 1 entry (0)" if len(node) == 1 else size
                return f"index {index} does not exist: {where} {size}"
            path.append(index)
            if last:
                node[index] = copy.deepcopy(ov.value)
            else:
                node = node[index]
        else:
            return f"{where} is {_describe(node)}, not a table; it has no key {part!r}"
    ov.path = tuple(path)
    return None


def _default_kind(data: dict[str, Any]) -> None:
    """A ``[discount]`` table without ``kind`` means kind "none" (the contract's default)."""
    discount = data.get("discount")
    if isinstance(discount, dict) and "kind" not in discount:
        discount["kind"] = "none"


# ----------------------------------------------------------------------------- variants


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


def _fixed(file: str, line: int) -> Callable[[KeyPath], tuple[str, int]]:
    """A locator that puts every problem on one line (a variant's ``set``)."""

    def locate(_path: KeyPath) -> tuple[str, int]:
        return file, line

    return locate


def _variant_keys_allowed(ovs: list[_Override]) -> tuple[list[_Override], list[Problem]]:
    """Drop (and report) keys a variant may not set: run-level keys and empty keys."""
    kept, problems = [], []
    for ov in ovs:
        if not all(ov.parts):
            problems.append(Problem(ov.file, ov.line, ov.key, ov.label + "malformed key in set"))
            continue
        blocked = [k for k in RUN_LEVEL_KEYS if _related(ov.parts, _split_key(k))]
        if ov.parts[0] == "variants":
            problems.append(
                Problem(ov.file, ov.line, ov.key, ov.label + "a variant cannot set variants")
            )
        elif blocked:
            flags = ", ".join(_RUN_LEVEL_FLAGS[k] for k in blocked)
            problems.append(
                Problem(
                    ov.file,
                    ov.line,
                    ov.key,
                    ov.label + f"a variant cannot change {', '.join(blocked)}",
                    f"all variants of a run share {'it' if len(blocked) == 1 else 'them'}; "
                    f"set in [scenario] or with {flags}",
                )
            )
        else:
            kept.append(ov)
    return kept, problems


def _related(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether one path is a prefix of the other (setting either touches both)."""
    n = min(len(a), len(b))
    return tuple(a[:n]) == tuple(b[:n])


def _thaw(value: Any) -> Any:
    """Tuples from a model dump back to lists (what TOML gives), recursively copied."""
    if isinstance(value, dict):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_thaw(item) for item in value]
    return value


# ----------------------------------------------------------------------------- pre-checks


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


# ----------------------------------------------------------------------------- the schema


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
                f"{key!r} is a key of discount kind {_or(owners)}; set discount.kind",
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


# ----------------------------------------------------------------------------- errors


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


# ----------------------------------------------------------------------------- lines


class _Locator:
    """The line of every key path in a TOML text (first occurrence).

    A small recursive-descent scan of valid TOML: headers (with array-of-tables indexes),
    dotted and quoted keys, strings of all four kinds, arrays and inline tables (which
    may span lines). Values are skipped, not parsed. It is best-effort: on anything it does
    not expect it stops, and :meth:`line` falls back to the nearest located parent.
    """

    _BARE = re.compile(r"[A-Za-z0-9_-]+")
    _SCALAR = re.compile(r"[^,\]}#\r\n]+")  # numbers, booleans, dates: up to a delimiter

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._line = 1
        self._aot: dict[KeyPath, int] = {}  # array-of-tables path -> entries so far
        self.lines: dict[KeyPath, int] = {}
        # Keep what was located on anything unexpected; the rest falls back to parents.
        with contextlib.suppress(ValueError, IndexError, RecursionError):
            self._document()

    def line(self, path: KeyPath) -> int:
        """Line of ``path``, else of its nearest located parent, else 1."""
        for n in range(len(path), 0, -1):
            found = self.lines.get(tuple(path[:n]))
            if found:
                return found
        return 1

    # scanning helpers
    def _peek(self, n: int = 1) -> str:
        return self._text[self._pos : self._pos + n]

    def _advance(self, to: int) -> None:
        self._line += self._text.count("\n", self._pos, to)
        self._pos = to

    def _expect(self, token: str) -> None:
        if self._peek(len(token)) != token:
            raise ValueError(f"expected {token!r} at line {self._line}")
        self._advance(self._pos + len(token))

    def _skip(self, newlines: bool) -> None:
        while True:
            c = self._peek()
            if c in (" ", "\t") or (newlines and c in ("\n", "\r")):
                self._advance(self._pos + 1)
            elif newlines and c == "#":
                end = self._text.find("\n", self._pos)
                self._advance(len(self._text) if end < 0 else end)
            else:
                return

    def _record(self, path: KeyPath, line: int) -> None:
        for n in range(1, len(path) + 1):
            self.lines.setdefault(path[:n], line)

    # grammar
    def _document(self) -> None:
        table: KeyPath = ()
        while True:
            self._skip(newlines=True)
            if not self._peek():
                return
            line = self._line
            if self._peek(2) == "[[":
                self._advance(self._pos + 2)
                keys = self._key()
                self._skip(newlines=False)
                self._expect("]]")
                array = self._resolve(keys, array=True)
                index = self._aot.get(array, 0)
                self._aot[array] = index + 1
                table = (*array, index)
                self._record(table, line)
            elif self._peek() == "[":
                self._advance(self._pos + 1)
                keys = self._key()
                self._skip(newlines=False)
                self._expect("]")
                table = self._resolve(keys, array=False)
                self._record(table, line)
            else:
                self._pair(table)

    def _resolve(self, keys: tuple[str, ...], array: bool) -> KeyPath:
        """A header's keys as a path: a prefix naming an array of tables means its last
        entry (``[variants.set]`` after two ``[[variants]]`` is ``variants.1.set``)."""
        out: KeyPath = ()
        for n, key in enumerate(keys):
            out = (*out, key)
            if out in self._aot and not (array and n == len(keys) - 1):
                out = (*out, self._aot[out] - 1)
        return out

    def _pair(self, table: KeyPath) -> None:
        line = self._line
        path = (*table, *self._key())
        self._skip(newlines=False)
        self._expect("=")
        self._skip(newlines=False)
        self._record(path, line)
        self._value(path)

    def _key(self) -> tuple[str, ...]:
        keys: list[str] = []
        while True:
            self._skip(newlines=False)
            c = self._peek()
            if c in ('"', "'"):
                start = self._pos
                self._string()
                keys.append(_decode_key(self._text[start : self._pos]))
            else:
                match = self._BARE.match(self._text, self._pos)
                if not match:
                    raise ValueError(f"expected a key at line {self._line}")
                keys.append(match.group())
                self._advance(match.end())
            self._skip(newlines=False)
            if self._peek() != ".":
                return tuple(keys)
            self._advance(self._pos + 1)

    def _value(self, path: KeyPath) -> None:
        c = self._peek()
        if c == "[":
            self._advance(self._pos + 1)
            index = 0
            while True:
                self._skip(newlines=True)
                if self._peek() == "]":
                    self._advance(self._pos + 1)
                    return
                item = (*path, index)
                self._record(item, self._line)
                self._value(item)
                self._skip(newlines=True)
                if self._peek() == ",":
                    self._advance(self._pos + 1)
                    index += 1
                elif self._peek() != "]":
                    raise ValueError(f"expected ',' or ']' at line {self._line}")
        elif c == "{":
            self._advance(self._pos + 1)
            while True:
                self._skip(newlines=True)
                if self._peek() == "}":
                    self._advance(self._pos + 1)
                    return
                self._pair(path)
                self._skip(newlines=True)
                if self._peek() == ",":
                    self._advance(self._pos + 1)
                elif self._peek() != "}":
                    raise ValueError(f"expected ',' or '}}' at line {self._line}")
        elif c in ('"', "'"):
            self._string()
        else:
            match = self._SCALAR.match(self._text, self._pos)
            if not match:
                raise ValueError(f"expected a value at line {self._line}")
            self._advance(match.end())

    def _string(self) -> None:
        """Skip a string of any of TOML's four kinds."""
        text, pos = self._text, self._pos
        for quotes in ('"""', "'''"):
            if text.startswith(quotes, pos):
                end = pos + 3
                while True:
                    end = text.find(quotes, end)
                    if end < 0:
                        raise ValueError("unterminated string")
                    if quotes == '"""' and _escaped(text, end):
                        end += 1
                        continue
                    break
                end += 3
                extra = 0
                while extra < 2 and end < len(text) and text[end] == quotes[0]:
                    end += 1  # up to two quotes may end the content: """a"""""
                    extra += 1
                self._advance(end)
                return
        quote = text[pos]
        end = pos + 1
        while True:
            end = text.find(quote, end)
            if end < 0:
                raise ValueError("unterminated string")
            if quote == '"' and _escaped(text, end):
                end += 1
                continue
            break
        self._advance(end + 1)


def _escaped(text: str, pos: int) -> bool:
    """Whether the character at ``pos`` is escaped by an odd run of backslashes."""
    n = 0
    while pos - n - 1 >= 0 and text[pos - n - 1] == "\\":
        n += 1
    return n % 2 == 1


def _decode_key(quoted: str) -> str:
    try:
        return str(tomllib.loads(f"k = {quoted}")["k"])
    except tomllib.TOMLDecodeError:
        return quoted[1:-1]
