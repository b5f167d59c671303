"""BG/NBD, Pareto/NBD and Gamma-Gamma: the golden CDNOW figures and the likelihoods' forms.

The reference figures: the BG/NBD parameters of Fader, Hardie & Lee (2005) on this sample,
and the holdout figures of lifetimes 0.11.3 on the same split, recorded in
tests/data/README.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import integrate

from loyaltysim.calibration import btyd
from loyaltysim.calibration.log import LogSpec, read_log
from loyaltysim.calibration.rfm import CustomerSummary, check_periods, summarise

CDNOW = Path(__file__).parents[2] / "data" / "cdnow_sample.csv"


@pytest.fixture(scope="module")
def cdnow() -> CustomerSummary:
    spec = LogSpec()
    log = read_log(CDNOW, spec)
    return summarise(log, spec, check_periods(log, spec, "1997-09-30", "1998-06-30"))


def test_cdnow_counts(cdnow: CustomerSummary) -> None:
    assert cdnow.customers == 2357
    assert cdnow.transactions == 6919
    assert cdnow.periods.holdout_weeks == 39
    assert cdnow.holdout is not None and cdnow.holdout.sum() == 1882


def test_golden_bgnbd(cdnow: CustomerSummary) -> None:
    fit = btyd.fit_bgnbd(cdnow.frequency, cdnow.recency, cdnow.T)
    # The paper's figures to the three decimals it prints.
    for name, ref in {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}.items():
        assert fit[name] == pytest.approx(ref, abs=6e-4), name
    # Standard errors as the CLV libraries report them (Hessian of the likelihood).
    assert fit.se == pytest.approx([0.0126, 0.378, 0.186, 0.705], rel=0.02)
    x, tx, T, actual = cdnow.frequency, cdnow.recency, cdnow.T, cdnow.holdout
    predicted = btyd.bgnbd_expected(fit, x, tx, T, 39.0)
    assert predicted.sum() == pytest.approx(1653, abs=1.0)
    assert np.corrcoef(predicted, actual)[0, 1] == pytest.approx(0.626, abs=1e-3)
    assert np.abs(predicted - actual).mean() == pytest.approx(0.785, abs=1e-3)


def test_golden_paretonbd(cdnow: CustomerSummary) -> None:
    fit = btyd.fit_paretonbd(cdnow.frequency, cdnow.recency, cdnow.T)
    ref = {"r": 0.553, "alpha": 10.58, "s": 0.606, "beta": 11.67}
    for name, value in ref.items():
        assert fit[name] == pytest.approx(value, rel=2e-3), name
    x, tx, T, actual = cdnow.frequency, cdnow.recency, cdnow.T, cdnow.holdout
    predicted = btyd.paretonbd_expected(fit, x, tx, T, 39.0)
    assert predicted.sum() == pytest.approx(1666, abs=1.0)
    assert np.corrcoef(predicted, actual)[0, 1] == pytest.approx(0.630, abs=1e-3)
    assert np.abs(predicted - actual).mean() == pytest.approx(0.755, abs=1e-3)


def test_gammagamma_on_cdnow(cdnow: CustomerSummary) -> None:
    fit = btyd.fit_gammagamma(cdnow.frequency, cdnow.monetary)
    # lifetimes 0.11.3 on the same summary: p 6.25, q 3.74, v 15.44.
    assert fit.params == pytest.approx([6.25, 3.74, 15.44], rel=5e-3)
    assert btyd.gammagamma_mean(fit) == pytest.approx(35.17, abs=0.05)


@pytest.mark.parametrize(
    "params",
    [(0.55, 10.6, 0.61, 11.7), (2.0, 3.0, 1.5, 40.0), (0.3, 50.0, 0.8, 2.0), (0.5, 0.2, 0.7, 30.0)],
)
def test_pareto_hypergeometric_form_equals_the_integral(params: tuple) -> None:
    """The closed form of A0 (both branches, alpha >= beta and alpha < beta) against
    direct quadrature of s int (alpha+y)^-(r+x) (beta+y)^-(s+1) dy."""
    r, alpha, s, beta = params
    # The last customer (150 purchases) overflows the direct hypergeometric when alpha is
    # far below beta: the transformed series must still match the integral.
    x = np.array([0.0, 1.0, 5.0, 40.0, 150.0])
    tx = np.array([0.0, 3.0, 20.0, 30.0, 0.5])
    T = np.array([10.0, 30.0, 38.0, 39.0, 50.0])
    got = btyd._pareto_log_a0(r, alpha, s, beta, x, tx, T)
    for i in range(len(x)):
        # The integrand scaled by its value at t_x, so that it cannot under- or overflow.
        def f(y: float, i: int = i) -> float:
            return float(
                np.exp(
                    -(r + x[i]) * np.log((alpha + y) / (alpha + tx[i]))
                    - (s + 1) * np.log((beta + y) / (beta + tx[i]))
                )
            )

        value, _ = integrate.quad(f, tx[i], T[i], epsabs=0, epsrel=1e-12, limit=200)
        ref = (
            np.log(s * value) - (r + x[i]) * np.log(alpha + tx[i]) - (s + 1) * np.log(beta + tx[i])
        )
        assert np.isfinite(got[i])
        assert got[i] == pytest.approx(ref, abs=1e-7)


def test_bgnbd_recovers_its_own_parameters() -> None:
    """Customers simulated from BG/NBD (r 0.5, alpha 5, a 0.8, b 3 in weeks) give back
    parameters whose 95% intervals cover the truth."""
    rng = np.random.default_rng(7)
    n, T = 4000, 52.0
    lam = rng.gamma(0.5, 1 / 5.0, n)
    p = rng.beta(0.8, 3.0, n)
    x = np.zeros(n)
    tx = np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > T:
                break
            x[i] += 1
            tx[i] = t
            if rng.random() < p[i]:
                break
    fit = btyd.fit_bgnbd(x, tx, np.full(n, T))
    for name, truth in {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 3.0}.items():
        lo, hi = fit.interval(name)
        assert lo < truth < hi, (name, lo, hi)
