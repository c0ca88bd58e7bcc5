"""Power and the minimum detectable ratio of a two-sided t-test (noncentral t)."""

from __future__ import annotations

import numpy as np

from .intervals import ALPHA


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
