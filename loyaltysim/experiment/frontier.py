"""The safe-discount frontier: profit and ruin risk across the values of one parameter.

Every value runs the same replications with the same root seed (common random numbers),
so the curve is smooth where the model is and its steps are the model's, not the luck's.
Values run one after another, replications in parallel; each value is reduced to its
figures before the next starts, so memory does not grow with the number of values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from loyaltysim.analysis.metrics import metric_arrays
from loyaltysim.analysis.stats import interval_or_none, mean_ci, wilson_interval
from loyaltysim.analysis.summary import json_safe
from loyaltysim.analysis.verdict import decide_risk
from loyaltysim.experiment.executors import Executor
from loyaltysim.experiment.runner import resolve_seed, run_experiment
from loyaltysim.scenario import Scenario

if TYPE_CHECKING:
    import pandas as pd

FRONTIER_COLUMNS = (
    "value", "replications", "profit_mean", "profit_lo", "profit_hi", "ruined",
    "ruin_probability", "ruin_lo", "ruin_hi", "structural_loss", "safe", "verdict",
)  # fmt: skip


@dataclass
class FrontierPoint:
    """Figures of one value of the parameter."""

    value: float
    replications: int
    profit_mean: float
    profit_ci95: tuple[float, float]
    ruined: int
    ruin_probability: float
    ruin_ci95: tuple[float, float]
    structural_loss: bool
    safe: bool
    verdict: str = "undecided"  # the guard's word: safe | unsafe | undecided
    ruin_text: str = ""  # what the runs show, e.g. "no ruin in 73 runs (risk below 4.0%)"


@dataclass
class FrontierResult:
    param: str
    max_ruin_risk: float
    seed: int
    points: list[FrontierPoint] = field(default_factory=list)
    interrupted: bool = False

    @property
    def largest_safe(self) -> float | None:
        """The last value before the first unsafe one (the edge of the cliff)."""
        best = None
        for p in self.points:
            if not p.safe:
                break
            best = p.value
        return best

    @property
    def cliff(self) -> float | None:
        """The first UNSAFE value (an UNDECIDED one is not a cliff)."""
        return next((p.value for p in self.points if p.verdict == "unsafe"), None)

    @property
    def first_undecided(self) -> float | None:
        """The first UNDECIDED value before the cliff, if any."""
        for p in self.points:
            if p.verdict == "unsafe":
                return None
            if p.verdict == "undecided":
                return p.value
        return None

    @property
    def most_profitable(self) -> float | None:
        """The value with the highest mean profit among the safe ones."""
        safe = [p for p in self.points if p.safe]
        return max(safe, key=lambda p: p.profit_mean).value if safe else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: NaN as None, an undefined interval (one replication) as None."""
        return json_safe(
            {
                "param": self.param,
                "max_ruin_risk": self.max_ruin_risk,
                "seed": self.seed,
                "largest_safe": self.largest_safe,
                "cliff": self.cliff,
                "first_undecided": self.first_undecided,
                "most_profitable_safe": self.most_profitable,
                "interrupted": self.interrupted,
                "points": [
                    {
                        **asdict(p),
                        "profit_ci95": interval_or_none(p.profit_ci95),
                        "ruin_ci95": list(p.ruin_ci95),
                    }
                    for p in self.points
                ],
            }
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per value (a pandas DataFrame), the columns of ``frontier.csv`` plus the
        guard's verdict."""
        import pandas as pd

        rows = [
            {
                "value": p.value,
                "replications": p.replications,
                "profit_mean": p.profit_mean,
                "profit_lo": p.profit_ci95[0],
                "profit_hi": p.profit_ci95[1],
                "ruined": p.ruined,
                "ruin_probability": p.ruin_probability,
                "ruin_lo": p.ruin_ci95[0],
                "ruin_hi": p.ruin_ci95[1],
                "structural_loss": p.structural_loss,
                "safe": p.safe,
                "verdict": p.verdict,
            }
            for p in self.points
        ]
        return pd.DataFrame(rows, columns=list(FRONTIER_COLUMNS))

    def table(self, currency: str | None = None) -> str:
        profit = "profit" + (f" ({currency})" if currency else "") + ", mean [95% CI]"
        lines = [f"{self.param:>16} {profit:>32} {'ruin risk [95% CI]':>22}  verdict"]
        for p in self.points:
            lo, hi = p.profit_ci95
            rlo, rhi = p.ruin_ci95
            verdict = p.verdict.upper() + (" (loss per sale)" if p.structural_loss else "")
            ci = (
                f"[{lo:>8,.0f}, {hi:>8,.0f}]"
                if interval_or_none(p.profit_ci95)
                else f"{'n/a: ' + str(p.replications) + ' run':>20}"
            )
            lines.append(
                f"{p.value:>16g} {p.profit_mean:>12,.0f} {ci} "
                f"{p.ruin_probability:>8.0%} [{rlo:.0%}, {rhi:.0%}]  {verdict}"
            )
        lines.append("")
        undecided = (
            f"; undecided from {_show(self.first_undecided)}"
            if self.first_undecided is not None
            else ""
        )
        lines.append(
            f"largest safe value: {_show(self.largest_safe)}{undecided}; "
            f"cliff (first unsafe value) at {_show(self.cliff)}"
        )
        lines.append(f"most profitable safe value: {_show(self.most_profitable)}")
        return "\n".join(lines)


def _show(value: float | None) -> str:
    return "none" if value is None else f"{value:g}"


def run_frontier(
    points: dict[Any, Scenario],
    param: str,
    max_ruin_risk: float,
    executor: Executor,
    progress: Callable[[int, int], None] | None = None,
) -> FrontierResult:
    """Run every value's scenario (its variants are ignored) and measure it."""
    first = next(iter(points.values()))
    seed = resolve_seed(first)
    result = FrontierResult(param, max_ruin_risk, seed)
    for done, (value, scenario) in enumerate(points.items(), start=1):
        label = f"{param}={value}"
        reps = scenario.scenario.replications
        results = run_experiment([(label, scenario)], reps, seed, executor)
        runs = results.runs[label]
        if not runs:
            result.interrupted = True
            break
        profit = metric_arrays(runs, scenario)["profit"]
        mean, ci = mean_ci(profit)
        ruined = sum(r.ruined for r in runs)
        lo, hi = wilson_interval(ruined, len(runs))
        margin = scenario.business.gross_margin
        structural = scenario.discount.headline_rate() >= margin or any(
            w.indicator == "structural_loss" for r in runs for w in r.warnings
        )
        decision = decide_risk(ruined, len(runs), max_ruin_risk)
        verdict = "unsafe" if structural else decision.status
        result.points.append(
            FrontierPoint(
                value=value,
                replications=len(runs),
                profit_mean=float(mean),
                profit_ci95=(float(ci[0]), float(ci[1])),
                ruined=ruined,
                ruin_probability=ruined / len(runs),
                ruin_ci95=(lo, hi),
                structural_loss=structural,
                safe=verdict == "safe",
                verdict=verdict,
                ruin_text=decision.short(),
            )
        )
        if progress is not None:
            progress(done, len(points))
        if results.interrupted:
            result.interrupted = True
            break
    return result
