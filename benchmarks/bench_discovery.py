"""How well PRIM (``loyaltysim discover``) recovers a known box, and whether it agrees with
EMA Workbench.

1. Synthetic data with a known box: 1,000 uniform points in three dimensions, the outcome
   1 inside ``x1 > 0.6 and x2 < 0.3`` with 5% of labels flipped (and without noise), over
   20 seeds. Prints the found limits against the truth, the restricted dimensions, and the
   coverage and density of the found box against those of the true box on the same data.
2. Where EMA Workbench is installed (the ``[ema]`` extra): the share of peeling
   trajectories identical to EMA's, box by box and limit by limit, over a grid of seeds,
   peel alphas and objectives, and on Bryant & Lempert's data as EMA ships it; and box 21
   of EMA's documented example against its published figures.

Run: ``python benchmarks/bench_discovery.py`` (a few seconds; add ``--json`` for JSON).
"""

from __future__ import annotations

import inspect
import json
import sys
import warnings
from importlib import util as importlib_util
from pathlib import Path
from typing import Any

import numpy as np

from loyaltysim.analysis.discovery import PrimOptions, discover, peel_and_paste

LO1, HI2 = 0.6, 0.3
SEEDS = range(20)


def known_box(seed: int, flip: float, n: int = 1000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, 3))
    truth = (x[:, 0] > LO1) & (x[:, 1] < HI2)
    return x, truth ^ (rng.uniform(size=n) < flip), truth


def recovery(flip: float) -> dict[str, Any]:
    rows = []
    for seed in SEEDS:
        x, y, truth = known_box(seed, flip)
        box = discover(x, y, ["x1", "x2", "x3"]).boxes[0].step
        inside = np.all((x >= box.lower) & (x <= box.upper), axis=1)
        rows.append(
            {
                "seed": seed,
                "restricted": [("x1", "x2", "x3")[j] for j in box.restricted],
                "x1_lower": box.lower[0],
                "x2_upper": box.upper[1],
                "coverage": box.coverage,
                "density": box.density,
                "true_coverage": float(y[truth].sum() / y.sum()),
                "true_density": float(y[truth].mean()),
                "exact": bool(
                    box.k == int(y[inside].sum()) and box.n == int(inside.sum())
                ),  # coverage and density are the box's own counts
            }
        )
    keys = ("x1_lower", "x2_upper", "coverage", "density", "true_coverage", "true_density")
    col = {k: np.array([r[k] for r in rows], dtype=float) for k in keys}
    return {
        "flip": flip,
        "seeds": len(rows),
        "restricted_exactly_x1_x2": sum(r["restricted"] == ["x1", "x2"] for r in rows),
        "x1_lower_mean_abs_error": float(np.mean(np.abs(col["x1_lower"] - LO1))),
        "x1_lower_max_abs_error": float(np.max(np.abs(col["x1_lower"] - LO1))),
        "x2_upper_mean_abs_error": float(np.mean(np.abs(col["x2_upper"] - HI2))),
        "x2_upper_max_abs_error": float(np.max(np.abs(col["x2_upper"] - HI2))),
        "coverage_mean": float(col["coverage"].mean()),
        "true_coverage_mean": float(col["true_coverage"].mean()),
        "density_mean": float(col["density"].mean()),
        "true_density_mean": float(col["true_density"].mean()),
        "stats_are_exact_counts": all(r["exact"] for r in rows),
    }


