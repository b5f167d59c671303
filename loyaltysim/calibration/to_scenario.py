"""From fitted models to a scenario file, every fitted figure commented with its interval.

What a purchase log identifies, and where it goes:

- purchase rates and their spread across customers (BG/NBD/Pareto/NBD: Gamma(r, alpha))
  -> the segment's ``visits_per_month`` (the mean, times the visit scale that makes up
  for the model's choice of not buying or buying from the competitor) and
  ``visit_heterogeneity`` (the Gamma shape r, which the model uses as is);
- dropout -> every defection hazard of ``[behaviour]``, scaled together by the hazard
  scale found by simulation (:func:`loyaltysim.calibration.agents.match_scales`);
- spend (Gamma-Gamma) -> ``business.price``, the mean spend of a purchase occasion over
  the model's tickets per occasion; the competitor's price keeps its default ratio to it;
- the customers alive at the calibration end (sum of P(alive)) -> ``customers.initial``;
- the current rate of new customers -> ``business.prospects_per_month``.

Everything else (service, satisfaction, attachment, the competitor's behaviour, costs,
cash) is not in a purchase log: it keeps the documented defaults, and the file says so.

Intervals are 95%, from the fits' sampling distributions (parameters drawn from the
asymptotic normal of their logarithms, the Hessian's inverse) pushed through each figure.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from loyaltysim.calibration import btyd
from loyaltysim.calibration.agents import HAZARD_KEYS, HAZARD_MAX, Scales, p_alive
from loyaltysim.calibration.rfm import DAYS_PER_WEEK, CustomerSummary
from loyaltysim.scenario.schema import Behaviour, Business, Competitor, Scenario

DAYS_PER_MONTH = 365.25 / 12
WEEKS_PER_MONTH = DAYS_PER_MONTH / DAYS_PER_WEEK
PARAM_DRAWS = 400
WIDTH = 92  # of the written file's comment lines
RECENT_DAYS = 91  # new customers are counted over the last quarter of the calibration
_BUSINESS, _COMPETITOR, _BEHAVIOUR = Business(), Competitor(), Behaviour()


@dataclass(frozen=True)
class Figure:
    """A fitted figure: estimate, 95% interval (or None) and how it was found."""

    value: float
    interval: tuple[float, float] | None
    how: str

    def comment(self, fmt: str = ".4g") -> str:
        if self.interval is None:
            return self.how
        lo, hi = self.interval
        return f"{self.how}; 95% interval {lo:{fmt}} to {hi:{fmt}}"


def _interval(
    fit: btyd.Fit, of: Callable[[np.ndarray], float], seed: int
) -> tuple[float, float] | None:
    """95% interval of ``of(params)`` over draws from the fit's sampling distribution."""
    if not np.all(np.isfinite(fit.cov_log)):
        return None
    draws = fit.draw(np.random.default_rng(seed), PARAM_DRAWS)
    values = np.array([of(p) for p in draws])
    values = values[np.isfinite(values)]
    if len(values) < PARAM_DRAWS // 2:
        return None
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


@dataclass(frozen=True)
class Calibrated:
    """The scenario's fitted figures (see the module docstring)."""

    visits_per_month: Figure
    visit_heterogeneity: Figure
    price: Figure
    spend_per_occasion: Figure
    spend_spread: Figure | None
    initial: Figure
    prospects_per_month: Figure
    hazard_scale: Figure
    survival: Figure  # the fit's 52-week survival of those alive at the calibration end


