"""The headlines the verdicts stand behind (issue 21, section 2): what 01's and 02's summary
boxes and the front page say, computed from the results (no number typed here)."""

from __future__ import annotations

import re

import pytest

from wardanalysis.models import covid_verdict
from wardanalysis.models.escalation import escalation_patterns
from wardanalysis.results import key_figure
from wardanalysis.text.formats import fmt, fmt_pct, fmt_ratio_words

LANGS = ("ja", "en")


def _sentences(text: str, lang: str) -> list[str]:
    if lang == "ja":
        return [s for s in text.split("。") if s]
    return [s for s in re.split(r"(?<=[A-Za-z0-9)%])\.\s", text) if s]


@pytest.fixture(scope="module")
def verdict():
    return covid_verdict.verdict()


@pytest.fixture(scope="module")
def escalation():
    return escalation_patterns()


def test_01_key_figures_follow_the_verdicts_reasoning(verdict):
    """The decline before COVID, the level change against that trend, the smallest change the
    data could detect; the ratio of period means is not a key figure on its own."""
    keys = [e.key for e in verdict.key_figures()]
    assert keys == ["requests.its_pre_slope_rr", "requests.its_level_rr",
                    "requests.its_level_mde_ratio"]
    assert verdict.period.key_figures() == []


@pytest.mark.parametrize("lang", LANGS)
def test_01_the_ratio_of_period_means_always_has_the_earlier_decline_beside_it(verdict, lang):
    mean_ratio = verdict.period.estimate("requests.mean_ratio_covid_vs_pre")
    ratio = fmt(mean_ratio.value)
    in_words = fmt_ratio_words(mean_ratio.value, lang)  # 約半分 / about half
    pre = fmt(verdict.its.estimate("requests.its_pre_slope_rr").value)
    earlier = "コロナ前から減" if lang == "ja" else "already been falling"
    texts = [verdict.text(lang), verdict.headline(lang), verdict.period.text(lang),
             *(key_figure(e, lang) for e in verdict.key_figures())]
    shown = 0
    for text in texts:
        for sentence in _sentences(text, lang):
            if ratio in sentence:
                shown += 1
                assert pre in sentence, sentence
            elif in_words in sentence:  # said in words: the earlier decline in words beside it
                shown += 1
                assert earlier in sentence, sentence
    assert shown >= 3  # the verdict, its headline and the period comparison show it


def _records(result) -> dict:
    rows = result.all_records() if hasattr(result, "all_records") else result.records()
    return {r["key"]: {"key": r["key"], "value": r["value"], "ci_low": r["ci_low"],
                       "ci_high": r["ci_high"], "flags": r["flags"]}
            for r in rows.to_dict("records")}


@pytest.mark.parametrize("lang", LANGS)
def test_01s_answer_states_the_verdict_then_the_ratio_beside_the_earlier_decline(verdict, lang):
    """01's summary answer (which the front page shows, from the report's headline) is the
    verdict and then its second sentence: the ratio of period means with the earlier decline."""
    reasons = verdict.reasons(lang)
    answer = verdict.headline(lang)
    assert answer.startswith(reasons[0]) and answer.endswith(reasons[1])


def test_02_summary_box_gives_each_headline_figure_without_fy2017(escalation):
    keys = [e.key for e in escalation.key_figures()]
    for base in ("escalation.priority_rate_or_covid_vs_pre", "escalation.first_level_share",
                 "escalation.priority_rate_trend_or_per_year"):
        assert keys.index(base + ".excl_fy2017") == keys.index(base) + 1


@pytest.mark.parametrize("lang", LANGS)
def test_02_the_trend_is_read_as_a_step_with_its_value_without_fy2017(escalation, lang):
    e = escalation.estimate
    text = escalation.text(lang)
    assert "escalation.text.trend_fell" not in escalation.text_keys
    trend_x = e("escalation.priority_rate_trend_or_per_year.excl_fy2017")
    assert not trend_x.interval_excludes_one  # t(4) with the scale floored at 1
    assert "escalation.text.trend_step_includes_one" in escalation.text_keys
    sentence = next(s for s in _sentences(text, lang)
                    if fmt(e("escalation.priority_rate_trend_or_per_year").value) in s)
    assert "2017" in sentence
    assert fmt(trend_x.value) in text and fmt(trend_x.ci_high) in text


