"""Scenario discovery: PRIM, the patient rule induction method, as EMA Workbench runs it.

Given points ``x`` (one row per run or per sweep point, one column per parameter) and a
binary outcome ``y`` (1 = a *case of interest*, for example a ruined run), PRIM looks for an
axis-aligned box of parameter space in which the cases concentrate (Friedman & Fisher 1999,
"Bump hunting in high-dimensional data", *Statistics and Computing* 9:123-143), as used for
scenario discovery by Bryant & Lempert (2010, *Technological Forecasting & Social Change*
77:34-49) and implemented in the EMA Workbench (Kwakkel 2017, ``ema_workbench.analysis.prim``).

A box is judged by

- **coverage**: the share of all cases of interest that fall in the box,
  ``k_box / k_total``;
- **density**: the share of the box's points that are cases, ``k_box / n_box``;
- **mass**: the share of all points in the box, ``n_box / n``.

The algorithm, step by step as the EMA Workbench does it (our own code, written from its
documented behaviour and checked against its results in the tests):

1. **Peeling.** Start from the box that holds every point. For each parameter, two
   candidates: cut the lowest ``peel_alpha`` share of the box's points along it, or the
   highest. Score each candidate by the *lenient* objective (the gain in the box's mean of
   ``y`` per point removed; Friedman & Fisher's original objective, the new mean, and their
   eq. 14.6 variant are options); take the best (ties: the box restricting fewer
   parameters, then the first in parameter order, upper cut before lower). Stop when no
   candidate improves the mean or the box would hold less than ``mass_min`` of the points.
   Cut points are quantiles in the manner of Bryant's sdtoolkit (:func:`sd_quantile`):
   midway between two distinct data values, so that tied values are never split.
2. **Pasting.** Try to widen each restricted limit again by a ``paste_alpha`` share of the
   points just outside it; accept the best widening that raises the mean, and repeat.
3. Every box visited is a step of the **peeling trajectory**, from coverage 1 and low
   density towards high density and low coverage. The analyst picks a box on it
   (:func:`choose_step`): the widest box reaching a minimum density, or by default the box
   with the best balance of the two (their harmonic mean).
4. **Covering.** The points of the chosen box are set aside and PRIM looks for the next box
   among the rest (EMA's default update; coverage stays relative to all cases).

A box is described by its restricted parameters only
(:func:`loyaltysim.analysis.discovery_words.describe_box`): a parameter
whose limits are still those of the data does not bound the box. For each restricted limit
the quasi-p value of Bryant & Lempert (2010) tells whether it matters: the one-sided
binomial probability of seeing the box's cases if that limit were dropped.

Where we depart from EMA Workbench (on purpose, and said here): every parameter is treated
as real-valued (sweep parameters are numbers; EMA's separate integer peel and categorical
handling are not needed), and the stopping rule for the number of boxes is explicit
(:func:`discover`'s ``max_boxes`` and the choice rule) rather than left to an interactive
session.

Pure: numpy and scipy only; no files, no plotting, no command line. The module is just
over 700 lines because peeling, pasting, the quasi-p values and the covering search share
one box state (:class:`_Prim`) and its invariants; split, each half would reach into the
other's internals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

__all__ = [
    "OBJECTIVES",
    "BoxSearch",
    "BoxStep",
    "Discovery",
    "DiscoveryError",
    "PrimBox",
    "PrimOptions",
    "choose_step",
    "discover",
    "min_points",
    "peel_and_paste",
    "quasi_p_values",
    "sd_quantile",
]


class DiscoveryError(ValueError):
    """Data PRIM cannot work on: shapes that disagree, too few points, no variation."""


# ----------------------------------------------------------------------------- quantile


def sd_quantile(values: np.ndarray, q: float) -> float:
    """The ``q`` quantile as Bryant's sdtoolkit (and so EMA Workbench) takes it for a cut.

    Sort the values, take the two order statistics around position ``(n - 1) q``; while
    they are equal, move the outer one (the lower one for ``q > 0.5``, the upper one
    otherwise) away until they differ, and return their midpoint. A cut therefore falls
    between two distinct values and never splits a tie; when all values are equal it is
    that value.

    Parameters
    ----------
    values : ndarray
        One parameter's values in the box (at least one).
    q : float
        Strictly between 0 and 1.
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"quantile must lie strictly between 0 and 1, got {q}")
    data = np.sort(np.asarray(values, dtype=np.float64))
    position = (data.size - 1) * q
    lo, hi = math.floor(position), math.ceil(position)
    if q > 0.5:
        while data[lo] == data[hi] and lo > 0:
            lo -= 1
    else:
        while data[lo] == data[hi] and hi < data.size - 1:
            hi += 1
    return float((data[lo] + data[hi]) / 2.0)


