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
    return [s for s in re.split(r"(?<=[a-z0-9)%])\.\s", text) if s]


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
