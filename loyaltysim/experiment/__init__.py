"""Experiments: replications, variants, sweeps and the executors that run them."""

from loyaltysim.experiment.executors import (
    DaskExecutor,
    Executor,
    ExecutorError,
    ProcessExecutor,
    SerialExecutor,
    make_executor,
)
from loyaltysim.experiment.runner import Results, Task, resolve_seed, run_experiment, run_task

__all__ = [
    "DaskExecutor",
    "Executor",
    "ExecutorError",
    "ProcessExecutor",
    "Results",
    "SerialExecutor",
    "Task",
    "make_executor",
    "resolve_seed",
    "run_experiment",
    "run_task",
]
