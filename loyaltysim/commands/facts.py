"""`loyaltysim facts`: the stylized facts of the modelling basis, measured."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import click

from loyaltysim.commands.common import EXIT_GUARD_BREACHED, RunOptions, run_options

DEFAULT = "seed-claims"


@click.command()
@click.argument("scenario", required=False, type=click.Path())
@run_options
def facts(scenario: str | None, opts: RunOptions) -> None:
    """Measure the stylized facts of the modelling basis on SCENARIO (eleven).

    Prints each fact's target, its measured value with a 95% interval, and pass or fail;
    exits 1 if any fails. Without SCENARIO, uses the shipped seed-claims scenario, which
    is calibrated to reproduce the practitioner claims. Each fact is an experiment on the
    scenario over one year (see docs/model.md).
    """
    from loyaltysim.analysis.facts import measure_facts
    from loyaltysim.experiment import make_executor, resolve_seed
    from loyaltysim.scenario import template_text

    with tempfile.TemporaryDirectory() as tmp:
        if scenario is None:
            path = Path(tmp) / f"{DEFAULT}.toml"
            path.write_text(template_text(DEFAULT), encoding="utf-8")
            scenario = str(path)
        loaded = opts.load(scenario)
    reps = loaded.scenario.replications
    measured = measure_facts(
        loaded, reps, resolve_seed(loaded), make_executor(opts.workers, opts.scheduler)
    )
    from loyaltysim.scenario.money import number

    passed = all(f.passed for f in measured)
    if opts.as_json:
        payload = {
            "scenario": loaded.scenario.name,
            "replications": reps,
            "passed": passed,
            "facts": [f.as_dict() for f in measured],
        }
        click.echo(json.dumps(payload, indent=2, allow_nan=False))
    elif not opts.quiet:
        click.echo(f"{loaded.scenario.name}: stylized facts over {reps} replications\n")
        for f in measured:
            lo, hi = f.ci95
            interval = f"[{number(lo, minus='-')}, {number(hi, minus='-')}]" if lo == lo else ""
            mark = "pass" if f.passed else "FAIL"
            value = number(f.value, minus="-")  # never e-notation: -21,800, not -2.18e+04
            click.echo(f"{f.number:>2}. {mark}  {f.name}: {value} {interval}")
            click.echo(f"          target: {f.target}")
            if f.detail:
                click.echo(f"          {f.detail}")
        click.echo(f"\n{sum(f.passed for f in measured)} of {len(measured)} facts hold.")
    if not passed:
        sys.exit(EXIT_GUARD_BREACHED)