# ----------------------------------------------------------------------------- objectives


def _lenient1(y_old: np.ndarray, y_new: np.ndarray) -> float:
    """Gain in mean per point removed (or added): EMA Workbench's default objective."""
    mean_old = float(np.mean(y_old))
    mean_new = float(np.mean(y_new)) if y_new.size else 0.0
    if mean_new == mean_old:
        return 0.0
    change = abs(y_old.size - y_new.size)
    if change == 0:  # same points, different mean: cannot happen
        raise AssertionError("the mean changed while the points did not")
    return (mean_new - mean_old) / change


def _lenient2(y_old: np.ndarray, y_new: np.ndarray) -> float:
    """Friedman & Fisher (1999) eq. 14.6: the gain in mean per point removed, times the
    points kept."""
    mean_old = float(np.mean(y_old))
    mean_new = float(np.mean(y_new)) if y_new.size else 0.0
    if mean_new == mean_old:
        return 0.0
    change = abs(y_old.size - y_new.size)
    if change == 0:
        raise AssertionError("the mean changed while the points did not")
    return y_new.size * (mean_new - mean_old) / change


def _original(y_old: np.ndarray, y_new: np.ndarray) -> float:
    """Friedman & Fisher's original objective: the mean in the new box."""
    return float(np.mean(y_new)) if y_new.size else -1.0


OBJECTIVES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "lenient1": _lenient1,
    "lenient2": _lenient2,
    "original": _original,
}


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class PrimOptions:
    """PRIM's settings (EMA Workbench's defaults).

    Attributes
    ----------
    peel_alpha : float
        Share of the box's points cut by one peel, in (0, 0.5).
    paste_alpha : float
        Share of the points outside a limit added back by one paste, in (0, 0.5).
    mass_min : float
        Smallest share of all points a box may hold, in (0, 1).
    objective : str
        ``lenient1`` (default), ``lenient2`` or ``original`` (see :data:`OBJECTIVES`).
    """

    peel_alpha: float = 0.05
    paste_alpha: float = 0.05
    mass_min: float = 0.05
    objective: str = "lenient1"

    def __post_init__(self) -> None:
        for name in ("peel_alpha", "paste_alpha"):
            value = getattr(self, name)
            if not 0.0 < value < 0.5:
                raise ValueError(f"{name} must lie strictly between 0 and 0.5, got {value}")
        if not 0.0 < self.mass_min < 1.0:
            raise ValueError(f"mass_min must lie strictly between 0 and 1, got {self.mass_min}")
        if self.objective not in OBJECTIVES:
            raise ValueError(
                f"unknown objective {self.objective!r}; choose from {', '.join(OBJECTIVES)}"
            )


