"""The ``loyaltysim`` command line: thin wrappers that parse, call and print.

Shared plumbing for every command lives here too:

- exit codes (:data:`EXIT_OK` ... :data:`EXIT_INTERRUPTED`) and the group, which turns an
  invalid scenario into exit 3, an interrupt into 130 and any other failure into 4;
- :func:`run_options`, the options ``run``, ``compare``, ``sweep`` and ``check`` share,
  handed to the command as one :class:`RunOptions`;
- :func:`load_or_exit`, which loads a scenario with the command line's overrides or
  prints its problems and exits 3.

Commands import what they need (the experiment runner, plotting) inside their bodies, so
that adding a command does not slow down the others.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from loyaltysim.interruption import interrupted_exit_code, received, sigterm_interrupts
from loyaltysim.output.ending import command_session, describe_failure, settle_claimed
from loyaltysim.output.lock import OutputFolderError
from loyaltysim.scenario import (
    Scenario,
    ScenarioError,
    load_scenario,
    parse_override,
    scenario_json_schema,
    template_text,
)
from loyaltysim.scenario.loader import ValueTooDeep

__all__ = [
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
    "report_problems",
    "run_options",
    "run_overrides",
    "set_option",
    "write_atomic",
]

EXIT_OK = 0
EXIT_GUARD_BREACHED = 1  # `check`: a plan UNSAFE or a ruin warning fired; `facts`: a fact fails
EXIT_USAGE = 2  # click's own code for usage errors
EXIT_INVALID_SCENARIO = 3
EXIT_RUNTIME_FAILURE = 4
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C
EXIT_TERMINATED = 143  # 128 + SIGTERM: a batch scheduler or `kill` stopped the command

DEBUG_ENV = "LOYALTYSIM_DEBUG"  # set to show the traceback of a runtime failure

F = TypeVar("F", bound=Callable[..., Any])


def report_problems(error: ScenarioError) -> None:
    """Print a scenario's problems to stderr, one ``FILE:LINE: key: message`` per line."""
    for problem in error.problems:
        click.echo(str(problem), err=True)


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


def _check_sets(
    ctx: click.Context, param: click.Parameter, values: Sequence[str]
) -> tuple[str, ...]:
    """``--set`` must look like KEY=VALUE; what the key means is the loader's business."""
    for value in values:
        try:
            parse_override(value)
        except ValueTooDeep:
            continue  # the loader reports it with its location (exit 3), with the rest
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return tuple(values)


def set_option(f: F) -> F:
    """The ``--set K=V`` option (repeatable), as ``sets: tuple[str, ...]``."""
    return click.option(
        "--set",
        "sets",
        multiple=True,
        metavar="K=V",
        callback=_check_sets,
        help="Override a key: dotted path = TOML value (falls back to text), e.g. "
        "discount.rate=0.1 or customers.segments.0.share=0.4. Repeatable.",
    )(f)


@dataclass(frozen=True)
class RunOptions:
    """The options every simulating command shares (see :func:`run_options`)."""

    reps: int | None
    days: int | None
    seed: int | None
    sets: tuple[str, ...]
    workers: int | None
    scheduler: str | None
    output: Path | None
    as_json: bool
    quiet: bool

    def overrides(self) -> list[str]:
        """``--set`` plus ``--reps/--days/--seed`` as overrides, the latter winning."""
        return run_overrides(self.sets, self.reps, self.days, self.seed)

    def load(self, path: str | os.PathLike[str]) -> Scenario:
        """:func:`load_or_exit` with these options."""
        return load_or_exit(path, self.sets, self.reps, self.days, self.seed)

    def load_with(self, path: str | os.PathLike[str], extra: Sequence[str]) -> Scenario:
        """:meth:`load` with ``extra`` overrides after ``--set`` (``--reps``, ``--days``
        and ``--seed`` still win)."""
        return load_or_exit(path, [*self.sets, *extra], self.reps, self.days, self.seed)


_RUN_OPTION_NAMES = (
    "reps", "days", "seed", "sets", "workers", "scheduler", "output", "as_json", "quiet",
)  # fmt: skip


def run_options(f: F) -> F:
    """Add the options shared by ``run``, ``compare``, ``sweep`` and ``check``.

    The command receives them as one keyword argument ``opts: RunOptions``::

        @main.command()
        @click.argument("scenario")
        @run_options
        def run(scenario: str, opts: RunOptions) -> None:
            loaded = opts.load(scenario)
    """
    options = [
        click.option("--reps", type=click.IntRange(min=1), metavar="N",
                     help="Replications per variant (overrides scenario.replications)."),
        click.option("--days", type=click.IntRange(min=1), metavar="D",
                     help="Simulated days (overrides scenario.horizon_days)."),
        click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), metavar="S",
                     help="Root seed (overrides scenario.seed)."),
        set_option,
        click.option("--workers", type=click.IntRange(min=1), metavar="N",
                     help="Local worker processes [default: all cores]."),
        click.option("--scheduler", metavar="ADDR",
                     help="Run on a Dask cluster, e.g. tcp://host:8786 (needs the "
                     "[distributed] extra)."),
        click.option("--output", type=click.Path(file_okay=False, path_type=Path),
                     metavar="DIR", help="Results folder [default: results/<slug>/<time>]."),
        click.option("--json", "as_json", is_flag=True,
                     help="Print the summary JSON on stdout instead of a table."),
        click.option("--quiet", is_flag=True, help="No progress or table; errors only."),
    ]  # fmt: skip

    # wraps() also copies click's parameter list of decorators applied below this one.
    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        opts = RunOptions(**{name: kwargs.pop(name) for name in _RUN_OPTION_NAMES})
        return f(*args, opts=opts, **kwargs)

    decorated: Any = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return cast(F, decorated)


