"""wardanalysis.stats against closed forms, root finding and hand-written IRLS."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from wardanalysis import stats

RTOL = 1e-4  # far tighter than the 3 significant figures required


@pytest.mark.parametrize(("s", "n"), [(0, 10), (3, 3), (125, 147), (104, 147), (40, 60), (1626, 1710)])
def test_wilson_matches_closed_form(ref, s, n):
    lo, hi = stats.wilson_interval(s, n)
    elo, ehi = ref.wilson(s, n)
    np.testing.assert_allclose([lo, hi], [elo, ehi], rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize(("c1", "c2", "e1", "e2"),
                         [(7125, 5569, 1, 1), (2009, 2200, 1, 1), (3, 8, 1, 1), (2661, 3810, 4, 3),
                          (0, 5, 1, 1)])
def test_exact_rate_ratio_matches_binomial_tail_roots(ref, c1, c2, e1, e2):
    rr = stats.rate_ratio_exact(c1, e1, c2, e2)
    ratio, lo, hi, p = ref.exact_rate_ratio(c1, c2, e1, e2)
    np.testing.assert_allclose([rr.ratio, rr.ci_low, rr.ci_high], [ratio, lo, hi], rtol=RTOL,
                               atol=1e-12)
    np.testing.assert_allclose(rr.p_value, p, rtol=1e-3, atol=1e-300)


def test_mover_difference_of_wilson_intervals_is_newcombes_hand_formula(ref):
    p1, p2 = 104 / 147, 40 / 60
    (w1, v1), (w2, v2) = stats.wilson_interval(104, 147), stats.wilson_interval(40, 60)
    d, lo, hi = stats.mover_difference(p1, float(w1), float(v1), p2, float(w2), float(v2))
    l1, u1 = ref.wilson(104, 147)
    l2, u2 = ref.wilson(40, 60)
    elo = (p1 - p2) - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    ehi = (p1 - p2) + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    np.testing.assert_allclose([d, lo, hi], [p1 - p2, elo, ehi], rtol=RTOL)


@pytest.mark.parametrize(("s1", "n1", "s2", "n2"), [(23, 2661, 124, 3810), (104, 147, 40, 60),
                                                    (3, 10, 0, 12)])
def test_fisher_matches_noncentral_hypergeometric(ref, s1, n1, s2, n2):
    f = stats.fisher_exact_2x2(s1, n1, s2, n2)
    if s2 == 0:  # the conditional MLE is infinite: the p-value is summed by hand
        h = sps.hypergeom(n1 + n2, n1, s1 + s2)
        support = np.arange(0, min(n1, s1 + s2) + 1)
        probs = h.pmf(support)
        p = probs[probs <= h.pmf(s1) * (1 + 1e-7)].sum()
        np.testing.assert_allclose(f.p_value, p, rtol=1e-6)
        assert np.isinf(f.odds_ratio)
        return
    orr, lo, hi, p = ref.fisher_conditional(s1, n1 - s1, s2, n2 - s2)
    np.testing.assert_allclose([f.odds_ratio, f.ci_low, f.ci_high], [orr, lo, hi], rtol=1e-3)
    np.testing.assert_allclose(f.p_value, p, rtol=1e-6)


@pytest.fixture
def overdispersed():
    rng = np.random.default_rng(20240626)
    x = np.arange(12, dtype=float)
    mu = np.exp(5 - 0.1 * x)
    y = rng.negative_binomial(n=8, p=8 / (8 + mu))
    X = pd.DataFrame({"const": 1.0, "x": x})
    return y, X


def test_quasi_poisson_matches_hand_irls(ref, overdispersed):
    y, X = overdispersed
    fit = stats.fit_quasi_poisson(y, X)
    e = ref.quasi_poisson(y, X.to_numpy())
    assert e.phi > 1  # the fixture is overdispersed, so the dispersion is used, not the floor
    np.testing.assert_allclose(fit.params.to_numpy(), e.beta, rtol=1e-8)
    np.testing.assert_allclose(fit.dispersion, e.phi, rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(np.diag(fit.cov)), e.se, rtol=1e-6)
    np.testing.assert_allclose(fit.ratio("x"), [e.rr[1], e.lo[1], e.hi[1]], rtol=1e-6)


def test_quasi_poisson_floors_underdispersion_at_one(ref):
    y = np.array([100, 101, 99, 100, 100, 101])  # far less variable than Poisson
    X = pd.DataFrame({"const": 1.0, "x": np.arange(6.0)})
    fit = stats.fit_quasi_poisson(y, X)
    beta, mu, inv = ref.irls_poisson(y, X.to_numpy())
    phi = np.sum((y - mu) ** 2 / mu) / 4
    assert phi < 1
    np.testing.assert_allclose(fit.dispersion, phi, rtol=1e-6)
    assert fit.scale == 1.0
    np.testing.assert_allclose(np.diag(fit.cov), np.diag(inv), rtol=1e-6)
    # the floor sets the scale, not the quantiles: still t on the 4 residual df
    b, se = beta[1], np.sqrt(inv[1, 1])
    t4 = sps.t.ppf(0.975, 4)
    np.testing.assert_allclose(fit.ratio("x"), np.exp([b, b - t4 * se, b + t4 * se]), rtol=1e-6)
    assert fit.quantiles == "t(4)"


@pytest.mark.parametrize("dispersion", [0.3, 0.94, 1.0, 2.5])
def test_borrowed_intervals_floor_the_scale_and_keep_t(ref, dispersion):
    """Two single years with a borrowed dispersion: log ratio +- t(df) sqrt(max(1, phi) var),
    whether phi is below 1 or not; the exact interval is kept beside it, never in its place."""
    c1, c0, df = 504, 587, 4
    half = sps.t.ppf(0.975, df) * np.sqrt(max(1.0, dispersion) * (1 / c1 + 1 / c0))
    r = stats.scaled_rate_ratio(c1, c0, dispersion, df)
    np.testing.assert_allclose([r.ratio, r.ci_low, r.ci_high],
                               (c1 / c0) * np.exp([0.0, -half, half]), rtol=1e-9)
    assert (r.method, r.quantiles, r.poisson_only) == ("quasi", "t(4)", False)
    _, lo, hi, _ = ref.exact_rate_ratio(c1, c0)
    np.testing.assert_allclose([r.exact_low, r.exact_high], [lo, hi], rtol=1e-6)
    s1, n1, s0, n0 = 12, 504, 30, 587
    cells = np.array([s1, n1 - s1, s0, n0 - s0], float)
    half = sps.t.ppf(0.975, df) * np.sqrt(max(1.0, dispersion) * np.sum(1 / cells))
    o = stats.scaled_odds_ratio(s1, n1, s0, n0, dispersion, df)
    log_or = np.log(s1 * (n0 - s0) / ((n1 - s1) * s0))
    np.testing.assert_allclose([o.ratio, o.ci_low, o.ci_high],
                               np.exp([log_or, log_or - half, log_or + half]), rtol=1e-9)


def test_quasi_binomial_uses_trials_in_dispersion(ref):
    rng = np.random.default_rng(7)
    n = np.array([1710, 1101, 999, 920, 587, 504, 650])
    p = rng.beta(30, 3, size=7)  # extra-binomial variation between rows
    s = rng.binomial(n, p)
    X = pd.DataFrame({"const": 1.0, "year": np.arange(7.0)})
    fit = stats.fit_quasi_binomial(s, n, X)
    e = ref.quasi_binomial(s, n, X.to_numpy())
    np.testing.assert_allclose(fit.params.to_numpy(), e.beta, rtol=1e-6)
    np.testing.assert_allclose(fit.dispersion, e.phi, rtol=1e-6)
    np.testing.assert_allclose(fit.pearson_chi2, e.pearson, rtol=1e-6)
    np.testing.assert_allclose(fit.ratio("year"), [e.odds[1], e.lo[1], e.hi[1]], rtol=1e-6)
    assert fit.df_resid == 5


def test_the_freq_weights_shortcut_would_have_been_wrong(ref, needs):
    """The pitfall the issue warns about, shown: proportions with freq_weights=trials make
    df_resid the number of requests, so Pearson chi2 / df_resid is about a thousand times too
    small. The package's figure equals the hand computation, not the shortcut."""
    import statsmodels.api as sm

    s, n = needs["requests_handled"].to_numpy(), needs["requests"].to_numpy()
    X = pd.DataFrame({"const": 1.0, "year": np.arange(7.0)})
    shortcut = sm.GLM(s / n, X, family=sm.families.Binomial(), freq_weights=n).fit()
    wrong = shortcut.pearson_chi2 / shortcut.df_resid
    e = ref.quasi_binomial(s, n, X.to_numpy())
    fit = stats.fit_quasi_binomial(s, n, X)
    np.testing.assert_allclose(fit.dispersion, e.phi, rtol=1e-6)
    assert wrong < e.phi / 100


