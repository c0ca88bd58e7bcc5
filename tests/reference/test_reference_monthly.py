"""The monthly, ward, time-to-handling and design-study models against independent computations:
a hand-written Kaplan–Meier with Greenwood's variance, Poisson IRLS in numpy on hand-built
designs, the CR2 cluster sandwich and its Bell–McCaffrey degrees of freedom written out (with
loops, scipy's matrix square root and eigenvalues), the delta method by finite differences, a
Newey–West sandwich written out, and exposure days counted day by day."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from wardanalysis import stats
from wardanalysis.data import inputs
from wardanalysis.models import design as D
from wardanalysis.models import monthly as Mo
from wardanalysis.models import simulate
from wardanalysis.models.handling_time import time_to_handling
from wardanalysis.models.periods import CovidPeriod
from wardanalysis.models.ward_monthly import ward_panel


def _irls(y, X, iterations=100):
    """Poisson GLM by IRLS (log link), written from the textbook recursion."""
    beta = np.zeros(X.shape[1])
    beta[0] = np.log(y.mean())
    for _ in range(iterations):
        mu = np.exp(X @ beta)
        z = X @ beta + (y - mu) / mu
        W = mu
        new = np.linalg.solve(X.T @ (W[:, None] * X), X.T @ (W * z))
        if np.max(np.abs(new - beta)) < 1e-12:
            beta = new
            break
        beta = new
    mu = np.exp(X @ beta)
    bread = np.linalg.inv(X.T @ (mu[:, None] * X))
    return beta, mu, bread


@pytest.fixture(scope="module")
def log():
    return simulate.simulate_request_log(range(2017, 2024), covid_effect=0.7, seed=77)


def _city(log):
    return inputs.monthly_counts(log)


def _design(frame, start=2020, end=2023):
    """The ITS design written independently: months since the first, harmonics, steps."""
    year = np.where(frame["month"] >= 4, frame["fiscal_year"], frame["fiscal_year"] + 1)
    first = pd.to_datetime(dict(year=year, month=frame["month"], day=1))
    n_month = (first.dt.year - first.dt.year.iloc[0]) * 12 + first.dt.month - first.dt.month.iloc[0]
    m = frame["month"].to_numpy()
    since = (first - pd.Timestamp(start, 4, 1)).dt.days.to_numpy() / 365.25
    cols = [np.ones(len(frame)), n_month.to_numpy() / 12,
            np.sin(2 * np.pi * m / 12), np.cos(2 * np.pi * m / 12),
            np.sin(4 * np.pi * m / 12), np.cos(4 * np.pi * m / 12),
            (since >= 0).astype(float), np.maximum(since, 0)]
    return np.column_stack(cols)


def _cr2_by_hand(X, y, mu, v, groups, c):
    """CR2 cluster-robust variance of ``c' beta`` and its Bell–McCaffrey degrees of freedom,
    written from Bell and McCaffrey (2002) / Imbens and Kolesár (2016) with explicit loops,
    scipy's matrix square root and the eigenvalues of G'G."""
    from scipy.linalg import sqrtm

    w = mu ** 2 / v  # working weights of a log-link GLM
    Xt = np.sqrt(w)[:, None] * X
    e = (y - mu) / np.sqrt(v)
    bread = np.linalg.inv(Xt.T @ Xt)
    n = len(y)
    H = Xt @ bread @ Xt.T
    meat = np.zeros((X.shape[1], X.shape[1]))
    cols = []
    for g in np.unique(groups):
        rows = np.flatnonzero(groups == g)
        A = np.real(np.linalg.inv(sqrtm(np.eye(len(rows)) - H[np.ix_(rows, rows)])))
        u = Xt[rows].T @ A @ e[rows]
        meat += np.outer(u, u)
        embed = np.zeros(n)
        embed[rows] = A @ Xt[rows] @ bread @ c
        cols.append((np.eye(n) - H) @ embed)
    var = c @ bread @ meat @ bread @ c
    lam = np.linalg.eigvalsh(np.column_stack(cols).T @ np.column_stack(cols))
    return var, lam.sum() ** 2 / (lam ** 2).sum()


def test_hand_sandwich_without_the_correction_is_statsmodels_cluster_covariance(log):
    """The hand sandwich's shape checked against statsmodels (CR0: no small-sample factor)."""
    import statsmodels.api as sm

    city = _city(log)
    y = city["requests"].to_numpy(float)
    X = _design(city)
    beta, mu, bread = _irls(y, X)
    groups = city["fiscal_year"].to_numpy()
    s = X * (y - mu)[:, None]
    meat = sum(np.outer(s[groups == g].sum(0), s[groups == g].sum(0)) for g in np.unique(groups))
    res = sm.GLM(y, X, family=sm.families.Poisson()).fit(
        cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False})
    np.testing.assert_allclose(bread @ meat @ bread, res.cov_params(), rtol=1e-6)


