"""The report's assumptions and reproduction: every scenario parameter with its unit and
meaning, what each variant changes, and what it takes to get the same numbers again.

Plain data read off the folder (:class:`~loyaltysim.output.report_data.RunData`); the
sentences around them are in :mod:`loyaltysim.output.report_content`.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loyaltysim.output.report_data import RunData
from loyaltysim.output.report_doc import Block, Cell, Paragraph, Section, Subheading, Table
from loyaltysim.scenario.money import money

__all__ = [
    "Parameter",
    "appendix_section",
    "assumptions_section",
    "command_line",
    "parameters",
    "plain_assumptions",
    "reproduce_command",
    "reproduce_rows",
    "variant_changes",
]

# --------------------------------------------------------------------------- assumptions


@dataclass(frozen=True)
class Parameter:
    """One scenario parameter for the assumptions table."""

    path: str
    value: str
    unit: str
    description: str


_MONEY_ENDINGS = ("price", "cost", "cash", "budget", "value", "floor", "cost_per_prospect")
_UTILITY_KEYS = frozenset(
    {
        "focal_constant",
        "competitor_constant",
        "habit_weight",
        "satisfaction_weight",
        "attachment_weight",
        "switching_cost_weight",
        "price_weight",
        "gain_weight",
        "loss_weight",
        "deal_weight",
    }
)


def _unit(path: str, value: Any, meta: Any, currency: str | None = None) -> str:
    """A parameter's unit, from its name and bounds (the schema states units in words);
    money is in ``currency`` (the scenario's), or plain "money" without one."""
    leaf = path.rsplit(".", 1)[-1]
    cash = currency or "money"
    if isinstance(value, bool | str):
        return ""
    if leaf in ("fixed_costs_per_month", "monthly_budget"):
        return f"{cash} a month"
    if leaf.endswith("switching_cost") or leaf in _UTILITY_KEYS:
        return "utility"
    if leaf.endswith("_per_month"):
        return "per month"
    if leaf.endswith("days") or leaf.endswith("_day"):
        return "days"
    if leaf.endswith("_hazard"):
        return "per year"
    if leaf.endswith(_MONEY_ENDINGS):
        return cash
    if leaf == "initial":
        return "customers"
    if leaf in ("replications", "seed", "visits") or leaf.endswith("_points"):
        return ""
    if _bounds(meta) == (0.0, 1.0) and isinstance(value, float):
        return "fraction 0..1"
    return ""


def _bounds(meta: Any) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in getattr(meta, "metadata", []) or []:
        for name in ("ge", "gt"):
            if getattr(m, name, None) is not None:
                lo = float(getattr(m, name))
        for name in ("le", "lt"):
            if getattr(m, name, None) is not None:
                hi = float(getattr(m, name))
    return lo, hi


def _format_value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:,.6g}" if abs(value) >= 1e4 else f"{value:.6g}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 1e4 else str(value)
    return str(value)


def parameters(data: RunData) -> list[Parameter]:
    """Every parameter of the resolved scenario (variants aside), with unit and description.

    Descriptions come from the schema's Field descriptions, read off the validated model
    (so a discount kind's own keys are described by its own class); without a validated
    scenario the raw JSON is listed without them.
    """
    out: list[Parameter] = []
    scenario = data.scenario
    if scenario is None:
        for path, value in _flatten(data.resolved):
            if not path.startswith("variants"):
                out.append(Parameter(path, _format_value(value), "", ""))
        return out

    from pydantic import BaseModel

    def walk(model: BaseModel, prefix: str) -> None:
        fields = type(model).model_fields
        for name, info in fields.items():
            if name == "variants" and not prefix:
                continue
            value = getattr(model, name)
            path = f"{prefix}{name}"
            description = info.description or ""
            if isinstance(value, BaseModel):
                walk(value, path + ".")
            elif isinstance(value, tuple) and value and isinstance(value[0], BaseModel):
                for i, item in enumerate(value):
                    walk(item, f"{path}.{i}.")
            elif isinstance(value, dict):
                if not value:
                    out.append(Parameter(path, "none", "", description or "overrides"))
                for key, item in value.items():
                    if isinstance(item, BaseModel):
                        walk(item, f"{path}.{key}.")
                    else:
                        out.append(Parameter(f"{path}.{key}", _format_value(item), "", ""))
            else:
                unit = _unit(path, value, info, data.currency)
                out.append(Parameter(path, _format_value(value), unit, description))

    walk(scenario, "")
    return out


# The groups of the plain-words assumptions: (key prefix, heading). Keys of other tables
# (the seed, the guard's mechanics, survey and channel details) are in the appendix only.
PLAIN_GROUPS: tuple[tuple[str, str], ...] = (
    ("business.", "The business"),
    ("customers.", "The customers"),
    ("competitor.", "The competitor"),
    ("discount.", "The base's discount"),
    ("followup.", "The base's follow-up contacts"),
    ("behaviour.", "How customers behave (the model's research-based defaults, unless changed)"),
)
_NONE = {"discount.": "No discount is given", "followup.": "No follow-up contacts are made"}
_PERCENT_WORDS = ("share", "chance", "rate", "probability", "fraction", "discount")


