"""Statistical helpers shared by the models, re-exported here (``stats.fit_quasi_poisson``):
:mod:`.intervals` (intervals and tests from counts alone), :mod:`.glm` (quasi-likelihood GLMs,
the negative binomial, prediction intervals), :mod:`.cluster` (CR2 with Bell–McCaffrey df) and
:mod:`.power` (noncentral t).

Each wraps statsmodels or scipy where they have the method. Written by hand, because they do not:
the exact conditional interval of a rate ratio (``confint_poisson_2indep`` lists it as "NOT
YET"), the MOVER difference (Zou & Donner), delta-method prediction intervals for new counts, two
single years compared with their series' trend dispersion, the Wilson interval on effective
counts, and the r x 2 Fisher test by enumeration. The quasi-binomial fit passes ``(successes,
failures)`` as endog so that the dispersion is the years', not the requests' (``freq_weights``
would shrink it about a thousandfold).

Dispersion below 1 never narrows an interval (the scale is ``max(1, Pearson chi2 / df)``), and
quantiles are Student's t on the residual df of the model that estimated the dispersion: a small
estimate on a few df does not show that the scale is 1.
"""

from __future__ import annotations

from .cluster import ClusterRobust, cluster_robust, exp_bounds
from .glm import (
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
    FISHER_RESAMPLES,
    ScaledRatio,
    critical_value,
    fisher_exact_2x2,
    fisher_exact_rx2,
    fisher_rx2_method,
    mover_difference,
    rate_ratio_exact,
    scaled_odds_ratio,
    scaled_rate_ratio,
    scaled_wilson_interval,
    wilson_interval,
)
from .power import exact_power, minimum_detectable_ratio

__all__ = ["ALPHA", "FISHER_RESAMPLES", "ClusterRobust", "GLMFit", "NBFit", "PooledShare",
           "ScaledRatio", "cluster_robust", "critical_value", "exact_power", "exp_bounds",
           "fisher_exact_2x2", "fisher_exact_rx2", "fisher_rx2_method", "fit_negative_binomial",
           "fit_quasi_binomial", "fit_quasi_poisson", "interval_label", "minimum_detectable_ratio",
           "mover_difference", "pooled_share", "prediction_interval", "rate_ratio_exact",
           "scaled_odds_ratio", "scaled_rate_ratio", "scaled_wilson_interval",
           "total_prediction_interval", "trend_dispersion", "wilson_interval"]
