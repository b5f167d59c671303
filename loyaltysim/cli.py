"""The ``loyaltysim`` command line: thin wrappers that parse, call and print.

This module is the group (:data:`main`, whose :class:`ExitCodeGroup` turns an invalid
scenario into exit 3, an interrupt into 130 and any other failure into 4), the small
commands (``validate``, ``schema``, ``run``) and the registration of the others,
which live in :mod:`loyaltysim.commands`. What the commands share (exit codes, the run
options, loading a scenario, progress) is :mod:`loyaltysim.commands.common`: the commands
import it, never this module, which only ``__main__`` imports.

Commands import what they need (the workflows, plotting) inside their bodies, so that
adding a command does not slow down the others.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from loyaltysim.commands.common import (
    DEBUG_ENV,
    EXIT_GUARD_BREACHED,
    EXIT_INTERRUPTED,
    EXIT_INVALID_SCENARIO,
    EXIT_OK,
    EXIT_RUNTIME_FAILURE,
    EXIT_TERMINATED,
    EXIT_USAGE,
    RunOptions,
    load_or_exit,
    progress_reporter,
    report_problems,
    run_options,
    run_overrides,
    set_option,
    write_atomic,
)
from loyaltysim.interruption import interrupted_exit_code, received, sigterm_interrupts
from loyaltysim.output.chart_formats import CHART_FORMATS, DEFAULT_CHARTS
from loyaltysim.output.ending import command_session, describe_failure, settle_claimed
from loyaltysim.output.lock import OutputFolderError
from loyaltysim.scenario.errors import ScenarioError

__all__ = [
    "DEBUG_ENV",
    "EXIT_GUARD_BREACHED",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID_SCENARIO",
    "EXIT_OK",
    "EXIT_RUNTIME_FAILURE",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "ExitCodeGroup",
    "RunOptions",
    "load_or_exit",
    "main",
    "progress_reporter",
    "report_problems",
    "run_options",
    "run_overrides",
    "set_option",
    "write_atomic",
]


class ExitCodeGroup(click.Group):
    """A group that maps failures to the contract's exit codes.

    click itself turns Ctrl-C into "Aborted!" and exit 1, which the contract reserves for a
    breached guard; here it is 130, and SIGTERM is the same interruption with exit 143
    (:mod:`loyaltysim.interruption`). A results folder that cannot be used is a usage
    error (2). Any other exception a command lets escape is a runtime failure (4),
    reported in one line unless ``LOYALTYSIM_DEBUG`` is set. Folders the command claimed
    stay locked until it ends, and one it leaves ``running`` is marked ``interrupted`` or
    ``failed`` (:mod:`loyaltysim.output.ending`).
    """

    def invoke(self, ctx: click.Context) -> Any:
        with sigterm_interrupts(), command_session():
            try:
                return super().invoke(ctx)
            except ScenarioError as exc:
                report_problems(exc)
                raise click.exceptions.Exit(EXIT_INVALID_SCENARIO) from None
            except KeyboardInterrupt:
                settle_claimed("interrupted")
                signum = received()
                how = f" by {signal.Signals(signum).name}" if signum else ""
                click.echo(f"interrupted{how}", err=True)
                raise click.exceptions.Exit(interrupted_exit_code()) from None
            except SystemExit as exc:
                if exc.code == EXIT_INTERRUPTED:  # a command's own sys.exit(130)
                    raise SystemExit(interrupted_exit_code()) from None
                raise
            except click.exceptions.Exit as exc:
                if exc.exit_code == EXIT_INTERRUPTED:
                    raise click.exceptions.Exit(interrupted_exit_code()) from None
                raise
            except (click.exceptions.ClickException, click.exceptions.Abort):
                raise
            except OutputFolderError as exc:
                click.echo(f"error: {exc}", err=True)
                raise click.exceptions.Exit(EXIT_USAGE) from None
            except Exception as exc:
                why = describe_failure(exc)
                marked = settle_claimed("failed", why)
                if os.environ.get(DEBUG_ENV):
                    raise
                click.echo(f"error: {why}", err=True)
                for path in marked:
                    click.echo(f"the results folder {path} keeps what was written", err=True)
                click.echo(f"(set {DEBUG_ENV}=1 for the traceback)", err=True)
                raise click.exceptions.Exit(EXIT_RUNTIME_FAILURE) from None


@click.group(
    cls=ExitCodeGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="loyaltysim", prog_name="loyaltysim")
def main() -> None:
    """Simulate discount and loyalty programmes: churn, margin, cash and the road to ruin.

    Start with `loyaltysim init my.toml`, edit it, check it with `loyaltysim validate
    my.toml`, then run it.

    Exit codes: 0 ok, 1 guard breached, 2 usage error (a results folder in use or not
    writable included), 3 invalid scenario (a missing scenario file included), 4 runtime
    failure, 130 interrupted by Ctrl-C, 143 stopped by SIGTERM (partial results kept).
    """


# ----------------------------------------------------------------------------- plumbing


# ----------------------------------------------------------------------------- commands


@main.command()
@click.argument("scenarios", nargs=-1, required=True, metavar="SCENARIO...")
@set_option
def validate(scenarios: tuple[str, ...], sets: tuple[str, ...]) -> None:
    """Check scenario files and their variants (exit 0 if valid, else 3).

    Problems are printed to stderr as FILE:LINE: key.path: message.
    """
    from loyaltysim.scenario import load_scenario

    bad = 0
    for path in scenarios:
        try:
            scenario = load_scenario(path, sets)
        except ScenarioError as exc:
            report_problems(exc)
            bad += 1
            continue
        n = len(scenario.variants)
        click.echo(f"{path}: ok ({n} variant{'' if n == 1 else 's'})")
    if bad:
        sys.exit(EXIT_INVALID_SCENARIO)


@main.command()
def schema() -> None:
    """Print the scenario JSON Schema, for editor completion."""
    from loyaltysim.scenario import scenario_json_schema

    click.echo(json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False))


# ----------------------------------------------------------------------------- run


def _money(x: float | None) -> str:
    from loyaltysim.scenario.money import snap

    return "n/a" if x is None else f"{snap(x):,.0f}"


NO_INTERVAL = "n/a: 1 run"  # one replication has no confidence interval


def _interval(block: dict[str, Any], fmt: Callable[[float | None], str] = _money) -> str:
    if block.get("ci95") is None:  # undefined: stored as null
        return f"{fmt(block['mean'])} [{NO_INTERVAL}]"
    lo, hi = block["ci95"]
    return f"{fmt(block['mean'])} [{fmt(lo)}, {fmt(hi)}]"


def _percent(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def summary_table(summary: dict[str, Any], currency: str | None = None) -> str:
    """The short, readable table ``run`` prints: one row per variant (money in
    ``currency``, the scenario's, named in the header)."""
    unit = f" ({currency})" if currency else ""
    lines = [
        f"{summary['scenario']}: {summary['replications']} replications x "
        f"{summary['horizon_days']} days, seed {summary['seed']}",
        "",
        f"{'variant':<32} {'profit' + unit + ', mean [95% CI]':>30} {'vs base (paired)':>26} "
        f"{'churn/yr':>8} {'customers':>9}  ruin",
    ]
    for v in summary["variants"]:
        m = v["metrics"]
        diff = v.get("vs_base", {}).get("profit")
        paired = _interval(diff) if diff and v is not summary["variants"][0] else "-"
        ruin = v["ruin"]
        risk = ruin.get("text") or f"{_percent(ruin['probability'])}"
        lines.append(
            f"{v['name'][:32]:<32} {_interval(m['profit']):>30} {paired:>26} "
            f"{_percent(m['churn_rate_annual']['mean']):>8} "
            f"{m['customers_end']['mean']:>9,.0f}  {risk}"
        )
    return "\n".join(lines)


@main.command()
@click.argument("scenario", required=False, type=click.Path())
@click.option(
    "--resume",
    "resume",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="RUN_DIR",
    help="Continue the interrupted run in RUN_DIR (no SCENARIO): only its missing "
    "replications run, with its seed; the result equals an uninterrupted run.",
)
@click.option(
    "--charts",
    "charts",
    type=click.Choice(list(CHART_FORMATS)),
    default=DEFAULT_CHARTS,
    show_default=True,
    help="Chart files in charts/: png, svg (vector, for print or editing), both, or "
    "none (fastest: each format is drawn apart).",
)
@click.option("--no-charts", "no_charts", is_flag=True, help="The same as --charts none.")
@click.option(
    "--customers/--no-customers",
    "customers",
    default=None,
    help="Keep the per-customer table (customers.csv) whatever its size, or never; by "
    "default it is kept below a bound on its rows, which a run past it states.",
)
@click.option(
    "--format",
    "table_format",
    type=click.Choice(["csv", "parquet"]),
    default="csv",
    show_default=True,
    help="How the tables are stored: CSV, or Parquet (smaller and faster to read; needs "
    "pyarrow, the [parquet] extra).",
)
@run_options
def run(
    scenario: str | None,
    resume: Path | None,
    charts: str,
    no_charts: bool,
    customers: bool | None,
    table_format: str,
    opts: RunOptions,
) -> None:
    """Run the base scenario and every variant; write a results folder and print a table.

    The folder (results/<scenario>/<UTC time>/ unless --output) holds:

    \b
      manifest.json           status (running, complete, interrupted, failed), versions,
                              seed, scenario file and hash, overrides, command line,
                              times, and which replications are complete
      scenario.resolved.json  the validated scenario, every default filled in
      summary.json            each metric's mean and 95% interval, ruin, break-even
      timeseries.csv          one row per variant x replication x day
      defections.csv          one row per defection (day, customer, segment, cause, ...)
      replications.csv        one row per variant x replication (ruin, warnings, metrics)
      warnings.csv            one row per early warning of ruin
      customers.csv           one row per customer with the RFM columns (see --customers)
      charts/                 customers, cash, churn_causes, defector_satisfaction,
                              cumulative_profit and profit_vs_base, as .png
                              (--charts svg or both for SVG)
      .blocks.jsonl, .lock    bookkeeping: which replications the tables hold (what
                              --resume keeps), and the lock of the run writing the folder

    With --format parquet the five tables are .parquet files instead. docs/data.md
    describes every column. An interrupted run (Ctrl-C, a kill) keeps its complete
    replications: finish it with run --resume RUN_DIR.
    """
    from loyaltysim.output.tables import parquet_available

    if resume is not None:
        formats = CHART_FORMATS["none" if no_charts else charts]
        _resume_run(scenario, resume, formats, customers, table_format, opts)
        return
    if scenario is None:
        raise click.UsageError("give a SCENARIO file, or --resume RUN_DIR")
    from loyaltysim.workflows.run import run_job

    if table_format == "parquet" and not parquet_available():
        raise click.UsageError(
            "--format parquet needs pyarrow: pip install 'loyaltysim[parquet]' (or --format csv)"
        )
    loaded = opts.load(scenario)
    job = run_job(
        loaded,
        scenario_path=scenario,
        overrides=opts.overrides(),
        command_line=sys.argv,
        output=opts.output,
        workers=opts.workers,
        scheduler=opts.scheduler,
        progress=progress_reporter("simulating", opts.quiet),
        charts=CHART_FORMATS["none" if no_charts else charts],
        customers=customers,
        table_format=table_format,
    )
    _run_report(job, opts)


def _resume_run(
    scenario: str | None,
    resume: Path,
    charts: Sequence[str],
    customers: bool | None,
    table_format: str,
    opts: RunOptions,
) -> None:
    """``run --resume RUN_DIR``: the folder fixes the scenario, seed and replications."""
    from loyaltysim.workflows.resume import ResumeError, resume_job

    fixed = {
        "SCENARIO": scenario is not None,
        "--reps": opts.reps is not None,
        "--days": opts.days is not None,
        "--seed": opts.seed is not None,
        "--set": bool(opts.sets),
        "--output": opts.output is not None,
        "--customers": customers is not None,
        "--format": table_format != "csv",
    }
    given = [name for name, on in fixed.items() if on]
    if given:
        raise click.UsageError(
            f"--resume continues the run as it was started: drop {', '.join(given)}"
        )
    try:
        job = resume_job(
            resume,
            workers=opts.workers,
            scheduler=opts.scheduler,
            progress=progress_reporter("simulating", opts.quiet),
            charts=charts,
            command_line=sys.argv,
        )
    except ResumeError as exc:
        raise click.UsageError(str(exc)) from None
    _run_report(job, opts)


def _run_report(job: Any, opts: RunOptions) -> None:
    """What ``run`` prints when a job ends, and its exit code."""
    if job.results.customers_note and not opts.quiet:
        click.echo(job.results.customers_note, err=True)
    if opts.as_json:
        click.echo(json.dumps(job.summary, indent=2, allow_nan=False))
    elif not opts.quiet and job.summary:
        click.echo(summary_table(job.summary, job.results.scenario.scenario.currency))
        click.echo(f"\nresults: {job.run_dir}")
    if job.status == "interrupted":
        done = job.results.replications
        click.echo(
            f"interrupted: {done} complete replication(s) kept in {job.run_dir}; finish with "
            f"loyaltysim run --resume {job.run_dir}",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)


# Commands with more machinery live in their own modules; registered here, by name.
from loyaltysim.commands import (  # noqa: E402
    calibrate,
    check,
    discover,
    experiments,
    export,
    facts,
    init,
    report,
)

for command in (
    calibrate.calibrate,
    check.check,
    check.frontier,
    discover.discover,
    experiments.compare,
    export.export,
    experiments.sweep,
    experiments.sensitivity,
    facts.facts,
    init.init,
    report.report,
):
    main.add_command(command)
