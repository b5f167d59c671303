"""A client report from a results folder: one self-contained HTML file, or a PDF.

The report reads only the folder (``manifest.json``, ``scenario.resolved.json``,
``summary.json`` and the CSV tables), so it can be made long after the run, on another
machine, and says exactly what the folder says:

- a plain-language summary per variant: profit with its interval, churn, ruin risk and a
  verdict in words, and whether it beats the base (paired interval);
- the charts, redrawn from the tables with :mod:`loyaltysim.plotting` (plus any other
  chart another command left in ``charts/``);
- the causes of defection and the break-even arithmetic in words;
- the assumptions: every parameter of the resolved scenario with its unit and the
  schema's description, and what each variant changes;
- how to reproduce it: versions, seed, scenario hash, command line.

A run that did not complete (interrupted, failed, or killed while running) is reported as
such at the top. The HTML has no external reference of any kind (images are base64 PNG,
CSS is inline, no scripts or fonts), so it can be mailed as one file. The PDF is drawn
with matplotlib alone (:class:`~matplotlib.backends.backend_pdf.PdfPages`): text pages
laid out with ``Figure.text``, charts as images. Both are written atomically.

This module has no click; :mod:`loyaltysim.commands.report` is the command.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import shlex
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from loyaltysim.model.result import CAUSES, DAILY_SERIES, RunResult, Warning_
from loyaltysim.results_io import (
    DEFECTIONS,
    MANIFEST,
    REPLICATIONS,
    RESOLVED,
    SUMMARY,
    TIMESERIES,
    WARNINGS,
    atomic_write_bytes,
    atomic_write_text,
    read_defections,
    read_manifest,
    read_replications,
    read_resolved,
    read_summary,
    read_timeseries,
    read_warnings,
)

__all__ = [
    "FORMATS",
    "ReportError",
    "RunData",
    "VariantStory",
    "load_run",
    "render_html",
    "render_pdf",
    "variant_stories",
    "write_report",
]

FORMATS = ("html", "pdf")
EXIT_USAGE = 2  # the folder is not a results folder at all
EXIT_RUNTIME_FAILURE = 4  # it is one, but broken

VERDICT_LABELS: dict[str, str] = {
    "safe": "safe",
    "unsafe": "unsafe",
    "unresolved": "not yet resolved",
}
COMPARISON_SHORT: dict[str, str] = {
    "beats the base": "better",
    "worse than the base": "worse",
    "no clear difference from the base": "unclear",
}
# Short cause names for table headers.
CAUSE_SHORT: dict[str, str] = {
    "indifference": "indifference",
    "poor_service": "poor service",
    "competitor_offer": "competitor",
    "unresolved_complaint": "unresolved complaint",
    "discount_ended": "discount ended",
    "other": "other",
    "hostage": "hostage",
}
CAUSE_LABELS: dict[str, str] = {
    "indifference": "staff indifference (felt ignored)",
    "poor_service": "poor service",
    "competitor_offer": "a competitor's offer or price",
    "unresolved_complaint": "an unresolved complaint",
    "discount_ended": "a discount that ended",
    "other": "other reasons (moved, life events)",
    "hostage": "resentment released when a switching cost dropped (a hostage)",
}


class ReportError(Exception):
    """The report cannot be made; ``exit_code`` is 2 (not a results folder) or 4 (broken)."""

    def __init__(self, message: str, exit_code: int = EXIT_RUNTIME_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# --------------------------------------------------------------------------- loading


@dataclass
class RunData:
    """Everything the report shows, read from one results folder.

    Attributes
    ----------
    run_dir : Path
        The folder.
    manifest : dict
        ``manifest.json``.
    resolved : dict
        ``scenario.resolved.json`` (plain JSON data).
    summary : dict or None
        ``summary.json``; None when the run left none (failed, or killed while running).
    scenario : Scenario or None
        The resolved scenario validated again; None if this version cannot read it.
    runs : dict
        ``{variant: [RunResult, ...]}`` rebuilt from the CSV tables (complete replications
        only), variants in the run's order; empty when the tables are missing or unreadable.
    notes : list of str
        What could not be read, said in the report rather than failing it.
    """

    run_dir: Path
    manifest: dict[str, Any]
    resolved: dict[str, Any]
    summary: dict[str, Any] | None
    scenario: Any
    runs: dict[str, list[RunResult]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The run's status: running, complete, interrupted or failed."""
        return str(self.manifest.get("status", "unknown"))

    @property
    def title(self) -> str:
        """The scenario's name."""
        name = self.manifest.get("scenario") or self.resolved.get("scenario", {}).get("name")
        return str(name or "loyaltysim run")


def _read_json(run_dir: Path, name: str, reader: Callable[[Path], dict[str, Any]]) -> Any:
    try:
        return reader(run_dir)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ReportError(f"{run_dir / name} cannot be read: {exc}") from None


