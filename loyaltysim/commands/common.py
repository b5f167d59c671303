"""What every command shares: exit codes, the run options, loading a scenario, progress.

``cli.py`` (the group) and every module of :mod:`loyaltysim.commands` import these from
here, so nothing imports the command line back: the commands are plain click commands that
``cli.py`` registers.

- exit codes (:data:`EXIT_OK` ... :data:`EXIT_INTERRUPTED`);
- :func:`run_options`, the options ``run``, ``compare``, ``sweep`` and ``check`` share,
  handed to the command as one :class:`RunOptions`;
- :func:`load_or_exit`, which loads a scenario with the command line's overrides or
  prints its problems and exits 3;
- :func:`progress_reporter`, a progress bar on a terminal.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

# The error class only: the loader (pydantic, numpy, the schema) is imported where a
# scenario is loaded, so `loyaltysim --help` does not pay for it (issue #15).
from loyaltysim.scenario.errors import ScenarioError

if TYPE_CHECKING:
    from loyaltysim.scenario import Scenario

__all__ = [
    "DEBUG_ENV",
    "EXIT_GUARD_BREACHED",
    "EXIT_INTERRUPTED",
    "EXIT_INVALID_SCENARIO",
    "EXIT_OK",
    "EXIT_RUNTIME_FAILURE",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "RunOptions",
    "load_or_exit",
    "progress_reporter",
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


def _check_sets(
    ctx: click.Context, param: click.Parameter, values: Sequence[str]
) -> tuple[str, ...]:
    """``--set`` must look like KEY=VALUE; what the key means is the loader's business."""
    if not values:
        return ()
    from loyaltysim.scenario.overrides import ValueTooDeep, parse_override

    for value in values:
        try:
            parse_override(value)
        except ValueTooDeep:
            continue  # the loader reports it with its location (exit 3), with the rest
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return tuple(values)


def parse_params(ctx: click.Context, param: click.Parameter, values: Sequence[str]) -> list[Any]:
    """click callback of a ``--param KEY=LO:HI[:STEP]`` option: the parsed ranges, or the
    sweep's own message as a bad parameter (shared by sweep, sensitivity and discover)."""
    from loyaltysim.experiment.sweep import SweepError, parse_param

    try:
        return [parse_param(v) for v in values]
    except SweepError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


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

        @click.command()
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
    from loyaltysim.scenario import load_scenario

    try:
        return load_scenario(path, run_overrides(sets, reps, days, seed))
    except ScenarioError as exc:
        report_problems(exc)
        sys.exit(EXIT_INVALID_SCENARIO)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` atomically (temporary file and rename): a reader never sees half a
    file and a crash never leaves one."""
    from loyaltysim.output.folder import atomic_write_text

    atomic_write_text(path, text)


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