def ema_agreement() -> dict[str, Any] | None:
    if importlib_util.find_spec("ema_workbench") is None:
        return None
    warnings.filterwarnings("ignore")
    import pandas as pd
    from ema_workbench.analysis import prim
    from ema_workbench.analysis.prim_util import PRIMObjectiveFunctions as Obj

    def theirs(x: np.ndarray, y: np.ndarray, options: PrimOptions) -> Any:
        kwargs: dict[str, Any] = {
            "peel_alpha": options.peel_alpha,
            "paste_alpha": options.paste_alpha,
            "mass_min": options.mass_min,
            "obj_function": {"lenient1": Obj.LENIENT1, "lenient2": Obj.LENIENT2,
                             "original": Obj.ORIGINAL}[options.objective],
        }  # fmt: skip
        if "threshold" in inspect.signature(prim.Prim.__init__).parameters:
            kwargs["threshold"] = 0.5
        frame = pd.DataFrame(x, columns=[f"x{j}" for j in range(x.shape[1])])
        return prim.Prim(frame, y.astype(int), **kwargs).find_box()

    def same(x: np.ndarray, y: np.ndarray, options: PrimOptions) -> tuple[bool, int, int]:
        ours = peel_and_paste(x, y, options)
        box = theirs(x, y, options)
        if len(ours) != len(box.peeling_trajectory):
            return False, len(ours), 0
        ok = all(
            np.array_equal(box.box_lims[i].to_numpy(dtype=float)[0], s.lower)
            and np.array_equal(box.box_lims[i].to_numpy(dtype=float)[1], s.upper)
            for i, s in enumerate(ours)
        )
        return ok, len(ours), sum(s.phase == "paste" for s in ours)

    cases = total_steps = pastes = agree = 0
    for seed in range(5):
        for alpha in (0.05, 0.1, 0.2, 0.3):
            for objective in ("lenient1", "lenient2", "original"):
                rng = np.random.default_rng(seed)
                x = rng.uniform(size=(500, 3))
                y = ((x[:, 0] > LO1) & (x[:, 1] < HI2)) ^ (rng.uniform(size=500) < 0.05)
                ok, steps, pasted = same(x, y, PrimOptions(peel_alpha=alpha, objective=objective))
                cases += 1
                agree += ok
                total_steps += steps
                pastes += pasted
    from importlib.resources import files

    path = Path(str(files("ema_workbench") / "examples" / "data" / "bryant et al 2010 data.csv"))
    data = pd.read_csv(path, index_col=False)
    bx, by = data.iloc[:, 2:11].to_numpy(dtype=float), data.iloc[:, 15].to_numpy()
    bryant_same, bryant_steps, _ = same(bx, by, PrimOptions(peel_alpha=0.1))
    box21 = peel_and_paste(bx, by, PrimOptions(peel_alpha=0.1))[21]
    import ema_workbench

    return {
        "ema_workbench": ema_workbench.__version__,
        "synthetic_trajectories": cases,
        "synthetic_identical": agree,
        "synthetic_steps": total_steps,
        "synthetic_paste_steps": pastes,
        "bryant_lempert_identical": bryant_same,
        "bryant_lempert_steps": bryant_steps,
        "box21": {
            "coverage": box21.coverage,
            "published_coverage": 0.752809,
            "density": box21.density,
            "published_density": 0.770115,
            "res_dim": box21.res_dim,
            "published_res_dim": 4,
        },
    }


def main() -> None:
    result = {
        "known_box_with_5pct_noise": recovery(0.05),
        "known_box_without_noise": recovery(0.0),
        "ema": ema_agreement(),
    }
    if "--json" in sys.argv:
        print(json.dumps(result, indent=2))
        return
    for key in ("known_box_with_5pct_noise", "known_box_without_noise"):
        r = result[key]
        print(
            f"{key}: {r['seeds']} seeds; restricted exactly x1, x2 in "
            f"{r['restricted_exactly_x1_x2']}; x1 lower limit off by "
            f"{r['x1_lower_mean_abs_error']:.3f} on average "
            f"(max {r['x1_lower_max_abs_error']:.3f}); x2 upper limit off by "
            f"{r['x2_upper_mean_abs_error']:.3f} (max {r['x2_upper_max_abs_error']:.3f}); "
            f"coverage {r['coverage_mean']:.3f} vs the true box's {r['true_coverage_mean']:.3f}; "
            f"density {r['density_mean']:.3f} vs {r['true_density_mean']:.3f}; "
            f"stats are exact counts: {r['stats_are_exact_counts']}"
        )
    ema = result["ema"]
    if ema is None:
        print("EMA Workbench not installed: no comparison (pip install 'loyaltysim[ema]')")
        return
    print(
        f"EMA Workbench {ema['ema_workbench']}: {ema['synthetic_identical']} of "
        f"{ema['synthetic_trajectories']} synthetic trajectories identical "
        f"({ema['synthetic_steps']} boxes, {ema['synthetic_paste_steps']} of them pastes); "
        f"Bryant & Lempert trajectory identical: {ema['bryant_lempert_identical']} "
        f"({ema['bryant_lempert_steps']} boxes)"
    )
    b = ema["box21"]
    print(
        f"box 21 of EMA's documented example: coverage {b['coverage']:.6f} (published "
        f"{b['published_coverage']}), density {b['density']:.6f} (published "
        f"{b['published_density']}), {b['res_dim']} restricted (published "
        f"{b['published_res_dim']})"
    )


if __name__ == "__main__":
    main()
