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
    """Is any plan at risk of ruin? Exit 1 when one is UNSAFE or its ruin warning fires.

    Before any simulation, a plan whose discount is at or above its own gross margin is
    flagged (every discounted sale loses money). Then replications are added (from --reps
    or scenario.replications, doubling, up to guard.max_replications) until each plan's
    ruin risk is decided against the limit: SAFE (95% sure it is below), UNSAFE (95% sure
    it is above) or, at the cap, UNDECIDED with the number of runs that would decide it.
    Every run continues guard.look_ahead_days past the horizon, so that each warning
    ("cash falls below the floor within L days") is judged on what followed. UNDECIDED
    exits 0 and says so. Results are written only with --output.
    """
    from loyaltysim.analysis.summary import json_safe
    from loyaltysim.workflows.check import run_check

    loaded = opts.load(scenario)
    result = run_check(
        loaded,
        max_ruin_risk=max_ruin_risk,
        first_replications=opts.reps,
        workers=opts.workers,
        scheduler=opts.scheduler,
        progress=progress_reporter("checking", opts.quiet),
        output=opts.output,
        scenario_path=scenario,
        overrides=opts.overrides(),
        command_line=sys.argv,
    )
    if opts.as_json:
        click.echo(json.dumps(json_safe(result.as_dict()), indent=2, allow_nan=False))
    elif not opts.quiet:
        for paragraph in result.text().split("\n"):
            click.echo(click.wrap_text(paragraph, width=100, subsequent_indent="    "))
    if result.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if result.breached:
        sys.exit(EXIT_GUARD_BREACHED)


@click.command()
@click.argument("scenario", type=click.Path())
@click.option(
    "--param",
    required=True,
    metavar="KEY=LO:HI:STEP",
    help="The parameter to vary and its values, as in sweep: e.g. discount.rate=0:0.5:0.025.",
)
@click.option(
    "--range",
    "value_range",
    metavar="LO:HI:STEP",
    help="Deprecated: the values of a bare --param KEY (write --param KEY=LO:HI:STEP).",
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

    \b
    Example:
      loyaltysim frontier cafe.toml --set discount.kind=flat --param discount.rate=0:0.3:0.05
    """
    from loyaltysim.analysis.verdict import zero_event_runs
    from loyaltysim.experiment import make_executor
    from loyaltysim.experiment.frontier import run_frontier
    from loyaltysim.experiment.sweep import SweepError, parse_param, typed_params
    from loyaltysim.output.lock import claim_run_dir
    from loyaltysim.workflows.frontier import write_frontier

    param, value_range = frontier_param(param, value_range)
    base = opts.load(scenario)
    # The sweep's parser: float noise snapped away, integer keys kept whole.
    try:
        (swept,) = typed_params([parse_param(f"{param}={value_range}")], base)
        values = swept.grid()
    except SweepError as exc:
        raise click.BadParameter(str(exc), param_hint="'--range'") from None
    risk = max_ruin_risk if max_ruin_risk is not None else base.guard.max_ruin_probability
    # Enough runs for a value without a ruin to be shown SAFE in one look.
    reps = opts.reps or max(base.scenario.replications, zero_event_runs(risk))
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
    out = write_frontier(result, base, held.path, scenario, opts.overrides())
    if opts.as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, allow_nan=False))
    elif not opts.quiet:
        click.echo(result.table(base.scenario.currency))
        click.echo(f"\nresults: {out}")
    if result.interrupted:
        sys.exit(EXIT_INTERRUPTED)


def frontier_param(param: str, value_range: str | None) -> tuple[str, str]:
    """``--param KEY=LO:HI:STEP`` (the sweep's form) as ``(KEY, LO:HI:STEP)``; the old
    ``--param KEY --range LO:HI:STEP`` still works, with a note that it is deprecated."""
    key, eq, values = param.partition("=")
    if eq and value_range is not None:
        raise click.UsageError("give the values once: --param KEY=LO:HI:STEP (without --range)")
    if eq:
        if not key.strip() or not values.strip():
            raise click.BadParameter("expected KEY=LO:HI:STEP", param_hint="'--param'")
        return key.strip(), values.strip()
    if value_range is None:
        raise click.BadParameter(
            f"expected KEY=LO:HI:STEP, e.g. {param}=0:0.3:0.05", param_hint="'--param'"
        )
    click.echo(
        f"note: --param KEY --range LO:HI:STEP is deprecated; write --param "
        f"{param}={value_range} (as sweep does)",
        err=True,
    )
    return param, value_range
