"""Reports of the other folder kinds: sweeps (and sensitivity designs), frontiers and
calibrations, in the same :class:`~loyaltysim.output.report_doc.Report` as a run's, so the
same templates and renderers draw them; and the comparison section of a compare folder.

Each report opens, like a run's, with the answer (what the folder was made to find out,
and what it found), then the evidence (its table and chart), the small-sample warnings of
its JSON files, and how to reproduce it. Only the folder's own files are read (resolved
first, refused when they leave it).
"""

from __future__ import annotations

import json
import math
import shlex
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from loyaltysim.output.report_data import (
    EXIT_USAGE,
    ReportError,
    inside,
    read_sample_warnings,
)
from loyaltysim.output.report_doc import (
    Block,
    Bullets,
    Cell,
    Figure,
    Paragraph,
    Report,
    Section,
    Table,
)
from loyaltysim.scenario.money import money, number, with_unit

__all__ = ["OTHER_KINDS", "comparison_section", "folder_kind", "kind_report"]

OTHER_KINDS = ("sweep", "sensitivity", "frontier", "calibration")
MAX_BYTES = 50 * 1024 * 1024
DISCLAIMER = (
    "Made with loyaltysim, an agent-based simulator of discount and loyalty programmes. "
    "Simulated results depend on the scenario's assumptions; they are a way to compare "
    "plans, not a forecast."
)


def _json(root: Path, name: str) -> Any:
    path = inside(root, name)
    if not path.is_file():
        return None
    if path.stat().st_size > MAX_BYTES:
        raise ReportError(f"{root / name} is too large to be a results file")
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ReportError(f"{root / name} cannot be read: {exc}") from None


def folder_kind(run_dir: Path | str) -> str:
    """``run``, ``compare``, ``sweep``, ``sensitivity``, ``frontier`` or ``calibration``:
    the manifest's kind, else what the folder's files say it is."""
    root = Path(run_dir).resolve()
    if not root.is_dir():
        return "run"  # load_run says what is wrong
    try:
        manifest = _json(root, "manifest.json")
        if isinstance(manifest, dict) and manifest.get("kind") in (*OTHER_KINDS, "compare"):
            return str(manifest["kind"])
        if (root / "comparison.json").is_file():
            return "compare"
        if manifest is None and (root / "calibration.json").is_file():
            return "calibration"
        if manifest is None and (root / "frontier.json").is_file():
            return "frontier"
    except ReportError:
        pass
    return "run"


def _png(root: Path, *names: str) -> list[tuple[str, bytes]]:
    out = []
    for name in names:
        try:
            path = inside(root, name)
        except ReportError:
            continue
        if path.is_file() and path.stat().st_size <= MAX_BYTES:
            data = path.read_bytes()
            if data.startswith(b"\x89PNG"):
                out.append((Path(name).stem, data))
    return out


def _currency(root: Path) -> str | None:
    try:
        resolved = _json(root, "scenario.resolved.json")
    except ReportError:
        return None
    value = ((resolved or {}).get("scenario") or {}).get("currency")
    return value if isinstance(value, str) and value else None


def _guard_limit(root: Path) -> float:
    try:
        resolved = _json(root, "scenario.resolved.json") or {}
    except ReportError:
        resolved = {}
    value = (resolved.get("guard") or {}).get("max_ruin_probability", 0.05)
    return float(value) if isinstance(value, int | float) else 0.05


def _pct(x: Any) -> str:
    if not isinstance(x, int | float) or isinstance(x, bool) or not math.isfinite(x):
        return "n/a"
    text = f"{x:.0%}" if x == 0 or abs(x) >= 0.1 else f"{x:.1%}"
    return text.replace("-", "−")


