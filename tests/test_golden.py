"""A golden summary for a tiny scenario: any change to the model's numbers shows here.

If a change is on purpose (a mechanism or a default changed), regenerate the file and
say so in the commit:

    LOYALTYSIM_REGENERATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import loyaltysim
from loyaltysim.scenario import load_scenario_text

GOLDEN = Path(__file__).parent / "golden" / "tiny_summary.json"
TINY = """
[scenario]
name = "Golden tiny shop"
horizon_days = 90
replications = 3
seed = 20261125

[business]
price = 8.0
unit_cost = 3.0
fixed_costs_per_month = 4000
starting_cash = 10000
prospects_per_month = 40

[customers]
initial = 400

[discount]
kind = "points"

[followup]
kind = "after_purchase"
channel = "phone_call"
target = "dissatisfied"

[[variants]]
name = "flat 10%"
set = { "discount.kind" = "flat", "discount.rate" = 0.10 }
"""


def close(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON trees differ beyond float noise (relative 1e-9)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{path}: keys {sorted(a.keys() ^ b.keys())}"]
        return [d for k in a for d in close(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: lengths {len(a)} != {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in close(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, float | int):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) else [f"{path}: {a} != {b}"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_the_tiny_scenario_summary_is_unchanged() -> None:
    scenario = load_scenario_text(TINY)
    summary = loyaltysim.run(scenario, workers=1).summary()
    if os.environ.get("LOYALTYSIM_REGENERATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    golden = json.loads(GOLDEN.read_text())
    fresh = json.loads(json.dumps(summary))  # the same JSON round trip as the file
    differences = close(fresh, golden)
    assert not differences, "model output changed:\n" + "\n".join(differences[:20])
