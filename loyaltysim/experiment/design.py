"""Designs of a sweep: the swept parameters, and the points of a grid or a Latin hypercube.

A :class:`Param` is a dotted scenario key with a range ``LO:HI:STEP`` or a list of values;
a :class:`Point` is one setting of every parameter. Pure: nothing here runs a simulation
or touches a file.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from loyaltysim.analysis.metrics import METRIC_NAMES
from loyaltysim.scenario import Scenario

# Metrics every sweep row carries (mean and 95% interval over the point's replications).
SWEEP_METRICS: tuple[str, ...] = (
    "profit",
    "revenue",
    "discount_cost",
    "customers_end",
    "churned",
    "churn_rate_annual",
    "cash_end",
    "cash_min",
    "mean_satisfaction_end",
)


RUIN_COLUMNS: tuple[str, ...] = ("ruined", "ruin_probability", "ruin_ci_lo", "ruin_ci_hi")


RUIN_METRIC = "ruin_probability"  # a row column usable as an output, like "profit"


OUTPUT_METRICS: tuple[str, ...] = (*METRIC_NAMES, RUIN_METRIC)


MAX_POINTS = 1_000_000


LEVEL = 0.95


# spawn_key of the design's random stream (LHS, SALib samplers): a one-element key can never
# equal a replication's (replication, stream) key, so the design is independent of the runs.
DESIGN_STREAM = (0xD5,)


class SweepError(ValueError):
    """A sweep that cannot start as asked: a malformed ``--param``, an empty design, or a
    ``--resume`` of a folder holding a different sweep. Usage errors, not failures."""


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


_RANGE = re.compile(rf"^\s*({_NUMBER})\s*:\s*({_NUMBER})\s*(?::\s*({_NUMBER})\s*)?$")


@dataclass(frozen=True)
class Param:
    """One swept parameter: a dotted scenario key and its range.

    ``KEY=LO:HI:STEP`` gives the grid ``LO, LO+STEP, ... <= HI``; ``KEY=LO:HI`` a range
    to sample (Latin hypercube, sensitivity designs); ``KEY=V1,V2,...`` an explicit list
    of grid values. ``integer`` parameters (counts, days) are rounded to whole numbers.
    """

    key: str
    lo: float
    hi: float
    step: float | None = None
    values: tuple[float, ...] | None = None
    integer: bool = False

    def grid(self) -> list[float]:
        """The grid values, ascending (an explicit list keeps its given order)."""
        if self.values is not None:
            return [self.snap(v) for v in self.values]
        if self.step is None:
            raise SweepError(
                f"{self.key}: a grid needs a step, KEY=LO:HI:STEP (or use --sample lhs)"
            )
        count = math.floor((self.hi - self.lo) / self.step + 1e-9) + 1
        if count > MAX_POINTS:
            raise SweepError(f"{self.key}: {count:,} grid values; that is too many")
        out: list[float] = []
        for i in range(count):
            v = self.snap(self.lo + i * self.step)
            if not out or v != out[-1]:  # integer rounding can merge neighbours
                out.append(v)
        return out

    def scale(self, unit: np.ndarray) -> np.ndarray:
        """Map values on [0, 1] to [lo, hi] (rounded for an integer parameter)."""
        x = self.lo + np.asarray(unit, dtype=np.float64) * (self.hi - self.lo)
        return np.array([self.snap(v) for v in x.tolist()], dtype=np.float64)

    def text(self, value: float) -> str:
        """``value`` as a TOML literal for an override (exact: ``repr`` round-trips)."""
        return str(int(value)) if self.integer else repr(float(value))

    def snap(self, value: float) -> float:
        """``value`` as the parameter takes it (whole for an integer parameter)."""
        if self.integer:
            return float(round(value))
        # 0.1 + 2 * 0.1 is 0.30000000000000004; 12 significant digits is 0.3.
        return float(f"{value:.12g}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "lo": self.lo,
            "hi": self.hi,
            "step": self.step,
            "values": list(self.values) if self.values is not None else None,
            "integer": self.integer,
        }


def parse_param(text: str) -> Param:
    """Parse ``KEY=LO:HI[:STEP]`` or ``KEY=V1,V2,...`` (see :class:`Param`).

    Raises
    ------
    SweepError
        With what is wrong and what was expected.
    """
    key, sep, spec = text.partition("=")
    key = key.strip()
    if not sep or not key or any(not part.strip() for part in key.split(".")):
        raise SweepError(f"expected KEY=LO:HI:STEP or KEY=LO:HI, got {text!r}")
    if "," in spec:
        parts = [p.strip() for p in spec.split(",") if p.strip()]
        try:
            values = tuple(float(p) for p in parts)
        except ValueError:
            raise SweepError(f"{key}: values must be numbers, got {spec!r}") from None
        if not values or not all(math.isfinite(v) for v in values):
            raise SweepError(f"{key}: expected finite numbers, got {spec!r}")
        if len(set(values)) != len(values):
            raise SweepError(f"{key}: repeated values in {spec!r}")
        return Param(key, min(values), max(values), None, values)
    match = _RANGE.match(spec)
    if not match:
        raise SweepError(
            f"{key}: expected LO:HI:STEP (grid) or LO:HI (sampling), e.g. "
            f"{key}=0:0.3:0.05; got {spec!r}"
        )
    lo, hi = float(match[1]), float(match[2])
    step = float(match[3]) if match[3] is not None else None
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        raise SweepError(f"{key}: need LO <= HI, got {spec!r}")
    if step is not None and not (math.isfinite(step) and step > 0):
        raise SweepError(f"{key}: STEP must be positive, got {spec!r}")
    return Param(key, lo, hi, step, None)


def _lookup(data: Any, key: str) -> Any:
    node = data
    for part in key.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list | tuple) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise KeyError(key)
    return node


def typed_params(params: Sequence[Param], scenario: Scenario) -> list[Param]:
    """Mark parameters integer when the scenario holds an integer at their key
    (``customers.initial``, ``scenario.horizon_days``); the rest are real-valued.

    Raises
    ------
    SweepError
        When a key is given twice, or the scenario holds something else than a number.
    """
    data = scenario.model_dump(mode="python")
    keys = [p.key for p in params]
    if len(set(keys)) != len(keys):
        raise SweepError(f"a parameter is given twice: {keys}")
    out = []
    for p in params:
        try:
            current = _lookup(data, p.key)
        except KeyError:
            out.append(p)
            continue
        integer = isinstance(current, int) and not isinstance(current, bool)
        if isinstance(current, bool) or not isinstance(current, int | float):
            raise SweepError(f"{p.key} is not a number in the scenario ({current!r})")
        out.append(Param(p.key, p.lo, p.hi, p.step, p.values, integer))
    return out


@dataclass(frozen=True)
class Point:
    """One setting of the swept parameters, ``values`` in parameter order."""

    index: int
    values: tuple[float, ...]


def grid_points(params: Sequence[Param]) -> list[Point]:
    """Every combination of the parameters' grids (the last parameter varies fastest)."""
    if not params:
        raise SweepError("give at least one --param KEY=LO:HI:STEP")
    grids = [p.grid() for p in params]
    total = math.prod(len(g) for g in grids)
    if total > MAX_POINTS:
        raise SweepError(f"the grid has {total:,} points; at most {MAX_POINTS:,}")
    return [Point(i, tuple(v)) for i, v in enumerate(itertools.product(*grids))]


