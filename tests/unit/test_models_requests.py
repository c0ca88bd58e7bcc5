"""Section 1 models: input validation, immutability of the caller's frame, result contract."""

from __future__ import annotations

import math

import pytest

from wardanalysis.errors import (
    BreakYearError,
    InvalidFrameError,
    MissingColumnError,
    MissingDataError,
    ModelInputError,
    NotEstimableError,
    TooFewYearsError,
)
from wardanalysis.models import covid_verdict as V
from wardanalysis.models import its as I
from wardanalysis.models import requests as R

ITS_KEYS = ["requests.its_level_rr", "requests.its_slope_rr", "requests.its_pre_slope_rr",
            "requests.its_post_slope_rr", "requests.its_dispersion", "requests.its_level_rr.nb",
            "requests.its_slope_rr.nb", "requests.counterfactual_oe_total"]


@pytest.mark.parametrize("func", [V.period_comparison, R.trend, I.interrupted_time_series])
def test_missing_column_is_named(func, needs_frame):
    with pytest.raises(MissingColumnError, match="'requests'"):
        func(needs_frame.drop(columns="requests"))


@pytest.mark.parametrize("func", [V.period_comparison, R.trend, I.interrupted_time_series,
                                  V.sensitivity, V.verdict])
def test_fewer_than_three_years(func, needs_frame, measures_frame):
    short = needs_frame[needs_frame["fiscal_year"].isin([2019, 2020])]
    kwargs = {"covid_measures": measures_frame} if func in (V.sensitivity, V.verdict) else {}
    with pytest.raises((TooFewYearsError, BreakYearError)) as info:
        func(short, **kwargs)
    assert "FY2019" in str(info.value) and "FY2020" in str(info.value)


def test_trend_needs_three_years_exactly(needs_frame):
    with pytest.raises(TooFewYearsError, match="at least 3 fiscal years"):
        R.trend(needs_frame.head(2))
    assert R.trend(needs_frame.head(3)).n_obs == 3


@pytest.mark.parametrize("brk", [2017, 2016, 2024, 2030])
def test_break_year_outside_the_data(brk, needs_frame):
    with pytest.raises(BreakYearError, match=str(brk)):
        I.interrupted_time_series(needs_frame, break_year=brk)
    with pytest.raises(BreakYearError, match=str(brk)):
        V.period_comparison(needs_frame, break_year=brk)


def test_break_year_must_be_a_whole_year(needs_frame):
    with pytest.raises(BreakYearError, match="whole fiscal year"):
        I.interrupted_time_series(needs_frame, break_year=2020.5)


def test_its_with_one_year_after_the_break(needs_frame):
    with pytest.raises(TooFewYearsError, match="1 in it"):
        I.interrupted_time_series(needs_frame[needs_frame["fiscal_year"] <= 2020])


def test_excluding_a_year_that_is_not_there(needs_frame):
    with pytest.raises(MissingDataError, match="FY2010"):
        I.interrupted_time_series(needs_frame, exclude_fiscal_years=[2010])


def test_bad_counts_and_duplicate_years(needs_frame):
    bad = needs_frame.copy()
    bad.loc[2, "requests"] = -1
    with pytest.raises(InvalidFrameError, match="row 2, column 'requests': '-1' is below the minimum 0"):
        R.trend(bad)
    dup = needs_frame.copy()
    dup.loc[3, "fiscal_year"] = 2019
    with pytest.raises(InvalidFrameError, match=r"duplicate key \(fiscal_year=2019\)"):
        R.trend(dup)


def test_not_a_dataframe():
    with pytest.raises(ModelInputError, match="DataFrame"):
        R.trend([1, 2, 3])


def test_callers_frame_is_unchanged(needs_frame, measures_frame, unchanged):
    snaps = [unchanged(needs_frame), unchanged(measures_frame)]
    shuffled = needs_frame.sample(frac=1, random_state=1)
    snap_shuffled = unchanged(shuffled)
    V.verdict(needs_frame, measures_frame)
    I.interrupted_time_series(shuffled, exclude_fiscal_years=[2017])
    I.exposure_model(needs_frame, measures_frame)
    for s in [*snaps, snap_shuffled]:
        s()


