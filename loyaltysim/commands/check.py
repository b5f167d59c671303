"""`loyaltysim check` (the over-discount guard) and `loyaltysim frontier` (the safe range
of a parameter)."""

from __future__ import annotations

import json
import sys

import click

from loyaltysim.commands.common import (
    EXIT_GUARD_BREACHED,
    EXIT_INTERRUPTED,
    RunOptions,
    progress_reporter,
    run_options,
)

RISK = click.FloatRange(0.0, 1.0, min_open=True, max_open=True)


@click.command()
@click.argument("scenario", type=click.Path())
@click.option(
    "--max-ruin-risk",
    type=RISK,
    metavar="P",
    help="Largest acceptable probability of ruin [default: guard.max_ruin_probability].",
)
@run_options
def check(scenario: str, max_ruin_risk: float | None, opts: RunOptions) -> None:
    """Is any variant at risk of ruin? Exit 0 when every variant is safe, else 1.

    A variant is unsafe when its discount is at or above the gross margin (known before
    running, or seen as a structural-loss warning), or when a run was ruined and the upper
    bound of its ruin probability (95% Wilson interval) exceeds the acceptable risk. With
    no ruined run but too few runs to show the risk is below it, the verdict is
    unresolved, which also exits 1. Without --reps, check runs as many replications as
    that takes (73 for 5%); results are written only with --output.
    """
    from loyaltysim.analysis.guard import assess, replications_for
    from loyaltysim.scenario import variant_scenarios
    from loyaltysim.workflows.run import run_job

    loaded = opts.load(scenario)
    risk = max_ruin_risk if max_ruin_risk is not None else loaded.guard.max_ruin_probability
    if opts.reps is None:
        reps = replications_for(risk, loaded.scenario.replications)
        loaded = opts.load_with(scenario, [f"scenario.replications={reps}"])
    job = run_job(
        loaded,
        scenario_path=scenario,
        overrides=opts.overrides(),
        command_line=sys.argv,
        output=opts.output,
        workers=opts.workers,
        scheduler=opts.scheduler,
        progress=progress_reporter("checking", opts.quiet),
        write_files=opts.output is not None,
    )
    if not job.summary:
        sys.exit(EXIT_INTERRUPTED)
    verdicts = assess(variant_scenarios(loaded), job.results.runs, job.summary, risk)
    safe = all(v.safe for v in verdicts)
    if opts.as_json:
        payload = {
            "scenario": loaded.scenario.name,
            "max_ruin_risk": risk,
            "replications": job.results.replications,
            "safe": safe,
            "variants": [v.as_dict() for v in verdicts],
        }
        click.echo(json.dumps(payload, indent=2, allow_nan=False))
    elif not opts.quiet:
        click.echo(
            f"{loaded.scenario.name}: acceptable ruin risk {risk:.1%}, "
            f"{job.results.replications} runs of {loaded.scenario.horizon_days} days each\n"
        )
        for v in verdicts:
            click.echo(click.wrap_text(v.text(), width=100, subsequent_indent="    ") + "\n")
        click.echo("All variants are safe." if safe else "Not safe: see above.")
    if job.status == "interrupted":
        sys.exit(EXIT_INTERRUPTED)
    if not safe:
        sys.exit(EXIT_GUARD_BREACHED)


@click.command()
@click.argument("scenario", type=click.Path())
@click.option(
    "--param", required=True, metavar="KEY", help="Dotted key to vary, e.g. discount.rate."
)
@click.option(
    "--range",
    "value_range",
    required=True,
    metavar="LO:HI:STEP",
    help="Values of the parameter, e.g. 0:0.5:0.025.",
)
@click.option("--max-ruin-risk", type=RISK, metavar="P", help="Acceptable probability of ruin.")
@run_options
def frontier(
    scenario: str, param: str, value_range: str, max_ruin_risk: float | None, opts: RunOptions
) -> None:
    """The safe-discount frontier: profit and ruin risk across a parameter's values.

    Reports, per value, profit and ruin probability with 95% intervals, the largest safe
    value and the profit-maximising one, and draws the chart with the cliff marked. With
    a discount rate, set the kind too: --set discount.kind=flat.
    """
    from loyaltysim.analysis.guard import replications_for
    from loyaltysim.experiment import make_executor
    from loyaltysim.experiment.frontier import run_frontier
    from loyaltysim.experiment.sweep import SweepError, parse_param, typed_params
    from loyaltysim.output.lock import claim_run_dir
    from loyaltysim.workflows.frontier import write_frontier

    base = opts.load(scenario)
    # The sweep's parser: float noise snapped away, integer keys kept whole.
    try:
        (swept,) = typed_params([parse_param(f"{param}={value_range}")], base)
        values = swept.grid()
    except SweepError as exc:
        raise click.BadParameter(str(exc), param_hint="'--range'") from None
    risk = max_ruin_risk if max_ruin_risk is not None else base.guard.max_ruin_probability
    reps = opts.reps or replications_for(risk, base.scenario.replications)
    points = {
        value: opts.load_with(
            scenario, [f"{param}={swept.text(value)}", f"scenario.replications={reps}"]
        )
        for value in values
    }
    report = progress_reporter("frontier", opts.quiet)
    # Claimed before running: a folder in use or not writable is refused up front.
    held = claim_run_dir(base, opts.output, kind="frontier")
    result = run_frontier(points, param, risk, make_executor(opts.workers, opts.scheduler), report)
    out = write_frontier(result, base, held.path)
    if opts.as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, allow_nan=False))
    elif not opts.quiet:
        click.echo(result.table())
        click.echo(f"\nresults: {out}")
    if result.interrupted:
        sys.exit(EXIT_INTERRUPTED)
