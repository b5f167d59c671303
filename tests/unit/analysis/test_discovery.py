"""PRIM (scenario discovery): the quantile rule, peeling, pasting, the coverage and density
definitions, the choice of a box, covering, and recovery of a known box; against EMA
Workbench's published example and its implementation where it is installed."""

from __future__ import annotations

import csv
import itertools
import math
from importlib import util as importlib_util
from pathlib import Path

import numpy as np
import pytest

from loyaltysim.analysis.discovery import (
    BoxStep,
    DiscoveryError,
    PrimOptions,
    choose_step,
    discover,
    min_points,
    peel_and_paste,
    quasi_p_values,
    sd_quantile,
)
from loyaltysim.analysis.discovery_words import describe_box, format_number

HAVE_EMA = importlib_util.find_spec("ema_workbench") is not None
needs_ema = pytest.mark.skipif(not HAVE_EMA, reason="EMA Workbench (the [ema] extra) absent")

# The known box: y = 1 inside x1 > 0.6 and x2 < 0.3, with 5% of labels flipped.
LO1, HI2, FLIP = 0.6, 0.3, 0.05


def known_box(n: int = 1000, seed: int = 1, flip: float = FLIP):
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, 3))
    truth = (x[:, 0] > LO1) & (x[:, 1] < HI2)
    y = truth ^ (rng.uniform(size=n) < flip)
    return x, y, truth


def in_box(x: np.ndarray, step: BoxStep) -> np.ndarray:
    return np.all((x >= np.array(step.lower)) & (x <= np.array(step.upper)), axis=1)


# ----------------------------------------------------------------------------- quantile


def test_sd_quantile_cuts_midway_between_distinct_values() -> None:
    data = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0])
    # position (11 - 1) * 0.1 = 1: values 2 and 2 are "equal", so the upper one moves to 3
    assert sd_quantile(data, 0.1) == 2.5
    # position 9 for q = 0.9: the lower one moves down to 9, midpoint with 10
    assert sd_quantile(data, 0.9) == 9.5
    # between two order statistics: their midpoint
    assert sd_quantile(np.array([0.0, 1.0, 2.0, 3.0]), 0.5) == 1.5


def test_sd_quantile_never_splits_a_tie() -> None:
    data = np.array([1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 3.0])
    low = sd_quantile(data, 0.05)
    assert low == 1.5  # all the 1s stay together on one side
    assert sd_quantile(data, 0.95) == 2.5
    assert sd_quantile(np.full(5, 4.0), 0.1) == 4.0  # nothing to cut
    with pytest.raises(ValueError):
        sd_quantile(data, 0.0)


# ----------------------------------------------------------------------------- definitions


def test_every_step_reports_coverage_density_and_mass_as_defined() -> None:
    x, y, _ = known_box()
    steps = peel_and_paste(x, y)
    total = int(y.sum())
    for s in steps:
        inside = in_box(x, s)
        k = int(y[inside].sum())
        assert s.n == int(inside.sum())
        assert s.k == k
        assert s.coverage == pytest.approx(k / total)
        assert s.density == pytest.approx(k / s.n)
        assert s.mass == pytest.approx(s.n / y.size)
    assert steps[0].phase == "start" and steps[0].coverage == 1.0 and steps[0].res_dim == 0
    assert steps[0].density == pytest.approx(y.mean())


def test_peeling_shrinks_the_box_and_raises_its_density_until_mass_min() -> None:
    x, y, _ = known_box()
    options = PrimOptions()
    steps = peel_and_paste(x, y, options)
    peels = [s for s in steps if s.phase == "peel"]
    assert len(peels) > 10
    for before, after in itertools.pairwise(steps):
        if after.phase != "peel":
            break
        assert after.n < before.n
        assert after.density > before.density
        assert all(a >= b for a, b in zip(after.lower, before.lower, strict=True))
        assert all(a <= b for a, b in zip(after.upper, before.upper, strict=True))
        # one peel cuts about peel_alpha of the box along one parameter, never a tie
        assert before.n - after.n <= math.ceil(options.peel_alpha * before.n) + 1
        assert sum(a != b for a, b in zip(after.lower + after.upper, before.lower + before.upper,
                                          strict=True)) == 1  # fmt: skip
    assert peels[-1].mass >= options.mass_min


