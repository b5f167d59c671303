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

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from loyaltysim.analysis.stats import mean_ci
from loyaltysim.analysis.summary import realised_lifts
from loyaltysim.experiment import Executor, run_experiment
from loyaltysim.model.population import (
    ORIGIN_INITIAL,
    ORIGIN_PAID,
    RECOVERY_PENDING,
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


# The variants each fact needs besides the world (the scenario itself).
FACT_VARIANTS: dict[int, tuple[str, ...]] = {
    1: (),
    2: (),
    3: (),
    4: (),
    5: (),
    6: (),
    7: ("grocery", "grocery promotion", "welcome 25%"),
    8: ("promotions stop",),
    9: ("late thank-you", "call the dissatisfied"),
    10: ("flat 5%", "flat 10%", "flat 20%"),
    11: ("price -10%", "price +10%", "no rival", "no rival, price x10"),
}
FACT_NUMBERS: tuple[int, ...] = tuple(FACT_VARIANTS)
# Held out of all tuning of the shipped calibrations: reported as a check of them.
HELD_OUT_FACT = 11
ELASTICITY_RANGE = (-1.2, -0.5)  # food away from home -0.81 (Andreyeva et al. 2010)

# For each fact, a world in which it fails: what to change (dotted keys, applied to a
# calibrated scenario such as scenarios/seed-claims.toml) and why it must fail. A fact
# that cannot fail measures the code, not the world; tests/validation runs each one.
COUNTER_SCENARIOS: dict[int, tuple[str, dict[str, object]]] = {
    1: (
        "bad service: what customers feel, and so say, is poor",
        {"business.service_quality": 0.45},
    ),
    2: (
        "exceptional moments build no bond and indifference does no harm",
        {
            "behaviour.exceptional_attachment": 0.0,
            "behaviour.indifference_attachment": 0.0,
            "behaviour.indifference_hazard": 0.0,
        },
    ),
    3: ("staff are never indifferent", {"business.staff_indifference": 0.0}),
    4: ("customers move away five times as often", {"behaviour.other_hazard": 5.0}),
    5: (
        "an open complaint is what drives customers out",
        {"behaviour.pending_complaint_hazard": 100.0},
    ),
    6: ("the unhappy talk ten times as much", {"behaviour.negative_mentions_per_month": 20.0}),
    7: (
        "few buy at list price and deals are irresistible, so a sale multiplies volume",
        {"behaviour.focal_constant": -5.0, "behaviour.deal_weight": 15.0},
    ),
    8: (
        "no reference prices: paying less teaches nothing",
        {
            "behaviour.gain_weight": 0.0,
            "behaviour.loss_weight": 0.0,
            "behaviour.reference_price_memory": 1.0,
        },
    ),
    9: (
        "a thank-you note that binds for a year",
        {
            "channels.thank_you_note.attachment_effect": 0.5,
            "channels.thank_you_note.satisfaction_effect": 0.3,
            "channels.thank_you_note.fade_days": 365.0,
        },
    ),
    10: ("an identity: judged by another margin than the variant's own, the rule fails", {}),
    11: ("the price level does not matter", {"behaviour.price_weight": 0.0}),
}


def _world(scenario: Scenario) -> Scenario:
    """The scenario over one year, its variants removed. A world without a survey gets
    the default one: fact 1 is about what defectors *said*."""
    world = _with(scenario, scenario={"horizon_days": YEAR})
    if world.survey.kind == "none":
        world = _with(world, survey={"kind": "csat"})
    return world


def fact_variants(world: Scenario) -> dict[str, Scenario]:
    """Every variant any fact needs, built from the world."""
    # The thin-margin comparison is about the promotion's own profit: no fixed costs and
    # no cash floor, so ruin does not cut both runs short at different days.
    m25 = {
        "unit_cost": 0.75 * world.business.price,
        "fixed_costs_per_month": 0.0,
        "cash_floor": -1e12,
    }
    grocery = _with(world, business=m25)
    p0 = world.business.price
    # No rival on anyone's mind: nobody is aware of it or learns of it.
    segments = [{**s.model_dump(), "competitor_awareness": 0.0} for s in world.customers.segments]
    unaware: dict[str, dict] = {
        "customers": {"segments": segments},
        "competitor": {"awareness_growth_per_month": 0.0, "promotion_awareness_boost": 0.0},
        "behaviour": {"negative_awareness_effect": 0.0},
    }
    alone = _with(world, **unaware)
    open_books = {"cash_floor": -1e12}  # profit compared over the whole year
    return {
        "grocery": grocery,
        "grocery promotion": _with(grocery, discount={"kind": "promotion", "rate": 0.20}),
        "welcome 25%": _with(world, discount={"kind": "first_visit", "rate": 0.25}),
        "promotions stop": _with(
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
        "late thank-you": _with(
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
        "call the dissatisfied": _with(
            world,
            followup={
                "kind": "periodic",
                "every_days": 30,
                "channel": "phone_call",
                "target": "dissatisfied",
                "monthly_budget": 1e9,
            },
        ),
        **{
            f"flat {d:.0%}": _with(world, discount={"kind": "flat", "rate": d})
            for d in (0.05, 0.10, 0.20)
        },
        "price -10%": _with(world, business={"price": 0.9 * p0, **open_books}),
        "price +10%": _with(world, business={"price": 1.1 * p0, **open_books}),
        "no rival": _with(alone, business=open_books),
        "no rival, price x10": _with(alone, business={"price": 10 * p0, **open_books}),
    }


def measure_facts(
    scenario: Scenario,
    replications: int,
    root_seed: int,
    executor: Executor | None = None,
    only: Collection[int] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Fact]:
    """Run the experiments behind the stylized facts and measure each one.

    ``only`` picks facts by number (all of :data:`FACT_NUMBERS` by default); only the
    variants those facts need are run. ``progress(done, replications)`` is called as each
    replication (all its variants) finishes.
    """
    numbers = [n for n in FACT_NUMBERS if only is None or n in only]
    world = _world(scenario)
    needed = {name for n in numbers for name in FACT_VARIANTS[n]}
    built = fact_variants(world)
    variants = [("world", world)] + [(name, sc) for name, sc in built.items() if name in needed]
    done = 0

    def on_replication(_group: Sequence[RunResult]) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, replications)

    results = run_experiment(
        variants, replications, root_seed, executor, on_replication, keep_customers=True
    )
    runs = results.runs
    base = runs["world"]
    facts: list[Fact] = []
    measure = {
        1: _fact1,
        2: _fact2,
        3: _fact3,
        4: _fact4,
        5: _fact5,
        6: _fact6,
        7: _fact7,
        8: _fact8,
        9: _fact9,
        10: _fact10,
        11: _fact11,
    }
    for n in numbers:
        facts.append(measure[n](world, base, runs))
    return facts


def _profit(r: RunResult) -> float:
    """End-of-year cash: differences between paired runs are profit differences."""
    return float(r.daily["cash"][-1])


Runs = dict[str, list[RunResult]]


def _stated_share(r: RunResult) -> float:
    """Share of a replication's defectors who said "satisfied" in their last answer,
    among those who ever answered."""
    said = np.asarray(r.defections["stated_satisfied"], dtype=float)
    said = said[np.isfinite(said)]
    return float(np.mean(said)) if len(said) else float("nan")


def _fact1(world: Scenario, base: list[RunResult], runs: Runs) -> Fact:
    v, ci = _ci(_per_rep(base, _stated_share))
    felt = _per_rep(
        base,
        lambda r: (
            float(np.mean(r.defections["satisfaction"] >= SATISFIED))
            if len(r.defections["satisfaction"])
            else float("nan")
        ),
    )
    answered = _per_rep(
        base, lambda r: float(np.mean(np.isfinite(r.defections["stated_satisfied"])))
    )
    return Fact(
        1,
        "satisfied defectors",
        "70-90% of defectors said they were satisfied in their last survey",
        v,
        ci,
        _in(v, 0.70, 0.90),
        detail=f"felt S >= {SATISFIED} at departure: {np.nanmean(felt):.1%}; "
        f"{np.nanmean(answered):.0%} of defectors had answered a {world.survey.kind} survey",
    )


def _fact2(world: Scenario, base: list[RunResult], runs: Runs) -> Fact:
    def ratio(r: RunResult) -> float:
        c = r.customers
        assert c is not None
        exc = _day0(r) & c["ever_exceptional"] & ~c["ever_indifference"]
        ind = _day0(r) & c["ever_indifference"] & ~c["ever_exceptional"]
        low = _retained(r, ind)
        return _retained(r, exc) / low if low > 0 else float("nan")

    v, ci = _ci(_per_rep(base, ratio))
    return Fact(
        2,
        "exceptional service",
        "10-15x the one-year retention of indifference",
        v,
        ci,
        _in(v, 10.0, 15.0),
    )


def _cause_share(r: RunResult, names: tuple[str, ...]) -> float:
    causes = r.defections["cause"]
    codes = [CAUSES.index(n) for n in names]
    return float(np.isin(causes, codes).mean()) if len(causes) else float("nan")


def _fact3(world: Scenario, base: list[RunResult], runs: Runs) -> Fact:
    ind_v, ind_ci = _ci(_per_rep(base, lambda r: _cause_share(r, ("indifference",))))
    poor_v, poor_ci = _ci(
        _per_rep(base, lambda r: _cause_share(r, ("indifference", "poor_service")))
    )
    return Fact(
        3,
        "causes of defection",
        "indifference ~60% (50-70%); with poor service ~70% (60-80%)",
        ind_v,
        ind_ci,
        _in(ind_v, 0.50, 0.70) and _in(poor_v, 0.60, 0.80),
        detail=f"indifference + poor service: {poor_v:.1%} [{poor_ci[0]:.1%}, {poor_ci[1]:.1%}]",
    )


def _fact4(world: Scenario, base: list[RunResult], runs: Runs) -> Fact:
    v, ci = _ci(_per_rep(base, lambda r: _retained(r, _day0(r))))
    return Fact(4, "baseline retention", "annual retention 55-65%", v, ci, _in(v, 0.55, 0.65))


def _fact5(world: Scenario, base: list[RunResult], runs: Runs) -> Fact:
    ladder = (RECOVERY_SILENT, RECOVERY_UNRESOLVED, RECOVERY_RESOLVED, RECOVERY_RESOLVED_QUICKLY)

    def rung(r: RunResult) -> np.ndarray:
        # A complaint still waiting for its answer when the customer left (or when the
        # year ended) is, so far, an unresolved one: leaving it out would hide exactly the
        # customers that slow handling drove away.
        assert r.customers is not None
        rec = r.customers["recovery"]
        return np.where(rec == RECOVERY_PENDING, RECOVERY_UNRESOLVED, rec)

    steps = np.array([[_retained(r, _day0(r) & (rung(r) == s)) for s in ladder] for r in base])
    with np.errstate(all="ignore"):
        means = np.nanmean(steps, axis=0) if np.isfinite(steps).any() else steps[0]
    quick, quick_ci = _ci(steps[:, 3])
    rising = bool(np.all(np.diff(means) > 0))
    return Fact(
        5,
        "recovery ladder",
        "silent < unresolved < resolved < resolved quickly (80-95%)",
        quick,
        quick_ci,
        rising and _in(quick, 0.80, 0.95),
        detail="retention " + " < ".join(f"{m:.1%}" for m in means),
    )


def _fact6(world: Scenario, base: list[RunResult], runs: Runs) -> Fact:
    v, ci = _ci(
        _per_rep(
            base,
            lambda r: (
                r.daily["positive_mentions"].sum() / max(r.daily["negative_mentions"].sum(), 1)
            ),
        )
    )
    return Fact(
        6,
        "word of mouth",
        "positive : negative between 2:1 and 4:1",
        v,
        ci,
        _in(v, 2.0, 4.0),
        detail="held out of all tuning of the shipped calibrations (a check of them)"
        if HELD_OUT_FACT == 6
        else "",
    )


def _fact7(world: Scenario, base: list[RunResult], runs: Runs) -> Fact:
    promo_loss = _per_rep(runs["grocery promotion"], _profit) - _per_rep(runs["grocery"], _profit)
    pv, pci = _ci(promo_loss)

    def paid_value(r: RunResult) -> float:
        c = r.customers
        assert c is not None
        won = c["origin"] == ORIGIN_PAID
        return float(c["contribution"][won].mean()) if won.any() else float("nan")

    worth = _per_rep(runs["welcome 25%"], paid_value) - _per_rep(base, paid_value)
    wv, wci = _ci(worth)
    return Fact(
        7,
        "promotions at 25% margin",
        "a 20% promotion loses money; welcome-discount customers are worth less",
        pv,
        pci,
        pci[1] < 0 and wci[1] < 0,
        detail=f"welcome-discount customer minus full-price customer: {wv:,.2f} "
        f"[{wci[0]:,.2f}, {wci[1]:,.2f}] contribution each",
    )


def _fact8(world: Scenario, base: list[RunResult], runs: Runs) -> Fact:
    # Reference-price erosion, as a difference in differences: purchases per customer in
    # the month after the promotions stop over the month before they started, relative
    # to the same ratio without promotions (so trend and composition cancel).
    before, after = slice(60, 90), slice(270, 300)

    def rebound(r: RunResult) -> float:
        d = r.daily

        def rate(days: slice) -> float:
            return float(d["purchases"][days].sum() / max(d["customers"][days].sum(), 1))

        return rate(after) / rate(before)

    dip = _per_rep(runs["promotions stop"], rebound) / _per_rep(base, rebound) - 1
    v, ci = _ci(dip)
    return Fact(
        8,
        "reference-price erosion",
        "after promotions stop, purchases per customer fall below the baseline",
        v,
        ci,
        ci[1] < 0,
        detail="days 270-299 over days 60-89, relative to no promotions",
    )


def _fact9(world: Scenario, base: list[RunResult], runs: Runs) -> Fact:
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
    gain = _per_rep(calls, _profit) - _per_rep(base, _profit)
    expected = float(np.mean(kept * value - cost))
    # The rule of thumb decides only when it is clear: within 10% of the calls' cost of
    # break-even it says nothing, and any simulated outcome agrees with it.
    undecided = abs(expected) < 0.1 * float(np.mean(cost))
    consistent = (
        undecided
        or np.sign(expected) == np.sign(float(np.mean(gain)))
        or abs(float(np.mean(gain))) < 1e-9
    )
    return Fact(
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


def _fact10(
    world: Scenario, base: list[RunResult], runs: Runs, margin: float | None = None
) -> Fact:
    """An identity, not a finding: for a flat discount d the gross profit changes by
    ``GP_base x ((1 + lift)(m - d)/m - 1)``, whose sign is that of ``lift - d/(m - d)``,
    and a flat discount changes no other cost. It checks the ledger, the lift and the
    margin each variant is judged by; ``margin`` replaces the variant's own (its
    counter-test: judged by another margin, the rule fails)."""
    checks = []
    for d in (0.05, 0.10, 0.20):
        flat = runs[f"flat {d:.0%}"]
        m = world.business.gross_margin if margin is None else margin
        lift = float(np.mean(realised_lifts(flat, base)))  # over the days both traded
        required = d / (m - d) if d < m else float("inf")
        change = float(np.mean(_per_rep(flat, _profit) - _per_rep(base, _profit)))
        checks.append((d, lift, required, change, (lift >= required) == (change >= 0)))
    all_hold = all(c[4] for c in checks)
    return Fact(
        10,
        "break-even (identity)",
        "profit falls exactly when the lift is below d / (m - d)",
        float(sum(c[4] for c in checks)),
        (float("nan"), float("nan")),
        all_hold,
        detail="; ".join(
            f"{d:.0%}: lift {lift:+.1%} vs needed {req:.1%}, profit {ch:+,.0f}"
            for d, lift, req, ch, _ in checks
        ),
    )


def _fact11(world: Scenario, base: list[RunResult], runs: Runs) -> Fact:
    def purchases(r: RunResult) -> float:
        return float(r.daily["purchases"].sum())

    lo = _per_rep(runs["price -10%"], purchases)
    hi = _per_rep(runs["price +10%"], purchases)
    with np.errstate(all="ignore"):
        arc = ((hi - lo) / (hi + lo)) / ((1.1 - 0.9) / (1.1 + 0.9))
    v, ci = _ci(arc)
    worse = _per_rep(runs["no rival, price x10"], _profit) - _per_rep(runs["no rival"], _profit)
    wv, wci = _ci(worse)
    return Fact(
        11,
        "own-price elasticity",
        f"arc elasticity (list price +/-10%) in {ELASTICITY_RANGE[0]}..{ELASTICITY_RANGE[1]}; "
        "with no rival, 10x the list price earns less than the list price",
        v,
        ci,
        _in(v, *ELASTICITY_RANGE) and wci[1] < 0,
        detail=f"no rival: profit at 10x list minus at list {wv:+,.0f} "
        f"[{wci[0]:+,.0f}, {wci[1]:+,.0f}]; held out of all tuning of the shipped "
        "calibrations: a check of them, not a target",
    )
