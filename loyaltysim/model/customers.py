"""Creating customers: individual traits drawn around their segment's means."""

from __future__ import annotations

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


def segment_table(scenario: Scenario) -> dict[str, np.ndarray]:
    """Each segment trait as an array over segments. A run builds it once: newcomers
    arrive twice a day, and rebuilding it from the scenario on every call was most of the
    cost of a small run (issue #15)."""
    segs = scenario.customers.segments
    return {
        attr: np.array([getattr(s, attr) for s in segs], dtype=float) for attr in SEGMENT_TRAITS
    }


def _beta_around(rng: np.random.Generator, mean: np.ndarray, concentration: float) -> np.ndarray:
    """Beta draws with the given means: the usual way to vary a 0..1 trait by person."""
    m = np.minimum(np.maximum(mean, 1e-3), 1 - 1e-3)  # np.clip, without its overhead
    return rng.beta(m * concentration, (1 - m) * concentration)


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
    concentration ``behaviour.trait_concentration``; price sensitivity is Gamma around its
    mean. ``table`` is the run's :func:`segment_table` (built here when not given).
    """
    count = len(segment)
    if count == 0:  # most days bring no referral: nothing to add, nothing to draw
        return slice(pop.size, pop.size)
    ensure_room(pop, scenario, count, origin, day)  # bounded memory: scenario.max_customers
    rows = pop.add(count)
    traits = segment_table(scenario) if table is None else table
    c = scenario.behaviour.trait_concentration

    def per_segment(attr: str) -> np.ndarray:
        return traits[attr][segment]

    shape = per_segment("visit_heterogeneity")
    mean_rate = per_segment("visits_per_month") / DAYS_PER_MONTH
    pop.visit_rate[rows] = rng.gamma(shape, mean_rate / shape)
    pop.price_sensitivity[rows] = per_segment("price_sensitivity") * rng.gamma(c, 1.0 / c, count)
    pop.deal_proneness[rows] = _beta_around(rng, per_segment("deal_proneness"), c)
    pop.satisfaction[rows] = _beta_around(rng, per_segment("satisfaction"), c)
    pop.attachment[rows] = _beta_around(rng, per_segment("attachment"), c)
    pop.awareness[rows] = _beta_around(rng, per_segment("competitor_awareness"), c)
    quality = np.full(count, scenario.business.service_quality)
    pop.expectation[rows] = _beta_around(rng, quality, c)
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


def draw_segments(rng: np.random.Generator, weights: np.ndarray, count: int) -> np.ndarray:
    """Segment index of ``count`` new customers, by (unnormalised) weights."""
    if count == 0:
        return np.zeros(0, dtype=np.int16)
    p = weights / weights.sum()
    # Exactly what ``rng.choice(len(p), size=count, p=p)`` does (one uniform per draw,
    # inverted through the normalised cumulative weights), without its checks and
    # conversions: newcomers arrive twice a day (tests/unit/model/test_customers_draw.py
    # holds the two equal).
    cdf = p.cumsum()
    cdf /= cdf[-1]
    return cdf.searchsorted(rng.random(count), side="right").astype(np.int16)
