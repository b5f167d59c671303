"""The calibration job: a purchase log in, fits, a scenario, a backtest and charts out.

The pure pieces live in :mod:`loyaltysim.calibration`; this module puts them in order,
writes the scenario file and the calibration's folder, and draws its charts:

    <folder>/calibration.json   everything `calibrate --json` prints, and more
    <folder>/customers.csv      per customer: frequency, recency, T, spend, P(alive),
                                holdout actual and each model's prediction
    <folder>/tracking.csv       cumulative holdout occasions week by week, per model
    <folder>/histogram.csv      customers by holdout occasions, per model
    <folder>/charts/tracking.png, charts/histogram.png
    <folder>/scenario.toml      the calibrated scenario (also at --output when given)
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from loyaltysim.calibration import agents, backtest, btyd
from loyaltysim.calibration import to_scenario as ts
from loyaltysim.calibration.log import LogSpec, read_log
from loyaltysim.calibration.rfm import DAYS_PER_WEEK, CustomerSummary, check_periods, summarise
from loyaltysim.scenario.schema import Scenario

Progress = Callable[[str], None]
MATCH_WEEKS = 52.0  # the window over which the model is matched to the fit
MATCH_REPLICATIONS = 2
BACKTEST_REPLICATIONS = 10
DEFAULT_SEED = 2026

COLOURS = {  # Okabe & Ito (2008), as the run charts
    "actual": "#000000",
    "agent": "#D55E00",
    "bg_nbd": "#0072B2",
    "pareto_nbd": "#009E73",
}
LABELS = {
    "actual": "actual",
    "agent": "agent model (simulated)",
    "bg_nbd": "BG/NBD",
    "pareto_nbd": "Pareto/NBD",
}


@dataclass(frozen=True)
class CalibrationOptions:
    """What the command line (or a caller) asks of a calibration."""

    spec: LogSpec = field(default_factory=LogSpec)
    calibration_end: str | None = None
    holdout_end: str | None = None
    output: Path | None = None  # the scenario file to write
    folder: Path | None = None  # the calibration's folder; None: results/<log>/calibrate-<time>
    results_root: Path = Path("results")
    seed: int = DEFAULT_SEED
    replications: int = BACKTEST_REPLICATIONS
    match_replications: int = MATCH_REPLICATIONS
    match_weeks: float = MATCH_WEEKS
    write_files: bool = True


@dataclass
class Calibration:
    """The outcome: the JSON payload, the scenario and where things were written."""

    payload: dict[str, Any]
    scenario: Scenario
    scenario_text: str
    folder: Path | None
    notes: list[str]
    summary: CustomerSummary
    fits: dict[str, btyd.Fit]
    scales: agents.Scales

    def simulate_customers(
        self,
        days: int,
        scenario: Scenario | None = None,
        replication: int = 0,
        seed: int = DEFAULT_SEED,
    ) -> agents.AgentRun:
        """Simulate the log's own customers for ``days`` after the calibration end under
        ``scenario`` (default: the calibrated one; pass a variant of it to try a policy on
        them): one agent per customer, its state drawn from its posterior."""
        return agents.run_agents(
            scenario or self.scenario,
            agents.posterior_fit(self.fits),
            self.summary,
            days,
            replication,
            seed,
            self.scales.visit_scale,
            copies=1,
            weighted=False,
        )


def _say(progress: Progress | None, message: str) -> None:
    if progress is not None:
        progress(message)


def calibrate(
    log_path: Path | str, options: CalibrationOptions, progress: Progress | None = None
) -> Calibration:
    """Run a calibration end to end (see the module docstring).

    Raises :class:`~loyaltysim.calibration.log.LogError` for a bad log, ``ValueError`` for
    contradictory options and :class:`~loyaltysim.calibration.btyd.FitError` when the
    BG/NBD fit fails (the other fits are optional: their failure is a note).
    """
    log_path = Path(log_path)
    spec = options.spec
    _say(progress, f"reading {log_path}")
    log = read_log(log_path, spec)
    periods = check_periods(log, spec, options.calibration_end, options.holdout_end)
    s = summarise(log, spec, periods)
    notes = list(log.notes)

    _say(progress, f"fitting BG/NBD to {s.customers:,} customers")
    fits: dict[str, btyd.Fit] = {"bg_nbd": btyd.fit_bgnbd(s.frequency, s.recency, s.T)}
    _say(progress, "fitting Pareto/NBD")
    try:
        fits["pareto_nbd"] = btyd.fit_paretonbd(s.frequency, s.recency, s.T)
    except btyd.FitError as exc:
        notes.append(f"Pareto/NBD not fitted: {exc}")
    spend: btyd.Fit | None = None
    try:
        spend = btyd.fit_gammagamma(s.frequency, s.monetary)
    except btyd.FitError as exc:
        notes.append(f"Gamma-Gamma not fitted: {exc}")
    for f in [*fits.values(), spend]:
        if f is not None:
            notes.extend(f"{f.model}: {n}" for n in f.notes)

    posterior = agents.posterior_fit(fits)
    all_fits = dict(fits)
    if spend is not None:
        all_fits["gamma_gamma"] = spend
    base = _bench_scenario(spend, s)
    weeks = options.match_weeks
    _say(progress, f"matching the agent model to {posterior.model} over {weeks:g} weeks")
    scales = agents.match_scales(
        base,
        posterior,
        s,
        weeks=weeks,
        replications=options.match_replications,
        seed=options.seed,
        progress=progress,
    )
    if scales.capped:
        notes.append("a defection hazard reached the schema's bound of 100 a year")
    figures = ts.calibrated_figures(all_fits, s, scales, _new_recent(log, s), seed=options.seed)
    name = f"Customers of {log_path.stem}"
    data = ts.scenario_dict(name, figures, options.seed, ts.calibration_section(fits, scales))
    scenario = ts.build_scenario(data)
    period_text = f"calibration {periods.start} to {periods.calibration_end}"
    text = ts.scenario_text(data, figures, log_path.name, period_text, all_fits)
    # The written scenarios start from the log's customers, in a file beside each.
    output_customers = (
        None if options.output is None else options.output.with_suffix(".customers.csv")
    )
    folder_text = ts.scenario_text(
        data, figures, log_path.name, period_text, all_fits, "customers.csv"
    )
    output_text = (
        None
        if output_customers is None
        else ts.scenario_text(
            data, figures, log_path.name, period_text, all_fits, output_customers.name
        )
    )

    payload: dict[str, Any] = {
        "log": str(log_path),
        "customers": s.customers,
        "transactions": s.transactions,
        "occasions": s.occasions,
        "repeat_purchases": s.repeat_purchases,
        "calibration": {"start": str(periods.start), "end": str(periods.calibration_end)},
        "model": "bg_nbd",
        "params": fits["bg_nbd"].as_dict()["params"],
        "holdout": None,
        "models": {k: f.as_dict() for k, f in fits.items()},
        "spend": None,
        "agent": {
            "posterior": posterior.model,
            "visit_scale": scales.visit_scale,
            "hazard_scale": scales.hazard_scale,
            "matched_weeks": weeks,
            "target_purchases": scales.targets.purchases,
            "simulated_purchases": scales.simulated_purchases,
            "target_survival": scales.target_survival,
            "simulated_survival": scales.simulated_survival,
            "tickets_per_occasion": scales.tickets_per_occasion,
        },
        "scenario": str(options.output) if options.output else None,
        "notes": notes,
    }
    if spend is not None:
        mean, spread = btyd.gammagamma_mean(spend), btyd.gammagamma_spread(spend)
        payload["spend"] = {
            **spend.as_dict(),
            # Infinite when q <= 1 (mean) or q <= 2 (spread): JSON has no infinity.
            "mean": mean if np.isfinite(mean) else None,
            "spread": spread if np.isfinite(spread) else None,
        }

    predictions: dict[str, backtest.Prediction] = {}
    truth: backtest.Prediction | None = None
    if periods.holdout_end is not None:
        truth = backtest.actual(s)
        for key, f in fits.items():
            predictions[key] = backtest.closed_form(f, s, seed=options.seed)
        _say(
            progress,
            f"simulating the holdout ({periods.holdout_days} days) of the "
            f"{s.customers:,} customers, {options.replications} replications",
        )
        # The written scenario's hazards are already scaled.
        runs = [
            agents.run_agents(
                scenario,
                posterior,
                s,
                periods.holdout_days,
                rep,
                options.seed + 1,  # apart from the matching runs' draws
                scales.visit_scale,
            )
            for rep in range(options.replications)
        ]
        predictions["agent"] = backtest.from_simulation(
            [r.counts for r in runs],
            [r.weights for r in runs],
            [r.daily for r in runs],
            periods.holdout_days,
        )
        blocks = {
            k: backtest.metrics(p, truth, periods.holdout_weeks) for k, p in predictions.items()
        }
        payload["holdout"] = {"end": str(periods.holdout_end), **blocks["bg_nbd"]}
        for key, block in blocks.items():
            if key == "agent":
                payload["agent"]["holdout"] = block
            else:
                payload["models"][key]["holdout"] = block

    folder = None
    if options.write_files:
        folder = _folder(options, log_path)
        payload["results"] = str(folder)
        _write_folder(folder, payload, folder_text, s, fits, truth, predictions)
        if options.output is not None and output_text is not None:
            assert output_customers is not None
            _write_text(output_customers, _csv(_history_columns(s)))
            _write_text(options.output, output_text)
        payload["customers_file"] = (
            str(output_customers) if output_customers is not None else str(folder / "customers.csv")
        )
    return Calibration(payload, scenario, text, folder, notes, s, fits, scales)


def _bench_scenario(spend: btyd.Fit | None, s: CustomerSummary) -> Scenario:
    """Defaults with the price at the log's spend and the competitor at its default ratio
    (the model's choice and hazards depend on prices only through their ratios)."""
    price = btyd.gammagamma_mean(spend) if spend is not None and spend["q"] > 1 else 0.0
    if not np.isfinite(price) or price <= 0:
        price = float(np.mean(s.monetary[s.frequency > 0])) if s.repeat_purchases else 1.0
    price = max(price, 1e-6)
    ratio = price / ts._BUSINESS.price
    return Scenario.model_validate(
        {
            "scenario": {"name": "calibration bench"},
            "business": {"price": price, "unit_cost": ts._BUSINESS.unit_cost * ratio},
            "competitor": {"price": ts._COMPETITOR.price * ratio},
        }
    )


def _new_recent(log: Any, s: CustomerSummary) -> int:
    """Calibration customers whose first purchase is in the last RECENT_DAYS days."""
    cal_day = int((s.periods.calibration_end - s.periods.start) / np.timedelta64(1, "D"))
    return int(np.count_nonzero(s.first_day > cal_day - ts.RECENT_DAYS))


def _folder(options: CalibrationOptions, log_path: Path) -> Path:
    from loyaltysim.output.folder import slugify, utc_stamp

    if options.folder is not None:
        return options.folder
    base = options.results_root / slugify(log_path.stem)
    stamp = f"calibrate-{utc_stamp()}"
    path, k = base / stamp, 1
    while path.exists():
        k += 1
        path = base / f"{stamp}-{k}"
    return path


def _write_text(path: Path, text: str) -> None:
    from loyaltysim.output.folder import atomic_write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)


