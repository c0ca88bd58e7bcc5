"""A result offers the verbs researchers know from statsmodels and pandas (``summary()``,
``conf_int()``, ``to_frame()``, ``keys()``, the fitted model), shows itself in the language
chosen with ``wa.set_language``, and a misspelt name gets "did you mean …"."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

import wardanalysis as wa
from wardanalysis.models.civil import civil_requests
from wardanalysis.models.handled import handled_share
from wardanalysis.text.display import current_lang


@pytest.fixture
def handled(needs_frame):
    return handled_share(needs_frame)


@pytest.fixture
def english_then_back():
    before = current_lang()
    yield
    wa.set_language(before)


def test_keys_is_a_method_and_lists_every_estimate(handled):
    assert handled.keys() == tuple(e.key for e in handled.estimates)
    assert "handled.pooled_share" in handled.keys()


def test_to_frame_and_conf_int_are_the_estimates_unrounded(handled):
    frame = handled.to_frame()
    assert list(frame.index) == list(handled.keys()) and frame.index.name == "key"
    e = handled.estimate("handled.trend_or_per_year")
    assert frame.loc[e.key, "value"] == e.value  # not rounded
    ci = handled.conf_int()
    assert list(ci.columns) == ["lower", "upper"]
    assert (ci.loc[e.key, "lower"], ci.loc[e.key, "upper"]) == (e.ci_low, e.ci_high)
    # an exact computation (the dispersion) has no interval
    assert ci.loc["handled.dispersion"].isna().all()


def test_conf_int_agrees_with_the_fitted_model(handled):
    """The interval of the trend is exp(b ± t·se) from the fitted model the result keeps,
    computed here from its coefficient and covariance."""
    from scipy import stats as st

    fit = handled.model_fit
    b, se = fit.params["year"], math.sqrt(fit.cov.loc["year", "year"])
    t = st.t.ppf(0.975, fit.df_resid)
    lower, upper = handled.conf_int().loc["handled.trend_or_per_year"]
    assert np.allclose([lower, upper], np.exp([b - t * se, b + t * se]), rtol=1e-10)


def test_a_result_computed_exactly_has_no_fitted_model():
    assert civil_requests().model_fit is None


def test_summary_is_a_statsmodels_summary_in_the_chosen_language(handled, english_then_back):
    from statsmodels.iolib.summary2 import Summary

    wa.set_language("ja")
    ja = handled.summary()
    assert isinstance(ja, Summary)
    text = ja.as_text()
    assert handled.title("ja") in text and "推定値" in text and "方法" in text
    assert all(k in text for k in handled.keys())
    share = handled.estimate("handled.share.fy2017").value
    assert f"{100 * share:.1f}%" in text  # a share as a percentage, rounded at display only
    wa.set_language("en")
    en = handled.summary().as_text()
    assert "Estimate" in en and "Method" in en and "推定値" not in en
    assert handled.caveat_list("en")[0].split()[0] in en
    assert "<table" in handled.summary("ja").as_html()


def test_html_display_follows_set_language(handled, english_then_back):
    wa.set_language("en")
    assert handled.title("en") in handled._repr_html_()
    wa.set_language("ja")
    assert handled.title("ja") in handled._repr_html_()


def test_a_misspelt_estimate_key_says_which_was_meant(handled):
    with pytest.raises(KeyError, match=r"did you mean 'handled.pooled_share'"):
        handled.estimate("handled.pooled_shar")
    with pytest.raises(KeyError) as info:
        handled.estimate("zzz")
    assert "did you mean" not in str(info.value)


def test_a_misspelt_dataset_name_says_which_was_meant():
    with pytest.raises(KeyError, match=r"did you mean 'needs_reflection'"):
        wa.load("needs_reflecton")
    with pytest.raises(KeyError, match=r"did you mean 'request_log'"):
        wa.describe("request_logs")


def test_datasets_is_a_table_of_titles_years_and_rows(english_then_back):
    wa.set_language("en")
    table = wa.datasets()
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["name", "title", "first_fiscal_year", "last_fiscal_year", "rows"]
    row = table.set_index("name").loc["needs_reflection"]
    needs = wa.load("needs_reflection")
    assert row["rows"] == len(needs)
    assert (row["first_fiscal_year"], row["last_fiscal_year"]) == (
        needs["fiscal_year"].min(), needs["fiscal_year"].max())
    assert row["title"] == wa.describe("needs_reflection")["title"]["en"]
    # a dataset without fiscal years says so with a missing value, not a made-up year
    no_years = [n for n in table["name"] if "fiscal_year" not in wa.load(n).columns]
    assert no_years and table.set_index("name").loc[no_years, "first_fiscal_year"].isna().all()
    wa.set_language("ja")
    assert wa.datasets().set_index("name").loc["needs_reflection", "title"] == \
        wa.describe("needs_reflection")["title"]["ja"]


@pytest.fixture(scope="module")
def shipped_results():
    """Every result on the shipped data that has estimates, computed once for the module."""
    from tests.unit.test_messages import _results

    return [r for r in _results() if r.estimates]


#: An English word (two letters or more; p値, α, χ² and numbers are not words).
_ENGLISH = re.compile(r"[A-Za-z]{2,}")


def test_a_japanese_display_has_no_english_heading_or_unit(english_then_back,
                                                            shipped_results):
    """Every shipped result, shown in Japanese (summary() and the HTML display): each heading
    and each unit is Japanese, from the catalogue; only the estimates' keys (names to call
    them by) stay as the code writes them."""
    wa.set_language("ja")
    results = shipped_results
    assert len(results) >= 20
    for r in results:
        table = r.summary().tables[1]
        words = [c for c in table.columns if _ENGLISH.search(str(c))]
        words += [u for u in table.iloc[:, 3] if _ENGLISH.search(u)]
        assert words == [], (type(r).__name__, words)
        shown = r._repr_html_()
        heads = re.findall(r"<th>(.*?)</th>", shown)
        units = re.findall(r"<td>[^<]*</td><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td></tr>",
                           shown)
        assert heads and len(units) == len(r.estimates), type(r).__name__
        assert [w for w in heads + units if _ENGLISH.search(w)] == [], (type(r).__name__,
                                                                        heads, units)
    wa.set_language("en")  # and the same display in English keeps its English units
    assert "rate ratio" in civil_requests()._repr_html_()


def test_every_unit_the_models_write_has_a_display_in_both_languages(shipped_results):
    """Units named in the models' code (``unit="…"``) and those of every shipped result: each
    has its catalogue entry ``unit.<unit>``, so no display falls back to a code's English."""
    from pathlib import Path

    import wardanalysis.models
    from wardanalysis.results import Estimate, unit_text
    from wardanalysis.text.messages import keys

    models = Path(wardanalysis.models.__file__).parent
    literals = [m for path in models.glob("*.py")  # "a " "b" (split over lines) is "a b"
                for m in re.findall(r'Estimate\([^)]*?\bunit=((?:f?"[^"]*"\s*)+)',
                                    path.read_text(), re.S)]
    units = {"".join(re.findall(r'"([^"]*)"', m)).replace("{PER_DAYS}", "30")
             .replace("{per_days}", "30") for m in literals}
    units |= {e.unit for r in shipped_results for e in r.estimates}
    assert {"rate ratio", "yen per resident", "Pearson chi2 / df"} <= units  # the scan sees them
    missing = sorted(u for u in units if u and f"unit.{u}" not in keys())
    assert missing == []
    assert unit_text(Estimate("x", 1.0, unit="rate ratio"), "ja") == "率比"
