"""models.fiscal_year_report: every fiscal year in the data, no look-ahead, clear errors."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import wardanalysis as wa
from wardanalysis.errors import MissingDataError, ModelInputError
from wardanalysis.models.fiscal_year import fiscal_year_report

YEARS = range(2013, 2025)


@pytest.mark.parametrize("fy", YEARS)
def test_every_fiscal_year_in_the_data_reports(fy):
    r = fiscal_year_report(fy)
    assert r.fiscal_year == fy
    keys = set(r.keys())
    assert "fy.budget_thousand_yen" in keys  # the budget covers FY2013–FY2024
    assert ("fy.requests" in keys) == (2017 <= fy <= 2023)
    assert ("fy.civil_total" in keys) == (fy in (2021, 2022))
    # the baseline (years before the COVID period) has three years in the shipped data: too few
    assert "fy.requests_expected_from_trend" not in keys
    if 2017 <= fy <= 2023:
        assert any("at least 4 fiscal years" in m for m in r.missing_list("en"))
        assert "No expected value from a trend" in r.text("en")
        assert "期待値を示さない" in r.text("ja")
    else:
        assert any("地域ニーズ反映の仕組み" in m for m in r.missing_list("en"))
    for lang in ("ja", "en"):
        assert str(fy) in r.text(lang)
    assert list(r.records().columns) == ["key", "value", "ci_low", "ci_high", "unit", "interval",
                                         "flags"]


@pytest.mark.parametrize("fy", [2013, 2017, 2020, 2022, 2024])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_plots_have_every_glyph(fy, lang):
    r = fiscal_year_report(fy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig, _ = r.plot(lang=lang)
        fig.canvas.draw()
    plt.close(fig)


@pytest.mark.parametrize("fy", range(2017, 2024))
def test_the_funnel_table_shows_each_share_with_its_records_interval(fy):
    """One figure, one interval: the funnel table and the summary (the records) agree."""
    r = fiscal_year_report(fy)
    funnel = r.funnel.set_index("stage")
    for key, stage in (("fy.handled_share", "requests_handled"),
                       ("fy.priority_rate", "priority_issues"),
                       ("fy.decided_share", "decided_to_act"),
                       ("fy.first_level_share", "settled_staff")):
        if key in r.keys():
            e = r.estimate(key)
            row = funnel.loc[stage]
            assert (row["share"], row["ci_low"], row["ci_high"]) == (e.value, e.ci_low, e.ci_high)
            # … and names the binomial-only interval as such, as the record's flag does
            assert (row["test"] == "test_wilson_binomial_only") == e.poisson_only
    # none of n and all of n: Wilson's bounds are 0 and 1 exactly, never float noise (1.1e-14%)
    shares = funnel[funnel["denominator"].notna()]
    assert (shares.loc[shares["count"] == 0, "ci_low"] == 0.0).all()
    assert (shares.loc[shares["count"] == shares["denominator"], "ci_high"] == 1.0).all()


@pytest.mark.parametrize("fy", [2018, 2020, 2022])
def test_the_comparisons_put_counts_and_shares_in_tables_of_their_own(fy):
    """Every comparison row once, counts (with their ratio) apart from shares (with their odds
    ratio): no column mixes a count with a share, nor a rate ratio with an odds ratio."""
    r = fiscal_year_report(fy)
    counts, shares = r.comparisons()
    assert len(counts) + len(shares) == len(r.table()) > 0
    assert not shares.empty and (shares["this_year"] < 1).all() and (shares["reference"] < 1).all()
    assert (counts["this_year"] >= 1).all() and (counts["this_year"] % 1 == 0).all()
    assert shares["measure"].str.endswith("_share").all()
    assert not counts["measure"].str.endswith("_share").any()
    assert "odds_ratio" in shares.columns and "ratio_to_reference" in counts.columns
    for part, name in ((counts, "ratio_to_reference"), (shares, "odds_ratio")):
        merged = part.merge(r.table(), on=["measure", "comparison"])
        assert (merged[name] == merged["estimate"]).all()


def test_no_look_ahead():
    needs = wa.load("needs_reflection")
    before = fiscal_year_report(2020, needs_reflection=needs).records()
    later = needs.copy()
    later.loc[later["fiscal_year"] == 2022, "requests"] = 5000
    later.loc[later["fiscal_year"] == 2021, "requests_handled"] = 1
    after = fiscal_year_report(2020, needs_reflection=later).records()
    pd.testing.assert_frame_equal(before, after)
    # while the year itself does move the result
    changed = needs.copy()
    changed.loc[changed["fiscal_year"] == 2020, "requests"] = 1500
    assert not fiscal_year_report(2020, needs_reflection=changed).records().equals(before)


def test_the_caller_frame_is_not_modified():
    needs = wa.load("needs_reflection")
    copy = needs.copy(deep=True)
    fiscal_year_report(2021, needs_reflection=needs)
    pd.testing.assert_frame_equal(needs, copy)


def test_a_year_outside_the_data_names_the_years_that_exist():
    with pytest.raises(MissingDataError, match=r"fiscal_year 2030: .*years in the data: 2013–2024"):
        fiscal_year_report(2030)


@pytest.mark.parametrize("bad", [2023.0, None, True])
def test_a_fiscal_year_must_be_an_integer(bad):
    with pytest.raises(ModelInputError, match="fiscal_year: expected a whole fiscal year"):
        fiscal_year_report(bad)


@pytest.mark.parametrize("label", ["R5", "令和5年度", "2023"])
def test_a_fiscal_year_may_be_an_era_label(label):
    assert fiscal_year_report(label).fiscal_year == 2023


def test_an_unknown_era_label_is_named():
    with pytest.raises(ModelInputError, match="fiscal_year: .*X5"):
        fiscal_year_report("X5")


def test_a_missing_column_is_named():
    needs = wa.load("needs_reflection").drop(columns="requests_handled")
    with pytest.raises(ModelInputError, match="requests_handled"):
        fiscal_year_report(2021, needs_reflection=needs)


def test_overlay_adds_a_fiscal_year(tmp_path):
    (tmp_path / "needs_reflection.csv").write_text(
        "era_label,requests,requests_handled,priority_issues,decided_to_act,staff_consultations,"
        "section_chief_consultations,coordination_meetings\nR6,701,602,5,4,5,1,—\n", encoding="utf-8")
    r = fiscal_year_report(2024, data_dir=tmp_path)
    assert r.estimate("fy.requests").value == 701
    assert r.estimate("fy.requests_rr_vs_previous").value == pytest.approx(701 / 650)


def test_the_prediction_marker_contrasts_with_the_bars():
    """Where a prediction is drawn (a baseline of at least four earlier years), its marker and
    interval stand out from every bar (WCAG contrast ratio ≥ 3). The shipped data have three
    baseline years, so four earlier years are made up here (test input, not data)."""
    from matplotlib.colors import to_hex
    from matplotlib.patches import Rectangle

    from wardanalysis.plotting import contrast_ratio

    needs = wa.load("needs_reflection")
    first = needs[needs["fiscal_year"] == 2017]
    earlier = pd.concat([first.assign(fiscal_year=y, requests=2600 - 200 * (y - 2013))
                         for y in range(2013, 2017)])
    longer = pd.concat([earlier, needs], ignore_index=True)
    r = fiscal_year_report(2021, needs_reflection=longer)
    assert "fy.requests_expected_from_trend" in r.keys()
    for lang in ("ja", "en"):
        fig, ax = r.plot(lang=lang)
        bars = {to_hex(p.get_facecolor()) for p in ax.patches if isinstance(p, Rectangle)
                and p.get_height() > 0}
        markers = [ln for ln in ax.lines if ln.get_marker() == "D"]
        assert bars and markers
        for bar in bars:
            for ln in markers:
                assert contrast_ratio(ln.get_color(), bar) >= 3, (ln.get_color(), bar)
        plt.close(fig)


def test_one_money_unit_thousand_yen_or_oku_yen():
    from wardanalysis.plotting import money_unit

    assert money_unit([50_000, 100_000]) == (1.0, "thousand_yen")
    assert money_unit([1_000_000]) == (1.0, "thousand_yen")  # exactly 10⁶ 千円 stays in 千円
    assert money_unit([100_000, 1_300_000]) == (1e5, "hundred_million_yen")  # 13億円


def test_a_budget_only_chart_is_in_thousand_yen():
    """A year with a budget and too few request years for a chart of its own draws the budget
    in the table's unit (千円), not another."""
    r = fiscal_year_report(2014)
    assert r.history.empty  # no request figures before FY2017: the chart is the budget's
    for lang, unit in (("ja", "千円"), ("en", "Thousand yen")):
        fig, ax = r.plot(lang=lang)
        assert ax.get_ylabel() == unit
        bars = [p.get_height() for p in ax.patches]
        assert bars == [float(r.budget["budget_thousand_yen"].iloc[0])]
        plt.close(fig)