def calibrated_figures(
    fits: dict[str, btyd.Fit],
    s: CustomerSummary,
    scales: Scales,
    new_customers_recent: int,
    seed: int = 0,
) -> Calibrated:
    """The figures that go into the scenario, each with its interval."""
    rate_fit = fits["pareto_nbd"] if "pareto_nbd" in fits else fits["bg_nbd"]
    k = scales.visit_scale
    name = "Pareto/NBD" if rate_fit.model == "pareto_nbd" else "BG/NBD"

    def monthly(p: np.ndarray) -> float:
        return float(p[0] / p[1] * WEEKS_PER_MONTH * k)

    visits = Figure(
        monthly(rate_fit.params),
        _interval(rate_fit, monthly, seed),
        f"{name} mean purchase rate r/alpha = {rate_fit['r'] / rate_fit['alpha']:.4g} a "
        f"week, times {k:.4g} (simulated: occasions lost to the competitor and to not "
        "buying)",
    )
    shape = Figure(
        rate_fit["r"],
        rate_fit.interval("r") if np.all(np.isfinite(rate_fit.cov_log)) else None,
        f"{name} r: the Gamma shape of purchase rates across customers",
    )
    gg = fits.get("gamma_gamma")
    if gg is not None and gg["q"] > 1:
        spend = Figure(
            btyd.gammagamma_mean(gg),
            _interval(gg, lambda p: p[0] * p[2] / (p[1] - 1) if p[1] > 1 else np.inf, seed),
            f"Gamma-Gamma mean spend of a purchase occasion p v/(q-1) (p {gg['p']:.4g}, "
            f"q {gg['q']:.4g}, v {gg['v']:.4g})",
        )
        spread = Figure(
            btyd.gammagamma_spread(gg),
            _interval(gg, lambda p: 1 / np.sqrt(p[1] - 2) if p[1] > 2 else np.inf, seed),
            "Gamma-Gamma spread of customers' mean spend, coefficient of variation 1/sqrt(q-2)",
        )
    else:
        spend = Figure(
            float(s.monetary[s.frequency > 0].mean()),
            None,
            "mean spend of repeat occasions (the Gamma-Gamma fit was not possible)",
        )
        spread = None
    per_ticket = 1.0 / max(scales.tickets_per_occasion, 1e-9)
    price = Figure(
        spend.value * per_ticket,
        None
        if spend.interval is None
        else (spend.interval[0] * per_ticket, spend.interval[1] * per_ticket),
        f"mean spend of an occasion {spend.value:.4g} over the model's "
        f"{scales.tickets_per_occasion:.4g} tickets per occasion (simulated)",
    )

    def alive_sum(p: np.ndarray) -> float:
        f = btyd.Fit(rate_fit.model, rate_fit.names, p, rate_fit.cov_log, 0.0, 0)
        return float(p_alive(f, s).sum())

    initial = Figure(
        alive_sum(rate_fit.params),
        _interval(rate_fit, alive_sum, seed) if s.customers <= 200_000 else None,
        f"expected customers still alive at the calibration end ({name} P(alive), summed "
        f"over the {s.customers:,} customers of the log)",
    )
    recent = new_customers_recent / (RECENT_DAYS / DAYS_PER_MONTH)
    prospects = Figure(
        recent / _BUSINESS.prospect_conversion,
        None,
        f"{new_customers_recent:,} new customers in the last {RECENT_DAYS} days of the "
        f"calibration ({recent:.4g} a month) over the default prospect conversion "
        f"{_BUSINESS.prospect_conversion:g}",
    )
    hazard = Figure(
        scales.hazard_scale,
        None,
        f"the default hazards times {scales.hazard_scale:.4g}, found by simulation: the "
        f"calibration customers' simulated {scales.targets.weeks:g}-week survival "
        f"{scales.simulated_survival:.3f} against the fit's {scales.target_survival:.3f}",
    )

    def survival(p: np.ndarray) -> float:
        from loyaltysim.calibration.agents import fit_targets

        f = btyd.Fit(rate_fit.model, rate_fit.names, p, rate_fit.cov_log, 0.0, 0)
        t = fit_targets(f, s, scales.targets.weeks)
        return t.alive_end / max(t.alive_start, 1e-9)

    surv = Figure(
        scales.target_survival,
        _interval(rate_fit, survival, seed) if s.customers <= 50_000 else None,
        f"{name}: share of customers alive at the calibration end still alive "
        f"{scales.targets.weeks:g} weeks later",
    )
    return Calibrated(visits, shape, price, spend, spread, initial, prospects, hazard, surv)


def calibration_section(fits: dict[str, btyd.Fit], scales: Scales) -> dict[str, Any]:
    """``[calibration]``: the BG/NBD fit (weeks), its covariance when the Hessian gave one,
    and the visit scale; the customers file is named by the text that is written."""
    bg = fits["bg_nbd"]
    out: dict[str, Any] = {n: _round(bg[n]) for n in bg.names}
    if np.all(np.isfinite(bg.cov_log)):
        out["covariance"] = [[float(f"{v:.6g}") for v in row] for row in bg.cov_log]
    out["visit_scale"] = _round(scales.visit_scale)
    return out


