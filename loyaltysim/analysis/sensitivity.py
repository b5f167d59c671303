"""Global sensitivity analysis: which parameters drive an output (Sobol and Morris, via SALib).

Pure functions around SALib's samplers and estimators (Herman & Usher 2017), which are
used rather than re-deriving the estimators:

- **Sobol** (variance-based): ``SALib.sample.sobol.sample`` draws ``N (D + 2)`` points
  (Saltelli 2002 / Saltelli et al. 2010 scheme, second-order indices off) and
  ``SALib.analyze.sobol.analyze`` estimates each parameter's first-order index ``S1`` (the
  share of the output's variance it explains alone) and total index ``ST`` (alone and in
  interactions; Jansen 1999 estimator). Parameters are ranked by ``ST``.
- **Morris** (elementary effects screening): ``SALib.sample.morris.sample`` draws ``N``
  trajectories of ``D + 1`` points on a ``levels``-level grid (Morris 1991, Campolongo et
  al. 2007) and ``SALib.analyze.morris.analyze`` gives ``mu_star``, the mean absolute
  change of the output per change of the parameter across its range (in the output's
  unit), and ``sigma``, which flags interactions and non-linearity. Ranked by ``mu_star``.

Intervals are SALib's bootstrap: each ``*_conf`` is the half-width of the ``conf_level``
interval from ``num_resamples`` resamples. Running the model at the design's points is the
experiment layer's job (:func:`loyaltysim.experiment.sweep.run_sensitivity`); nothing here
runs a simulation, writes a file or draws.

SALib is an optional dependency: ``pip install 'loyaltysim[sensitivity]'``.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

METHODS: tuple[str, ...] = ("sobol", "morris")
# A parameter "drives" an output when the lower end of its index's interval is above these:
# Sobol ST (share of variance), Morris mu_star relative to the largest mu_star.
SOBOL_THRESHOLD = 0.01
MORRIS_RELATIVE_THRESHOLD = 0.10


class MissingSALib(RuntimeError):
    """SALib is not installed."""


def _salib() -> Any:
    try:
        import SALib
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingSALib(
            "sensitivity analysis needs SALib: pip install 'loyaltysim[sensitivity]'"
        ) from exc
    return SALib


def check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")


def problem(bounds: Sequence[tuple[str, float, float]]) -> dict[str, Any]:
    """SALib's problem definition from ``(name, lo, hi)`` triples."""
    return {
        "num_vars": len(bounds),
        "names": [name for name, _, _ in bounds],
        "bounds": [[float(lo), float(hi)] for _, lo, hi in bounds],
    }


def salib_seed(root_seed: int) -> int:
    """A seed for SALib's samplers and bootstraps, derived from the run's root seed.

    Never 0: ``SALib.analyze.sobol`` treats a falsy seed as "no seed" and draws its
    bootstrap from the global generator.
    """
    seq = np.random.SeedSequence(root_seed, spawn_key=(0x5A,))
    return int(seq.generate_state(1, dtype=np.uint32)[0]) % (2**31 - 2) + 1


def evaluations(method: str, n: int, dims: int) -> int:
    """Model evaluations a design needs: ``n (D + 2)`` for Sobol, ``n (D + 1)`` for Morris."""
    check_method(method)
    return n * (dims + 2) if method == "sobol" else n * (dims + 1)