def test_cluster_robust_is_the_cr2_sandwich_written_out(log):
    city = _city(log)
    y = city["requests"].to_numpy(float)
    X = _design(city)
    beta, mu, _ = _irls(y, X)
    groups = city["fiscal_year"].to_numpy()
    names = [f"x{i}" for i in range(X.shape[1])]
    cr = stats.cluster_robust(pd.DataFrame(X, columns=names), y, mu, groups,
                           params=pd.Series(beta, index=names))
    for j in (6, 7):
        c = np.eye(X.shape[1])[j]
        var, df = _cr2_by_hand(X, y, mu, mu, groups, c)
        assert cr.cov.iloc[j, j] == pytest.approx(var, rel=1e-7)
        assert cr.df(names[j]) == pytest.approx(df, rel=1e-7)
    # NB2 variance function: the same sandwich with v = mu + alpha mu^2
    v = mu + 0.05 * mu ** 2
    crn = stats.cluster_robust(pd.DataFrame(X, columns=names), y, mu, groups, variance=v)
    var, df = _cr2_by_hand(X, y, mu, v, groups, np.eye(X.shape[1])[6])
    assert crn.cov.iloc[6, 6] == pytest.approx(var, rel=1e-7)
    assert crn.df(names[6]) == pytest.approx(df, rel=1e-7)


def test_monthly_its_level_change_by_numpy_irls_and_cr2(log):
    city = _city(log)
    y = city["requests"].to_numpy(float)
    X = _design(city)
    beta, mu, bread = _irls(y, X)
    n, k = X.shape
    phi = np.sum((y - mu) ** 2 / mu) / (n - k)
    groups = city["fiscal_year"].to_numpy()
    res = Mo.monthly_its(city, simulated=True)
    for j, key in ((6, "monthly.level_rr"), (7, "monthly.slope_rr_per_year")):
        var, df = _cr2_by_hand(X, y, mu, mu, groups, np.eye(k)[j])
        t = sps.t.ppf(0.975, df)
        e = res.estimate(key)
        np.testing.assert_allclose([e.value, e.ci_low, e.ci_high],
                                   np.exp([beta[j], beta[j] - t * np.sqrt(var),
                                           beta[j] + t * np.sqrt(var)]), rtol=1e-6)
    np.testing.assert_allclose(res.estimate("monthly.dispersion").value, phi, rtol=1e-6)


def test_negative_binomial_level_change_with_cr2(log):
    import statsmodels.api as sm

    city = _city(log)
    y = city["requests"].to_numpy(float)
    X = _design(city)
    nb = sm.NegativeBinomial(y, X, loglike_method="nb2").fit(disp=0, maxiter=500, method="bfgs")
    nb = sm.NegativeBinomial(y, X, loglike_method="nb2").fit(start_params=nb.params, disp=0,
                                                             method="newton")
    beta, alpha = nb.params[:-1], nb.params[-1]
    mu = np.exp(X @ beta)
    var, df = _cr2_by_hand(X, y, mu, mu + alpha * mu ** 2, city["fiscal_year"].to_numpy(),
                           np.eye(X.shape[1])[6])
    t = sps.t.ppf(0.975, df)
    e = Mo.monthly_its(city, simulated=True).estimate("monthly.level_rr_nb")
    np.testing.assert_allclose([e.value, e.ci_low, e.ci_high],
                               np.exp([beta[6], beta[6] - t * np.sqrt(var),
                                       beta[6] + t * np.sqrt(var)]), rtol=1e-4)


def test_observed_vs_counterfactual_by_numerical_delta_method(log):
    """The period's observed total equals its fitted total (Poisson score equations), and the
    interval of observed ÷ counterfactual is the delta method on the CR2 covariance, with the
    gradient here taken by finite differences."""
    city = _city(log)
    y = city["requests"].to_numpy(float)
    X = _design(city)
    beta, mu, _ = _irls(y, X)
    during = X[:, 6] == 1
    Xc = X.copy()
    Xc[:, 6:] = 0
    assert y[during].sum() == pytest.approx(mu[during].sum(), rel=1e-9)

    def log_ratio(b):
        return np.log(np.exp(X[during] @ b).sum()) - np.log(np.exp(Xc[during] @ b).sum())

    h = 1e-6
    grad = np.array([(log_ratio(beta + h * d) - log_ratio(beta - h * d)) / (2 * h)
                     for d in np.eye(len(beta))])
    var, df = _cr2_by_hand(X, y, mu, mu, city["fiscal_year"].to_numpy(), grad)
    t = sps.t.ppf(0.975, df)
    ratio = y[during].sum() / np.exp(Xc[during] @ beta).sum()
    e = Mo.monthly_its(city, simulated=True).estimate("monthly.observed_vs_counterfactual")
    np.testing.assert_allclose([e.value, e.ci_low, e.ci_high],
                               [ratio, ratio * np.exp(-t * np.sqrt(var)),
                                ratio * np.exp(t * np.sqrt(var))], rtol=1e-5)


