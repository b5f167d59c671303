"""Purchase logs drawn from a Pareto/NBD world with known parameters.

For checks of the method (a fit should give back the parameters it was drawn from), for
the tests of the command and for the benchmark of a large log. Customers arrive uniformly
over the first ``arrival_days``; each buys as a Poisson process with rate
lambda ~ Gamma(r, alpha) per week until an exponential lifetime with rate
mu ~ Gamma(s, beta) per week ends; amounts are Gamma-Gamma (Fader, Hardie & Lee 2005b).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def pareto_nbd_log(
    customers: int,
    days: int,
    rng: np.random.Generator,
    *,
    r: float = 0.55,
    alpha: float = 10.0,
    s: float = 0.6,
    beta: float = 12.0,
    p: float = 6.0,
    q: float = 4.0,
    v: float = 15.0,
    arrival_days: int = 90,
    start: str = "2024-01-01",
) -> pd.DataFrame:
    """A purchase log (customer_id, date, amount) of ``customers`` over ``days`` days."""
    lam = rng.gamma(r, 1.0 / alpha, customers) / 7.0  # per day
    mu = rng.gamma(s, 1.0 / beta, customers) / 7.0
    nu = rng.gamma(q, 1.0 / v, customers)
    first = rng.integers(0, arrival_days, customers)
    life = rng.exponential(1.0 / np.maximum(mu, 1e-12))
    end = np.minimum(first + life, days)
    # Repeat purchases: a Poisson count over the lifetime, placed uniformly in it.
    repeats = rng.poisson(lam * np.maximum(end - first, 0.0))
    who = np.repeat(np.arange(customers), repeats)
    when = first[who] + rng.random(len(who)) * (end[who] - first[who])
    all_who = np.concatenate([np.arange(customers), who])
    all_day = np.concatenate([first, np.floor(when).astype(np.int64)])
    amount = rng.gamma(p, 1.0 / nu[all_who])
    order = np.lexsort((all_day, all_who))
    dates = np.datetime64(start, "D") + all_day[order]
    return pd.DataFrame(
        {
            "customer_id": [f"c{i:07d}" for i in all_who[order]],
            "date": pd.to_datetime(dates).strftime("%Y-%m-%d"),
            "amount": np.round(amount[order], 2),
        }
    )
