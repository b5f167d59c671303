"""The stylized facts of the modelling basis (section 4), measured on a scenario.

Each fact is an experiment on the given scenario: the scenario itself (the "world"), plus
the variants the fact needs (a promotion, a welcome discount, follow-ups, flat discounts),
all run with common random numbers. Each fact reports a measured value with a 95%
interval over replications, its target, and whether the target holds. Targets are the
modelling basis's; the tolerances are stated beside them and are not loosened to pass.

How each fact is measured (cohorts are the customers present on day 0, after one year):

1. share of defectors whose satisfaction was in the top two of five bands (S >= 0.6);
2. one-year retention of customers whose service included exceptional moments and no
   indifference, divided by that of customers who met indifference and nothing
   exceptional;
3. shares of recorded causes: indifference; indifference plus poor service;
4. one-year retention of the day-0 customers;
5. one-year retention by complaint history: a problem but no complaint < complained,
   unresolved < resolved < resolved quickly; the last within 80-95%;
6. positive : negative word-of-mouth volume;
7. at a 25% gross margin, a 20% promotion calendar lowers profit, and customers won by a
   25% welcome discount contribute less than customers won at full price;
8. after six months of frequent promotions (days 90-269) stop, purchases per customer in
   the next 30 days, over the 30 days before they started, fall below the same ratio
   without promotions;
9. a late, generic thank-you note moves one-year retention by at most 3 points; a phone
   call to the dissatisfied raises profit exactly when its retention gain times a
   customer's value exceeds its cost;
10. for flat discounts of 5%, 10% and 20%, whenever the simulated lift falls short of
    d / (m - d), profit falls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from loyaltysim.analysis.stats import mean_ci
from loyaltysim.analysis.summary import realised_lifts
from loyaltysim.experiment import Executor, run_experiment
from loyaltysim.model.population import (
    ORIGIN_INITIAL,
    ORIGIN_PAID,
    RECOVERY_RESOLVED,
    RECOVERY_RESOLVED_QUICKLY,
    RECOVERY_SILENT,
    RECOVERY_UNRESOLVED,
)
from loyaltysim.model.result import CAUSES, RunResult
from loyaltysim.scenario.schema import Scenario

YEAR = 365
SATISFIED = 0.6


@dataclass
class Fact:
    """One stylized fact as measured: value, 95% interval, target and verdict."""

    number: int
    name: str
    target: str
    value: float
    ci95: tuple[float, float]
    passed: bool
    detail: str = ""

    def as_dict(self) -> dict:
        def clean(x: float) -> float | None:
            return None if not np.isfinite(x) else float(x)

        return {
            "number": self.number,
            "name": self.name,
            "target": self.target,
            "value": clean(self.value),
            "ci95": [clean(self.ci95[0]), clean(self.ci95[1])],
            "passed": self.passed,
            "detail": self.detail,
        }


def _with(base: Scenario, **sections: dict) -> Scenario:
    """A copy of ``base`` with some sections' keys replaced (validated again)."""
    data = base.model_dump(mode="python")
    data["variants"] = []
    for section, values in sections.items():
        if section == "discount":
            data["discount"] = values  # a new policy replaces the old one whole
        else:
            data[section] = {**data[section], **values}
    return Scenario.model_validate(data, strict=False)


def _per_rep(runs: Sequence[RunResult], fn: Callable[[RunResult], float]) -> np.ndarray:
    return np.array([fn(r) for r in runs], dtype=float)


def _ci(values: np.ndarray) -> tuple[float, tuple[float, float]]:
    mean, (lo, hi) = mean_ci(values)
    return float(mean), (float(lo), float(hi))


def _retained(run: RunResult, mask: np.ndarray) -> float:
    """Share of the customers in ``mask`` still customers one year after day 0."""
    c = run.customers
    assert c is not None
    left = c["left"][mask]
    if len(left) == 0:
        return float("nan")
    return float(np.mean((left < 0) | (left >= YEAR)))


def _day0(run: RunResult) -> np.ndarray:
    assert run.customers is not None
    return run.customers["origin"] == ORIGIN_INITIAL


def _in(value: float, lo: float, hi: float) -> bool:
    return bool(np.isfinite(value) and lo <= value <= hi)


