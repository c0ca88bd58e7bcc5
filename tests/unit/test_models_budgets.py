"""Section 5: budgets, cross-city comparison, adoption, cost per funded issue."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from wardanalysis.models import budgets as B
from wardanalysis.models.errors import (
    InvalidCountError,
    MissingColumnError,
    MissingDataError,
    ZeroDenominatorError,
)


def test_kumamoto_budget_contract(budget_frame, population_frame, check, draw):
    res = B.kumamoto_budget(budget_frame, population_frame)
    check(res, ["budget.kumamoto_yen_per_capita", "budget.kumamoto_total_thousand_yen",
                "budget.kumamoto_per_ward_thousand_yen",
                *[f"budget.kumamoto_yen_per_capita.fy{y}" for y in range(2019, 2023)]])
    draw(res)
    t = res.table().set_index("fiscal_year")
    assert t.loc[2022, "step_thousand_yen"] == -50000
    # nearest to 2019-10-01: 2022-12-01 (3.2 years) rather than 2015-10-01 (4.0 years)
    assert t.loc[2019, "population_as_of"] == pd.Timestamp("2022-12-01")
    assert t.loc[2022, "population_as_of"] == pd.Timestamp("2022-12-01")
    assert bool(t.loc[2019, "population_date_mismatch"])
    assert not bool(t.loc[2022, "population_date_mismatch"])
    assert "equal split" in res.caveats[0]


def test_kumamoto_budget_errors(budget_frame, population_frame):
    with pytest.raises(MissingColumnError, match="'wards'"):
        B.kumamoto_budget(budget_frame.drop(columns="wards"), population_frame)
    with pytest.raises(MissingColumnError, match="'as_of_date'"):
        B.kumamoto_budget(budget_frame, population_frame.drop(columns="as_of_date"))
    zero = budget_frame.assign(wards=0)
    with pytest.raises(ZeroDenominatorError, match="'wards'"):
        B.kumamoto_budget(zero, population_frame)
    with pytest.raises(MissingDataError, match="熊本市"):
        B.kumamoto_budget(budget_frame, population_frame[population_frame["city_ja"] != "熊本市"])
    with pytest.raises(MissingDataError, match="no fiscal year"):
        B.kumamoto_budget(budget_frame.head(0), population_frame)
    bad = budget_frame.copy()
    bad.loc[0, "reconstruction_thousand_yen"] = 999999
    with pytest.raises(InvalidCountError, match="reconstruction"):
        B.kumamoto_budget(bad, population_frame)


def test_kumamoto_budget_after_a_cut_off(budget_frame, population_frame):
    res = B.kumamoto_budget(budget_frame.head(1), population_frame)
    assert res.estimate("budget.kumamoto_yen_per_capita").value == pytest.approx(150000e3 / 740000)


def test_cross_city_contract(ward_budgets_frame, population_frame, budget_frame,
                             hamamatsu_budget_frame, check, draw):
    res = B.cross_city_budgets(ward_budgets_frame, population_frame, budget_frame,
                               hamamatsu_budget_frame)
    check(res, ["budget.yen_per_capita.kumamoto.all_wards.fy2022",
                "budget.yen_per_capita.hamamatsu.all_wards.fy2023",
                "budget.yen_per_capita.kawasaki.miyamae_ward.fy2025"])
    draw(res)
    t = res.table().set_index("area_ja")
    assert t.loc["川崎区", "exclusion_reason"] == "line_item"
    assert t.loc["1区当たり平均", "exclusion_reason"] in ("no_population", "wards_not_given")
    miyamae = t.loc["宮前区"]
    assert miyamae["non_official"] and miyamae["population_date_mismatch"]
    assert miyamae["population_gap_years"] < -14  # 2010 census for a FY2025 budget


def test_cross_city_plot_marks_non_official_and_mismatched(ward_budgets_frame, population_frame,
                                                           budget_frame, hamamatsu_budget_frame):
    import matplotlib.pyplot as plt

    res = B.cross_city_budgets(ward_budgets_frame, population_frame, budget_frame,
                               hamamatsu_budget_frame)
    fig, ax = res.plot(lang="en")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert any("[B]" in s and "†" in s for s in labels)  # Kawasaki: blog population, 2010
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("(B)" in s for s in legend) and any("†" in s for s in legend)
    plt.close(fig)


def test_cross_city_errors(ward_budgets_frame, population_frame, budget_frame,
                           hamamatsu_budget_frame):
    with pytest.raises(MissingColumnError, match="'is_discretionary_total'"):
        B.cross_city_budgets(ward_budgets_frame.drop(columns="is_discretionary_total"),
                             population_frame, budget_frame, hamamatsu_budget_frame)
    with pytest.raises(MissingDataError, match="FY2030"):
        B.cross_city_budgets(ward_budgets_frame, population_frame, budget_frame,
                             hamamatsu_budget_frame, kumamoto_fiscal_year=2030)


def test_adoption_contract(needs_frame, proposals_frame, check, draw):
    res = B.adoption(needs_frame, proposals_frame)
    check(res, ["adoption.kumamoto_share", "adoption.hamamatsu_share", "adoption.difference"])
    draw(res)
    assert "not the same thing" in res.caveats[0]
    assert res.estimate("adoption.hamamatsu_share").value == pytest.approx(40 / 60)


def test_adoption_errors(needs_frame, proposals_frame):
    with pytest.raises(MissingColumnError, match="'decided_to_act'"):
        B.adoption(needs_frame.drop(columns="decided_to_act"), proposals_frame)
    zero = needs_frame.assign(priority_issues=0, decided_to_act=0)
    with pytest.raises(ZeroDenominatorError, match="priority_issues"):
        B.adoption(zero, proposals_frame)
    no_total = proposals_frame[proposals_frame["category"] != "total"]
    with pytest.raises(MissingDataError, match="total"):
        B.adoption(needs_frame, no_total)
    none = proposals_frame.copy()
    none["proposals"] = pd.array([0, None], "Int64")
    with pytest.raises(ZeroDenominatorError, match="proposals"):
        B.adoption(needs_frame, none)


def test_cost_per_issue_contract(outcome_frame, projects_frame, check, draw):
    res = B.cost_per_funded_issue(outcome_frame, projects_frame)
    check(res, ["budget.yen_per_funded_issue"])
    draw(res)
    e = res.estimate("budget.yen_per_funded_issue")
    assert math.isnan(e.ci_low) and math.isnan(e.ci_high)  # a rounding range is not a CI
    assert "approximate" in res.caveats[0]


def test_cost_per_issue_errors(outcome_frame, projects_frame):
    with pytest.raises(ZeroDenominatorError, match="priority_issues_funded"):
        B.cost_per_funded_issue(outcome_frame.assign(priority_issues_funded=0), projects_frame)
    with pytest.raises(MissingColumnError, match="'funded_amount_yen'"):
        B.cost_per_funded_issue(outcome_frame.drop(columns="funded_amount_yen"), projects_frame)
    with pytest.raises(MissingDataError):
        B.cost_per_funded_issue(outcome_frame.head(0), projects_frame)


@pytest.mark.parametrize(("amount", "unit"), [(1_300_000_000, 1e8), (96_458_000, 1e3),
                                              (20_000_000, 1e7), (1_865_0000, 1e4)])
def test_rounding_bounds(amount, unit):
    u, lo, hi = B.rounding_bounds(amount)
    assert u == unit and lo == amount - unit / 2 and hi == amount + unit / 2


def test_callers_frames_unchanged(budget_frame, population_frame, ward_budgets_frame,
                                  hamamatsu_budget_frame, needs_frame, proposals_frame,
                                  outcome_frame, projects_frame, unchanged):
    frames = [budget_frame, population_frame, ward_budgets_frame, hamamatsu_budget_frame,
              needs_frame, proposals_frame, outcome_frame, projects_frame]
    snaps = [unchanged(f) for f in frames]
    B.kumamoto_budget(budget_frame, population_frame)
    B.cross_city_budgets(ward_budgets_frame, population_frame, budget_frame, hamamatsu_budget_frame)
    B.adoption(needs_frame, proposals_frame)
    B.cost_per_funded_issue(outcome_frame, projects_frame)
    for s in snaps:
        s()