def design_rng(root_seed: int) -> np.random.Generator:
    """The generator of a sweep's design, derived from the root seed (reproducible)."""
    seq = np.random.SeedSequence(root_seed, spawn_key=DESIGN_STREAM)
    return np.random.Generator(np.random.PCG64(seq))


def lhs_points(params: Sequence[Param], n: int, seed: int) -> list[Point]:
    """``n`` points of a Latin hypercube over the parameters' ranges.

    Each parameter's range is cut into ``n`` equal strata with exactly one point in each
    (McKay, Beckman & Conover 1979), via :class:`scipy.stats.qmc.LatinHypercube`; the same
    ``seed`` gives the same points.
    """
    from scipy.stats import qmc

    if not params:
        raise SweepError("give at least one --param KEY=LO:HI")
    if n < 1 or n > MAX_POINTS:
        raise SweepError(f"--n must be between 1 and {MAX_POINTS:,}, got {n}")
    rng = design_rng(seed)
    try:
        sampler = qmc.LatinHypercube(d=len(params), rng=rng)
    except TypeError:  # scipy < 1.15 calls it seed
        sampler = qmc.LatinHypercube(d=len(params), seed=rng)
    unit = sampler.random(n)
    columns = [p.scale(unit[:, j]) for j, p in enumerate(params)]
    return [Point(i, tuple(float(c[i]) for c in columns)) for i in range(n)]


def point_overrides(params: Sequence[Param], point: Point) -> list[str]:
    """The ``--set`` overrides of a point."""
    return [f"{p.key}={p.text(v)}" for p, v in zip(params, point.values, strict=True)]


SAMPLES = ("grid", "lhs")
