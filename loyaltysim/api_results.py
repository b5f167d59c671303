"""The objects the functions of :mod:`loyaltysim.api` return (besides the layers' own
:class:`~loyaltysim.experiment.Results`, :class:`~loyaltysim.workflows.check.CheckResult`,
:class:`~loyaltysim.experiment.frontier.FrontierResult` and
:class:`~loyaltysim.workflows.facts.FactsOutcome`): each with ``to_frame()``."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loyaltysim.api_support import frame

if TYPE_CHECKING:
    import pandas as pd

    from loyaltysim.experiment import Results
    from loyaltysim.scenario import Scenario
    from loyaltysim.workflows.calibrate import Calibration


@dataclass
class Comparison:
    """What :func:`compare` found: every entry's paired difference from the reference.

    ``comparison`` is ``comparison.json`` (plain data); ``to_frame()`` its rows, one per
    entry x metric (the columns of ``comparison.csv``); ``results.to_frame(name)`` the
    runs' tables. ``sample_warnings`` says what this sample cannot support.
    """

    comparison: dict[str, Any]
    summary: dict[str, Any]
    results: Results
    status: str
    run_dir: Path | None = None
    sample_warnings: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return str(self.comparison.get("reference"))

    def as_dict(self) -> dict[str, Any]:
        return self.comparison

    def to_frame(self) -> pd.DataFrame:
        """One row per entry x metric: difference, paired and unpaired 95% intervals."""
        import pandas as pd

        from loyaltysim.experiment.compare import COMPARISON_COLUMNS, comparison_csv

        if not self.comparison:
            return pd.DataFrame(columns=list(COMPARISON_COLUMNS))
        return pd.read_csv(io.StringIO(comparison_csv(self.comparison)))


def param_texts(params: Mapping[str, Any] | Sequence[str] | str) -> list[str]:
    """``{"discount.rate": (0, 0.3, 0.05)}``, ``{"k": "0:0.3:0.05"}``, ``{"k": [1, 2]}`` or
    ``["k=0:0.3:0.05"]`` as the command line's ``--param`` texts."""
    if isinstance(params, str):
        return [params]
    if not isinstance(params, Mapping):
        return [str(p) for p in params]
    out = []
    for key, spec in params.items():
        if isinstance(spec, str):
            out.append(f"{key}={spec}")
        elif isinstance(spec, tuple):
            out.append(
                f"{key}=" + ":".join(repr(v) if isinstance(v, float) else str(v) for v in spec)
            )
        else:
            out.append(
                f"{key}=" + ",".join(repr(v) if isinstance(v, float) else str(v) for v in spec)
            )
    return out


def parsed_params(params: Any) -> list[Any]:
    from loyaltysim.experiment.sweep import parse_param

    return [parse_param(p) for p in param_texts(params)]


@dataclass
class Sweep:
    """The rows of :func:`sweep` (one per point, in point order) and how it ran.

    ``to_frame()`` has the columns of ``sweep.csv``: ``point``, each parameter, then
    ``replications``, ``ruined``, ``ruin_probability`` (with its interval) and the mean and
    95% interval of every metric (``profit_mean``, ``profit_ci_lo``, ...).
    """

    rows: list[dict[str, float]]
    params: list[dict[str, Any]]
    seed: int
    status: str
    columns: list[str]
    run_dir: Path | None = None
    sample_warnings: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows, columns=self.columns)


@dataclass
class Sensitivity:
    """The indices of :func:`sensitivity`: ``analysis`` is ``sensitivity.json`` (plain
    data); ``to_frame()`` one row per output x parameter (the columns of ``indices.csv``),
    ``to_frame("samples")`` the design's points and their outputs."""

    analysis: dict[str, Any]
    rows: list[dict[str, float]]
    status: str
    run_dir: Path | None = None
    sample_warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.analysis

    def to_frame(self, name: str = "indices") -> pd.DataFrame:
        import pandas as pd

        from loyaltysim.analysis.sensitivity import indices_csv

        if name == "samples":
            return pd.DataFrame(self.rows)
        if name != "indices":
            raise KeyError(f"unknown table {name!r}; the tables are: indices, samples")
        if not self.analysis:
            return pd.DataFrame()
        return pd.read_csv(io.StringIO(indices_csv(self.analysis)))


@dataclass
class CalibrationResult:
    """A fitted calibration (:func:`calibrate`): ``payload`` is ``calibrate --json``,
    ``scenario`` the calibrated scenario (run it with :func:`run`), ``scenario_text`` its
    commented TOML, ``to_frame()`` the log's customers as the fit saw them (frequency,
    recency and T in weeks, monetary_value). ``calibration`` is the full
    :class:`~loyaltysim.workflows.calibrate.Calibration`."""

    calibration: Calibration

    @property
    def payload(self) -> dict[str, Any]:
        return self.calibration.payload

    @property
    def scenario(self) -> Scenario:
        return self.calibration.scenario

    @property
    def scenario_text(self) -> str:
        return self.calibration.scenario_text

    @property
    def folder(self) -> Path | None:
        return self.calibration.folder

    def as_dict(self) -> dict[str, Any]:
        return self.payload

    def to_frame(self) -> pd.DataFrame:
        s = self.calibration.summary
        columns: dict[str, Any] = {
            "customer": s.ids,
            "frequency": s.frequency,
            "recency": s.recency,
            "T": s.T,
            "monetary_value": s.monetary,
        }
        if s.holdout is not None:
            columns["holdout"] = s.holdout
        return frame(columns)