def load_run(run_dir: Path | str, tables: bool = True) -> RunData:
    """Read a results folder for a report.

    Parameters
    ----------
    run_dir : path
        The folder ``loyaltysim run`` (or another command) wrote.
    tables : bool
        Also rebuild the replications from the CSV tables (needed for the charts).

    Raises
    ------
    ReportError
        Exit code 2 when ``run_dir`` is not a results folder (no such directory, no
        ``manifest.json``); 4 when it is one but broken (unreadable manifest, scenario or
        summary, or a complete run without a summary).
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ReportError(f"{run_dir} is not a directory", EXIT_USAGE)
    manifest = _read_json(run_dir, MANIFEST, read_manifest)
    if manifest is None:
        raise ReportError(
            f"{run_dir} is not a results folder (no {MANIFEST}); pass the folder that "
            "`loyaltysim run` printed, e.g. results/<scenario>/<time>/",
            EXIT_USAGE,
        )
    if not isinstance(manifest, dict):
        raise ReportError(f"{run_dir / MANIFEST} is not a JSON object")
    resolved = _read_json(run_dir, RESOLVED, read_resolved)
    if not isinstance(resolved, dict):
        raise ReportError(f"{run_dir / RESOLVED} is missing or not a JSON object")
    summary = _read_json(run_dir, SUMMARY, read_summary)
    if summary is not None and not (
        isinstance(summary, dict) and isinstance(summary.get("variants"), list)
    ):
        raise ReportError(f"{run_dir / SUMMARY} is not a run summary")
    if summary is None and manifest.get("status") == "complete":
        raise ReportError(f"{run_dir} says the run is complete but has no {SUMMARY}")
    data = RunData(run_dir, manifest, resolved, summary, None)
    try:
        from loyaltysim.scenario.schema import Scenario

        data.scenario = Scenario.model_validate_json(json.dumps(resolved))
    except Exception as exc:  # pydantic's ValidationError, or anything odd in the file
        data.notes.append(f"the resolved scenario could not be validated again ({exc})")
    if tables:
        try:
            data.runs = load_runs(run_dir, _variant_order(data), data.resolved)
        except (OSError, ValueError, KeyError, IndexError) as exc:
            data.notes.append(f"the result tables could not be read ({exc}); no charts")
    return data


def _variant_order(data: RunData) -> list[str]:
    names = data.manifest.get("variants")
    if isinstance(names, list) and names:
        return [str(n) for n in names]
    if data.summary:
        return [str(v["name"]) for v in data.summary["variants"]]
    return ["base", *(str(v.get("name")) for v in data.resolved.get("variants", []))]


def load_runs(
    run_dir: Path | str, variants: Sequence[str], resolved: Mapping[str, Any]
) -> dict[str, list[RunResult]]:
    """Rebuild every complete replication from the folder's CSV tables.

    Returns
    -------
    dict
        ``{variant: [RunResult, ...]}`` for the variants that have replications, in the
        order of ``variants`` (others found in the tables follow), replications ascending.
    """
    run_dir = Path(run_dir)
    if not (run_dir / TIMESERIES).exists():
        return {}
    ts = read_timeseries(run_dir)
    if not ts or len(ts.get("day", ())) == 0:
        return {}
    order = list(variants) + sorted(set(np.unique(ts["variant"]).tolist()) - set(variants))
    rank = {name: i for i, name in enumerate(order)}
    variant_rank = np.array([rank[v] for v in ts["variant"].tolist()], dtype=np.int64)
    idx = np.lexsort((ts["day"], ts["replication"], variant_rank))
    key_v, key_r = variant_rank[idx], ts["replication"][idx]
    cuts = np.flatnonzero((np.diff(key_v) != 0) | (np.diff(key_r) != 0)) + 1
    groups = np.split(idx, cuts)

    extra = _per_replication(run_dir, resolved)
    runs: dict[str, list[RunResult]] = {}
    for rows in groups:
        name = order[int(variant_rank[rows[0]])]
        rep = int(ts["replication"][rows[0]])
        daily = {s: np.asarray(ts[s][rows], dtype=np.float64) for s in DAILY_SERIES if s in ts}
        for s in DAILY_SERIES:
            daily.setdefault(s, np.zeros(len(rows)))
        ruin_day, warnings, defections = extra.get((name, rep), (None, [], None))
        result = RunResult(
            variant=name,
            replication=rep,
            horizon_days=len(rows),
            daily=daily,
            defections=defections if defections is not None else _no_defections(),
            ruin_day=ruin_day,
            warnings=warnings,
        )
        runs.setdefault(name, []).append(result)
    return {name: runs[name] for name in order if name in runs}


def _no_defections() -> dict[str, np.ndarray]:
    return {
        "day": np.zeros(0, np.int64),
        "customer": np.zeros(0, np.int64),
        "segment": np.zeros(0, np.int64),
        "cause": np.zeros(0, np.int64),
        "satisfaction": np.zeros(0),
        "attachment": np.zeros(0),
        "tenure_days": np.zeros(0),
    }


_Extra = tuple[int | None, list[Warning_], dict[str, np.ndarray] | None]


def _per_replication(run_dir: Path, resolved: Mapping[str, Any]) -> dict[tuple[str, int], _Extra]:
    """Ruin day, warnings and defections of each ``(variant, replication)``."""
    out: dict[tuple[str, int], _Extra] = {}

    def slot(key: tuple[str, int]) -> _Extra:
        return out.get(key, (None, [], None))

    if (run_dir / REPLICATIONS).exists():
        reps = read_replications(run_dir)
        for v, r, day in zip(
            reps.get("variant", []), reps.get("replication", []), reps.get("ruin_day", []),
            strict=True,
        ):  # fmt: skip
            key = (str(v), int(r))
            ruin = None if not np.isfinite(day) else int(day)
            out[key] = (ruin, slot(key)[1], slot(key)[2])
    if (run_dir / WARNINGS).exists():
        warns = read_warnings(run_dir)
        for v, r, day, ind, msg in zip(
            warns.get("variant", []), warns.get("replication", []), warns.get("day", []),
            warns.get("indicator", []), warns.get("message", []), strict=True,
        ):  # fmt: skip
            key = (str(v), int(r))
            ruin, ws, defs = slot(key)
            out[key] = (ruin, [*ws, Warning_(int(day), str(ind), str(msg))], defs)
    if (run_dir / DEFECTIONS).exists():
        d = read_defections(run_dir)
        if d and len(d.get("day", ())):
            segments = [
                str(s.get("name")) for s in resolved.get("customers", {}).get("segments", [])
            ]
            seg_code = {name: i for i, name in enumerate(segments)}
            cause_code = {c: i for i, c in enumerate(CAUSES)}
            other = cause_code["other"]
            causes = np.array([cause_code.get(c, other) for c in d["cause"].tolist()], np.int64)
            segs = np.array([seg_code.get(s, -1) for s in d["segment"].tolist()], np.int64)
            rank = {name: i for i, name in enumerate(sorted(set(d["variant"].tolist())))}
            vr = np.array([rank[v] for v in d["variant"].tolist()], np.int64)
            idx = np.lexsort((d["day"], d["replication"], vr))
            cuts = np.flatnonzero((np.diff(vr[idx]) != 0) | (np.diff(d["replication"][idx]) != 0))
            for rows in np.split(idx, cuts + 1):
                key = (str(d["variant"][rows[0]]), int(d["replication"][rows[0]]))
                ruin, ws, _ = slot(key)
                out[key] = (
                    ruin,
                    ws,
                    {
                        "day": d["day"][rows],
                        "customer": d["customer"][rows],
                        "segment": segs[rows],
                        "cause": causes[rows],
                        "satisfaction": d["satisfaction"][rows],
                        "attachment": d["attachment"][rows],
                        "tenure_days": d["tenure_days"][rows],
                    },
                )
    return out


# --------------------------------------------------------------------------- words


def _num(x: Any) -> float | None:
    """A finite float, or None for null/NaN/missing."""
    if x is None or isinstance(x, bool):
        return None
    try:
        value = float(x)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _pair(x: Any) -> tuple[Any, Any]:
    """The two ends of an interval (``[lo, hi]`` in JSON), None for what is missing."""
    items = list(x) if isinstance(x, list | tuple) else []
    items += [None, None]
    return items[0], items[1]


def money(x: Any, signed: bool = False) -> str:
    """``12,345`` (``+12,345`` when ``signed``); ``n/a`` when undefined."""
    v = _num(x)
    if v is None:
        return "n/a"
    text = f"{v:+,.0f}" if signed else f"{v:,.0f}"
    return text.replace("-", "−")


def pct(x: Any, digits: int = 0, signed: bool = False) -> str:
    """``12%`` of a fraction; ``n/a`` when undefined."""
    v = _num(x)
    if v is None:
        return "n/a"
    text = f"{v:+.{digits}%}" if signed else f"{v:.{digits}%}"
    return text.replace("-", "−")


def _day(x: Any) -> str:
    v = _num(x)
    return "n/a" if v is None else f"{v:,.0f}"


@dataclass
class VariantStory:
    """A variant's results in words.

    Attributes
    ----------
    name : str
        The variant.
    verdict : str
        ``safe``, ``unsafe`` or ``unresolved`` (the ruin guard's verdict), or ``unknown``.
    headline : str
        One short line: the verdict and whether it beats the base.
    sentences : list of str
        Profit, comparison with the base, churn, ruin, break-even: one sentence each.
    """

    name: str
    verdict: str
    headline: str
    sentences: list[str]
    comparison: str = ""
    ruin: str = ""
    break_even: str = ""


def _ruin_sentence(ruin: Mapping[str, Any], n: int) -> str:
    k = int(ruin.get("ruined") or 0)
    lo, hi = _pair(ruin.get("ci95"))
    limit = _num(ruin.get("max_ruin_probability"))
    limit_text = f"the {pct(limit)} limit" if limit is not None else "the limit"
    verdict = ruin.get("verdict")
    lead = _num(ruin.get("median_lead_days"))
    timing = ""
    if k:
        timing = f", median day {_day(ruin.get('median_day'))}"
        if lead is not None:
            timing += f", first warning {lead:,.0f} days earlier"
        elif int(ruin.get("warned_before_ruin") or 0) == 0:
            timing += ", with no warning before it"
    runs = f"{n} run{'s' if n != 1 else ''}"
    needed = ruin.get("replications_needed")
    settle = f"; about {int(needed):,} runs would settle it" if needed else ""
    if verdict == "safe":
        if k == 0:
            return f"Safe: no run was ruined; ruin risk below {pct(hi)} ({runs})."
        return (
            f"Safe: ruined in {k} of {runs}{timing}; ruin risk below {pct(hi)}, under {limit_text}."
        )
    if verdict == "unsafe":
        return f"Unsafe: ruined in {k} of {runs}{timing}; ruin risk {pct(lo)} to {pct(hi)}."
    if k == 0:
        return (
            f"Not yet shown safe: no run was ruined, but {runs} only show the ruin risk is "
            f"below {pct(hi)}, not that it is below {limit_text}{settle}."
        )
    return (
        f"Uncertain: ruined in {k} of {runs}{timing}; the ruin risk lies between {pct(lo)} "
        f"and {pct(hi)}, around {limit_text}{settle}."
    )


def _break_even_sentence(be: Mapping[str, Any], is_base: bool) -> str:
    m = _num(be.get("gross_margin"))
    d = _num(be.get("effective_discount")) or 0.0
    if d < 0.0005:
        if is_base:
            return f"Gross margin at list price is {pct(m)}; no discount is given."
        return (
            f"No discount was given (gross margin {pct(m)}): nothing to break even; the "
            "plan's costs are in its profit."
        )
    if be.get("structural_loss"):
        return (
            f"The average discount ({pct(d, 1)} of list price) is at least the gross margin "
            f"({pct(m)}): every discounted sale loses money, and no extra volume can pay "
            "for it."
        )
    required = _num(be.get("required_lift"))
    text = (
        f"Gross margin at list price is {pct(m)}. On average {pct(d, 1)} of list price was "
        f"given away, so sales had to rise by {pct(required, 1)} to keep gross profit"
    )
    if is_base:
        return text + "."
    realised = _num(be.get("realised_lift"))
    lo, hi = _pair(be.get("realised_lift_ci95"))
    lo_v, hi_v = _num(lo), _num(hi)
    text += f"; they rose by {pct(realised, 1)} (95% interval {pct(lo, 1)} to {pct(hi, 1)})"
    if required is None or lo_v is None or hi_v is None:
        return text + "."
    if lo_v > required:
        return text + ": enough, the discount paid for itself in gross profit."
    if hi_v < required:
        return text + ": not enough, the discount cost more gross profit than it brought in."
    return text + ": too close to call with these runs."


def variant_stories(data: RunData) -> list[VariantStory]:
    """The plain-language summary of every variant in the summary (empty without one)."""
    if not data.summary:
        return []
    summary = data.summary
    base = summary.get("base", "base")
    horizon = summary.get("horizon_days")
    initial = data.resolved.get("customers", {}).get("initial")
    stories = []
    for v in summary["variants"]:
        name = str(v.get("name"))
        metrics = v.get("metrics", {})
        n = int(v.get("replications") or summary.get("replications") or 0)
        is_base = name == base
        sentences = []
        profit = metrics.get("profit", {})
        lo, hi = _pair(profit.get("ci95"))
        sentences.append(
            f"Profit over {horizon} days: {money(profit.get('mean'))} (95% interval "
            f"{money(lo)} to {money(hi)}, over {n} runs)."
        )
        comparison = ""
        diff = (v.get("vs_base") or {}).get("profit")
        if not is_base and diff:
            d_lo, d_hi = _pair(diff.get("ci95"))
            lo_v, hi_v = _num(d_lo), _num(d_hi)
            if lo_v is not None and lo_v > 0:
                comparison = "beats the base"
            elif hi_v is not None and hi_v < 0:
                comparison = "worse than the base"
            else:
                comparison = "no clear difference from the base"
            sentences.append(
                f"Against the base: {money(diff.get('mean'), signed=True)} profit (paired "
                f"95% interval {money(d_lo, signed=True)} to {money(d_hi, signed=True)}): "
                f"{comparison}."
            )
        churn = _num(metrics.get("churn_rate_annual", {}).get("mean"))
        end = metrics.get("customers_end", {}).get("mean")
        start = f" (from {int(initial):,})" if isinstance(initial, int | float) else ""
        sentences.append(
            f"Churn: {pct(churn)} of the average customer base left per year; "
            f"{money(end)} customers at the end{start}."
        )
        satisfied = _num(metrics.get("satisfied_defector_share", {}).get("mean"))
        if satisfied is not None:
            sentences.append(f"{pct(satisfied)} of those who left were satisfied when they left.")
        ruin = v.get("ruin") or {}
        ruin_text = _ruin_sentence(ruin, n)
        warned = int(ruin.get("warned") or 0)
        if warned and not int(ruin.get("ruined") or 0):
            ruin_text += (
                f" Early warnings fired in {warned} of {n} runs (median day "
                f"{_day(ruin.get('median_warning_day'))}) without a ruin."
            )
        sentences.append(ruin_text)
        be_text = _break_even_sentence(v.get("break_even") or {}, is_base)
        sentences.append(be_text)
        verdict = str(ruin.get("verdict") or "unknown")
        label = "Ruin risk: " + VERDICT_LABELS.get(verdict, "unknown")
        headline = label + (f"; {comparison}" if comparison else "")
        stories.append(
            VariantStory(name, verdict, headline, sentences, comparison, ruin_text, be_text)
        )
    return stories


def status_message(data: RunData) -> str | None:
    """A prominent line for a run that did not complete; None when it did."""
    status = data.status
    if status == "complete":
        return None
    finished = data.manifest.get("replications_finished") or {}
    requested = data.manifest.get("replications_requested")
    counts = ", ".join(f"{k}: {v}" for k, v in finished.items()) if finished else "unknown"
    of = f" of {requested}" if requested else ""
    if status == "interrupted":
        return (
            f"This run was INTERRUPTED: only some replications finished ({counts}{of} per "
            "variant). The figures cover those alone; intervals are wider and verdicts less "
            "certain than a complete run would give."
        )
    if status == "failed":
        error = data.manifest.get("error") or "no error recorded"
        return (
            f"This run FAILED ({error}). Replications finished: {counts}{of}. Any figures "
            "below are partial."
        )
    return (
        f"This run had not finished when the report was made (status: {status}): it may "
        f"still be going, or it was killed. Replications finished: {counts}{of}."
    )


def cause_rows(data: RunData) -> list[tuple[str, list[float]]]:
    """``(variant, [share per cause in CAUSES order])`` from the summary."""
    if not data.summary:
        return []
    rows = []
    for v in data.summary["variants"]:
        shares = v.get("churn_causes") or {}
        rows.append((str(v.get("name")), [_num(shares.get(c)) or 0.0 for c in CAUSES]))
    return rows


def causes_sentence(data: RunData) -> str:
    """The base's main causes of defection in one sentence."""
    rows = cause_rows(data)
    if not rows:
        return ""
    name, shares = rows[0]
    if not sum(shares):
        return f"Nobody left in the {name}."
    ranked = sorted(zip(CAUSES, shares, strict=True), key=lambda cs: -cs[1])
    top = [f"{CAUSE_LABELS[c]} ({pct(s)})" for c, s in ranked[:3] if s > 0]
    return f"In the {name}, customers left mostly because of " + ", ".join(top) + "."


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


def _unit(path: str, value: Any, meta: Any) -> str:
    """A parameter's unit, from its name and bounds (the schema states units in words)."""
    leaf = path.rsplit(".", 1)[-1]
    if isinstance(value, bool | str):
        return ""
    if leaf in ("fixed_costs_per_month", "monthly_budget"):
        return "money/month"
    if leaf.endswith("switching_cost") or leaf in _UTILITY_KEYS:
        return "utility"
    if leaf.endswith("_per_month"):
        return "per month"
    if leaf.endswith("days") or leaf.endswith("_day"):
        return "days"
    if leaf.endswith("_hazard"):
        return "per year"
    if leaf.endswith(_MONEY_ENDINGS):
        return "money"
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
                out.append(
                    Parameter(path, _format_value(value), _unit(path, value, info), description)
                )

    walk(scenario, "")
    return out


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


# --------------------------------------------------------------------------- charts


@dataclass
class Chart:
    """One chart of the report: PNG bytes, a title and a caption in words."""

    name: str
    title: str
    caption: str
    png: bytes


CHART_TEXT: dict[str, tuple[str, str]] = {
    "customers": (
        "Active customers",
        "How many customers each plan keeps, day by day. Lines are medians over the runs; "
        "shaded bands hold 90% of runs.",
    ),
    "cash": (
        "Cash",
        "Cash in the bank at the end of each day. The dashed line is the floor below which "
        "the business is ruined; a cross marks each run that hit it.",
    ),
    "cumulative_profit": (
        "Cumulative profit",
        "Profit since day 0 (gross profit less every other cost), shown once a month just "
        "after the month's fixed costs are paid, so the rent's saw-tooth does not hide the "
        "differences.",
    ),
    "profit_vs_base": (
        "Profit compared with the base",
        "Each plan's profit minus the base's, run by run on the same customers and luck. "
        "When the thick bar (the paired 95% interval) is clear of zero the difference is "
        "real, not chance.",
    ),
    "churn_causes": (
        "Why customers left",
        "Shares of all defections by recorded cause.",
    ),
    "defector_satisfaction": (
        "Satisfaction when customers left",
        "How satisfied customers were at the moment they left. The shaded band is "
        "'satisfied': customers there left although satisfied.",
    ),
}
CHART_ORDER: tuple[str, ...] = tuple(CHART_TEXT)


def build_charts(data: RunData, dpi: int = 130) -> list[Chart]:
    """Draw the report's charts (from the rebuilt replications) as PNG bytes.

    Charts a command left in ``charts/`` that the report does not draw itself (a safe
    frontier, a sweep heat map) are added as they are.
    """
    from loyaltysim import plotting

    charts: list[Chart] = []
    drawn: set[str] = set()
    if data.runs and data.scenario is not None:
        figures: dict[str, Callable[[], Any]] = {
            "customers": lambda: plotting.customers_chart(data.runs),
            "cash": lambda: plotting.cash_chart(data.runs, data.scenario),
            "cumulative_profit": lambda: plotting.cumulative_profit_chart(data.runs),
            "profit_vs_base": lambda: _forest(data),
            "churn_causes": lambda: plotting.churn_causes_chart(data.runs),
            "defector_satisfaction": lambda: plotting.defector_satisfaction_chart(data.runs),
        }
        for name in CHART_ORDER:
            if name == "profit_vs_base" and len(data.runs) < 2:
                continue
            fig = figures[name]()
            title, caption = CHART_TEXT[name]
            charts.append(Chart(name, title, caption, _png(fig, dpi)))
            drawn.add(name)
    folder = data.run_dir / "charts"
    if folder.is_dir():
        for path in sorted(folder.glob("*.png")):
            if path.stem in drawn or (path.stem in CHART_TEXT and data.runs):
                continue
            try:
                png = path.read_bytes()
            except OSError:
                continue
            if not png.startswith(b"\x89PNG"):
                continue
            title, caption = CHART_TEXT.get(
                path.stem, (path.stem.replace("_", " ").capitalize(), f"charts/{path.name}")
            )
            charts.append(Chart(path.stem, title, caption, png))
    return charts


def _forest(data: RunData) -> Any:
    """The forest plot of profit differences: the summary's numbers when it has them."""
    from loyaltysim import plotting
    from loyaltysim.analysis.stats import PairedDifference

    diffs: dict[str, PairedDifference] = {}
    if data.summary:
        base = data.summary.get("base", "base")
        for v in data.summary["variants"]:
            d = (v.get("vs_base") or {}).get("profit")
            if v.get("name") == base or not d:
                continue
            ci, un = _interval(d.get("ci95")), _interval(d.get("unpaired_ci95"))
            diffs[str(v["name"])] = PairedDifference(
                _num(d.get("mean")) or 0.0,
                ci,
                un,
                _num(d.get("variance_reduction")) or float("nan"),
            )
    if diffs:
        return plotting.profit_difference_chart(diffs)
    return plotting.profit_vs_base_chart(data.scenario, data.runs)


def _interval(x: Any) -> tuple[float, float]:
    lo, hi = (_num(v) for v in _pair(x))
    nan = float("nan")
    return (nan if lo is None else lo, nan if hi is None else hi)


def _png(fig: Any, dpi: int) -> bytes:
    import matplotlib

    from loyaltysim import plotting

    buffer = io.BytesIO()
    with matplotlib.rc_context(plotting.STYLE):
        fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


# --------------------------------------------------------------------------- HTML

_CSS = """
:root { --ink:#1a1a1a; --muted:#555; --line:#ddd; --safe:#009E73; --unsafe:#D55E00;
        --unresolved:#B07800; --accent:#0072B2; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: var(--ink); margin: 0; background: #f6f6f4; line-height: 1.5; }
main { max-width: 1040px; margin: 0 auto; padding: 32px 40px 64px; background: #fff; }
h1 { font-size: 2rem; margin: 0 0 4px; }
h2 { font-size: 1.4rem; margin: 40px 0 12px; padding-bottom: 4px;
     border-bottom: 2px solid var(--ink); }
h3 { font-size: 1.1rem; margin: 0 0 6px; }
.subtitle { color: var(--muted); margin: 0 0 20px; }
.status { border: 3px solid var(--unsafe); background: #fdf0e8; padding: 12px 16px;
          font-weight: 600; margin: 16px 0; }
.note { color: var(--muted); font-size: 0.92rem; }
nav ol { columns: 2; margin: 8px 0 0; padding-left: 20px; }
nav a { color: var(--accent); }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; margin: 8px 0 16px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line);
         vertical-align: top; }
th { background: #f0f0ee; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.group td { background: #fafaf8; font-weight: 600; padding-top: 10px; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
       font-size: 0.88em; background: #f3f3f1; padding: 1px 4px; word-break: break-all; }
.cards { display: grid; grid-template-columns: 1fr; gap: 14px; }
.card { border: 1px solid var(--line); border-left: 6px solid var(--muted);
        padding: 12px 16px; break-inside: avoid; }
.card.safe { border-left-color: var(--safe); }
.card.unsafe { border-left-color: var(--unsafe); }
.card.unresolved { border-left-color: var(--unresolved); }
.badge { display: inline-block; font-weight: 700; font-size: 0.85rem; padding: 1px 8px;
         border-radius: 3px; color: #fff; background: var(--muted); margin-left: 6px; }
.badge.safe { background: var(--safe); }
.badge.unsafe { background: var(--unsafe); }
.badge.unresolved { background: var(--unresolved); }
.badge.compare { background: #fff; color: var(--ink); border: 1px solid var(--ink); }
.ci { color: var(--muted); font-size: 0.85em; }
td code.key { white-space: nowrap; word-break: normal; }
.card ul { margin: 6px 0 0; padding-left: 20px; }
figure { margin: 24px 0 8px; break-inside: avoid; }
figure img { width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 0.92rem; margin-top: 4px; }
.swatch { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
footer { margin-top: 48px; color: var(--muted); font-size: 0.85rem; }
@media print { body { background: #fff; } main { padding: 0; } h2 { break-after: avoid; } }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def render_html(data: RunData, charts: Sequence[Chart], generated: datetime) -> str:
    """The report as one self-contained HTML document (no external references)."""
    parts: list[str] = []
    add = parts.append
    title = f"{data.title}: simulation report"
    add("<!DOCTYPE html>")
    add('<html lang="en"><head><meta charset="utf-8">')
    add('<meta name="viewport" content="width=device-width, initial-scale=1">')
    add(f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>")
    add(f"<h1>{_e(data.title)}</h1>")
    m = data.manifest
    reps = _runs_per_plan(data)
    horizon = m.get("horizon_days") or data.resolved.get("scenario", {}).get("horizon_days")
    add(
        f'<p class="subtitle">Simulation report · run of {_e(_date(m.get("started_at")))} · '
        f"{_e(reps)} runs per plan × {_e(horizon)} days · report made "
        f"{_e(generated.strftime('%Y-%m-%d %H:%M UTC'))}</p>"
    )
    message = status_message(data)
    if message:
        add(f'<div class="status" role="alert">{_e(message)}</div>')
    for note in data.notes:
        add(f'<p class="note">Note: {_e(note)}.</p>')
    sections = [
        ("summary", "Summary"),
        ("charts", "Charts"),
        ("causes", "Why customers left"),
        ("break-even", "Does the discount pay for itself?"),
        ("assumptions", "Assumptions"),
        ("reproduce", "How to reproduce"),
    ]
    add("<nav><ol>" + "".join(f'<li><a href="#{a}">{_e(t)}</a></li>' for a, t in sections))
    add("</ol></nav>")

    # Summary
    add('<h2 id="summary">Summary</h2>')
    stories = variant_stories(data)
    if not stories:
        add("<p>No summary: the run left no results to summarise.</p>")
    else:
        add(_summary_table_html(data))
        add('<div class="cards">')
        for s in stories:
            add(f'<section class="card {_e(s.verdict)}">')
            badges = (
                f'<span class="badge {_e(s.verdict)}">ruin risk: '
                f"{_e(VERDICT_LABELS.get(s.verdict, s.verdict))}</span>"
            )
            if s.comparison:
                badges += f'<span class="badge compare">{_e(s.comparison)}</span>'
            add(f"<h3>{_e(s.name)}{badges}</h3><ul>")
            add("".join(f"<li>{_e(x)}</li>" for x in s.sentences))
            add("</ul></section>")
        add("</div>")
        add(
            '<p class="note">Intervals are 95% confidence intervals over the runs. Every plan '
            "is run on the same simulated customers and luck as the base (common random "
            "numbers), so its difference from the base is measured run by run (paired). "
            "“Safe” means the 95% upper bound of the ruin risk is below the guard’s limit."
            "</p>"
        )

    # Charts
    add('<h2 id="charts">Charts</h2>')
    if not charts:
        add("<p>No charts: the run left no complete replication to draw.</p>")
    for c in charts:
        data64 = base64.b64encode(c.png).decode("ascii")
        add(
            f'<figure id="chart-{_e(c.name)}"><img alt="{_e(c.title)}" '
            f'src="data:image/png;base64,{data64}">'
            f"<figcaption><b>{_e(c.title)}.</b> {_e(c.caption)}</figcaption></figure>"
        )

    # Causes
    add('<h2 id="causes">Why customers left</h2>')
    rows = cause_rows(data)
    if rows:
        add(f"<p>{_e(causes_sentence(data))}</p>")
        add("<table><thead><tr><th>plan</th>")
        add("".join(f'<th class="num">{_e(CAUSE_SHORT[c])}</th>' for c in CAUSES))
        add("</tr></thead><tbody>")
        for name, shares in rows:
            cells = "".join(f'<td class="num">{pct(s)}</td>' for s in shares)
            add(f"<tr><td>{_e(name)}</td>{cells}</tr>")
        add("</tbody></table>")
        add(
            '<p class="note">Shares of all defections in all runs. “Staff indifference” and '
            "“poor service” are counted apart.</p>"
        )
    else:
        add("<p>No summary of defections.</p>")

    # Break-even
    add('<h2 id="break-even">Does the discount pay for itself?</h2>')
    if stories:
        add(
            "<p>A discount <i>d</i> cuts the margin on every discounted sale, so with a gross "
            "margin <i>m</i> sales must rise by <i>d</i>/(<i>m</i> − <i>d</i>) just to keep "
            "gross profit where it was; when <i>d</i> ≥ <i>m</i> no rise is enough.</p><ul>"
        )
        for s in stories:
            add(f"<li><b>{_e(s.name)}:</b> {_e(s.break_even)}</li>")
        add("</ul>")
    else:
        add("<p>No summary: nothing to compare.</p>")

    # Assumptions
    add('<h2 id="assumptions">Assumptions</h2>')
    add(
        "<p>Every parameter of the scenario as it was run, defaults included. Money is in "
        "the scenario’s currency; fractions are shares (0.15 = 15%); utilities are in logit "
        "units of the choice model.</p>"
    )
    add(
        '<table><thead><tr><th>parameter</th><th class="num">value</th><th>unit</th>'
        "<th>meaning</th></tr></thead><tbody>"
    )
    group = None
    for p in parameters(data):
        head = p.path.split(".", 1)[0]
        if head != group:
            group = head
            add(f'<tr class="group"><td colspan="4">[{_e(head)}]</td></tr>')
        add(
            f'<tr><td><code class="key">{_e(p.path)}</code></td><td class="num">{_e(p.value)}</td>'
            f"<td>{_e(p.unit)}</td><td>{_e(p.description)}</td></tr>"
        )
    add("</tbody></table>")
    changes = variant_changes(data)
    if changes:
        add("<h3>What each plan changes</h3><table><thead><tr><th>plan</th><th>changes</th>")
        add("</tr></thead><tbody>")
        for name, text in changes:
            add(f"<tr><td>{_e(name)}</td><td><code>{_e(text)}</code></td></tr>")
        add("</tbody></table>")

    # Reproduce
    add('<h2 id="reproduce">How to reproduce</h2>')
    add(
        "<p>The same scenario file, seed and version give the same numbers, to the digit, "
        "on any machine and with any number of workers.</p>"
    )
    add("<table><tbody>")
    for label, value in reproduce_rows(data):
        add(f"<tr><th>{_e(label)}</th><td><code>{_e(value)}</code></td></tr>")
    add("</tbody></table>")
    add(f"<p>This report: <code>loyaltysim report {_e(shlex.quote(str(data.run_dir)))}</code></p>")
    add(
        "<footer>Made with loyaltysim, an agent-based simulator of discount and loyalty "
        "programmes. Simulated results depend on the assumptions above; they are a way "
        "to compare plans, not a forecast.</footer>"
    )
    add("</main></body></html>")
    return "\n".join(parts) + "\n"


def _runs_per_plan(data: RunData) -> str:
    """Replications per plan: those summarised, else those asked for."""
    if data.summary and data.summary.get("replications") is not None:
        return str(data.summary["replications"])
    return str(data.manifest.get("replications_requested", "?"))


def _date(stamp: Any) -> str:
    if not isinstance(stamp, str) or len(stamp) < 10:
        return "unknown date"
    return stamp[:10]


def summary_rows(data: RunData) -> list[list[str]]:
    """The at-a-glance table: plan, profit [CI], vs base, churn/yr, customers, ruin, verdict."""
    rows: list[list[str]] = []
    if not data.summary:
        return rows
    base = data.summary.get("base", "base")
    for v, s in zip(data.summary["variants"], variant_stories(data), strict=True):
        m = v.get("metrics", {})
        p = m.get("profit", {})
        lo, hi = _pair(p.get("ci95"))
        diff = (v.get("vs_base") or {}).get("profit")
        if v.get("name") != base and diff:
            d_lo, d_hi = _pair(diff.get("ci95"))
            vs = (
                f"{money(diff.get('mean'), True)} ({COMPARISON_SHORT.get(s.comparison, '?')})\n"
                f"{money(d_lo, True)} to {money(d_hi, True)}"
            )
        else:
            vs = "–"
        ruin = v.get("ruin") or {}
        n = int(v.get("replications") or data.summary.get("replications") or 0)
        rows.append(
            [
                str(v.get("name")),
                f"{money(p.get('mean'))}\n{money(lo)} to {money(hi)}",
                vs,
                pct(m.get("churn_rate_annual", {}).get("mean")),
                money(m.get("customers_end", {}).get("mean")),
                f"{int(ruin.get('ruined') or 0)} of {n}",
                VERDICT_LABELS.get(s.verdict, s.verdict),
            ]
        )
    return rows


SUMMARY_HEADER = (
    "plan",
    "profit\n95% interval",
    "vs base\npaired 95% interval",
    "churn\nper year",
    "customers\nat end",
    "runs\nruined",
    "ruin risk",
)


def _lines_html(text: str) -> str:
    """A cell's first line as is, further lines small and muted (the interval)."""
    first, *rest = text.split("\n")
    return _e(first) + "".join(f'<br><span class="ci">{_e(r)}</span>' for r in rest)


def _summary_table_html(data: RunData) -> str:
    head = "".join(
        f'<th class="{"num" if 0 < i < 6 else ""}">{_e(h).replace(chr(10), "<br>")}</th>'
        for i, h in enumerate(SUMMARY_HEADER)
    )
    body = []
    for row in summary_rows(data):
        cells = "".join(
            f'<td class="{"num" if 0 < i < 6 else ""}">{_lines_html(c)}</td>'
            for i, c in enumerate(row[:-1])
        )
        verdict = next((k for k, v in VERDICT_LABELS.items() if v == row[-1]), "unknown")
        cells += f'<td><span class="badge {_e(verdict)}">{_e(row[-1])}</span></td>'
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# --------------------------------------------------------------------------- PDF


class _PdfLayout:
    """Pages of text, tables and images drawn with ``Figure.text`` (A4 portrait, inches).

    matplotlib has no text flow, so lines are wrapped here by measuring each candidate
    line with the same font that draws it (``TextToPath``), and a new page starts when the
    cursor reaches the bottom margin.
    """

    W, H = 8.27, 11.69
    MARGIN = 0.7
    BOTTOM = 0.8

    def __init__(self, pdf: Any, footer: str) -> None:
        from matplotlib.font_manager import FontProperties
        from matplotlib.textpath import TextToPath

        self.pdf = pdf
        self.footer = footer
        self.pages = 0
        self._measure = TextToPath()
        self._font = FontProperties
        self.fig: Any = None
        self.y = 0.0
        self._new_page()

    # ---- pages

    def _new_page(self) -> None:
        from matplotlib.figure import Figure

        self._flush()
        self.fig = Figure(figsize=(self.W, self.H))
        self.pages += 1
        self.y = self.H - self.MARGIN

    def _flush(self) -> None:
        if self.fig is None:
            return
        self.fig.text(
            self.MARGIN, 0.4, self.footer, fontsize=7.5, color="#777777",
            transform=self.fig.dpi_scale_trans,
        )  # fmt: skip
        self.fig.text(
            self.W - self.MARGIN, 0.4, f"page {self.pages}", fontsize=7.5, color="#777777",
            ha="right", transform=self.fig.dpi_scale_trans,
        )  # fmt: skip
        self.pdf.savefig(self.fig)
        self.fig = None

    def close(self) -> None:
        """Write the last page."""
        self._flush()

    def need(self, height: float) -> None:
        """Start a new page unless ``height`` inches fit above the bottom margin."""
        if self.y - height < self.BOTTOM:
            self._new_page()

    def space(self, inches: float) -> None:
        """Vertical space."""
        self.y -= inches

    # ---- text

    def width_of(self, text: str, size: float, weight: str = "normal") -> float:
        """Width of ``text`` in inches at ``size`` points."""
        prop = self._font(size=size, weight=weight)
        w, _, _ = self._measure.get_text_width_height_descent(text, prop, ismath=False)
        return float(w) / 72.0

    def wrap(self, text: str, width: float, size: float, weight: str = "normal") -> list[str]:
        """Greedy word wrap to ``width`` inches; over-long words are cut."""
        lines: list[str] = []
        for paragraph in text.split("\n"):
            if self.width_of(paragraph, size, weight) <= width:  # most cells: one call
                lines.append(paragraph)
                continue
            line = ""
            for word in paragraph.split(" "):
                candidate = f"{line} {word}" if line else word
                if self.width_of(candidate, size, weight) <= width:
                    line = candidate
                    continue
                if line:
                    lines.append(line)
                while self.width_of(word, size, weight) > width and len(word) > 1:
                    cut = len(word)
                    while cut > 1 and self.width_of(word[:cut], size, weight) > width:
                        cut = max(1, int(cut * 0.8))
                    lines.append(word[:cut])
                    word = word[cut:]
                line = word
            lines.append(line)
        return lines

    def text(
        self,
        text: str,
        size: float = 10.0,
        weight: str = "normal",
        color: str = "#1a1a1a",
        indent: float = 0.0,
        after: float = 0.08,
        bullet: str | None = None,
    ) -> None:
        """A wrapped paragraph."""
        x = self.MARGIN + indent
        width = self.W - self.MARGIN - x
        line_h = size * 1.38 / 72.0
        for i, line in enumerate(self.wrap(text, width, size, weight)):
            self.need(line_h)
            if bullet and i == 0:
                self.fig.text(
                    x - 0.15, self.y, bullet, fontsize=size, va="top", color=color,
                    transform=self.fig.dpi_scale_trans,
                )  # fmt: skip
            self.fig.text(
                x, self.y, line, fontsize=size, weight=weight, va="top", color=color,
                transform=self.fig.dpi_scale_trans,
            )  # fmt: skip
            self.y -= line_h
        self.y -= after

    def heading(self, text: str, size: float = 15.0) -> None:
        """A section heading with a rule under it; never alone at the foot of a page."""
        self.need(size / 72.0 * 1.6 + 0.9)
        self.space(0.12)
        self.text(text, size=size, weight="bold", after=0.02)
        self.fig.add_artist(_rule(self.fig, self.MARGIN, self.W - self.MARGIN, self.y + 0.02))
        self.y -= 0.12

    def box(self, text: str, edge: str, face: str, size: float = 10.5) -> None:
        """A framed, bold paragraph (the status of an incomplete run)."""
        from matplotlib.patches import Rectangle

        width = self.W - 2 * self.MARGIN - 0.3
        lines = self.wrap(text, width, size, "bold")
        line_h = size * 1.38 / 72.0
        height = line_h * len(lines) + 0.2
        self.need(height)
        self.fig.add_artist(
            Rectangle(
                (self.MARGIN, self.y - height), self.W - 2 * self.MARGIN, height,
                transform=self.fig.dpi_scale_trans, facecolor=face, edgecolor=edge,
                linewidth=2.5,
            )
        )  # fmt: skip
        self.y -= 0.1
        for line in lines:
            self.fig.text(
                self.MARGIN + 0.15, self.y, line, fontsize=size, weight="bold", va="top",
                transform=self.fig.dpi_scale_trans,
            )  # fmt: skip
            self.y -= line_h
        self.y -= 0.25

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        size: float = 8.0,
        right: Sequence[int] = (),
    ) -> None:
        """A table with wrapped cells; ``widths`` are fractions of the text width."""
        total = self.W - 2 * self.MARGIN
        cols = [w * total for w in widths]
        line_h = size * 1.35 / 72.0

        def draw_row(cells: Sequence[str], weight: str, shade: str | None) -> None:
            wrapped = [self.wrap(str(c), cols[i] - 0.08, size, weight) for i, c in enumerate(cells)]
            height = max(len(w) for w in wrapped) * line_h + 0.06
            if self.y - height < self.BOTTOM:
                self._new_page()
                if weight != "bold":
                    draw_row(header, "bold", "#EEEEEC")
            if shade:
                from matplotlib.patches import Rectangle

                self.fig.add_artist(
                    Rectangle(
                        (self.MARGIN, self.y - height), total, height, facecolor=shade,
                        edgecolor="none", transform=self.fig.dpi_scale_trans,
                    )
                )  # fmt: skip
            x = self.MARGIN
            for i, lines in enumerate(wrapped):
                for k, line in enumerate(lines):
                    at_right = i in right
                    self.fig.text(
                        x + (cols[i] - 0.04 if at_right else 0.04),
                        self.y - 0.03 - k * line_h, line, fontsize=size, weight=weight,
                        va="top", ha="right" if at_right else "left",
                        transform=self.fig.dpi_scale_trans,
                    )  # fmt: skip
                x += cols[i]
            self.y -= height
            self.fig.add_artist(_rule(self.fig, self.MARGIN, self.W - self.MARGIN, self.y, 0.4))

        draw_row(header, "bold", "#EEEEEC")
        for row in rows:
            draw_row(row, "normal", None)
        self.y -= 0.12

    def image(self, png: bytes, caption: str) -> None:
        """A chart scaled to the text width, with its caption below (it has its own title)."""
        import matplotlib.image

        img = matplotlib.image.imread(io.BytesIO(png), format="png")
        width = self.W - 2 * self.MARGIN
        height = width * img.shape[0] / img.shape[1]
        max_h = self.H - self.MARGIN - self.BOTTOM - 1.2
        if height > max_h:
            width, height = width * max_h / height, max_h
        caption_lines = self.wrap(caption, self.W - 2 * self.MARGIN, 9.0)
        self.need(height + 0.2 + len(caption_lines) * 9 * 1.38 / 72)
        left = (self.W - width) / 2
        ax = self.fig.add_axes(
            (left / self.W, (self.y - height) / self.H, width / self.W, height / self.H)
        )
        ax.imshow(img, interpolation="none")
        ax.set_axis_off()
        self.y -= height + 0.08
        self.text(caption, size=9.0, color="#555555", after=0.25)


