"""models.fiscal_year_report against independent computations (closed forms, scipy, hand IRLS)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from dateutil.relativedelta import relativedelta

from wardanalysis.models.fiscal_year import fiscal_year_report

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


def _trend(ref, needs, col, upto, trials=None):
    d = needs[needs["fiscal_year"] <= upto]
    X = np.column_stack([np.ones(len(d)), d["fiscal_year"] - d["fiscal_year"].min()])
    if trials is None:
        return ref.quasi_poisson(d[col], X)
    return ref.quasi_binomial(d[col], d[trials], X)


def test_against_the_previous_year(needs, civil, budget, population, ref):
    """Each ratio borrows the dispersion of its series' trend over FY2017-FY2022 (hand IRLS /
    score equations), t on that trend's residual df; Woolf's variance for the odds ratio."""
    r = _report(2022, needs, civil, budget, population)
    tr = _trend(ref, needs, "requests", 2022)
    half = ref.t(tr.df) * np.sqrt(tr.phi * (1 / 504 + 1 / 587))
    e = r.estimate("fy.requests_rr_vs_previous")
    ratio = 504 / 587
    assert (e.value, e.ci_low, e.ci_high) == (
        pytest.approx(ratio, rel=REL), pytest.approx(ratio * np.exp(-half), rel=REL),
        pytest.approx(ratio * np.exp(half), rel=REL))
    # the exact interval stays in the table, labelled
    _, lo, hi, p = ref.exact_rate_ratio(504, 587)
    row = r.table().query("measure == 'requests'").iloc[0]
    assert (row["exact_ci_low"], row["exact_ci_high"], row["exact_p_value"]) == (
        pytest.approx(lo, rel=REL), pytest.approx(hi, rel=REL), pytest.approx(p, rel=REL))
    # handled share: [[422, 82], [478, 109]] with the handled trend's dispersion
    th = _trend(ref, needs, "requests_handled", 2022, trials="requests")
    cells = np.array([422, 82, 478, 109], float)
    log_or = np.log(422 * 109 / (82 * 478))
    half = ref.t(th.df) * np.sqrt(th.phi * np.sum(1 / cells))
    e = r.estimate("fy.handled_or_vs_previous")
    assert (e.value, e.ci_low, e.ci_high) == (
        pytest.approx(np.exp(log_or), rel=REL), pytest.approx(np.exp(log_or - half), rel=REL),
        pytest.approx(np.exp(log_or + half), rel=REL))
    assert e.flags == ()


def test_against_a_baseline_of_years_before_the_covid_period(needs, civil, budget, population,
                                                           ref):
    """With the shipped period the baseline has three years: no expected value. With the period
    starting in FY2021 the baseline is FY2017-FY2020 (four years) and FY2022's expected value is
    that trend's prediction, whatever the later years say."""
    assert "fy.requests_expected_from_trend" not in _report(2022, needs, civil, budget,
                                                            population).keys()
    r = fiscal_year_report(2022, covid_start=2021, needs_reflection=needs,
                           civil_engineering_requests=civil, machizukuri_budget=budget,
                           population=population)
    base = needs[needs["fiscal_year"] < 2021]
    x = base["fiscal_year"].to_numpy(float)
    X = np.column_stack([np.ones_like(x), x - x.mean()])
    fit = ref.quasi_poisson(base["requests"], X)
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
    """A year's share: Wilson on counts divided by the dispersion of that share's trend over
    FY2017-FY2022."""
    r = _report(2022, needs, civil, budget, population)
    lv = needs.assign(settled_staff=needs["staff_consultations"]
                      - needs["section_chief_consultations"])
    for key, col, den, s, n in (("fy.handled_share", "requests_handled", "requests", 422, 504),
                                ("fy.priority_rate", "priority_issues", "requests", 4, 504),
                                ("fy.decided_share", "decided_to_act", "priority_issues", 3, 4),
                                ("fy.first_level_share", "settled_staff", "priority_issues", 4, 4)):
        phi = max(1.0, _trend(ref, lv, col, 2022, trials=den).phi)
        lo, hi = ref.wilson(s / phi, n / phi)
        e = r.estimate(key)
        assert (e.value, e.ci_low, e.ci_high) == (
            pytest.approx(s / n, rel=REL), pytest.approx(lo, rel=REL), pytest.approx(hi, rel=REL))
    assert r.estimate("fy.budget_yen_per_capita").value == pytest.approx(100_000_000 / 737_889, rel=REL)
    assert r.estimate("fy.budget_per_ward_thousand_yen").value == 20_000
    ratio, lo, hi, p = ref.exact_rate_ratio(7125 + 2009 + 826, 5569 + 2200 + 699)
    e = r.estimate("fy.civil_total_rr_vs_previous")
    assert (e.value, e.ci_low, e.ci_high) == (
        pytest.approx(ratio, rel=REL), pytest.approx(lo, rel=REL), pytest.approx(hi, rel=REL))
    assert e.flags == ("poisson_only",)


@pytest.mark.parametrize("fy", [2013, 2019, 2024])
def test_the_per_resident_record_carries_its_population_gap(fy):
    """With the shipped data: the population is the latest whole-city figure dated no later than
    the end of the year, read here from the raw file; the record's flags give its distance from
    the middle of the year and mark it beyond the 2-year limit."""
    import csv
    import datetime as dt

    from wardanalysis.paths import shipped_data_dir

    with open(shipped_data_dir() / "raw" / "population.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["city_ja"] == "熊本市" and r["area_ja"] == "市全体"
                and r["as_of_date"] and r["set_names_inferred"] == "false"]
    end, mid = dt.date(fy + 1, 3, 31), dt.date(fy, 10, 1)
    as_of = max(d for d in (dt.date.fromisoformat(r["as_of_date"]) for r in rows) if d <= end)
    d = relativedelta(as_of, mid)  # calendar years: whole months ÷ 12
    gap = d.years + d.months / 12 + d.days / 365.25
    e = next(e for e in fiscal_year_report(fy).estimates if e.key == "fy.budget_yen_per_capita")
    assert f"population_gap_years={gap:+.3f}" in e.flags
    assert ("population_beyond_limit" in e.flags) is (abs(gap) > 2)
