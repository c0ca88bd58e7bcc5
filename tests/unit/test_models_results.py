"""The result shape, the glossary, the plot theme, lazy imports and the shared statistics
helpers' input checks."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from wardanalysis._yaml import DuplicateKeyError
from wardanalysis.errors import (
    MissingColumnError,
    ModelInputError,
    NotEstimableError,
    ZeroDenominatorError,
)
from wardanalysis.results import RECORD_COLUMNS, Estimate, Result, fmt_interval, records_frame
from wardanalysis.text import glossary
from wardanalysis.text.formats import fmt, fmt_p

# --- glossary -----------------------------------------------------------------------------------

def test_glossary_labels():
    assert glossary.label("priority_issues", "ja") == "区重要課題"
    assert glossary.label("priority_issues", "en") == "Ward priority issues"
    assert glossary.label("staff_consultations", "ja") == "担当者協議"
    assert glossary.label("odds_ratio", "en") == "Odds ratio"


def test_glossary_errors_name_what_is_wrong():
    with pytest.raises(KeyError, match="no_such_term"):
        glossary.label("no_such_term", "ja")
    with pytest.raises(KeyError, match="'de'"):
        glossary.label("requests", "de")


@pytest.mark.parametrize("term", ["要望・相談", "区重要課題", "担当者協議", "課長協議", "地域課題調整会議",
                                  "対応済", "「対応する」とした件数", "まちづくり推進経費", "地域力向上事業",
                                  "区重点提案事業", "土木センター", "道路", "公園", "河川", "年度",
                                  "率比", "オッズ比", "95%信頼区間"])
def test_glossary_covers_the_documents_terms(term):
    assert any(term in v["ja"] for v in glossary._terms().values())


def test_glossary_has_general_interface_words():
    for key in ("method", "caveats", "summary", "table", "figure", "conclusion", "verdict"):
        assert glossary.label(key, "en") and glossary.label(key, "ja")


def test_glossary_rejects_a_term_defined_twice(tmp_path, monkeypatch):
    path = tmp_path / "glossary.yml"
    path.write_text("terms:\n  a:\n    ja: あ\n    en: a\n  a:\n    ja: い\n    en: b\n",
                    encoding="utf-8")
    monkeypatch.setattr(glossary, "_PATH", path)
    glossary._terms.cache_clear()
    try:
        with pytest.raises(DuplicateKeyError, match="glossary.yml, line 5: key 'a' given twice"):
            glossary.label("a", "ja")
    finally:
        monkeypatch.undo()
        glossary._terms.cache_clear()


def test_glossary_rejects_a_missing_language(tmp_path, monkeypatch):
    path = tmp_path / "glossary.yml"
    path.write_text("terms:\n  a:\n    ja: あ\n", encoding="utf-8")
    monkeypatch.setattr(glossary, "_PATH", path)
    glossary._terms.cache_clear()
    try:
        with pytest.raises(ValueError, match="'a' must have exactly 'ja' and 'en'"):
            glossary.has("a")
    finally:
        monkeypatch.undo()
        glossary._terms.cache_clear()


# --- result base --------------------------------------------------------------------------------

class _Tiny(Result):
    def _plot(self, ax, lang):
        ax.plot([1, 2], [1, 2], label=glossary.label("observed", lang))
        ax.set_title(self.title(lang))


def _tiny(**kw):
    args = dict(title_key="title_requests_trend", estimates=(Estimate("x.a", 1.23456, 1.0, 2.0, "u"),),
                n_obs=3, facts={"year": 2024}, text_keys=("front.fiscal_year",),
                method_key="front.fiscal_year", caveat_keys=("nav.next_year",),
                data=pd.DataFrame({"fiscal_year": [2020]}))
    args.update(kw)
    return _Tiny(**args)


def test_records_have_exactly_the_record_columns_unrounded():
    rec = _tiny().records()
    assert tuple(rec.columns) == RECORD_COLUMNS == ("key", "value", "ci_low", "ci_high", "unit",
                                                    "interval", "flags")
    assert rec.loc[0, "value"] == 1.23456


def test_duplicate_keys_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        records_frame([Estimate("k", 1), Estimate("k", 2)])


def test_text_states_the_main_caveat():
    r = _tiny()
    assert r.text("en") == "FY2024 Caveat: Next year (FY2024) →"
    assert r.text("ja") == "2024年度なお、次年度（2024年度）→"
    assert r.method_text("ja") == "2024年度" and r.caveats == ("Next year (FY2024) →",)


def test_the_result_keeps_its_own_copy_of_the_data():
    data = pd.DataFrame({"fiscal_year": [2020]})
    r = _tiny(data=data)
    data.loc[0, "fiscal_year"] = 1999
    assert r.table().loc[0, "fiscal_year"] == 2020


def test_plot_onto_given_axes_and_never_show(monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plot() called plt.show()"))
    fig, axes = plt.subplots(1, 2)
    f, ax = _tiny().plot(lang="ja", ax=axes[1])
    assert f is fig and ax is axes[1]
    plt.close(fig)


def test_display_formatting():
    assert fmt(0.82661) == "0.827"
    assert fmt(1270.0) == "1,270"
    assert fmt(12_500_000) == "12,500,000"
    assert fmt(math.nan) == "—"
    ci = Estimate("x", 0.8, 0.757, 0.902)
    assert fmt_interval(ci, "en") == "(95% CI 0.757 to 0.902)"
    assert fmt_interval(ci, "ja") == "（95%信頼区間 0.757〜0.902）"
    assert fmt_interval(Estimate("x", 0.8)) == ""
    # a prediction interval says so, as does an interval valid only for Poisson counts
    pi = Estimate("x", 0.8, 0.757, 0.902, flags=("prediction_interval",))
    assert fmt_interval(pi, "ja") == "（95%予測区間 0.757〜0.902）"
    assert fmt_interval(pi, "en") == "(95% prediction interval 0.757 to 0.902)"
    exact = Estimate("x", 0.8, 0.757, 0.902, flags=("poisson_only",))
    assert "Poisson" in fmt_interval(exact, "en") and "CI" not in fmt_interval(exact, "en")
    assert fmt_p(2.3e-11) == "p < 0.001" and fmt_p(0.618) == "p = 0.62"


# --- plotting -----------------------------------------------------------------------------------

def test_theme_sets_the_japanese_font_after_seaborn():
    import matplotlib as mpl
    import seaborn as sns

    from wardanalysis import plotting

    sns.set_theme()  # resets font.family to sans-serif
    assert plotting.FONT_FAMILY not in mpl.rcParams["font.family"]
    plotting.use_theme()
    assert mpl.rcParams["font.family"][0] == plotting.FONT_FAMILY
    assert mpl.rcParams["axes.grid"]  # the seaborn whitegrid style is in force


def test_a_later_seaborn_theme_does_not_leave_boxes(needs_frame):
    import matplotlib as mpl
    import matplotlib.pyplot as plt
    import seaborn as sns

    from wardanalysis.models.requests import trend

    sns.set_theme()
    res = trend(needs_frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font" would raise here
        fig, _ = res.plot(lang="ja")
        fig.canvas.draw()
    assert "IPAexGothic" in mpl.rcParams["font.family"]
    plt.close(fig)


def test_missing_glyphs_would_fail_the_drawing_checks():
    """The headless checks can fail: without the Japanese font, drawing Japanese warns."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    from wardanalysis import plotting

    with mpl.rc_context({"font.family": ["DejaVu Sans"]}):
        fig, ax = plt.subplots()
        ax.set_title("区重要課題")
        with warnings.catch_warnings(), pytest.raises(UserWarning, match="[Gg]lyph"):
            warnings.simplefilter("error")
            fig.canvas.draw()
        plt.close(fig)
    plotting.use_theme()


