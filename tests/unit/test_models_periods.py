"""The COVID period is data (dataset covid_period), it has an end, and later years are never
counted as COVID years; text and verdicts cite only dispersion-aware intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import wardanalysis as wa
from wardanalysis.errors import BreakYearError, CovidPeriodError
from wardanalysis.models.covid_verdict import period_comparison, verdict
from wardanalysis.models.escalation import escalation_patterns
from wardanalysis.models.fiscal_year import fiscal_year_report
from wardanalysis.models.its import interrupted_time_series
from wardanalysis.models.periods import covid_period
from wardanalysis.text.formats import fmt, fmt_pct


@pytest.fixture
def with_fy2024() -> pd.DataFrame:
    needs = wa.load("needs_reflection")
    row = needs[needs["fiscal_year"] == 2023].assign(fiscal_year=2024, era_label="R6",
                                                    requests=701, requests_handled=602)
    return pd.concat([needs, row], ignore_index=True)


def test_the_period_comes_from_the_document():
    period = covid_period()
    assert (period.start, period.end) == (2020, 2023)
    assert wa.describe("covid_period")["source"]["section_ja"].startswith("2 本庁と区役所の連携")
    quote = wa.load("covid_period")["quote_ja"].iloc[0]
    assert "令和2年度から令和5年度" in quote


def test_parameters_override_either_end_and_accept_era_labels():
    assert covid_period(covid_end="R4") == covid_period(2020, 2022)
    assert covid_period("令和3年度").start == 2021
    assert covid_period(break_year=2021) == covid_period(covid_start=2021)
    with pytest.raises(CovidPeriodError, match="covid_end \\(FY2019\\) comes before"):
        covid_period(2020, 2019)
    with pytest.raises(CovidPeriodError, match="name the same parameter"):
        covid_period(2020, break_year=2021)
    with pytest.raises(BreakYearError, match="covid_start: expected a whole fiscal year"):
        covid_period(2020.5)


def test_an_overlay_moves_the_end(tmp_path):
    (tmp_path / "covid_period.csv").write_text("period_label,quote_ja\nR6,延長の例\n",
                                               encoding="utf-8")
    assert covid_period(data_dir=tmp_path).end == 2024


def test_a_new_year_is_after_covid_not_covid(with_fy2024):
    shipped = period_comparison()
    res = period_comparison(with_fy2024)
    covid = res.estimate("requests.covid_mean")
    assert covid.value == pytest.approx(np.mean([920, 587, 504, 650]))
    assert covid.value == pytest.approx(shipped.estimate("requests.covid_mean").value)
    assert res.estimate("requests.after_mean").value == pytest.approx(701)
    assert "requests.after_mean" not in shipped.keys()
    assert res.table().set_index("fiscal_year").loc[2024, "phase"] == "after"
    assert "after COVID FY2024" in res.method and "コロナ後：2024年度" in res.method_text("ja")
    assert "After the COVID period (FY2024)" in res.text("en")


def test_the_interrupted_time_series_leaves_later_years_out(with_fy2024):
    shipped = interrupted_time_series()
    res = interrupted_time_series(with_fy2024)
    table = res.table().set_index("fiscal_year")
    assert not table.loc[2024, "used_in_fit"] and table.loc[2024, "phase"] == "after"
    for key in ("requests.its_level_rr", "requests.its_slope_rr", "requests.counterfactual_oe_total"):
        assert res.estimate(key).value == pytest.approx(shipped.estimate(key).value)
    assert "requests.counterfactual_oe.fy2024" not in res.keys()
    assert any("FY2024" in c and "not used in the fit" in c for c in res.caveats)


def test_escalation_keeps_after_years_apart(with_fy2024):
    res = escalation_patterns(with_fy2024)
    shipped = escalation_patterns()
    key = "escalation.priority_rate_or_covid_vs_pre"
    assert res.estimate(key).value == pytest.approx(shipped.estimate(key).value)
    assert "after_covid" in set(res.table()["scope"])


def test_a_shorter_period_changes_what_counts(with_fy2024):
    res = period_comparison(with_fy2024, covid_end=2022)
    assert res.estimate("requests.covid_mean").value == pytest.approx(np.mean([920, 587, 504]))
    assert res.estimate("requests.after_mean").value == pytest.approx(np.mean([650, 701]))


def _intervals(e) -> list[str]:
    return [fmt(e.ci_low), fmt(e.ci_high)]


def test_the_verdict_cites_only_dispersion_aware_intervals():
    v = verdict()
    flagged = [e for r in v.components() for e in r.estimates if e.poisson_only]
    for lang in ("ja", "en"):
        text = v.text(lang)
        assert "exact" not in text.lower() and "正確" not in text and "Fisher" not in text
        for e in flagged:
            assert f"{fmt(e.ci_low)} to {fmt(e.ci_high)}" not in text
            assert f"{fmt(e.ci_low)}〜{fmt(e.ci_high)}" not in text


@pytest.mark.parametrize("fy", range(2017, 2024))
def test_a_poisson_only_interval_is_never_shown_unlabelled(fy):
    """In the fiscal-year text, an exact interval appears only with its 'if Poisson/binomial'
    label; an unflagged interval is never an exact one."""
    r = fiscal_year_report(fy)
    for e in r.estimates:
        if not e.poisson_only or np.isnan(e.ci_low):
            continue
        for lang, plain in (("en", f"95% CI {fmt(e.ci_low)} to {fmt(e.ci_high)}"),
                            ("ja", f"95%信頼区間 {fmt(e.ci_low)}〜{fmt(e.ci_high)}")):
            assert plain not in r.text(lang)
    # the estimates the text cites: a flagged one carries its label next to its numbers
    en = r.text("en")
    by_key = {e.key: e for e in r.estimates}
    rr = by_key.get("fy.requests_rr_vs_previous")
    if rr is not None:
        labelled = f"if the counts were Poisson: {fmt(rr.ci_low)} to {fmt(rr.ci_high)}"
        assert (labelled in en) == rr.poisson_only
    hs = by_key.get("fy.handled_share")
    if hs is not None and hs.poisson_only:
        assert f"Poisson or binomial only: {fmt_pct(hs.ci_low)} to {fmt_pct(hs.ci_high)}" in en


def test_escalation_leads_with_the_quasi_binomial_comparison():
    e = escalation_patterns()
    head = e.estimate("escalation.priority_rate_or_covid_vs_pre")
    exact = e.estimate("escalation.priority_rate_or_covid_vs_pre.exact")
    assert head.ci_low < 1 < head.ci_high and not head.poisson_only
    assert exact.poisson_only and exact.ci_high < 1
    text = e.text("en")
    assert text.index(fmt(head.ci_high)) < text.index("exact test")
    assert "valid only if the counts were binomial" in text
