"""Section 5: budgets, cross-city comparison, adoption, cost per funded issue."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from wardanalysis.data.loading import load
from wardanalysis.errors import (
    InvalidFrameError,
    MissingColumnError,
    MissingDataError,
    ZeroDenominatorError,
)
from wardanalysis.models import adoption_rates as A
from wardanalysis.models import budget_rows as R
from wardanalysis.models import budgets as B
from wardanalysis.models import ward_budgets as W


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
    with pytest.raises(InvalidFrameError, match="column 'wards': '0' is below the minimum 1"):
        B.kumamoto_budget(zero, population_frame)
    with pytest.raises(InvalidFrameError, match="'population_persons': '0' is below the minimum 1"):
        B.kumamoto_budget(budget_frame, population_frame.assign(population_persons=0))
    with pytest.raises(MissingDataError, match="熊本市"):
        B.kumamoto_budget(budget_frame, population_frame[population_frame["city_ja"] != "熊本市"])
    with pytest.raises(MissingDataError, match="no fiscal year"):
        B.kumamoto_budget(budget_frame.head(0), population_frame)
    bad = budget_frame.copy()
    bad.loc[0, "reconstruction_thousand_yen"] = 999999
    with pytest.raises(InvalidFrameError, match="reconstruction_thousand_yen <= budget_thousand_yen"):
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
                "budget.yen_per_capita.kawasaki.miyamae_ward.fy2025",
                "budget.per_ward_thousand_yen.kumamoto.all_wards.fy2022",
                "budget.class_a.others_per_ward_thousand_yen_min"])
    draw(res)
    t = res.table().set_index("area_ja")
    # only class (a) is compared: the item (b) and the blog's average (c) are listed, not used
    assert t.loc["川崎区", "exclusion_reason"] == "not_class_a"
    assert t.loc["1区当たり平均", "exclusion_reason"] == "not_class_a"
    assert not t.loc["1区当たり平均", "included"]
    assert set(t["comparability"]) == {"class_a", "class_b", "class_c"}
    miyamae = t.loc["宮前区"]
    assert miyamae["non_official"] and miyamae["population_date_mismatch"]
    assert miyamae["population_gap_years"] < -14  # 2010 census for a FY2025 budget
    assert not miyamae["population_within_limit"]  # shown, but out of the per-resident range
    assert "budget.class_a.others_yen_per_capita_min" in res.keys()  # Hamamatsu is within two years
    assert res.estimate("budget.class_a.others_yen_per_capita_max").value == pytest.approx(
        96458e3 / 790000)


def test_cross_city_plot_draws_class_a_only_and_marks_the_gap(ward_budgets_frame, population_frame,
                                                              budget_frame, hamamatsu_budget_frame):
    import matplotlib.pyplot as plt

    res = B.cross_city_budgets(ward_budgets_frame, population_frame, budget_frame,
                               hamamatsu_budget_frame)
    for lang in ("ja", "en"):
        fig, ax = res.plot(lang=lang)
        fig.canvas.draw()
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert len(labels) == 3 and not any("大阪" in s or "Osaka" in s for s in labels)
        notes = " ".join(t.get_text() for t in ax.texts)
        assert ("15" in notes) and ("ずれ" in notes if lang == "ja" else "yrs off" in notes)
        plt.close(fig)


def test_cross_city_ranks_only_official_rows_and_never_per_resident(population_frame, budget_frame,
                                                                    hamamatsu_budget_frame):
    wb = pd.DataFrame({
        "city_ja": ["名古屋市", "横浜市", "横浜市"], "city_en": ["Nagoya", "Yokohama", "Yokohama"],
        "area_ja": ["各区（一律）", "西区", "港北区"], "programme_ja": ["p", "q", "r"],
        "fiscal_year": [2009, 2021, 2020], "amount_thousand_yen": [10000.0, 99090.0, 118887.0],
        "is_approximate": [False] * 3, "scope": ["per_ward_average", "ward", "ward"],
        "wards_covered": pd.array([16, 1, 1], "Int64"), "is_discretionary_total": [True] * 3,
        "quality": ["O", "O", "N"], "comparability_class": ["a", "a", "a"],
    })
    res = B.cross_city_budgets(wb, population_frame, budget_frame, hamamatsu_budget_frame)
    text = res.text("en")
    # Kumamoto FY2022: 100,000 / 5 = 20,000 per ward; official others: Nagoya below, 西区 above
    assert "Of the 2 per-ward figures of class (a) from official sources" in text
    assert "1 are above Kumamoto's and 1 below it" in text
    assert "No ranking per resident" in text
    assert res.estimate("budget.class_a.others_per_ward_thousand_yen_max").value == 118887.0


def test_cross_city_errors(ward_budgets_frame, population_frame, budget_frame,
                           hamamatsu_budget_frame):
    with pytest.raises(MissingColumnError, match="'comparability_class'"):
        B.cross_city_budgets(ward_budgets_frame.drop(columns="comparability_class"),
                             population_frame, budget_frame, hamamatsu_budget_frame)
    with pytest.raises(InvalidFrameError, match="row 1, column 'comparability_class': 'x' is not one of a, b, c, d"):
        B.cross_city_budgets(ward_budgets_frame.assign(comparability_class=["a", "x", "c"]),
                             population_frame, budget_frame, hamamatsu_budget_frame)
    with pytest.raises(MissingDataError, match="FY2030"):
        B.cross_city_budgets(ward_budgets_frame, population_frame, budget_frame,
                             hamamatsu_budget_frame, kumamoto_fiscal_year=2030)


def _kumamoto_sets() -> pd.DataFrame:
    wards = ["中央区", "東区", "西区", "南区", "北区", "市全体"]
    rows = []
    for date, vals, inferred, url in (
            ("2022-12-01", [186818, 190228, 90405, 131910, 138528, 737889], False, "n"),
            ("2021-01-01", [176568, 190779, 90724, 132433, 142198, 732702], True, "p")):
        for w, v in zip(wards, vals, strict=True):
            rows.append({"city_ja": "熊本市", "city_en": "Kumamoto", "area_ja": w, "area_en": w,
                         "population_persons": v, "as_of_date": pd.Timestamp(date),
                         "date_precision": "day" if not inferred else "year", "basis": "estimate",
                         "quality": "N" if not inferred else "B", "source_url": url,
                         "set_names_inferred": inferred})
    return pd.DataFrame(rows)


def test_the_inferred_set_is_never_matched_by_default():
    pop = _kumamoto_sets()
    # FY2020: the 2021-01-01 figure is nearer to 2020-10-01, but its set has inferred names
    m = R.match_population(pop, "熊本市", "市全体", 2020)
    assert m["population_persons"] == 737889
    m = R.match_population(pop, "熊本市", "市全体", 2020, include_inferred=True)
    assert m["population_persons"] == 732702


def test_ward_size_contract(budget_frame, hamamatsu_budget_frame, check, draw):
    pop = pd.concat([_kumamoto_sets(), pd.DataFrame({
        "city_ja": ["横浜市", "横浜市"], "city_en": ["Yokohama"] * 2, "area_ja": ["西区", "港北区"],
        "area_en": ["Nishi Ward", "Kohoku Ward"], "population_persons": [104917, 358678],
        "as_of_date": pd.to_datetime(["2020-10-01"] * 2), "date_precision": ["day"] * 2,
        "basis": ["census"] * 2, "quality": ["B"] * 2, "source_url": ["h"] * 2,
        "set_names_inferred": [False] * 2})], ignore_index=True)
    wb = pd.DataFrame({
        "city_ja": ["横浜市"] * 3, "city_en": ["Yokohama"] * 3, "area_ja": ["西区", "港北区", "港北区"],
        "programme_ja": ["p"] * 3, "fiscal_year": [2021, 2020, 2025],
        "amount_thousand_yen": [99090.0, 118887.0, 200000.0], "is_approximate": [False] * 3,
        "scope": ["ward"] * 3, "wards_covered": pd.array([1] * 3, "Int64"),
        "is_discretionary_total": [True] * 3, "quality": ["O"] * 3, "comparability_class": ["a"] * 3,
    })
    res = W.ward_size_budgets(wb, pop, budget_frame, hamamatsu_budget_frame)
    check(res, ["budget.size.yokohama.budget_ratio_max_min",
                "budget.size.kumamoto.yen_per_capita_min"])
    draw(res)
    # 港北区 FY2025 is five years from its 2020 census: not shown; FY2020 is
    assert sorted(res.table()["fiscal_year"]) == [2020, 2021]
    assert res.estimate("budget.size.yokohama.budget_ratio_max_min").value == pytest.approx(118887 / 99090)
    # both Kumamoto sets are drawn, the inferred one flagged; the estimates use 2022-12-01 only
    assert sorted(res.kumamoto["set_names_inferred"].unique()) == [False, True]
    assert res.estimate("budget.size.kumamoto.yen_per_capita_max").value == pytest.approx(20000e3 / 90405)


def test_over_time_splits_at_a_declared_break(budget_frame, population_frame, hamamatsu_budget_frame,
                                              check, draw):
    wb = pd.DataFrame({
        "city_ja": ["横浜市"] * 4, "city_en": ["Yokohama"] * 4, "area_ja": ["鶴見区"] * 4,
        "programme_ja": ["p"] * 4, "fiscal_year": [2017, 2018, 2019, 2025],
        "amount_thousand_yen": [110630.0, 111270.0, 108120.0, 109456.0], "is_approximate": [False] * 4,
        "scope": ["ward"] * 4, "wards_covered": pd.array([1] * 4, "Int64"),
        "is_discretionary_total": [True] * 4, "quality": ["N"] * 4, "comparability_class": ["a"] * 4,
        "series_break_before": [False, False, True, False],
    })
    res = W.budgets_over_time(wb, population_frame, budget_frame, hamamatsu_budget_frame)
    check(res, ["budget.series.yokohama.tsurumi_ward.fy2017_fy2018.ratio",
                "budget.series.yokohama.tsurumi_ward.fy2019_fy2025.ratio",
                "budget.series.kumamoto.all_wards.fy2019_fy2022.ratio"])
    draw(res)
    assert not any("fy2018_fy2019" in k or "fy2017_fy2025" in k for k in res.keys())
    t = res.table()
    assert t.loc[t["area_ja"] == "鶴見区", "segment"].tolist() == [1, 1, 2, 2]
    # no line joins FY2018 to FY2019
    fig, ax = res.plot(lang="en")
    for line in ax.get_lines():
        xs = list(line.get_xdata())
        assert not (2018 in xs and 2019 in xs)
    # the caveat states the like-for-like change stored in ward_budget_changes, not typed by hand
    assert "about +¥17 million" in res.caveats[0]
    changes = load("ward_budget_changes")
    changes["change_thousand_yen"] = changes["change_thousand_yen"].where(
        ~changes["like_for_like"], 20000.0)
    res = W.budgets_over_time(wb, population_frame, budget_frame, hamamatsu_budget_frame, changes)
    assert "about +¥20 million" in res.caveats[0]
    assert "実質約20,000千円の増額" in res.caveat_list("ja")[0]


def test_adoption_contract(needs_frame, proposals_frame, check, draw):
    res = A.adoption(needs_frame, proposals_frame)
    check(res, ["adoption.kumamoto_share", "adoption.hamamatsu_share", "adoption.difference"])
    draw(res)
    assert "not the same thing" in res.caveats[0]
    assert res.estimate("adoption.hamamatsu_share").value == pytest.approx(40 / 60)


def test_adoption_errors(needs_frame, proposals_frame):
    with pytest.raises(MissingColumnError, match="'decided_to_act'"):
        A.adoption(needs_frame.drop(columns="decided_to_act"), proposals_frame)
    zero = needs_frame.assign(priority_issues=0, decided_to_act=0)
    with pytest.raises(ZeroDenominatorError, match="priority_issues"):
        A.adoption(zero, proposals_frame)
    no_total = proposals_frame[proposals_frame["category"] != "total"]
    with pytest.raises(MissingDataError, match="total"):
        A.adoption(needs_frame, no_total)
    none = proposals_frame.copy()
    none["proposals"] = pd.array([0, None], "Int64")
    with pytest.raises(InvalidFrameError, match="budgeted <= proposals"):
        A.adoption(needs_frame, none)


def test_cost_per_issue_contract(outcome_frame, projects_frame, check, draw):
    res = A.cost_per_funded_issue(outcome_frame, projects_frame)
    check(res, ["budget.yen_per_funded_issue"])
    draw(res)
    e = res.estimate("budget.yen_per_funded_issue")
    assert math.isnan(e.ci_low) and math.isnan(e.ci_high)  # a rounding range is not a CI
    assert "approximate" in res.caveats[0]


def test_cost_per_issue_errors(outcome_frame, projects_frame):
    with pytest.raises(ZeroDenominatorError, match="priority_issues_funded"):
        A.cost_per_funded_issue(outcome_frame.assign(priority_issues_funded=0), projects_frame)
    with pytest.raises(MissingColumnError, match="'funded_amount_yen'"):
        A.cost_per_funded_issue(outcome_frame.drop(columns="funded_amount_yen"), projects_frame)
    with pytest.raises(MissingDataError):
        A.cost_per_funded_issue(outcome_frame.head(0), projects_frame)


@pytest.mark.parametrize(("amount", "unit"), [(1_300_000_000, 1e8), (96_458_000, 1e3),
                                              (20_000_000, 1e7), (1_865_0000, 1e4)])
def test_rounding_bounds(amount, unit):
    u, lo, hi = A.rounding_bounds(amount)
    assert u == unit and lo == amount - unit / 2 and hi == amount + unit / 2


def test_callers_frames_unchanged(budget_frame, population_frame, ward_budgets_frame,
                                  hamamatsu_budget_frame, needs_frame, proposals_frame,
                                  outcome_frame, projects_frame, unchanged):
    frames = [budget_frame, population_frame, ward_budgets_frame, hamamatsu_budget_frame,
              needs_frame, proposals_frame, outcome_frame, projects_frame]
    snaps = [unchanged(f) for f in frames]
    B.kumamoto_budget(budget_frame, population_frame)
    B.cross_city_budgets(ward_budgets_frame, population_frame, budget_frame, hamamatsu_budget_frame)
    W.budgets_over_time(ward_budgets_frame, population_frame, budget_frame, hamamatsu_budget_frame)
    A.adoption(needs_frame, proposals_frame)
    A.cost_per_funded_issue(outcome_frame, projects_frame)
    for s in snaps:
        s()


def test_a_report_of_one_fiscal_year_never_divides_by_a_later_population():
    """The fiscal-year report uses the latest population dated no later than the end of the
    year (the nearest one may lie years ahead); only where there is none, a later one, said."""
    pop = pd.DataFrame({
        "city_ja": "熊本市", "area_ja": "市全体", "population_persons": [700_000, 740_000, 735_000],
        "as_of_date": pd.to_datetime(["2010-10-01", "2018-04-01", "2020-10-01"]),
        "basis": "census", "quality": ["B", "W", "O"]})
    nearest = R.match_population(pop, "熊本市", "市全体", 2019)
    assert nearest["population_as_of"] == pd.Timestamp("2020-10-01")  # nearest to the middle
    m = R.match_population(pop, "熊本市", "市全体", 2019, no_later_than_year_end=True)
    assert m["population_as_of"] == pd.Timestamp("2018-04-01") and not m["population_looks_ahead"]
    m = R.match_population(pop, "熊本市", "市全体", 2015, no_later_than_year_end=True)
    assert m["population_as_of"] == pd.Timestamp("2010-10-01")
    m = R.match_population(pop, "熊本市", "市全体", 2008, no_later_than_year_end=True)
    assert m["population_as_of"] == pd.Timestamp("2010-10-01") and m["population_looks_ahead"]
