"""loyaltysim: agent-based simulation of discount and loyalty programs.

The Python API for researchers (:mod:`loyaltysim.api`; every command of the command line
as a function, each result with ``.to_frame()``)::

    import loyaltysim

    cafe = loyaltysim.load_scenario("scenarios/cafe.toml", {"discount.rate": 0.1})
    results = loyaltysim.run(cafe, replications=10, workers=2, progress=True)
    results.to_frame("customers")      # pandas: one row per customer, with RFM columns
    results.summary()                  # the summary.json content, plain Python
    loyaltysim.compare(cafe, replications=10).to_frame()   # paired differences

    # also: sweep, sensitivity, check, frontier, facts, calibrate

Nothing is written to disk unless a call is given ``output=DIR``. The names are imported
lazily: ``import loyaltysim`` loads none of the simulation until a function is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loyaltysim.lazy_names import lazy_names

__version__ = "0.1.0"

if TYPE_CHECKING:
    from loyaltysim.api import (
        calibrate,
        check,
        compare,
        facts,
        frontier,
        load_scenario,
        run,
        sensitivity,
        sweep,
    )
    from loyaltysim.experiment import Results
    from loyaltysim.scenario import Scenario, ScenarioError

# name -> the module that defines it (imported on first use).
_LAZY = {
    "calibrate": "loyaltysim.api",
    "check": "loyaltysim.api",
    "compare": "loyaltysim.api",
    "facts": "loyaltysim.api",
    "frontier": "loyaltysim.api",
    "load_scenario": "loyaltysim.api",
    "run": "loyaltysim.api",
    "sensitivity": "loyaltysim.api",
    "sweep": "loyaltysim.api",
    "Results": "loyaltysim.experiment",
    "Scenario": "loyaltysim.scenario",
    "ScenarioError": "loyaltysim.scenario",
}


__getattr__, __dir__ = lazy_names(globals(), _LAZY)

__all__ = [
    "Results",
    "Scenario",
    "ScenarioError",
    "__version__",
    "calibrate",
    "check",
    "compare",
    "facts",
    "frontier",
    "load_scenario",
    "run",
    "sensitivity",
    "sweep",
]
