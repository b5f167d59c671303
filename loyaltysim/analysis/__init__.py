"""Analysis of replications: confidence intervals, paired comparisons, ruin, break-even.

Pure functions of :class:`~loyaltysim.model.result.RunResult` data and the scenario; nothing
here writes files or draws (see :mod:`loyaltysim.output.folder`, :mod:`loyaltysim.output.charts`).
"""

from loyaltysim.analysis.metrics import (
    METRIC_NAMES,
    METRICS,
    SATISFIED_THRESHOLD,
    MetricInfo,
    daily_profit,
    metric_arrays,
    run_metrics,
)
from loyaltysim.analysis.stats import (
    PairedDifference,
    mean_ci,
    paired_difference,
    reps_to_resolve,
    welch_interval,
    wilson_interval,
)
from loyaltysim.analysis.summary import SCHEMA_VERSION, dumps, json_safe, summarize

__all__ = [
    "METRICS",
    "METRIC_NAMES",
    "SATISFIED_THRESHOLD",
    "SCHEMA_VERSION",
    "MetricInfo",
    "PairedDifference",
    "daily_profit",
    "dumps",
    "json_safe",
    "mean_ci",
    "metric_arrays",
    "paired_difference",
    "reps_to_resolve",
    "run_metrics",
    "summarize",
    "welch_interval",
    "wilson_interval",
]
