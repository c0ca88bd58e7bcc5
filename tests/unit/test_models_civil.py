"""Section 4: civil-engineering requests."""

from __future__ import annotations

import pytest

from wardanalysis.errors import (
    InvalidFrameError,
    MissingColumnError,
    MissingDataError,
    TooFewYearsError,
    ZeroDenominatorError,
)
from wardanalysis.models.civil import civil_requests

KEYS = [f"civil.{c}_rr_fy2022_vs_fy2021" for c in ("road", "park", "river", "total")]


def test_contract(civil_frame, check, draw):
    res = civil_requests(civil_frame)
    check(res, KEYS)
    draw(res)
    total = res.estimate("civil.total_rr_fy2022_vs_fy2021")
    assert total.value == pytest.approx((560 + 280 + 99) / (500 + 300 + 90))


def test_missing_column(civil_frame):
    with pytest.raises(MissingColumnError, match="'category'"):
        civil_requests(civil_frame.drop(columns="category"))


def test_a_year_missing_after_a_cut_off(civil_frame):
    with pytest.raises(TooFewYearsError, match="FY2022"):
        civil_requests(civil_frame[civil_frame["fiscal_year"] <= 2021])


def test_category_in_one_year_only(civil_frame):
    with pytest.raises(MissingDataError, match="categories differ"):
        civil_requests(civil_frame.drop(index=5))


def test_duplicate_rows(civil_frame):
    import pandas as pd

    with pytest.raises(InvalidFrameError, match=r"duplicate key \(fiscal_year=2021, category=road\)"):
        civil_requests(pd.concat([civil_frame, civil_frame.head(1)]))


def test_zero_in_both_years(civil_frame):
    bad = civil_frame.copy()
    bad.loc[bad["category"] == "river", "requests"] = 0
    with pytest.raises(ZeroDenominatorError):
        civil_requests(bad)


def test_callers_frame_unchanged(civil_frame, unchanged):
    snap = unchanged(civil_frame)
    civil_requests(civil_frame)
    snap()