def test_negative_binomial_matches_scipy_optimisation(ref, overdispersed):
    y, X = overdispersed
    fit = stats.fit_negative_binomial(y, X)
    e = ref.nb2(y, X.to_numpy())
    assert fit.converged
    np.testing.assert_allclose(fit.params.to_numpy(), e.beta, rtol=1e-4)
    np.testing.assert_allclose(fit.nb_alpha, e.alpha, rtol=1e-3)
    np.testing.assert_allclose(fit.ratio("x"), [e.rr[1], e.lo[1], e.hi[1]], rtol=1e-3)


def test_prediction_intervals_match_delta_method_by_hand(ref, overdispersed):
    y, X = overdispersed
    fit = stats.fit_quasi_poisson(y, X)
    e = ref.quasi_poisson(y, X.to_numpy())
    new = pd.DataFrame({"const": 1.0, "x": [12.0, 13.0, 15.0]})
    Xn = new.to_numpy()
    eta = Xn @ e.beta
    mu = np.exp(eta)
    var_eta = np.einsum("ij,jk,ik->i", Xn, e.cov, Xn)
    scale = max(1.0, e.phi)
    half = e.t * np.sqrt(scale / mu + var_eta)
    pi = stats.prediction_interval(fit, new)
    np.testing.assert_allclose(pi["expected"], mu, rtol=1e-6)
    np.testing.assert_allclose(pi["pi_low"], mu * np.exp(-half), rtol=1e-6)
    np.testing.assert_allclose(pi["pi_high"], mu * np.exp(half), rtol=1e-6)
    total, lo, hi = stats.total_prediction_interval(fit, new)
    g = (mu[:, None] * Xn).sum(axis=0)
    se_log = np.sqrt(scale * mu.sum() + g @ e.cov @ g) / mu.sum()
    np.testing.assert_allclose([total, lo, hi], [mu.sum(), mu.sum() * np.exp(-e.t * se_log),
                                                 mu.sum() * np.exp(e.t * se_log)], rtol=1e-6)


