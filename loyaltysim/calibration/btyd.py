"""Buy-till-you-die models fitted by maximum likelihood: BG/NBD, Pareto/NBD, Gamma-Gamma.

Each likelihood is written from its paper (sources in the docstrings) and maximised over
the logarithms of its parameters with :func:`scipy.optimize.minimize` (L-BFGS-B, falling
back to Nelder-Mead), so the parameters stay positive without constraints. Standard errors
come from the inverse of the Hessian of the negative log-likelihood at the optimum, taken
by central finite differences in log-parameters; by the delta method the standard error of
theta is theta x se(log theta), and the 95% interval is exp(log theta +/- 1.96 se(log
theta)), which stays positive.

Time is in the unit of the summary (weeks in this package): ``alpha`` and ``beta`` are in
weeks, purchase rates per week. Customers with the same (x, t_x, T) share one term of the
likelihood, weighted by their count: a log of a million purchases has far fewer distinct
histories than customers.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import integrate, optimize
from scipy.special import betaln, gammaln, hyp2f1

Z95 = 1.959963984540054
LOG_BOUND = 12.0  # |log parameter| beyond this is not a fit but a runaway


class FitError(RuntimeError):
    """A likelihood could not be maximised (no convergence, or a degenerate optimum)."""


@dataclass(frozen=True)
class Fit:
    """A fitted model: parameters, their standard errors and the optimum's log-likelihood.

    ``cov_log`` is the covariance of the log-parameters (inverse Hessian); it is NaN when
    the Hessian is not positive definite (a flat or boundary optimum), and so are ``se``.
    """

    model: str
    names: tuple[str, ...]
    params: np.ndarray
    cov_log: np.ndarray
    loglik: float
    customers: int
    notes: tuple[str, ...] = field(default=())

    def __getitem__(self, name: str) -> float:
        return float(self.params[self.names.index(name)])

    @property
    def se(self) -> np.ndarray:
        return self.params * np.sqrt(np.diag(self.cov_log))

    def interval(self, name: str) -> tuple[float, float]:
        """95% interval of a parameter, symmetric in its logarithm."""
        i = self.names.index(name)
        sd = float(np.sqrt(self.cov_log[i, i]))
        log_value = float(np.log(self.params[i]))
        return float(np.exp(log_value - Z95 * sd)), float(np.exp(log_value + Z95 * sd))

    def as_dict(self) -> dict[str, Any]:
        def finite(v: float) -> float | None:
            return float(v) if np.isfinite(v) else None

        return {
            "params": {n: float(v) for n, v in zip(self.names, self.params, strict=True)},
            "se": {n: finite(v) for n, v in zip(self.names, self.se, strict=True)},
            "ci95": {
                n: [finite(lo), finite(hi)] for n in self.names for lo, hi in [self.interval(n)]
            },
            "loglik": float(self.loglik),
            "customers": self.customers,
        }

    def draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Parameter sets from the asymptotic sampling distribution (log-normal, from
        ``cov_log``): shape (size, len(names))."""
        if not np.all(np.isfinite(self.cov_log)):
            return np.tile(self.params, (size, 1))
        logs = rng.multivariate_normal(np.log(self.params), self.cov_log, size=size)
        return np.exp(logs)


# ----------------------------------------------------------------------------- helpers