def _rule(fig: Any, x0: float, x1: float, y: float, width: float = 1.2) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], transform=fig.dpi_scale_trans, color="#999999", linewidth=width)


def render_pdf(data: RunData, charts: Sequence[Chart], generated: datetime) -> bytes:
    """The report as PDF bytes, drawn with matplotlib only."""
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    metadata = {
        "Title": f"{data.title}: simulation report",
        "Creator": "loyaltysim",
        "Subject": "Simulation of discount and loyalty plans",
    }
    footer = f"{data.title} · loyaltysim report · {generated.strftime('%Y-%m-%d')}"
    with (
        matplotlib.rc_context({"font.family": "DejaVu Sans", "pdf.fonttype": 42}),
        PdfPages(buffer, metadata=metadata) as pdf,
    ):
        page = _PdfLayout(pdf, footer)
        _pdf_content(page, data, charts, generated)
        page.close()
    return buffer.getvalue()


def _pdf_content(page: _PdfLayout, data: RunData, charts: Sequence[Chart], now: datetime) -> None:
    m = data.manifest
    page.text(data.title, size=22, weight="bold", after=0.04)
    horizon = m.get("horizon_days") or data.resolved.get("scenario", {}).get("horizon_days")
    page.text(
        f"Simulation report · run of {_date(m.get('started_at'))} · "
        f"{_runs_per_plan(data)} runs per plan × {horizon} days · report made "
        f"{now.strftime('%Y-%m-%d %H:%M UTC')}",
        size=9.5,
        color="#555555",
        after=0.2,
    )
    message = status_message(data)
    if message:
        page.box(message, edge="#D55E00", face="#FDF0E8")
    for note in data.notes:
        page.text(f"Note: {note}.", size=9, color="#555555")

    page.heading("Summary")
    stories = variant_stories(data)
    if not stories:
        page.text("No summary: the run left no results to summarise.")
    else:
        page.table(
            SUMMARY_HEADER,
            summary_rows(data),
            (0.18, 0.15, 0.19, 0.09, 0.11, 0.08, 0.2),
            size=7.5,
            right=(1, 2, 3, 4, 5),
        )
        colours = {"safe": "#009E73", "unsafe": "#D55E00", "unresolved": "#B07800"}
        for s in stories:
            page.need(0.9)
            page.text(s.name, size=11.5, weight="bold", after=0.0)
            page.text(s.headline, size=10, weight="bold", color=colours.get(s.verdict, "#555555"))
            for sentence in s.sentences:
                page.text(sentence, size=9.5, indent=0.25, bullet="•", after=0.03)
            page.space(0.1)
        page.text(
            "Intervals are 95% confidence intervals over the runs. Every plan is run on the "
            "same simulated customers and luck as the base (common random numbers), so its "
            "difference from the base is measured run by run (paired). “Safe” means the 95% "
            "upper bound of the ruin risk is below the guard’s limit.",
            size=8.5,
            color="#555555",
        )

    page.heading("Why customers left")
    rows = cause_rows(data)
    if rows:
        page.text(causes_sentence(data), size=10)
        page.table(
            ["plan", *(CAUSE_SHORT[c] for c in CAUSES)],
            [[name, *(pct(s) for s in shares)] for name, shares in rows],
            (0.22, *(0.78 / len(CAUSES),) * len(CAUSES)),
            size=7.5,
            right=tuple(range(1, len(CAUSES) + 1)),
        )
    else:
        page.text("No summary of defections.")

    page.heading("Does the discount pay for itself?")
    page.text(
        "A discount d cuts the margin on every discounted sale, so with a gross margin m "
        "sales must rise by d/(m − d) just to keep gross profit where it was; when d ≥ m no "
        "rise is enough.",
        size=9.5,
    )
    for s in stories:
        page.text(f"{s.name}: {s.break_even}", size=9.5, indent=0.25, bullet="•", after=0.04)

    if charts:
        page._new_page()
        page.heading("Charts")
        for c in charts:
            page.image(c.png, c.caption)

    page._new_page()
    page.heading("Assumptions")
    page.text(
        "Every parameter of the scenario as it was run, defaults included. Money is in the "
        "scenario's currency; fractions are shares (0.15 = 15%); utilities are in logit "
        "units of the choice model.",
        size=9,
    )
    page.table(
        ["parameter", "value", "unit", "meaning"],
        [[p.path, p.value, p.unit, p.description] for p in parameters(data)],
        (0.36, 0.13, 0.13, 0.38),
        size=7.0,
        right=(1,),
    )
    changes = variant_changes(data)
    if changes:
        page.text("What each plan changes", size=11, weight="bold")
        page.table(["plan", "changes"], changes, (0.3, 0.7), size=7.5)

    page.heading("How to reproduce")
    page.text(
        "The same scenario file, seed and version give the same numbers, to the digit, on "
        "any machine and with any number of workers.",
        size=9,
    )
    page.table(["", ""], reproduce_rows(data), (0.25, 0.75), size=7.5)
    page.text(f"This report: loyaltysim report {shlex.quote(str(data.run_dir))}", size=8.5)


