"""Quasi-likelihood GLMs (quasi-Poisson, quasi-binomial) and the negative binomial model, their
prediction intervals, a pooled share and a series' dispersion (see :mod:`wardanalysis.stats`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import NotEstimableError, ZeroDenominatorError
from ..text.formats import fmt
from .intervals import ALPHA, check_binomial, critical_value, wilson_interval


class _Wald:
    """Wald ratios with Student's t on ``df_resid``, for a fit with ``params`` and ``cov``."""

    @property
    def crit(self) -> float:
        return critical_value(self.df_resid, self.alpha)

    def contrast(self, weights: dict[str, float]) -> tuple[float, float]:
        """Estimate and standard error of a linear combination of coefficients."""
        w = pd.Series(0.0, index=self.params.index)
        for k, v in weights.items():
            if k not in w.index:
                raise KeyError(f"no coefficient {k!r} (have {list(w.index)})")
            w[k] = v
        return float(w @ self.params), float(np.sqrt(w @ self.cov @ w))

    def ratio(self, weights: dict[str, float] | str) -> tuple[float, float, float]:
        """``exp`` of a coefficient (or a combination) with its t-based Wald interval."""
        est, se = self.contrast({weights: 1.0} if isinstance(weights, str) else weights)
        return (float(np.exp(est)), float(np.exp(est - self.crit * se)),
                float(np.exp(est + self.crit * se)))