def run_overrides(
    sets: Sequence[str], reps: int | None, days: int | None, seed: int | None
) -> list[str]:
    """``--set`` values followed by ``--reps/--days/--seed`` as ``scenario.*`` overrides."""
    out = list(sets)
    for key, value in (
        ("scenario.replications", reps),
        ("scenario.horizon_days", days),
        ("scenario.seed", seed),
    ):
        if value is not None:
            out.append(f"{key}={value}")
    return out


def load_or_exit(
    path: str | os.PathLike[str],
    sets: Sequence[str] = (),
    reps: int | None = None,
    days: int | None = None,
    seed: int | None = None,
) -> Scenario:
    """Load a scenario with the command line's overrides, or print why not and exit 3.

    ``--reps``, ``--days`` and ``--seed`` override ``scenario.replications``,
    ``scenario.horizon_days`` and ``scenario.seed`` (after any ``--set`` of the same keys).
    """
    try:
        return load_scenario(path, run_overrides(sets, reps, days, seed))
    except ScenarioError as exc:
        report_problems(exc)
        sys.exit(EXIT_INVALID_SCENARIO)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` atomically (temporary file and rename): a reader never sees half a
    file and a crash never leaves one."""
    from loyaltysim.results_io import atomic_write_text

    atomic_write_text(path, text)


# ----------------------------------------------------------------------------- commands


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--template",
    "-t",
    default="cafe",
    show_default=True,
    metavar="NAME",
    help="Shipped scenario to start from (a file stem of scenarios/*.toml).",
)
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
def init(path: Path, template: str, force: bool) -> None:
    """Write a commented, valid scenario to start from."""
    try:
        text = template_text(template)
    except LookupError as exc:
        raise click.BadParameter(str(exc), param_hint="'--template'") from None
    if path.exists() and not force:
        raise click.UsageError(f"{path} exists; pass --force to overwrite it")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
    click.echo(f"wrote {path} (template {template}); check it with: loyaltysim validate {path}")


@main.command()
@click.argument("scenarios", nargs=-1, required=True, metavar="SCENARIO...")
@set_option
def validate(scenarios: tuple[str, ...], sets: tuple[str, ...]) -> None:
    """Check scenario files and their variants (exit 0 if valid, else 3).

    Problems are printed to stderr as FILE:LINE: key.path: message.
    """
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
    click.echo(json.dumps(scenario_json_schema(), indent=2, ensure_ascii=False))


# ----------------------------------------------------------------------------- run


def progress_reporter(label: str, quiet: bool) -> Callable[[int, int], None] | None:
    """A progress bar with ETA on stderr, only when stderr is a terminal."""
    if quiet or not sys.stderr.isatty():
        return None
    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr, show_eta=True)
            bar.__enter__()
        bar.update(done - bar.pos)
        if done >= total:
            bar.__exit__(None, None, None)

    return update


def _money(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


NO_INTERVAL = "n/a: 1 run"  # one replication has no confidence interval


def _interval(block: dict[str, Any], fmt: Callable[[float | None], str] = _money) -> str:
    if block.get("ci95") is None:  # undefined: stored as null
        return f"{fmt(block['mean'])} [{NO_INTERVAL}]"
    lo, hi = block["ci95"]
    return f"{fmt(block['mean'])} [{fmt(lo)}, {fmt(hi)}]"


def _percent(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def summary_table(summary: dict[str, Any]) -> str:
    """The short, readable table ``run`` prints: one row per variant."""
    lines = [
        f"{summary['scenario']}: {summary['replications']} replications x "
        f"{summary['horizon_days']} days, seed {summary['seed']}",
        "",
        f"{'variant':<32} {'profit, mean [95% CI]':>30} {'vs base (paired)':>26} "
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
@click.argument("scenario", type=click.Path())
@click.option("--no-charts", "no_charts", is_flag=True, help="Write no charts (faster).")
@run_options
def run(scenario: str, no_charts: bool, opts: RunOptions) -> None:
    """Run the base scenario and every variant; write a results folder and print a table.

    The folder (results/<scenario>/<UTC time>/ unless --output) holds manifest.json,
    scenario.resolved.json, summary.json, timeseries.csv, defections.csv and charts/.
    """
    from loyaltysim.jobs import run_job

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
        charts=not no_charts,
    )
    if opts.as_json:
        click.echo(json.dumps(job.summary, indent=2, allow_nan=False))
    elif not opts.quiet and job.summary:
        click.echo(summary_table(job.summary))
        click.echo(f"\nresults: {job.run_dir}")
    if job.status == "interrupted":
        done = job.results.replications
        click.echo(f"interrupted: {done} complete replication(s) kept in {job.run_dir}", err=True)
        sys.exit(EXIT_INTERRUPTED)


# Commands with more machinery live in their own modules; importing them registers them.
import loyaltysim.commands.calibrate  # noqa: E402, F401
from loyaltysim.commands import check, experiments, facts, report  # noqa: E402, F401
from loyaltysim.commands import discover as _discover  # noqa: E402, F401
