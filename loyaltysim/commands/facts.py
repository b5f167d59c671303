"""`loyaltysim facts`: the stylized facts of the modelling basis, measured."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import click

from loyaltysim.commands.common import (
    EXIT_GUARD_BREACHED,
    RunOptions,
    progress_reporter,
    run_options,
)

DEFAULT = "seed-claims"


@click.command()
@click.argument("scenario", required=False, type=click.Path())
@run_options
def facts(scenario: str | None, opts: RunOptions) -> None:
    """Measure the stylized facts of the modelling basis on SCENARIO (eleven).

    Prints each fact's target, its measured value with a 95% interval, and pass or fail;
    exits 1 if any fails. With --quiet, prints only the one-line verdict. Without
    SCENARIO, uses the shipped seed-claims scenario, which is calibrated to reproduce the
    practitioner claims. Each fact is an experiment on the scenario over one year (see
    docs/model.md).
    """
    from loyaltysim.scenario import template_text
    from loyaltysim.workflows.facts import run_facts

    with tempfile.TemporaryDirectory() as tmp:
        if scenario is None:
            path = Path(tmp) / f"{DEFAULT}.toml"
            path.write_text(template_text(DEFAULT), encoding="utf-8")
            scenario = str(path)
        loaded = opts.load(scenario)
    outcome = run_facts(
        loaded,
        workers=opts.workers,
        scheduler=opts.scheduler,
        progress=progress_reporter("measuring", opts.quiet),
    )
    from loyaltysim.scenario.money import number

    if opts.as_json:
        click.echo(json.dumps(outcome.as_dict(), indent=2, allow_nan=False))
    elif opts.quiet:
        click.echo(outcome.verdict())
    else:
        reps = outcome.replications
        click.echo(f"{outcome.scenario}: stylized facts over {reps} replications\n")
        for f in outcome.facts:
            lo, hi = f.ci95
            interval = f"[{number(lo, minus='-')}, {number(hi, minus='-')}]" if lo == lo else ""
            mark = "pass" if f.passed else "FAIL"
            value = number(f.value, minus="-")  # never e-notation: -21,800, not -2.18e+04
            click.echo(f"{f.number:>2}. {mark}  {f.name}: {value} {interval}")
            click.echo(f"          target: {f.target}")
            if f.detail:
                click.echo(f"          {f.detail}")
        click.echo(f"\n{sum(f.passed for f in outcome.facts)} of {len(outcome.facts)} facts hold.")
        for warning in outcome.sample_warnings:
            click.echo(f"sample warning: {warning}")
    if not outcome.passed:
        sys.exit(EXIT_GUARD_BREACHED)
