"""Command: discover, scenario discovery by PRIM on a sweep.

Thin: parse, call :mod:`loyaltysim.workflows.discover`, print, pick the exit code.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from loyaltysim.commands.common import (
    EXIT_INTERRUPTED,
    EXIT_INVALID_SCENARIO,
    EXIT_RUNTIME_FAILURE,
    load_or_exit,
    parse_params,
    progress_reporter,
    run_overrides,
    set_option,
)

_ALPHA = click.FloatRange(0.0, 0.5, min_open=True, max_open=True)


def _percent(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _limit(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def _p(x: float | None) -> str:
    return "-" if x is None else f"{x:.2g}"


def discovery_text(outcome: Any) -> str:
    """What ``discover`` prints: the cases, each box in words with its numbers and limits,
    why the search stopped, and where the files are."""
    data = outcome.data
    cases = data["cases"]
    src = data["source"]
    scenario = f"{src['scenario']}: " if src.get("scenario") else ""
    rate = cases["count"] / cases["n"] if cases["n"] else None
    where = f" at {src['points']} sweep points" if outcome.case.per_run else ""
    lines = [
        f"{scenario}{cases['n']} {outcome.case.unit}{where}; {cases['event']} in "
        f"{cases['count']} ({_percent(rate)})"
    ]
    lines += [f"note: {note}" for note in data.get("notes", [])]
    if outcome.nothing_to_find:
        lines.append(outcome.nothing_to_find)
        return "\n".join(lines)
    d = outcome.discovery
    for box, sentence in zip(data["boxes"], outcome.sentences(), strict=True):
        lines += [
            "",
            f"box {box['box']}: {sentence}",
            f"  {box['n']} {outcome.case.unit} ({_percent(box['mass'])} of all), "
            f"{box['res_dim']} of {len(d.names)} parameters restricted; step "
            f"{box['picked_step']} of the peeling trajectory, {box['rule']}",
        ]
        if box["dropped"]:
            lines.append(
                f"  then dropped (quasi-p above {data['options']['drop_above']:g}): "
                + ", ".join(box["dropped"])
            )
        limits = {k: v for k, v in box["limits"].items() if k in box["restricted"]}
        if limits:
            width = max(len(k) for k in limits)
            lines.append(f"  {'parameter':<{width}} {'lower':>12} {'upper':>12}  quasi-p (lo, hi)")
            for name, lim in limits.items():
                lo = lim["lower"] if lim["restricted_lower"] else None
                hi = lim["upper"] if lim["restricted_upper"] else None
                lo_text, hi_text = _limit(lo), _limit(hi)
                lines.append(
                    f"  {name:<{width}} {lo_text:>12} {hi_text:>12}  "
                    f"{_p(lim['qp_lower'])}, {_p(lim['qp_upper'])}"
                )
    lines += ["", f"stopped: {data['stop_reason']}"]
    return "\n".join(lines)


@click.command()
@click.argument(
    "source", type=click.Path(exists=True, path_type=Path), metavar="SWEEP_DIR|SCENARIO"
)
@click.option(
    "--outcome",
    default="ruined",
    show_default=True,
    metavar="COLUMN",
    help="The sweep.csv column that defines the cases of interest. `ruined`: every run is a "
    "case, ruined or not (a point with R replications counts R runs). Any other column "
    "(profit_mean, cash_min_mean, ruin_probability, ...): a point is a case when its value "
    "is above --threshold.",
)
@click.option(
    "--threshold",
    type=float,
    metavar="X",
    help="Cases are the points whose --outcome is above X (below with --below). Needed for "
    "every column but `ruined`; ruin_probability defaults to the scenario's "
    "guard.max_ruin_probability.",
)
@click.option("--below", is_flag=True, help="Cases are the points below --threshold, not above.")
@click.option(
    "--min-density",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    metavar="D",
    help="Choose each box as the widest on the trajectory whose density (share of cases in "
    "it) is at least D [default: the box with the best harmonic mean of coverage and "
    "density].",
)
@click.option(
    "--max-boxes",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    metavar="N",
    help="Look for at most N boxes; each further box is sought among the points outside "
    "the earlier ones.",
)
@click.option(
    "--peel-alpha",
    type=_ALPHA,
    default=0.05,
    show_default=True,
    metavar="A",
    help="Share of the box's points each peel cuts off.",
)
@click.option(
    "--paste-alpha",
    type=_ALPHA,
    default=0.05,
    show_default=True,
    metavar="A",
    help="Share of the points outside a limit each paste adds back.",
)
@click.option(
    "--mass-min",
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    metavar="M",
    help="Smallest share of all points a box may hold.",
)
@click.option(
    "--objective",
    type=click.Choice(["lenient1", "lenient2", "original"]),
    default="lenient1",
    show_default=True,
    help="Peeling objective: gain in density per point removed (EMA Workbench's default), "
    "Friedman & Fisher's eq. 14.6, or the new box's density.",
)
@click.option(
    "--significance",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=0.05,
    show_default=True,
    metavar="P",
    help="Stop when the next box is not denser than the points searched at this one-sided "
    "binomial level (1 turns the screen off).",
)
@click.option(
    "--drop-above",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=0.05,
    show_default=True,
    metavar="P",
    help="Drop a box's restriction whose quasi-p value is above P (Bryant & Lempert 2010), "
    "one at a time, keeping at least one; 1 keeps them all.",
)
@click.option(
    "--engine",
    type=click.Choice(["own", "ema"]),
    default="own",
    show_default=True,
    help="loyaltysim's PRIM, or EMA Workbench's (needs the [ema] extra).",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=LO:HI",
    callback=parse_params,
    help="With a SCENARIO: a range to sample (dotted key = LO:HI). Repeatable.",
)
@click.option("--n", "n", type=click.IntRange(min=1), metavar="N",
              help="With a SCENARIO: Latin-hypercube points to run.")  # fmt: skip
@click.option("--variant", default="base", show_default=True, metavar="NAME",
              help="With a SCENARIO: sweep this [[variants]] entry, not its base.")  # fmt: skip
@click.option("--reps", type=click.IntRange(min=1), metavar="N",
              help="With a SCENARIO: replications per point.")  # fmt: skip
@click.option("--days", type=click.IntRange(min=1), metavar="D",
              help="With a SCENARIO: simulated days.")  # fmt: skip
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), metavar="S",
              help="With a SCENARIO: root seed.")  # fmt: skip
@set_option
@click.option("--workers", type=click.IntRange(min=1), metavar="N",
              help="With a SCENARIO: local worker processes [default: all cores].")  # fmt: skip
@click.option("--scheduler", metavar="ADDR",
              help="With a SCENARIO: run the sweep on a Dask cluster.")  # fmt: skip
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="With a SWEEP_DIR: where the discovery goes [default: SWEEP_DIR/discovery]. With a "
    "SCENARIO: the sweep's results folder (the discovery goes into DIR/discovery).",
)
@click.option("--no-charts", "no_charts", is_flag=True, help="Draw no charts.")
@click.option("--json", "as_json", is_flag=True, help="Print the discovery JSON on stdout.")
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
def discover(
    source: Path,
    outcome: str,
    threshold: float | None,
    below: bool,
    min_density: float | None,
    max_boxes: int,
    peel_alpha: float,
    paste_alpha: float,
    mass_min: float,
    objective: str,
    significance: float,
    drop_above: float,
    engine: str,
    params: list[Any],
    n: int | None,
    variant: str,
    reps: int | None,
    days: int | None,
    seed: int | None,
    sets: tuple[str, ...],
    workers: int | None,
    scheduler: str | None,
    output: Path | None,
    no_charts: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """Find where in a sweep's parameter space ruin (or an outcome) concentrates, by PRIM.

    PRIM (Friedman & Fisher 1999), as EMA Workbench runs it, peels the parameter space
    down to boxes where the cases of interest are dense, pastes back what helps, and drops
    the restrictions that do not matter (quasi-p above --drop-above). Each
    box is printed in words with its density (share of its runs that are cases) and its
    coverage (share of all cases it holds), restricted parameters only. Written into
    SWEEP_DIR/discovery/ (or --output): boxes.csv, limits.csv, trajectory.csv,
    discovery.json and trajectory.png/.svg (coverage against density along the peeling
    trajectory, coloured by the number of restricted parameters).

    Given a SCENARIO instead of a folder, first runs a Latin-hypercube sweep of --n points
    over the --param ranges (the `sweep` job), then discovers in its folder.

    Exit codes: 0 ok (also when the outcome never or always happens: then no box can be
    found, and it says so), 2 usage error, 3 invalid input (not a sweep folder, too few
    points, invalid scenario), 4 runtime failure, 130 interrupted.

    \b
    Examples:
      loyaltysim discover results/cafe/20260101T000000Z --outcome ruined
      loyaltysim discover DIR --outcome profit_mean --threshold 0 --below --min-density 0.8
      loyaltysim discover cafe.toml --param discount.rate=0:0.3 \\
          --param business.starting_cash=5000:40000 --n 60 --reps 4 --days 180
    """
    from loyaltysim.analysis.discovery import PrimOptions
    from loyaltysim.analysis.ema_prim import MissingEMA
    from loyaltysim.workflows.discover import (
        DiscoverInputError,
        DiscoverUsageError,
        run_discovery,
        sweep_then_discover,
    )

    options = PrimOptions(peel_alpha, paste_alpha, mass_min, objective)
    keywords: dict[str, Any] = {
        "outcome": outcome,
        "threshold": threshold,
        "below": below,
        "options": options,
        "max_boxes": max_boxes,
        "min_density": min_density,
        "significance": significance,
        "drop_above": None if drop_above >= 1.0 else drop_above,
        "engine": engine,
        "charts": not no_charts,
        "command_line": sys.argv,
    }
    fresh_only = {
        "--param": bool(params), "--n": n is not None, "--reps": reps is not None,
        "--days": days is not None, "--seed": seed is not None, "--set": bool(sets),
        "--workers": workers is not None, "--scheduler": scheduler is not None,
        "--variant": variant != "base",
    }  # fmt: skip
    try:
        if source.is_dir():
            given = [name for name, on in fresh_only.items() if on]
            if given:
                raise click.UsageError(
                    f"{', '.join(given)} run a fresh sweep: give a SCENARIO file, not the "
                    f"folder {source}"
                )
            result = run_discovery(source, output=output, **keywords)
        else:
            if not params or n is None:
                raise click.UsageError(
                    f"{source} is a scenario: give the ranges to sample and their number, "
                    "e.g. --param discount.rate=0:0.3 --n 50 (or give a sweep folder)"
                )
            from loyaltysim.experiment.sweep import ScenarioSource, SweepError

            load_or_exit(source, sets, reps, days, seed)  # every problem, located: exit 3
            overrides = run_overrides(sets, reps, days, seed)
            design = {
                "output": output,
                "workers": workers,
                "scheduler": scheduler,
                "progress": progress_reporter("sweeping", quiet or as_json),
                "command_line": sys.argv,
                "scenario_path": str(source),
            }
            try:
                sweep, found = sweep_then_discover(
                    ScenarioSource.from_file(source, overrides, variant),
                    params,
                    n,
                    sweep_charts=not no_charts,
                    design=design,
                    **keywords,
                )
            except SweepError as exc:
                raise click.UsageError(str(exc)) from None
            if found is None:
                done = sweep.finished
                if sweep.status == "interrupted":
                    click.echo(
                        f"interrupted: {done} of {sweep.points} points kept in "
                        f"{sweep.run_dir}; finish with loyaltysim sweep --resume --output "
                        f"{sweep.run_dir}, then discover in that folder",
                        err=True,
                    )
                    sys.exit(EXIT_INTERRUPTED)
                click.echo(f"error: {sweep.error}", err=True)
                click.echo(f"{done} of {sweep.points} points kept in {sweep.run_dir}", err=True)
                sys.exit(EXIT_RUNTIME_FAILURE)
            result = found
    except DiscoverUsageError as exc:
        raise click.UsageError(str(exc)) from None
    except DiscoverInputError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_INVALID_SCENARIO)
    except MissingEMA as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(EXIT_RUNTIME_FAILURE)
    if as_json:
        from loyaltysim.analysis.summary import dumps

        click.echo(dumps({**result.data, "output_dir": str(result.output_dir)}))
    elif not quiet:
        click.echo(discovery_text(result))
        click.echo(f"\nresults: {result.output_dir}")


__all__ = ["discover", "discovery_text"]