def scenario_dict(
    name: str, fig: Calibrated, seed: int, calibration: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The scenario's fitted keys (the rest take their defaults)."""
    price = max(fig.price.value, 0.01)  # a log of free items has none; the schema wants one
    ratio = price / _BUSINESS.price
    beh = {k: min(getattr(_BEHAVIOUR, k) * fig.hazard_scale.value, HAZARD_MAX) for k in HAZARD_KEYS}
    return {
        "scenario": {"name": name, "seed": seed},
        "business": {
            "price": _round(price),
            "unit_cost": _round(_BUSINESS.unit_cost * ratio),
            "prospects_per_month": _round(fig.prospects_per_month.value),
        },
        "customers": {
            "initial": round(fig.initial.value),
            "segments": [
                {
                    "name": "log customers",
                    "share": 1.0,
                    "visits_per_month": _round(min(fig.visits_per_month.value, 300.0)),
                    # The schema's bound: above it the rates hardly differ anyway.
                    "visit_heterogeneity": _round(min(fig.visit_heterogeneity.value, 1000.0)),
                }
            ],
        },
        "competitor": {"price": _round(_COMPETITOR.price * ratio)},
        "behaviour": {k: _round(v) for k, v in beh.items()},
        **({"calibration": calibration} if calibration else {}),
    }


def _round(v: float) -> float:
    return float(f"{v:.6g}")


def scenario_text(
    data: dict[str, Any],
    fig: Calibrated,
    source: str,
    periods: str,
    fits: dict[str, btyd.Fit],
    customers_file: str | None = None,
) -> str:
    """The scenario as a commented TOML file; ``customers_file`` (beside it) makes a run
    start from the log's customers."""
    b, c, seg = data["business"], data["customers"], data["customers"]["segments"][0]
    beh = data["behaviour"]
    lines = [
        *_comment(
            f"Calibrated from the purchase log {source} ({periods}) by `loyaltysim calibrate`."
        ),
        "#",
        "# Fitted: purchase rates and their spread, dropout, spend, the customers alive now",
        "# and the rate of new ones (each figure below says where it comes from, with its",
        "# 95% interval). A purchase log cannot identify the rest, which keeps the documented",
        "# defaults (list them with `loyaltysim schema`): service quality and events,",
        "# satisfaction, attachment, complaints, word of mouth, price sensitivity and deal",
        "# proneness, the competitor's promotions, fixed costs, starting cash and the cash",
        "# floor. Set those from what you know of the business.",
        "#",
        "# Fits (weeks):",
    ]
    for f in fits.values():
        parts = []
        for n in f.names:
            lo, hi = f.interval(n)
            ci = f" [{lo:.4g}, {hi:.4g}]" if np.isfinite(lo) else ""
            parts.append(f"{n} {f[n]:.4g}{ci}")
        lines += _comment(f"{f.model}: " + ", ".join(parts), indent="  ")
    lines += [
        "",
        "[scenario]",
        f"name = {_toml_str(data['scenario']['name'])}",
        f"seed = {data['scenario']['seed']}",
        "",
        "[business]",
        f"price = {b['price']!r}",
        *_comment(fig.price.comment()),
    ]
    if fig.spend_spread is not None:
        lines += _comment(
            f"Spend differs across customers ({fig.spend_spread.comment()}); the model has "
            "one price, so the spread is reported, not simulated."
        )
    lines += [
        f"unit_cost = {b['unit_cost']!r}",
        f"# not in a purchase log: the default margin ({_BUSINESS.gross_margin:.1%}) is kept",
        f"prospects_per_month = {b['prospects_per_month']!r}",
        *_comment(fig.prospects_per_month.comment()),
        "",
        "[customers]",
        f"initial = {c['initial']}",
        *_comment(fig.initial.comment(".0f")),
        "",
        "[[customers.segments]]",
        f"name = {_toml_str(seg['name'])}",
        "share = 1.0",
        f"visits_per_month = {seg['visits_per_month']!r}",
        *_comment(fig.visits_per_month.comment()),
        f"visit_heterogeneity = {seg['visit_heterogeneity']!r}",
        *_comment(fig.visit_heterogeneity.comment()),
        "",
        "[competitor]",
        f"price = {data['competitor']['price']!r}",
        f"# not in a purchase log: the default ratio to the list price "
        f"({_COMPETITOR.price / _BUSINESS.price:.3f}) is kept",
        "",
        "[behaviour]",
        *_comment(
            f"Defection: {fig.hazard_scale.comment()} (fit: {fig.survival.comment('.3f')}). "
            "The causes keep their default mix."
        ),
    ]
    lines += [f"{k} = {v!r}" for k, v in beh.items()]
    cal = data.get("calibration")
    if cal:
        lines += ["", "[calibration]"]
        if customers_file:
            lines += [
                f"customers = {_toml_str(customers_file)}",
                *_comment(
                    "The log's customers (beside this file): a run starts from them, each "
                    "agent's purchase rate and alive-probability drawn from the BG/NBD "
                    "posterior given its history, so customers.initial is not used. Remove "
                    "this line to draw customers.initial customers from the segment instead."
                ),
            ]
        lines += _comment(
            "The BG/NBD fit (weeks) the posterior comes from, and the occasions per purchase "
            "of the model (visit_scale, found by simulation)."
        )
        lines += [f"{k} = {cal[k]!r}" for k in ("r", "alpha", "a", "b")]
        if "covariance" in cal:
            lines += _comment("Covariance of log(r), log(alpha), log(a), log(b): the fit's.")
            cov = cal["covariance"]
            rows = ", ".join("[" + ", ".join(repr(v) for v in row) + "]" for row in cov)
            lines.append(f"covariance = [{rows}]")
        lines.append(f"visit_scale = {cal['visit_scale']!r}")
        if "covariance" in cal:
            lines += [
                "parameter_uncertainty = false",
                *_comment(
                    "true: each replication draws r, alpha, a, b from their sampling "
                    "distribution, so the intervals include what the log does not pin down."
                ),
            ]
    return "\n".join(lines) + "\n"


def _comment(text: str, indent: str = "") -> list[str]:
    """``text`` as comment lines that fit the project's line length."""
    wrapped = textwrap.wrap(text, width=WIDTH - 2 - len(indent), break_on_hyphens=False)
    return [f"# {indent}{line}" for line in wrapped]


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_scenario(data: dict[str, Any]) -> Scenario:
    """Validate the scenario's data (a bug here is ours, not the user's)."""
    return Scenario.model_validate(data, strict=False)
