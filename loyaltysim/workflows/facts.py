"""The ``facts`` job: the stylized facts of the modelling basis, measured on a scenario.

The command line and the Python API both call :func:`run_facts`; it writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loyaltysim.analysis.facts import Fact, measure_facts
from loyaltysim.analysis.sample_size import facts_warnings
from loyaltysim.experiment import make_executor, resolve_seed
from loyaltysim.experiment.executors import DaskExecutor
from loyaltysim.scenario import Scenario, load_scenario_text, template_text

DEFAULT = "seed-claims"  # the shipped scenario calibrated to the practitioner claims


@dataclass
class FactsOutcome:
    """The measured facts, how many runs they rest on, and what that sample cannot say."""

    scenario: str
    replications: int
    seed: int
    facts: list[Fact]
    sample_warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(f.passed for f in self.facts)

    def verdict(self) -> str:
        """The one-line verdict (``facts --quiet`` prints only this)."""
        held = sum(f.passed for f in self.facts)
        failed = [str(f.number) for f in self.facts if not f.passed]
        tail = f"; fails: {', '.join(failed)}" if failed else ""
        return (
            f"{self.scenario}: {held} of {len(self.facts)} facts hold over "
            f"{self.replications} replications{tail}."
        )

    def to_frame(self) -> Any:
        """One row per fact (a pandas DataFrame): number, name, target, value, its 95%
        interval, pass or fail, and the detail."""
        import pandas as pd

        rows = [
            {
                "number": f.number,
                "name": f.name,
                "target": f.target,
                "value": f.value,
                "ci95_lo": f.ci95[0],
                "ci95_hi": f.ci95[1],
                "passed": f.passed,
                "detail": f.detail,
            }
            for f in self.facts
        ]
        return pd.DataFrame(rows)

    def as_dict(self) -> dict[str, Any]:
        """What ``facts --json`` prints."""
        return {
            "scenario": self.scenario,
            "replications": self.replications,
            "seed": self.seed,
            "passed": self.passed,
            "facts": [f.as_dict() for f in self.facts],
            "sample_warnings": list(self.sample_warnings),
        }


def default_scenario(overrides: list[str] | None = None) -> Scenario:
    """The shipped seed-claims scenario (with ``overrides``)."""
    return load_scenario_text(template_text(DEFAULT), f"{DEFAULT}.toml", overrides)


def run_facts(
    scenario: Scenario,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> FactsOutcome:
    """Measure every stylized fact on ``scenario`` over its replications."""
    reps = scenario.scenario.replications
    seed = resolve_seed(scenario)
    executor = make_executor(workers, scheduler)
    try:
        measured = measure_facts(scenario, reps, seed, executor, progress=progress)
    finally:
        if isinstance(executor, DaskExecutor):
            executor.close()
    return FactsOutcome(
        scenario.scenario.name, reps, seed, measured, facts_warnings(measured, reps)
    )
