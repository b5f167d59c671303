"""Commands: compare, sweep and sensitivity, the experiments over many runs.

Thin: parse the options, call :mod:`loyaltysim.experiment.compare` /
:mod:`loyaltysim.experiment.sweep`, print a table (or JSON), pick the exit code. Every
command takes all of ``run``'s options (:func:`loyaltysim.cli.run_options`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from loyaltysim.commands.common import (
    EXIT_INTERRUPTED,
    EXIT_RUNTIME_FAILURE,
    RunOptions,
    parse_params,
    progress_reporter,
    run_options,
)
from loyaltysim.scenario.money import snap, with_unit

if TYPE_CHECKING:
    from loyaltysim.workflows.sweep import DesignOptions

# ----------------------------------------------------------------------------- formatting


def _num(x: float | None, unit: str, signed: bool = False) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    sign = "+" if signed else ""
    if unit.startswith("share") or unit == "probability":
        return f"{x:{sign}.1%}"
    if unit.startswith("level"):
        return f"{x:{sign}.3f}"
    if unit == "money":
        return f"{snap(x):{sign},.0f}"  # float noise reads as 0, never -0
    return f"{x:{sign},.1f}"


def _ci(ci: Sequence[float | None] | None, unit: str) -> str:
    if ci is None:  # undefined: one replication
        return "[n/a: 1 run]"
    return f"[{_num(ci[0], unit, True)}, {_num(ci[1], unit, True)}]"


def _ratio(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.1f}x"


def compare_table(data: Mapping[str, Any], currency: str | None = None) -> str:
    """One block per entry: its difference from the reference in every metric, the paired
    and unpaired 95% intervals and how many times narrower pairing made the interval."""
    lines = [
        f"{data['replications']} replications x {data['horizon_days']} days, seed "
        f"{data['seed']}; common random numbers; reference: {data['reference']}",
    ]
    for block in data["differences"]:
        lines += [
            "",
            f"{block['entry']}  vs  {data['reference']}",
            f"  {'metric':<20} {'entry':>12} {'difference':>12} {'paired 95% CI':>26} "
            f"{'unpaired 95% CI':>26} {'narrower':>9}",
        ]
        ruin = block["metrics"].get("ruin")
        if ruin is not None and data.get("replications"):
            from loyaltysim.analysis.verdict import describe_risk

            n = int(data["replications"])
            lines.insert(-1, f"  ruin: {describe_risk(round(ruin['entry_mean'] * n), n)}")
        for metric, d in block["metrics"].items():
            unit = d["unit"]
            label = with_unit(metric, currency) if unit == "money" else metric
            lines.append(
                f"  {label:<20} {_num(d['entry_mean'], unit):>12} "
                f"{_num(d['mean'], unit, True):>12} {_ci(d['ci95'], unit):>26} "
                f"{_ci(d['unpaired_ci95'], unit):>26} {_ratio(d['width_ratio']):>9}"
            )
    for note in data.get("notes", []):
        lines.append(f"note: {note}")
    lines += sample_lines(data.get("sample_warnings", []))
    return "\n".join(lines)


def sample_lines(warnings: Sequence[str]) -> list[str]:
    """The small-sample warnings as printed lines (empty when there are none)."""
    return ["", *(f"sample warning: {w}" for w in warnings)] if warnings else []


def sweep_table(
    rows: Sequence[Mapping[str, float]],
    keys: Sequence[str],
    limit: int = 20,
    currency: str | None = None,
) -> str:
    """The rows (the ``limit`` most profitable when there are more)."""
    from loyaltysim.analysis.verdict import describe_risk
    from loyaltysim.experiment.sweep import best_rows

    shown = list(rows) if len(rows) <= limit else best_rows(rows, "profit", limit)
    widths = [max(10, len(k)) for k in keys]
    head = " ".join(f"{k:>{w}}" for k, w in zip(keys, widths, strict=True))
    lines = []
    if len(rows) > limit:
        lines.append(f"the {limit} most profitable of {len(rows)} points (all in the CSV):")
    profit_head = with_unit("profit", currency) + ", mean [95% CI]"
    lines.append(f"{'point':>6} {head} {profit_head:>32} {'churn/yr':>9}  ruin")
    for r in shown:
        values = " ".join(f"{r[k]:>{w}.6g}" for k, w in zip(keys, widths, strict=True))
        lo, hi = r["profit_ci_lo"], r["profit_ci_hi"]
        interval = (
            "n/a: 1 run"  # one replication per point: no interval
            if lo != lo and hi != hi and r.get("replications") == 1
            else f"{_num(lo, 'money')}, {_num(hi, 'money')}"
        )
        profit = f"{_num(r['profit_mean'], 'money')} [{interval}]"
        lines.append(
            f"{int(r['point']):>6} {values} {profit:>32} "
            f"{_num(r['churn_rate_annual_mean'], 'share'):>9}  "
            f"{describe_risk(int(r['ruined']), int(r['replications']))}"
        )
    return "\n".join(lines)


def sensitivity_table(analysis: Mapping[str, Any]) -> str:
    """Per output, parameters ranked by influence, with their bootstrap intervals."""
    method = analysis["method"]
    level = analysis["conf_level"]
    lines = [
        f"{analysis['scenario']}: {method} design, {analysis['evaluations']} points x "
        f"{analysis['replications']} replications x {analysis['horizon_days']} days, seed "
        f"{analysis['seed']}; ± is the {level:.0%} bootstrap half-width"
    ]
    for output, block in analysis["outputs"].items():
        lines += ["", f"Which parameters drive {output}:"]
        if method == "sobol":
            lines.append(
                f"  {'rank':>4} {'parameter':<36} {'total ST':>15} {'first-order S1':>16} "
                f"{'share':>6} {'drives':>6}"
            )
            for i, r in enumerate(block["ranking"], start=1):
                lines.append(
                    f"  {i:>4} {r['param']:<36} {r['ST']:>7.3f} ± {r['ST_conf']:<5.3f} "
                    f"{r['S1']:>8.3f} ± {r['S1_conf']:<5.3f} {r['share']:>6.0%} "
                    f"{'yes' if r['drives'] else 'no':>6}"
                )
        else:
            lines.append(
                f"  {'rank':>4} {'parameter':<36} {'mu* (mean |effect|)':>26} {'mu':>12} "
                f"{'sigma':>12} {'drives':>6}"
            )
            for i, r in enumerate(block["ranking"], start=1):
                star = f"{r['mu_star']:,.4g} ± {r['mu_star_conf']:,.3g}"
                lines.append(
                    f"  {i:>4} {r['param']:<36} {star:>26} {r['mu']:>12,.4g} "
                    f"{r['sigma']:>12,.4g} {'yes' if r['drives'] else 'no':>6}"
                )
        lines.append(f"  => {block['summary']}")
    lines += sample_lines(analysis.get("sample_warnings", []))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- options


def _param_option(help_text: str) -> Callable[[Any], Any]:
    return click.option(
        "--param",
        "params",
        multiple=True,
        required=True,
        metavar="KEY=LO:HI[:STEP]",
        callback=parse_params,
        help=help_text,
    )


def _variant_option(f: Any) -> Any:
    return click.option(
        "--variant",
        default="base",
        show_default=True,
        metavar="NAME",
        help="Run this [[variants]] entry of the scenario instead of its base.",
    )(f)


def _resume_option(f: Any) -> Any:
    return click.option(
        "--resume",
        is_flag=True,
        help="Continue the run in --output DIR: points already in its CSV are skipped.",
    )(f)


def _charts_option(f: Any) -> Any:
    return click.option("--no-charts", "no_charts", is_flag=True, help="Write no charts (faster).")(
        f
    )


def _echo_json(data: Any) -> None:
    from loyaltysim.analysis.summary import dumps

    click.echo(dumps(data))


def _end(status: str, run_dir: Any, done: int, total: int, what: str, error: str | None) -> None:
    """Report an unfinished run on stderr and exit with its code."""
    if status == "interrupted":
        click.echo(
            f"interrupted: {done} of {total} {what} kept in {run_dir}; finish with "
            f"--resume --output {run_dir}"
            if what != "replications"
            else f"interrupted: {done} complete replication(s) kept in {run_dir}",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    if status == "failed":
        click.echo(f"error: {error}", err=True)
        click.echo(f"{done} of {total} {what} finished and kept in {run_dir}", err=True)
        sys.exit(EXIT_RUNTIME_FAILURE)


def _usage(exc: Exception) -> click.UsageError:
    return click.UsageError(str(exc))


def _design_options(opts: RunOptions, scenario: str, resume: bool, label: str) -> DesignOptions:
    """How ``sweep`` and ``sensitivity`` run their design: the run options, --resume, a
    progress line labelled ``label``, and the command line and file for the manifest."""
    return {
        "resume": resume,
        "output": opts.output,
        "workers": opts.workers,
        "scheduler": opts.scheduler,
        "progress": progress_reporter(label, opts.quiet),
        "command_line": sys.argv,
        "scenario_path": scenario,
    }


# ----------------------------------------------------------------------------- compare


@click.command()
@click.argument(
    "scenarios",
    nargs=-1,
    required=True,
    metavar="SCENARIO...",
    type=click.Path(),
)
@click.option(
    "--reference",
    metavar="NAME",
    help="The entry the others are compared with [default: the first file's base].",
)
@click.option(
    "--bases-only",
    is_flag=True,
    help="With several files, compare their bases only, not their [[variants]].",
)
@_charts_option
@run_options
def compare(
    scenarios: tuple[str, ...],
    reference: str | None,
    bases_only: bool,
    no_charts: bool,
    opts: RunOptions,
) -> None:
    """Compare variants of a scenario, or several scenario files, with paired differences.

    Every entry (each file's base and, unless --bases-only, its variants) runs the same
    replications with the same root seed (the first file's, or --seed): common random
    numbers. For profit, churn, customers, revenue, cash and ruin risk it prints each
    entry's difference from the reference with its paired 95% interval, the unpaired
    (Welch) interval the same runs would give without pairing, and how many times narrower
    pairing made it. The results folder adds comparison.json, comparison.csv and charts.
    """
    from loyaltysim.experiment.compare import CompareError, build_entries
    from loyaltysim.workflows.compare import run_compare

    loaded = [(path, opts.load(path)) for path in scenarios]
    try:
        entries = build_entries(loaded, include_variants=not bases_only, reference=reference)
    except CompareError as exc:
        raise _usage(exc) from None
    if not opts.quiet and not opts.as_json:
        click.echo(
            f"comparing {len(entries)} entries x {entries[0].scenario.scenario.replications} "
            "replications",
            err=True,
        )
    outcome = run_compare(
        entries,
        seed=opts.seed,
        output=opts.output,
        workers=opts.workers,
        scheduler=opts.scheduler,
        progress=progress_reporter("comparing", opts.quiet),
        command_line=sys.argv,
        scenario_path=scenarios[0],
        overrides=opts.overrides(),
        charts=not no_charts,
    )
    if opts.as_json:
        _echo_json(
            {**outcome.comparison, "status": outcome.status, "run_dir": str(outcome.run_dir)}
        )
    elif not opts.quiet and outcome.comparison:
        click.echo(compare_table(outcome.comparison, entries[0].scenario.scenario.currency))
        click.echo(f"\nresults: {outcome.run_dir}")
    done = outcome.comparison.get("replications", 0) if outcome.comparison else 0
    requested = outcome.entries[0].scenario.scenario.replications
    _end(outcome.status, outcome.run_dir, done, requested, "replications", outcome.error)


# ----------------------------------------------------------------------------- sweep


@click.command()
@click.argument("scenario", type=click.Path())
@_param_option(
    "A parameter to sweep: dotted key = LO:HI:STEP (grid), LO:HI (with --sample lhs) or "
    "V1,V2,... (grid values). Repeatable; a grid takes every combination."
)
@click.option(
    "--sample",
    type=click.Choice(["grid", "lhs"]),
    default="grid",
    show_default=True,
    help="A full grid, or a Latin hypercube of --n points over the ranges.",
)
@click.option("--n", "n", type=click.IntRange(min=1), metavar="N", help="Points for --sample lhs.")
@_variant_option
@_resume_option
@_charts_option
@run_options
def sweep(
    scenario: str,
    params: list[Any],
    sample: str,
    n: int | None,
    variant: str,
    resume: bool,
    no_charts: bool,
    opts: RunOptions,
) -> None:
    """Sweep parameters over a grid or a Latin hypercube; one CSV row per point.

    Each point runs the scenario's replications (--reps) with the same root seed, so points
    differ only by their parameters (common random numbers). Rows, with the mean and 95%
    interval of profit, churn, customers, cash and the ruin probability, are appended to
    sweep.csv in the results folder as points finish: a killed sweep keeps them, and
    --resume --output DIR runs only the missing points. A chart is drawn for one or two
    parameters (profit against each, for more).

    \b
    Examples:
      loyaltysim sweep cafe.toml --set discount.kind=flat --param discount.rate=0:0.3:0.05
      loyaltysim sweep cafe.toml --param business.price=4:5.5 \\
          --param business.fixed_costs_per_month=12000:20000 --sample lhs --n 50
    """
    from loyaltysim.experiment.sweep import ScenarioSource, SweepError
    from loyaltysim.workflows.sweep import run_sweep

    checked = opts.load(scenario)  # a bad file or --set: every problem, located, exit 3
    source = ScenarioSource.from_file(scenario, opts.overrides(), variant)
    try:
        outcome = run_sweep(
            source,
            params,
            sample=sample,
            n=n,
            charts=not no_charts,
            **_design_options(opts, scenario, resume, "sweeping"),
        )
    except SweepError as exc:
        raise _usage(exc) from None
    keys = [p["key"] for p in outcome.spec["params"]]
    if opts.as_json:
        _echo_json(
            {
                "run_dir": str(outcome.run_dir),
                "status": outcome.status,
                "seed": outcome.seed,
                "params": outcome.spec["params"],
                "sample": sample,
                "n": n,
                "points_requested": outcome.points,
                "points_finished": outcome.finished,
                "points_skipped": outcome.skipped,
                "csv": str(outcome.run_dir / "sweep.csv"),
                "rows": outcome.rows,
                "sample_warnings": outcome.sample_warnings,
            }
        )
    elif not opts.quiet:
        if outcome.skipped:
            click.echo(f"resumed: {outcome.skipped} point(s) were already done", err=True)
        if outcome.rows:
            click.echo(sweep_table(outcome.rows, keys, currency=checked.scenario.currency))
        for line in sample_lines(outcome.sample_warnings):
            click.echo(line)
        click.echo(f"\nresults: {outcome.run_dir / 'sweep.csv'}")
    _end(outcome.status, outcome.run_dir, outcome.finished, outcome.points, "points", outcome.error)


# ----------------------------------------------------------------------------- sensitivity


@click.command()
@click.argument("scenario", type=click.Path())
@_param_option("A parameter and its range: dotted key = LO:HI. Repeatable.")
@click.option(
    "--method",
    type=click.Choice(["sobol", "morris"]),
    default="sobol",
    show_default=True,
    help="Sobol variance indices (S1, ST) or Morris elementary effects (mu*, sigma).",
)
@click.option(
    "--n",
    "n",
    type=click.IntRange(min=1),
    metavar="N",
    help="Sobol: base samples, a power of 2 [default: 64]; runs N x (params + 2) points. "
    "Morris: trajectories [default: 20]; runs N x (params + 1) points.",
)
@click.option(
    "--levels",
    type=click.IntRange(min=2),
    default=4,
    show_default=True,
    help="Morris grid levels (even).",
)
@click.option(
    "--output-metric",
    "outputs",
    multiple=True,
    metavar="METRIC",
    help="Output to explain, repeatable: profit, churned, churn_rate_annual, cash_end, "
    "ruin_probability or any summary metric [default: profit and churned].",
)
@click.option(
    "--resamples",
    type=click.IntRange(min=10),
    default=1000,
    show_default=True,
    help="Bootstrap resamples for the intervals.",
)
@click.option(
    "--conf-level",
    type=click.FloatRange(0.5, 1.0, max_open=True),
    default=0.95,
    show_default=True,
    help="Confidence level of the bootstrap intervals.",
)
@_variant_option
@_resume_option
@_charts_option
@run_options
def sensitivity(
    scenario: str,
    params: list[Any],
    method: str,
    n: int | None,
    levels: int,
    outputs: tuple[str, ...],
    resamples: int,
    conf_level: float,
    variant: str,
    resume: bool,
    no_charts: bool,
    opts: RunOptions,
) -> None:
    """Which parameters drive profit and churn: Sobol or Morris indices (SALib).

    The design's points each run the scenario's replications with the same root seed;
    their mean output feeds SALib's estimator. Prints, for each output, the parameters
    ranked by influence with bootstrap intervals, and writes samples.csv (resumable, like
    a sweep), indices.csv, sensitivity.json and a chart to the results folder. Needs the
    [sensitivity] extra.

    \b
    Example:
      loyaltysim sensitivity cafe.toml --reps 5 --param business.price=4:5 \\
          --param business.service_quality=0.6:0.9 --param competitor.price=3.8:4.6
    """
    from loyaltysim.analysis.sensitivity import MissingSALib, evaluations
    from loyaltysim.experiment.sweep import OUTPUT_METRICS, ScenarioSource, SweepError
    from loyaltysim.workflows.sweep import run_sensitivity

    for m in outputs:
        if m not in OUTPUT_METRICS:
            raise click.BadParameter(
                f"{m!r} is not a metric; choose from {', '.join(OUTPUT_METRICS)}",
                param_hint="'--output-metric'",
            )
    outputs = outputs or ("profit", "churned")
    n = n or (64 if method == "sobol" else 20)
    loaded = opts.load(scenario)
    source = ScenarioSource.from_file(scenario, opts.overrides(), variant)
    if not opts.quiet and not opts.as_json:
        points = evaluations(method, n, len(params))
        reps = loaded.scenario.replications
        click.echo(
            f"{method}: {points} points x {reps} replications = {points * reps:,} runs",
            err=True,
        )
    try:
        outcome, analysis = run_sensitivity(
            source,
            params,
            method=method,
            n=n,
            levels=levels,
            outputs=outputs,
            conf_level=conf_level,
            resamples=resamples,
            charts=not no_charts,
            **_design_options(opts, scenario, resume, "sampling"),
        )
    except SweepError as exc:
        raise _usage(exc) from None
    except MissingSALib as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_RUNTIME_FAILURE)
    if opts.as_json:
        _echo_json({**(analysis or {}), "status": outcome.status, "run_dir": str(outcome.run_dir)})
    elif not opts.quiet and analysis is not None:
        click.echo(sensitivity_table(analysis))
        click.echo(f"\nresults: {outcome.run_dir}")
    _end(
        outcome.status,
        outcome.run_dir,
        outcome.finished,
        outcome.points,
        "design points",
        outcome.error,
    )


__all__ = ["compare", "compare_table", "sensitivity", "sensitivity_table", "sweep", "sweep_table"]