@dataclass(frozen=True, eq=False)
class GLMFit(_Wald):
    """A quasi-likelihood GLM: coefficients on the link scale and their covariance times the
    scale ``max(1, dispersion)``."""

    params: pd.Series
    cov: pd.DataFrame
    dispersion: float  # Pearson chi2 / df_resid, as estimated
    scale: float
    pearson_chi2: float
    deviance: float
    df_resid: int
    fitted: np.ndarray = field(repr=False)
    alpha: float = ALPHA

    @property
    def quantiles(self) -> str:
        return f"t({self.df_resid})"

    def se(self, name: str) -> float:
        return float(np.sqrt(self.cov.loc[name, name]))

    def linear_predictor(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """``X @ params`` and its standard error for new rows (columns named as the fit)."""
        Xm = X[list(self.params.index)].to_numpy(dtype=float)
        var = np.einsum("ij,jk,ik->i", Xm, self.cov.to_numpy(), Xm)
        return Xm @ self.params.to_numpy(), np.sqrt(var)


def interval_label(family: str, dispersion: float, quantiles: str, kind: str = "Wald") -> str:
    """How a GLM interval was made: ``quasi-binomial Wald, t(5)``, or where the dispersion is at
    or below 1, ``binomial Wald (dispersion 0.94, scale floored at 1), t(4)``."""
    if dispersion > 1:
        return f"quasi-{family} {kind}, {quantiles}"
    return f"{family} {kind} (dispersion {fmt(dispersion)}, scale floored at 1), {quantiles}"


def _check_design(n_obs: int, X: pd.DataFrame, what: str) -> int:
    """The residual df, after checking that there is one and that every term varies."""
    df = n_obs - X.shape[1]
    if df < 1:
        raise NotEstimableError(
            f"{what}: {n_obs} observations for {X.shape[1]} coefficients leave no residual "
            "degree of freedom to estimate the dispersion"
        )
    if np.linalg.matrix_rank(X.to_numpy(dtype=float)) < X.shape[1]:
        raise NotEstimableError(
            f"{what}: the design matrix ({', '.join(X.columns)}) is rank-deficient; a term "
            "does not vary in these data"
        )
    return df


def _quasi(res, names: list[str], df: int, alpha: float) -> GLMFit:
    phi = float(res.pearson_chi2 / res.df_resid)
    scale = max(1.0, phi)
    return GLMFit(
        params=pd.Series(np.asarray(res.params), index=names),
        cov=pd.DataFrame(np.asarray(res.cov_params()) * scale, index=names, columns=names),
        dispersion=phi, scale=scale, pearson_chi2=float(res.pearson_chi2),
        deviance=float(res.deviance), df_resid=df,
        fitted=np.asarray(res.fittedvalues, dtype=float), alpha=alpha,
    )


def fit_quasi_poisson(y, X: pd.DataFrame, alpha: float = ALPHA,
                      what: str = "quasi-Poisson GLM") -> GLMFit:
    """Log-linear quasi-Poisson GLM of counts ``y`` on the design ``X`` (include a constant):
    dispersion = Pearson chi2 / (n - k)."""
    import statsmodels.api as sm

    y = np.asarray(y, dtype=float)
    df = _check_design(len(y), X, what)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm.GLM(y, X.astype(float), family=sm.families.Poisson()).fit()
    return _quasi(res, list(X.columns), df, alpha)


def fit_quasi_binomial(successes, trials, X: pd.DataFrame, alpha: float = ALPHA,
                       what: str = "quasi-binomial GLM") -> GLMFit:
    """Logistic quasi-binomial GLM of ``successes`` out of ``trials`` on the design ``X``: a
    ``(successes, failures)`` endog, so that each row is one observation with its own trials."""
    import statsmodels.api as sm

    s = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    check_binomial(s, n)
    if np.any(n == 0):
        raise ZeroDenominatorError(what, "trials", "a row has no trials")
    df = _check_design(len(s), X, what)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # numpy in: with as many rows as endog columns, pandas inputs make statsmodels mislabel
        # the parameters
        res = sm.GLM(np.column_stack([s, n - s]), X.to_numpy(dtype=float),
                     family=sm.families.Binomial()).fit()
    return _quasi(res, list(X.columns), df, alpha)


#: An NB2 alpha below this is the boundary alpha = 0. There the likelihood has no interior
#: maximum, BFGS stops without converging and a Newton step from it lands on alpha < 0: whether
#: the result is NaN or a number then depends on the last bits of the arithmetic (the memory
#: layout of the process), so such a fit is reported as not converged, on every path alike.
NB_ALPHA_BOUNDARY = 1e-4


@dataclass(frozen=True, eq=False)
class NBFit(_Wald):
    """A negative binomial (NB2: variance = mu + alpha mu^2) maximum-likelihood fit.

    Its Wald intervals use t on the residual df of the quasi-Poisson model with the same
    design, so that the two are a like-for-like sensitivity: both estimate one variance
    parameter from the same residual information (normal quantiles would treat alpha as known,
    which seven points cannot justify)."""

    params: pd.Series
    cov: pd.DataFrame
    nb_alpha: float
    converged: bool
    n_obs: int
    alpha: float = ALPHA
    #: alpha went to 0 (no interior maximum; such a fit is never ``converged``)
    at_boundary: bool = False

    @property
    def df_resid(self) -> int:
        return self.n_obs - len(self.params)


def fit_negative_binomial(y, X: pd.DataFrame, alpha: float = ALPHA,
                          what: str = "negative binomial model") -> NBFit:
    """NB2 regression of counts ``y`` on ``X`` by maximum likelihood (statsmodels
    ``NegativeBinomial``; see :class:`NBFit`)."""
    import statsmodels.api as sm

    y = np.asarray(y, dtype=float)
    k = X.shape[1] + 1  # coefficients and alpha
    if len(y) <= k:
        raise NotEstimableError(
            f"{what}: {len(y)} observations for {k} parameters (coefficients and alpha)"
        )
    _check_design(len(y), X, what)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = sm.NegativeBinomial(y, X.astype(float), loglike_method="nb2")
        first = model.fit(disp=0, maxiter=500, method="bfgs")
        at_boundary = not float(np.asarray(first.params)[-1]) > NB_ALPHA_BOUNDARY
        # polish with Newton from the BFGS optimum for an accurate Hessian (not from the
        # boundary, where a Newton step leaves the parameter space)
        res = first if at_boundary else model.fit(
            start_params=first.params, disp=0, maxiter=100, method="newton")
    names = list(X.columns)
    try:
        cov_full = np.asarray(res.cov_params())
    except ValueError:  # no Hessian at a failed optimum
        cov_full = np.full((k, k), np.nan)
    finite = bool(np.isfinite(np.asarray(res.params)).all() and np.isfinite(cov_full).all()
                  and (np.diag(cov_full) > 0).all())
    return NBFit(
        params=pd.Series(np.asarray(res.params)[: len(names)], index=names),
        cov=pd.DataFrame(cov_full[: len(names), : len(names)], index=names, columns=names),
        nb_alpha=float(np.asarray(res.params)[-1]),
        converged=not at_boundary and finite and bool(res.mle_retvals.get("converged", False)),
        n_obs=len(y), alpha=alpha, at_boundary=at_boundary,
    )


def prediction_interval(fit: GLMFit, X: pd.DataFrame) -> pd.DataFrame:
    """Expected count and 95% prediction interval for a new count at each row of ``X``: on the
    log scale (delta method) ``var(log Y) ~ scale / mu + x' Cov x``, t on the fit's df."""
    eta, se_eta = fit.linear_predictor(X)
    mu = np.exp(eta)
    se_log = np.sqrt(fit.scale / mu + se_eta**2)
    return pd.DataFrame({
        "expected": mu,
        "expected_ci_low": np.exp(eta - fit.crit * se_eta),
        "expected_ci_high": np.exp(eta + fit.crit * se_eta),
        "pi_low": mu * np.exp(-fit.crit * se_log),
        "pi_high": mu * np.exp(fit.crit * se_log),
    }, index=X.index)


def total_prediction_interval(fit: GLMFit, X: pd.DataFrame) -> tuple[float, float, float]:
    """Expected total of new counts over the rows of ``X`` with a 95% prediction interval on the
    log scale: ``var(T_new - T_hat) ~ scale * sum(mu) + g' Cov g``, ``g = sum_j mu_j x_j``."""
    Xm = X[list(fit.params.index)].to_numpy(dtype=float)
    mu = np.exp(Xm @ fit.params.to_numpy())
    total = float(mu.sum())
    g = (mu[:, None] * Xm).sum(axis=0)
    var = fit.scale * total + float(g @ fit.cov.to_numpy() @ g)
    half = fit.crit * (np.sqrt(var) / total)
    return total, total * float(np.exp(-half)), total * float(np.exp(half))


@dataclass(frozen=True)
class PooledShare:
    """A share pooled over years with a dispersion-aware interval."""

    share: float
    ci_low: float
    ci_high: float
    dispersion: float
    df: int
    quantiles: str


def pooled_share(successes, trials, alpha: float = ALPHA,
                 what: str = "pooled share") -> PooledShare:
    """``sum(successes) / sum(trials)`` over the rows (years) with trials, with the interval of
    an intercept-only quasi-binomial GLM; with one row (no dispersion to estimate), or none or
    every trial a success, the Wilson interval with ``df = 0``."""
    s = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    check_binomial(s, n)
    keep = n > 0
    s, n = s[keep], n[keep]
    if n.sum() == 0:
        raise ZeroDenominatorError(what, "trials", "no trials in any row")
    share = float(s.sum() / n.sum())
    if len(s) < 2 or s.sum() in (0, n.sum()):
        lo, hi = wilson_interval(s.sum(), n.sum(), alpha)
        return PooledShare(share, float(lo), float(hi), np.nan, 0, "Wilson")
    fit = fit_quasi_binomial(s, n, pd.DataFrame({"const": np.ones(len(s))}), alpha, what)
    b, se = fit.contrast({"const": 1.0})
    expit = lambda v: float(1 / (1 + np.exp(-v)))  # noqa: E731
    return PooledShare(share, expit(b - fit.crit * se), expit(b + fit.crit * se), fit.dispersion,
                       fit.df_resid, fit.quantiles)


def trend_dispersion(counts, years, trials=None) -> tuple[float, int]:
    """The dispersion of a yearly series and its residual df, from the series' log-linear
    trend: quasi-Poisson for counts, quasi-binomial (logit) when ``trials`` are given (rows
    without trials are left out). ``(nan, 0)`` when fewer than three usable years remain."""
    y = np.asarray(counts, dtype=float)
    t = np.asarray(years, dtype=float)
    n = None if trials is None else np.asarray(trials, dtype=float)
    if n is not None:
        keep = n > 0
        y, t, n = y[keep], t[keep], n[keep]
    if len(y) < 3:
        return np.nan, 0
    X = pd.DataFrame({"const": 1.0, "year": t - t[0]})
    try:
        fit = (fit_quasi_poisson(y, X, what="series trend") if n is None
               else fit_quasi_binomial(y, n, X, what="series trend"))
    except (NotEstimableError, ZeroDenominatorError):
        return np.nan, 0
    return fit.dispersion, fit.df_resid