def _csv(columns: dict[str, Any]) -> str:
    import pandas as pd

    buffer = io.StringIO()
    pd.DataFrame(columns).to_csv(buffer, index=False, float_format="%.6g")
    return buffer.getvalue()


def _history_columns(s: CustomerSummary) -> dict[str, Any]:
    """Each customer's history at the calibration end, in weeks: the columns a scenario's
    ``calibration.customers`` file needs (loyaltysim.scenario.customers_file)."""
    return {
        "customer": s.ids,
        "frequency": s.frequency,
        "recency_weeks": s.recency,
        "T_weeks": s.T,
    }


def _write_folder(
    folder: Path,
    payload: dict[str, Any],
    text: str,
    s: CustomerSummary,
    fits: dict[str, btyd.Fit],
    truth: backtest.Prediction | None,
    predictions: dict[str, backtest.Prediction],
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    _write_text(folder / "calibration.json", json.dumps(payload, indent=2, allow_nan=False))
    _write_text(folder / "scenario.toml", text)
    x, tx, T = s.frequency.astype(float), s.recency, s.T
    columns: dict[str, Any] = {
        **_history_columns(s),
        "monetary_value": s.monetary,
        "p_alive_bg_nbd": btyd.bgnbd_p_alive(fits["bg_nbd"], x, tx, T),
    }
    if "pareto_nbd" in fits:
        columns["p_alive_pareto_nbd"] = btyd.paretonbd_p_alive(fits["pareto_nbd"], x, tx, T)
    if truth is not None:
        columns["holdout_actual"] = truth.per_customer.astype(int)
        for key, p in predictions.items():
            columns[f"holdout_{key}"] = p.per_customer
        ends = backtest.week_ends(s.periods.holdout_days)
        weekly: dict[str, Any] = {"week": np.arange(1, len(ends) + 1), "day": ends}
        weekly["actual"] = truth.cumulative
        hist: dict[str, Any] = {
            "occasions": [*map(str, range(backtest.HIST_TOP)), f"{backtest.HIST_TOP}+"],
            "actual": truth.histogram,
        }
        for key, p in predictions.items():
            weekly[key] = p.cumulative
            hist[key] = p.histogram
        _write_text(folder / "tracking.csv", _csv(weekly))
        _write_text(folder / "histogram.csv", _csv(hist))
        _draw_charts(folder / "charts", s, truth, predictions)
    _write_text(folder / "customers.csv", _csv(columns))


def _draw_charts(
    charts: Path,
    s: CustomerSummary,
    truth: backtest.Prediction,
    predictions: dict[str, backtest.Prediction],
) -> None:
    # A Figure without pyplot draws with Agg and touches no global state.
    from matplotlib.figure import Figure

    from loyaltysim.output.folder import atomic_write_bytes

    charts.mkdir(parents=True, exist_ok=True)
    ends = backtest.week_ends(s.periods.holdout_days) / DAYS_PER_WEEK
    order = ["actual", *predictions]
    series = {"actual": truth, **predictions}

    fig = Figure(figsize=(10, 5.625), layout="constrained")
    ax = fig.add_subplot()
    for key in order:
        ax.plot(
            ends,
            series[key].cumulative,
            color=COLOURS.get(key, "#999999"),
            lw=2.5 if key == "actual" else 1.8,
            ls="-" if key in ("actual", "agent") else "--",
            label=LABELS.get(key, key),
        )
    ax.set_xlabel(f"weeks after the calibration end ({s.periods.calibration_end})")
    ax.set_ylabel("cumulative repeat purchase occasions")
    ax.set_title(f"Holdout tracking: the {s.customers:,} calibration customers")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    _save(fig, charts / "tracking.png", atomic_write_bytes)

    fig = Figure(figsize=(10, 5.625), layout="constrained")
    ax = fig.add_subplot()
    bins = np.arange(backtest.HIST_TOP + 1)
    width = 0.8 / len(order)
    for j, key in enumerate(order):
        ax.bar(
            bins + (j - (len(order) - 1) / 2) * width,
            series[key].histogram,
            width=width,
            color=COLOURS.get(key, "#999999"),
            label=LABELS.get(key, key),
        )
    ax.set_xticks(bins, [*map(str, range(backtest.HIST_TOP)), f"{backtest.HIST_TOP}+"])
    ax.set_xlabel(f"repeat purchase occasions in the {s.periods.holdout_weeks:g}-week holdout")
    ax.set_ylabel("customers")
    ax.set_yscale("log")
    ax.set_title("Customers by holdout purchases: actual against the models")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(frameon=False)
    _save(fig, charts / "histogram.png", atomic_write_bytes)


def _save(fig: Any, path: Path, write: Callable[[Path, bytes], None]) -> None:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    write(path, buffer.getvalue())
