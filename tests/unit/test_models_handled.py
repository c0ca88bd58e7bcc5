"""Section 2: the handled share."""

from __future__ import annotations

import pytest

from wardanalysis.errors import (
    InvalidFrameError,
    MissingColumnError,
    TooFewYearsError,
    ZeroDenominatorError,
)
from wardanalysis.models.handled import handled_share


def test_contract(needs_frame, check, draw):
    res = handled_share(needs_frame)
    check(res, ["handled.trend_or_per_year", "handled.dispersion", "handled.pooled_share",
                *[f"handled.share.fy{y}" for y in range(2017, 2024)]])
    draw(res)
    # a frame without provenance: the as-of date of its handled counts is unknown, and said so
    assert "unknown" in res.caveats[0] and "不明" in res.caveat_list("ja")[0]
    # the shipped rows were counted for the review of 2024-06-26: later years had less time
    shipped = handled_share()
    assert "2024-06-26" in shipped.caveats[0] and "2024年6月26日" in shipped.caveat_list("ja")[0]


def test_missing_column(needs_frame):
    with pytest.raises(MissingColumnError, match="'requests_handled'"):
        handled_share(needs_frame.drop(columns="requests_handled"))


def test_too_few_years(needs_frame):
    with pytest.raises(TooFewYearsError, match="FY2017, FY2018"):
        handled_share(needs_frame.head(2))


def test_zero_denominator(needs_frame):
    bad = needs_frame.copy()
    bad.loc[4, ["requests", "requests_handled"]] = 0
    with pytest.raises(ZeroDenominatorError, match="'requests'.*2021"):
        handled_share(bad)


def test_more_handled_than_received(needs_frame):
    bad = needs_frame.copy()
    bad.loc[1, "requests_handled"] = bad.loc[1, "requests"] + 1
    with pytest.raises(InvalidFrameError, match="row 1, column 'requests_handled'.*requests_handled <= requests"):
        handled_share(bad)


def test_callers_frame_unchanged(needs_frame, unchanged):
    snap = unchanged(needs_frame)
    handled_share(needs_frame)
    snap()


def test_cut_off_frames(needs_frame):
    assert handled_share(needs_frame.head(3)).n_obs == 3
