"""Tables as reviewers read them: thousands separators, units, glossary labels, alignment."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from wardanalysis import report


@pytest.fixture
def shown(monkeypatch):
    """The HTML that show_table would display, one string per call."""
    pages: list[str] = []
    monkeypatch.setattr(report, "display", lambda obj, **kw: pages.append(obj.data))
    return pages


FRAME = pd.DataFrame({"fiscal_year": [2017, 2018], "era_label": ["H29", "H30"],
                      "requests": [1971, 1269]})


def test_format_table_separates_thousands_labels_columns_and_leaves_the_input_alone():
    before = FRAME.copy()
    table = report.format_table(FRAME, "ja")
    assert table.iloc[0].tolist() == ["2017", "H29", "1,971"]
    # an English page shows no era label, even where the columns are named
    en = report.format_table(FRAME, "en", columns=["fiscal_year", "era_label", "requests"])
    assert en.iloc[0].tolist() == ["2017", "1,971"]
    pd.testing.assert_frame_equal(FRAME, before)


def test_text_columns_are_left_aligned_and_numbers_are_not(shown):
    report.show_table(FRAME, "ja")
    html = shown[0]
    # col1 (era_label) is text: its header and its cells are left-aligned; col2 (requests) and
    # col0 (fiscal year, numeric) keep the right alignment of numbers.
    left = set(re.findall(r"(col\d)[^{]*\{\s*text-align: left", html))
    cells = re.findall(r"#T_\w+_row\d_(col\d)(?=[,\s{])", html)
    assert left == {"col1"}
    assert set(cells) == {"col0", "col1", "col2"}
    # a number never breaks across lines (a printed table narrows its columns); text may
    nowrap = {c for sel in re.findall(r"([^{}]*)\{\s*white-space: nowrap", html)
              for c in re.findall(r"_(col\d)", sel)}
    assert nowrap == {"col0", "col2"}


def test_two_tables_on_one_page_have_distinct_ids(shown):
    report.show_table(FRAME, "en")
    report.show_table(FRAME, "en")
    ids = [re.search(r'<table id="([^"]+)"', html).group(1) for html in shown]
    assert ids[0] != ids[1]  # each table's CSS is scoped by its id


def test_selected_columns_keep_their_alignment(shown):
    report.show_table(FRAME, "ja", columns=["era_label", "requests"])
    left = set(re.findall(r"(col\d)[^{]*\{\s*text-align: left", shown[0]))
    assert left == {"col0"}


def test_missing_values_of_every_kind_show_as_a_dash():
    frame = pd.DataFrame({"population_as_of": pd.to_datetime(["2024-01-01", None]),
                          "yen_per_capita": [135.5, float("nan")],
                          "source_url": ["https://www.city.kumamoto.jp/x", None]})
    table = report.format_table(frame, "en")
    assert table.iloc[0].tolist() == ["2024-01-01", "136", "https://www.city.kumamoto.jp/x"]
    assert table.iloc[1].tolist() == ["—", "—", "—"]


def test_shipped_web_addresses_are_links_named_by_their_host(shown):
    from urllib.parse import unquote, urlsplit

    from wardanalysis.data.sources import shipped_urls

    url = sorted(u for u in shipped_urls() if u.startswith("https://"))[0]
    frame = pd.DataFrame({"city_en": ["Kumamoto <x>", "Chiba", "user"],
                          "source_url": [url, "", "https://example.org/a?b=1&c=2"]})
    report.show_table(frame, "en")
    html = shown[0]
    host = urlsplit(url).hostname
    esc = url.replace("&", "&amp;")
    assert f'<a href="{esc}" data-address="{unquote(url).replace("&", "&amp;")}">{host}</a>' in html
    # printed after the link as a reader would type it: percent-escapes decoded
    encoded = next(u for u in sorted(shipped_urls()) if "%E" in u)
    report.show_table(pd.DataFrame({"source_url": [encoded]}), "ja")
    assert f'data-address="{unquote(encoded)}"' in shown[1] and "%E" not in unquote(encoded)
    assert "Kumamoto &lt;x&gt;" in html  # text is escaped, not interpreted
    # an address that is not one the package ships (a user's cell) is text, never a link
    assert "https://example.org/a?b=1&amp;c=2" in html and 'href="https://example.org' not in html


def test_a_share_in_a_column_named_like_a_year_is_never_printed_as_0():
    """``share_of_fiscal_year`` and a comparison table's ``this_year`` hold shares: they were
    taken for year columns and printed as int(0.903) = 0."""
    frame = pd.DataFrame({"fiscal_year": [2022, 2023], "share_of_fiscal_year": [64 / 365, 143 / 365],
                          "this_year": [650.0, 0.903]})
    table = report.format_table(frame, "en")
    shares, this_year = table.iloc[:, 1].tolist(), table.iloc[:, 2].tolist()
    assert shares == ["17.5%", "39.2%"]
    assert this_year == ["650", "0.903"]
    assert table.iloc[:, 0].tolist() == ["2022", "2023"]


def test_a_caption_speaks_of_intervals_only_where_the_chart_draws_them():
    """Bars alone: nothing about bands or whiskers in the caption; whiskers or a band: the
    caption says what they are, read from the figure."""
    import matplotlib.pyplot as plt

    from wardanalysis.report import interval_note

    fig, ax = plt.subplots()
    ax.bar([1, 2], [3, 4])
    assert interval_note(fig, "ja") == interval_note(fig, "en") == ""
    ax.errorbar([1, 2], [3, 4], yerr=[0.5, 0.5])
    assert interval_note(fig, "ja") == "ひげは95%信頼区間。"
    fig2, ax2 = plt.subplots()
    ax2.plot([1, 2], [3, 4])
    ax2.fill_between([1, 2], [2, 3], [4, 5])
    assert interval_note(fig2, "en") == "Shaded bands: 95% confidence intervals. "
    plt.close("all")


def test_a_prediction_band_and_too_narrow_whiskers_are_not_called_confidence_intervals():
    """A band marked as a prediction band is captioned 予測の幅 / prediction band, whiskers
    marked valid only for Poisson counts as too narrow; neither as a 95% confidence interval."""
    import matplotlib.pyplot as plt

    from wardanalysis import plotting
    from wardanalysis.report import interval_note

    fig, ax = plt.subplots()
    plotting.mark_interval(ax.fill_between([1, 2], [2, 3], [4, 5]), "prediction")
    assert "予測の幅" in interval_note(fig, "ja") and "信頼区間ではない" in interval_note(fig, "ja")
    assert interval_note(fig, "en").startswith("Shaded band: the prediction band")
    assert "95%信頼区間。" not in interval_note(fig, "ja")
    fig2, ax2 = plt.subplots()
    plotting.mark_interval(ax2.errorbar([1, 2], [3, 4], yerr=[0.5, 0.5]), "poisson_only")
    ax2.fill_between([1, 2], [2, 3], [4, 5])  # an unmarked band beside them: a CI
    assert interval_note(fig2, "ja") == ("帯は95%信頼区間。ひげは件数がポアソン分布に従う場合に"
                                         "限り有効な区間で、年ごとのばらつきを含まないため狭すぎる"
                                         "（注意点を参照）。")
    fig3, ax3 = plt.subplots()  # a band its legend calls a prediction interval (page 05)
    from wardanalysis.text.glossary import label

    ax3.fill_between([1, 2], [2, 3], [4, 5], label=label("counterfactual_pi95", "en"))
    assert "予測の幅" in interval_note(fig3, "ja")
    with pytest.raises(ValueError, match="unknown interval kind"):
        plotting.mark_interval(ax2.fill_between([1, 2], [2, 3], [4, 5]), "guess")
    plt.close("all")


@pytest.mark.parametrize("nb_result", ["its", "civil"])
def test_01s_prediction_band_and_civil_whiskers_say_what_they_are(nb_result):
    """01 図3 (the projection's band) and 図8 (civil-engineering rate ratios, whose intervals
    the caveats call too narrow), from the shipped data."""
    import matplotlib.pyplot as plt

    from wardanalysis.models.civil import civil_requests
    from wardanalysis.models.covid_verdict import verdict
    from wardanalysis.report import interval_note

    result = verdict().its if nb_result == "its" else civil_requests()
    for lang in ("ja", "en"):
        fig, _ = result.plot(lang=lang)
        note = interval_note(fig, lang)
        assert "95%信頼区間" not in note and "confidence intervals." not in note, note
        assert ("予測の幅" if nb_result == "its" else "狭すぎる") in note or (
            "prediction band" if nb_result == "its" else "too narrow") in note
        plt.close(fig)


def _svg_text(svg: str) -> set[str]:
    import html

    return {c for t in re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S)
            for c in html.unescape(re.sub(r"<[^>]+>", "", t)) if not c.isspace()}


def _embedded_cmap(markup_: str) -> set[str]:
    """The characters the WOFF embedded in ``markup_``'s figure font rule draws."""
    import base64
    import io

    from fontTools.ttLib import TTFont

    data = re.search(r'class="wa-figure-font">@font-face \{ font-family: "IPAexGothic"; '
                     r"src: url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", markup_)
    assert data, markup_[:400]
    font = TTFont(io.BytesIO(base64.b64decode(data[1])))
    return {chr(c) for c in font.getBestCmap()}


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_chart_carries_the_glyphs_of_its_text_and_a_page_drops_them(lang):
    """A chart as a notebook shows it embeds the package's font for exactly its text (so that
    JupyterLab draws it in IPAexGothic, Japanese included, on a machine without the font); a
    page, which embeds its own subset once, drops the chart's."""
    from wardanalysis.models.covid_verdict import verdict
    from wardanalysis.site.pages import page

    report.setup(lang)
    fig, _ = verdict().its.plot(lang=lang)
    shown = report.figure_html(fig, "caption", "alt", lang)
    text = _svg_text(shown)
    assert ("要" in text) == (lang == "ja") and "2" in text
    assert _embedded_cmap(shown) >= text
    assert "unicode-range: U+" in shown
    made = page(lang=lang, title="t", body=shown)
    assert "wa-figure-font" not in made and "<svg" in made
    assert made == page(lang=lang, title="t", body=re.sub(
        r'<style class="wa-figure-font">.*?</style>', "", shown))