def test_minimum_detectable_ratio_is_exact():
    """The effect the t-test detects with 80% power: found by bisection on the noncentral t's
    tails written out (not the t_{0.975} + t_{0.8} approximation, which it exceeds at 3 df)."""
    se, df = 0.327, 3
    t = sps.t.ppf(0.975, df)

    def power(d):
        return sps.nct.sf(t, df, d) + sps.nct.cdf(-t, df, d)

    lo, hi = 0.0, 20.0
    while hi - lo > 1e-12:
        lo, hi = ((lo + hi) / 2, hi) if power((lo + hi) / 2) < 0.8 else (lo, (lo + hi) / 2)
    np.testing.assert_allclose(stats.minimum_detectable_ratio(se, df), np.exp(lo * se),
                               rtol=1e-9)
    assert stats.minimum_detectable_ratio(se, df) > np.exp((t + sps.t.ppf(0.8, df)) * se)


def test_fisher_rx2_is_monte_carlo_beyond_the_enumeration_limit():
    """A table with too many possible tables to enumerate gets the seeded Monte Carlo p-value,
    which for large counts agrees with the chi-squared test of homogeneity."""
    s = np.array([30, 25, 35, 28, 40, 22, 33, 31, 27, 36, 29, 34])
    n = np.full(12, 60)
    assert stats.fisher_rx2_method(n) == "monte_carlo"
    p = stats.fisher_exact_rx2(s, n)
    chi2 = sps.chi2_contingency(np.column_stack([s, n - s]), correction=False).pvalue
    assert p == pytest.approx(chi2, abs=0.03)
    assert stats.fisher_exact_rx2(s, n) == p  # seeded: the same every time
