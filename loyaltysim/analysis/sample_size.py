"""Small samples said out loud: when a result's sample cannot support its statement.

Each function reads the plain data a job already produces (a comparison, a sensitivity
analysis, a sweep's rows, the guard's verdicts, the stylized facts) and returns plain
sentences: what cannot be concluded from this sample, and what to run instead. An empty
list means the sample supports what is printed. The workflows put the list under the
top-level key ``"sample_warnings"`` of their JSON, and the commands print it.

The rules, and why:

- **One replication** has no confidence interval: a difference or a level is a single draw
  and cannot be told from chance.
- **A ruin difference from runs without a ruin** (or with ruin in every run) is a paired
  difference of constant 0/1 indicators: its interval collapses to ``[+0.0%, +0.0%]``,
  which reads as a measured zero but only says both risks are below the one-sided 95% bound
  of no event in ``n`` runs (``1 - 0.05^(1/n)``, the bound the run table prints). The
  guard (``check``) decides a risk against a limit instead.
- **Sobol indices from too few base samples**: an ST interval wider than the index itself
  (``2 x ST_conf > ST``) cannot rank a parameter or say that it drives the output, and a
  first-order index above the total one (``S1 > ST``) is impossible for the model (the total
  contains the first-order effect), and so is a total index above 1 (an index is a share of
  the output's variance): the estimates are noise. The interval half-width
  falls as ``1 / sqrt(N)``: four times the base samples halve it (Saltelli et al. 2010).
- **Morris effects** likewise: a ``mu*`` interval wider than ``mu*`` cannot call the
  parameter a driver; more trajectories narrow it.
- **The guard at its cap**: a plan left UNDECIDED after ``guard.max_replications`` runs
  has a risk that straddles the limit; the verdict's own count of runs that would decide it
  is the advice.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from loyaltysim.analysis.verdict import CONFIDENCE, one_sided_bounds


def zero_event_bound(runs: int) -> float:
    """The one-sided upper bound of a risk never seen in ``runs`` runs (the guard's)."""
    return one_sided_bounds(0, runs, 1.0 - CONFIDENCE)[1]


# What to suggest for a one-replication run: enough for a t interval to be usable (the
# 97.5% t quantile is 2.26 at 9 degrees of freedom, against 12.7 at 1).
SUGGESTED_REPS = 10
# The smallest Sobol base sample the sensitivity command uses by default.
SOBOL_DEFAULT_N = 64
# S1 may exceed ST by estimation noise in an additive model; beyond this it is a symptom.
S1_OVER_ST_TOLERANCE = 0.02


def _pct(x: float) -> str:
    return f"{x:.0%}" if x >= 0.1 else f"{x:.1%}"


def _power_of_two_at_least(n: int) -> int:
    return 1 << max(0, math.ceil(math.log2(max(n, 1))))


def one_replication(what: str, replications: int) -> list[str]:
    """``what`` ran ``replications``; one has no interval."""
    if replications != 1:
        return []
    return [
        f"{what} ran one replication: there is no confidence interval, so no difference or "
        f"level can be told from chance; rerun with --reps {SUGGESTED_REPS} or more."
    ]


# ----------------------------------------------------------------------------- compare


def compare_warnings(comparison: Mapping[str, Any]) -> list[str]:
    """Warnings for a comparison (:func:`loyaltysim.experiment.compare.comparison_data`)."""
    reps = int(comparison.get("replications") or 0)
    if reps == 0:
        return []
    out = one_replication("Each entry", reps)
    reference = comparison.get("reference", "the reference")
    none: list[str] = []
    every: list[str] = []
    for block in comparison.get("differences", []):
        ruin = block.get("metrics", {}).get("ruin")
        if ruin is None or ruin.get("entry_mean") is None or ruin.get("reference_mean") is None:
            continue
        if ruin["entry_mean"] == 0.0 and ruin["reference_mean"] == 0.0:
            none.append(str(block["entry"]))
        elif ruin["entry_mean"] == 1.0 and ruin["reference_mean"] == 1.0:
            every.append(str(block["entry"]))
    if none:
        out.append(
            f"No run of {_names([reference, *none])} went bust in {reps} replications: a ruin "
            "difference of +0.0% there is not a measured zero; it says only that each risk "
            f"is below {_pct(zero_event_bound(reps))} ({CONFIDENCE:.0%} sure). "
            "To know whether a plan's risk is acceptable, run `loyaltysim check` on it, "
            "which adds runs until it can tell."
        )
    if every:
        out.append(
            f"Every run of {_names([reference, *every])} went bust in {reps} replications: a "
            "ruin difference of +0.0% there cannot compare the risks; compare plans under "
            "which the business can survive, or compare when ruin comes."
        )
    return out


def _names(names: Sequence[str], joint: str = "or") -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" {joint} " + quoted[-1]


# ----------------------------------------------------------------------------- sensitivity


def sensitivity_warnings(analysis: Mapping[str, Any], n: int) -> list[str]:
    """Warnings for a sensitivity analysis (:func:`loyaltysim.analysis.sensitivity.
    analyze_outputs`) run with ``n`` base samples (Sobol) or trajectories (Morris)."""
    method = analysis.get("method")
    out: list[str] = []
    out += one_replication("Each design point", int(analysis.get("replications") or 0))
    for output, block in analysis.get("outputs", {}).items():
        ranking = block.get("ranking", [])
        if method == "sobol":
            out += _sobol(output, ranking, n)
        elif method == "morris":
            out += _morris(output, ranking, n)
    return out


def _sobol(output: str, ranking: Sequence[Mapping[str, Any]], n: int) -> list[str]:
    more = max(SOBOL_DEFAULT_N, _power_of_two_at_least(4 * n))
    out = []
    wide = [r for r in ranking if r["drives"] and 2.0 * _f(r["ST_conf"]) > _f(r["ST"])]
    if wide:
        shown = ", ".join(
            f"{r['param']} (ST {_f(r['ST']):.2f} ± {_f(r['ST_conf']):.2f})" for r in wide
        )
        out.append(
            f"{output}: the total-order interval is wider than the index for {shown}, so "
            f'with --n {n} base samples the ranking and the "drives: yes" cannot be '
            f"trusted; rerun with --n {more} (four times the samples halve the interval)."
        )
    over = [r for r in ranking if _f(r["S1"]) - _f(r["ST"]) > S1_OVER_ST_TOLERANCE]
    if over:
        shown = ", ".join(
            f"{r['param']} (S1 {_f(r['S1']):.2f} > ST {_f(r['ST']):.2f})" for r in over
        )
        out.append(
            f"{output}: the first-order index exceeds the total-order one for {shown}, "
            f"which cannot happen in the model (the total contains the first-order effect): "
            f"with --n {n} the estimates are noise; rerun with --n {more}."
        )
    above = [r for r in ranking if _f(r["ST"]) > 1.0 + S1_OVER_ST_TOLERANCE]
    if above:
        shown = ", ".join(f"{r['param']} (ST {_f(r['ST']):.2f})" for r in above)
        out.append(
            f"{output}: a total-order index above 1 for {shown} cannot happen (an index is a "
            f"share of the output's variance): with --n {n} the estimates are noise; rerun "
            f"with --n {more}."
        )
    return out


def _morris(output: str, ranking: Sequence[Mapping[str, Any]], n: int) -> list[str]:
    wide = [r for r in ranking if r["drives"] and 2.0 * _f(r["mu_star_conf"]) > _f(r["mu_star"])]
    if not wide:
        return []
    shown = ", ".join(str(r["param"]) for r in wide)
    return [
        f"{output}: the mu* interval is wider than mu* for {shown}, so with --n {n} "
        f'trajectories the ranking and the "drives: yes" cannot be trusted; rerun with '
        f"--n {4 * n} (four times the trajectories halve the interval)."
    ]


def _f(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return 0.0
    return v if math.isfinite(v) else 0.0


# ----------------------------------------------------------------------------- sweep


def sweep_warnings(rows: Iterable[Mapping[str, float]]) -> list[str]:
    """Warnings for a sweep's rows (one per point, with its ``replications``)."""
    reps = {int(r["replications"]) for r in rows if r.get("replications") == r.get("replications")}
    if reps and min(reps) == 1:
        return [
            f"Each point ran one replication: profit has no interval, and no point can be "
            f"called better than its neighbours; rerun with --reps {SUGGESTED_REPS} or more."
        ]
    return []


# ----------------------------------------------------------------------------- check


def check_warnings(verdicts: Iterable[Any], max_replications: int) -> list[str]:
    """Warnings for the guard's verdicts (:class:`loyaltysim.analysis.guard.PlanVerdict`):
    plans whose ruin risk (or, the risk decided, whose ruin warning's rate) stayed
    UNDECIDED at the cap, one sentence for all of them."""
    open_: list[tuple[str, Any, str]] = []
    for v in verdicts:
        if v.ruin.status == "undecided":
            open_.append((v.variant, v.ruin, "ruin risk"))
        elif v.warning.status == "undecided":
            open_.append((v.variant, v.warning, "ruin-warning rate"))
    if not open_:
        return []
    needs = [d.runs_needed for _, d, _ in open_ if d.runs_needed]
    first = open_[0][1]
    what = " and ".join(sorted({w for _, _, w in open_}))
    advice = (
        f"rerun with --set guard.max_replications={max(needs)}"
        if needs
        else "no number of runs would decide it: the rate seen equals the limit"
    )
    return [
        f"{_names([n for n, _, _ in open_], 'and')}: the {what} could not be told from the "
        f"{_pct(first.limit)} limit in {first.runs} runs (guard.max_replications is "
        f"{max_replications}), so neither safe nor unsafe can be concluded; {advice}."
    ]


# ----------------------------------------------------------------------------- facts


def facts_warnings(facts: Iterable[Any], replications: int) -> list[str]:
    """Warnings for measured stylized facts (:class:`loyaltysim.analysis.facts.Fact`)."""
    out = one_replication("Each fact's experiment", replications)
    if replications == 1:
        return out
    for f in facts:
        if not math.isfinite(f.value):
            out.append(
                f"Fact {f.number} ({f.name}) could not be measured in {replications} "
                f"replications (nothing to measure it on); its verdict means nothing; "
                f"rerun with more --reps or a longer --days."
            )
    return out


__all__ = [
    "SUGGESTED_REPS",
    "check_warnings",
    "compare_warnings",
    "facts_warnings",
    "one_replication",
    "sensitivity_warnings",
    "sweep_warnings",
]
