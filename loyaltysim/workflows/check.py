"""The ``check`` job: is any plan at risk of ruin, and was the warning right?

1. Before any simulation, every plan's discount against its own gross margin: a plan that
   loses money on every discounted sale is flagged with the arithmetic
   (:func:`loyaltysim.analysis.guard.structural_flag`).
2. Replications run in planned looks (the first batch, doubling, up to
   ``guard.max_replications``), each ``guard.look_ahead_days`` past the horizon (the plan
   continues as it is) so that every warning can be judged; a plan gets more runs only
   while its ruin risk or its warning share is UNDECIDED (the rule and its correction for
   repeated looks: :mod:`loyaltysim.analysis.verdict`).
3. One verdict per plan (:func:`loyaltysim.analysis.guard.judge_plan`); the user's figures
   are those of the user's horizon.

With ``output`` the results folder of the runs (cut to the horizon) is written, plus
``check.json``. The command line only parses, calls :func:`run_check` and prints.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loyaltysim.analysis.guard import PlanVerdict, decided, judge_plan, structural_flag
from loyaltysim.analysis.sample_size import check_warnings
from loyaltysim.analysis.summary import dumps
from loyaltysim.analysis.verdict import look_schedule
from loyaltysim.experiment import make_executor, resolve_seed
from loyaltysim.experiment.executors import DaskExecutor
from loyaltysim.experiment.lookahead import Sequential, run_sequential
from loyaltysim.output.lock import FolderLock, claim_run_dir
from loyaltysim.scenario import Scenario, variant_scenarios

CHECK_FILE = "check.json"
CHECK_COLUMNS = (
    "variant", "status", "breached", "structural_loss", "replications", "ruined",
    "ruin_lower", "ruin_upper", "warning_status", "warned", "median_ruin_day", "max_ruin_risk",
)  # fmt: skip


@dataclass
class CheckResult:
    """What ``check`` found: the plans' verdicts and how they were reached."""

    scenario: str
    max_ruin_risk: float
    horizon_days: int
    look_ahead_days: int
    looks: list[int]
    seed: int
    flags: dict[str, str | None]  # variant -> the structural flag found before day 1
    verdicts: list[PlanVerdict] = field(default_factory=list)
    interrupted: bool = False
    summary: dict[str, Any] = field(default_factory=dict)
    run_dir: Path | None = None
    # What these runs cannot support, in sentences (loyaltysim.analysis.sample_size).
    sample_warnings: list[str] = field(default_factory=list)

    @property
    def breached(self) -> bool:
        """Exit 1: a plan is UNSAFE, or its ruin warning fired (or it loses money on
        every discounted sale)."""
        return any(v.breached for v in self.verdicts) or any(self.flags.values())

    @property
    def undecided(self) -> list[str]:
        return [v.variant for v in self.verdicts if v.status == "undecided"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "max_ruin_risk": self.max_ruin_risk,
            "horizon_days": self.horizon_days,
            "look_ahead_days": self.look_ahead_days,
            "looks": self.looks,
            "seed": self.seed,
            "replications": max((v.replications_run for v in self.verdicts), default=0),
            "breached": self.breached,
            "safe": not self.breached and not self.undecided,
            "undecided": self.undecided,
            "interrupted": self.interrupted,
            "flags": self.flags,
            "variants": [v.as_dict() for v in self.verdicts],
            "sample_warnings": list(self.sample_warnings),
        }

    def to_frame(self) -> Any:
        """One row per plan (a pandas DataFrame): verdict, ruin and warning counts and
        bounds, the runs taken."""
        import pandas as pd

        rows = []
        for v in self.verdicts:
            rows.append(
                {
                    "variant": v.variant,
                    "status": v.ruin.status,
                    "breached": v.breached,
                    "structural_loss": v.structural is not None,
                    "replications": v.replications_run,
                    "ruined": v.ruin.events,
                    "ruin_lower": v.ruin.lower,
                    "ruin_upper": v.ruin.upper,
                    "warning_status": v.warning.status,
                    "warned": v.warning.events,
                    "median_ruin_day": v.median_ruin_day,
                    "max_ruin_risk": self.max_ruin_risk,
                }
            )
        return pd.DataFrame(rows, columns=list(CHECK_COLUMNS))

    def before_day_one(self) -> list[str]:
        """The flags raised before any simulation, in words."""
        return [
            f"{name}: every discounted sale loses money: {flag}."
            for name, flag in self.flags.items()
            if flag
        ]

    def text(self) -> str:
        """The report ``check`` prints."""
        runs = max((v.replications_run for v in self.verdicts), default=0)
        lines = [
            f"{self.scenario}: acceptable ruin risk {self.max_ruin_risk:.1%}; up to {runs} "
            f"runs of {self.horizon_days} days, each continued {self.look_ahead_days} days "
            "past the horizon to judge the warnings",
            "",
        ]
        flags = self.before_day_one()
        if flags:
            lines += ["Before day 1:", *flags, ""]
        for v in self.verdicts:
            lines.append(v.text())
            lines.append("")
        if self.breached:
            lines.append("Not safe: see above.")
        elif self.undecided:
            lines.append(
                "No plan is unsafe, but " + ", ".join(self.undecided) + " could not be "
                "decided within guard.max_replications runs; see above for how many would."
            )
        else:
            lines.append("Every plan is safe.")
        lines += [f"sample warning: {w}" for w in self.sample_warnings]
        return "\n".join(lines)


