"""Section 1 estimates against independent computations on the document's figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from wardanalysis.models import covid_verdict as V
from wardanalysis.models import its as I
from wardanalysis.models import requests as R

RTOL = 1e-4


def _close(estimate, expected, rtol=RTOL):
    np.testing.assert_allclose([estimate.value, estimate.ci_low, estimate.ci_high], expected,
                               rtol=rtol)


def test_the_document_table_is_what_the_package_loads(needs):
    import wardanalysis

    shipped = wardanalysis.load("needs_reflection")
    pd.testing.assert_frame_equal(shipped[needs.columns].reset_index(drop=True), needs,
                                  check_dtype=False)


def test_period_means_and_ratio_closed_form(needs, ref):
    y = needs["requests"].to_numpy(float)
    post = (needs["fiscal_year"] >= 2020).to_numpy()
    m0, m1 = y[~post].mean(), y[post].mean()
    fitted = np.where(post, m1, m0)
    phi = np.sum((y - fitted) ** 2 / fitted) / (len(y) - 2)
    scale = max(1.0, phi)
    t = ref.t(len(y) - 2)
    se_ratio = np.sqrt(scale * (1 / y[~post].sum() + 1 / y[post].sum()))
    se_pre = np.sqrt(scale / y[~post].sum())
    se_post = np.sqrt(scale / y[post].sum())
    res = V.period_comparison(needs)
    _close(res.estimate("requests.mean_ratio_covid_vs_pre"),
           [m1 / m0, m1 / m0 * np.exp(-t * se_ratio), m1 / m0 * np.exp(t * se_ratio)])
    _close(res.estimate("requests.pre_mean"), [m0, m0 * np.exp(-t * se_pre), m0 * np.exp(t * se_pre)])
    _close(res.estimate("requests.covid_mean"),
           [m1, m1 * np.exp(-t * se_post), m1 * np.exp(t * se_post)])


def test_year_over_year_ratios_borrow_the_trend_dispersion(needs, ref):
    """log(c1/c0) +- t(df) sqrt(phi (1/c1 + 1/c0)), phi and df from the requests trend fitted
    by hand-written IRLS; the exact intervals stay in the table as a sensitivity."""
    res = V.period_comparison(needs)
    y = needs["requests"].to_numpy(float)
    years = needs["fiscal_year"].to_numpy()
    trend = ref.quasi_poisson(y, np.column_stack([np.ones(7), years - 2017]))
    assert trend.phi > 1 and trend.df == 5
    table = res.table().set_index("fiscal_year")
    for i in range(1, len(y)):
        e = res.estimate(f"requests.yoy_rr.fy{years[i]}_vs_fy{years[i - 1]}")
        half = ref.t(trend.df) * np.sqrt(trend.phi * (1 / y[i] + 1 / y[i - 1]))
        ratio = y[i] / y[i - 1]
        _close(e, [ratio, ratio * np.exp(-half), ratio * np.exp(half)])
        assert e.flags == ()
        _, lo, hi, p = ref.exact_rate_ratio(int(y[i]), int(y[i - 1]))
        row = table.loc[years[i]]
        np.testing.assert_allclose([row["yoy_exact_ci_low"], row["yoy_exact_ci_high"]], [lo, hi],
                                   rtol=1e-3)
        np.testing.assert_allclose(row["yoy_exact_p_value"], p, rtol=1e-3, atol=1e-300)


def test_year_over_year_with_too_few_years_is_exact_and_flagged(needs, ref):
    """Three years leave the trend one residual df: no honest interval, the exact one flagged."""
    res = V.period_comparison(needs[needs["fiscal_year"] <= 2020].iloc[1:])
    e = res.estimate("requests.yoy_rr.fy2020_vs_fy2019")
    ratio, lo, hi, _ = ref.exact_rate_ratio(920, 999)
    _close(e, [ratio, lo, hi], rtol=1e-3)
    assert e.flags == ("poisson_only",)


def test_trend_without_fy2017_matches_hand_irls(needs, ref):
    rest = needs[needs["fiscal_year"] != 2017]
    e = ref.quasi_poisson(rest["requests"], np.column_stack([np.ones(6), rest["fiscal_year"] - 2017]))
    res = R.trend(needs)
    _close(res.estimate("requests.trend_rr_per_year.excl_fy2017"), [e.rr[1], e.lo[1], e.hi[1]])


def test_trend_matches_hand_irls(needs, ref):
    X = np.column_stack([np.ones(7), needs["fiscal_year"] - 2017])
    e = ref.quasi_poisson(needs["requests"], X)
    res = R.trend(needs)
    _close(res.estimate("requests.trend_rr_per_year"), [e.rr[1], e.lo[1], e.hi[1]])
    np.testing.assert_allclose(res.estimate("requests.trend_dispersion").value, e.phi, rtol=RTOL)


def _separate_segments(fy, y, brk):
    """The ITS written as two separate lines: [pre, post, t*pre, t*post], t = fy - brk."""
    fy = np.asarray(fy)
    pre = (fy < brk).astype(float)
    post = 1 - pre
    t = fy - brk
    X = np.column_stack([pre, post, t * pre, t * post])
    return X


def _contrast(e, w):
    w = np.asarray(w, float)
    est = w @ e.beta
    se = np.sqrt(w @ e.cov @ w)
    return np.exp([est, est - e.t * se, est + e.t * se])


@pytest.mark.parametrize(("brk", "exclude", "suffix"),
                         [(2020, [], ""), (2020, [2017], ".excl_fy2017"),
                          (2021, [], "")])
def test_its_level_and_slope_against_two_separate_lines(needs, ref, brk, exclude, suffix):
    d = needs[~needs["fiscal_year"].isin(exclude)]
    X = _separate_segments(d["fiscal_year"], d["requests"], brk)
    e = ref.quasi_poisson(d["requests"], X)
    res = I.interrupted_time_series(needs, break_year=brk, exclude_fiscal_years=exclude)
    # level change: post line minus pre line at t = 0; slope change: post slope minus pre slope
    _close(res.estimate(f"requests.its_level_rr{suffix}"), _contrast(e, [-1, 1, 0, 0]))
    _close(res.estimate(f"requests.its_slope_rr{suffix}"), _contrast(e, [0, 0, -1, 1]))
    _close(res.estimate(f"requests.its_pre_slope_rr{suffix}"), _contrast(e, [0, 0, 1, 0]))
    _close(res.estimate(f"requests.its_post_slope_rr{suffix}"), _contrast(e, [0, 0, 0, 1]))
    np.testing.assert_allclose(res.estimate(f"requests.its_dispersion{suffix}").value, e.phi,
                               rtol=RTOL)


def test_its_negative_binomial_against_scipy(needs, ref):
    fy = needs["fiscal_year"].to_numpy()
    t = fy - 2020.0
    post = (fy >= 2020).astype(float)
    X = np.column_stack([np.ones(7), t, post, t * post])
    e = ref.nb2(needs["requests"], X)
    res = I.interrupted_time_series(needs)
    _close(res.estimate("requests.its_level_rr.nb"), [e.rr[2], e.lo[2], e.hi[2]], rtol=1e-3)
    _close(res.estimate("requests.its_slope_rr.nb"), [e.rr[3], e.lo[3], e.hi[3]], rtol=1e-3)
    np.testing.assert_allclose(res.estimate("requests.its_nb_alpha").value, e.alpha, rtol=1e-3)


def test_counterfactual_is_the_pre_period_line_with_delta_method_intervals(needs, ref):
    fy = needs["fiscal_year"].to_numpy()
    y = needs["requests"].to_numpy(float)
    pre = fy < 2020
    # the pre-period line alone, fitted to the pre years only
    Xp = np.column_stack([np.ones(pre.sum()), fy[pre] - 2020.0])
    b_pre, _, _ = ref.irls_poisson(y[pre], Xp)
    # its covariance under the pooled dispersion of the segmented model
    e = ref.quasi_poisson(y, _separate_segments(fy, y, 2020))
    cov_pre = e.cov[np.ix_([0, 2], [0, 2])]
    scale = max(1.0, e.phi)
    Xn = np.column_stack([np.ones((~pre).sum()), fy[~pre] - 2020.0])
    mu = np.exp(Xn @ b_pre)
    var_eta = np.einsum("ij,jk,ik->i", Xn, cov_pre, Xn)
    half = e.t * np.sqrt(scale / mu + var_eta)
    res = I.interrupted_time_series(needs)
    table = res.table()
    post_rows = table[table["fiscal_year"] >= 2020]
    np.testing.assert_allclose(post_rows["counterfactual"], mu, rtol=RTOL)
    np.testing.assert_allclose(post_rows["pi_low"], mu * np.exp(-half), rtol=RTOL)
    np.testing.assert_allclose(post_rows["pi_high"], mu * np.exp(half), rtol=RTOL)
    for f, o, m, h in zip(fy[~pre], y[~pre], mu, half, strict=True):
        _close(res.estimate(f"requests.counterfactual_oe.fy{f}"),
               [o / m, o / (m * np.exp(h)), o / (m * np.exp(-h))])
    T = mu.sum()
    g = (mu[:, None] * Xn).sum(axis=0)
    se_log = np.sqrt(scale * T + g @ cov_pre @ g) / T
    obs = y[~pre].sum()
    _close(res.estimate("requests.counterfactual_oe_total"),
           [obs / T, obs / (T * np.exp(e.t * se_log)), obs / (T * np.exp(-e.t * se_log))])


def test_exposure_days_and_model(needs, measures, ref):
    days = ref.days_by_fiscal_year(measures, needs["fiscal_year"])
    from wardanalysis.models import covid_exposure

    table = covid_exposure.exposure_days(measures, needs["fiscal_year"].tolist())
    assert dict(zip(table["fiscal_year"], table["days_under_measures"], strict=True)) == days
    d = np.array([days[y] for y in needs["fiscal_year"]], float)
    # the days beside the trend and the COVID period's step (FY2020-FY2023), t(3)
    fy = needs["fiscal_year"].to_numpy()
    X = np.column_stack([np.ones(7), fy - 2017, (fy >= 2020) & (fy <= 2023), d / 30])
    e = ref.quasi_poisson(needs["requests"], X)
    assert e.df == 3
    res = I.exposure_model(needs, measures)
    _close(res.estimate("requests.exposure_rr_per_30_days"), [e.rr[3], e.lo[3], e.hi[3]])
    _close(res.estimate("requests.exposure_trend_rr_per_year"), [e.rr[1], e.lo[1], e.hi[1]])
    _close(res.estimate("requests.exposure_step_rr"), [e.rr[2], e.lo[2], e.hi[2]])
    np.testing.assert_allclose(res.estimate("requests.exposure_dispersion").value, e.phi, rtol=RTOL)
    sens = V.sensitivity(needs, measures)
    _close(sens.estimate("requests.exposure_rr_per_30_days"), [e.rr[3], e.lo[3], e.hi[3]])


def test_minimum_detectable_level_change(needs, measures, ref):
    fy = needs["fiscal_year"].to_numpy()
    e = ref.quasi_poisson(needs["requests"], _separate_segments(fy, None, 2020))
    w = np.array([-1, 1, 0, 0.0])
    se = np.sqrt(w @ e.cov @ w)
    t = sps.t.ppf(0.975, e.df)
    lo, hi = 0.0, 20.0  # the noncentrality the t-test detects with 80% power, by bisection
    while hi - lo > 1e-12:
        d = (lo + hi) / 2
        lo, hi = (d, hi) if sps.nct.sf(t, e.df, d) + sps.nct.cdf(-t, e.df, d) < 0.8 else (lo, d)
    mde = np.exp(-lo * se)
    v = V.verdict(needs, measures)
    np.testing.assert_allclose(v.estimate("requests.its_level_mde_ratio").value, mde, rtol=RTOL)