def _reproduce(manifest: Mapping[str, Any], extra: Sequence[tuple[str, str]] = ()) -> Section:
    versions = manifest.get("versions") or {}
    cmd = manifest.get("command_line")
    if isinstance(cmd, list) and cmd:
        parts = [str(p) for p in cmd]
        if Path(parts[0]).name in ("loyaltysim", "__main__.py", "loyaltysim.exe"):
            parts[0] = "loyaltysim"
        line = shlex.join(parts)
    else:
        line = str(cmd or "(not recorded)")
    rows = [
        ("loyaltysim version", str(versions.get("loyaltysim") or "unknown")),
        ("root seed", str(manifest.get("seed"))),
        ("scenario file", str(manifest.get("scenario_file") or "(not recorded)")),
        ("scenario file SHA-256", str(manifest.get("scenario_sha256") or "n/a")),
        ("overrides", ", ".join(map(str, manifest.get("overrides") or [])) or "none"),
        ("command line as recorded", line),
        ("started / ended", f"{manifest.get('started_at')} / {manifest.get('ended_at') or '-'}"),
        ("status", str(manifest.get("status", "unknown"))),
        *extra,
    ]
    table = Table(None, tuple((Cell(k), Cell(v, "code")) for k, v in rows), (0.25, 0.75))
    note = Paragraph(
        "The same files, seed and version give the same numbers, to the digit.", "note"
    )
    return Section("reproduce", "How to reproduce", (note, table))


def _answer(blocks: Sequence[Block], warnings: Sequence[str], figure: Figure | None) -> Section:
    out = list(blocks)
    out += [Paragraph(f"Caution: {w}", "note") for w in warnings]
    if figure is not None:
        out.append(figure)
    return Section("verdict", "The answer", tuple(out))


def _report(
    title: str,
    what: str,
    generated: datetime,
    sections: Sequence[Section],
    run_dir: Path,
    alerts: Sequence[str] = (),
) -> Report:
    stamp = generated.strftime("%Y-%m-%d %H:%M UTC")
    return Report(
        title=title,
        document_title=f"{title}: {what}",
        subject=what,
        subtitle=f"{what.capitalize()} · report made {stamp}",
        alerts=tuple(alerts),
        notes=(),
        sections=tuple(sections),
        closing=Paragraph("This report:", code=f"loyaltysim report {shlex.quote(str(run_dir))}"),
        footer=DISCLAIMER,
        page_footer=f"{title} · loyaltysim report · {generated.strftime('%Y-%m-%d')}",
    )


def _status_alert(manifest: Mapping[str, Any]) -> list[str]:
    status = manifest.get("status")
    if status in (None, "complete"):
        return []
    return [
        f"This folder's work is {str(status).upper()}: the figures below cover only what finished."
    ]


# --------------------------------------------------------------------------- sweeps


def _point(row: Mapping[str, Any], keys: Sequence[str]) -> str:
    return ", ".join(f"{k} = {number(row.get(k), 4)}" for k in keys)