def test_pasting_widens_a_restricted_limit_when_that_raises_the_density() -> None:
    # A coarse peel (alpha 0.3) overshoots; pasting takes some of it back.
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(500, 3))
    y = ((x[:, 0] > LO1) & (x[:, 1] < HI2)) ^ (rng.uniform(size=500) < FLIP)
    steps = peel_and_paste(x, y, PrimOptions(peel_alpha=0.3))
    pastes = [i for i, s in enumerate(steps) if s.phase == "paste"]
    assert pastes, "this data set is chosen because PRIM pastes on it"
    assert all(steps[i - 1].phase in ("peel", "paste") for i in pastes)
    for i in pastes:
        before, after = steps[i - 1], steps[i]
        assert after.n > before.n and after.density > before.density
        widened = [
            j
            for j in range(3)
            if after.lower[j] < before.lower[j] or after.upper[j] > before.upper[j]
        ]
        assert len(widened) == 1 and widened[0] in before.restricted
        assert in_box(x, before).sum() <= in_box(x, after).sum()
        assert np.all(in_box(x, after)[in_box(x, before)])  # the old box is inside the new


def test_objectives_change_the_path_not_the_definitions() -> None:
    x, y, _ = known_box(n=600, seed=3)
    paths = {o: peel_and_paste(x, y, PrimOptions(objective=o)) for o in
             ("lenient1", "lenient2", "original")}  # fmt: skip
    for steps in paths.values():
        assert steps[0].coverage == 1.0
        assert steps[-1].density > steps[0].density
    with pytest.raises(ValueError, match="objective"):
        PrimOptions(objective="greedy")


# ----------------------------------------------------------------------------- the known box


def test_finds_the_known_box_with_exact_coverage_and_density() -> None:
    x, y, truth = known_box()
    result = discover(x, y, ["x1", "x2", "x3"])
    box = result.boxes[0].step
    assert [result.names[j] for j in box.restricted] == ["x1", "x2"]
    assert box.lower[0] == pytest.approx(LO1, abs=0.05)  # x1 above ~0.6
    assert box.upper[1] == pytest.approx(HI2, abs=0.05)  # x2 below ~0.3
    assert box.lower[1] == result.lower[1] and box.upper[0] == result.upper[0]
    # coverage and density are the exact counts of the box found ...
    inside = in_box(x, box)
    assert box.coverage == y[inside].sum() / y.sum()
    assert box.density == y[inside].sum() / inside.sum()
    # ... and close to those of the true box on the same data
    assert box.coverage == pytest.approx(y[truth].sum() / y.sum(), abs=0.05)
    assert box.density == pytest.approx(y[truth].mean(), abs=0.08)
    # the 5% of flipped labels outside the box are noise: no second box is reported
    assert len(result.boxes) == 1
    assert "could be chance" in result.stop_reason
    text = describe_box(result, result.boxes[0], "ruin", "runs", "ruins")
    assert text.startswith("x1 above 0.5") or text.startswith("x1 above 0.6")
    assert " and x2 below 0.3" in text and "x3" not in text
    assert f"ruin in {box.density:.0%} of runs, covering {box.coverage:.0%} of all ruins" in text


def test_without_noise_the_box_is_the_truth() -> None:
    x, y, _ = known_box(n=2000, seed=5, flip=0.0)
    result = discover(x, y, ["x1", "x2", "x3"])
    box = result.boxes[0].step
    assert box.density == 1.0
    assert box.coverage > 0.95
    assert box.lower[0] == pytest.approx(LO1, abs=0.02)
    assert box.upper[1] == pytest.approx(HI2, abs=0.02)
    assert result.stop_reason.startswith("no case of interest is left") or len(result.boxes) > 1


