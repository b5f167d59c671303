"""Issue #13 item 4: a run that starts from the log's own customers
(``calibration.customers``), each agent drawn from the BG/NBD posterior given its history.

Face validity, paired and with fixed seeds: customers identical but for the recency of
their last purchase start alive more often, and buy more in the first simulated weeks, the
more recent that purchase; the posterior the agents are drawn from is the fit's (P(alive)
against the calibration package's BG/NBD, the drawn rates' mean against Gamma(r + x,
alpha + T)). The simulated first weeks against the BG/NBD conditional expectation, on a
calibrated scenario, is in tests/validation/test_calibration_log_customers.py (slow).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loyaltysim.calibration import btyd
from loyaltysim.model import log_customers
from loyaltysim.model.simulation import Simulation, simulate
from loyaltysim.scenario import ScenarioError, load_scenario, load_scenario_text

# The BG/NBD of the CDNOW sample (Fader, Hardie & Lee 2005), weeks: only a realistic point.
FIT = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PAIRS = 1500
X, T, RECENT, LONG_AGO = 4, 30.0, 29.0, 6.0


def write_pairs(path: Path) -> None:
    """PAIRS customers who bought last a week ago and PAIRS alike but 24 weeks ago."""
    pd.DataFrame(
        {
            "customer": [f"c{i}" for i in range(2 * PAIRS)],
            "frequency": [X] * (2 * PAIRS),
            "recency_weeks": [RECENT] * PAIRS + [LONG_AGO] * PAIRS,
            "T_weeks": [T] * (2 * PAIRS),
        }
    ).to_csv(path, index=False)


def scenario_text(days: int = 56, extra: str = "") -> str:
    fit = "\n".join(f"{k} = {v}" for k, v in FIT.items())
    return f"""
[scenario]
name = "log customers"
horizon_days = {days}
replications = 2
seed = 11

[business]
prospects_per_month = 0
fixed_costs_per_month = 0
cash_floor = -1e12

[calibration]
customers = "customers.csv"
{fit}
visit_scale = 1.25
{extra}
"""


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    write_pairs(tmp_path / "customers.csv")
    path = tmp_path / "shop.toml"
    path.write_text(scenario_text(), encoding="utf-8")
    return path


def test_the_run_starts_from_the_logs_customers_with_their_history(scenario_file: Path) -> None:
    sc = load_scenario(scenario_file)
    assert Path(sc.calibration.customers).is_absolute()  # workers need no scenario folder
    sim = Simulation(sc, 0, sc.scenario.seed)
    pop, n = sim.pop, sim.pop.size
    assert n == 2 * PAIRS  # customers.initial is replaced by the log's customers
    assert (pop.visits[:n] == X + 1).all()
    assert (pop.joined[:n] == -round(T * 7) - 1).all()
    since = np.r_[np.full(PAIRS, T - RECENT), np.full(PAIRS, T - LONG_AGO)] * 7
    assert np.array_equal(pop.last_visit[:n], -np.rint(since).astype(int) - 1)
    # The same seed gives the same customers; another replication other draws.
    again = Simulation(sc, 0, sc.scenario.seed).pop
    assert np.array_equal(again.visit_rate[:n], pop.visit_rate[:n])
    other = Simulation(sc, 1, sc.scenario.seed).pop
    assert not np.array_equal(other.active[:n], pop.active[:n])


def test_recent_buyers_start_alive_more_often_and_buy_more_in_the_first_weeks(
    scenario_file: Path,
) -> None:
    sc = load_scenario(scenario_file)
    x = np.full(2, float(X))
    tx = np.array([RECENT, LONG_AGO])
    p = log_customers.p_alive(log_customers.fitted(sc), x, tx, np.full(2, T))
    bg = btyd.Fit("bg_nbd", ("r", "alpha", "a", "b"), np.array(list(FIT.values())), np.eye(4), 0, 0)
    assert np.allclose(p, btyd.bgnbd_p_alive(bg, x, tx, np.full(2, T)), rtol=1e-10)
    assert p[0] > 0.8 and p[1] < 0.5  # a week ago against 24 weeks ago

    alive_recent = alive_old = buys_recent = buys_old = 0.0
    for rep in range(sc.scenario.replications):
        sim = Simulation(sc, rep, sc.scenario.seed, keep_customers=True)
        active = sim.pop.active[: 2 * PAIRS].copy()
        c = sim.run().customers
        assert c is not None
        bought = c["repeat_days"][: 2 * PAIRS] + (c["first_purchase"][: 2 * PAIRS] >= 0)
        alive_recent += active[:PAIRS].mean()
        alive_old += active[PAIRS:].mean()
        buys_recent += bought[:PAIRS].mean()
        buys_old += bought[PAIRS:].mean()
    reps = sc.scenario.replications
    # The drawn alive shares are P(alive) within binomial error (3 sd of 2 x 1500 draws).
    assert alive_recent / reps == pytest.approx(p[0], abs=3 * np.sqrt(p[0] * (1 - p[0]) / 3000))
    assert alive_old / reps == pytest.approx(p[1], abs=3 * np.sqrt(p[1] * (1 - p[1]) / 3000))
    # Eight weeks of purchases: the recent buyers buy more than twice as often.
    assert buys_recent > 2 * buys_old > 0


def test_alive_agents_rates_follow_the_gamma_posterior(scenario_file: Path) -> None:
    sc = load_scenario(scenario_file)
    pop = Simulation(sc, 0, sc.scenario.seed).pop
    alive = pop.active[: 2 * PAIRS]
    weekly = pop.visit_rate[: 2 * PAIRS][alive] * 7 / sc.calibration.visit_scale
    mean = (FIT["r"] + X) / (FIT["alpha"] + T)  # Gamma(r + x, alpha + T)
    sd = np.sqrt(FIT["r"] + X) / (FIT["alpha"] + T) / np.sqrt(alive.sum())
    assert weekly.mean() == pytest.approx(mean, abs=4 * sd)


def test_equal_seeds_give_identical_runs(scenario_file: Path) -> None:
    sc = load_scenario(scenario_file)
    a, b = simulate(sc, 1, 5), simulate(sc, 1, 5)
    assert np.array_equal(a.daily["purchases"], b.daily["purchases"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("customer,frequency,T_weeks\nc1,1,2\n", "lacks the column(s) recency_weeks"),
    ],
)
def test_validation_names_the_file_and_the_fix(
    tmp_path: Path, content: str | None, message: str
) -> None:
    if content is not None:
        (tmp_path / "customers.csv").write_text(content, encoding="utf-8")
    path = tmp_path / "shop.toml"
    path.write_text(scenario_text(), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    text = str(err.value)
    line = scenario_text().splitlines().index('customers = "customers.csv"') + 1
    assert f"{path}:{line}: calibration.customers: the log's customers file" in text
    assert str(tmp_path / "customers.csv") in text and message in text
    assert "loyaltysim calibrate" in text  # the hint


def test_the_customers_need_the_fit() -> None:
    text = '[scenario]\nname = "x"\n[calibration]\nparameter_uncertainty = true\nr = 1.0\n'
    with pytest.raises(ScenarioError, match=r"calibration\.alpha, calibration\.a"):
        load_scenario_text(text)
