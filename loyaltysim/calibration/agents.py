"""The log's own customers as the model's agents.

At the calibration end every customer of the log has a history: a purchase count, a
recency and an age. The fitted buy-till-you-die model turns that history into a posterior:
the customer is still alive with probability P(alive | x, t_x, T), and an alive customer's
purchase rate is Gamma(r + x, alpha + T) (the same posterior under BG/NBD and Pareto/NBD:
Fader, Hardie & Lee 2005, eq. (8); Schmittlein et al. 1987). :func:`draw_agents` draws one
state per customer from it; :class:`LogCustomersSimulation` is the model's
:class:`~loyaltysim.model.simulation.Simulation` whose initial customers are these agents
rather than draws from the scenario's segments, so a policy is tried on the very customers
the business has.

The model decides purchases through its own choice between the business, the competitor
and not buying, and defection through its own composite hazard; neither is a BTYD
process. So nothing here assumes a closed form of the model's internals: the agents'
purchase-occasion rates are the posterior purchase rates times one ``visit_scale``, and the
model's hazards are scaled by one ``hazard_scale``; :func:`match_scales` finds both by
simulation, with common random numbers, so that the simulated purchases and survivors of
the calibration customers over a window match what the fit expects of them.

Only the population is replaced (after the model has built it, so every other part of the
model runs as it is): no line of the model changes for this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

from loyaltysim.calibration import btyd
from loyaltysim.calibration.rfm import DAYS_PER_WEEK, CustomerSummary
from loyaltysim.model.simulation import Simulation
from loyaltysim.scenario.schema import Scenario

# The model's defection hazards, scaled together so the mix of causes is kept.
HAZARD_KEYS = (
    "other_hazard",
    "indifference_hazard",
    "poor_service_hazard",
    "competitor_hazard",
    "unresolved_hazard",
    "discount_ended_hazard",
)
HAZARD_MAX = 100.0  # the schema's bound on each hazard, per year
AGENT_STREAM = 1_000_003  # spawn-key salt of the posterior draws (apart from the model's)


@dataclass(frozen=True)
class AgentState:
    """Each calibration customer's state at the calibration end (one entry per customer)."""

    alive: np.ndarray  # bool
    rate: np.ndarray  # purchase occasions per day if alive (0 when not)
    weight: np.ndarray  # what the agent counts for: 1, or P(alive) in a weighted draw
    visits: np.ndarray  # occasions so far (x + 1)
    age_days: np.ndarray  # days since the first purchase (T)
    since_days: np.ndarray  # days since the last purchase (T - t_x)

    def __len__(self) -> int:
        return len(self.alive)


def posterior_fit(fits: dict[str, btyd.Fit]) -> btyd.Fit:
    """The fit whose posterior the agents come from: Pareto/NBD, whose dropout is a
    hazard in continuous time like the model's, else BG/NBD."""
    return fits.get("pareto_nbd") or fits["bg_nbd"]


def p_alive(fit: btyd.Fit, s: CustomerSummary) -> np.ndarray:
    if fit.model == "pareto_nbd":
        return btyd.paretonbd_p_alive(fit, s.frequency, s.recency, s.T)
    return btyd.bgnbd_p_alive(fit, s.frequency, s.recency, s.T)