def test_covering_seeks_the_next_box_outside_the_first() -> None:
    # Two separate squares: greedy peeling first draws one wide box around both (the known
    # limit of PRIM's peeling), then the next box among the points left outside it.
    rng = np.random.default_rng(11)
    x = rng.uniform(size=(3000, 2))
    a = (x[:, 0] > 0.1) & (x[:, 0] < 0.35) & (x[:, 1] > 0.1) & (x[:, 1] < 0.35)
    b = (x[:, 0] > 0.6) & (x[:, 0] < 0.9) & (x[:, 1] > 0.6) & (x[:, 1] < 0.9)
    y = a | b
    result = discover(x, y, ["u", "v"], max_boxes=3)
    assert len(result.boxes) >= 2
    first, second = result.boxes[0], result.boxes[1]
    assert second.remaining == 3000 - first.step.n
    assert second.remaining_cases == int(y.sum()) - first.step.k
    outside = ~in_box(x, first.step)
    assert second.step.k == int(y[outside & in_box(x, second.step)].sum())
    # coverage stays relative to all cases, so the boxes' coverages add up
    assert second.step.coverage == pytest.approx(second.step.k / y.sum())
    assert first.step.coverage + second.step.coverage > 0.95
    assert first.step.coverage + second.step.coverage <= 1.0 + 1e-12


def test_choosing_by_minimum_density_takes_the_widest_box_reaching_it() -> None:
    x, y, _ = known_box()
    steps = peel_and_paste(x, y)
    index, rule = choose_step(steps, min_density=0.95)
    assert index is not None and "0.95" not in rule and "95%" in rule
    chosen = steps[index]
    assert chosen.density >= 0.95
    assert all(s.coverage <= chosen.coverage for s in steps if s.density >= 0.95)
    none, why = choose_step(steps, min_density=1.0 + 0.0) if steps[-1].density < 1 else (None, "")
    if steps[-1].density < 1:
        assert none is None and "no box reaches density 100%" in why
    # the default rule: the best harmonic mean of coverage and density
    default, _ = choose_step(steps, base_density=float(y.mean()))
    assert default is not None
    f1 = [s.f1 for s in steps if s.res_dim > 0]
    assert steps[default].f1 == max(f1)


def test_min_density_in_discover() -> None:
    x, y, _ = known_box()
    result = discover(x, y, ["x1", "x2", "x3"], min_density=0.97)
    assert result.boxes and result.boxes[0].step.density >= 0.97
    assert result.min_density == 0.97


def test_quasi_p_values_mark_the_limits_that_matter() -> None:
    x, y, _ = known_box()
    result = discover(x, y, ["x1", "x2", "x3"])
    qp = result.boxes[0].quasi_p
    assert set(qp) == {0, 1}
    assert qp[0][1] is None and qp[1][0] is None  # x1 has no upper, x2 no lower limit
    assert qp[0][0] is not None and qp[0][0] < 1e-6
    assert qp[1][1] is not None and qp[1][1] < 1e-6
    assert quasi_p_values(x, y, result.boxes[0].step) == qp


def test_a_restriction_that_does_not_matter_is_dropped() -> None:
    rng = np.random.default_rng(2)
    x = rng.uniform(size=(300, 3))
    y = (x[:, 0] < 0.4) & (x[:, 1] > 0.3) | (rng.uniform(size=300) < 0.05)
    kept = discover(x, y, ["a", "b", "c"], drop_above=None).boxes[0]
    assert kept.step.restricted == (0, 1, 2)
    assert kept.quasi_p[2][1] is not None and kept.quasi_p[2][1] > 0.5  # c < 0.94: noise
    box = discover(x, y, ["a", "b", "c"]).boxes[0]
    assert box.dropped == (2,) and box.picked == kept.chosen
    assert box.step.phase == "drop" and box.chosen == len(box.trajectory) - 1
    assert box.step.restricted == (0, 1)
    assert box.step.upper[2] == x[:, 2].max()
    assert box.step.lower[:2] == kept.step.lower[:2] and box.step.upper[:2] == kept.step.upper[:2]
    assert all(q is None or q <= 0.05 for qs in box.quasi_p.values() for q in qs)
    assert box.step.k == int(y[in_box(x, box.step)].sum())


