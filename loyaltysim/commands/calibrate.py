"""`loyaltysim calibrate`: a scenario of the business's own customers, from its purchase log."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from loyaltysim.commands.common import EXIT_INVALID_SCENARIO, EXIT_RUNTIME_FAILURE

BACKTEST_REPLICATIONS = 10  # as loyaltysim.workflows.calibrate (not imported: it is heavy)


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    import numpy as np

    try:
        return str(np.datetime64(value, "D"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from None


@click.command()
# Not ``exists=True``: click would make a missing log a usage error (exit 2), where every
# other command exits 3 for an input file that is not there (read_log says so).
@click.argument("log", type=click.Path(path_type=Path))
@click.option("--customer-col", default="customer_id", show_default=True, help="Customer id.")
@click.option("--date-col", default="date", show_default=True, help="Date of the purchase.")
@click.option("--amount-col", default="amount", show_default=True, help="Amount paid.")
@click.option(
    "--date-format",
    default=None,
    metavar="FORMAT",
    help="strftime format of the dates, e.g. %d/%m/%Y (default: ISO 8601).",
)
@click.option(
    "--calibration-end",
    callback=_day,
    metavar="YYYY-MM-DD",
    help="Last day of the calibration period (default: the log's last date).",
)
@click.option(
    "--holdout-end",
    callback=_day,
    metavar="YYYY-MM-DD",
    help="Last day of the holdout: backtest the models on the days after --calibration-end.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the calibrated, commented scenario here.",
)
@click.option(
    "--returns",
    type=click.Choice(["reject", "drop"]),
    default="reject",
    show_default=True,
    help="Negative amounts (returns): reject the log, or drop their rows.",
)
@click.option(
    "--results",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="The calibration's folder (default results/<log>/calibrate-<UTC time>/).",
)
@click.option(
    "--reps",
    type=click.IntRange(2, 10_000),
    default=BACKTEST_REPLICATIONS,
    show_default=True,
    help="Replications of the agent model's backtest.",
)
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=2026, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors (and --json).")
def calibrate(
    log: Path,
    customer_col: str,
    date_col: str,
    amount_col: str,
    date_format: str | None,
    calibration_end: str | None,
    holdout_end: str | None,
    output: Path | None,
    returns: str,
    folder: Path | None,
    reps: int,
    seed: int,
    as_json: bool,
    quiet: bool,
) -> None:
    """Fit BG/NBD, Pareto/NBD and Gamma-Gamma to a purchase log and write a scenario.

    LOG has one row per purchase (CSV with a header, or Parquet): customer, date, amount.
    Purchases by one customer on one day are one occasion. With --holdout-end, the models
    (and the agent model, simulated from the log's customers) predict the holdout and are
    compared with what happened. Exit 0 on success, 3 for a bad log (every problem as
    FILE:LINE: column: message) or one that cannot be read, 4 when the fit fails.
    """
    from loyaltysim.calibration.btyd import FitError
    from loyaltysim.calibration.log import LogError, LogSpec
    from loyaltysim.workflows.calibrate import CalibrationOptions
    from loyaltysim.workflows.calibrate import calibrate as run_calibration

    options = CalibrationOptions(
        spec=LogSpec(customer_col, date_col, amount_col, date_format, returns),
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        output=output,
        folder=folder,
        seed=seed,
        replications=reps,
    )
    say = None if quiet or not sys.stderr.isatty() else (lambda m: click.echo(m, err=True))
    try:
        result = run_calibration(log, options, progress=say)
    except LogError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(EXIT_INVALID_SCENARIO)
    except FitError as exc:
        click.echo(f"error: the fit failed: {exc}", err=True)
        sys.exit(EXIT_RUNTIME_FAILURE)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    if not quiet:
        for note in result.notes:
            click.echo(f"note: {note}", err=True)
    if as_json:
        click.echo(json.dumps(result.payload, indent=2, allow_nan=False))
    elif not quiet:
        click.echo(summary_text(result.payload))


def summary_text(p: dict[str, Any]) -> str:
    """A short human-readable account of a calibration."""
    lines = [
        f"{p['customers']:,} customers ({p['transactions']:,} purchase rows); in the "
        f"calibration period {p['calibration']['start']} to {p['calibration']['end']} "
        f"{p['occasions']:,} purchase occasions, {p['repeat_purchases']:,} of them repeat",
        "",
    ]
    for key, label in (("bg_nbd", "BG/NBD"), ("pareto_nbd", "Pareto/NBD")):
        m = p["models"].get(key)
        if m is None:
            continue
        params = ", ".join(
            f"{n} {v:.4g} (se {m['se'][n]:.2g})" if m["se"][n] is not None else f"{n} {v:.4g}"
            for n, v in m["params"].items()
        )
        lines.append(f"{label:<11} {params}")
    if p.get("spend"):
        sp = p["spend"]
        lines.append(
            f"{'spend':<11} mean {sp['mean']:.4g} an occasion (Gamma-Gamma p "
            f"{sp['params']['p']:.3g}, q {sp['params']['q']:.3g}, v {sp['params']['v']:.3g})"
        )
    a = p["agent"]
    lines.append(
        f"{'agent model':<11} visit scale {a['visit_scale']:.3g}, hazard scale "
        f"{a['hazard_scale']:.3g} (matched to {a['posterior']} over {a['matched_weeks']:g} weeks)"
    )
    if p["holdout"] is not None:
        h = p["holdout"]
        lines += [
            "",
            f"holdout to {h['end']} ({h['weeks']:g} weeks): {h['actual_repeat']:,.0f} repeat "
            "occasions actually",
            f"{'model':<12} {'predicted':>10} {'error':>8} {'corr':>7} {'MAE':>7}",
        ]
        rows = [(k, p["models"][k].get("holdout")) for k in ("bg_nbd", "pareto_nbd")]
        rows.append(("agent", a.get("holdout")))
        for key, b in rows:
            if b is None:
                continue
            corr = f"{b['correlation']:.3f}" if b["correlation"] is not None else "-"
            err = f"{b['error']:+.1%}" if b["error"] is not None else "-"
            lines.append(
                f"{key:<12} {b['predicted_repeat']:>10,.0f} {err:>8} {corr:>7} {b['mae']:>7.3f}"
            )
    if p.get("scenario"):
        lines.append(f"\nscenario: {p['scenario']} (run it with: loyaltysim run {p['scenario']})")
    if p.get("results"):
        lines.append(f"results: {p['results']}")
    return "\n".join(lines)