def draw_agents(
    fit: btyd.Fit,
    s: CustomerSummary,
    rng: np.random.Generator,
    params: np.ndarray | None = None,
    *,
    weighted: bool = False,
    stratum: tuple[int, int] | None = None,
) -> AgentState:
    """One posterior draw of every customer's state.

    ``params`` replaces the fit's point estimate (a draw from its sampling distribution,
    to carry parameter uncertainty). ``weighted`` starts every customer alive with weight
    P(alive) instead of drawing who is alive: the same expectations (the log's customers
    hardly interact in the model), without the noise of the alive draw, which is most of
    the noise of a per-customer prediction. ``stratum = (j, k)`` draws the purchase rate
    from the j-th of k equal-probability slices of its posterior (stratified sampling
    across k copies of the customers).
    """
    used = fit if params is None else btyd.Fit(fit.model, fit.names, params, fit.cov_log, 0, 0)
    x, T = s.frequency.astype(float), s.T
    r, alpha = used["r"], used["alpha"]
    p = p_alive(used, s)
    alive = np.ones(len(x), dtype=bool) if weighted else rng.random(len(x)) < p
    if stratum is None:
        weekly = rng.gamma(r + x, 1.0 / (alpha + T))
    else:
        j, k = stratum
        u = np.clip((j + rng.random(len(x))) / k, 1e-12, 1 - 1e-12)
        weekly = stats.gamma.ppf(u, r + x, scale=1.0 / (alpha + T))
    return AgentState(
        alive=alive,
        rate=np.where(alive, weekly / DAYS_PER_WEEK, 0.0),
        weight=p if weighted else np.ones(len(x)),
        visits=(s.frequency + 1).astype(np.int32),
        age_days=np.rint(s.T * DAYS_PER_WEEK).astype(np.int32),
        since_days=np.rint((s.T - s.recency) * DAYS_PER_WEEK).astype(np.int32),
    )


def scale_hazards(scenario: Scenario, scale: float) -> Scenario:
    """The scenario with every defection hazard multiplied by ``scale`` (each kept within
    the schema's bound)."""
    beh = scenario.behaviour
    update = {k: min(getattr(beh, k) * scale, HAZARD_MAX) for k in HAZARD_KEYS}
    return scenario.model_copy(update={"behaviour": beh.model_copy(update=update)})


class LogCustomersSimulation(Simulation):
    """A replication whose initial customers are the log's customers (``state``).

    Day 0 of the simulation is the first day after the calibration end. Customers the draw
    found gone start inactive (a win-back offer may still bring them back, as any lapsed
    customer). ``counts`` and ``daily`` record the purchase occasions (days with a
    purchase, the log's counting) of these customers; newcomers are not counted.
    """

    def __init__(
        self,
        scenario: Scenario,
        replication: int,
        root_seed: int,
        state: AgentState,
        visit_scale: float,
    ) -> None:
        n = len(state)
        if scenario.customers.initial != n:
            customers = scenario.customers.model_copy(update={"initial": n})
            scenario = scenario.model_copy(update={"customers": customers})
        super().__init__(scenario, replication, root_seed)
        pop = self.pop
        rows = slice(0, n)
        pop.visit_rate[rows] = state.rate * visit_scale
        pop.active[rows] = state.alive
        pop.left[rows] = np.where(state.alive, -1, 0)
        # The calibration end is day -1: a purchase that day was one day before day 0.
        pop.joined[rows] = -(state.age_days + 1)
        pop.last_visit[rows] = -(state.since_days + 1)
        pop.visits[rows] = state.visits
        gap = state.age_days / np.maximum(state.visits - 1, 1)
        pop.usual_gap[rows] = np.where(state.visits > 1, gap, state.age_days + 1)
        self.n_log = n
        self.weight = state.weight
        self.visits_at_start = state.visits.astype(np.int64)
        self.counts = np.zeros(n, dtype=np.int64)
        self.daily_occasions = np.zeros(self.horizon)  # weighted

    def market_day(self, day: int) -> None:
        super().market_day(day)
        bought = self.pop.last_visit[: self.n_log] == day
        self.counts += bought
        self.daily_occasions[day] = float(np.dot(self.weight, bought))

    def tickets(self) -> float:
        """Tickets the log's customers bought in the simulation (weighted)."""
        bought = self.pop.visits[: self.n_log].astype(np.int64) - self.visits_at_start
        return float(np.dot(self.weight, bought))

    def survivors(self) -> float:
        """Log customers still active (weighted)."""
        return float(np.dot(self.weight, self.pop.active[: self.n_log]))


def backtest_scenario(scenario: Scenario, days: int) -> Scenario:
    """The scenario as a test bench for the log's customers over ``days``: no newcomers
    (only the log's customers are followed), and no fixed costs or cash floor that could
    close the business before the window ends."""
    return scenario.model_copy(
        update={
            "scenario": scenario.scenario.model_copy(update={"horizon_days": days}),
            "business": scenario.business.model_copy(
                update={
                    "prospects_per_month": 0.0,
                    "fixed_costs_per_month": 0.0,
                    "cash_floor": -1e12,
                    "starting_cash": 1e9,
                }
            ),
            "variants": (),
            # The agents here are drawn by this module (copies, weights, strata), at the
            # fit's estimates: a run's own [calibration] draws would replace them.
            "calibration": scenario.calibration.model_copy(
                update={"customers": "", "parameter_uncertainty": False}
            ),
        }
    )