def run_check(
    scenario: Scenario,
    *,
    max_ruin_risk: float | None = None,
    first_replications: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    output: Path | None = None,
    scenario_path: Path | str | None = None,
    overrides: Sequence[str] = (),
    command_line: Sequence[str] | str | None = None,
) -> CheckResult:
    """Run the guard on ``scenario`` and its variants (see the module docstring)."""
    guard = scenario.guard
    risk = guard.max_ruin_probability if max_ruin_risk is None else max_ruin_risk
    first = first_replications or scenario.scenario.replications
    looks = look_schedule(first, max(first, guard.max_replications))
    variants = variant_scenarios(scenario)
    seed = resolve_seed(scenario)
    result = CheckResult(
        scenario=scenario.scenario.name,
        max_ruin_risk=risk,
        horizon_days=scenario.scenario.horizon_days,
        look_ahead_days=guard.look_ahead_days,
        looks=looks,
        seed=seed,
        flags={name: structural_flag(sc) for name, sc in variants},
    )

    def stop(name: str, runs: list[Any], outcomes: list[Any], look: int) -> bool:
        return decided(runs, risk, len(looks))

    # Claimed before running: a folder in use or not writable is refused up front.
    held = claim_run_dir(scenario, output) if output is not None else None
    try:
        executor = make_executor(workers, scheduler)
        try:
            seq = run_sequential(
                variants, looks, seed, guard.look_ahead_days, stop, executor, progress
            )
        finally:
            if isinstance(executor, DaskExecutor):
                executor.close()
        return _judge(
            result,
            seq,
            scenario,
            variants,
            risk,
            looks,
            held,
            scenario_path,
            overrides,
            command_line,
        )
    finally:
        if held is not None:
            held.release()


def _judge(
    result: CheckResult,
    seq: Sequential,
    scenario: Scenario,
    variants: list[tuple[str, Scenario]],
    risk: float,
    looks: list[int],
    held: FolderLock | None,
    scenario_path: Path | str | None,
    overrides: Sequence[str],
    command_line: Sequence[str] | str | None,
) -> CheckResult:
    """Verdicts from the finished runs; the folder written when one was claimed."""
    by_name = dict(variants)
    result.interrupted = seq.interrupted
    results = seq.past.results
    if any(not runs for runs in results.runs.values()):
        return result  # interrupted before a plan had a single run
    result.summary = results.summary()
    blocks = {b["name"]: b for b in result.summary["variants"]}
    base = result.summary.get("base")
    for name, _ in variants:
        runs = results.runs[name]
        after = [o.ruin_day for o in seq.past.outcomes[name]]
        result.verdicts.append(
            judge_plan(
                name,
                by_name[name],
                runs,
                after,
                risk,
                looks=len(looks),
                looks_taken=seq.looks_taken[name],
                break_even=None if name == base else blocks[name]["break_even"],
            )
        )
    result.sample_warnings = check_warnings(result.verdicts, scenario.guard.max_replications)
    if held is not None:
        result.run_dir = _write(
            result, seq, scenario, held.path, scenario_path, overrides, command_line
        )
    return result


def _write(
    result: CheckResult,
    seq: Sequential,
    scenario: Scenario,
    output: Path,
    scenario_path: Path | str | None,
    overrides: Sequence[str],
    command_line: Sequence[str] | str | None,
) -> Path:
    """The results folder of the runs (cut to the horizon) and ``check.json``."""
    from loyaltysim.output.folder import RunFolder, atomic_write_text

    folder = RunFolder(output)
    folder.start(
        scenario,
        json.loads(scenario.model_dump_json()),
        scenario_path,
        list(overrides),
        command_line,
        result.seed,
    )
    for runs in seq.past.results.runs.values():
        folder.add_results(runs)
    folder.finish(result.summary, "interrupted" if result.interrupted else "complete")
    atomic_write_text(output / CHECK_FILE, dumps(result.as_dict()))
    return output
