"""The log's customers as the model's agents, and the match of the model to the fit."""

from __future__ import annotations

import numpy as np
import pytest

from loyaltysim.calibration import agents, btyd
from loyaltysim.calibration.log import LogSpec, read_log
from loyaltysim.calibration.rfm import CustomerSummary, check_periods, summarise
from loyaltysim.calibration.synthetic import pareto_nbd_log
from loyaltysim.scenario.schema import Scenario


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> CustomerSummary:
    path = tmp_path_factory.mktemp("agents") / "log.csv"
    pareto_nbd_log(400, 400, np.random.default_rng(3)).to_csv(path, index=False)
    spec = LogSpec()
    log = read_log(path, spec)
    return summarise(log, spec, check_periods(log, spec, "2024-09-30", None))


def bench(days: int = 60) -> Scenario:
    return agents.backtest_scenario(Scenario.model_validate({"scenario": {"name": "b"}}), days)


def state(n: int, alive: bool, rate: float) -> agents.AgentState:
    return agents.AgentState(
        alive=np.full(n, alive),
        rate=np.full(n, rate if alive else 0.0),
        weight=np.ones(n),
        visits=np.full(n, 3, dtype=np.int32),
        age_days=np.full(n, 100, dtype=np.int32),
        since_days=np.zeros(n, dtype=np.int32),  # all bought on the calibration end
    )


def test_agents_keep_their_history_and_the_gone_never_buy() -> None:
    gone = agents.LogCustomersSimulation(bench(), 0, 1, state(200, False, 0.0), 1.0)
    gone.run()
    assert gone.counts.sum() == 0 and gone.survivors() == 0
    sim = agents.LogCustomersSimulation(bench(), 0, 1, state(200, True, 0.2), 1.0)
    assert sim.pop.last_visit[0] == -1 and sim.pop.joined[0] == -101  # the day before day 0
    sim.run()
    # About 0.2 x 60 x (share that chooses the business) occasions each, counted by day.
    assert 3 < sim.counts.mean() < 12
    assert sim.daily_occasions.sum() == sim.counts.sum()


def test_the_posterior_draw_is_the_fits(summary: CustomerSummary) -> None:
    fit = btyd.fit_paretonbd(summary.frequency, summary.recency, summary.T)
    rng = np.random.default_rng(0)
    draws = [agents.draw_agents(fit, summary, rng) for _ in range(200)]
    alive_share = np.mean([d.alive for d in draws], axis=0)
    p = agents.p_alive(fit, summary)
    sd = np.sqrt(p * (1 - p) / len(draws))
    assert np.all(np.abs(alive_share - p) < 5 * sd + 1e-9)
    assert alive_share.mean() == pytest.approx(p.mean(), abs=0.01)
    heavy = int(np.argmax(summary.frequency))
    rates = np.array([d.rate[heavy] * 7 for d in draws if d.alive[heavy]])
    r, alpha = fit["r"], fit["alpha"]
    expected = (r + summary.frequency[heavy]) / (alpha + summary.T[heavy])
    assert rates.mean() == pytest.approx(expected, rel=0.15)


def test_match_scales_reaches_the_fits_purchases_and_survival(summary: CustomerSummary) -> None:
    fit = btyd.fit_paretonbd(summary.frequency, summary.recency, summary.T)
    base = Scenario.model_validate({"scenario": {"name": "b"}})
    kw = {"weeks": 20, "replications": 2, "seed": 5, "copies": 3}
    scales = agents.match_scales(base, fit, summary, **kw)
    assert scales.simulated_purchases == pytest.approx(scales.targets.purchases, rel=0.011)
    assert scales.simulated_survival == pytest.approx(scales.target_survival, rel=0.011)
    # Choice loses occasions to the competitor and to not buying: the scale makes up.
    assert scales.visit_scale > 1.0
    again = agents.match_scales(base, fit, summary, **kw)
    assert again == scales  # common random numbers: the same seed, the same answer
