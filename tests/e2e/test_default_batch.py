"""End-to-end: the real default batch (every notebook, every fiscal year, ja and en) on the
shipped data, as ``make report`` runs it, and what its ``results.csv`` promises.

Every year-over-year ratio recorded by the batch is checked against an independent computation
of its series' dispersion: its interval must be the Wald interval with the scale max(1, dispersion)
and t on the trend's residual df (also where the dispersion is below 1), at least sqrt(scale)
times as wide as the exact one on the log scale, or carry the ``poisson_only`` flag.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

import wardanalysis as wa

# --- independent computations -----------------------------------------------------------------


def _pearson_dispersion(y, years, trials=None) -> tuple[float, int]:
    """Pearson chi2 / df of a log-linear (or logit) trend, computed here from statsmodels'
    fitted values; (nan, 0) below three years."""
    y = np.asarray(y, float)
    x = np.asarray(years, float)
    if trials is not None:
        n = np.asarray(trials, float)
        keep = n > 0
        y, x, n = y[keep], x[keep], n[keep]
    if len(y) < 3:
        return math.nan, 0
    X = np.column_stack([np.ones_like(x), x - x[0]])
    if trials is None:
        mu = sm.GLM(y, X, family=sm.families.Poisson()).fit().fittedvalues
        chi2 = np.sum((y - mu) ** 2 / mu)
    else:
        p = sm.GLM(np.column_stack([y, n - y]), X, family=sm.families.Binomial()).fit().fittedvalues
        chi2 = np.sum((y - n * p) ** 2 / (n * p * (1 - p)))
    return float(chi2 / (len(y) - 2)), len(y) - 2


def _exact_rate_ratio(c1: int, c0: int) -> tuple[float, float]:
    ci = stats.binomtest(c1, c1 + c0).proportion_ci(confidence_level=0.95, method="exact")
    return ci.low / (1 - ci.low), ci.high / (1 - ci.high)


def _exact_odds_ratio(s1: int, n1: int, s0: int, n0: int) -> tuple[float, float]:
    res = stats.contingency.odds_ratio([[s1, n1 - s1], [s0, n0 - s0]], kind="conditional")
    ci = res.confidence_interval(0.95)
    return ci.low, ci.high


def _expected(key: str, fiscal_year: str):
    """(dispersion, df, (exact low, exact high), Woolf/Poisson variance of the log ratio) of a
    year-over-year record, from the shipped data."""
    needs = wa.load("needs_reflection").set_index("fiscal_year")
    m = re.fullmatch(r"requests\.yoy_rr\.fy(\d+)_vs_fy(\d+)", key)
    if m:
        y, p = int(m[1]), int(m[2])
        phi, df = _pearson_dispersion(needs["requests"], needs.index)
        c1, c0 = needs.at[y, "requests"], needs.at[p, "requests"]
        return phi, df, _exact_rate_ratio(c1, c0), 1 / c1 + 1 / c0
    m = re.fullmatch(r"fy\.(requests|priority_issues)_rr_vs_previous", key)
    if m:
        col, y = m[1], int(fiscal_year)
        upto = needs[needs.index <= y]
        phi, df = _pearson_dispersion(upto[col], upto.index)
        c1, c0 = needs.at[y, col], needs.at[y - 1, col]
        return phi, df, _exact_rate_ratio(c1, c0), 1 / c1 + 1 / c0
    m = re.fullmatch(r"fy\.(handled|priority_rate)_or_vs_previous", key)
    if m:
        col = {"handled": "requests_handled", "priority_rate": "priority_issues"}[m[1]]
        y = int(fiscal_year)
        upto = needs[needs.index <= y]
        phi, df = _pearson_dispersion(upto[col], upto.index, upto["requests"])
        s1, n1, s0, n0 = (needs.at[y, col], needs.at[y, "requests"], needs.at[y - 1, col],
                          needs.at[y - 1, "requests"])
        cells = np.array([s1, n1 - s1, s0, n0 - s0], float)
        return phi, df, _exact_odds_ratio(s1, n1, s0, n0), float(np.sum(1 / cells))
    return None


YOY = re.compile(r"(yoy_rr|_rr_vs_previous|_or_vs_previous|^civil\..*_rr_fy)")


def test_the_default_batch_succeeds_and_records(default_batch):
    out, rows = default_batch
    notebooks = {r["notebook"] for r in rows}
    assert {"01_requests_covid", "02_escalation", "03_budgets_cross_city",
            "fiscal_year_report"} <= notebooks
    assert {r["lang"] for r in rows} == {"ja", "en"}
    assert set(rows[0]) >= {"interval", "flags"}


def test_every_year_over_year_interval_allows_for_its_series_dispersion(default_batch):
    _, rows = default_batch
    checked = flagged = 0
    for r in rows:
        if not YOY.search(r["key"]) or r["ci_low"] == "":
            continue
        lo, hi = float(r["ci_low"]), float(r["ci_high"])
        if "poisson_only" in r["flags"].split(";"):
            flagged += 1
            continue
        expected = _expected(r["key"], r["fiscal_year"])
        assert expected is not None, f"{r['key']}: a ratio without a dispersion-aware interval"
        phi, df, (x_lo, x_hi), var = expected
        assert df >= 2, f"{r['key']} FY{r['fiscal_year']}: {df} residual df but not flagged"
        width, exact = math.log(hi / lo), math.log(x_hi / x_lo)
        wald = 2 * stats.t.ppf(0.975, df) * math.sqrt(max(1.0, phi) * var)
        assert width == pytest.approx(wald, rel=1e-6), (
            f"{r['key']} FY{r['fiscal_year']}: log-width {width:.4f}, expected {wald:.4f} "
            f"(scale max(1, {phi:.3f}), t({df}))")
        assert width >= math.sqrt(max(1.0, phi)) * exact * (1 - 1e-6), (
            f"{r['key']} FY{r['fiscal_year']}: log-width {width:.3f} < sqrt({phi:.2f}) x exact "
            f"{exact:.3f}")
        checked += 1
    assert checked >= 20 and flagged >= 10, (checked, flagged)


def test_no_exact_interval_leads_unflagged(default_batch):
    """An interval computed by an exact (Poisson/binomial) method is flagged as valid only for
    such counts, also where the series' dispersion is below 1 (an interval's method is the part
    of its description before the first ';', which may name the exact interval as a
    sensitivity). (A test of whether a share is the same every year is valid under its own null
    of binomial variation and has no interval.)"""
    _, rows = default_batch
    for r in rows:
        if r["ci_low"] == "":
            continue
        method = r["interval"].lower().split(";")[0]
        if "exact" in method or "fisher" in method:
            assert "poisson_only" in r["flags"], (r["notebook"], r["fiscal_year"], r["key"],
                                                   r["interval"])


def test_the_verdict_and_period_comparison_use_the_documents_period(default_batch):
    _, rows = default_batch
    by_key = {(r["key"], r["lang"]): r for r in rows if r["notebook"] == "01_requests_covid"}
    covid = float(by_key[("requests.covid_mean", "en")]["value"])
    assert covid == pytest.approx(np.mean([920, 587, 504, 650]))
    assert ("requests.after_mean", "en") not in by_key
    assert float(by_key[("requests.verdict_distinguishable", "ja")]["value"]) == 0