def _power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def sample(method: str, prob: Mapping[str, Any], n: int, seed: int, levels: int = 4) -> np.ndarray:
    """The design: an ``(evaluations, D)`` array of parameter values.

    Parameters
    ----------
    method : {"sobol", "morris"}
    prob : mapping
        From :func:`problem`.
    n : int
        Sobol: base sample size, a power of 2 (the Sobol' sequence's balance needs it).
        Morris: number of trajectories.
    seed : int
        Seeds the sampler (:func:`salib_seed`); the same seed gives the same design.
    levels : int
        Morris grid levels (even; 4 is the usual choice).
    """
    check_method(method)
    _salib()
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if method == "sobol":
        if not _power_of_two(n):
            lower = 1 << (n.bit_length() - 1)
            raise ValueError(f"Sobol needs n a power of 2 (e.g. {lower} or {2 * lower}), got {n}")
        from SALib.sample import sobol as sobol_sample

        x = sobol_sample.sample(dict(prob), n, calc_second_order=False, seed=seed)
    else:
        if levels < 2 or levels % 2:
            raise ValueError(f"Morris needs an even number of levels >= 2, got {levels}")
        from SALib.sample import morris as morris_sample

        x = morris_sample.sample(dict(prob), n, num_levels=levels, seed=seed)
    return np.asarray(x, dtype=np.float64)


