"""The guard's one vocabulary: is a plan's risk of ruin below the limit? SAFE, UNSAFE or
UNDECIDED, and how sure.

:func:`decide_risk` is the only place that turns "k of n runs were ruined" into a verdict;
``run``, ``check``, ``frontier``, ``sweep`` and ``compare`` all call it.

The rule
--------
The risk is a binomial proportion ``p`` (each replication is an independent draw: separate
random streams). With ``k`` events in ``n`` runs, the exact one-sided Clopper-Pearson
bounds (Clopper & Pearson 1934) at level ``1 - a`` are::

    upper = Beta(1 - a; k + 1, n - k)   (1 when k = n)
    lower = Beta(a; k, n - k + 1)       (0 when k = 0)

and the verdict against the limit ``t`` is **SAFE** when ``upper < t``, **UNSAFE** when
``lower > t``, otherwise **UNDECIDED**. Clopper-Pearson rather than Wilson because it is
exact (its coverage is at least the nominal level for every ``p`` and ``n``), which is what
a claim of "95% sure" needs at the small ``k`` a guard lives with.

Repeated looks. ``check`` adds replications until the verdict is decided, which means
looking at the data several times; a bound that is 95% at each look is not 95% over all of
them. The looks are planned in advance (``check``: doubling from the first batch up to
``guard.max_replications``, :func:`look_schedule`), so with ``K`` looks each one uses
``a = (1 - confidence) / K``. By the union bound (Bonferroni), the probability of *ever*
calling a plan SAFE whose risk is at or above the limit is at most
``K * a = 1 - confidence``, and likewise for UNSAFE below it: each verdict is right with
probability at least ``confidence`` however the looks fall. This is conservative (the
looks are positively correlated), the price of a rule that is exact, simple and stated;
a group-sequential alpha-spending design would need fewer runs near the limit. A single
look (``run``, ``frontier``, ``sweep``, ``compare``) is ``K = 1``.

For an UNDECIDED plan, :func:`runs_to_decide` gives the number of runs that would decide
it if the rate seen so far held (``None`` when it equals the limit: no number would).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

# Beta quantiles from scipy.special: the same numbers as scipy.stats.beta.ppf (both are
# Boost's inverse incomplete beta), without importing scipy.stats at every run's start.
from scipy.special import betaincinv

SAFE, UNSAFE, UNDECIDED = "safe", "unsafe", "undecided"
CONFIDENCE = 0.95


def one_sided_bounds(events: int, runs: int, alpha: float) -> tuple[float, float]:
    """Exact (Clopper-Pearson) one-sided bounds ``(lower, upper)`` of a proportion, each at
    level ``1 - alpha``; ``(0, 1)`` with no runs."""
    if runs <= 0:
        return 0.0, 1.0
    if not 0 <= events <= runs:
        raise ValueError(f"events must lie in [0, runs]; got {events} of {runs}")
    lower = 0.0 if events == 0 else float(betaincinv(events, runs - events + 1, alpha))
    upper = 1.0 if events == runs else float(betaincinv(events + 1, runs - events, 1 - alpha))
    return lower, upper


def look_schedule(first: int, cap: int) -> list[int]:
    """Planned looks of a sequential check: ``first``, doubling, and ``cap`` last."""
    first = max(1, min(first, cap))
    looks = [first]
    while looks[-1] < cap:
        looks.append(min(2 * looks[-1], cap))
    return looks


def risk_status(
    events: int, runs: int, limit: float, *, confidence: float = CONFIDENCE, looks: int = 1
) -> str:
    """:func:`decide_risk`'s status alone (cheap: no search for the runs needed)."""
    return _status(events, runs, limit, (1.0 - confidence) / looks)


def _status(events: int, runs: int, limit: float, alpha: float) -> str:
    lower, upper = one_sided_bounds(events, runs, alpha)
    if upper < limit:
        return SAFE
    if lower > limit:
        return UNSAFE
    return UNDECIDED


