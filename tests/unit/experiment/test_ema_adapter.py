"""The EMA Workbench adapter: a scenario as an EMA model where the [ema] extra is installed,
and a clear error naming the extra where it is not."""

from __future__ import annotations

from importlib import util as importlib_util
from pathlib import Path

import numpy as np
import pytest

from loyaltysim.analysis import ema_prim
from loyaltysim.analysis.ema_prim import MissingEMA

HAVE_EMA = importlib_util.find_spec("ema_workbench") is not None

TINY = """
[scenario]
name = "Tiny café"
horizon_days = 30
replications = 2
seed = 7

[business]
starting_cash = 5000

[customers]
initial = 200
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


def test_without_the_extra_the_error_names_it(
    scenario: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loyaltysim.experiment.ema import scenario_model

    monkeypatch.setattr(ema_prim, "ema_workbench", None)
    with pytest.raises(MissingEMA, match=r"\[ema\] extra: pip install 'loyaltysim\[ema\]'"):
        scenario_model(scenario, {"business.starting_cash": (0.0, 20000.0)})
    with pytest.raises(MissingEMA):
        ema_prim.ema_engine(np.zeros((20, 1)), np.zeros(20), ["a"], ema_prim.PrimOptions())


def test_the_model_function_runs_the_scenario_with_common_random_numbers(scenario: Path) -> None:
    from loyaltysim.experiment.ema import ScenarioFunction
    from loyaltysim.experiment.sweep import Param, ScenarioSource

    source = ScenarioSource.from_file(scenario)
    function = ScenarioFunction(
        source, (Param("business.starting_cash", 0.0, 20000.0),), ("profit", "ruin_probability"), 7
    )
    poor = function(**{"business.starting_cash": 0.0})
    rich = function(**{"business.starting_cash": 20000.0})
    richer = function(**{"business.starting_cash": 15000.0})
    assert set(poor) == {"profit", "ruin_probability"}
    assert poor["ruin_probability"] == 1.0 and rich["ruin_probability"] == 0.0
    # the same customers and luck at every point: while the cash lasts, the starting cash
    # changes no flow, so the profit is the same to the cent
    assert richer["ruin_probability"] == 0.0 and richer["profit"] == rich["profit"]
    assert poor["profit"] != rich["profit"]  # a ruined run stops early
    assert function(**{"business.starting_cash": 0.0}) == poor  # reproducible
    with pytest.raises(TypeError, match="missing parameter"):
        function()


@pytest.mark.skipif(not HAVE_EMA, reason="EMA Workbench (the [ema] extra) absent")
def test_a_scenario_is_an_ema_model(scenario: Path) -> None:
    from ema_workbench import SequentialEvaluator

    from loyaltysim.experiment.ema import scenario_model

    model = scenario_model(
        scenario,
        uncertainties={"business.starting_cash": (0.0, 20000.0), "customers.initial": (150, 250)},
        levers={"business.price": (4.0, 5.0)},
        outcomes=("profit", "ruin_probability"),
    )
    assert [u.name for u in model.uncertainties] == ["business.starting_cash", "customers.initial"]
    assert type(model.uncertainties["customers.initial"]).__name__ == "IntegerParameter"
    assert [lever.name for lever in model.levers] == ["business.price"]
    assert [o.name for o in model.outcomes] == ["profit", "ruin_probability"]
    with SequentialEvaluator(model) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios=3, policies=1)
    assert len(experiments) == 3
    assert outcomes["ruin_probability"].shape == (3,)
    assert np.all((outcomes["ruin_probability"] >= 0) & (outcomes["ruin_probability"] <= 1))
    with pytest.raises(ValueError, match="unknown outcome"):
        scenario_model(scenario, {"business.starting_cash": (0.0, 1.0)}, outcomes=("luck",))
