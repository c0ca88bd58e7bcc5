"""Shared fixtures for the reference tests: the document's figures typed in by hand, and
independent computations written differently from the package (closed forms, scipy root finding
and optimisation, numpy IRLS on hand-built design matrices).

Nothing here imports wardanalysis.stats: every expected value is computed from scratch.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special, stats

Z975 = stats.norm.ppf(0.975)


# --- the document's table, typed from data/snapshots/kumamoto_review_2024.txt -----------------

@pytest.fixture
def needs() -> pd.DataFrame:
    """地域ニーズ反映の仕組み協議実績 (H29–R5), '—' read as 0."""
    return pd.DataFrame({
        "fiscal_year": [2017, 2018, 2019, 2020, 2021, 2022, 2023],
        "era_label": ["H29", "H30", "R元", "R2", "R3", "R4", "R5"],
        "requests": [1710, 1101, 999, 920, 587, 504, 650],
        "requests_handled": [1626, 1032, 900, 832, 478, 422, 587],
        "priority_issues": [92, 22, 10, 8, 8, 4, 3],
        "decided_to_act": [60, 14, 8, 8, 8, 3, 3],
        "staff_consultations": [92, 22, 10, 8, 8, 4, 3],
        "section_chief_consultations": [10, 7, 4, 0, 0, 0, 1],
        "coordination_meetings": [3, 0, 0, 0, 0, 0, 0],
    })


@pytest.fixture
def civil() -> pd.DataFrame:
    """土木センターへの要望, R3 → R4."""
    return pd.DataFrame({
        "fiscal_year": [2021, 2022, 2021, 2022, 2021, 2022],
        "category": ["road", "road", "park", "park", "river", "river"],
        "requests": [5569, 7125, 2200, 2009, 699, 826],
    })


@pytest.fixture
def measures() -> pd.DataFrame:
    """Kumamoto's COVID measures (public_figures.md section 5), plus the 5類 move (not a
    restriction)."""
    rows = [
        ("national_emergency_2020", "national_emergency", "2020-04-16", "2020-05-14", True),
        ("kumamoto_emergency_2021", "prefectural_emergency", "2021-01-14", "2021-02-17", True),
        ("priority_measures_1_2021", "priority_measures", "2021-05-16", "2021-06-13", True),
        ("priority_measures_2_2021", "priority_measures", "2021-08-08", "2021-09-30", True),
        ("priority_measures_3_2022", "priority_measures", "2022-01-21", "2022-03-21", True),
        ("reclassification_5rui_2023", "reclassification", "2023-05-08", None, False),
    ]
    df = pd.DataFrame(rows, columns=["measure_id", "kind", "start_date", "end_date", "is_restriction"])
    df["start_date"] = pd.to_datetime(df["start_date"])
    df["end_date"] = pd.to_datetime(df["end_date"])
    return df


# --- independent computations -----------------------------------------------------------------

def irls_poisson(y, X, iters: int = 100):
    """Poisson log-link fit by hand-written IRLS; returns (beta, mu, (X'WX)^-1)."""
    y = np.asarray(y, float)
    X = np.asarray(X, float)
    beta = np.linalg.lstsq(X, np.log(np.maximum(y, 0.5)), rcond=None)[0]
    for _ in range(iters):
        mu = np.exp(X @ beta)
        z = X @ beta + (y - mu) / mu
        W = mu
        new = np.linalg.solve(X.T @ (W[:, None] * X), X.T @ (W * z))
        if np.max(np.abs(new - beta)) < 1e-13:
            beta = new
            break
        beta = new
    mu = np.exp(X @ beta)
    return beta, mu, np.linalg.inv(X.T @ (mu[:, None] * X))


def crit(phi: float, df: int, alpha: float = 0.05) -> float:
    """t(df) always, also where the floor max(1, phi) sets the scale at 1 (``phi`` is kept in
    the signature so that the callers read as the formula: scale max(1, phi), t(df))."""
    return stats.t.ppf(1 - alpha / 2, df)


def quasi_poisson(y, X, alpha: float = 0.05):
    """Quasi-Poisson by hand: Pearson chi2 / (n - p), covariance scaled by max(1, phi), t CIs
    (also where the floor applies)."""
    y = np.asarray(y, float)
    X = np.asarray(X, float)
    beta, mu, inv = irls_poisson(y, X)
    n, p = X.shape
    phi = float(np.sum((y - mu) ** 2 / mu) / (n - p))
    cov = max(1.0, phi) * inv
    se = np.sqrt(np.diag(cov))
    t = crit(phi, n - p, alpha)
    return SimpleNamespace(beta=beta, mu=mu, phi=phi, cov=cov, se=se, t=t, df=n - p,
                           rr=np.exp(beta), lo=np.exp(beta - t * se), hi=np.exp(beta + t * se))


def quasi_binomial(s, n, X, alpha: float = 0.05):
    """Logistic fit by solving the score equations X'(s - n p) = 0 with scipy.optimize.root;
    Pearson chi2 computed from the counts and the trials by hand."""
    s = np.asarray(s, float)
    n = np.asarray(n, float)
    X = np.asarray(X, float)

    def score(b):
        p = special.expit(X @ b)
        return X.T @ (s - n * p)

    sol = optimize.root(score, np.zeros(X.shape[1]), method="hybr", tol=1e-12)
    b = sol.x
    assert np.max(np.abs(score(b))) < 1e-8 * n.sum(), "score equations not solved"
    p = special.expit(X @ b)
    k = X.shape[1]
    pearson = float(np.sum((s - n * p) ** 2 / (n * p * (1 - p))))
    phi = pearson / (len(s) - k)
    info = X.T @ ((n * p * (1 - p))[:, None] * X)
    cov = max(1.0, phi) * np.linalg.inv(info)
    se = np.sqrt(np.diag(cov))
    t = crit(phi, len(s) - k, alpha)
    return SimpleNamespace(beta=b, p=p, phi=phi, pearson=pearson, se=se, t=t, cov=cov, df=len(s) - k,
                           odds=np.exp(b), lo=np.exp(b - t * se), hi=np.exp(b + t * se))


def nb2(y, X):
    """NB2 maximum likelihood with scipy.optimize on (beta, log alpha); standard errors of beta
    from a central-difference Hessian of the log-likelihood in (beta, alpha); Wald intervals with
    t on n - k degrees of freedom (k mean coefficients), like the quasi-Poisson model."""
    y = np.asarray(y, float)
    X = np.asarray(X, float)
    k = X.shape[1]

    def loglik(theta):
        b, a = theta[:k], theta[k]
        mu = np.exp(X @ b)
        r = 1 / a
        return np.sum(special.gammaln(y + r) - special.gammaln(r) - special.gammaln(y + 1)
                      + r * np.log(r / (r + mu)) + y * np.log(mu / (r + mu)))

    start_b, _, _ = irls_poisson(y, X)
    res = optimize.minimize(lambda th: -loglik(np.r_[th[:k], np.exp(th[k])]),
                            np.r_[start_b, np.log(0.05)], method="BFGS",
                            options={"gtol": 1e-10, "maxiter": 10000})
    # a derivative-free polish, to tolerances well inside the tests' (rtol 1e-4 at the tightest)
    res = optimize.minimize(lambda th: -loglik(np.r_[th[:k], np.exp(th[k])]), res.x,
                            method="Nelder-Mead",
                            options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 4000})
    theta = np.r_[res.x[:k], np.exp(res.x[k])]
    h = 1e-4 * np.maximum(1, np.abs(theta))
    H = np.zeros((k + 1, k + 1))
    for i in range(k + 1):
        for j in range(k + 1):
            e_i, e_j = np.eye(k + 1)[i] * h[i], np.eye(k + 1)[j] * h[j]
            H[i, j] = (loglik(theta + e_i + e_j) - loglik(theta + e_i - e_j)
                       - loglik(theta - e_i + e_j) + loglik(theta - e_i - e_j)) / (4 * h[i] * h[j])
    cov = np.linalg.inv(-H)
    se = np.sqrt(np.diag(cov))[:k]
    t = stats.t.ppf(0.975, len(y) - k)
    return SimpleNamespace(beta=theta[:k], alpha=theta[k], se=se,
                           rr=np.exp(theta[:k]), lo=np.exp(theta[:k] - t * se),
                           hi=np.exp(theta[:k] + t * se))


def wilson(s, n, z: float = Z975):
    """Wilson score interval, closed form."""
    p = s / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def exact_rate_ratio(c1: int, c2: int, e1: float = 1.0, e2: float = 1.0):
    """Exact conditional interval for (c1/e1)/(c2/e2) by root finding on the binomial tails:
    the lower bound p_L solves P(X >= c1 | c1+c2, p_L) = 0.025, the upper P(X <= c1) = 0.025."""
    N = c1 + c2
    lo_p = 0.0 if c1 == 0 else optimize.brentq(
        lambda p: stats.binom.sf(c1 - 1, N, p) - 0.025, 1e-15, 1 - 1e-15, xtol=1e-15)
    hi_p = 1.0 if c1 == N else optimize.brentq(
        lambda p: stats.binom.cdf(c1, N, p) - 0.025, 1e-15, 1 - 1e-15, xtol=1e-15)

    def to_ratio(p):
        return p / (1 - p) * e2 / e1

    pval = stats.binomtest(c1, N, e1 / (e1 + e2)).pvalue
    return (c1 / e1) / (c2 / e2), to_ratio(lo_p), to_ratio(hi_p), pval


def fisher_conditional(a: int, b: int, c: int, d: int):
    """Conditional MLE of the odds ratio of [[a, b], [c, d]] and its exact interval from
    Fisher's noncentral hypergeometric distribution (scipy.stats.nchypergeom_fisher), and the
    two-sided Fisher p-value summed by hand from the central hypergeometric."""
    M, n, N = a + b + c + d, a + b, a + c  # total, row-1 total, column-1 total

    def dist(odds):
        return stats.nchypergeom_fisher(M, n, N, odds)

    mle = optimize.brentq(lambda lo: dist(np.exp(lo)).mean() - a, -30, 30, xtol=1e-14)
    low = optimize.brentq(lambda lo: dist(np.exp(lo)).sf(a - 1) - 0.025, -30, 30, xtol=1e-14)
    high = optimize.brentq(lambda lo: dist(np.exp(lo)).cdf(a) - 0.025, -30, 30, xtol=1e-14)
    h = stats.hypergeom(M, n, N)
    support = np.arange(max(0, N - (M - n)), min(n, N) + 1)
    probs = h.pmf(support)
    p_obs = h.pmf(a)
    pval = float(probs[probs <= p_obs * (1 + 1e-7)].sum())
    return np.exp(mle), np.exp(low), np.exp(high), pval


def days_by_fiscal_year(measures: pd.DataFrame, years) -> dict[int, int]:
    """Days under restrictions per fiscal year, by listing every calendar day in a set."""
    days: set[pd.Timestamp] = set()
    for r in measures[measures["is_restriction"]].itertuples():
        days.update(pd.date_range(r.start_date, r.end_date, freq="D"))
    out = {}
    for fy in years:
        lo, hi = pd.Timestamp(fy, 4, 1), pd.Timestamp(fy + 1, 3, 31)
        out[fy] = sum(1 for d in days if lo <= d <= hi)
    return out


@pytest.fixture
def ref() -> SimpleNamespace:
    """The independent computations, as one namespace."""
    return SimpleNamespace(
        irls_poisson=irls_poisson, quasi_poisson=quasi_poisson, quasi_binomial=quasi_binomial,
        crit=crit,
        nb2=nb2, wilson=wilson, exact_rate_ratio=exact_rate_ratio,
        fisher_conditional=fisher_conditional, days_by_fiscal_year=days_by_fiscal_year,
        t=lambda df: stats.t.ppf(0.975, df), z=Z975,
    )
