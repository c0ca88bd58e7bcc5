"""The message catalogue: every key in both languages, with the same placeholders; every key the
code uses exists; the filling step formats facts in the template's language."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import pytest

from wardanalysis.models.civil import civil_requests
from wardanalysis.models.covid_exposure import covid_exposure_days
from wardanalysis.models.covid_verdict import verdict
from wardanalysis.models.escalation import escalation_patterns
from wardanalysis.models.fiscal_year import fiscal_year_report
from wardanalysis.models.handled import handled_share
from wardanalysis.models.its import exposure_model, interrupted_time_series
from wardanalysis.results import Dates, Estimate, Joined, Said, Term, Years
from wardanalysis.text import messages
from wardanalysis.text.messages import message, placeholders

PACKAGE = Path(messages.__file__).parents[1]
#: An era label: R5, H30, R元, 令和5年度, 平成 … (on an English page a fiscal year is FY2023).
ERA_LABEL = re.compile(r"\b[MTSHR](?:[1-9]\d?|元)(?![\w.])|令和|平成|昭和")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.mark.parametrize("key", messages.keys())
def test_every_message_has_both_languages_with_the_same_placeholders(key):
    raw = messages._catalogue()[key]
    assert raw["ja"].strip() and raw["en"].strip()
    assert placeholders(raw["ja"]) == placeholders(raw["en"]), key


def test_a_message_is_filled_and_a_missing_fact_is_named():
    assert message("nav.previous_year", "en", year=2022) == "← Previous year (FY2022)"
    with pytest.raises(KeyError, match="needs year"):
        message("nav.previous_year", "ja")
    with pytest.raises(KeyError, match="no message 'nope'"):
        message("nope", "ja")


def test_a_key_without_one_language_is_refused(tmp_path, monkeypatch):
    bad = tmp_path / "messages.yml"
    bad.write_text('messages:\n  only.ja: {ja: "日本語だけ"}\n', encoding="utf-8")
    monkeypatch.setattr(messages, "_PATH", bad)
    messages._catalogue.cache_clear()
    try:
        with pytest.raises(ValueError, match="'only.ja' must have exactly 'ja' and 'en'"):
            messages.keys()
    finally:
        monkeypatch.undo()
        messages._catalogue.cache_clear()


# --- every key the code names exists -----------------------------------------------------------

#: Where the code names a catalogue key literally: message("k"…), say("k"…), Said("k"…),
#: method_key="k", text_keys=("k", …), a ``(condition, "k")`` pair for chosen(), a list of keys
#: built with append/insert, and ``"k" if … else "k"``.
_KEY = r"""["']([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)["']"""
_PLACES = [re.compile(p) for p in (
    rf"\b(?:message|say|Said)\(\s*{_KEY}",
    rf"\bmethod_key={_KEY}",
    rf"\btext_keys=\(\s*{_KEY}",
    rf"(?m)^\s*\(\s*[^\"'\s(][^\n]*,\s*{_KEY}\),?\s*$",
    rf"\b(?:append|insert)\((?:0,\s*)?{_KEY}",
    rf"{_KEY}\s+if\b",
    rf"\belse\s+{_KEY}",
)]


def _literal_keys() -> set[tuple[str, str]]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name == "budgets.py":  # its own prose until issue 13
            continue
        text = path.read_text(encoding="utf-8")
        if not re.search(r"\b(message|say|Said|chosen)\(", text):
            continue
        for place in _PLACES:
            for key in place.findall(text):
                if key.split(".")[-1] in ("py", "yml", "csv", "html"):
                    continue
                found.add((path.name, key))
    return found


def test_the_scan_finds_the_keys_the_models_use():
    names = {k for _, k in _literal_keys()}
    # a few keys known to be named literally in the models: the scan must see them
    assert {"civil.text", "handled.caveat.as_of", "requests.verdict.power",
            "fy.caveat.budget", "escalation.method"} <= names


@pytest.mark.parametrize("where,key", sorted(_literal_keys()))
def test_every_literal_key_in_the_code_exists(where, key):
    assert key in messages.keys(), f"{where} names the message {key!r}, not in messages.yml"


def _results():
    out = [verdict(), handled_share(), escalation_patterns(), civil_requests(),
           covid_exposure_days(), exposure_model(),
           interrupted_time_series(exclude_fiscal_years=[2017]),
           interrupted_time_series(break_year=2021, later_break=True)]
    out += [fiscal_year_report(fy) for fy in range(2013, 2025)]
    for r in list(out):
        if hasattr(r, "components"):
            out += list(r.components())
    return out


@pytest.fixture(scope="module")
def shipped_results():
    return _results()


def test_every_result_speaks_both_languages_from_the_catalogue(shipped_results):
    """Every result on the shipped data (and the variants the reports show) fills its sentences
    in both languages: each key exists (message() raises otherwise), nothing is left unfilled,
    and the English sentences carry no Japanese beyond the names quoted from the document."""
    quoted = ("まちづくりセンター", "まちづくり推進経費", "地域ニーズ反映の仕組み", "課長協議",
              "担当者協議", "地域課題調整会議")
    seen = 0
    for r in shipped_results:
        if not r.text_keys and not r.caveat_keys:
            continue  # a result with prose of its own (budgets.py, issue 13)
        seen += 1
        for lang in ("ja", "en"):
            for sentence in [r.text(lang), r.method_text(lang), *r.caveat_list(lang)]:
                assert sentence and "{" not in sentence and "}" not in sentence, sentence
                if lang == "en":
                    assert not ERA_LABEL.search(sentence), (type(r).__name__, sentence)
                    rest = sentence
                    for name in quoted:
                        rest = rest.replace(name, "")
                    assert not JAPANESE.search(rest), (type(r).__name__, sentence)
                else:
                    assert JAPANESE.search(sentence), sentence
    assert seen >= 20


def test_no_english_title_or_sentence_carries_an_era_label(shipped_results):
    """An English page names a fiscal year FY2023 (Fiscal year 2023 as a title), never R5 or
    H30; a Japanese one 令和5年度（2023年度）, as a council document writes it."""
    titled = [r for r in shipped_results if type(r).__name__ == "FiscalYearResult"]
    assert titled
    for r in titled:
        assert not ERA_LABEL.search(r.title("en")), r.title("en")
        assert r.title("en") == f"Fiscal year {r.fiscal_year}"
        assert re.match(rf"(令和|平成)(\d+|元)年度（{r.fiscal_year}年度）の", r.title("ja")), r.title("ja")
    from wardanalysis.models.covid_verdict import verdict

    facts = verdict().prose_facts()
    en = message("prose.01_requests_covid.intro", "en", **facts)
    ja = message("prose.01_requests_covid.intro", "ja", **facts)
    assert "FY2017" in en and not ERA_LABEL.search(en), en
    assert "平成29年度（2017年度）" in ja
    assert ERA_LABEL.search("In FY2023 (R5)") and ERA_LABEL.search("令和5年度")  # the check bites
    assert not ERA_LABEL.search("FY2023, R² 0.9, H0 and (a)")


# --- the filling step's formats ---------------------------------------------------------------


def test_an_estimate_formats_itself_in_the_template_language():
    e = Estimate("x", 0.8312, 0.7011, 0.9876)
    assert message("interval.ci", "ja", low="a", high="b") == "（95%信頼区間 a〜b）"
    assert messages._Formatter("ja").format("{e}{e:ci}", e=e) == "0.831（95%信頼区間 0.701〜0.988）"
    assert messages._Formatter("en").format("{e} {e:ci}", e=e) == "0.831 (95% CI 0.701 to 0.988)"
    share = Estimate("s", 0.8312, 0.7011, 0.9876, unit="share")  # a share shows as a percentage
    assert messages._Formatter("en").format("{e} {e:ci}", e=share) == "83.1% (95% CI 70.1% to 98.8%)"
    assert messages._Formatter("en").format("{e:lo}–{e:hi}", e=e) == "0.701–0.988"
    flagged = Estimate("y", 0.5, 0.25, 0.75, flags=("poisson_only",))
    assert "Poisson" in messages._Formatter("en").format("{e:ci}", e=flagged)
    with pytest.raises(ValueError, match="unknown format 'nope'"):
        messages._Formatter("en").format("{e:nope}", e=e)


def test_other_facts_format_in_the_template_language():
    f_ja, f_en = messages._Formatter("ja"), messages._Formatter("en")
    assert f_ja.format("{y}", y=Years([2017, 2018, 2019])) == "2017〜2019年度"
    assert f_en.format("{y}", y=Years([2017, 2018, 2019])) == "FY2017–FY2019"
    assert f_ja.format("{y:list}", y=Years([2018, 2020])) == "2018年度、2020年度"
    assert f_en.format("{y:list}", y=Years([2018, 2020])) == "FY2018, FY2020"
    assert f_en.format("{y}", y=Years([])) == "none" and f_ja.format("{y}", y=Years([])) == "なし"
    assert f_ja.format("{d}", d=Dates((dt.date(2024, 6, 26),))) == "2024年6月26日"
    assert f_en.format("{d}", d=Dates((dt.date(2024, 6, 26),))) == "2024-06-26"
    assert f_en.format("{t:lower}", t=Term("road")) == "roads"
    assert f_ja.format("{t}", t=Term("road")) == "道路"
    assert f_en.format("{x} {x:sig2} {x:pct} {x:+sig2}", x=0.12345) == "0.123 0.12 12.3% +0.12"
    assert f_en.format("{n:,} {y}", n=12345, y=2021) == "12,345 2021"  # years never get separators
    parts = Joined((Said("term", {"t": Term("road")}), Said("term", {"t": Term("park")})), "list.joiner")
    assert f_ja.format("{p}", p=parts) == "道路、公園" and f_en.format("{p}", p=parts) == "Roads, Parks"
    assert math.isnan(Estimate("z", math.nan).value)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_no_avoided_word_is_in_the_catalogue_or_the_glossary(lang):
    """The terms list (``avoid`` in messages.yml): words of software and second names of one
    thing never reach a reader's text, in any template or label."""
    from wardanalysis.text.glossary import _terms
    from wardanalysis.text.messages import _catalogue, avoided

    words = avoided()[lang]
    assert words  # the list is there
    texts = {f"message {k}": v[lang] for k, v in _catalogue().items()}
    texts |= {f"term {k}": v[lang] for k, v in _terms().items() if isinstance(v, dict) and lang in v}
    found = {where: w for where, text in texts.items() for w in words if w in text}
    assert found == {}