def _sweep_report(
    root: Path, run_dir: Path, manifest: dict[str, Any], generated: datetime
) -> Report:
    from loyaltysim.output.sweep_journal import read_sweep

    try:
        spec, rows = read_sweep(root)
    except (OSError, ValueError, KeyError) as exc:
        raise ReportError(f"{run_dir} holds a sweep whose rows cannot be read ({exc})") from None
    keys = [str(p.get("key")) for p in spec.get("params", [])]
    currency = _currency(root)
    limit = _guard_limit(root)
    kind = str(manifest.get("kind", "sweep"))
    what = "parameter sweep" if kind == "sweep" else "sensitivity analysis"
    reps = spec.get("replications")
    ranked = sorted(rows, key=lambda r: -float(r.get("profit_mean", -math.inf)))
    safe = [r for r in ranked if float(r.get("ruin_ci_hi", 1.0)) < limit]
    ruined = sum(1 for r in rows if int(r.get("ruined", 0) or 0) > 0)
    answer: list[Block] = [
        Paragraph(
            f"The question: how do profit and the risk of running out of cash change with "
            f"{' and '.join(keys) or 'the parameters'}? {len(rows)} of "
            f"{spec.get('points', len(rows))} points were simulated, {reps} runs each, over "
            f"{spec.get('horizon_days')} days."
        )
    ]
    items: list[tuple[str, str]] = []
    if ranked:
        best = ranked[0]
        items.append(
            (
                "Most profitable point",
                f"{_point(best, keys)}: profit {money(best.get('profit_mean'), currency)} "
                f"(95% interval {money(best.get('profit_ci_lo'))} to "
                f"{money(best.get('profit_ci_hi'), currency)}), ruin risk "
                f"{_pct(best.get('ruin_probability'))} (95% sure below "
                f"{_pct(best.get('ruin_ci_hi'))}).",
            )
        )
    if safe:
        items.append(
            (
                "Most profitable point shown safe",
                f"{_point(safe[0], keys)}: profit {money(safe[0].get('profit_mean'), currency)}"
                f", ruin risk 95% sure below {_pct(safe[0].get('ruin_ci_hi'))} (under the "
                f"{_pct(limit)} limit).",
            )
        )
    else:
        items.append(
            (
                "Safety",
                f"No point is shown safe: with {reps} runs a point, no ruin risk is 95% sure "
                f"to be below the {_pct(limit)} limit. Run a point of interest with "
                "`loyaltysim check` to decide it.",
            )
        )
    items.append(("Ruin", f"{ruined} of {len(rows)} points were ruined in at least one run."))
    answer.append(Bullets(tuple(items)))
    charts = _png(root, f"charts/{kind}.png", "charts/sweep.png", "charts/sensitivity.png")
    figure = None
    if charts:
        name, png = charts[0]
        figure = Figure(name, "The sweep", "Profit and ruin risk across the points.", png)
    header = (
        *keys,
        with_unit("profit", currency) + "\n95% interval",
        "churn\nper year",
        "ruin risk",
    )
    table_rows = tuple(
        (
            *(Cell(number(r.get(k), 4)) for k in keys),
            Cell(
                f"{money(r.get('profit_mean'))}\n{money(r.get('profit_ci_lo'))} to "
                f"{money(r.get('profit_ci_hi'))}"
            ),
            Cell(_pct(r.get("churn_rate_annual_mean"))),
            Cell(f"{_pct(r.get('ruin_probability'))}\nbelow {_pct(r.get('ruin_ci_hi'))}"),
        )
        for r in ranked[:40]
    )
    n = len(keys)
    widths = (*([0.45 / max(n, 1)] * n), 0.25, 0.12, 0.18)
    evidence = Section(
        "points",
        "The points, most profitable first",
        (
            Table(header, table_rows, widths, numeric=tuple(range(n + 3))),
            Paragraph(
                f"{min(len(ranked), 40)} of {len(ranked)} points; every point, with every "
                f"metric, is in {spec.get('csv', 'sweep.csv')}.",
                "note",
            ),
        ),
        new_page=True,
    )
    title = str(manifest.get("scenario") or "loyaltysim")
    sections = [
        _answer(answer, read_sample_warnings(root), figure),
        evidence,
        _reproduce(manifest),
    ]
    return _report(title, what, generated, sections, run_dir, _status_alert(manifest))


# --------------------------------------------------------------------------- frontier


def _frontier_report(
    root: Path, run_dir: Path, manifest: dict[str, Any], generated: datetime
) -> Report:
    data = _json(root, "frontier.json")
    if not isinstance(data, dict) or not isinstance(data.get("points"), list):
        raise ReportError(f"{run_dir} has no readable frontier.json", EXIT_USAGE)
    currency = _currency(root)
    param = str(data.get("param"))
    limit = data.get("max_ruin_risk")
    points = data["points"]
    reps = points[0].get("replications") if points else "?"
    answer: list[Block] = [
        Paragraph(
            f"The question: how far can {param} go before the risk of running out of cash "
            f"passes {_pct(limit)}, and which value earns most? {len(points)} values were "
            f"simulated, {reps} runs each."
        )
    ]
    items = []
    safe, best, cliff = (
        data.get("largest_safe"),
        data.get("most_profitable_safe"),
        data.get("cliff"),
    )
    by_value = {p.get("value"): p for p in points}
    if safe is None:
        undecided = data.get("first_undecided")
        more = (
            f"; from {number(undecided, 4)} the runs could not decide (more runs would)"
            if undecided is not None
            else ""
        )
        items.append(("Largest safe value", f"none is shown safe{more}."))
    else:
        items.append(
            ("Largest safe value", f"{param} = {number(safe, 4)}: ruin risk 95% sure below "
             f"{_pct((by_value.get(safe) or {}).get('ruin_ci95', [None, None])[1])}.")
        )  # fmt: skip
    if best is not None:
        p = by_value.get(best) or {}
        items.append(
            ("Most profitable safe value", f"{param} = {number(best, 4)}: profit "
             f"{money(p.get('profit_mean'), currency)}.")
        )  # fmt: skip
    if cliff is not None:
        items.append(("The cliff", f"from {param} = {number(cliff, 4)} the plan is not safe."))
    answer.append(Bullets(tuple(items)))
    charts = _png(root, "frontier.png", "charts/frontier.png")
    figure = (
        Figure("frontier", "The frontier", "Profit and ruin risk as the value grows.", charts[0][1])
        if charts
        else None
    )
    rows = tuple(
        (
            Cell(number(p.get("value"), 4)),
            Cell(
                f"{money(p.get('profit_mean'))}\n{money((p.get('profit_ci95') or [None])[0])}"
                f" to {money((p.get('profit_ci95') or [None, None])[1])}"
            ),
            Cell(
                f"{_pct(p.get('ruin_probability'))}\nbelow "
                f"{_pct((p.get('ruin_ci95') or [None, None])[1])}"
            ),
            Cell(str(p.get("verdict", "")), "badge", str(p.get("verdict", ""))),
        )
        for p in points
    )
    header = (param, with_unit("profit", currency) + "\n95% interval", "ruin risk", "verdict")
    evidence = Section(
        "points",
        "Every value",
        (Table(header, rows, (0.2, 0.35, 0.2, 0.25), numeric=(0, 1, 2)),),
        new_page=True,
    )
    title = str(manifest.get("scenario") or "loyaltysim")
    sections = [_answer(answer, read_sample_warnings(root), figure), evidence, _reproduce(manifest)]
    return _report(
        title, "safe-value frontier", generated, sections, run_dir, _status_alert(manifest)
    )


