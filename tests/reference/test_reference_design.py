"""The design study's exact answer for yearly data against independent computations: the
yearly model of the report on requests fitted here by numpy IRLS on a design written out, the
power of the t-test from scipy's noncentral t with a hand-written bisection, and the same power
by integrating the normal distribution over the chi-square of the estimated dispersion."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as sps

from wardanalysis.data.loading import load
from wardanalysis.models import design as D


def _yearly_fit():
    """The level change's standard error, dispersion and df of log E[y] = b0 + b1 t + b2 covid
    + b3 t covid (t = year − 2020) on FY2017–FY2023 of the shipped table, by IRLS."""
    nr = load("needs_reflection")
    nr = nr[nr["fiscal_year"].between(2017, 2023)]
    y = nr["requests"].to_numpy(float)
    t = nr["fiscal_year"].to_numpy(float) - 2020
    c = (t >= 0).astype(float)
    X = np.column_stack([np.ones_like(t), t, c, t * c])
    beta = np.linalg.lstsq(X, np.log(y), rcond=None)[0]
    for _ in range(100):
        mu = np.exp(X @ beta)
        beta = np.linalg.solve(X.T @ (mu[:, None] * X), X.T @ (mu * (X @ beta + (y - mu) / mu)))
    mu = np.exp(X @ beta)
    df = len(y) - X.shape[1]
    phi = float(np.sum((y - mu) ** 2 / mu) / df)
    se = float(np.sqrt(np.linalg.inv(X.T @ (mu[:, None] * X))[2, 2] * max(1.0, phi)))
    return se, phi, df


def _bisect(f, lo, hi, tol=1e-12):
    while hi - lo > tol:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
    return (lo + hi) / 2


def _power_nct(delta, df):
    t = sps.t.ppf(0.975, df)
    return sps.nct.sf(t, df, delta) + sps.nct.cdf(-t, df, delta)


def _power_quadrature(delta, df):
    """P(|Z + delta| > t sqrt(V / df)), V ~ chi-square(df): no noncentral t involved."""
    t = sps.t.ppf(0.975, df)

    def given(v):
        k = t * np.sqrt(v / df)
        return (sps.norm.sf(k - delta) + sps.norm.cdf(-k - delta)) * sps.chi2.pdf(v, df)

    return integrate.quad(given, 0, np.inf, limit=200)[0]


def test_the_exact_power_is_the_noncentral_t_and_the_quadrature():
    from wardanalysis import stats

    for delta in (0.5, 1.5, 3.0, 4.5):
        assert stats.exact_power(delta, 3) == pytest.approx(_power_quadrature(delta, 3), abs=1e-6)
        assert stats.exact_power(delta, 3) == pytest.approx(_power_nct(delta, 3), abs=1e-12)


def test_the_yearly_minimum_detectable_change_is_exact_not_the_approximation():
    """0.249, not the t_{0.975} + t_{0.8} approximation (0.257) of the same standard error."""
    se, phi, df = _yearly_fit()
    assert df == 3
    delta = _bisect(lambda d: _power_quadrature(d, df) - 0.8, 0.0, 20.0, tol=1e-8)
    ratio = np.exp(-delta * se)
    assert np.exp(-_bisect(lambda d: _power_nct(d, df) - 0.8, 0.0, 20.0) * se) == \
        pytest.approx(ratio, abs=1e-6)
    approx = np.exp(-(sps.t.ppf(0.975, df) + sps.t.ppf(0.8, df)) * se)
    ex = D.yearly_exact()
    assert ex.ratio == pytest.approx(ratio, abs=1e-6)
    assert round(ex.ratio, 3) == 0.249 and round(approx, 3) == 0.257
    assert ex.se_log == pytest.approx(se, rel=1e-6) and ex.dispersion == pytest.approx(phi)
    # the range: the dispersion's 95% interval on df (chi-square), the standard error scaled by
    # the square root of the dispersion
    for p, r in ((df * phi / sps.chi2.ppf(0.025, df), ex.ratio_low),
                 (df * phi / sps.chi2.ppf(0.975, df), ex.ratio_high)):
        assert r == pytest.approx(np.exp(-delta * se * np.sqrt(p / phi)), rel=1e-5)
    assert ex.ratio_low < ex.ratio < ex.ratio_high