# Agents simulated at once in one replication: the model's daily work is vectorised over
# customers, so copies of every customer (independent posterior draws) in one run cost far
# less than as many replications, and the per-customer means they give are far less noisy.
AGENTS_PER_RUN = 20_000
MAX_COPIES = 50


def copies_for(customers: int) -> int:
    """Copies of each log customer in one replication (1 for large logs)."""
    return max(1, min(MAX_COPIES, AGENTS_PER_RUN // max(customers, 1)))


@dataclass(frozen=True)
class AgentRun:
    """What one replication of the log's customers did over the window; ``counts`` has
    one row per copy of the customers, ``daily`` is per copy (the mean over copies)."""

    counts: np.ndarray  # (copies, customers) occasions
    weights: np.ndarray  # (copies, customers) what each agent counts for
    daily: np.ndarray  # weighted occasions per day of one copy of all log customers
    alive_start: float  # weighted, over all copies
    survivors: float
    tickets: float  # weighted tickets (the model sells tickets per occasion)

    @property
    def weighted_counts(self) -> np.ndarray:
        return self.counts * self.weights


def run_agents(
    scenario: Scenario,
    fit: btyd.Fit,
    s: CustomerSummary,
    days: int,
    replication: int,
    seed: int,
    visit_scale: float,
    params: np.ndarray | None = None,
    copies: int | None = None,
    weighted: bool = True,
) -> AgentRun:
    """Simulate the log's customers for ``days`` in one replication, ``copies`` of each
    (default :func:`copies_for`), their purchase rates stratified across the copies, alive
    weighted by P(alive) unless ``weighted`` is False (see :func:`draw_agents`). The
    posterior draws are keyed by (seed, replication) alone, so calls with other scales see
    the same agents and the same luck (common random numbers)."""
    k = copies_for(s.customers) if copies is None else copies
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(replication, AGENT_STREAM)))
    drawn = [draw_agents(fit, s, rng, params, weighted=weighted, stratum=(j, k)) for j in range(k)]
    state = AgentState(
        *(np.concatenate([getattr(d, f) for d in drawn]) for f in AgentState.__dataclass_fields__)
    )
    sim = LogCustomersSimulation(
        backtest_scenario(scenario, days), replication, seed, state, visit_scale
    )
    sim.run()
    return AgentRun(
        counts=sim.counts.reshape(k, s.customers),
        weights=state.weight.reshape(k, s.customers),
        daily=sim.daily_occasions / k,
        alive_start=float(np.dot(state.weight, state.alive)),
        survivors=sim.survivors(),
        tickets=sim.tickets(),
    )


@dataclass(frozen=True)
class Targets:
    """What the fit expects of the calibration customers over a window after the
    calibration end."""

    weeks: float
    purchases: float  # expected repeat occasions in the window
    alive_start: float  # expected customers alive at the calibration end
    alive_end: float  # expected still alive at the end of the window


def fit_targets(fit: btyd.Fit, s: CustomerSummary, weeks: float, rng_seed: int = 0) -> Targets:
    """Closed-form targets: expected purchases (the conditional expectation) and survivors.

    Pareto/NBD: an alive customer's dropout rate is Gamma(s, beta + T) given the history,
    so P(alive at T + t) = P(alive at T) ((beta + T)/(beta + T + t))^s. BG/NBD: a customer
    alive at T survives each later purchase with probability 1 - p, p ~ Beta(a, b + x);
    averaged over the posterior by Monte Carlo (fixed seed).
    """
    x, tx, T = s.frequency.astype(float), s.recency, s.T
    alive = p_alive(fit, s)
    if fit.model == "pareto_nbd":
        shape, beta = fit["s"], fit["beta"]
        survive = np.exp(shape * (np.log(beta + T) - np.log(beta + T + weeks)))
        purchases = btyd.paretonbd_expected(fit, x, tx, T, weeks)
    else:
        rng = np.random.default_rng(rng_seed)
        draws = 200
        lam = rng.gamma(fit["r"] + x, 1.0 / (fit["alpha"] + T), (draws, len(x)))
        p = rng.beta(fit["a"], fit["b"] + x, (draws, len(x)))
        survive = np.exp(-lam * p * weeks).mean(axis=0)
        purchases = btyd.bgnbd_expected(fit, x, tx, T, weeks)
    return Targets(
        weeks=weeks,
        purchases=float(purchases.sum()),
        alive_start=float(alive.sum()),
        alive_end=float((alive * survive).sum()),
    )


