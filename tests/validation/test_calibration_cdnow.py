"""The CDNOW backtest of the issue: the agent model, started from the log's customers and
matched to the fit over 52 weeks (never to the holdout), against BG/NBD and Pareto/NBD.

Slow (about a minute): it simulates the 2,357 customers 16 times over 9-12 months.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loyaltysim.workflows.calibrate import CalibrationOptions, calibrate

CDNOW = Path(__file__).parents[1] / "data" / "cdnow_sample.csv"


@pytest.mark.slow
def test_agent_model_no_worse_than_bgnbd_on_cdnow() -> None:
    options = CalibrationOptions(
        calibration_end="1997-09-30", holdout_end="1998-06-30", write_files=False
    )
    p = calibrate(CDNOW, options).payload
    bg, agent = p["models"]["bg_nbd"]["holdout"], p["agent"]["holdout"]
    assert bg["actual_repeat"] == agent["actual_repeat"] == 1882
    assert abs(agent["error"]) <= abs(bg["error"])
    assert agent["correlation"] >= bg["correlation"] - 0.002  # simulation noise ~0.002
    assert agent["mae"] <= bg["mae"]
