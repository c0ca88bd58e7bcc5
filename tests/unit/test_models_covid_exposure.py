"""Days under COVID measures per fiscal year."""

from __future__ import annotations

import pandas as pd
import pytest

from wardanalysis.errors import InvalidFrameError, MissingColumnError, MissingDataError
from wardanalysis.models.covid_exposure import covid_exposure_days, exposure_days


def _measures(rows):
    df = pd.DataFrame(rows, columns=["measure_id", "kind", "start_date", "end_date", "is_restriction"])
    df["start_date"] = pd.to_datetime(df["start_date"])
    df["end_date"] = pd.to_datetime(df["end_date"])
    return df


def test_inclusive_end_and_fiscal_year_split():
    m = _measures([("a", "priority_measures", "2021-03-30", "2021-04-02", True)])  # 2 days in FY2020, 2 in FY2021
    t = exposure_days(m, [2020, 2021]).set_index("fiscal_year")
    assert t.loc[2020, "days_under_measures"] == 2
    assert t.loc[2021, "days_under_measures"] == 2


def test_overlaps_are_counted_once_and_non_restrictions_are_left_out():
    m = _measures([
        ("a", "priority_measures", "2020-04-10", "2020-04-19", True),   # 10 days
        ("b", "priority_measures", "2020-04-15", "2020-04-24", True),   # overlaps 5, adds 5
        ("c", "priority_measures", "2020-04-25", "2020-04-25", True),   # touches: 1 more
        ("d", "reclassification", "2020-06-01", "2020-06-30", False),
    ])
    t = exposure_days(m, [2020])
    assert t["days_under_measures"].iloc[0] == 16
    assert t["measures"].iloc[0] == "a;b;c"


def test_open_ended_restriction_is_counted_to_the_last_year_and_flagged():
    m = _measures([("a", "priority_measures", "2022-03-01", None, True)])
    t = exposure_days(m, [2021, 2022]).set_index("fiscal_year")
    assert t.loc[2021, "days_under_measures"] == 31
    assert t.loc[2022, "days_under_measures"] == 365
    assert t["has_open_ended"].all()
    res = covid_exposure_days(m, [2021, 2022])
    assert any("no end date" in c for c in res.caveats)


def test_leap_year_fiscal_year():
    m = _measures([("a", "priority_measures", "2019-04-01", "2020-03-31", True)])
    t = exposure_days(m, [2019])
    assert t["days_under_measures"].iloc[0] == 366 == t["days_in_fiscal_year"].iloc[0]


def test_default_years_span_the_restrictions(measures_frame):
    t = exposure_days(measures_frame)
    assert t["fiscal_year"].tolist() == [2020, 2021]


def test_contract(measures_frame, check, draw):
    res = covid_exposure_days(measures_frame, [2019, 2020, 2021, 2022])
    check(res, [f"covid.days_under_measures.fy{y}" for y in (2019, 2020, 2021, 2022)])
    draw(res)
    assert any("non-official" in c for c in res.caveats)  # m1 is N, m3 is B


def test_errors(measures_frame):
    with pytest.raises(MissingColumnError, match="'is_restriction'"):
        exposure_days(measures_frame.drop(columns="is_restriction"), [2020])
    bad = measures_frame.copy()
    bad.loc[0, "end_date"] = pd.Timestamp("2020-01-01")
    with pytest.raises(InvalidFrameError, match=r"row 0, column 'start_date'.*start_date <= end_date"):
        exposure_days(bad, [2020])
    no_start = measures_frame.copy()
    no_start.loc[1, "start_date"] = pd.NaT
    with pytest.raises(InvalidFrameError, match=r"row 1, column 'start_date': missing value"):
        exposure_days(no_start, [2020])
    with pytest.raises(MissingDataError, match="fiscal_years"):
        exposure_days(measures_frame[~measures_frame["is_restriction"]])


def test_callers_frame_unchanged(measures_frame, unchanged):
    snap = unchanged(measures_frame)
    covid_exposure_days(measures_frame)
    exposure_days(measures_frame, [2020, 2021], areas=["熊本県"])
    snap()