@pytest.mark.parametrize("lang", LANGS)
def test_02_the_pooled_first_level_share_stands_with_its_test_and_value_without_fy2017(
        escalation, lang):
    e = escalation.estimate
    headline = escalation.headline(lang)
    first = e("escalation.first_level_share")
    first_x = e("escalation.first_level_share.excl_fy2017")
    p = e("escalation.first_level_share_differs_p").value
    sentence = next(s for s in _sentences(headline, lang) if fmt_pct(first.value) in s)
    assert fmt_pct(first_x.value) in sentence
    assert fmt(p, 2) in sentence
    covid_x = e("escalation.priority_rate_or_covid_vs_pre.excl_fy2017")
    assert fmt(covid_x.value) in headline
    assert "exact" in e("escalation.first_level_share_differs_p").interval


@pytest.fixture(scope="module")
def cross_city():
    from wardanalysis.models.budgets import cross_city_budgets

    return cross_city_budgets()


@pytest.mark.parametrize("lang", LANGS)
def test_03_answer_names_the_reviews_reference_city_and_says_chiba_cannot_be_compared(
        cross_city, lang):
    """The budget question answered plainly: Kumamoto's and Hamamatsu's amounts per resident
    with their years, which is larger, and why Chiba (the review's model) is not compared."""
    from wardanalysis.text.formats import fmt_yen

    t = cross_city.data
    k = t[(t["city_ja"] == "熊本市") & t["yen_per_capita"].notna()].iloc[0]
    h = t[(t["city_ja"] == "浜松市") & (t["area_ja"] == "全区合計")].iloc[0]
    answer = cross_city.headline(lang)
    first, second = _sentences(answer, lang)[:2]
    assert fmt_yen(k["yen_per_capita"], lang) in first and str(k["fiscal_year"]) in first
    assert fmt_yen(h["yen_per_capita"], lang) in second and str(h["fiscal_year"]) in second
    assert ("浜松市" if lang == "ja" else "Hamamatsu") in second
    assert (h["yen_per_capita"] < k["yen_per_capita"]) == (
        ("熊本市より少ない" if lang == "ja" else "less than Kumamoto's") in second)
    a = t[t["comparability_class"] == "a"]
    assert (("千葉市" if lang == "ja" else "Chiba") in answer) == (
        not (a["city_ja"] == "千葉市").any())  # no class-(a) figure of Chiba: said so


@pytest.mark.parametrize("lang", LANGS)
def test_03_answer_states_how_many_of_the_compared_figures_are_official(cross_city, lang):
    """Budgets and populations counted apart: a figure is not called unofficial when only its
    population is."""
    t = cross_city.data
    near = t[(t["city_ja"] != "熊本市") & (t["comparability_class"] == "a") & t["included"]
             & t["population_within_limit"]]
    budgets, populations = (int((near[c] == "O").sum())
                            for c in ("budget_quality", "population_quality"))
    answer = cross_city.headline(lang)
    said = (f"予算額が公式の資料で確かめられたもの（品質記号O）は{budgets}件、人口は{populations}件"
            if lang == "ja" else f"{budgets} budgets and {populations} populations are confirmed")
    assert said in answer
    assert "どれも公式の資料で確かめられていない" not in answer
    assert "None of those figures" not in answer


@pytest.mark.parametrize("lang", LANGS)
def test_no_summary_box_leads_with_an_interval_valid_only_for_poisson_counts(lang):
    """FY2017–2019 have too few years before them for a dispersion: their shares and ratios
    have only intervals valid for Poisson or binomial counts, which the summary box does not
    show (it says why); the interval stays in the result, labelled."""
    from wardanalysis.models.fiscal_year import fiscal_year_report
    from wardanalysis.results import fmt_interval
    from wardanalysis.text.messages import message

    seen = 0
    for fy in (2017, 2018, 2019, 2023):
        for e in fiscal_year_report(fy).key_figures():
            line = key_figure(e, lang)
            if e.poisson_only:
                seen += 1
                assert fmt_interval(e, lang)  # the labelled interval exists …
                assert fmt_interval(e, lang) not in line  # … but does not lead
                assert line.endswith(message("interval.poisson_only_summary", lang))
            else:
                assert message("interval.poisson_only_summary", lang) not in line
    assert seen >= 5