@dataclass(frozen=True)
class Scales:
    """The two scales found by :func:`match_scales`, and how close they came."""

    visit_scale: float  # occasion rate / purchase rate: what choice takes away
    hazard_scale: float  # multiplier of every defection hazard of the scenario
    targets: Targets
    simulated_purchases: float
    simulated_survival: float  # survivors / alive at the start, simulated
    target_survival: float
    tickets_per_occasion: float  # the model's tickets per purchase occasion
    iterations: int
    capped: bool  # a hazard hit the schema's bound


def match_scales(
    scenario: Scenario,
    fit: btyd.Fit,
    s: CustomerSummary,
    *,
    weeks: float = 52.0,
    replications: int = 4,
    seed: int = 0,
    tolerance: float = 0.01,
    max_iterations: int = 12,
    copies: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> Scales:
    """Scale the occasion rates and the composite hazard until the simulated purchases and
    survival of the calibration customers over ``weeks`` match the fit (within
    ``tolerance``, relative), with the same agents and luck in every iteration.

    Fixed-point steps: the visit scale by the ratio of target to simulated purchases; the
    hazard scale by the ratio of the logarithms of target and simulated survival (exact if
    the model's hazard were constant; close enough to converge since it is proportional).
    """
    targets = fit_targets(fit, s, weeks)
    days = round(weeks * DAYS_PER_WEEK)
    target_survival = targets.alive_end / max(targets.alive_start, 1e-9)
    visit_scale, hazard_scale = 1.0, 1.0
    capped = False
    runs: list[AgentRun] = []
    used = (visit_scale, hazard_scale)
    for iteration in range(1, max_iterations + 1):
        used = (visit_scale, hazard_scale)
        bench = scale_hazards(scenario, hazard_scale)
        capped = any(
            getattr(scenario.behaviour, k) * hazard_scale > HAZARD_MAX for k in HAZARD_KEYS
        )
        runs = [
            run_agents(bench, fit, s, days, rep, seed, visit_scale, copies=copies)
            for rep in range(replications)
        ]
        # Per copy of the log's customers, averaged over replications and copies.
        purchases = float(np.mean([r.weighted_counts.sum(axis=1).mean() for r in runs]))
        survival = float(
            np.sum([r.survivors for r in runs]) / max(np.sum([r.alive_start for r in runs]), 1e-9)
        )
        if progress is not None:
            progress(
                f"matching the model to the fit, step {iteration}: purchases "
                f"{purchases:,.0f} (target {targets.purchases:,.0f}), survival "
                f"{survival:.3f} (target {target_survival:.3f})"
            )
        ok_p = abs(purchases / targets.purchases - 1) < tolerance
        ok_s = abs(survival / target_survival - 1) < tolerance
        if ok_p and (ok_s or capped):
            break
        if purchases > 0:
            visit_scale *= targets.purchases / purchases
        if 0 < survival < 1 and 0 < target_survival < 1:
            hazard_scale *= float(np.log(target_survival) / np.log(survival))
        elif survival >= 1 and target_survival < 1:
            hazard_scale *= 2.0
    occasions = float(np.sum([r.weighted_counts.sum() for r in runs]))
    return Scales(
        visit_scale=used[0],
        hazard_scale=used[1],
        targets=targets,
        simulated_purchases=purchases,
        simulated_survival=survival,
        target_survival=target_survival,
        tickets_per_occasion=float(np.sum([r.tickets for r in runs])) / max(occasions, 1.0),
        iterations=iteration,
        capped=capped,
    )
