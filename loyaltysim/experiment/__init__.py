"""Experiments: replications, variants, designs and the executors that run them.

This layer returns data and writes nothing: the jobs that fill results folders and draw
are in :mod:`loyaltysim.workflows`.
"""

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
