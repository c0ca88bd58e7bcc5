"""Intervals and tests computed from counts alone: shares (Wilson, MOVER differences), Fisher's
tests, exact rate ratios, and two single years compared with a dispersion borrowed from their
series (see :mod:`wardanalysis.stats` for the methods).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ZeroDenominatorError

ALPHA = 0.05


def critical_value(df: int | None, alpha: float = ALPHA) -> float:
    """The two-sided ``1 - alpha`` quantile of t on ``df`` degrees of freedom (normal: None)."""
    from scipy import stats

    if df is None:
        return float(stats.norm.ppf(1 - alpha / 2))
    return float(stats.t.ppf(1 - alpha / 2, df))


def check_binomial(s: np.ndarray, n: np.ndarray) -> None:
    if np.any(s < 0) or np.any(n < 0):
        raise ValueError("counts must not be negative")
    if np.any(s > n):
        raise ValueError("successes must not exceed trials")


def _confint(s: np.ndarray, n: np.ndarray, alpha: float, method: str):
    """statsmodels' ``proportion_confint`` as float arrays, NaN where there are no trials."""
    from statsmodels.stats.proportion import proportion_confint

    with np.errstate(invalid="ignore", divide="ignore"):
        low, high = proportion_confint(s, np.where(n > 0, n, np.nan), alpha=alpha, method=method)
    return np.asarray(low, dtype=float), np.asarray(high, dtype=float)