def test_period_comparison_contract(needs_frame, check, draw):
    res = V.period_comparison(needs_frame)
    check(res, ["requests.pre_mean", "requests.covid_mean", "requests.mean_ratio_covid_vs_pre",
                "requests.yoy_rr.fy2018_vs_fy2017", "requests.yoy_rr.fy2023_vs_fy2022"])
    draw(res)


def test_trend_contract(needs_frame, check, draw):
    res = R.trend(needs_frame)
    check(res, ["requests.trend_rr_per_year", "requests.trend_dispersion"])
    draw(res)


def test_its_contract_and_variant_keys(needs_frame, check, draw):
    res = I.interrupted_time_series(needs_frame)
    check(res, ITS_KEYS + [f"requests.counterfactual_oe.fy{y}" for y in range(2020, 2024)])
    draw(res)
    excl = I.interrupted_time_series(needs_frame, exclude_fiscal_years=[2017])
    check(excl, [k + ".excl_fy2017" if ".nb" not in k else k.replace(".nb", ".nb.excl_fy2017")
                 for k in ITS_KEYS])
    draw(excl)
    later = I.interrupted_time_series(needs_frame, break_year=2021)
    # keys do not change with the parameters: another start is still the main model's keys
    check(later, ["requests.its_level_rr", "requests.its_slope_rr"])
    marked = I.interrupted_time_series(needs_frame, break_year=2021, later_break=True)
    check(marked, ["requests.its_level_rr.later_break", "requests.its_slope_rr.later_break"])
    assert not excl.table().set_index("fiscal_year").loc[2017, "used_in_fit"]


def test_exposure_model_contract(needs_frame, measures_frame, check, draw):
    res = I.exposure_model(needs_frame, measures_frame)
    check(res, ["requests.exposure_rr_per_30_days", "requests.exposure_trend_rr_per_year",
                "requests.exposure_step_rr", "requests.exposure_dispersion"])
    draw(res)


def test_exposure_model_without_variation(measures_frame):
    import pandas as pd

    before = pd.DataFrame({"fiscal_year": range(2013, 2020), "requests": [9, 8, 9, 7, 8, 6, 7]})
    with pytest.raises(BreakYearError):  # no year in the COVID period: no step to fit beside
        I.exposure_model(before, measures_frame)
    frame = pd.DataFrame({"fiscal_year": range(2017, 2024), "requests": [9, 8, 9, 7, 8, 6, 7]})
    with pytest.raises(TooFewYearsError, match="at least 5"):
        I.exposure_model(frame.head(4), measures_frame)
    with pytest.raises(NotEstimableError, match="0 in every fiscal year"):
        I.exposure_model(frame, exposure=pd.DataFrame({"fiscal_year": [2020],
                                                       "days_under_measures": [0]}))
    # the same days in every year of the period: the days are the step, and the model says so
    with pytest.raises(NotEstimableError, match="cannot be told from the period"):
        I.exposure_model(frame, exposure=pd.DataFrame({"fiscal_year": range(2020, 2024),
                                                       "days_under_measures": [100] * 4}))


def test_exposure_days_are_whole_counts_one_row_a_year(needs_frame):
    import pandas as pd

    days = pd.DataFrame({"fiscal_year": [2020, 2021], "days_under_measures": [100, -1]})
    with pytest.raises(InvalidFrameError, match="'days_under_measures' must hold non-negative"):
        I.exposure_model(needs_frame, exposure=days)
    with pytest.raises(InvalidFrameError, match=r"fiscal year\(s\) \[2020\] appear more than once"):
        I.exposure_model(needs_frame, exposure=days.assign(fiscal_year=2020,
                                                           days_under_measures=100))


