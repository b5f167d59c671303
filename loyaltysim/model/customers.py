"""Creating customers: individual traits drawn around their segment's means."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from loyaltysim.model.population import NEVER, Population, ensure_room
from loyaltysim.scenario.schema import Scenario

DAYS_PER_MONTH = 365.25 / 12

# The segment traits add_customers reads, one float64 array each (index: segment).
SEGMENT_TRAITS = (
    "visit_heterogeneity",
    "visits_per_month",
    "price_sensitivity",
    "deal_proneness",
    "satisfaction",
    "attachment",
    "competitor_awareness",
)
# The 0..1 traits drawn as Beta around their segment's mean, in the order they are drawn
# (the expectation, around the business's service quality, comes last).
BETA_TRAITS = ("deal_proneness", "satisfaction", "attachment", "competitor_awareness")


def segment_table(scenario: Scenario) -> dict[str, np.ndarray]:
    """Each segment trait as an array over segments, and the parameters of the draws
    around them (``gamma_*``: the visit rate's Gamma, then the price-sensitivity factor's;
    ``beta_*``: :data:`BETA_TRAITS`, then the expectation), one row per draw. A run builds
    it once: newcomers arrive twice a day, and rebuilding it from the scenario on every
    call was most of the cost of a small run (issue #15)."""
    segs = scenario.customers.segments
    table = {
        attr: np.array([getattr(s, attr) for s in segs], dtype=float) for attr in SEGMENT_TRAITS
    }
    c = scenario.behaviour.trait_concentration
    shape = table["visit_heterogeneity"]
    ones = np.ones(len(segs))
    table["gamma_shape"] = np.stack([shape, c * ones])
    table["gamma_scale"] = np.stack([table["visits_per_month"] / DAYS_PER_MONTH / shape, ones / c])
    means = [table[attr] for attr in BETA_TRAITS]
    means.append(np.full(len(segs), scenario.business.service_quality))
    # Beta draws with the given means: the usual way to vary a 0..1 trait by person.
    m = np.minimum(np.maximum(np.stack(means), 1e-3), 1 - 1e-3)
    table["beta_a"], table["beta_b"] = m * c, (1 - m) * c
    return table


ONE_CALL = 4096  # newcomers up to this many draw each family of traits in one call
# Newcomers up to this many draw one number per call: a scalar call skips the argument
# checks of an array call, which cost more than a day's few newcomers' draws.
ONE_BY_ONE = 3


def _draw_rows(
    draw: Callable[[np.ndarray, np.ndarray], np.ndarray],
    first: np.ndarray,
    second: np.ndarray,
    segment: np.ndarray,
) -> Sequence[np.ndarray]:
    """``draw(first[r, segment], second[r, segment])`` for each row ``r``. A day's few
    newcomers take them in one call over the (row, customer) array: the generator fills
    it in C order, the same numbers as one call per row in that order, for one call's
    overhead. A large batch (day 0) takes them row by row, so as not to hold every row's
    parameters at once. A handful take them one scalar call at a time, in that same C
    order: the same generator routine on the same numbers, so the same draws."""
    if len(segment) <= ONE_BY_ONE:
        segs = segment.tolist()
        rows = zip(first.tolist(), second.tolist(), strict=True)
        one = [draw(f[k], s[k]) for f, s in rows for k in segs]
        return np.array(one).reshape(len(first), len(segs))  # type: ignore[return-value]
    if len(segment) <= ONE_CALL:
        return draw(first[:, segment], second[:, segment])  # type: ignore[return-value]
    return [draw(f[segment], s[segment]) for f, s in zip(first, second, strict=True)]


def add_customers(
    pop: Population,
    scenario: Scenario,
    segment: np.ndarray,
    day: int,
    origin: int,
    rng: np.random.Generator,
    *,
    prior_tenure: bool = False,
    table: dict[str, np.ndarray] | None = None,
) -> slice:
    """Append one customer per entry of ``segment`` (segment indices) and draw their traits.

    Visit rates are Gamma across customers (the heterogeneity of the NBD/BG-NBD purchase
    model, Fader, Hardie & Lee 2005): shape ``visit_heterogeneity``, mean
    ``visits_per_month``. Other 0..1 traits are Beta around the segment mean with
    concentration ``behaviour.trait_concentration``; price
    sensitivity is Gamma around its mean. ``table`` is the run's :func:`segment_table`
    (built here when not given).
    """
    count = len(segment)
    if count == 0:  # most days bring no referral: nothing to add, nothing to draw
        return slice(pop.size, pop.size)
    ensure_room(pop, scenario, count, origin, day)  # bounded memory: scenario.max_customers
    rows = pop.add(count)
    traits = segment_table(scenario) if table is None else table
    gamma = _draw_rows(rng.gamma, traits["gamma_shape"], traits["gamma_scale"], segment)
    pop.visit_rate[rows] = gamma[0]
    pop.price_sensitivity[rows] = traits["price_sensitivity"][segment] * gamma[1]
    beta = _draw_rows(rng.beta, traits["beta_a"], traits["beta_b"], segment)
    pop.deal_proneness[rows] = beta[0]
    pop.satisfaction[rows] = beta[1]
    pop.attachment[rows] = beta[2]
    pop.awareness[rows] = beta[3]
    pop.expectation[rows] = beta[4]
    # The service a customer gets differs persistently (the hour they come, the staff
    # they meet): without it every customer would drift to the same satisfaction.
    pop.quality_offset[rows] = rng.normal(0.0, scenario.behaviour.quality_heterogeneity, count)
    pop.reference_price[rows] = scenario.business.price
    pop.rival_reference_price[rows] = scenario.competitor.price
    # Day-0 customers have a habit already (behaviour.prior_habit); newcomers none.
    pop.habit[rows] = scenario.behaviour.prior_habit if prior_tenure else 0.0
    pop.segment[rows] = segment
    pop.origin[rows] = origin
    pop.active[rows] = True
    pop.usual_gap[rows] = 1.0 / np.maximum(pop.visit_rate[rows], 1e-6)
    pop.joined[rows] = day
    pop.last_visit[rows] = NEVER
    if prior_tenure:
        # Existing customers have a history: a tenure, visits already made, and a last
        # visit a gap ago (so a welcome offer is not theirs, and the business knows when
        # it last saw them). Tenure is exponential (behaviour.prior_tenure_days), so
        # tenure at defection is not biased towards zero.
        tenure = np.rint(rng.exponential(scenario.behaviour.prior_tenure_days, count))
        rate = pop.visit_rate[rows]
        pop.joined[rows] = day - tenure
        pop.visits[rows] = np.maximum(np.rint(rate * tenure), 1).astype(np.int32)
        since = np.minimum(np.rint(rng.exponential(1.0 / np.maximum(rate, 1e-6))), tenure)
        pop.last_visit[rows] = (day - since).astype(np.int32)
    return rows


def segment_cdf(weights: np.ndarray) -> np.ndarray:
    """The normalised cumulative weights :func:`draw_segments` inverts."""
    p = weights / weights.sum()
    cdf = p.cumsum()
    cdf /= cdf[-1]
    return cdf


def draw_segments(
    rng: np.random.Generator, weights: np.ndarray, count: int, cdf: np.ndarray | None = None
) -> np.ndarray:
    """Segment index of ``count`` new customers, by (unnormalised) weights (``cdf``: their
    :func:`segment_cdf`, when the caller keeps it: newcomers arrive twice a day).

    Exactly what ``rng.choice(len(p), size=count, p=p)`` does (one uniform per draw,
    inverted through the normalised cumulative weights), without its checks and
    conversions (tests/unit/model/test_customers_draw.py holds the two equal)."""
    if count == 0:
        return np.zeros(0, dtype=np.int16)
    if cdf is None:
        cdf = segment_cdf(weights)
    return cdf.searchsorted(rng.random(count), side="right").astype(np.int16)