class _Histories:
    """Distinct (x, t_x, T) with their counts, and the distinct values of x, t_x, T and of
    the pairs (x, t_x) and (x, T), with indices into them.

    A term of a likelihood that depends on x alone (gammaln(r + x)), on one time, or on a
    pair (the Pareto/NBD hypergeometric terms) is computed once per distinct value and
    gathered: a million purchases hold ~10^5 distinct histories but ~10^2 distinct x and
    T, so an evaluation costs a few vector operations on the histories.
    """

    def __init__(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> None:
        codes, values = [], []
        for col in (x, tx, T):
            u, inv = np.unique(np.asarray(col, dtype=float), return_inverse=True)
            codes.append(inv.astype(np.int64))
            values.append(u)
        n_tx, n_T = len(values[1]), len(values[2])
        key = (codes[0] * n_tx + codes[1]) * n_T + codes[2]
        ukey, counts = np.unique(key, return_counts=True)
        self.w = counts.astype(float)
        self.ix = ukey // (n_tx * n_T)
        self.itx = (ukey // n_T) % n_tx
        self.iT = ukey % n_T
        self.xu, self.txu, self.Tu = values
        self.x, self.tx, self.T = self.xu[self.ix], self.txu[self.itx], self.Tu[self.iT]
        pair_tx, self.ipx_tx = np.unique(self.ix * n_tx + self.itx, return_inverse=True)
        pair_T, self.ipx_T = np.unique(self.ix * n_T + self.iT, return_inverse=True)
        self.ptx_x, self.ptx_t = self.xu[pair_tx // n_tx], self.txu[pair_tx % n_tx]
        self.pT_x, self.pT_t = self.xu[pair_T // n_T], self.Tu[pair_T % n_T]


def hessian(f: Callable[[np.ndarray], float], x: np.ndarray, step: float = 1e-3) -> np.ndarray:
    """Hessian of ``f`` at ``x`` by central finite differences (error O(step^2))."""
    k = len(x)
    h = np.zeros((k, k))
    f0 = f(x)
    e = np.eye(k) * step
    for i in range(k):
        h[i, i] = (f(x + e[i]) - 2 * f0 + f(x - e[i])) / step**2
        for j in range(i):
            v = (
                f(x + e[i] + e[j]) - f(x + e[i] - e[j]) - f(x - e[i] + e[j]) + f(x - e[i] - e[j])
            ) / (4 * step**2)
            h[i, j] = h[j, i] = v
    return h


def _maximise(
    model: str,
    names: tuple[str, ...],
    loglik: Callable[[np.ndarray], float],
    start: np.ndarray,
    customers: int,
) -> Fit:
    """Maximise ``loglik`` (a function of the log-parameters) and take its Hessian."""

    def objective(z: np.ndarray) -> float:
        if np.any(np.abs(z) > LOG_BOUND):
            return 1e300
        value = loglik(z)
        return -value / customers if np.isfinite(value) else 1e300

    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
    best = optimize.minimize(
        objective,
        start,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 2000},
    )
    if not best.success:
        # L-BFGS-B can stop on a rough patch (a likelihood with a hypergeometric in it);
        # the simplex needs no gradient and takes over from where it stopped.
        polished = optimize.minimize(
            objective,
            best.x,
            method="Nelder-Mead",
            options={"xatol": 1e-7, "fatol": 1e-12, "maxiter": 4000},
        )
        if polished.fun <= best.fun:
            best = polished
    z = np.asarray(best.x, dtype=float)
    if not np.isfinite(best.fun) or best.fun >= 1e299:
        raise FitError(f"{model}: the likelihood is not finite anywhere the search went")
    if np.any(np.abs(z) > LOG_BOUND - 0.5):
        raise FitError(
            f"{model}: a parameter ran to the edge of the search "
            f"({', '.join(f'{n}={np.exp(v):.3g}' for n, v in zip(names, z, strict=True))}); "
            "the log does not identify this model"
        )
    notes: list[str] = []
    h = hessian(lambda v: -loglik(v), z)
    try:
        cov = np.linalg.inv(h)
        if not np.all(np.linalg.eigvalsh((h + h.T) / 2) > 0):
            raise np.linalg.LinAlgError("not positive definite")
    except np.linalg.LinAlgError:
        cov = np.full_like(h, np.nan)
        notes.append("Hessian not positive definite at the optimum: no standard errors")
    return Fit(model, names, np.exp(z), cov, -best.fun * customers, customers, tuple(notes))


# ------------------------------------------------------------------------------ BG/NBD


def bgnbd_loglik(
    r: float, alpha: float, a: float, b: float, x: np.ndarray, tx: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Per-customer log-likelihood of the BG/NBD model.

    Fader, Hardie & Lee (2005), "'Counting Your Customers' the Easy Way: An Alternative to
    the Pareto/NBD Model", Marketing Science 24(2), 275-284, equation (6):
    L = B(a, b + x)/B(a, b) Gamma(r + x) alpha^r / (Gamma(r) (alpha + T)^(r + x))
        + delta(x > 0) B(a + 1, b + x - 1)/B(a, b) Gamma(r + x) alpha^r
          / (Gamma(r) (alpha + t_x)^(r + x)).
    """
    base = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    stay = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    with np.errstate(divide="ignore", invalid="ignore"):
        drop = np.where(
            x > 0,
            betaln(a + 1, np.maximum(b + x - 1, 1e-300))
            - betaln(a, b)
            - (r + x) * np.log(alpha + tx),
            -np.inf,
        )
    return base + np.logaddexp(stay, drop)


def fit_bgnbd(x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> Fit:
    """Maximum-likelihood BG/NBD parameters (r, alpha, a, b) from (x, t_x, T)."""
    h = _Histories(x, tx, T)
    start = _rate_start(x, T, extra=(0.0, 0.0))
    xu, rep = h.xu, h.xu > 0

    def loglik(z: np.ndarray) -> float:
        # bgnbd_loglik, with each term computed once per distinct x or time.
        r, alpha, a, b = np.exp(z)
        r_x = r + h.x
        base = (gammaln(r + xu) - gammaln(r) + betaln(a, b + xu) - betaln(a, b))[h.ix]
        stay = -r_x * np.log(alpha + h.Tu)[h.iT]
        with np.errstate(divide="ignore", invalid="ignore"):
            # B(a+1, b+x-1)/B(a, b+x) = a/(b+x-1)
            odds = np.where(rep, np.log(a) - np.log(np.where(rep, b + xu - 1, 1.0)), -np.inf)
        drop = odds[h.ix] - r_x * np.log(alpha + h.txu)[h.itx]
        return float(np.dot(h.w, base + r * np.log(alpha) + np.logaddexp(stay, drop)))

    return _maximise("bg_nbd", ("r", "alpha", "a", "b"), loglik, start, len(x))


def bgnbd_p_alive(fit: Fit, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(alive at T | x, t_x, T): Fader, Hardie & Lee (2005), equation (11)."""
    r, alpha, a, b = fit.params
    with np.errstate(divide="ignore", over="ignore"):
        log_ratio = (
            np.log(a)
            - np.log(np.maximum(b + x - 1, 1e-300))
            + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
        )
    return np.where(x > 0, 1.0 / (1.0 + np.exp(log_ratio)), 1.0)


def bgnbd_expected(fit: Fit, x: np.ndarray, tx: np.ndarray, T: np.ndarray, t: float) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T]: Fader, Hardie & Lee (2005), equation (10).

    (a + b + x - 1)/(a - 1) [1 - ((alpha + T)/(alpha + T + t))^(r + x)
    2F1(r + x, b + x; a + b + x - 1; t/(alpha + T + t))] x P(alive).
    """
    r, alpha, a, b = fit.params
    if t <= 0:
        return np.zeros_like(np.asarray(x, dtype=float))
    z = t / (alpha + T + t)
    g = hyp2f1(r + x, b + x, a + b + x - 1, z)
    term = 1.0 - np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t))) * g
    return (a + b + x - 1) / (a - 1) * term * bgnbd_p_alive(fit, x, tx, T)


# -------------------------------------------------------------------------- Pareto/NBD


def _pareto_log_a0(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, tx: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """log of s/(r+s+x) A0 = log s int_{t_x}^{T} (alpha+y)^-(r+x) (beta+y)^-(s+1) dy.

    The integral is the chance of dying in (t_x, T] after the x-th repeat purchase. It
    is written with Gauss's hypergeometric function as in Fader & Hardie (2005), "A Note on
    Deriving the Pareto/NBD Model and Related Expressions", eqs (19)-(20): with
    alpha >= beta,
        A0 = 2F1(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+t_x)) / (alpha+t_x)^(r+s+x)
           - 2F1(r+s+x, s+1; r+s+x+1; (alpha-beta)/(alpha+T)) / (alpha+T)^(r+s+x),
    and with alpha < beta the same with (r+x) for (s+1) and beta for alpha. The switch
    keeps the argument z in [0, 1), where the series and scipy's transformations are
    reliable. Both terms are kept as logarithms and differenced with log1p, so nothing
    overflows for large x; a row whose hypergeometric is not finite (z very near 1 with
    large parameters) is integrated numerically instead (scipy.integrate.quad).
    """
    l1 = _pareto_term(r, alpha, s, beta, x, tx)
    l2 = _pareto_term(r, alpha, s, beta, x, T)
    return _pareto_combine(r, alpha, s, beta, x, tx, T, l1, l2)


def _pareto_term(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """log 2F1(r+s+x, b2; r+s+x+1; z) - (r+s+x) log(m+t), z = |alpha-beta|/(m+t): one of
    the two terms of A0 (see :func:`_pareto_log_a0`).

    Evaluated through Pfaff's transformation 2F1(a, b; c; z) = (1-z)^-b
    2F1(c-a, b; c; z/(z-1)), which with c = a + 1 becomes 2F1(1, b; a+1; w), w <= 0: a
    well-behaved series, where the direct form overflows for many purchases (large a and
    b) with z near 1. The factor (1-z)^-b is kept as a logarithm, and 1 - z = (n+t)/(m+t)
    with n = min(alpha, beta) is formed without cancellation.
    """
    big = r + s + x
    b2: float | np.ndarray
    if alpha >= beta:
        b2, m, n = s + 1.0, alpha, beta
    else:
        b2, m, n = r + x, beta, alpha
    d = abs(alpha - beta)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_m, log_n = np.log(m + t), np.log(n + t)
        series = hyp2f1(1.0, b2, big + 1, -d / (n + t))
        return -b2 * (log_n - log_m) + np.log(series) - big * log_m


def _pareto_combine(
    r: float,
    alpha: float,
    s: float,
    beta: float,
    x: np.ndarray,
    tx: np.ndarray,
    T: np.ndarray,
    l1: np.ndarray,
    l2: np.ndarray,
    quadrature: bool = True,
) -> np.ndarray:
    """log s/(r+s+x) (exp(l1) - exp(l2)), by quadrature where that is not finite.

    Without ``quadrature`` such rows are NaN: the likelihood is then not finite there and
    the search steps back, rather than integrating hundreds of rows at every step in a
    region (a huge s and beta, say) that only a runaway search visits.
    """
    big = r + s + x
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        diff = np.where(l2 < l1, l1 + np.log1p(-np.exp(np.minimum(l2 - l1, 0.0))), -np.inf)
        out = np.log(s) - np.log(big) + diff
    bad = ~np.isfinite(out) & (tx < T)
    if not quadrature:
        return np.where(bad, np.nan, out)
    for i in np.flatnonzero(bad):
        out[i] = _log_integral(r, alpha, s, beta, float(x[i]), float(tx[i]), float(T[i]))
    return out


def _log_integral(
    r: float, alpha: float, s: float, beta: float, x: float, tx: float, T: float
) -> float:
    """log s int_{t_x}^{T} (alpha+y)^-(r+x) (beta+y)^-(s+1) dy by quadrature, scaled by
    the integrand at t_x so that it neither under- nor overflows."""

    def log_f(y: float) -> float:
        return -(r + x) * np.log(alpha + y) - (s + 1) * np.log(beta + y)

    ref = log_f(tx)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        value, _ = integrate.quad(lambda y: np.exp(log_f(y) - ref), tx, T, limit=200)
    return float(np.log(s) + ref + np.log(value)) if value > 0 else -np.inf


def paretonbd_loglik(
    r: float, alpha: float, s: float, beta: float, x: np.ndarray, tx: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Per-customer log-likelihood of the Pareto/NBD model.

    Schmittlein, Morrison & Colombo (1987), "Counting Your Customers: Who Are They and
    What Will They Do Next?", Management Science 33(1), 1-24; in the form of Fader & Hardie
    (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions", eq. (22):
    L = Gamma(r+x) alpha^r beta^s / Gamma(r)
        x [ 1/((alpha+T)^(r+x) (beta+T)^s) + s/(r+s+x) A0 ].
    """
    base = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    return base + np.logaddexp(alive, _pareto_log_a0(r, alpha, s, beta, x, tx, T))


def fit_paretonbd(x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> Fit:
    """Maximum-likelihood Pareto/NBD parameters (r, alpha, s, beta) from (x, t_x, T)."""
    h = _Histories(x, tx, T)
    start = _rate_start(x, T, extra=(0.0, float(np.log(max(np.mean(T), 1e-3)))))

    def loglik(z: np.ndarray) -> float:
        # paretonbd_loglik, with each term computed once per distinct x, time or pair.
        r, alpha, s, beta = np.exp(z)
        base = (gammaln(r + h.xu) - gammaln(r))[h.ix] + r * np.log(alpha) + s * np.log(beta)
        alive = -(r + h.x) * np.log(alpha + h.Tu)[h.iT] - s * np.log(beta + h.Tu)[h.iT]
        l1 = _pareto_term(r, alpha, s, beta, h.ptx_x, h.ptx_t)[h.ipx_tx]
        l2 = _pareto_term(r, alpha, s, beta, h.pT_x, h.pT_t)[h.ipx_T]
        dead = _pareto_combine(r, alpha, s, beta, h.x, h.tx, h.T, l1, l2, quadrature=False)
        with np.errstate(invalid="ignore"):
            return float(np.dot(h.w, base + np.logaddexp(alive, dead)))

    return _maximise("pareto_nbd", ("r", "alpha", "s", "beta"), loglik, start, len(x))


def paretonbd_p_alive(fit: Fit, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(alive at T | x, t_x, T) (Fader & Hardie 2005 note, eq. (18)): the first term of
    the likelihood over the whole."""
    r, alpha, s, beta = fit.params
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    dead = _pareto_log_a0(r, alpha, s, beta, x, tx, T)
    return np.exp(alive - np.logaddexp(alive, dead))


def _one_minus_power_over(k: np.ndarray | float, log_q: np.ndarray) -> np.ndarray:
    """(1 - q^k)/k, continuous through k = 0 (where it is -log q)."""
    k = np.asarray(k, dtype=float)
    small = np.abs(k) < 1e-9
    safe = np.where(small, 1.0, k)
    return np.where(small, -log_q, -np.expm1(safe * log_q) / safe)


def paretonbd_expected(
    fit: Fit, x: np.ndarray, tx: np.ndarray, T: np.ndarray, t: float
) -> np.ndarray:
    """E[purchases in (T, T + t] | x, t_x, T] (Schmittlein et al. 1987, eq. (22); Fader &
    Hardie 2005 note, eq. (27)):
    (r+x)(beta+T) / ((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive)."""
    r, alpha, s, beta = fit.params
    if t <= 0:
        return np.zeros_like(np.asarray(x, dtype=float))
    log_q = np.log(beta + T) - np.log(beta + T + t)
    # (1 - q^(s-1))/(s-1) with the sign folded in: the expression's (s - 1) divides it.
    part = _one_minus_power_over(s - 1.0, log_q)
    return (r + x) * (beta + T) / (alpha + T) * part * paretonbd_p_alive(fit, x, tx, T)


# ------------------------------------------------------------------------- Gamma-Gamma


def gammagamma_loglik(p: float, q: float, v: float, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Log-likelihood of a customer's mean spend m over x repeat purchases.

    Fader, Hardie & Lee (2005b), "RFM and CLV: Using Iso-Value Curves for Customer Base
    Analysis", Journal of Marketing Research 42(4), 415-430 (spend z ~ Gamma(p, nu) per
    purchase, nu ~ Gamma(q, v) across customers); the density of the mean is in Fader &
    Hardie (2013), "The Gamma-Gamma Model of Monetary Value", eq. (4):
    f(m | x) = Gamma(px+q) / (Gamma(px) Gamma(q)) v^q m^(px-1) x^(px) / (v + m x)^(px+q).
    """
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + m * x)
    )


def fit_gammagamma(x: np.ndarray, m: np.ndarray) -> Fit:
    """Maximum-likelihood Gamma-Gamma parameters (p, q, v) from repeat buyers' (x, m)."""
    keep = (x > 0) & (m > 0)
    if keep.sum() < 2:
        raise FitError("gamma_gamma: fewer than two repeat buyers with a positive spend")
    xs, ms = x[keep].astype(float), m[keep].astype(float)
    xu, ix = np.unique(xs, return_inverse=True)
    log_m, log_x, mx = np.log(ms), np.log(xu)[ix], ms * xs
    start = np.array([0.0, np.log(2.0), np.log(float(ms.mean()))])

    def loglik(z: np.ndarray) -> float:
        # gammagamma_loglik with the gamma functions once per distinct x.
        p, q, v = np.exp(z)
        px = p * xs
        per_x = (gammaln(p * xu + q) - gammaln(p * xu))[ix]
        value = per_x - gammaln(q) + q * np.log(v) + (px - 1) * log_m + px * log_x
        return float(np.sum(value - (px + q) * np.log(v + mx)))

    return _maximise("gamma_gamma", ("p", "q", "v"), loglik, start, int(keep.sum()))


def gammagamma_mean(fit: Fit) -> float:
    """Mean spend per purchase across customers, p v/(q - 1) (infinite when q <= 1)."""
    p, q, v = fit.params
    return float(p * v / (q - 1)) if q > 1 else float("inf")


def gammagamma_spread(fit: Fit) -> float:
    """Coefficient of variation across customers of their mean spend per purchase:
    E[Z | nu] = p/nu with nu ~ Gamma(q, v), so CV = 1/sqrt(q - 2) (infinite when q <= 2)."""
    q = fit.params[1]
    return float(1.0 / np.sqrt(q - 2)) if q > 2 else float("inf")


def gammagamma_expected(fit: Fit, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E[spend per purchase | x, m]: a weighted mean of the population mean and the
    customer's own (Fader, Hardie & Lee 2005b, eq. (5))."""
    p, q, v = fit.params
    px = p * x
    weight = px / (px + q - 1)
    return (1 - weight) * p * v / (q - 1) + weight * m


def _rate_start(x: np.ndarray, T: np.ndarray, extra: tuple[float, float]) -> np.ndarray:
    """A start near the data: r = 1 and alpha so that r/alpha is the mean repeat rate."""
    rate = max(float(np.sum(x)) / max(float(np.sum(T)), 1e-9), 1e-6)
    return np.array([0.0, float(np.log(1.0 / rate)), *extra])