def test_sensitivity_contract_and_required_keys(needs_frame, measures_frame, check, draw):
    res = V.sensitivity(needs_frame, measures_frame)
    check(res, ["requests.its_level_rr.excl_fy2017", "requests.its_slope_rr.excl_fy2017",
                "requests.its_level_rr.later_break", "requests.its_slope_rr.later_break",
                "requests.exposure_rr_per_30_days"])
    assert "requests.its_level_rr" not in set(res.records()["key"])  # owned by the ITS result
    draw(res)


def test_sensitivity_keeps_variants_that_cannot_be_estimated(needs_frame, measures_frame):
    cut = needs_frame[needs_frame["fiscal_year"] <= 2021]
    res = V.sensitivity(cut, measures_frame)
    rec = res.records().set_index("key")
    assert math.isnan(rec.loc["requests.its_level_rr.later_break", "value"])
    assert math.isnan(rec.loc["requests.its_level_rr.excl_fy2017", "value"])
    t = res.table()
    its_rows = t[t["variant"].isin(["excl_fy2017", "later_break"])]
    assert not its_rows["estimable"].any()
    assert its_rows["reason"].str.contains("fiscal year").all()
    assert any("Not estimable" in c for c in res.caveats)


def test_verdict_contract(needs_frame, measures_frame, check, draw):
    res = V.verdict(needs_frame, measures_frame)
    check(res, ["requests.its_level_mde_ratio", "requests.verdict_distinguishable"])
    draw(res)
    all_keys = set(res.all_records()["key"])
    for k in ["requests.mean_ratio_covid_vs_pre", "requests.trend_rr_per_year",
              "requests.its_level_rr", "requests.its_level_rr.excl_fy2017", "requests.its_slope_rr"]:
        assert k in all_keys
    assert res.all_records()["key"].is_unique
    assert res.estimate("requests.verdict_distinguishable").value in (0.0, 1.0)
    en = res.text("en")
    # what happened, in words, then the verdict
    assert en.startswith("During the COVID period the wards received about")
    assert en.split(". ", 1)[1].startswith("Verdict:") and "Data that might tell them apart" in en
    assert "report 04" in en  # the design study says how likely monthly counts are to settle it
    assert res.text("ja").split("。", 1)[1].startswith("判定")


def test_verdict_distinguishes_a_step_that_is_really_there(measures_frame):
    """Built so that a COVID drop is unmistakable: a flat series that halves at FY2020 with
    small noise. The verdict must then say the data distinguish it (the rule can say yes)."""
    import pandas as pd

    years = list(range(2012, 2024))
    base = [1000, 1010, 990, 1005, 995, 1000, 1008, 992]
    after = [500, 505, 495, 502]
    frame = pd.DataFrame({"fiscal_year": years, "requests": base + after})
    res = V.verdict(frame, measures_frame, exposure=pd.DataFrame(
        {"fiscal_year": years, "days_under_measures": [0] * 8 + [300, 300, 300, 300]}))
    lv = res.its.estimate("requests.its_level_rr")
    assert lv.ci_high < 1
    # days equal in every year of the period cannot be told from the step: not estimable, and
    # not needed for the verdict (it asks for a dose-response beyond the step)
    exposure = res.sensitivity_result.estimate("requests.exposure_rr_per_30_days")
    assert math.isnan(exposure.value)
    assert res.distinguishable
    assert "as many requests a year as before it" in res.text("en").split(". Verdict: the data distinguish")[0]


@pytest.mark.parametrize("cut", range(2017, 2024))
def test_every_fiscal_year_cut_off_either_works_or_says_why(cut, needs_frame, measures_frame):
    frame = needs_frame[needs_frame["fiscal_year"] <= cut]
    for func in (V.period_comparison, R.trend, I.interrupted_time_series):
        try:
            res = func(frame)
        except (TooFewYearsError, BreakYearError) as exc:
            assert f"FY{cut}" in str(exc) or str(cut) in str(exc)
        else:
            assert res.n_obs == len(frame)
    try:
        V.verdict(frame, measures_frame)
    except ModelInputError as exc:
        assert isinstance(exc, (TooFewYearsError, BreakYearError))