def measure_facts(
    scenario: Scenario,
    replications: int,
    root_seed: int,
    executor: Executor | None = None,
) -> list[Fact]:
    """Run the experiments behind the ten facts and measure each one."""
    world = _with(scenario, scenario={"horizon_days": YEAR})
    # The thin-margin comparison is about the promotion's own profit: no fixed costs and
    # no cash floor, so ruin does not cut both runs short at different days.
    m25 = {
        "unit_cost": 0.75 * world.business.price,
        "fixed_costs_per_month": 0.0,
        "cash_floor": -1e12,
    }
    grocery = _with(world, business=m25)
    variants: list[tuple[str, Scenario]] = [
        ("world", world),
        ("grocery", grocery),
        ("grocery promotion", _with(grocery, discount={"kind": "promotion", "rate": 0.20})),
        ("welcome 25%", _with(world, discount={"kind": "first_visit", "rate": 0.25})),
        (
            "promotions stop",
            _with(
                world,
                discount={
                    "kind": "promotion",
                    "rate": 0.20,
                    "every_days": 14,
                    "length_days": 7,
                    "start_day": 90,
                    "stop_day": 270,
                },
            ),
        ),
        (
            "late thank-you",
            _with(
                world,
                followup={
                    "kind": "after_purchase",
                    "channel": "thank_you_note",
                    "target": "all",
                    "delay_days": 30,
                    "monthly_budget": 1e9,
                    "min_days_between_contacts": 90,
                },
            ),
        ),
        (
            "call the dissatisfied",
            _with(
                world,
                followup={
                    "kind": "periodic",
                    "every_days": 30,
                    "channel": "phone_call",
                    "target": "dissatisfied",
                    "monthly_budget": 1e9,
                },
            ),
        ),
    ]
    flat_rates = (0.05, 0.10, 0.20)
    variants += [
        (f"flat {d:.0%}", _with(world, discount={"kind": "flat", "rate": d})) for d in flat_rates
    ]
    results = run_experiment(variants, replications, root_seed, executor, keep_customers=True)
    runs = results.runs
    base = runs["world"]
    facts: list[Fact] = []

    # 1. Satisfied defectors
    shares = _per_rep(
        base,
        lambda r: (
            float(np.mean(r.defections["satisfaction"] >= SATISFIED))
            if len(r.defections["satisfaction"])
            else float("nan")
        ),
    )
    v, ci = _ci(shares)
    facts.append(
        Fact(
            1,
            "satisfied defectors",
            "70-90% of defectors satisfied (S >= 0.6)",
            v,
            ci,
            _in(v, 0.70, 0.90),
        )
    )

    # 2. Exceptional service vs indifference
    def ratio(r: RunResult) -> float:
        c = r.customers
        assert c is not None
        exc = _day0(r) & c["ever_exceptional"] & ~c["ever_indifference"]
        ind = _day0(r) & c["ever_indifference"] & ~c["ever_exceptional"]
        low = _retained(r, ind)
        return _retained(r, exc) / low if low > 0 else float("nan")

    v, ci = _ci(_per_rep(base, ratio))
    facts.append(
        Fact(
            2,
            "exceptional service",
            "10-15x the one-year retention of indifference",
            v,
            ci,
            _in(v, 10.0, 15.0),
        )
    )

    # 3. Causes
    def cause_share(r: RunResult, names: tuple[str, ...]) -> float:
        causes = r.defections["cause"]
        codes = [CAUSES.index(n) for n in names]
        return float(np.isin(causes, codes).mean()) if len(causes) else float("nan")

    ind_v, ind_ci = _ci(_per_rep(base, lambda r: cause_share(r, ("indifference",))))
    poor_v, poor_ci = _ci(
        _per_rep(base, lambda r: cause_share(r, ("indifference", "poor_service")))
    )
    facts.append(
        Fact(
            3,
            "causes of defection",
            "indifference ~60% (50-70%); with poor service ~70% (60-80%)",
            ind_v,
            ind_ci,
            _in(ind_v, 0.50, 0.70) and _in(poor_v, 0.60, 0.80),
            detail=f"indifference + poor service: {poor_v:.1%} "
            f"[{poor_ci[0]:.1%}, {poor_ci[1]:.1%}]",
        )
    )

    # 4. Baseline churn
    v, ci = _ci(_per_rep(base, lambda r: _retained(r, _day0(r))))
    facts.append(
        Fact(4, "baseline retention", "annual retention 55-65%", v, ci, _in(v, 0.55, 0.65))
    )

    # 5. Recovery ladder
    ladder = (RECOVERY_SILENT, RECOVERY_UNRESOLVED, RECOVERY_RESOLVED, RECOVERY_RESOLVED_QUICKLY)
    steps = np.array(
        [
            [_retained(r, _day0(r) & (r.customers["recovery"] == s)) for s in ladder]  # type: ignore[index]
            for r in base
        ]
    )
    means = np.nanmean(steps, axis=0)
    quick, quick_ci = _ci(steps[:, 3])
    rising = bool(np.all(np.diff(means) > 0))
    facts.append(
        Fact(
            5,
            "recovery ladder",
            "silent < unresolved < resolved < resolved quickly (80-95%)",
            quick,
            quick_ci,
            rising and _in(quick, 0.80, 0.95),
            detail="retention " + " < ".join(f"{m:.1%}" for m in means),
        )
    )

    # 6. Word of mouth
    v, ci = _ci(
        _per_rep(
            base,
            lambda r: (
                r.daily["positive_mentions"].sum() / max(r.daily["negative_mentions"].sum(), 1)
            ),
        )
    )
    facts.append(
        Fact(6, "word of mouth", "positive : negative between 2:1 and 4:1", v, ci, _in(v, 2.0, 4.0))
    )

    # 7. Promotions at a thin margin; welcome-discount customers
    def profit(r: RunResult) -> float:
        d = r.daily
        return float(d["cash"][-1])

    promo_loss = _per_rep(runs["grocery promotion"], profit) - _per_rep(runs["grocery"], profit)
    pv, pci = _ci(promo_loss)

    def paid_value(r: RunResult) -> float:
        c = r.customers
        assert c is not None
        won = c["origin"] == ORIGIN_PAID
        return float(c["contribution"][won].mean()) if won.any() else float("nan")

    worth = _per_rep(runs["welcome 25%"], paid_value) - _per_rep(base, paid_value)
    wv, wci = _ci(worth)
    facts.append(
        Fact(
            7,
            "promotions at 25% margin",
            "a 20% promotion loses money; welcome-discount customers are worth less",
            pv,
            pci,
            pci[1] < 0 and wci[1] < 0,
            detail=f"welcome-discount customer minus full-price customer: {wv:,.2f} "
            f"[{wci[0]:,.2f}, {wci[1]:,.2f}] contribution each",
        )
    )

    # 8. Reference-price erosion, as a difference in differences: purchases per customer
    # in the month after the promotions stop over the month before they started, relative
    # to the same ratio without promotions (so trend and composition cancel).
    before, after = slice(60, 90), slice(270, 300)

    def rebound(r: RunResult) -> float:
        d = r.daily

        def rate(days: slice) -> float:
            return float(d["purchases"][days].sum() / max(d["customers"][days].sum(), 1))

        return rate(after) / rate(before)

    dip = _per_rep(runs["promotions stop"], rebound) / _per_rep(base, rebound) - 1
    v, ci = _ci(dip)
    facts.append(
        Fact(
            8,
            "reference-price erosion",
            "after promotions stop, purchases per customer fall below the baseline",
            v,
            ci,
            ci[1] < 0,
            detail="days 270-299 over days 60-89, relative to no promotions",
        )
    )

    # 9. Follow-ups
    thanks = _per_rep(runs["late thank-you"], lambda r: _retained(r, _day0(r))) - _per_rep(
        base, lambda r: _retained(r, _day0(r))
    )
    tv, tci = _ci(thanks)
    calls = runs["call the dissatisfied"]
    kept = _per_rep(calls, lambda r: r.daily["customers"][-1]) - _per_rep(
        base, lambda r: r.daily["customers"][-1]
    )
    value = _per_rep(
        base, lambda r: r.daily["gross_profit"].sum() / max(r.daily["customers"].mean(), 1)
    )
    cost = _per_rep(calls, lambda r: r.daily["followup_cost"].sum())
    gain = _per_rep(calls, profit) - _per_rep(base, profit)
    expected = float(np.mean(kept * value - cost))
    consistent = (
        np.sign(expected) == np.sign(float(np.mean(gain))) or abs(float(np.mean(gain))) < 1e-9
    )
    facts.append(
        Fact(
            9,
            "follow-ups",
            "a late thank-you moves retention by <= 3 points; calls pay iff gain x value > cost",
            tv,
            tci,
            max(abs(tci[0]), abs(tci[1])) <= 0.03 and bool(consistent),
            detail=f"calls: {np.mean(kept):+.1f} customers x {np.mean(value):,.0f} value - "
            f"{np.mean(cost):,.0f} cost = {expected:+,.0f}; simulated profit change "
            f"{np.mean(gain):+,.0f}",
        )
    )

    # 10. Break-even arithmetic
    m = world.business.gross_margin
    checks = []
    for d in flat_rates:
        flat = runs[f"flat {d:.0%}"]
        lift = float(np.mean(realised_lifts(flat, base)))  # over the days both traded
        required = d / (m - d) if d < m else float("inf")
        change = float(np.mean(_per_rep(flat, profit) - _per_rep(base, profit)))
        checks.append((d, lift, required, change, lift >= required or change < 0))
    all_hold = all(c[4] for c in checks)
    facts.append(
        Fact(
            10,
            "break-even",
            "profit falls whenever the lift is below d / (m - d)",
            float(sum(c[4] for c in checks)),
            (float("nan"), float("nan")),
            all_hold,
            detail="; ".join(
                f"{d:.0%}: lift {lift:+.1%} vs needed {req:.1%}, profit {ch:+,.0f}"
                for d, lift, req, ch, _ in checks
            ),
        )
    )
    return facts
