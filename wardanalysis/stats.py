"""Small statistical helpers shared by the models.

Each helper wraps a well-kept library (statsmodels, scipy) where one exists and writes by hand
only what the libraries do not offer:

- :func:`wilson_interval`, :func:`clopper_pearson_interval`: statsmodels ``proportion_confint``.
- :func:`poisson_exact_interval`: the exact (Garwood) interval, statsmodels ``confint_poisson``
  with ``method='exact-c'``.
- :func:`rate_ratio_exact`: the exact conditional rate ratio of two Poisson counts. The p-value is
  statsmodels ``test_poisson_2indep(method='exact-cond')``; statsmodels has no exact conditional
  *interval* (``confint_poisson_2indep`` lists it as "NOT YET"), so the interval is the
  Clopper-Pearson interval of ``count1 / (count1 + count2)`` mapped to the ratio scale, which is
  the textbook exact conditional interval.
- :func:`mover_difference`: a difference with the MOVER interval from the two estimates' own
  intervals (Zou & Donner; a closed form written by hand, as statsmodels offers it only for
  its own interval methods).
- :func:`newcombe_difference`: statsmodels ``confint_proportions_2indep(method='newcomb')``;
  :func:`fisher_exact_2x2`: scipy ``fisher_exact`` and ``contingency.odds_ratio``.
- :func:`fit_quasi_poisson`, :func:`fit_quasi_binomial`: statsmodels GLMs whose dispersion is the
  Pearson chi-squared over the residual degrees of freedom, with Wald intervals from Student's t
  on those degrees of freedom. The binomial fit passes the counts as a ``(successes, failures)``
  two-column endog, so the Pearson chi-squared and the residual degrees of freedom are those of
  the years, not of the individual requests (passing proportions with ``freq_weights=trials``
  would make ``df_resid`` the number of requests and shrink the dispersion by a factor of
  about a thousand).
- :func:`fit_negative_binomial`: statsmodels' NB2 maximum-likelihood model.
- :func:`prediction_interval`, :func:`total_prediction_interval`: prediction intervals for new
  counts under a quasi-Poisson fit (delta method on the log scale; written by hand).
- :func:`scaled_rate_ratio`, :func:`scaled_odds_ratio`: two single years of a series compared
  with the dispersion borrowed from that series' trend model (quasi-likelihood Wald intervals
  with the borrowed scale and t on that model's residual degrees of freedom; closed forms).
- :func:`scaled_wilson_interval`: the Wilson interval of a share on the effective counts
  ``successes / scale`` of ``trials / scale`` (the design-effect form of a quasi-binomial share).
- :func:`fisher_exact_rx2`: does a share differ between years? The r x 2 Fisher test, exact by
  enumeration where the tables are few enough, else scipy's with a seeded Monte Carlo p-value.

Dispersion below 1 is not used to narrow intervals: the scale used for inference is
``max(1, Pearson chi2 / df)``, and the raw value is reported beside it. The quantiles are always
Student's t on the residual degrees of freedom of the model that estimated the dispersion, also
where the floor applies: an estimate below 1 on a few degrees of freedom does not show that the
scale is known to be 1 (seven yearly points cannot tell 0.94 from 1.5), so switching to normal
quantiles there would make the interval narrowest exactly where the data say least. The same
holds for the borrowed intervals of two single years (:func:`scaled_rate_ratio`,
:func:`scaled_odds_ratio`): the exact Poisson/binomial interval is kept beside them as a
sensitivity, never as the headline.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import NotEstimableError, ZeroDenominatorError

__all__ = [
    "GLMFit",
    "NBFit",
    "RateRatio",
    "clopper_pearson_interval",
    "fisher_exact_2x2",
    "fit_negative_binomial",
    "fit_quasi_binomial",
    "fit_quasi_poisson",
    "exact_power",
    "minimum_detectable_ratio",
    "mover_difference",
    "newcombe_difference",
    "poisson_exact_interval",
    "prediction_interval",
    "fisher_exact_rx2",
    "pooled_share",
    "trend_dispersion",
    "rate_ratio_exact",
    "scaled_odds_ratio",
    "scaled_rate_ratio",
    "scaled_wilson_interval",
    "total_prediction_interval",
    "wilson_interval",
]

ALPHA = 0.05


# --- proportions ------------------------------------------------------------------------------


def wilson_interval(successes, trials, alpha: float = ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``successes / trials`` (arrays allowed).

    A zero in ``trials`` gives NaN bounds for that element (the caller decides whether that is
    an error); negative counts or ``successes > trials`` raise ``ValueError``.
    """
    from statsmodels.stats.proportion import proportion_confint

    s = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    _check_binomial(s, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = proportion_confint(s, np.where(n > 0, n, np.nan), alpha=alpha, method="wilson")
    return np.asarray(low, dtype=float), np.asarray(high, dtype=float)


def clopper_pearson_interval(successes, trials, alpha: float = ALPHA):
    """Exact (Clopper-Pearson) interval for a binomial proportion."""
    from statsmodels.stats.proportion import proportion_confint

    s = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    _check_binomial(s, n)
    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = proportion_confint(s, np.where(n > 0, n, np.nan), alpha=alpha, method="beta")
    return np.asarray(low, dtype=float), np.asarray(high, dtype=float)


def _check_binomial(s: np.ndarray, n: np.ndarray) -> None:
    if np.any(s < 0) or np.any(n < 0):
        raise ValueError("counts must not be negative")
    if np.any(s > n):
        raise ValueError("successes must not exceed trials")


def newcombe_difference(s1: int, n1: int, s2: int, n2: int, alpha: float = ALPHA):
    """Difference ``s1/n1 - s2/n2`` with Newcombe's hybrid score (Wilson) interval.

    Returns ``(difference, low, high)``.
    """
    from statsmodels.stats.proportion import confint_proportions_2indep

    if n1 <= 0 or n2 <= 0:
        raise ZeroDenominatorError("difference of proportions", "trials", f"n1={n1}, n2={n2}")
    low, high = confint_proportions_2indep(
        s1, n1, s2, n2, method="newcomb", compare="diff", alpha=alpha
    )
    return s1 / n1 - s2 / n2, float(low), float(high)


def mover_difference(p1: float, low1: float, high1: float, p2: float, low2: float,
                     high2: float) -> tuple[float, float, float]:
    """Difference ``p1 - p2`` of two independent estimates with the MOVER interval (method of
    variance estimates recovery, Zou & Donner 2008) built from each estimate's own interval:
    ``d - sqrt((p1 - low1)^2 + (high2 - p2)^2)`` to ``d + sqrt((high1 - p1)^2 + (p2 - low2)^2)``.
    With Wilson intervals on both sides it is Newcombe's hybrid score interval; here it lets a
    share with a dispersion-aware (quasi-binomial) interval and one with a Wilson interval be
    compared with the same intervals the page shows for each. Returns ``(d, low, high)``."""
    vals = np.array([p1, low1, high1, p2, low2, high2], dtype=float)
    if not np.all(np.isfinite(vals)):
        raise ValueError("mover_difference: every estimate and limit must be finite")
    if not (low1 <= p1 <= high1 and low2 <= p2 <= high2):
        raise ValueError("mover_difference: each estimate must lie within its interval")
    d = p1 - p2
    return (float(d), float(d - np.hypot(p1 - low1, high2 - p2)),
            float(d + np.hypot(high1 - p1, p2 - low2)))


@dataclass(frozen=True)
class FisherResult:
    odds_ratio: float  # conditional maximum-likelihood estimate
    ci_low: float
    ci_high: float
    p_value: float  # two-sided Fisher exact test
    sample_odds_ratio: float


def fisher_exact_2x2(s1: int, n1: int, s2: int, n2: int, alpha: float = ALPHA) -> FisherResult:
    """Fisher's exact test of ``s1/n1`` against ``s2/n2`` with the conditional odds ratio.

    The odds ratio is the conditional MLE with its exact interval (scipy
    ``contingency.odds_ratio(kind='conditional')``); the p-value is two-sided.
    """
    from scipy import stats

    table = np.array([[s1, n1 - s1], [s2, n2 - s2]], dtype=np.int64)
    if np.any(table < 0):
        raise ValueError("successes must be between 0 and trials")
    p = stats.fisher_exact(table, alternative="two-sided").pvalue
    res = stats.contingency.odds_ratio(table, kind="conditional")
    ci = res.confidence_interval(confidence_level=1 - alpha)
    with np.errstate(divide="ignore", invalid="ignore"):
        sample = (table[0, 0] * table[1, 1]) / (table[0, 1] * table[1, 0])
    return FisherResult(float(res.statistic), float(ci.low), float(ci.high), float(p), float(sample))


# --- Poisson counts ---------------------------------------------------------------------------


def poisson_exact_interval(count, exposure=1.0, alpha: float = ALPHA):
    """Exact (Garwood) interval for a Poisson rate ``count / exposure``."""
    from statsmodels.stats.rates import confint_poisson

    c = np.asarray(count, dtype=float)
    if np.any(c < 0):
        raise ValueError("counts must not be negative")
    low, high = confint_poisson(c, exposure, method="exact-c", alpha=alpha)
    return np.asarray(low, dtype=float), np.asarray(high, dtype=float)


@dataclass(frozen=True)
class RateRatio:
    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    count1: int
    exposure1: float
    count2: int
    exposure2: float


def rate_ratio_exact(
    count1: int, exposure1: float, count2: int, exposure2: float, alpha: float = ALPHA
) -> RateRatio:
    """Rate ratio ``(count1/exposure1) / (count2/exposure2)`` with the exact conditional interval
    and p-value (conditional on ``count1 + count2``; assumes Poisson variation only)."""
    from statsmodels.stats.rates import test_poisson_2indep

    if count1 < 0 or count2 < 0:
        raise ValueError("counts must not be negative")
    if exposure1 <= 0 or exposure2 <= 0:
        raise ZeroDenominatorError("rate ratio", "exposure", f"{exposure1}, {exposure2}")
    total = count1 + count2
    if total == 0:
        raise ZeroDenominatorError("rate ratio", "count", "both counts are zero")
    p_low, p_high = clopper_pearson_interval(count1, total, alpha)
    scale = exposure2 / exposure1
    with np.errstate(divide="ignore"):
        low = float(p_low / (1 - p_low) * scale)
        high = float(p_high / (1 - p_high) * scale) if p_high < 1 else np.inf
        ratio = (count1 / exposure1) / (count2 / exposure2) if count2 > 0 else np.inf
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero count: the ratio is unbounded
        p = test_poisson_2indep(count1, exposure1, count2, exposure2, method="exact-cond").pvalue
    return RateRatio(float(ratio), low, high, float(p), int(count1), float(exposure1),
                     int(count2), float(exposure2))


# --- GLMs -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GLMFit:
    """A fitted quasi-likelihood GLM: coefficients on the link scale, their covariance scaled by
    the dispersion used, and Student-t critical values on the residual degrees of freedom."""

    family: str
    params: pd.Series
    cov: pd.DataFrame
    dispersion: float  # Pearson chi2 / df_resid, as estimated
    scale: float  # the dispersion used for inference: max(1, dispersion)
    pearson_chi2: float
    deviance: float
    df_resid: int
    n_obs: int
    alpha: float = ALPHA
    fitted: np.ndarray = field(default_factory=lambda: np.array([]), repr=False)
    warnings: tuple[str, ...] = ()

    @property
    def scale_floored(self) -> bool:
        """True where the floor ``max(1, dispersion)`` set the scale at 1."""
        return not self.dispersion > 1

    @property
    def crit(self) -> float:
        """Student's t on the residual df, whether or not the floor applies (see the module
        docstring)."""
        return critical_value(self.df_resid, self.alpha)

    @property
    def quantiles(self) -> str:
        """How the interval's quantiles were taken: ``t(3)``."""
        return f"t({self.df_resid})"

    def se(self, name: str) -> float:
        return float(np.sqrt(self.cov.loc[name, name]))

    def contrast(self, weights: dict[str, float]) -> tuple[float, float]:
        """Estimate and standard error of a linear combination of coefficients."""
        w = pd.Series(0.0, index=self.params.index)
        for k, v in weights.items():
            if k not in w.index:
                raise KeyError(f"no coefficient {k!r} (have {list(w.index)})")
            w[k] = v
        est = float(w @ self.params)
        se = float(np.sqrt(w @ self.cov @ w))
        return est, se

    def ratio(self, weights: dict[str, float] | str) -> tuple[float, float, float]:
        """``exp`` of a coefficient (or a combination) with its t-based Wald interval."""
        if isinstance(weights, str):
            weights = {weights: 1.0}
        est, se = self.contrast(weights)
        return (float(np.exp(est)), float(np.exp(est - self.crit * se)),
                float(np.exp(est + self.crit * se)))

    def linear_predictor(self, X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """``X @ params`` and its standard error for new rows (columns named as the fit)."""
        Xm = X[list(self.params.index)].to_numpy(dtype=float)
        eta = Xm @ self.params.to_numpy()
        var = np.einsum("ij,jk,ik->i", Xm, self.cov.to_numpy(), Xm)
        return eta, np.sqrt(var)


def interval_label(family: str, dispersion: float, quantiles: str, kind: str = "Wald") -> str:
    """How a GLM interval was made, exactly: ``quasi-binomial Wald, t(5)``; where the estimated
    dispersion is at or below 1 the scale is 1 and the variance plain binomial (Poisson), and
    the label says so: ``binomial Wald (dispersion 0.94, scale floored at 1), t(4)``."""
    if dispersion > 1:
        return f"quasi-{family} {kind}, {quantiles}"
    from .text.formats import fmt

    return f"{family} {kind} (dispersion {fmt(dispersion)}, scale floored at 1), {quantiles}"


def critical_value(df: int | None, alpha: float = ALPHA) -> float:
    """The two-sided ``1 - alpha`` quantile: Student's t on ``df`` degrees of freedom, or the
    normal quantile when ``df`` is None (a known scale)."""
    from scipy import stats

    if df is None:
        return float(stats.norm.ppf(1 - alpha / 2))
    return float(stats.t.ppf(1 - alpha / 2, df))


def _require_df(n_obs: int, k: int, what: str) -> int:
    df = n_obs - k
    if df < 1:
        raise NotEstimableError(
            f"{what}: {n_obs} observations for {k} coefficients leave no residual degree of "
            "freedom to estimate the dispersion"
        )
    return df


def _rank_check(X: pd.DataFrame, what: str) -> None:
    if np.linalg.matrix_rank(X.to_numpy(dtype=float)) < X.shape[1]:
        raise NotEstimableError(
            f"{what}: the design matrix ({', '.join(X.columns)}) is rank-deficient; a term "
            "does not vary in these data"
        )


def fit_quasi_poisson(y, X: pd.DataFrame, alpha: float = ALPHA, what: str = "quasi-Poisson GLM") -> GLMFit:
    """Log-linear quasi-Poisson GLM of counts ``y`` on the design ``X`` (include a constant).

    Dispersion = Pearson chi2 / (n - k); coefficient covariance = max(1, dispersion) times the
    Poisson covariance; intervals use Student's t on n - k degrees of freedom.
    """
    import statsmodels.api as sm

    y = np.asarray(y, dtype=float)
    df = _require_df(len(y), X.shape[1], what)
    _rank_check(X, what)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = sm.GLM(y, X.astype(float), family=sm.families.Poisson()).fit()
    phi = float(res.pearson_chi2 / res.df_resid)
    scale = max(1.0, phi)
    cov = res.cov_params() * scale  # the Poisson fit has scale 1
    return GLMFit(
        family="quasi-Poisson", params=res.params.copy(), cov=cov, dispersion=phi, scale=scale,
        pearson_chi2=float(res.pearson_chi2), deviance=float(res.deviance), df_resid=df,
        n_obs=len(y), alpha=alpha, fitted=np.asarray(res.fittedvalues, dtype=float),
        warnings=tuple(str(w.message) for w in caught),
    )


def fit_quasi_binomial(successes, trials, X: pd.DataFrame, alpha: float = ALPHA,
                       what: str = "quasi-binomial GLM") -> GLMFit:
    """Logistic quasi-binomial GLM of ``successes`` out of ``trials`` on the design ``X``.

    The counts enter as a ``(successes, failures)`` endog, so each row is one binomial
    observation with its own number of trials; dispersion = Pearson chi2 / (rows - k), where
    Pearson chi2 = sum (s - n p)^2 / (n p (1 - p)).
    """
    import statsmodels.api as sm

    s = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    _check_binomial(s, n)
    if np.any(n == 0):
        raise ZeroDenominatorError(what, "trials", "a row has no trials")
    df = _require_df(len(s), X.shape[1], what)
    _rank_check(X, what)
    endog = np.column_stack([s, n - s])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # numpy in, names put back below: with as many rows as endog columns, pandas inputs
        # make statsmodels mislabel the parameters
        res = sm.GLM(endog, X.to_numpy(dtype=float), family=sm.families.Binomial()).fit()
    phi = float(res.pearson_chi2 / res.df_resid)
    if int(res.df_resid) != df:  # guards the trials-ignored pitfall described above
        raise AssertionError(f"binomial df_resid {res.df_resid} != {df}")
    scale = max(1.0, phi)
    names = list(X.columns)
    return GLMFit(
        family="quasi-binomial", params=pd.Series(np.asarray(res.params), index=names),
        cov=pd.DataFrame(np.asarray(res.cov_params()) * scale, index=names, columns=names),
        dispersion=phi, scale=scale, pearson_chi2=float(res.pearson_chi2),
        deviance=float(res.deviance), df_resid=df, n_obs=len(s), alpha=alpha,
        fitted=np.asarray(res.fittedvalues, dtype=float),
        warnings=tuple(str(w.message) for w in caught),
    )


#: An NB2 alpha below this is the boundary alpha = 0. There the likelihood has no interior
#: maximum, BFGS stops without converging and a Newton step from it lands on alpha < 0: whether
#: the result is NaN or a number then depends on the last bits of the arithmetic (the memory
#: layout of the process), so such a fit is reported as not converged, on every path alike.
NB_ALPHA_BOUNDARY = 1e-4


@dataclass(frozen=True, eq=False)
class NBFit:
    """A negative binomial (NB2: variance = mu + alpha mu^2) maximum-likelihood fit.

    Its Wald intervals use Student's t on ``df_resid = n_obs - (number of mean coefficients)``,
    the residual degrees of freedom of the quasi-Poisson model with the same design, so that the
    two are a like-for-like sensitivity: both estimate one variance parameter from the same
    residual information. (Normal quantiles would treat alpha as known, which seven points
    cannot justify.)"""

    params: pd.Series
    cov: pd.DataFrame
    nb_alpha: float
    converged: bool
    loglike: float
    n_obs: int
    alpha: float = ALPHA
    warnings: tuple[str, ...] = ()
    #: alpha went to 0: the counts vary no more than Poisson counts, and the NB2 likelihood has
    #: no interior maximum (such a fit is never ``converged``; see :data:`NB_ALPHA_BOUNDARY`)
    at_boundary: bool = False

    @property
    def df_resid(self) -> int:
        return self.n_obs - len(self.params)

    @property
    def crit(self) -> float:
        return critical_value(self.df_resid, self.alpha)

    def ratio(self, name: str) -> tuple[float, float, float]:
        """``exp`` of a coefficient with its t-based Wald interval."""
        est = float(self.params[name])
        se = float(np.sqrt(self.cov.loc[name, name]))
        return (float(np.exp(est)), float(np.exp(est - self.crit * se)),
                float(np.exp(est + self.crit * se)))


def fit_negative_binomial(y, X: pd.DataFrame, alpha: float = ALPHA,
                          what: str = "negative binomial model") -> NBFit:
    """NB2 regression of counts ``y`` on ``X`` by maximum likelihood (statsmodels
    ``NegativeBinomial``); intervals are Wald intervals with t on the residual degrees of freedom
    (see :class:`NBFit`)."""
    import statsmodels.api as sm

    y = np.asarray(y, dtype=float)
    k = X.shape[1] + 1  # coefficients and alpha
    if len(y) <= k:
        raise NotEstimableError(
            f"{what}: {len(y)} observations for {k} parameters (coefficients and alpha)"
        )
    _rank_check(X, what)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = sm.NegativeBinomial(y, X.astype(float), loglike_method="nb2")
        first = model.fit(disp=0, maxiter=500, method="bfgs")
        at_boundary = not float(np.asarray(first.params)[-1]) > NB_ALPHA_BOUNDARY
        # polish with Newton from the BFGS optimum for an accurate Hessian (not from the
        # boundary alpha = 0, where a Newton step leaves the parameter space)
        res = first if at_boundary else model.fit(
            start_params=first.params, disp=0, maxiter=100, method="newton")
    names = list(X.columns)
    params = pd.Series(np.asarray(res.params)[: len(names)], index=names)
    try:
        cov_full = np.asarray(res.cov_params())
    except ValueError:  # no Hessian at a failed optimum
        cov_full = np.full((k, k), np.nan)
    cov = pd.DataFrame(cov_full[: len(names), : len(names)], index=names, columns=names)
    finite = bool(np.isfinite(np.asarray(res.params)).all() and np.isfinite(cov_full).all()
                  and (np.diag(cov_full) > 0).all())
    return NBFit(
        params=params, cov=cov, nb_alpha=float(np.asarray(res.params)[-1]),
        converged=(not at_boundary and finite
                   and bool(res.mle_retvals.get("converged", False))),
        loglike=float(res.llf), n_obs=len(y), alpha=alpha,
        warnings=tuple(str(w.message) for w in caught), at_boundary=at_boundary,
    )


# --- prediction -------------------------------------------------------------------------------


def prediction_interval(fit: GLMFit, X: pd.DataFrame) -> pd.DataFrame:
    """Expected count and 95% prediction interval for a new count at each row of ``X``.

    Under the quasi-Poisson fit a new count has variance ``scale * mu`` around ``mu``, and
    ``log(mu_hat)`` has variance ``x' Cov x``; on the log scale (delta method)
    ``var(log Y) ~ scale / mu + x' Cov x``, and the interval is
    ``mu_hat * exp(+-t * sqrt(...))`` with t on the fit's residual degrees of freedom.
    """
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
    """Expected total of new counts over the rows of ``X`` with a 95% prediction interval.

    ``var(T_new - T_hat) ~ scale * sum(mu) + g' Cov g`` with ``g = sum_j mu_j x_j``; the
    interval is taken on the log scale as for :func:`prediction_interval`.
    """
    Xm = X[list(fit.params.index)].to_numpy(dtype=float)
    mu = np.exp(Xm @ fit.params.to_numpy())
    total = float(mu.sum())
    g = (mu[:, None] * Xm).sum(axis=0)
    var = fit.scale * total + float(g @ fit.cov.to_numpy() @ g)
    se_log = np.sqrt(var) / total
    return total, total * float(np.exp(-fit.crit * se_log)), total * float(np.exp(fit.crit * se_log))


def exact_power(ncp: float, df: float, alpha: float = ALPHA) -> float:
    """Power of the two-sided t-test at ``alpha`` on ``df`` degrees of freedom when the true
    effect is ``ncp`` standard errors: ``P(|T| > t_{1-alpha/2})`` with ``T`` noncentral t."""
    from scipy import stats

    t = stats.t.ppf(1 - alpha / 2, df)
    # the far tail against the effect underflows to NaN in scipy for a large ncp: it is ~0
    return float(stats.nct.sf(t, df, ncp) + np.nan_to_num(stats.nct.cdf(-t, df, ncp)))


def minimum_detectable_ratio(se_log: float, df: float, alpha: float = ALPHA,
                             power: float = 0.8) -> float:
    """The smallest rate ratio (above 1; its reciprocal below 1) that a two-sided t-test at
    ``alpha`` on ``df`` degrees of freedom detects with probability ``power``, given the standard
    error of the log ratio: ``exp(delta se)`` with ``delta`` the noncentrality at which
    :func:`exact_power` equals ``power`` (``t_{1-alpha/2} + t_{power}`` only approximates it)."""
    from scipy.optimize import brentq

    delta = brentq(lambda d: exact_power(d, df, alpha) - power, 0.0, 40.0, xtol=1e-12)
    return float(np.exp(delta * se_log))


# --- two single years of an overdispersed series ----------------------------------------------


@dataclass(frozen=True)
class ScaledRatio:
    """A ratio of two single years with an interval that borrows a series' dispersion.

    ``poisson_only`` is True when the series' trend model had fewer than 2 residual degrees of
    freedom: no honest interval exists, and ``ci_low``/``ci_high`` are then the exact interval,
    valid only if the counts were Poisson (or binomial). Otherwise ``ci_low``/``ci_high`` use
    the scale ``max(1, dispersion)`` with t on ``df``; ``scale`` is the dispersion as estimated
    and ``exact_*`` the exact interval and p-value, a sensitivity."""

    ratio: float
    ci_low: float
    ci_high: float
    scale: float
    df: int | None
    poisson_only: bool
    exact_low: float
    exact_high: float
    exact_p: float

    @property
    def quantiles(self) -> str:
        return f"t({self.df})"

    @property
    def scale_floored(self) -> bool:
        """True where the floor ``max(1, dispersion)`` set the scale at 1."""
        return not self.scale > 1

    @property
    def method(self) -> str:
        """``quasi`` (borrowed dispersion floored at 1, t) or ``poisson_only`` (too few years
        for an honest interval)."""
        return "poisson_only" if self.poisson_only else "quasi"


def _borrowed(log_ratio: float, var1: float, scale: float, df: int | None,
              exact: tuple[float, float, float], alpha: float) -> ScaledRatio:
    ratio = float(np.exp(log_ratio)) if np.isfinite(log_ratio) else (
        np.inf if log_ratio > 0 else 0.0)
    lo_x, hi_x, p_x = exact
    if df is not None and df < 2:  # no honest interval: the exact one, labelled as such
        return ScaledRatio(ratio, lo_x, hi_x, scale, df, True, lo_x, hi_x, p_x)
    # a dispersion at or below 1 is floored, not trusted: the scale is 1 and the quantiles stay
    # t(df), so the exact interval is only a sensitivity (see the module docstring)
    if not (np.isfinite(log_ratio) and np.isfinite(var1)):
        return ScaledRatio(ratio, np.nan, np.nan, scale, df, False, lo_x, hi_x, p_x)
    se = float(np.sqrt(max(1.0, scale) * var1))
    crit = critical_value(df, alpha)
    return ScaledRatio(ratio, float(np.exp(log_ratio - crit * se)),
                       float(np.exp(log_ratio + crit * se)), scale, df, False, lo_x, hi_x, p_x)


def scaled_rate_ratio(count1: int, count0: int, dispersion: float, df: int,
                      alpha: float = ALPHA) -> ScaledRatio:
    """``count1 / count0`` (one year against another, equal exposure) with the dispersion of the
    series borrowed: ``log RR +- crit * sqrt(scale * (1/count1 + 1/count0))``, ``scale =
    max(1, dispersion)``, crit from t(``df``), also where the dispersion is at or below 1 (the
    exact conditional interval is then kept as ``exact_*``, a sensitivity). With ``df < 2`` the
    exact conditional interval is returned, marked ``poisson_only``."""
    rr = rate_ratio_exact(count1, 1.0, count0, 1.0, alpha)
    with np.errstate(divide="ignore"):
        log_ratio = float(np.log(count1) - np.log(count0)) if count1 and count0 else (
            np.inf if count1 else -np.inf)
    var1 = 1 / count1 + 1 / count0 if count1 and count0 else np.inf
    return _borrowed(log_ratio, var1, dispersion, df, (rr.ci_low, rr.ci_high, rr.p_value), alpha)


def scaled_odds_ratio(s1: int, n1: int, s0: int, n0: int, dispersion: float, df: int,
                      alpha: float = ALPHA) -> ScaledRatio:
    """The odds ratio of ``s1/n1`` against ``s0/n0`` with a borrowed dispersion:
    ``log OR +- crit * sqrt(scale * (1/s1 + 1/f1 + 1/s0 + 1/f0))`` (Woolf's variance times the
    scale); the estimate is the sample odds ratio. A zero cell leaves no Wald interval (NaN)."""
    fx = fisher_exact_2x2(s1, n1, s0, n0, alpha)
    cells = np.array([s1, n1 - s1, s0, n0 - s0], dtype=float)
    if np.all(cells > 0):
        log_ratio = float(np.log(cells[0]) - np.log(cells[1]) - np.log(cells[2]) + np.log(cells[3]))
        var1 = float(np.sum(1 / cells))
    else:
        log_ratio, var1 = float(np.log(fx.odds_ratio)) if fx.odds_ratio > 0 else -np.inf, np.inf
    return _borrowed(log_ratio, var1, dispersion, df, (fx.ci_low, fx.ci_high, fx.p_value), alpha)


def scaled_wilson_interval(successes, trials, dispersion: float, alpha: float = ALPHA):
    """Wilson interval of ``successes / trials`` on the effective counts ``successes / scale``
    and ``trials / scale`` (``scale = max(1, dispersion)``): the share's interval widened by the
    overdispersion of its series (the design-effect form)."""
    scale = max(1.0, float(dispersion))
    s = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    _check_binomial(s, n)
    from statsmodels.stats.proportion import proportion_confint

    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = proportion_confint(s / scale, np.where(n > 0, n / scale, np.nan),
                                       alpha=alpha, method="wilson")
    return np.asarray(low, dtype=float), np.asarray(high, dtype=float)


#: Monte Carlo draws for the r x 2 Fisher test where full enumeration is too large (its
#: p-value's standard error is then below 0.0005).
FISHER_RESAMPLES = 100_000
#: Above this many tables with the observed margins, the r x 2 Fisher test is Monte Carlo.
FISHER_ENUMERATION_LIMIT = 2_000_000


def fisher_rx2_method(trials) -> str:
    """``exact`` where :func:`fisher_exact_rx2` enumerates every table, else ``monte_carlo``."""
    n = np.sort(np.asarray(trials, dtype=np.int64)[np.asarray(trials) > 0])
    return "exact" if np.prod((n[:-1] + 1).astype(float)) <= FISHER_ENUMERATION_LIMIT else "monte_carlo"


def fisher_exact_rx2(successes, trials, seed: int = 20240626) -> float:
    """Fisher's test that a share is the same in every row (year), on the r x 2 table. Exact
    where the tables with the observed margins number at most :data:`FISHER_ENUMERATION_LIMIT`
    (every table enumerated: the p-value sums the hypergeometric probabilities of the tables no
    more probable than the observed one); otherwise scipy ``fisher_exact`` with a seeded Monte
    Carlo p-value, deterministic for a given seed. Rows without trials are left out."""
    from scipy import stats

    s = np.asarray(successes, dtype=np.int64)
    n = np.asarray(trials, dtype=np.int64)
    _check_binomial(s, n)
    keep = n > 0
    table = np.column_stack([s[keep], n[keep] - s[keep]])
    if table.shape[0] < 2 or np.any(table.sum(axis=0) == 0):
        return 1.0
    if fisher_rx2_method(n) == "exact":
        return _fisher_rx2_enumerated(table[:, 0], table.sum(axis=1))
    method = stats.MonteCarloMethod(n_resamples=FISHER_RESAMPLES, rng=np.random.default_rng(seed))
    return float(stats.fisher_exact(table, method=method).pvalue)


def _fisher_rx2_enumerated(s: np.ndarray, n: np.ndarray) -> float:
    """The exact r x 2 Fisher p-value by enumeration: the largest row is fixed by the margin,
    the others range over 0..n_i; probabilities are compared on the log scale with a relative
    tolerance (as R's ``fisher.test``)."""
    from scipy.special import gammaln

    order = np.argsort(-n, kind="stable")
    s, n = s[order], n[order]
    total = int(s.sum())

    def logc(a, b):
        return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)

    observed = float(np.sum(logc(n, s)))
    # every combination of the other rows: their summed log-probabilities and successes
    logp_rest, sum_rest = np.zeros(1), np.zeros(1, dtype=np.int64)
    for k in n[1:]:
        x = np.arange(k + 1)
        logp_rest = np.add.outer(logp_rest, logc(k, x)).ravel()
        sum_rest = np.add.outer(sum_rest, x).ravel()
    first = total - sum_rest
    ok = (first >= 0) & (first <= n[0])
    logp = logp_rest[ok] + logc(n[0], first[ok])
    norm = np.logaddexp.reduce(logp)
    tail = logp[logp <= observed + 1e-7 * abs(observed) + 1e-12]
    return float(min(1.0, np.exp(np.logaddexp.reduce(tail) - norm)))


@dataclass(frozen=True)
class PooledShare:
    """A share pooled over years with a dispersion-aware interval (intercept-only
    quasi-binomial GLM: the estimate is sum(successes) / sum(trials))."""

    share: float
    ci_low: float
    ci_high: float
    dispersion: float
    df: int
    quantiles: str


def pooled_share(successes, trials, alpha: float = ALPHA,
                 what: str = "pooled share") -> PooledShare:
    """``sum(successes) / sum(trials)`` over the rows (years) with trials, with the interval of
    an intercept-only quasi-binomial GLM (scale ``max(1, Pearson chi2/df)``, t on its residual
    df). With a single row there is no dispersion to estimate:
    the Wilson interval is returned with ``df = 0``."""
    s = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    _check_binomial(s, n)
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