def _plain_value(p: Parameter, default: Any, currency: str | None) -> str:
    """A value as a client reads it: shares as percentages, money in the currency, days
    and counts with their units; a behavioural value the scenario changed says so."""
    leaf = p.path.rsplit(".", 1)[-1]
    text = p.value
    try:
        number: float | None = float(p.value.replace(",", ""))
    except ValueError:
        number = None
    words = leaf + " " + p.description
    share = any(w in words for w in _PERCENT_WORDS)
    if number is not None and p.unit in (currency or "money", f"{currency or 'money'} a month"):
        digits = 0 if number == int(number) else 2
        text = money(number, currency, digits=digits)
        if p.unit.endswith(" a month"):
            text += " a month"
    elif number is not None and share and p.unit in ("fraction 0..1", "per month"):
        whole = abs(number * 100 - round(number * 100)) < 1e-9
        text = f"{number:.0%}" if whole else f"{number:.1%}"
        if p.unit == "per month":
            text += " a month"
    elif p.unit == "fraction 0..1":
        text = f"{p.value} (on 0 to 1)"
    elif p.unit == "customers" and number is not None:
        text = f"{number:,.0f} customers"
    elif p.unit and p.unit != "utility":
        text = f"{p.value} {p.unit}"
    changed = default is not None and _format_value(default) != p.value
    if changed and p.path.startswith("behaviour."):
        text += f" (changed; default {_format_value(default)})"
    return text


def _default(scenario: Any, path: str) -> Any:
    """The schema's default of the key at ``path`` of ``scenario`` (None when unknown)."""
    from pydantic import BaseModel

    node: Any = scenario
    info = None
    for part in path.split("."):
        if isinstance(node, BaseModel):
            info = type(node).model_fields.get(part)
            node = getattr(node, part, None)
        elif isinstance(node, tuple) and part.isdigit():
            node, info = node[int(part)], None
        else:
            return None
    if info is None or info.default is None or not isinstance(info.default, int | float | str):
        return None
    return info.default


def plain_assumptions(data: RunData) -> list[tuple[str, list[tuple[str, str]]]]:
    """``[(heading, [(what, value), ...]), ...]``: the scenario's assumptions in words.

    Each key's words are its schema description (the one the schema's errors and the docs
    use), its value with its unit; the dotted keys themselves are in the appendix.
    """
    params = parameters(data)
    segments = [
        str(s.get("name")) for s in (data.resolved.get("customers") or {}).get("segments", [])
    ]
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for prefix, heading in PLAIN_GROUPS:
        rows: list[tuple[str, str]] = []
        for p in params:
            if not p.path.startswith(prefix) or (p.path.endswith(".kind") and p.value == "none"):
                continue
            if p.path == prefix + "kind":
                rows.append(("Kind", p.value.replace("_", " ")))
                continue
            if not p.description:
                continue
            what = p.description[0].upper() + p.description[1:]
            parts = p.path.split(".")
            if parts[:2] == ["customers", "segments"] and len(parts) > 3:
                if parts[3] == "name":
                    continue
                index = int(parts[2])
                name = segments[index] if index < len(segments) else parts[2]
                what = f"{name}: {p.description}"
            default = _default(data.scenario, p.path)
            rows.append((what, _plain_value(p, default, data.currency)))
        kind = next((p.value for p in params if p.path == prefix + "kind"), None)
        if kind == "none":
            rows = [(_NONE.get(prefix, "None"), "")]
        if rows:
            groups.append((heading, rows))
    return groups


def _flatten(obj: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _flatten(v, f"{prefix}{k}.")
    elif isinstance(obj, list) and obj and isinstance(obj[0], dict):
        for i, v in enumerate(obj):
            yield from _flatten(v, f"{prefix}{i}.")
    else:
        yield prefix.rstrip("."), obj


def variant_changes(data: RunData) -> list[tuple[str, str]]:
    """``(variant, "key = value; ...")`` for every variant of the resolved scenario."""
    rows = []
    for v in data.resolved.get("variants", []) or []:
        changes = "; ".join(f"{k} = {_toml_value(x)}" for k, x in (v.get("set") or {}).items())
        rows.append((str(v.get("name")), changes or "(nothing changed)"))
    return rows


def _toml_value(x: Any) -> str:
    if isinstance(x, str):
        return json.dumps(x, ensure_ascii=False)
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, list):
        return "[" + ", ".join(_toml_value(i) for i in x) + "]"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(i)}" for k, i in x.items()) + "}"
    return str(x)


# --------------------------------------------------------------------------- sections