# --- errors and stats input checks ---------------------------------------------------------------

def test_error_hierarchy_and_messages():
    e = MissingColumnError("needs_reflection", ["requests"], ["fiscal_year"])
    assert isinstance(e, ModelInputError) and isinstance(e, KeyError) and isinstance(e, ValueError)
    assert str(e) == "needs_reflection: missing column(s) 'requests'; the frame has 'fiscal_year'"
    assert isinstance(ZeroDenominatorError("x", "c", "w"), ZeroDivisionError)


def test_stats_input_checks():
    from wardanalysis import stats

    with pytest.raises(ValueError, match="exceed"):
        stats.wilson_interval(5, 4)
    lo, hi = stats.wilson_interval(np.array([1, 0]), np.array([2, 0]))
    assert math.isnan(lo[1]) and math.isnan(hi[1])
    with pytest.raises(ZeroDenominatorError):
        stats.rate_ratio_exact(0, 1, 0, 1)
    X = pd.DataFrame({"const": 1.0, "x": [0.0, 1.0]})
    with pytest.raises(NotEstimableError, match="no residual degree"):
        stats.fit_quasi_poisson([3, 4], X)
    X = pd.DataFrame({"const": 1.0, "x": [0.0, 0.0, 0.0, 0.0]})
    with pytest.raises(NotEstimableError, match="rank-deficient"):
        stats.fit_quasi_poisson([3, 4, 5, 6], X)
    with pytest.raises(ZeroDenominatorError):
        stats.fit_quasi_binomial([1, 0, 1], [2, 0, 3], pd.DataFrame({"const": [1.0] * 3}))


def test_unbounded_limits_are_recorded_as_missing(civil_frame, draw):
    from wardanalysis.models.civil import civil_requests

    frame = civil_frame.copy()
    frame.loc[(frame["category"] == "river") & (frame["fiscal_year"] == 2021), "requests"] = 0
    res = civil_requests(frame)
    e = res.estimate("civil.river_rr_fy2022_vs_fy2021")
    assert math.isinf(e.value) and math.isinf(e.ci_high) and e.ci_low > 0
    row = res.records().set_index("key").loc["civil.river_rr_fy2022_vs_fy2021"]
    assert math.isnan(row["value"]) and math.isnan(row["ci_high"]) and row["ci_low"] > 0
    assert any("Zero requests" in c for c in res.caveats)
    res.text("en")
    res.text("ja")
    draw(res)


def test_a_difference_in_shares_is_a_key_figure_in_percentage_points():
    """In points, to the same three figures as the prose states it (one number, one form)."""
    from wardanalysis.results import Estimate, key_figure

    e = Estimate("adoption.difference", 0.0408, -0.128, 0.204, unit="difference in shares")
    assert key_figure(e, "ja").endswith("：4.08ポイント（95%信頼区間 -12.8〜20.4）")
    assert key_figure(e, "en").endswith(": 4.08 percentage points (95% CI -12.8 to 20.4)")