def analyze(
    method: str,
    prob: Mapping[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    *,
    conf_level: float = 0.95,
    resamples: int = 1000,
    seed: int = 1,
    levels: int = 4,
) -> dict[str, dict[str, float]]:
    """Indices of one output: ``{parameter: {index: value}}``.

    Sobol gives ``S1, S1_conf, ST, ST_conf``; Morris ``mu, mu_star, mu_star_conf, sigma``
    (``*_conf``: half-width of the bootstrap interval at ``conf_level``). An output that
    does not vary over the design has every index 0 (nothing drives it).
    """
    check_method(method)
    _salib()
    y = np.asarray(y, dtype=np.float64).ravel()
    names = list(prob["names"])
    if y.size != x.shape[0]:
        raise ValueError(f"{y.size} outputs for {x.shape[0]} design points")
    if not np.all(np.isfinite(y)):
        raise ValueError("the output is undefined (NaN) at some design points")
    if float(np.ptp(y)) == 0.0:
        keys = (
            ("S1", "S1_conf", "ST", "ST_conf")
            if method == "sobol"
            else ("mu", "mu_star", "mu_star_conf", "sigma")
        )
        return {name: dict.fromkeys(keys, 0.0) for name in names}
    if method == "sobol":
        from SALib.analyze import sobol as sobol_analyze

        res = sobol_analyze.analyze(
            dict(prob),
            y,
            calc_second_order=False,
            num_resamples=resamples,
            conf_level=conf_level,
            seed=seed,
        )
        keys = ("S1", "S1_conf", "ST", "ST_conf")
    else:
        from SALib.analyze import morris as morris_analyze

        res = morris_analyze.analyze(
            dict(prob),
            x,
            y,
            num_resamples=resamples,
            conf_level=conf_level,
            num_levels=levels,
            seed=seed,
        )
        keys = ("mu", "mu_star", "mu_star_conf", "sigma")
    return {
        name: {k: float(np.asarray(res[k], dtype=np.float64)[i]) for k in keys}
        for i, name in enumerate(names)
    }


def ranking(method: str, indices: Mapping[str, Mapping[str, float]]) -> list[dict[str, Any]]:
    """Parameters from most to least influential, each with its score and interval.

    The score is ``ST`` (Sobol) or ``mu_star`` (Morris); ``conf`` its interval's half-width;
    ``share`` the score over the sum of scores; ``drives`` whether the interval's lower end
    clears the threshold (:data:`SOBOL_THRESHOLD`; for Morris
    :data:`MORRIS_RELATIVE_THRESHOLD` of the largest ``mu_star``). Ties keep input order.
    """
    check_method(method)
    score_key, conf_key = ("ST", "ST_conf") if method == "sobol" else ("mu_star", "mu_star_conf")
    scores = {p: _finite(v[score_key]) for p, v in indices.items()}
    total = sum(max(s, 0.0) for s in scores.values())
    top = max(scores.values(), default=0.0)
    threshold = SOBOL_THRESHOLD if method == "sobol" else MORRIS_RELATIVE_THRESHOLD * top
    out = []
    for p in sorted(indices, key=lambda q: -scores[q]):  # stable: ties keep input order
        conf = _finite(indices[p][conf_key])
        lower = scores[p] - conf
        out.append(
            {
                "param": p,
                "score": scores[p],
                "conf": conf,
                "share": max(scores[p], 0.0) / total if total > 0 else 0.0,
                "drives": bool(scores[p] > 0 and lower > threshold),
                **{k: v for k, v in indices[p].items()},
            }
        )
    return out


def _finite(v: float) -> float:
    return v if math.isfinite(v) else 0.0


def analyze_outputs(
    method: str,
    prob: Mapping[str, Any],
    x: np.ndarray,
    outputs: Mapping[str, np.ndarray],
    *,
    conf_level: float = 0.95,
    resamples: int = 1000,
    seed: int = 1,
    levels: int = 4,
) -> dict[str, Any]:
    """Indices and ranking of every output, as JSON-ready data.

    Returns
    -------
    dict
        ``method``, ``conf_level``, ``resamples``, ``params``, ``score`` (the index ranked
        on) and ``outputs``: ``{output: {"indices": {param: {...}}, "ranking": [...],
        "drivers": [params that drive it], "summary": one sentence}}``.
    """
    result: dict[str, Any] = {
        "method": method,
        "conf_level": conf_level,
        "resamples": resamples,
        "levels": levels if method == "morris" else None,
        "params": list(prob["names"]),
        "bounds": [list(b) for b in prob["bounds"]],
        "score": "ST" if method == "sobol" else "mu_star",
        "outputs": {},
    }
    for name, y in outputs.items():
        indices = analyze(
            method,
            prob,
            x,
            y,
            conf_level=conf_level,
            resamples=resamples,
            seed=seed,
            levels=levels,
        )
        ranked = ranking(method, indices)
        result["outputs"][name] = {
            "indices": indices,
            "ranking": ranked,
            "drivers": [r["param"] for r in ranked if r["drives"]],
            "output_mean": float(np.mean(y)),
            "output_sd": float(np.std(y, ddof=1)) if len(y) > 1 else 0.0,
            "summary": describe(name, method, ranked),
        }
    return result


def describe(output: str, method: str, ranked: Sequence[Mapping[str, Any]]) -> str:
    """One sentence: which parameters drive ``output``, strongest first."""
    label = "ST" if method == "sobol" else "mu*"
    drivers = [r for r in ranked if r["drives"]]
    if not ranked or all(r["score"] == 0 for r in ranked):
        return f"{output} does not vary over these ranges: no parameter drives it"
    if not drivers:
        return (
            f"no parameter clearly drives {output}: every index's interval reaches the "
            "noise floor (more samples or replications would sharpen them)"
        )

    def fmt(v: float) -> str:
        return f"{v:.2f}" if method == "sobol" else f"{v:,.3g}"

    parts = [f"{r['param']} ({label} {fmt(r['score'])} ± {fmt(r['conf'])})" for r in drivers]
    rest = [r["param"] for r in ranked if not r["drives"]]
    text = f"{output} is driven by " + ", then ".join(parts)
    if rest:
        text += "; " + ", ".join(rest) + (" matters" if len(rest) == 1 else " matter") + " little"
    return text


def indices_csv(analysis: Mapping[str, Any]) -> str:
    """``indices.csv``: one row per output x parameter, ranked, with every index."""
    method = analysis["method"]
    keys = (
        ("S1", "S1_conf", "ST", "ST_conf")
        if method == "sobol"
        else ("mu", "mu_star", "mu_star_conf", "sigma")
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["output", "rank", "param", "method", *keys, "share", "drives"])
    for output, block in analysis["outputs"].items():
        for rank, r in enumerate(block["ranking"], start=1):
            values = ["" if r.get(k) is None else repr(float(r[k])) for k in keys]
            writer.writerow(
                [
                    output,
                    rank,
                    r["param"],
                    method,
                    *values,
                    repr(float(r["share"])),
                    int(bool(r["drives"])),
                ]
            )
    return out.getvalue()