def test_the_provenance_table_has_a_users_data_column_only_with_a_users_data(tmp_path):
    assert "overlay" not in report.provenance_table("ja").columns  # no empty column
    (tmp_path / "needs_reflection.csv").write_text(
        "fiscal_year,era_label,requests,requests_handled,priority_issues,decided_to_act,"
        "staff_consultations,section_chief_consultations,coordination_meetings\n"
        "2023,R5,651,587,3,3,3,1,0\n", encoding="utf-8")
    table = report.provenance_table("ja", tmp_path)
    mine = table[table["source"] == "needs_reflection.csv"]
    assert mine["overlay"].tolist() == ["✓"] and (table["overlay"] == "✓").sum() == 2


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_summary_box_glosses_the_terms_it_uses_and_only_those(monkeypatch, lang):
    from wardanalysis.results import Estimate
    from wardanalysis.text.messages import message

    class Ratio:
        caveats = ()

        def headline(self, lang):
            return "—"

        def key_figures(self):
            return [Estimate("requests.its_level_rr", 0.5, 0.3, 0.9, unit="rate ratio")]

    shown = []
    monkeypatch.setattr(report, "display", lambda *objs, **kw: shown.append(objs[0]))
    report.setup(lang)
    report.summary(lang, Ratio())
    box = shown[-1]["text/html"]
    rate, odds = message("reading.rate_ratio", lang), message("reading.odds_ratio", lang)
    assert 'class="wa-reading"' in box and rate in box and odds not in box
    report.summary(lang, answer="—")  # no term used: no line
    assert 'class="wa-reading"' not in shown[-1]["text/html"]


def test_a_date_never_breaks_across_lines(shown):
    """A date column is text (left-aligned) but, like a number, kept on one line: a printed
    table once broke 2020-10-01 as 2020-10-/01."""
    frame = pd.DataFrame({"note": ["a"], "as_of_date": pd.to_datetime(["2020-10-01"])})
    report.show_table(frame, "en")
    html = shown[-1]
    nowrap = {c for sel in re.findall(r"([^{}]*)\{[^}]*white-space: nowrap", html)
              for c in re.findall(r"_(col\d)", sel)}
    assert nowrap == {"col1"}