def test_ward_fixed_effects_give_the_city_estimate_and_a_cr2_interval(log):
    """With ward fixed effects a Poisson model's common terms are those of the wards' totals:
    the ward panel's level change is the city model's, and its interval is its own CR2
    sandwich by fiscal year (written out here on the ward-month design)."""
    wards = inputs.monthly_counts(log, by_ward=True)
    y = wards["requests"].to_numpy(float)
    X = np.column_stack([_design(wards)] + [(wards["ward"] == w).to_numpy(float)
                                            for w in inputs.WARDS[1:]])
    beta, mu, _ = _irls(y, X)
    var, df = _cr2_by_hand(X, y, mu, mu, wards["fiscal_year"].to_numpy(), np.eye(X.shape[1])[6])
    t = sps.t.ppf(0.975, df)
    e = ward_panel(wards, simulated=True).estimate("wards.level_rr")
    np.testing.assert_allclose([e.value, e.ci_low, e.ci_high],
                               np.exp([beta[6], beta[6] - t * np.sqrt(var),
                                       beta[6] + t * np.sqrt(var)]), rtol=1e-6)
    city = Mo.monthly_its(_city(log), simulated=True).estimate("monthly.level_rr")
    np.testing.assert_allclose([e.value, e.ci_low, e.ci_high],
                               [city.value, city.ci_low, city.ci_high], rtol=1e-6)


def test_hac_is_the_newey_west_sandwich():
    rng = np.random.default_rng(3)
    n = 96
    ar = np.zeros(n)
    for i in range(1, n):  # autocorrelated log-rate shocks
        ar[i] = 0.8 * ar[i - 1] + rng.normal(0, 0.25)
    t = np.arange(n) / 12
    y = rng.poisson(np.exp(4 + 0.1 * t + ar)).astype(float)
    X = pd.DataFrame({"const": 1.0, "trend": t, "step": (np.arange(n) >= 48).astype(float)})
    fit = Mo.fit_all(y, X, "test")
    assert fit.lb_p < 0.05 and fit.hac_cov is not None
    beta, mu, bread = _irls(y, X.to_numpy())
    s = X.to_numpy() * (y - mu)[:, None]
    L = int(np.floor(4 * (n / 100) ** (2 / 9)))
    meat = s.T @ s
    for lag in range(1, L + 1):
        w = 1 - lag / (L + 1)
        gamma = s[lag:].T @ s[:-lag]
        meat += w * (gamma + gamma.T)
    cov = bread @ meat @ bread
    ratio = np.diag(fit.hac_cov.to_numpy()) / np.diag(cov)
    # statsmodels may scale the sandwich by a small-sample factor n / (n - k); nothing else
    assert np.allclose(ratio, ratio[0], rtol=1e-6)
    assert ratio[0] == pytest.approx(1.0, rel=1e-6) or ratio[0] == pytest.approx(n / (n - 3), rel=1e-6)


def test_exposure_days_per_month_counted_day_by_day():
    import wardanalysis as wa

    m = wa.load("covid_measures")
    r = m[m["is_restriction"]]
    days = set()
    for a, b in zip(r["start_date"], r["end_date"], strict=True):
        days |= set(pd.date_range(a, b, freq="D").date)
    months = pd.Series(pd.date_range("2020-01-01", "2022-12-01", freq="MS"))
    expected = [sum(1 for d in days if d.year == s.year and d.month == s.month) for s in months]
    got = Mo.monthly_exposure_days(months)
    assert list(got.astype(int)) == expected
    assert got[months.dt.strftime("%Y-%m") == "2020-04"].item() == 15  # 16 to 30 April


def _km(days, event):
    """Product-limit estimator and Greenwood variance, from the definitions."""
    times = np.unique(days[event])
    s, g, out = 1.0, 0.0, []
    for t in times:
        n = np.sum(days >= t)
        d = np.sum((days == t) & event)
        s *= 1 - d / n
        g += d / (n * (n - d)) if n > d else np.inf
        out.append((t, s, s * np.sqrt(g)))
    return pd.DataFrame(out, columns=["t", "s", "se"])