# ----------------------------------------------------------------------------- errors


def test_errors_are_sentences() -> None:
    x, y, _ = known_box(n=200)
    with pytest.raises(DiscoveryError, match="at least 20 points"):
        discover(x[:19], y[:19], ["a", "b", "c"])
    assert min_points(PrimOptions(mass_min=0.05)) == 20
    assert min_points(PrimOptions(mass_min=0.01)) == 100
    assert min_points(PrimOptions(mass_min=0.5)) == 10
    with pytest.raises(DiscoveryError, match="binary"):
        discover(x, np.linspace(0, 2, 200), ["a", "b", "c"])
    with pytest.raises(DiscoveryError, match="one value per point"):
        discover(x, y[:-1], ["a", "b", "c"])
    with pytest.raises(DiscoveryError, match="names"):
        discover(x, y, ["a", "b"])
    with pytest.raises(ValueError, match="peel_alpha"):
        PrimOptions(peel_alpha=0.5)
    with pytest.raises(ValueError, match="mass_min"):
        PrimOptions(mass_min=0.0)


def test_format_number() -> None:
    assert format_number(30000.0) == "30,000"
    assert format_number(29876.5) == "29,900"
    assert format_number(0.1423) == "0.142"
    assert format_number(0.14) == "0.14"
    assert format_number(755.8) == "756"
    assert format_number(-0.422) == "-0.422"
    assert format_number(0.0) == "0"


# ----------------------------------------------------------------------------- EMA's example