# --------------------------------------------------------------------------- calibration

MODEL_NAMES = {"bg_nbd": "BG/NBD", "pareto_nbd": "Pareto/NBD"}


def _calibration_report(root: Path, run_dir: Path, generated: datetime) -> Report:
    data = _json(root, "calibration.json")
    if not isinstance(data, dict):
        raise ReportError(f"{run_dir} has no readable calibration.json", EXIT_USAGE)
    holdout = data.get("holdout") or {}
    period = data.get("calibration") or {}
    model = MODEL_NAMES.get(str(data.get("model")), str(data.get("model")))
    answer: list[Block] = [
        Paragraph(
            f"The question: how well does a model of buying and leaving fitted to this "
            f"business's own purchase log ({data.get('log')}) predict what its customers did "
            f"next, and what scenario does it give? {number(data.get('customers'))} customers "
            f"and {number(data.get('transactions'))} purchases; fitted on "
            f"{period.get('start')} to {period.get('end')}."
        )
    ]
    items = [("Model chosen", model)]
    if holdout.get("predicted_repeat") is not None:
        items.append(
            (
                "Holdout",
                f"over the {number(holdout.get('weeks'))} weeks to {holdout.get('end')}, it "
                f"predicted {number(holdout.get('predicted_repeat'))} repeat purchases where "
                f"{number(holdout.get('actual_repeat'))} happened (error "
                f"{_pct(holdout.get('error'))}); customer by customer, correlation "
                f"{number(holdout.get('correlation'), 2)}, mean absolute error "
                f"{number(holdout.get('mae'), 2)} purchases.",
            )
        )
    else:
        items.append(("Holdout", "none was asked for (--holdout-end): the fit is not tested."))
    spend = data.get("spend") or {}
    if spend.get("mean") is not None:
        items.append(("Spend", f"{money(spend.get('mean'), digits=2)} an occasion on average."))
    if data.get("scenario"):
        items.append(("Scenario written", f"{Path(str(data['scenario'])).name}"))
    answer.append(Bullets(tuple(items)))
    charts = _png(root, "charts/tracking.png", "charts/histogram.png")
    captions = {
        "tracking": ("Holdout, week by week", "Cumulative repeat purchases: predicted and actual."),
        "histogram": ("Customers by holdout purchases", "Predicted and actual counts."),
    }
    figs = [Figure(n, *captions.get(n, (n, n)), png) for n, png in charts]
    rows = []
    for name, m in (data.get("models") or {}).items():
        h = m.get("holdout") or {}
        params = ", ".join(f"{k} {number(v, 3)}" for k, v in (m.get("params") or {}).items())
        rows.append(
            (
                Cell(MODEL_NAMES.get(name, name)),
                Cell(params),
                Cell(f"{number(h.get('predicted_repeat'))} / {number(h.get('actual_repeat'))}"),
                Cell(_pct(h.get("error"))),
                Cell(number(h.get("correlation"), 2)),
                Cell(number(h.get("mae"), 2)),
            )
        )
    agent = data.get("agent") or {}
    if agent.get("holdout"):
        h = agent["holdout"]
        rows.append(
            (
                Cell("agent model (the scenario, simulated)"),
                Cell(
                    f"visit scale {number(agent.get('visit_scale'), 3)}, hazard scale "
                    f"{number(agent.get('hazard_scale'), 3)}"
                ),
                Cell(f"{number(h.get('predicted_repeat'))} / {number(h.get('actual_repeat'))}"),
                Cell(_pct(h.get("error"))),
                Cell(number(h.get("correlation"), 2)),
                Cell(number(h.get("mae"), 2)),
            )
        )
    blocks: list[Block] = [
        Table(
            (
                "model",
                "parameters (weeks)",
                "holdout repeat\npredicted / actual",
                "error",
                "correlation",
                "MAE",
            ),
            tuple(rows),
            (0.14, 0.38, 0.18, 0.1, 0.1, 0.1),
            numeric=(2, 3, 4, 5),
        ),
        *figs[1:],
    ]
    blocks += [Paragraph(f"Note: {n}", "note") for n in data.get("notes") or []]
    evidence = Section("models", "The models and the holdout", tuple(blocks), new_page=True)
    sections = [_answer(answer, read_sample_warnings(root), figs[0] if figs else None), evidence]
    title = f"Calibration of {Path(str(data.get('log', 'a log'))).name}"
    return _report(title, "calibration from a purchase log", generated, sections, run_dir)


