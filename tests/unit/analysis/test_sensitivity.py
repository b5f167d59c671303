"""Sensitivity analysis: SALib's Sobol and Morris on functions whose answer is known, the
ranking and its wording, and one tiny real run."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("SALib")

from loyaltysim.analysis import sensitivity as sa
from loyaltysim.experiment import SerialExecutor
from loyaltysim.experiment.sweep import ScenarioSource, SweepError, parse_param
from loyaltysim.workflows.sweep import run_sensitivity

PROB = sa.problem([("a", 0.0, 1.0), ("b", 0.0, 1.0), ("c", 0.0, 1.0)])


def linear(x: np.ndarray) -> np.ndarray:
    """y = 4a + 2b + 0.1c: a explains 16/20.01 of the variance, b 4/20.01, c almost none."""
    return 4 * x[:, 0] + 2 * x[:, 1] + 0.1 * x[:, 2]


def ishigami(x: np.ndarray) -> np.ndarray:
    """The Ishigami function on [-pi, pi]^3 (Ishigami & Homma 1990): ST = 0.56, 0.44, 0.24."""
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_ranks_a_linear_function_by_its_coefficients() -> None:
    x = sa.sample("sobol", PROB, 256, seed=1)
    assert x.shape == (256 * 5, 3) and sa.evaluations("sobol", 256, 3) == 256 * 5
    result = sa.analyze_outputs("sobol", PROB, x, {"y": linear(x)}, resamples=200, seed=2)
    ranking = result["outputs"]["y"]["ranking"]
    assert [r["param"] for r in ranking] == ["a", "b", "c"]
    assert ranking[0]["ST"] == pytest.approx(16 / 20.01, abs=0.05)
    assert ranking[1]["ST"] == pytest.approx(4 / 20.01, abs=0.05)
    assert result["outputs"]["y"]["drivers"] == ["a", "b"]
    assert "y is driven by a" in result["outputs"]["y"]["summary"]
    json.dumps(result, allow_nan=False)


def test_sobol_on_ishigami_matches_the_known_total_indices() -> None:
    prob = sa.problem([(n, -np.pi, np.pi) for n in ("x1", "x2", "x3")])
    x = sa.sample("sobol", prob, 1024, seed=3)
    indices = sa.analyze("sobol", prob, x, ishigami(x), resamples=100, seed=4)
    assert indices["x1"]["ST"] == pytest.approx(0.558, abs=0.06)
    assert indices["x2"]["ST"] == pytest.approx(0.442, abs=0.06)
    assert indices["x3"]["ST"] == pytest.approx(0.244, abs=0.06)
    assert indices["x3"]["S1"] == pytest.approx(0.0, abs=0.06)  # acts only with x1
    assert [r["param"] for r in sa.ranking("sobol", indices)] == ["x1", "x2", "x3"]


def test_morris_ranks_a_linear_function_exactly() -> None:
    x = sa.sample("morris", PROB, 20, seed=5, levels=4)
    assert x.shape == (20 * 4, 3)
    indices = sa.analyze("morris", PROB, x, linear(x), resamples=100, seed=6)
    # A linear function's elementary effects are its coefficients, with no spread.
    assert indices["a"]["mu_star"] == pytest.approx(4.0)
    assert indices["b"]["mu_star"] == pytest.approx(2.0)
    assert indices["c"]["mu_star"] == pytest.approx(0.1)
    assert indices["a"]["sigma"] == pytest.approx(0.0, abs=1e-9)
    ranked = sa.ranking("morris", indices)
    assert [r["param"] for r in ranked] == ["a", "b", "c"]
    assert [r["drives"] for r in ranked] == [True, True, False]  # c: below 10% of the top


def test_same_seed_same_design_and_indices() -> None:
    a = sa.sample("sobol", PROB, 32, seed=9)
    np.testing.assert_array_equal(a, sa.sample("sobol", PROB, 32, seed=9))
    one = sa.analyze("sobol", PROB, a, linear(a), resamples=50, seed=1)
    assert one == sa.analyze("sobol", PROB, a, linear(a), resamples=50, seed=1)


def test_a_constant_output_has_no_drivers() -> None:
    x = sa.sample("morris", PROB, 4, seed=1)
    result = sa.analyze_outputs("morris", PROB, x, {"ruin": np.zeros(len(x))}, resamples=20)
    block = result["outputs"]["ruin"]
    assert block["drivers"] == [] and "does not vary" in block["summary"]


def test_bad_designs_are_refused() -> None:
    with pytest.raises(ValueError, match="power of 2"):
        sa.sample("sobol", PROB, 100, seed=1)
    with pytest.raises(ValueError, match="even"):
        sa.sample("morris", PROB, 4, seed=1, levels=3)
    with pytest.raises(ValueError, match="method"):
        sa.sample("fast", PROB, 4, seed=1)


def test_salib_seed_is_never_zero_and_is_stable() -> None:
    seeds = {sa.salib_seed(s) for s in range(200)}
    assert 0 not in seeds and len(seeds) > 190
    assert sa.salib_seed(2026) == sa.salib_seed(2026)


def test_indices_csv_has_one_row_per_output_and_parameter() -> None:
    x = sa.sample("morris", PROB, 6, seed=1)
    result = sa.analyze_outputs("morris", PROB, x, {"y": linear(x), "z": -linear(x)}, resamples=20)
    rows = list(csv.reader(io.StringIO(sa.indices_csv(result))))
    assert rows[0][:4] == ["output", "rank", "param", "method"]
    assert [(r[0], r[1], r[2]) for r in rows[1:4]] == [
        ("y", "1", "a"),
        ("y", "2", "b"),
        ("y", "3", "c"),
    ]
    assert len(rows) == 1 + 6


TINY = """
[scenario]
name = "Tiny"
horizon_days = 30
replications = 2
seed = 3

[customers]
initial = 200
"""


def test_a_tiny_real_sensitivity_run(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    params = [parse_param("business.price=3.5:5.5"), parse_param("competitor.price=4.1:4.3")]
    outcome, analysis = run_sensitivity(
        ScenarioSource.from_file(path),
        params,
        method="morris",
        n=4,
        outputs=("profit",),
        resamples=50,
        output=tmp_path / "s",
        executor=SerialExecutor(),
        charts=False,
    )
    assert outcome.status == "complete" and outcome.finished == 4 * 3
    assert analysis is not None
    ranking = analysis["outputs"]["profit"]["ranking"]
    # The price of a ticket moves profit far more than a small change in the rival's price.
    assert ranking[0]["param"] == "business.price"
    for name in ("samples.csv", "indices.csv", "sensitivity.json", "manifest.json"):
        assert (outcome.run_dir / name).exists(), name
    manifest = json.loads((outcome.run_dir / "manifest.json").read_text())
    assert manifest["kind"] == "sensitivity" and manifest["ranking"]["profit"][0] == (
        "business.price"
    )
    with pytest.raises(SweepError, match="unknown output"):
        run_sensitivity(
            ScenarioSource.from_file(path), params, outputs=("nope",), executor=SerialExecutor()
        )