def test_kaplan_meier_by_hand(log):
    res = time_to_handling(log, as_of="2024-06-26", horizon=90)
    cut = pd.Timestamp("2024-06-26")
    for fy in (2017, 2023):
        part = log[(log["received_date"] >= pd.Timestamp(fy, 4, 1))
                   & (log["received_date"] < pd.Timestamp(fy + 1, 4, 1))]
        event = (part["handled_date"].notna() & (part["handled_date"] <= cut)).to_numpy()
        end = part["handled_date"].where(event, cut)
        days = (end - part["received_date"]).dt.days.to_numpy(float)
        km = _km(days, event)
        row = km[km["t"] <= 90].iloc[-1]
        z = sps.norm.ppf(0.975)
        w = z * row["se"] / (row["s"] * abs(np.log(row["s"])))
        expected = [1 - row["s"], 1 - row["s"] ** np.exp(-w), 1 - row["s"] ** np.exp(w)]
        e = res.estimate(f"handling.share_within_90_days.fy{fy}")
        np.testing.assert_allclose([e.value, e.ci_low, e.ci_high], expected, rtol=1e-9)
        table = res.table().set_index("fiscal_year")
        assert table.loc[fy, "requests"] == len(part) and table.loc[fy, "handled"] == event.sum()


def test_ward_share_of_deviance_by_numpy(log):
    wards = inputs.monthly_counts(log, by_ward=True)
    y = wards["requests"].to_numpy(float)
    X = _design(wards)
    dummies = np.column_stack([(wards["ward"] == w).to_numpy(float) for w in inputs.WARDS[1:]])

    def deviance(Xm):
        _, mu, _ = _irls(y, Xm)
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where(y > 0, y * np.log(y / mu), 0.0)
        return 2 * np.sum(term - (y - mu))

    d0, d1 = deviance(X), deviance(np.column_stack([X, dummies]))
    res = ward_panel(wards, simulated=True)
    assert res.estimate("wards.between_share").value == pytest.approx((d0 - d1) / d0, rel=1e-6)
    beta, _, _ = _irls(y, np.column_stack([X, dummies]))
    assert res.estimate("wards.level_rr").value == pytest.approx(np.exp(beta[6]), rel=1e-6)


def test_batched_irls_matches_one_fit_at_a_time():
    rng = np.random.default_rng(5)
    cells = simulate.months_of(range(2017, 2024)).assign(covid=lambda d: d["fiscal_year"] >= 2020)
    X, _, term = D.design_matrix(cells, "monthly", CovidPeriod(2020, 2023))
    np.testing.assert_allclose(X, _design(cells))  # the monthly page's design, written here
    Y = rng.poisson(np.exp(X @ np.r_[3.5, -0.15, 0.1, 0.05, -0.05, 0.02, -0.3, 0.0])[None] *
                    rng.gamma(5, 0.2, (6, len(cells))))
    est, se, df = D.batch_qp(X, Y, term)
    for i in range(len(Y)):
        beta, mu, bread = _irls(Y[i].astype(float), X)
        phi = max(1.0, np.sum((Y[i] - mu) ** 2 / mu) / (len(cells) - X.shape[1]))
        assert est[i] == pytest.approx(beta[term], rel=1e-7, abs=1e-9)
        assert se[i] == pytest.approx(np.sqrt(bread[term, term] * phi), rel=1e-6)
    assert df == len(cells) - X.shape[1]


def test_minimum_detectable_change_interpolates_the_power_curve():
    drops = np.array([0.1, 0.2, 0.3, 0.4])
    assert D._mdc(drops, np.array([0.1, 0.5, 0.9, 1.0])) == pytest.approx(0.2 + 0.3 / 0.4 * 0.1)
    assert np.isnan(D._mdc(drops, np.array([0.1, 0.2, 0.3, 0.4])))


def test_yearly_estimates_spread_as_the_poisson_information_says():
    """With no extra-Poisson variation, the simulated yearly estimates of the COVID level centre
    on the true log rate ratio and spread as the Poisson information matrix says."""
    import dataclasses

    cal = dataclasses.replace(simulate.calibrate(), dispersion=1.0)
    cells, counts = simulate.simulate_counts(cal, range(2017, 2024), [0.8], replications=4000,
                                             seed=1)
    yc, yearly = simulate.yearly_totals(cells, counts)
    X, rows, term = D.design_matrix(yc, "yearly", CovidPeriod(2020, 2023))
    mu = simulate.expected_monthly(cal, range(2017, 2024), 0.8).groupby("fiscal_year")[
        "expected"].sum().to_numpy()
    se = np.sqrt(np.linalg.inv(X.T @ (mu[:, None] * X))[term, term])
    est, _, _ = D.batch_qp(X, yearly[0][:, rows], term)
    assert abs(est.mean() - np.log(0.8)) < 4 * se / np.sqrt(len(est))
    assert est.std() == pytest.approx(se, rel=0.06)
