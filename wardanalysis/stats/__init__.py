"""Small statistical helpers shared by the models, one module per job:

- :mod:`.intervals`: intervals and tests from counts alone (shares, Fisher, exact Poisson, two
  single years with a borrowed dispersion);
- :mod:`.glm`: quasi-likelihood GLMs, the negative binomial model and prediction intervals;
- :mod:`.cluster`: the CR2 cluster-robust sandwich with Bell–McCaffrey degrees of freedom;
- :mod:`.power`: power and the minimum detectable ratio (noncentral t).

The names below are re-exported here, so a model writes ``stats.fit_quasi_poisson``.

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

from .cluster import ClusterRobust, cluster_robust, exp_bounds
from .glm import (
    NB_ALPHA_BOUNDARY,
    GLMFit,
    NBFit,
    PooledShare,
    fit_negative_binomial,
    fit_quasi_binomial,
    fit_quasi_poisson,
    interval_label,
    pooled_share,
    prediction_interval,
    total_prediction_interval,
    trend_dispersion,
)
from .intervals import (
    ALPHA,
    FISHER_ENUMERATION_LIMIT,
    FISHER_RESAMPLES,
    FisherResult,
    RateRatio,
    ScaledRatio,
    clopper_pearson_interval,
    critical_value,
    fisher_exact_2x2,
    fisher_exact_rx2,
    fisher_rx2_method,
    mover_difference,
    newcombe_difference,
    poisson_exact_interval,
    rate_ratio_exact,
    scaled_odds_ratio,
    scaled_rate_ratio,
    scaled_wilson_interval,
    wilson_interval,
)
from .power import exact_power, minimum_detectable_ratio

__all__ = [
    "ALPHA",
    "FISHER_ENUMERATION_LIMIT",
    "FISHER_RESAMPLES",
    "NB_ALPHA_BOUNDARY",
    "ClusterRobust",
    "FisherResult",
    "GLMFit",
    "NBFit",
    "PooledShare",
    "RateRatio",
    "ScaledRatio",
    "clopper_pearson_interval",
    "cluster_robust",
    "critical_value",
    "exact_power",
    "exp_bounds",
    "fisher_exact_2x2",
    "fisher_exact_rx2",
    "fisher_rx2_method",
    "fit_negative_binomial",
    "fit_quasi_binomial",
    "fit_quasi_poisson",
    "interval_label",
    "minimum_detectable_ratio",
    "mover_difference",
    "newcombe_difference",
    "poisson_exact_interval",
    "pooled_share",
    "prediction_interval",
    "rate_ratio_exact",
    "scaled_odds_ratio",
    "scaled_rate_ratio",
    "scaled_wilson_interval",
    "total_prediction_interval",
    "trend_dispersion",
    "wilson_interval",
]
