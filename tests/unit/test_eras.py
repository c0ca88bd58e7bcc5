"""Japanese eras and fiscal years: worked examples from the documents and property-based round trips."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wardanalysis.eras import (
    EraLabelError,
    era_label,
    fiscal_year,
    fiscal_year_bounds,
    fiscal_year_of,
    fiscal_years,
    latest_fiscal_year,
    parse_japanese_date,
)

# Property tests check results, never time: no deadline (hypothesis's default of 200 ms per
# example fails on a loaded machine, as a timing assertion would).
settings.register_profile("wardanalysis", deadline=None)
settings.load_profile("wardanalysis")

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize(
    ("label", "fy"),
    [
        ("H29", 2017), ("H30", 2018), ("R元", 2019), ("H31", 2019), ("R1", 2019), ("R2", 2020),
        ("R5", 2023), ("R6", 2024), ("H25", 2013), ("平成29年度", 2017), ("令和元年度", 2019),
        ("平成31年度", 2019), ("令和5年度", 2023), ("令和6年（2024年）", 2024), ("Ｒ５", 2023),
        ("Ｈ２９", 2017), ("R5年度", 2023), ("FY2023", 2023), ("2023年度", 2023), ("2023", 2023),
        ("  R3 ", 2021), ("r3", 2021), (2022, 2022),
    ],
)
def test_documented_labels(label, fy):
    assert fiscal_year(label) == fy


@pytest.mark.parametrize(
    ("label", "years"),
    [
        ("H26~H30", [2014, 2015, 2016, 2017, 2018]),
        ("R元~R3", [2019, 2020, 2021]),
        ("R4~R6", [2022, 2023, 2024]),
        ("H26～H30", [2014, 2015, 2016, 2017, 2018]),
        ("H26〜30", [2014, 2015, 2016, 2017, 2018]),
        ("H30~R2", [2018, 2019, 2020]),
        ("H25", [2013]),
    ],
)
def test_ranges_expand_to_each_year(label, years):
    assert fiscal_years(label) == years


@pytest.mark.parametrize(
    ("label", "reason"),
    [
        ("H32", "outside the era"),
        ("R0", "era years start at 1"),
        ("X5", "unknown era 'X'"),
        ("S64年度", "outside the era"),
        ("R3~R元", "reversed range"),
        ("令和6年（2023年）", "not the 2023 given in parentheses"),
        ("", "empty label"),
        ("H2x", "not a fiscal-year label"),
        ("R1~R2~R3", "exactly two ends"),
    ],
)
def test_labels_that_do_not_exist_raise_quoting_the_label(label, reason):
    fn = fiscal_years if "~" in label else fiscal_year
    with pytest.raises(EraLabelError) as info:
        fn(label)
    assert repr(label) in str(info.value)
    assert reason in str(info.value)


def test_a_range_is_not_one_fiscal_year():
    with pytest.raises(EraLabelError, match="use fiscal_years"):
        fiscal_year("H26~H30")


def test_era_label_styles():
    assert era_label(2019) == "R元"
    assert era_label(2019, long=True) == "令和元年度"
    assert era_label(2017, long=True) == "平成29年度"
    assert era_label(1988) == "S63"
    with pytest.raises(EraLabelError, match="before the Meiji era"):
        era_label(1867)


@pytest.mark.parametrize(
    ("date", "fy"),
    [
        (dt.date(2020, 3, 31), 2019), (dt.date(2020, 4, 1), 2020),
        (dt.datetime(2023, 1, 1, 12), 2022), (parse_japanese_date("R6.3"), 2023),
    ],
)
def test_fiscal_year_of_a_date(date, fy):
    assert fiscal_year_of(date) == fy


def test_japanese_dates():
    assert parse_japanese_date("令和6年（2024年）6月26日") == dt.date(2024, 6, 26)
    assert parse_japanese_date("平成24年(2012年)4月") == dt.date(2012, 4, 1)
    assert parse_japanese_date("R6.3") == dt.date(2024, 3, 1)
    with pytest.raises(EraLabelError, match="outside the 平成 era"):
        parse_japanese_date("平成31年5月1日")
    with pytest.raises(EraLabelError):
        parse_japanese_date("令和6年2月30日")


LATEST = latest_fiscal_year()  # the current era's labels stop at next fiscal year
years = st.integers(min_value=1868, max_value=LATEST)
modern = st.integers(min_value=1989, max_value=LATEST)


@given(years, st.booleans())
def test_round_trip_every_style(fy, long):
    assert fiscal_year(era_label(fy, long=long)) == fy


@given(modern, st.booleans())
def test_round_trip_full_width(fy, long):
    assert fiscal_year(era_label(fy, long=long).translate(FULL_WIDTH)) == fy


@given(modern, st.integers(min_value=0, max_value=12))
def test_range_round_trip(start, length):
    end = min(start + length, LATEST)
    length = end - start
    label = f"{era_label(start)}~{era_label(end)}"
    assert fiscal_years(label) == list(range(start, end + 1))
    if length:
        with pytest.raises(EraLabelError, match="reversed range"):
            fiscal_years(f"{era_label(end)}~{era_label(start)}")


@given(st.dates(min_value=dt.date(1869, 4, 1), max_value=dt.date(2150, 12, 31)))
def test_a_date_lies_inside_its_fiscal_year(d):
    start, end = fiscal_year_bounds(fiscal_year_of(d))
    assert start <= d <= end
    assert (end - start).days in (364, 365)


@given(st.sampled_from(["H", "R"]), st.integers(min_value=1, max_value=200))
def test_short_labels_exist_iff_the_era_touches_the_fiscal_year(letter, n):
    label = f"{letter}{n}"
    fy = (1988 if letter == "H" else 2018) + n
    start, end = fiscal_year_bounds(fy)
    era_start = dt.date(1989, 1, 8) if letter == "H" else dt.date(2019, 5, 1)
    era_end = dt.date(2019, 4, 30) if letter == "H" else dt.date(LATEST, 12, 31)
    exists = era_start <= end and era_end >= start
    if exists:
        assert fiscal_year(label) == fy
    else:
        with pytest.raises(EraLabelError):
            fiscal_year(label)


@pytest.mark.parametrize("label", ["R90", "R600", "R8000", "R7~R9999", "令和99年度", "H99"])
def test_era_years_beyond_the_era_are_named(label):
    with pytest.raises(EraLabelError, match=re.escape(repr(label))):
        fiscal_years(label)


@pytest.mark.parametrize("fy,ja,en", [(2023, "令和5年度（2023年度）", "FY2023"),
                                      (2019, "令和元年度（2019年度）", "FY2019"),
                                      (2018, "平成30年度（2018年度）", "FY2018")])
def test_a_fiscal_year_is_named_as_each_language_writes_it(fy, ja, en):
    """Japanese as a council document writes it; English without an era label."""
    from wardanalysis.eras import fiscal_year_name

    assert fiscal_year_name(fy, "ja") == fiscal_year_name(fy, "ja", long=True) == ja
    assert fiscal_year_name(fy, "en") == en
    assert fiscal_year_name(fy, "en", long=True) == f"Fiscal year {fy}"
    with pytest.raises(ValueError, match="unknown language"):
        fiscal_year_name(fy, "fr")
