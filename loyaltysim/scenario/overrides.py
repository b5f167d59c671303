"""Overrides: ``--set dotted.key=VALUE`` and a variant's ``set``, applied to a scenario's data.

Each override is parsed (a TOML literal, else the text), applied to the raw data in place,
checked against the schema's keys, and the result validated; a problem an override causes
is reported where the override is (its position among the ``--set`` options, or the line of
the variant's ``set``), the rest where the file has it.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from loyaltysim.scenario.errors import KeyPath, Problem
from loyaltysim.scenario.problems import (
    MAX_DEPTH,
    _check_path,
    _describe,
    _dotted,
    _drop_echoes,
    _explain,
    _nonfinite,
    _nonfinite_problem,
    _typed,
)
from loyaltysim.scenario.schema import Scenario

OVERRIDE_SOURCE = "<--set>"  # the "file" of problems in overrides; the line is their position


# Keys that belong to a run, not to a variant: every variant of a run shares the seed (common
# random numbers), the replications and the horizon.
RUN_LEVEL_KEYS = ("scenario.seed", "scenario.replications", "scenario.horizon_days")


_RUN_LEVEL_FLAGS = {
    "scenario.seed": "--seed",
    "scenario.replications": "--reps",
    "scenario.horizon_days": "--days",
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
    _rescale_other_shares(data, applied)
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


def _rescale_other_shares(data: dict[str, Any], applied: Sequence[_Override]) -> None:
    """Overrides that set some segments' shares scale the other segments' shares to fill
    the rest, in proportion, so that ``customers.segments.0.share=0.4`` (or a sweep over
    it) keeps the shares summing to 1. Overrides that set every share are left as given
    (they must sum to 1); so are set shares that already exceed 1, which validation
    reports."""
    customers = data.get("customers") if isinstance(data, dict) else None
    # A malformed [customers] (not a table) is validation's to report, not ours to read.
    segments = customers.get("segments") if isinstance(customers, dict) else None
    if not isinstance(segments, list) or not all(isinstance(s, dict) for s in segments):
        return
    fixed = {
        int(ov.path[2])
        for ov in applied
        if len(ov.path) == 4 and ov.path[:2] == ("customers", "segments") and ov.path[3] == "share"
    }
    if any(
        len(ov.path) <= 2 and ov.path == ("customers", "segments")[: len(ov.path)] for ov in applied
    ):
        return  # the whole list was given: as written
    free = [n for n in range(len(segments)) if n not in fixed]
    if not fixed or not free:
        return
    shares = [segments[n].get("share", 1.0) for n in range(len(segments))]
    if not all(isinstance(x, int | float) and not isinstance(x, bool) for x in shares):
        return  # a wrong type: validation says so
    taken = sum(shares[n] for n in fixed)
    before = sum(shares[n] for n in free)
    if taken > 1 or before <= 0:
        return
    for n in free:
        segments[n]["share"] = shares[n] * (1 - taken) / before


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