@dataclass(frozen=True)
class BoxStep:
    """One box on a peeling trajectory.

    ``lower``/``upper`` are the limits of every parameter (a parameter is restricted when
    a limit differs from the data's range); ``n`` points are in the box, ``k`` of them cases
    of interest. ``phase`` is ``start``, ``peel``, ``paste`` or ``drop`` (a restriction
    dropped after the choice, see :func:`discover`).
    """

    index: int
    phase: str
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    n: int
    k: int
    coverage: float
    density: float
    mass: float
    restricted: tuple[int, ...]  # parameter indices, in parameter order

    @property
    def res_dim(self) -> int:
        """How many parameters the box restricts."""
        return len(self.restricted)

    @property
    def f1(self) -> float:
        """Harmonic mean of coverage and density (0 when both are 0)."""
        total = self.coverage + self.density
        return 2.0 * self.coverage * self.density / total if total > 0 else 0.0


@dataclass(frozen=True)
class PrimBox:
    """One box found by PRIM: its whole trajectory and the step chosen on it.

    ``quasi_p`` holds, for each restricted parameter of the chosen step, the quasi-p
    values of its lower and upper limits (``None`` for a limit that is not restricted).
    ``remaining`` and ``remaining_cases`` are the points and cases PRIM searched among.
    ``picked`` is the step the rule chose; ``dropped`` the parameters whose restriction
    was then dropped (each a ``drop`` step after the trajectory; ``chosen`` the last).
    """

    number: int
    trajectory: tuple[BoxStep, ...]
    chosen: int
    rule: str
    quasi_p: dict[int, tuple[float | None, float | None]]
    remaining: int
    remaining_cases: int
    picked: int = -1
    dropped: tuple[int, ...] = ()

    @property
    def step(self) -> BoxStep:
        return self.trajectory[self.chosen]


