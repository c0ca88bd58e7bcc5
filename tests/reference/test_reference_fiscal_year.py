"""models.fiscal_year_report against independent computations (closed forms, scipy, hand IRLS)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from wardanalysis.models import fiscal_year_report

REL = 1e-3  # at least 3 significant figures


@pytest.fixture
def population() -> pd.DataFrame:
    return pd.DataFrame({
        "city_ja": ["熊本市"], "city_en": ["Kumamoto"], "area_ja": ["市全体"],
        "area_en": ["whole city"], "population_persons": [737_889],
        "as_of_date": pd.to_datetime(["2022-12-01"]), "date_precision": ["day"],
        "basis": ["estimate"], "quality": ["N"],
    })


@pytest.fixture
def budget() -> pd.DataFrame:
    return pd.DataFrame({"fiscal_year": [2021, 2022], "budget_thousand_yen": [150_000, 100_000],
                         "reconstruction_thousand_yen": [50_000, 0], "wards": [5, 5]})


def _report(fy, needs, civil, budget, population):
    return fiscal_year_report(fy, needs_reflection=needs, civil_engineering_requests=civil,
                              machizukuri_budget=budget, population=population)


def test_against_the_previous_year(needs, civil, budget, population, ref):
    r = _report(2022, needs, civil, budget, population)
    ratio, lo, hi, p = ref.exact_rate_ratio(504, 587)
    e = r.estimate("fy.requests_rr_vs_previous")
    assert e.value == pytest.approx(ratio, rel=REL)
    assert (e.ci_low, e.ci_high) == (pytest.approx(lo, rel=REL), pytest.approx(hi, rel=REL))
    assert e.p_value == pytest.approx(p, rel=REL)
    # handled share: Fisher's conditional odds ratio on [[422, 82], [478, 109]]
    mle, lo, hi, p = ref.fisher_conditional(422, 504 - 422, 478, 587 - 478)
    e = r.estimate("fy.handled_or_vs_previous")
    assert (e.value, e.ci_low, e.ci_high, e.p_value) == (
        pytest.approx(mle, rel=REL), pytest.approx(lo, rel=REL), pytest.approx(hi, rel=REL),
        pytest.approx(p, rel=REL))


def test_against_the_trend_of_the_earlier_years(needs, civil, budget, population, ref):
    r = _report(2022, needs, civil, budget, population)
    earlier = needs[needs["fiscal_year"] < 2022]
    x = earlier["fiscal_year"].to_numpy(float)
    X = np.column_stack([np.ones_like(x), x - x.mean()])
    fit = ref.quasi_poisson(earlier["requests"], X)
    x_new = np.array([1.0, 2022 - x.mean()])
    mu = float(np.exp(x_new @ fit.beta))
    se_log = np.sqrt(max(1.0, fit.phi) / mu + x_new @ fit.cov @ x_new)
    lo, hi = mu * np.exp(-fit.t * se_log), mu * np.exp(fit.t * se_log)
    e = r.estimate("fy.requests_expected_from_trend")
    assert (e.value, e.ci_low, e.ci_high) == (
        pytest.approx(mu, rel=REL), pytest.approx(lo, rel=REL), pytest.approx(hi, rel=REL))
    oe = r.estimate("fy.requests_oe_vs_trend")
    assert (oe.value, oe.ci_low, oe.ci_high) == (
        pytest.approx(504 / mu, rel=REL), pytest.approx(504 / hi, rel=REL),
        pytest.approx(504 / lo, rel=REL))


def test_funnel_shares_and_budget(needs, civil, budget, population, ref):
    r = _report(2022, needs, civil, budget, population)
    for key, s, n in (("fy.handled_share", 422, 504), ("fy.priority_rate", 4, 504),
                      ("fy.decided_share", 3, 4), ("fy.first_level_share", 4, 4)):
        lo, hi = ref.wilson(s, n)
        e = r.estimate(key)
        assert (e.value, e.ci_low, e.ci_high) == (
            pytest.approx(s / n, rel=REL), pytest.approx(lo, rel=REL), pytest.approx(hi, rel=REL))
    assert r.estimate("fy.budget_yen_per_capita").value == pytest.approx(100_000_000 / 737_889, rel=REL)
    assert r.estimate("fy.budget_per_ward_thousand_yen").value == 20_000
    ratio, lo, hi, p = ref.exact_rate_ratio(7125 + 2009 + 826, 5569 + 2200 + 699)
    e = r.estimate("fy.civil_total_rr_vs_previous")
    assert (e.value, e.ci_low, e.ci_high) == (
        pytest.approx(ratio, rel=REL), pytest.approx(lo, rel=REL), pytest.approx(hi, rel=REL))