def bryant_lempert() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Bryant & Lempert's (2010) biofuel data as EMA Workbench ships it (its example
    `sd_prim_bryant_and_lempert.py`: columns 2-10 are the inputs, 15 the class)."""
    from importlib.resources import files

    path = Path(str(files("ema_workbench") / "examples" / "data" / "bryant et al 2010 data.csv"))
    if not path.is_file():
        pytest.skip("this EMA Workbench wheel does not ship the Bryant & Lempert data")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    x = np.array([[float(v) for v in r[2:11]] for r in body])
    y = np.array([int(float(r[15])) for r in body])
    return x, y, header[2:11]


@needs_ema
def test_published_example_box_21_of_bryant_and_lempert() -> None:
    """EMA Workbench's documented scenario-discovery example (peel_alpha 0.1) inspects box 21
    of the first trajectory: coverage 0.752809, density 0.770115, mass 0.0986395, four
    restricted dimensions with these limits and quasi-p values."""
    x, y, names = bryant_lempert()
    steps = peel_and_paste(x, y, PrimOptions(peel_alpha=0.1))
    box = steps[21]
    assert box.coverage == pytest.approx(0.752809, abs=1e-6)
    assert box.density == pytest.approx(0.770115, abs=1e-6)
    assert box.mass == pytest.approx(0.0986395, abs=1e-6)
    restricted = {names[j]: (box.lower[j], box.upper[j]) for j in box.restricted}
    assert set(restricted) == {
        "Total biomass", "Demand elasticity", "Biomass backstop price", "Cellulosic cost",
    }  # fmt: skip
    assert restricted["Total biomass"] == pytest.approx((450.0, 755.799988), abs=1e-5)
    assert restricted["Demand elasticity"] == pytest.approx((-0.422, -0.202), abs=1e-6)
    assert restricted["Biomass backstop price"] == pytest.approx((150.049995, 199.600006), abs=1e-5)
    assert restricted["Cellulosic cost"] == pytest.approx((72.650002, 133.699997), abs=1e-5)
    qp = quasi_p_values(x, y, box)
    by_name = {names[j]: v for j, v in qp.items()}
    assert by_name["Total biomass"][1] == pytest.approx(4.716968553178765e-06, rel=1e-6)
    assert by_name["Demand elasticity"][0] == pytest.approx(1.1849299115762218e-16, rel=1e-6)
    assert by_name["Biomass backstop price"][0] == pytest.approx(3.515112530263049e-11, rel=1e-6)
    assert by_name["Cellulosic cost"][0] == pytest.approx(0.15741333528927348, rel=1e-6)
    # the last box of the trajectory, as EMA's log reports it
    assert steps[-1].density == 1.0 and steps[-1].res_dim == 6
    assert steps[-1].mass == pytest.approx(0.05102040816326531)


# ----------------------------------------------------------------------------- EMA itself


def ema_trajectory(x: np.ndarray, y: np.ndarray, options: PrimOptions):
    import inspect

    import pandas as pd
    from ema_workbench.analysis import prim
    from ema_workbench.analysis.prim_util import PRIMObjectiveFunctions as Obj

    kwargs = {
        "peel_alpha": options.peel_alpha,
        "paste_alpha": options.paste_alpha,
        "mass_min": options.mass_min,
        "obj_function": {"lenient1": Obj.LENIENT1, "lenient2": Obj.LENIENT2,
                         "original": Obj.ORIGINAL}[options.objective],
    }  # fmt: skip
    if "threshold" in inspect.signature(prim.Prim.__init__).parameters:
        kwargs["threshold"] = 0.5
    frame = pd.DataFrame(x, columns=[f"x{j}" for j in range(x.shape[1])])
    box = prim.Prim(frame, y.astype(int), **kwargs).find_box()
    return box


@needs_ema
@pytest.mark.parametrize(
    ("seed", "alpha", "objective"),
    [(0, 0.1, "lenient1"), (0, 0.1, "original"), (0, 0.3, "lenient1"), (1, 0.2, "original"),
     (2, 0.1, "lenient2"), (2, 0.05, "lenient1")],
)  # fmt: skip
def test_trajectories_agree_with_ema_workbench(seed: int, alpha: float, objective: str) -> None:
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(500, 3))
    y = ((x[:, 0] > LO1) & (x[:, 1] < HI2)) ^ (rng.uniform(size=500) < FLIP)
    options = PrimOptions(peel_alpha=alpha, objective=objective)
    ours = peel_and_paste(x, y, options)
    box = ema_trajectory(x, y, options)
    table = box.peeling_trajectory
    assert len(ours) == len(table)
    for i, step in enumerate(ours):
        limits = box.box_lims[i].to_numpy(dtype=float)
        np.testing.assert_array_equal(limits[0], step.lower)
        np.testing.assert_array_equal(limits[1], step.upper)
        assert step.coverage == pytest.approx(float(table["coverage"].iloc[i]), abs=1e-12)
        assert step.density == pytest.approx(float(table["density"].iloc[i]), abs=1e-12)
        assert step.res_dim == int(table["res_dim"].iloc[i])


@needs_ema
def test_bryant_and_lempert_boxes_agree_with_ema_workbench() -> None:
    from loyaltysim.analysis.ema_prim import ema_engine

    x, y, names = bryant_lempert()
    options = PrimOptions(peel_alpha=0.1)
    ours = discover(x, y, names, options)
    theirs = discover(x, y, names, options, engine=ema_engine)
    assert len(ours.boxes) == len(theirs.boxes) >= 1
    for a, b in zip(ours.boxes, theirs.boxes, strict=True):
        assert a.chosen == b.chosen and a.remaining == b.remaining
        assert len(a.trajectory) == len(b.trajectory)
        for s, t in zip(a.trajectory, b.trajectory, strict=True):
            np.testing.assert_allclose(s.lower, t.lower, rtol=0, atol=0)
            np.testing.assert_allclose(s.upper, t.upper, rtol=0, atol=0)
            assert (s.n, s.k, s.restricted) == (t.n, t.k, t.restricted)


def test_prim_is_pure() -> None:
    """No click, no matplotlib, no results writer behind PRIM and its words."""
    import subprocess
    import sys

    code = (
        "import sys, loyaltysim.analysis.discovery, loyaltysim.analysis.discovery_words; "
        "bad = [m for m in ('click', 'matplotlib', 'loyaltysim.results_io') "
        "if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