def runs_to_decide(events: int, runs: int, limit: float, alpha: float) -> int | None:
    """Runs that would decide the verdict if the rate seen so far (``events / runs``; 0
    with no runs) held: the smallest ``m >= runs`` at which the bounds clear ``limit``."""
    rate = events / runs if runs else 0.0
    if rate == limit:
        return None

    def decided(m: int) -> bool:
        return _status(round(rate * m), m, limit, alpha) != UNDECIDED

    lo, hi = max(runs, 1), max(runs, 1)
    while not decided(hi):
        lo, hi = hi, hi * 2
        if hi > 10**9:
            return None
    while lo < hi:  # the smallest decided m in (lo, hi]; rounding makes it near-monotone
        mid = (lo + hi) // 2
        if decided(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi


def _pct(x: float) -> str:
    """A share in words: one decimal below 10%, none above."""
    if x < 0.10:
        return f"{x:.1%}"
    return f"{x:.0%}"


def _counts(events: int, runs: int, event: str) -> str:
    if events == 0:
        return f"no {event} in {runs} runs"
    return f"{event} in {events} of {runs} runs"


def _short(events: int, runs: int, lower: float, upper: float, event: str) -> str:
    if events == 0:
        return f"{_counts(events, runs, event)} (risk below {_pct(upper)})"
    if events == runs:
        return f"{_counts(events, runs, event)} (risk above {_pct(lower)})"
    return f"{_counts(events, runs, event)} (risk {_pct(lower)} to {_pct(upper)})"


def describe_risk(
    events: int, runs: int, *, confidence: float = CONFIDENCE, event: str = "ruin"
) -> str:
    """What ``events`` in ``runs`` show, without a verdict (no limit is needed):
    ``no ruin in 30 runs (risk below 9.5%)``, the bounds one-sided at ``confidence``."""
    lower, upper = one_sided_bounds(events, runs, 1.0 - confidence)
    return _short(events, runs, lower, upper, event)


@dataclass(frozen=True)
class RiskDecision:
    """The verdict on one risk (of ruin, or of a warning), with what it rests on.

    ``lower`` and ``upper`` are the one-sided bounds at the per-look level; ``confidence``
    is how sure the verdict is over all ``looks``.
    """

    status: str  # safe | unsafe | undecided
    events: int
    runs: int
    limit: float
    lower: float
    upper: float
    confidence: float
    looks: int
    runs_needed: int | None
    event: str = "ruin"

    @property
    def label(self) -> str:
        """SAFE, UNSAFE or UNDECIDED."""
        return self.status.upper()

    def counts(self) -> str:
        """``no ruin in 30 runs`` or ``ruin in 3 of 30 runs``, without a verdict."""
        return _counts(self.events, self.runs, self.event)

    def short(self) -> str:
        """What the runs show, without a verdict: the run table's cell, e.g.
        ``no ruin in 30 runs (risk below 9.5%)``."""
        return _short(self.events, self.runs, self.lower, self.upper, self.event)

    def sentence(self) -> str:
        """The verdict in words, with how sure and why."""
        sure = f"{self.confidence:.0%} sure"
        limit = f"the {_pct(self.limit)} limit"
        what = "ruin risk" if self.event == "ruin" else f"risk of a {self.event}"
        if self.status == SAFE:
            return (
                f"SAFE ({sure}): {self.counts()}; the {what} is below {_pct(self.upper)}, "
                f"under {limit}."
            )
        if self.status == UNSAFE:
            return (
                f"UNSAFE ({sure}): {self.counts()}; the {what} is above {_pct(self.lower)}, "
                f"over {limit}."
            )
        need = (
            f"about {self.runs_needed:,} runs would decide it if the rate seen so far held"
            if self.runs_needed
            else "no number of runs would decide it: the rate seen equals the limit"
        )
        return (
            f"UNDECIDED: {self.counts()}; the {what} lies between {_pct(self.lower)} and "
            f"{_pct(self.upper)}, which includes {limit}; {need}."
        )

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["text"] = self.sentence()
        out["short"] = self.short()
        return out


def decide_risk(
    events: int,
    runs: int,
    limit: float,
    *,
    confidence: float = CONFIDENCE,
    looks: int = 1,
    event: str = "ruin",
) -> RiskDecision:
    """SAFE, UNSAFE or UNDECIDED: is the risk of ``event`` below ``limit``?

    Parameters
    ----------
    events, runs : int
        Replications in which the event happened, and replications run.
    limit : float
        The largest acceptable probability, on (0, 1) (``guard.max_ruin_probability``).
    confidence : float
        How sure each verdict must be over all looks (per side), a fraction.
    looks : int
        Planned looks of a sequential design (1 for a single look); each look uses
        ``(1 - confidence) / looks`` (Bonferroni; see the module docstring).
    event : str
        What is counted, for the words ("ruin", "ruin warning").
    """
    if not 0.0 < limit < 1.0:
        raise ValueError(f"limit must lie in (0, 1); got {limit}")
    if not 0.0 < confidence < 1.0 or looks < 1:
        raise ValueError(f"need 0 < confidence < 1 and looks >= 1; got {confidence}, {looks}")
    alpha = (1.0 - confidence) / looks
    lower, upper = one_sided_bounds(events, runs, alpha)
    status = _status(events, runs, limit, alpha)
    needed = None if status != UNDECIDED else runs_to_decide(events, runs, limit, alpha)
    return RiskDecision(
        status=status,
        events=events,
        runs=runs,
        limit=limit,
        lower=lower,
        upper=upper,
        confidence=confidence,
        looks=looks,
        runs_needed=needed,
        event=event,
    )


def zero_event_runs(limit: float, confidence: float = CONFIDENCE, looks: int = 1) -> int:
    """Runs without an event that show a risk below ``limit``: ``1 - a^(1/n) < limit``."""
    alpha = (1.0 - confidence) / looks
    n = max(1, math.floor(math.log(alpha) / math.log(1.0 - limit)) + 1)
    while _status(0, n, limit, alpha) != SAFE:
        n += 1
    return n