@dataclass(frozen=True)
class Discovery:
    """The boxes PRIM found, and why it stopped.

    ``lower``/``upper`` are the data's range per parameter (the initial box).
    """

    names: tuple[str, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    n: int
    cases: int
    options: PrimOptions
    boxes: tuple[PrimBox, ...]
    stop_reason: str
    min_density: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base_density(self) -> float:
        """The share of all points that are cases."""
        return self.cases / self.n if self.n else math.nan


# ----------------------------------------------------------------------------- the algorithm


def min_points(options: PrimOptions | None = None) -> int:
    """The fewest points PRIM is run on: ten, and enough that a box of the smallest mass
    allowed still holds a whole point (``max(10, ceil(1 / mass_min))``, 20 by default)."""
    options = options or PrimOptions()
    return max(10, math.ceil(1.0 / options.mass_min - 1e-9))


class _Prim:
    """State of one PRIM search: the data, the initial box and the settings."""

    def __init__(self, x: np.ndarray, y: np.ndarray, options: PrimOptions) -> None:
        self.x = x
        self.y = y
        self.n = y.size
        self.total_cases = int(y.sum())
        self.lo0 = x.min(axis=0)
        self.hi0 = x.max(axis=0)
        self.d = x.shape[1]
        self.options = options
        self.obj = OBJECTIVES[options.objective]

    def restricted(self, lo: np.ndarray, hi: np.ndarray) -> tuple[int, ...]:
        return tuple(int(j) for j in np.flatnonzero((lo != self.lo0) | (hi != self.hi0)))

    def in_box(self, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """The rows (indices into x) inside the box, limits inclusive."""
        xs = self.x[rows]
        inside = np.all((xs >= lo) & (xs <= hi), axis=1)
        return rows[inside]

    def step(self, index: int, phase: str, lo: np.ndarray, hi: np.ndarray, rows: np.ndarray):
        k = int(self.y[rows].sum())
        return BoxStep(
            index=index,
            phase=phase,
            lower=tuple(float(v) for v in lo),
            upper=tuple(float(v) for v in hi),
            n=int(rows.size),
            k=k,
            coverage=k / self.total_cases if self.total_cases else 0.0,
            density=k / rows.size if rows.size else 0.0,
            mass=rows.size / self.n,
            restricted=self.restricted(lo, hi),
        )

    def _better(self, score: tuple[float, int], best: tuple[float, int] | None) -> bool:
        # Strictly better only: on a tie the earlier candidate stays, as a stable sort
        # in descending order (EMA Workbench's) keeps it first.
        return best is None or score > best

    def peel(self, rows: np.ndarray, lo: np.ndarray, hi: np.ndarray):
        """The best single peel of the box holding ``rows``, or None when none helps."""
        alpha = self.options.peel_alpha
        best: tuple[float, int] | None = None
        chosen = None
        y_old = self.y[rows]
        for j in range(self.d):
            xj = self.x[rows, j]
            for upper in (True, False):
                if upper:
                    cut = sd_quantile(xj, 1 - alpha)
                    keep = rows[xj <= cut]
                    new_lo, new_hi = lo, hi.copy()
                    new_hi[j] = cut
                else:
                    cut = sd_quantile(xj, alpha)
                    keep = rows[xj >= cut]
                    new_lo, new_hi = lo.copy(), hi
                    new_lo[j] = cut
                score = (
                    self.obj(y_old, self.y[keep]),
                    self.d - len(self.restricted(new_lo, new_hi)),
                )
                if self._better(score, best):
                    best, chosen = score, (keep, new_lo, new_hi)
        if best is None or chosen is None:
            return None
        keep, new_lo, new_hi = chosen
        mass_new, mass_old = keep.size / self.n, rows.size / self.n
        if mass_new >= self.options.mass_min and mass_new < mass_old and best[0] > 0:
            return chosen
        return None

    def paste(self, rows: np.ndarray, remaining: np.ndarray, lo: np.ndarray, hi: np.ndarray):
        """The best single paste of the box holding ``rows``, or None when none helps."""
        alpha = self.options.paste_alpha
        dims = list(self.restricted(lo, hi))
        if not dims:
            return None
        xr = self.x[remaining][:, dims]
        best: tuple[float, int] | None = None
        chosen = None
        y_old = self.y[rows]
        for j in dims:
            col = dims.index(j)
            for lower in (True, False):
                region_lo, region_hi = lo[dims].copy(), hi[dims].copy()
                if lower:  # the slab between the data's minimum and the lower limit
                    region_lo[col], region_hi[col] = self.lo0[j], lo[j]
                else:
                    region_lo[col], region_hi[col] = hi[j], self.hi0[j]
                inside = np.all((xr >= region_lo) & (xr <= region_hi), axis=1)
                data = xr[inside, col]
                new_lo, new_hi = lo.copy(), hi.copy()
                if lower:
                    new_lo[j] = sd_quantile(data, 1 - alpha) if data.size else self.lo0[j]
                else:
                    new_hi[j] = sd_quantile(data, alpha) if data.size else self.hi0[j]
                box = np.all((xr >= new_lo[dims]) & (xr <= new_hi[dims]), axis=1)
                keep = remaining[box]
                score = (
                    self.obj(y_old, self.y[keep]),
                    self.d - len(self.restricted(new_lo, new_hi)),
                )
                if self._better(score, best):
                    best, chosen = score, (keep, new_lo, new_hi)
        if best is None or chosen is None:
            return None
        keep, new_lo, new_hi = chosen
        mass_new, mass_old = keep.size / self.n, rows.size / self.n
        mean_old = float(np.mean(self.y[rows]))
        mean_new = float(np.mean(self.y[keep])) if keep.size else 0.0
        if (
            mass_new >= self.options.mass_min
            and mass_new > mass_old
            and best[0] > 0
            and mean_new > mean_old
        ):
            return chosen
        return None

    def trajectory(self, remaining: np.ndarray) -> list[BoxStep]:
        """Peel, then paste, from the box holding every remaining point."""
        lo, hi = self.lo0.copy(), self.hi0.copy()
        rows = remaining
        steps = [self.step(0, "start", lo, hi, rows)]
        while (found := self.peel(rows, lo, hi)) is not None:
            rows, lo, hi = found
            steps.append(self.step(len(steps), "peel", lo, hi, rows))
        while (found := self.paste(rows, remaining, lo, hi)) is not None:
            rows, lo, hi = found
            steps.append(self.step(len(steps), "paste", lo, hi, rows))
        return steps


def _check(x: np.ndarray, y: np.ndarray, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise DiscoveryError(f"x must be a table (points x parameters), got shape {x.shape}")
    y_arr = np.asarray(y)
    if y_arr.ndim != 1 or y_arr.size != x.shape[0]:
        raise DiscoveryError(f"y must have one value per point: {y_arr.shape} vs {x.shape}")
    if y_arr.dtype != bool and not np.isin(y_arr, (0, 1)).all():
        raise DiscoveryError("y must be binary: 1 for a case of interest, 0 otherwise")
    if len(names) != x.shape[1]:
        raise DiscoveryError(f"{len(names)} names for {x.shape[1]} parameters")
    if not np.isfinite(x).all():
        raise DiscoveryError("x holds missing or infinite values")
    return x, y_arr.astype(np.float64)


def peel_and_paste(
    x: np.ndarray,
    y: np.ndarray,
    options: PrimOptions | None = None,
    remaining: np.ndarray | None = None,
) -> list[BoxStep]:
    """The peeling (and pasting) trajectory of one PRIM box.

    Parameters
    ----------
    x : ndarray, shape (n, d)
        The points.
    y : ndarray, shape (n,)
        1 (or True) for a case of interest.
    options : PrimOptions, optional
        Peeling and pasting settings (EMA Workbench's defaults).
    remaining : ndarray of int, optional
        Row indices to search among (default: all); coverage stays relative to all cases
        and mass to all points, and the initial box is the range of all points.

    Returns
    -------
    list of BoxStep
        Step 0 is the initial box; peels follow, then pastes.
    """
    x, yf = _check(x, y, [str(j) for j in range(np.asarray(x).shape[1])])
    prim = _Prim(x, yf, options or PrimOptions())
    rows = np.arange(yf.size) if remaining is None else np.asarray(remaining, dtype=np.intp)
    return prim.trajectory(rows)


def quasi_p_values(
    x: np.ndarray,
    y: np.ndarray,
    step: BoxStep,
    remaining: np.ndarray | None = None,
) -> dict[int, tuple[float | None, float | None]]:
    """Quasi-p values of a box's restricted limits (Bryant & Lempert 2010).

    For each restricted limit: drop it (set it back to the data's range), count the points
    ``T_j`` and cases ``H_j`` in the wider box, and return the one-sided binomial
    probability of at least ``k`` cases in ``n`` draws at rate ``H_j / T_j``. A small value
    says the limit matters; a large one (say above 0.05) that it could be dropped.
    """
    from scipy.stats import binomtest

    x, yf = _check(x, y, [str(j) for j in range(np.asarray(x).shape[1])])
    rows = np.arange(yf.size) if remaining is None else np.asarray(remaining, dtype=np.intp)
    lo0, hi0 = x.min(axis=0), x.max(axis=0)
    lo, hi = np.array(step.lower), np.array(step.upper)
    dims = list(step.restricted)
    xr = x[rows][:, dims]
    yr = yf[rows]
    out: dict[int, tuple[float | None, float | None]] = {}
    for col, j in enumerate(dims):
        values: list[float | None] = []
        for side, (limit, bound) in enumerate(((lo[j], lo0[j]), (hi[j], hi0[j]))):
            if limit == bound:
                values.append(None)
                continue
            wide_lo, wide_hi = lo[dims].copy(), hi[dims].copy()
            if side == 0:
                wide_lo[col] = bound
            else:
                wide_hi[col] = bound
            inside = np.all((xr >= wide_lo) & (xr <= wide_hi), axis=1)
            t_j, h_j = int(inside.sum()), float(yr[inside].sum())
            p = h_j / t_j if t_j else 0.0
            values.append(float(binomtest(step.k, step.n, p, alternative="greater").pvalue))
        out[j] = (values[0], values[1])
    return out


# ----------------------------------------------------------------------------- choosing


def choose_step(
    trajectory: Sequence[BoxStep],
    min_density: float | None = None,
    base_density: float | None = None,
) -> tuple[int | None, str]:
    """Pick a box on a trajectory; returns its index (None if none qualifies) and the rule.

    - With ``min_density``: the box of largest coverage among those with at least that
      density (ties: fewer restricted parameters, then the earlier box).
    - Otherwise the box with the largest harmonic mean of coverage and density (the F1
      score of the box read as a classifier of the cases: density is its precision,
      coverage its recall), among boxes that restrict at least one parameter and are
      denser than ``base_density`` (the share of cases among the points searched);
      ties as above.
    """
    candidates = [s for s in trajectory if s.res_dim > 0]
    if min_density is not None:
        ok = [s for s in candidates if s.density >= min_density - 1e-12]
        if not ok:
            return None, f"no box reaches density {min_density:.0%}"
        best = max(ok, key=lambda s: (s.coverage, -s.res_dim, -s.index))
        return best.index, f"chosen as the widest box with density >= {min_density:.0%}"
    if base_density is not None:
        candidates = [s for s in candidates if s.density > base_density + 1e-12]
    if not candidates:
        return None, "no box is denser than the points it was searched among"
    best = max(candidates, key=lambda s: (s.f1, -s.res_dim, -s.index))
    return best.index, "chosen by the best harmonic mean of coverage and density"


# ----------------------------------------------------------------------------- the loop


class BoxSearch(Protocol):
    """What :func:`discover` needs from a PRIM engine: a trajectory among the remaining
    points, and word of the box chosen on it (so an engine that tracks its own covering,
    like EMA Workbench's, can set that box's points aside)."""

    def trajectory(self, remaining: np.ndarray) -> list[BoxStep]: ...

    def chosen(self, index: int, dropped: Sequence[str] = ()) -> None: ...


class _OwnSearch:
    def __init__(self, prim: _Prim) -> None:
        self.prim = prim

    def trajectory(self, remaining: np.ndarray) -> list[BoxStep]:
        return self.prim.trajectory(remaining)

    def chosen(self, index: int, dropped: Sequence[str] = ()) -> None:
        pass  # discover() keeps the remaining points itself


EngineFactory = Callable[[np.ndarray, np.ndarray, Sequence[str], PrimOptions], BoxSearch]


def discover(
    x: np.ndarray,
    y: np.ndarray,
    names: Sequence[str],
    options: PrimOptions | None = None,
    *,
    max_boxes: int = 3,
    min_density: float | None = None,
    significance: float = 0.05,
    drop_above: float | None = 0.05,
    engine: EngineFactory | None = None,
    unit: str = "points",
) -> Discovery:
    """Find up to ``max_boxes`` boxes where the cases of interest concentrate.

    Each box is found among the points no earlier box holds (EMA Workbench's default
    covering); the search stops when ``max_boxes`` are found, no case remains, no box on
    the trajectory qualifies under :func:`choose_step`, or the chosen box is not denser
    than the points it was searched among beyond chance: a one-sided binomial test of its
    ``k`` cases in ``n`` points at the searched points' rate, at level ``significance``.
    That test is a screen against boxes drawn around noise, not an inference: the box
    was chosen to be dense, so its p-value is optimistic.

    Restrictions that do not matter are then dropped, as Bryant & Lempert (2010) advise
    and EMA Workbench's ``PrimBox.drop_restriction`` does by hand: while a restricted limit
    of the chosen box has a quasi-p value above ``drop_above``, the parameter with the
    largest is set back to its whole range (a ``drop`` step on the trajectory), keeping at
    least one restriction.

    Parameters
    ----------
    x, y, names
        Points (n x d), binary outcome (n), and the d parameter names.
    options : PrimOptions, optional
        PRIM's settings.
    max_boxes : int
        At most this many boxes.
    min_density : float, optional
        Choose each box as the widest reaching this density (else the default rule).
    significance : float
        Level of the screen above (0.05); 1 disables it.
    drop_above : float or None
        Quasi-p value above which a restriction is dropped (0.05); None keeps them all.
    engine : callable, optional
        ``(x, y, names, options) -> BoxSearch``: the PRIM implementation (default this
        module's; :func:`loyaltysim.analysis.ema_prim.ema_engine` runs EMA Workbench's).
    unit : str
        What a point is, for the stop reason ("points", "runs").

    Raises
    ------
    DiscoveryError
        For malformed data, or fewer points than :func:`min_points`.
    """
    options = options or PrimOptions()
    x, yf = _check(x, y, names)
    if yf.size < min_points(options):
        raise DiscoveryError(
            f"PRIM needs at least {min_points(options)} points (with mass_min "
            f"{options.mass_min:g}); got {yf.size}"
        )
    if max_boxes < 1:
        raise DiscoveryError(f"max_boxes must be at least 1, got {max_boxes}")
    prim = _Prim(x, yf, options)
    search = _OwnSearch(prim) if engine is None else engine(x, yf, names, options)
    remaining = np.arange(yf.size)
    boxes: list[PrimBox] = []
    stop = f"found the {max_boxes} box(es) asked for"
    while len(boxes) < max_boxes:
        cases_left = int(yf[remaining].sum())
        if cases_left == 0:
            stop = "no case of interest is left outside the boxes found"
            break
        steps = search.trajectory(remaining)
        base = cases_left / remaining.size
        chosen, rule = choose_step(steps, min_density, base)
        if chosen is None:
            stop = rule
            break
        step = steps[chosen]
        picked = chosen
        qp = quasi_p_values(x, yf, step, remaining)
        dropped: list[int] = []
        while drop_above is not None and step.res_dim > 1:
            worst = max(
                ((max(v for v in q if v is not None), j) for j, q in qp.items()),
                default=(0.0, -1),
            )
            if worst[0] <= drop_above:
                break
            j = worst[1]
            lo, hi = np.array(step.lower), np.array(step.upper)
            lo[j], hi[j] = prim.lo0[j], prim.hi0[j]
            step = prim.step(len(steps), "drop", lo, hi, prim.in_box(remaining, lo, hi))
            steps.append(step)
            dropped.append(j)
            chosen = step.index
            qp = quasi_p_values(x, yf, step, remaining)
        p_value = _denser_than_chance(step, base)
        if p_value > significance:
            stop = (
                f"the next box ({_share(step.density)} cases in {step.n} {unit}, against "
                f"{_share(base)} among the {remaining.size} {unit} searched) could be "
                f"chance (binomial p = {p_value:.2g} > {significance:g})"
            )
            break
        search.chosen(picked, [names[j] for j in dropped])
        boxes.append(
            PrimBox(
                len(boxes) + 1,
                tuple(steps),
                chosen,
                rule,
                qp,
                int(remaining.size),
                cases_left,
                picked=picked,
                dropped=tuple(dropped),
            )
        )
        inside = prim.in_box(remaining, np.array(step.lower), np.array(step.upper))
        remaining = np.setdiff1d(remaining, inside, assume_unique=True)
        if remaining.size < 2:
            stop = "too few points are left outside the boxes found"
            break
    return Discovery(
        names=tuple(names),
        lower=tuple(float(v) for v in prim.lo0),
        upper=tuple(float(v) for v in prim.hi0),
        n=int(yf.size),
        cases=prim.total_cases,
        options=options,
        boxes=tuple(boxes),
        stop_reason=stop,
        min_density=min_density,
    )


def _share(x: float) -> str:
    return f"{x:.1%}" if x < 0.1 else f"{x:.0%}"


def _denser_than_chance(step: BoxStep, base: float) -> float:
    """One-sided binomial p-value of ``step.k`` or more cases in ``step.n`` at rate ``base``."""
    from scipy.stats import binomtest

    if base >= 1.0:
        return 1.0
    return float(binomtest(step.k, step.n, base, alternative="greater").pvalue)