def wilson_interval(successes, trials, alpha: float = ALPHA) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``successes / trials`` (arrays allowed; NaN where no trials)."""
    return scaled_wilson_interval(successes, trials, 1.0, alpha)


def scaled_wilson_interval(successes, trials, dispersion: float, alpha: float = ALPHA):
    """Wilson interval on the effective counts ``successes / scale`` and ``trials / scale``
    (``scale = max(1, dispersion)``): the share's interval widened by the overdispersion of its
    series (the design-effect form)."""
    scale = max(1.0, float(dispersion))
    s = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    check_binomial(s, n)
    return _confint(s / scale, n / scale, alpha, "wilson")


def mover_difference(p1: float, low1: float, high1: float, p2: float, low2: float,
                     high2: float) -> tuple[float, float, float]:
    """``(p1 - p2, low, high)`` with the MOVER interval (Zou & Donner 2008) built from each
    estimate's own interval, so that a share with a quasi-binomial interval and one with a
    Wilson interval are compared with the intervals the page shows (Newcombe's when both are
    Wilson)."""
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


def fisher_exact_2x2(s1: int, n1: int, s2: int, n2: int, alpha: float = ALPHA) -> FisherResult:
    """Fisher's exact test of ``s1/n1`` against ``s2/n2`` with the conditional odds ratio and
    its exact interval (scipy ``contingency.odds_ratio(kind='conditional')``)."""
    from scipy import stats

    table = np.array([[s1, n1 - s1], [s2, n2 - s2]], dtype=np.int64)
    if np.any(table < 0):
        raise ValueError("successes must be between 0 and trials")
    p = stats.fisher_exact(table, alternative="two-sided").pvalue
    res = stats.contingency.odds_ratio(table, kind="conditional")
    ci = res.confidence_interval(confidence_level=1 - alpha)
    return FisherResult(float(res.statistic), float(ci.low), float(ci.high), float(p))


@dataclass(frozen=True)
class RateRatio:
    ratio: float
    ci_low: float
    ci_high: float
    p_value: float


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
    # Clopper–Pearson for count1 / total, mapped to the ratio scale
    p_low, p_high = _confint(np.asarray(count1, float), np.asarray(total, float), alpha, "beta")
    scale = exposure2 / exposure1
    with np.errstate(divide="ignore"):
        low = float(p_low / (1 - p_low) * scale)
        high = float(p_high / (1 - p_high) * scale) if p_high < 1 else np.inf
        ratio = (count1 / exposure1) / (count2 / exposure2) if count2 > 0 else np.inf
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero count: the ratio is unbounded
        p = test_poisson_2indep(count1, exposure1, count2, exposure2, method="exact-cond").pvalue
    return RateRatio(float(ratio), low, high, float(p))


@dataclass(frozen=True)
class ScaledRatio:
    """A ratio of two single years whose interval borrows its series' dispersion: ``scale`` as
    estimated, floored at 1 in the interval, t on ``df``. With ``df < 2`` there is no honest
    interval and ``ci_*`` are the exact one (``poisson_only``); ``exact_*`` always hold the exact
    interval and p-value, a sensitivity."""

    ratio: float
    ci_low: float
    ci_high: float
    scale: float
    df: int
    poisson_only: bool
    exact_low: float
    exact_high: float
    exact_p: float

    @property
    def quantiles(self) -> str:
        return f"t({self.df})"

    @property
    def scale_floored(self) -> bool:
        return not self.scale > 1

    @property
    def method(self) -> str:
        return "poisson_only" if self.poisson_only else "quasi"


def _borrowed(log_ratio: float, var1: float, scale: float, df: int,
              exact: tuple[float, float, float], alpha: float) -> ScaledRatio:
    ratio = float(np.exp(log_ratio)) if np.isfinite(log_ratio) else (
        np.inf if log_ratio > 0 else 0.0)
    if df < 2:
        return ScaledRatio(ratio, exact[0], exact[1], scale, df, True, *exact)
    if not (np.isfinite(log_ratio) and np.isfinite(var1)):
        return ScaledRatio(ratio, np.nan, np.nan, scale, df, False, *exact)
    half = critical_value(df, alpha) * float(np.sqrt(max(1.0, scale) * var1))
    return ScaledRatio(ratio, float(np.exp(log_ratio - half)), float(np.exp(log_ratio + half)),
                       scale, df, False, *exact)


def scaled_rate_ratio(count1: int, count0: int, dispersion: float, df: int,
                      alpha: float = ALPHA) -> ScaledRatio:
    """``count1 / count0`` (two years, equal exposure) with the series' dispersion borrowed:
    ``log RR +- t(df) * sqrt(max(1, dispersion) * (1/count1 + 1/count0))`` (see
    :class:`ScaledRatio`)."""
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


#: Monte Carlo draws for the r x 2 Fisher test where full enumeration is too large (its
#: p-value's standard error is then below 0.0005).
FISHER_RESAMPLES = 100_000
#: Above this many tables with the observed margins, the r x 2 Fisher test is Monte Carlo.
FISHER_ENUMERATION_LIMIT = 2_000_000


def fisher_rx2_method(trials) -> str:
    """``exact`` where :func:`fisher_exact_rx2` enumerates every table, else ``monte_carlo``."""
    n = np.sort(np.asarray(trials, dtype=np.int64)[np.asarray(trials) > 0])
    few = np.prod((n[:-1] + 1).astype(float)) <= FISHER_ENUMERATION_LIMIT
    return "exact" if few else "monte_carlo"


def fisher_exact_rx2(successes, trials, seed: int = 20240626) -> float:
    """Fisher's test that a share is the same in every row (year), on the r x 2 table; rows
    without trials are left out. Exact (every table enumerated) up to
    :data:`FISHER_ENUMERATION_LIMIT` tables with the observed margins, else scipy's seeded
    Monte Carlo p-value."""
    from scipy import stats
    from scipy.special import gammaln

    s = np.asarray(successes, dtype=np.int64)
    n = np.asarray(trials, dtype=np.int64)
    check_binomial(s, n)
    keep = n > 0
    table = np.column_stack([s[keep], n[keep] - s[keep]])
    if table.shape[0] < 2 or np.any(table.sum(axis=0) == 0):
        return 1.0
    if fisher_rx2_method(n) != "exact":
        method = stats.MonteCarloMethod(n_resamples=FISHER_RESAMPLES,
                                        rng=np.random.default_rng(seed))
        return float(stats.fisher_exact(table, method=method).pvalue)
    # the largest row is fixed by the margin, the others range over 0..n_i; the tables no more
    # probable than the observed one are found on the log scale with a relative tolerance (as
    # R's fisher.test)
    s, n = table[:, 0], table.sum(axis=1)
    order = np.argsort(-n, kind="stable")
    s, n = s[order], n[order]

    def logc(a, b):
        return gammaln(a + 1) - gammaln(b + 1) - gammaln(a - b + 1)

    observed = float(np.sum(logc(n, s)))
    logp_rest, sum_rest = np.zeros(1), np.zeros(1, dtype=np.int64)
    for k in n[1:]:
        x = np.arange(k + 1)
        logp_rest = np.add.outer(logp_rest, logc(k, x)).ravel()
        sum_rest = np.add.outer(sum_rest, x).ravel()
    first = int(s.sum()) - sum_rest
    ok = (first >= 0) & (first <= n[0])
    logp = logp_rest[ok] + logc(n[0], first[ok])
    tail = logp[logp <= observed + 1e-7 * abs(observed) + 1e-12]
    return float(min(1.0, np.exp(np.logaddexp.reduce(tail) - np.logaddexp.reduce(logp))))