ASSUMPTIONS_NOTE = (
    "What the simulation assumed about the business, its customers and its competitor, "
    "in words. The customers’ behaviour follows published research on loyalty, service "
    "and pricing (docs/model.md gives the sources); a value the scenario changed from "
    "that default says so. Every key of the scenario file, with its exact value, is in "
    "the appendix."
)
APPENDIX_NOTE = (
    "Every parameter of the scenario as it was run, defaults included, under the key a "
    "scenario file uses. Money is in the scenario’s currency; fractions are shares "
    "(0.15 = 15%); utilities are in the choice model’s units (docs/model.md)."
)


def appendix_section(data: RunData) -> Section:
    """The appendix: every key of the scenario as run, with its unit and meaning."""
    rows: list[tuple[Cell, ...] | str] = []
    group = None
    for p in parameters(data):
        head = p.path.split(".", 1)[0]
        if head != group:
            group = head
            rows.append(f"[{head}]")
        rows.append((Cell(p.path, "key"), Cell(p.value), Cell(p.unit), Cell(p.description)))
    blocks: list[Block] = [
        Paragraph(APPENDIX_NOTE),
        Table(
            ("key", "value", "unit", "meaning"),
            tuple(rows),
            (0.36, 0.13, 0.13, 0.38),
            numeric=(1,),
            size=7.0,
        ),
    ]
    return Section("appendix", "Appendix: every key of the scenario", tuple(blocks), True)


def assumptions_section(data: RunData) -> Section:
    """The assumptions in words (the schema's descriptions), and what each plan changes."""
    rows: list[tuple[Cell, ...] | str] = []
    for heading, items in plain_assumptions(data):
        rows.append(heading)
        rows += [(Cell(what), Cell(value)) for what, value in items]
    blocks: list[Block] = [
        Paragraph(ASSUMPTIONS_NOTE),
        Table(("assumption", "value"), tuple(rows), (0.68, 0.32), numeric=(1,), size=7.5),
    ]
    changes = variant_changes(data)
    if changes:
        blocks.append(Subheading("What each plan changes"))
        blocks.append(
            Table(
                ("plan", "changes"),
                tuple((Cell(name), Cell(text, "code")) for name, text in changes),
                (0.3, 0.7),
            )
        )
    return Section("assumptions", "Assumptions", tuple(blocks), new_page=True)


# --------------------------------------------------------------------------- reproduce


def command_line(manifest: Mapping[str, Any]) -> str:
    """The run's command line as one shell line, the program shown as ``loyaltysim``."""
    cmd = manifest.get("command_line")
    if isinstance(cmd, str):
        return cmd
    if not isinstance(cmd, list) or not cmd:
        return "(not recorded)"
    parts = [str(p) for p in cmd]
    if Path(parts[0]).name in ("loyaltysim", "__main__.py", "loyaltysim.exe"):
        parts[0] = "loyaltysim"
    return shlex.join(parts)


def reproduce_command(manifest: Mapping[str, Any]) -> str:
    """A ``loyaltysim run`` line that gives the same numbers: file, overrides and seed.

    Built from the manifest rather than copied from the recorded command line, which may
    be a script's or a test runner's; the seed is spelled out because a run without one
    drew it from entropy.
    """
    path = manifest.get("scenario_file")
    if not path:
        return "(the scenario was built in code: see the assumptions)"
    parts = ["loyaltysim", "run", str(path)]
    for override in manifest.get("overrides") or []:
        if not str(override).startswith("scenario.seed="):
            parts += ["--set", str(override)]
    if manifest.get("seed") is not None:
        parts += ["--seed", str(manifest["seed"])]
    return shlex.join(parts)


def reproduce_rows(data: RunData) -> list[tuple[str, str]]:
    """``(label, value)`` pairs: what it takes to get the same numbers again."""
    m = data.manifest
    versions = m.get("versions") or {}
    deps = ", ".join(
        f"{k} {v}" for k, v in versions.items() if k not in ("loyaltysim", "platform") and v
    )
    rows = [
        ("loyaltysim version", str(versions.get("loyaltysim") or "unknown")),
        ("root seed", str(m.get("seed"))),
        ("scenario file", str(m.get("scenario_file") or "(built in code)")),
        ("scenario file SHA-256", str(m.get("scenario_sha256") or "n/a")),
        ("resolved scenario SHA-256", str(m.get("resolved_sha256") or "n/a")),
        ("overrides", ", ".join(map(str, m.get("overrides") or [])) or "none"),
        ("to reproduce", reproduce_command(m)),
        ("command line as recorded", command_line(m)),
        ("run started / ended", f"{m.get('started_at')} / {m.get('ended_at') or '-'}"),
        ("status", data.status),
        ("dependencies", deps or "unknown"),
        ("platform", str(versions.get("platform") or "unknown")),
    ]
    return rows
