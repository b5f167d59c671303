"""The Python API: every job of the command line as a function, for notebooks.

``import loyaltysim`` re-exports these names (lazily: importing the package loads none of
the machinery below until a function is called)::

    load_scenario  run  compare  sweep  sensitivity  check  frontier  facts  calibrate

Each is a thin wrapper over the job the command of the same name runs
(:mod:`loyaltysim.workflows`), so that the same scenario and seed give the same numbers as
the command line. Each returns an object with ``.to_frame()`` (a pandas DataFrame) and its
plain data (``as_dict()``, ``summary()`` or attributes); results that can rest on too small
a sample carry ``sample_warnings``, a list of sentences (empty when the sample is enough).

Common arguments:

- ``scenario``: a path to a TOML file, or a :class:`~loyaltysim.scenario.Scenario` from
  :func:`load_scenario`. ``sweep``, ``sensitivity`` and ``frontier`` rebuild the scenario
  at every point from its file (as the commands do, so a changed price moves demand the
  same way), hence need a path or a scenario that :func:`load_scenario` returned.
- ``replications``, ``days``, ``seed``: as ``--reps``, ``--days``, ``--seed``.
- ``progress``: ``None`` (quiet), ``True`` (a tqdm bar where tqdm is installed, the
  ``[notebook]`` extra; a line of text per tenth otherwise) or a callable
  ``progress(done, total)``, called with increasing counts ending at ``total``.
- ``output``: **no folder is written unless ``output=`` names one.** With it, the folder
  is the one the command writes with ``--output`` (manifest, tables, JSON, charts), so
  ``loyaltysim report`` and ``loyaltysim discover`` read it. (A sweep or a sensitivity
  analysis streams its rows to a temporary folder, removed when the call returns.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loyaltysim.api_results import (
    CalibrationResult,
    Comparison,
    Sensitivity,
    Sweep,
    parsed_params,
)
from loyaltysim.api_support import (
    FROM_PYTHON,
    Overrides,
    ProgressArg,
    design_folder,
    load_and_remember,
    override_texts,
    progress_callback,
    resolve,
    run_overrides,
    source_of,
)

if TYPE_CHECKING:
    from loyaltysim.experiment import Results
    from loyaltysim.experiment.frontier import FrontierResult
    from loyaltysim.scenario import Scenario
    from loyaltysim.workflows.check import CheckResult
    from loyaltysim.workflows.facts import FactsOutcome


def load_scenario(path: str | os.PathLike[str], overrides: Overrides = None) -> Scenario:
    """Read, check and validate a scenario file, as ``loyaltysim validate`` does.

    ``overrides`` are ``--set`` values: ``"dotted.key=VALUE"`` strings or a mapping of
    dotted key to a Python value. Raises :class:`~loyaltysim.scenario.ScenarioError` with
    every problem found.

    >>> import loyaltysim
    >>> cafe = loyaltysim.load_scenario("scenarios/cafe.toml", {"discount.rate": 0.1})
    >>> cafe.scenario.name
    'Corner café'
    """
    return load_and_remember(path, override_texts(overrides))


# ----------------------------------------------------------------------------- run


def run(
    scenario: Any,
    replications: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    customers: bool | None = None,
    *,
    days: int | None = None,
    seed: int | None = None,
    overrides: Overrides = None,
    progress: ProgressArg = None,
    output: str | os.PathLike[str] | None = None,
    table_format: str = "csv",
    charts: bool = True,
) -> Results:
    """Simulate the base scenario and every variant, as ``loyaltysim run``.

    The numbers are those ``loyaltysim run`` writes for the same scenario and seed (a
    scenario without a seed gets a fresh one, recorded in ``results.seed``).
    ``results.to_frame(name)`` gives each table (timeseries, defections, replications,
    warnings, customers) as a DataFrame; ``results.summary()`` the ``summary.json``
    content. The per-customer table is kept up to
    :data:`~loyaltysim.workflows.run.CUSTOMER_ROWS_LIMIT` rows; ``customers=True`` keeps
    it whatever its size, ``customers=False`` never. Nothing is written unless
    ``output`` names a folder (then the ``run --output`` folder, charts included unless
    ``charts=False``).

    >>> import loyaltysim
    >>> results = loyaltysim.run("scenarios/cafe.toml", replications=2, days=60, workers=1)
    >>> results.to_frame("replications")[["variant", "replication", "profit"]].shape
    (8, 3)
    """
    from loyaltysim.workflows.run import run_job

    loaded = resolve(scenario, overrides, replications, days, seed)
    job = run_job(
        loaded.scenario,
        scenario_path=loaded.path,
        overrides=loaded.overrides,
        command_line=FROM_PYTHON,
        output=Path(output) if output is not None else None,
        workers=workers,
        scheduler=scheduler,
        progress=progress_callback(progress, "simulating"),
        write_files=output is not None,
        charts=charts,
        customers=customers,
        table_format=table_format,
    )
    return job.results


# ----------------------------------------------------------------------------- compare


def compare(
    *scenarios: Any,
    reference: str | None = None,
    bases_only: bool = False,
    replications: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    overrides: Overrides = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: ProgressArg = None,
    output: str | os.PathLike[str] | None = None,
    charts: bool = True,
) -> Comparison:
    """Compare variants of a scenario, or several scenarios, with common random numbers,
    as ``loyaltysim compare``.

    One scenario: its base and each variant. Several: each one's base and (unless
    ``bases_only``) its variants. The reference is the first scenario's base unless
    ``reference`` names another entry. ``overrides`` apply to every scenario.

    >>> import loyaltysim
    >>> c = loyaltysim.compare("scenarios/cafe.toml", replications=3, days=60, workers=1)
    >>> c.to_frame().query("metric == 'profit'")[["entry", "difference"]].shape
    (3, 2)
    """
    from loyaltysim.experiment import Results
    from loyaltysim.experiment.compare import build_entries
    from loyaltysim.workflows.compare import run_compare

    if not scenarios:
        raise TypeError("compare() needs at least one scenario")
    loaded = [resolve(s, overrides, replications, days, seed) for s in scenarios]
    entries = build_entries(
        [(one.path, one.scenario) for one in loaded],
        include_variants=not bases_only,
        reference=reference,
    )
    outcome = run_compare(
        entries,
        seed=seed,
        output=Path(output) if output is not None else None,
        workers=workers,
        scheduler=scheduler,
        progress=progress_callback(progress, "comparing"),
        command_line=FROM_PYTHON,
        scenario_path=loaded[0].path,
        overrides=loaded[0].overrides,
        write_files=output is not None,
        charts=charts,
    )
    results = Results(
        scenario=outcome.entries[0].scenario,
        seed=outcome.seed,
        runs=outcome.runs,
        interrupted=outcome.status == "interrupted",
    )
    return Comparison(
        outcome.comparison,
        outcome.summary,
        results,
        outcome.status,
        outcome.run_dir,
        list(outcome.comparison.get("sample_warnings", [])),
    )


# ----------------------------------------------------------------------------- sweeps


def sweep(
    scenario: Any,
    params: Mapping[str, Any] | Sequence[str],
    *,
    sample: str = "grid",
    n: int | None = None,
    variant: str = "base",
    replications: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    overrides: Overrides = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: ProgressArg = None,
    output: str | os.PathLike[str] | None = None,
    resume: bool = False,
    charts: bool = True,
) -> Sweep:
    """Sweep parameters over a grid or a Latin hypercube, as ``loyaltysim sweep``.

    ``params`` maps a dotted key to ``(lo, hi, step)`` (grid), ``(lo, hi)`` (with
    ``sample="lhs"`` and ``n`` points) or a list of values; ``"LO:HI:STEP"`` text and
    ``["key=LO:HI:STEP", ...]`` work too.

    >>> import loyaltysim
    >>> s = loyaltysim.sweep("scenarios/cafe.toml", {"business.price": (4.0, 5.0, 0.5)},
    ...                      replications=2, days=60, workers=1)
    >>> s.to_frame()[["business.price", "profit_mean"]].shape
    (3, 2)
    """
    from loyaltysim.workflows.sweep import run_sweep

    source, path = source_of(
        scenario, overrides, run_overrides(replications, days, seed), "sweep", variant
    )
    parsed = parsed_params(params)
    with design_folder(output) as (folder, kept):
        outcome = run_sweep(
            source,
            parsed,
            sample=sample,
            n=n,
            charts=charts and kept,
            resume=resume,
            output=folder,
            workers=workers,
            scheduler=scheduler,
            progress=progress_callback(progress, "sweeping"),
            command_line=FROM_PYTHON,
            scenario_path=path,
        )
    return Sweep(
        outcome.rows,
        outcome.spec["params"],
        outcome.seed,
        outcome.status,
        list(outcome.spec["columns"]),
        outcome.run_dir if kept else None,
        outcome.sample_warnings,
    )


def sensitivity(
    scenario: Any,
    params: Mapping[str, Any] | Sequence[str],
    *,
    method: str = "sobol",
    n: int | None = None,
    levels: int = 4,
    outputs: Sequence[str] = ("profit", "churned"),
    conf_level: float = 0.95,
    resamples: int = 1000,
    variant: str = "base",
    replications: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    overrides: Overrides = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: ProgressArg = None,
    output: str | os.PathLike[str] | None = None,
    charts: bool = True,
) -> Sensitivity:
    """Which parameters drive profit and churn: Sobol or Morris indices (SALib), as
    ``loyaltysim sensitivity``. ``params`` maps a dotted key to its range ``(lo, hi)``;
    ``n`` is Sobol's base samples (a power of 2, default 64) or Morris's trajectories
    (default 20). Needs the ``[sensitivity]`` extra.

    >>> import loyaltysim
    >>> s = loyaltysim.sensitivity("scenarios/cafe.toml", {"business.price": (4.0, 5.0)},
    ...                            method="morris", n=4, replications=1, days=30, workers=1)
    >>> list(s.to_frame()[["output", "param"]].itertuples(index=False, name=None))[0]
    ('profit', 'business.price')
    """
    from loyaltysim.workflows.sweep import run_sensitivity

    source, path = source_of(
        scenario, overrides, run_overrides(replications, days, seed), "sensitivity", variant
    )
    n = n or (64 if method == "sobol" else 20)
    with design_folder(output) as (folder, kept):
        outcome, analysis = run_sensitivity(
            source,
            parsed_params(params),
            method=method,
            n=n,
            levels=levels,
            outputs=tuple(outputs),
            conf_level=conf_level,
            resamples=resamples,
            charts=charts and kept,
            output=folder,
            workers=workers,
            scheduler=scheduler,
            progress=progress_callback(progress, "sampling"),
            command_line=FROM_PYTHON,
            scenario_path=path,
        )
    return Sensitivity(
        analysis or {},
        outcome.rows,
        outcome.status,
        outcome.run_dir if kept else None,
        outcome.sample_warnings,
    )


# ----------------------------------------------------------------------------- guard


def check(
    scenario: Any,
    *,
    max_ruin_risk: float | None = None,
    replications: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    overrides: Overrides = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: ProgressArg = None,
    output: str | os.PathLike[str] | None = None,
) -> CheckResult:
    """The over-discount guard, as ``loyaltysim check``: is any plan at risk of ruin?

    Replications are added (from ``replications``, doubling, up to
    ``guard.max_replications``) until each plan's ruin risk is SAFE, UNSAFE or, at the
    cap, UNDECIDED. ``result.breached`` is what makes the command exit 1;
    ``result.as_dict()`` is ``check --json``; ``result.to_frame()`` one row per plan.
    ``progress`` counts the runs of the looks taken so far: ``total`` grows when the
    guard adds a look, and the last call has ``done == total``.

    >>> import loyaltysim
    >>> verdict = loyaltysim.check("scenarios/cafe.toml", replications=4, days=60,
    ...                            overrides={"guard.max_replications": 8}, workers=1)
    >>> list(verdict.to_frame().columns[:3])
    ['variant', 'status', 'breached']
    """
    from loyaltysim.workflows.check import run_check

    loaded = resolve(scenario, overrides, None, days, seed)
    return run_check(
        loaded.scenario,
        max_ruin_risk=max_ruin_risk,
        first_replications=replications,
        workers=workers,
        scheduler=scheduler,
        progress=progress_callback(progress, "checking"),
        output=Path(output) if output is not None else None,
        scenario_path=loaded.path,
        overrides=loaded.overrides,
        command_line=FROM_PYTHON,
    )


def frontier(
    scenario: Any,
    param: str,
    values: str | Sequence[float] | None = None,
    *,
    max_ruin_risk: float | None = None,
    replications: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    overrides: Overrides = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: ProgressArg = None,
    output: str | os.PathLike[str] | None = None,
) -> FrontierResult:
    """The safe-discount frontier, as ``loyaltysim frontier``: profit and ruin risk across
    one parameter's values, the largest safe value and the most profitable safe one.

    ``param`` is ``"KEY=LO:HI:STEP"``, or a key with ``values`` as ``"LO:HI:STEP"`` or
    ``(lo, hi, step)``. Without ``replications``, each value runs enough replications for
    a value without ruin to be shown safe. ``result.to_frame()`` has one row per value.

    >>> import loyaltysim
    >>> f = loyaltysim.frontier("scenarios/cafe.toml", "discount.rate=0:0.2:0.1",
    ...                         overrides={"discount.kind": "flat"}, replications=2,
    ...                         days=60, workers=1)
    >>> f.to_frame()["value"].tolist()
    [0.0, 0.1, 0.2]
    """
    from loyaltysim.analysis.verdict import zero_event_runs
    from loyaltysim.experiment import make_executor
    from loyaltysim.experiment.frontier import run_frontier
    from loyaltysim.experiment.sweep import parse_param, typed_params

    if values is not None:
        spec = values if isinstance(values, str) else ":".join(repr(float(v)) for v in values)
        param = f"{param}={spec}"
    key = param.partition("=")[0].strip()
    source, _path = source_of(
        scenario, overrides, run_overrides(replications, days, seed), "frontier"
    )
    base = source.load()
    (swept,) = typed_params([parse_param(param)], base)
    risk = max_ruin_risk if max_ruin_risk is not None else base.guard.max_ruin_probability
    reps = replications or max(base.scenario.replications, zero_event_runs(risk))
    points = {
        value: source.load([f"{key}={swept.text(value)}", f"scenario.replications={reps}"])
        for value in swept.grid()
    }
    held = None
    if output is not None:
        from loyaltysim.output.lock import claim_run_dir

        held = claim_run_dir(base, Path(output), kind="frontier")
    try:
        result = run_frontier(
            points,
            key,
            risk,
            make_executor(workers, scheduler),
            progress_callback(progress, "frontier"),
        )
        if held is not None:
            from loyaltysim.workflows.frontier import write_frontier

            write_frontier(result, base, held.path)
    finally:
        if held is not None:
            held.release()
    return result


# ----------------------------------------------------------------------------- facts


def facts(
    scenario: Any = None,
    *,
    replications: int | None = None,
    days: int | None = None,
    seed: int | None = None,
    overrides: Overrides = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: ProgressArg = None,
) -> FactsOutcome:
    """The stylized facts of the modelling basis, measured, as ``loyaltysim facts``
    (without ``scenario``, on the shipped seed-claims scenario). ``result.passed``,
    ``result.verdict()`` (the one line ``facts --quiet`` prints), ``result.as_dict()``
    (``facts --json``) and ``result.to_frame()``, one row per fact.

    >>> import loyaltysim
    >>> f = loyaltysim.facts(replications=2, days=120, workers=1)
    >>> f.to_frame()["number"].tolist()[:3]
    [1, 2, 3]
    """
    from loyaltysim.workflows.facts import default_scenario, run_facts

    if scenario is None:
        extra = [*override_texts(overrides), *run_overrides(replications, days, seed)]
        loaded = default_scenario(extra)
    else:
        loaded = resolve(scenario, overrides, replications, days, seed).scenario
    return run_facts(
        loaded,
        workers=workers,
        scheduler=scheduler,
        progress=progress_callback(progress, "measuring"),
    )


# ----------------------------------------------------------------------------- calibrate


def calibrate(
    log: str | os.PathLike[str],
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    date_format: str | None = None,
    calibration_end: str | None = None,
    holdout_end: str | None = None,
    returns: str = "reject",
    replications: int | None = None,
    seed: int | None = None,
    progress: ProgressArg = None,
    output: str | os.PathLike[str] | None = None,
    scenario_file: str | os.PathLike[str] | None = None,
) -> CalibrationResult:
    """Fit BG/NBD, Pareto/NBD and Gamma-Gamma to a purchase log and build a scenario, as
    ``loyaltysim calibrate``. ``output`` is the calibration's folder (written only when
    given), ``scenario_file`` where to write the calibrated scenario's TOML. ``progress``
    counts the steps (reading, the fits, matching the agent model, the holdout).

    >>> import loyaltysim  # doctest: +SKIP
    >>> fit = loyaltysim.calibrate("log.csv", calibration_end="2025-06-30")  # doctest: +SKIP
    >>> fit.payload["params"]  # doctest: +SKIP
    """
    from loyaltysim.calibration.log import LogSpec
    from loyaltysim.workflows.calibrate import (
        BACKTEST_REPLICATIONS,
        DEFAULT_SEED,
        CalibrationOptions,
    )
    from loyaltysim.workflows.calibrate import calibrate as run_calibration

    options = CalibrationOptions(
        spec=LogSpec(customer_col, date_col, amount_col, date_format, returns),
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        output=Path(scenario_file) if scenario_file is not None and output is not None else None,
        folder=Path(output) if output is not None else None,
        seed=DEFAULT_SEED if seed is None else seed,
        replications=replications or BACKTEST_REPLICATIONS,
        write_files=output is not None,
    )
    steps = ["reading", "fitting BG/NBD", "fitting Pareto/NBD", "matching"]
    if holdout_end is not None:
        steps.append("simulating the holdout")
    report = progress_callback(progress, "calibrating")
    done = 0

    def say(message: str) -> None:
        nonlocal done
        if report is not None and any(message.startswith(s) for s in steps[done:]):
            done = 1 + next(i for i in range(done, len(steps)) if message.startswith(steps[i]))
            report(done - 1, len(steps))

    result = run_calibration(Path(log), options, progress=say)
    if report is not None:
        report(len(steps), len(steps))
    if scenario_file is not None and output is None:
        from loyaltysim.output.folder import atomic_write_text

        atomic_write_text(Path(scenario_file), result.scenario_text)
    return CalibrationResult(result)


__all__ = [
    "CalibrationResult",
    "Comparison",
    "Sensitivity",
    "Sweep",
    "calibrate",
    "check",
    "compare",
    "facts",
    "frontier",
    "load_scenario",
    "progress_callback",
    "run",
    "sensitivity",
    "sweep",
]
