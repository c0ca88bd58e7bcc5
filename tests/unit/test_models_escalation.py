"""Section 3: the escalation funnel and settlement levels."""

from __future__ import annotations

import math

import pytest

from wardanalysis.errors import (
    BreakYearError,
    InvalidFrameError,
    MissingColumnError,
    TooFewYearsError,
    ZeroDenominatorError,
)
from wardanalysis.models.escalation import escalation_patterns

KEYS = ["escalation.priority_rate_trend_or_per_year", "escalation.priority_rate_dispersion",
        "escalation.priority_rate_or_covid_vs_pre",
        "escalation.priority_rate_or_covid_vs_pre.excl_fy2017", "escalation.first_level_share",
        "escalation.decided_share"]


def test_contract_and_both_plots(needs_frame, check, draw):
    res = escalation_patterns(needs_frame)
    check(res, KEYS)
    draw(res, kind="funnel")
    draw(res, kind="levels")
    with pytest.raises(ValueError, match="kind"):
        res.plot(kind="pie")


def test_levels_add_up_to_priority_issues(needs_frame):
    t = escalation_patterns(needs_frame).table()
    year = t[t["scope"] == "year"]
    levels = year[year["measure"].str.startswith("settled_")].groupby("fiscal_year")["count"].sum()
    assert levels.tolist() == needs_frame["priority_issues"].tolist()


@pytest.mark.parametrize("column", ["priority_issues", "section_chief_consultations",
                                    "coordination_meetings", "decided_to_act"])
def test_missing_column(needs_frame, column):
    with pytest.raises(MissingColumnError, match=repr(column)):
        escalation_patterns(needs_frame.drop(columns=column))


def test_too_few_years(needs_frame):
    with pytest.raises(TooFewYearsError):
        escalation_patterns(needs_frame.tail(2))


def test_break_year_outside(needs_frame):
    with pytest.raises(BreakYearError, match="2025"):
        escalation_patterns(needs_frame, break_year=2025)


def test_zero_requests(needs_frame):
    bad = needs_frame.copy()
    bad.loc[0, ["requests", "requests_handled", "priority_issues", "decided_to_act",
                "staff_consultations", "section_chief_consultations", "coordination_meetings"]] = 0
    with pytest.raises(ZeroDenominatorError, match="'requests'.*2017"):
        escalation_patterns(bad)


def test_no_priority_issue_at_all(needs_frame):
    bad = needs_frame.copy()
    for c in ["priority_issues", "decided_to_act", "staff_consultations",
              "section_chief_consultations", "coordination_meetings"]:
        bad[c] = 0
    with pytest.raises(ZeroDenominatorError, match="priority_issues"):
        escalation_patterns(bad)


def test_a_year_without_priority_issues_gives_nan_and_a_caveat(needs_frame, draw):
    frame = needs_frame.copy()
    for c in ["priority_issues", "decided_to_act", "staff_consultations",
              "section_chief_consultations", "coordination_meetings"]:
        frame.loc[6, c] = 0
    res = escalation_patterns(frame)
    t = res.table()
    row = t[(t["fiscal_year"] == 2023) & (t["measure"] == "decided_share")].iloc[0]
    assert math.isnan(row["share"])
    assert any("FY2023" in c for c in res.caveats)
    draw(res, kind="funnel")  # a zero cannot sit on the log axis: left out, still labelled
    draw(res, kind="levels")


def test_broken_funnel(needs_frame):
    bad = needs_frame.copy()
    bad.loc[2, "decided_to_act"] = bad.loc[2, "priority_issues"] + 1
    with pytest.raises(InvalidFrameError, match="row 2, column 'decided_to_act'.*decided_to_act <= priority_issues"):
        escalation_patterns(bad)
    bad = needs_frame.copy()
    bad.loc[2, "staff_consultations"] = bad.loc[2, "priority_issues"] + 1
    with pytest.raises(InvalidFrameError, match="row 2, column 'staff_consultations'.*staff_consultations == priority_issues"):
        escalation_patterns(bad)


def test_callers_frame_unchanged(needs_frame, unchanged):
    snap = unchanged(needs_frame)
    escalation_patterns(needs_frame)
    snap()


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_pooled_interval_spanning_most_of_the_scale_is_said_plainly(lang):
    """Say what the data cannot tell: the widest pooled interval, with its counts, in a caveat."""
    from wardanalysis.models.escalation import WIDE_INTERVAL, escalation_patterns
    from wardanalysis.text.formats import fmt_pct

    r = escalation_patterns()
    t = r.table()
    pooled = t[t["scope"] != "year"]
    widest = pooled.loc[(pooled["ci_high"] - pooled["ci_low"]).idxmax()]
    said = [c for c in r.caveat_list(lang) if f"{widest['count']}/{widest['denominator']}" in c
            or f"{widest['count']} of {widest['denominator']}" in c]
    if widest["ci_high"] - widest["ci_low"] > WIDE_INTERVAL:
        assert len(said) == 1
        assert fmt_pct(widest["ci_high"]) in said[0]
    else:
        assert said == []
