"""loyaltysim: agent-based simulation of discount and loyalty programs.

The Python API for researchers::

    import loyaltysim

    scenario = loyaltysim.load_scenario("scenarios/cafe.toml", {"discount.rate": 0.1})
    results = loyaltysim.run(scenario, replications=10, workers=2)
    summary = results.summary()        # the summary.json content, plain Python
    series = results.timeseries()      # variant -> series -> array (replications, days)
    frame = results.to_frame("customers")  # pandas: one row per customer, with RFM columns
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loyaltysim.scenario import Scenario, ScenarioError, load_scenario

if TYPE_CHECKING:
    from loyaltysim.experiment import Results

__version__ = "0.1.0"


def run(
    scenario: Scenario,
    replications: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    customers: bool | None = None,
) -> Results:
    """Simulate the base scenario and every variant; nothing is written to disk.

    The numbers are those ``loyaltysim run`` writes for the same scenario and seed (a
    scenario without a seed gets a fresh one, recorded in ``results.seed``).
    ``results.to_frame(name)`` gives each table as a pandas DataFrame. The per-customer
    table (``customers``) is kept up to
    :data:`~loyaltysim.workflows.run.CUSTOMER_ROWS_LIMIT` rows; ``customers=True`` keeps it
    whatever its size, ``customers=False`` never (``results.customers_note`` says why it
    was left out).
    """
    from loyaltysim.workflows.run import run_job

    if replications is not None:
        if replications < 1:
            raise ValueError("replications must be at least 1")
        meta = scenario.scenario.model_copy(update={"replications": replications})
        scenario = scenario.model_copy(update={"scenario": meta})
    return run_job(
        scenario, workers=workers, scheduler=scheduler, write_files=False, customers=customers
    ).results


def __getattr__(name: str) -> Any:
    """``loyaltysim.Results`` on first use: the experiment layer pulls in SimPy and SciPy,
    which the command line's ``--help`` and ``validate`` do not need (PEP 562)."""
    if name == "Results":
        from loyaltysim.experiment import Results

        return Results
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Results", "Scenario", "ScenarioError", "__version__", "load_scenario", "run"]