def kind_report(run_dir: Path | str, kind: str, generated: datetime) -> Report:
    """The report of a sweep, sensitivity, frontier or calibration folder."""
    run_dir = Path(run_dir)
    root = run_dir.resolve()
    if kind == "calibration":
        return _calibration_report(root, run_dir, generated)
    manifest = _json(root, "manifest.json")
    if not isinstance(manifest, dict):
        raise ReportError(f"{run_dir / 'manifest.json'} is missing or not a JSON object")
    if kind == "frontier":
        return _frontier_report(root, run_dir, manifest, generated)
    return _sweep_report(root, run_dir, manifest, generated)


# --------------------------------------------------------------------------- compare


def _formatter(unit: str) -> Any:
    if unit == "probability" or unit.startswith("share"):
        return _pct
    return money if unit == "money" else number


def _times(x: Any) -> str:
    ok = isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)
    return f"{x:.1f}×" if ok else "n/a"


def comparison_section(run_dir: Path | str, currency: str | None) -> Section | None:
    """The paired differences of a compare folder's ``comparison.json``, one table per
    entry (None when the folder has none)."""
    root = Path(run_dir).resolve()
    try:
        data = _json(root, "comparison.json")
    except ReportError:
        return None
    if not isinstance(data, dict) or not data.get("differences"):
        return None
    blocks: list[Block] = [
        Paragraph(
            f"Each entry against {data.get('reference')}, run on the same simulated customers "
            f"and luck ({data.get('replications')} runs each): the difference and its paired "
            "95% interval, and how much narrower pairing made it than independent runs "
            "would."
        )
    ]
    for block in data["differences"]:
        rows = []
        for metric, d in (block.get("metrics") or {}).items():
            unit = d.get("unit", "")
            fmt = _formatter(str(unit))
            ci = d.get("ci95") or [None, None]
            label = with_unit(metric, currency) if unit == "money" else metric
            ratio = d.get("width_ratio")
            rows.append(
                (
                    Cell(label),
                    Cell(fmt(d.get("entry_mean"))),
                    Cell(fmt(d.get("mean"))),
                    Cell(f"{fmt(ci[0])} to {fmt(ci[1])}"),
                    Cell(_times(ratio)),
                )
            )
        blocks.append(Paragraph(f"{block.get('entry')} against {data.get('reference')}"))
        blocks.append(
            Table(
                ("metric", "entry", "difference", "paired 95% interval", "narrower"),
                tuple(rows),
                (0.3, 0.15, 0.15, 0.28, 0.12),
                numeric=(1, 2, 3, 4),
            )
        )
    return Section("comparison", "The comparison, metric by metric", tuple(blocks))
