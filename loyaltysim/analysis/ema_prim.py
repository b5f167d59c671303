"""EMA Workbench's PRIM as an engine of :func:`loyaltysim.analysis.discovery.discover`.

Optional: needs the ``[ema]`` extra (``pip install 'loyaltysim[ema]'``, which brings
``ema_workbench`` and with it pandas, scikit-learn, statsmodels, seaborn and platypus).
The default engine is loyaltysim's own implementation, which reproduces this one's
trajectories exactly (the tests compare them where EMA Workbench is installed); this
module lets a user run the reference implementation itself on the same data.

The trajectory comes from ``ema_workbench.analysis.prim.Prim.find_box``; the box chosen
on it is handed back with ``PrimBox.select``, so that EMA Workbench's own covering sets
its points aside before the next box. Versions before 3 require a ``threshold`` on the
outcome; for a binary outcome any threshold in (0, 1] counts the cases right, and a tiny
one keeps ``find_box`` from discarding a box whose density is below it.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np

from loyaltysim.analysis.discovery import BoxStep, PrimOptions

try:  # the [ema] extra
    import ema_workbench
except ImportError:  # pragma: no cover - depends on the environment
    ema_workbench = None

__all__ = ["EXTRA_HINT", "MissingEMA", "ema_engine", "ema_version", "require_ema"]

EXTRA_HINT = "pip install 'loyaltysim[ema]'"
TINY_THRESHOLD = 1e-9


class MissingEMA(RuntimeError):
    """EMA Workbench is not installed (the ``[ema]`` extra)."""


def require_ema() -> Any:
    """The ``ema_workbench`` module, or :class:`MissingEMA` naming the extra."""
    if ema_workbench is None:
        raise MissingEMA(f"this needs EMA Workbench, the [ema] extra: {EXTRA_HINT}")
    return ema_workbench


def ema_version() -> str | None:
    """The installed EMA Workbench version, or None."""
    return None if ema_workbench is None else str(ema_workbench.__version__)


class _EmaSearch:
    """A :class:`~loyaltysim.analysis.discovery.BoxSearch` backed by EMA Workbench."""

    def __init__(
        self, x: np.ndarray, y: np.ndarray, names: Sequence[str], options: PrimOptions
    ) -> None:
        require_ema()
        import pandas as pd
        from ema_workbench.analysis import prim
        from ema_workbench.analysis.prim_util import PRIMObjectiveFunctions

        objective = {
            "lenient1": PRIMObjectiveFunctions.LENIENT1,
            "lenient2": PRIMObjectiveFunctions.LENIENT2,
            "original": PRIMObjectiveFunctions.ORIGINAL,
        }[options.objective]
        kwargs: dict[str, Any] = {
            "obj_function": objective,
            "peel_alpha": options.peel_alpha,
            "paste_alpha": options.paste_alpha,
            "mass_min": options.mass_min,
        }
        if "threshold" in inspect.signature(prim.Prim.__init__).parameters:
            kwargs["threshold"] = TINY_THRESHOLD
        frame = pd.DataFrame(np.asarray(x, dtype=np.float64), columns=list(names))
        self.names = list(names)
        self.lo0 = frame.min().to_numpy()
        self.hi0 = frame.max().to_numpy()
        self.alg = prim.Prim(frame, np.asarray(y).astype(int), **kwargs)
        self.box: Any = None

    def trajectory(self, remaining: np.ndarray) -> list[BoxStep]:
        box = self.alg.find_box()
        if box is None:
            return []
        if int(self.alg.yi_remaining.size) != int(remaining.size):  # pragma: no cover
            # a change in EMA Workbench's covering
            raise RuntimeError("EMA Workbench searched among other points than loyaltysim")
        self.box = box
        table = box.peeling_trajectory
        steps = []
        previous_mass = None
        for i in range(len(table)):
            limits = box.box_lims[i][self.names].to_numpy(dtype=np.float64)
            lo, hi = limits[0], limits[1]
            mass = float(table["mass"].iloc[i])
            if previous_mass is None:
                phase = "start"
            else:
                phase = "peel" if mass < previous_mass else "paste"
            previous_mass = mass
            restricted = tuple(int(j) for j in np.flatnonzero((lo != self.lo0) | (hi != self.hi0)))
            steps.append(
                BoxStep(
                    index=i,
                    phase=phase,
                    lower=tuple(float(v) for v in lo),
                    upper=tuple(float(v) for v in hi),
                    n=int(table["n"].iloc[i]),
                    k=int(table["k"].iloc[i]),
                    coverage=float(table["coverage"].iloc[i]),
                    density=float(table["density"].iloc[i]),
                    mass=mass,
                    restricted=restricted,
                )
            )
        return steps

    def chosen(self, index: int, dropped: Sequence[str] = ()) -> None:
        if self.box is not None:
            self.box.select(index)
            for name in dropped:  # each appends a step, as loyaltysim's own drop does
                self.box.drop_restriction(name)


def ema_engine(
    x: np.ndarray, y: np.ndarray, names: Sequence[str], options: PrimOptions
) -> _EmaSearch:
    """The engine factory for :func:`~loyaltysim.analysis.discovery.discover`."""
    return _EmaSearch(x, y, names, options)