# --------------------------------------------------------------------------- entry point


def default_output(run_dir: Path | str, fmt: str) -> Path:
    """Where a report goes by default: ``RUN_DIR/report.html`` or ``RUN_DIR/report.pdf``."""
    return Path(run_dir) / f"report.{fmt}"


def write_report(
    run_dir: Path | str,
    fmt: str = "html",
    output: Path | str | None = None,
    now: datetime | None = None,
) -> Path:
    """Make the report of a results folder and write it atomically.

    Parameters
    ----------
    run_dir : path
        The results folder.
    fmt : {"html", "pdf"}
        The format.
    output : path, optional
        The file to write; ``RUN_DIR/report.<fmt>`` by default.
    now : datetime, optional
        The time stamped on the report (UTC now by default).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ReportError
        When the folder is not a results folder (exit code 2) or is broken (4).
    ValueError
        For an unknown format.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    data = load_run(run_dir)
    generated = (now or datetime.now(UTC)).astimezone(UTC)
    charts = build_charts(data, dpi=130 if fmt == "html" else 150)
    path = Path(output) if output is not None else default_output(run_dir, fmt)
    if fmt == "html":
        atomic_write_text(path, render_html(data, charts, generated))
    else:
        atomic_write_bytes(path, render_pdf(data, charts, generated))
    return path
