"""Every page says when it was made, what the data are as of and the version; the city's
document is a page linked from every report; table downloads have names a reader recognises."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from wardanalysis.report import download_name
from wardanalysis.site import render
from wardanalysis.site.front import front_page_html

LANGS = ("ja", "en")


def _info(lang, data_dir=None):
    return {"lang": lang, "notebook": "01_requests_covid", "notebook_file": "01.ipynb",
            "fiscal_year": None, "parameters": {"lang": lang, "data_dir": data_dir},
            "data_checksum": "c" * 64, "package_version": "7.7.7", "status": "ok"}


@pytest.mark.parametrize("lang", LANGS)
def test_a_report_footer_says_when_from_what_and_links_the_document(lang):
    foot = render.footer(_info(lang))
    today = dt.datetime.now(dt.UTC).date()
    assert (f"{today.year}年{today.month}月{today.day}日" if lang == "ja"
            else today.isoformat()) in foot
    assert ("2024年6月26日" if lang == "ja" else "26 June 2024") in foot  # the review's date
    assert "7.7.7" in foot
    # links from the report's own address (01_requests_covid/<lang>/) …
    assert f'href="../../source_review/{lang}/index.html"' in foot
    # … and from the error page of a failed execution, one folder deeper (failed/)
    failed = render.footer({**_info(lang), "status": "failed"})
    assert f'href="../../../source_review/{lang}/index.html"' in failed
    assert "my_figures" in render.footer(_info(lang, "/home/a/my_figures"))  # an overlay named


@pytest.mark.parametrize("lang", LANGS)
def test_the_front_page_says_when_from_what_and_which_version(lang):
    manifest = {"run": {"package_version": "7.7.7", "data_dir": None},
                "reports": [{"notebook": "source_review", "fiscal_year": None, "lang": lang,
                             "report": {"status": "ok", "headline": None,
                                        "finished": "2026-03-04T05:06:07Z"}}]}
    page = front_page_html(manifest, lang)
    assert ("2026年3月4日" if lang == "ja" else "2026-03-04") in page and "7.7.7" in page
    assert 'href="source_review/' + lang + '/index.html"' in page
    # a page that answers no question is not listed among the answers
    assert 'class="wa-summary"' not in page


def test_a_table_downloads_under_its_report_number_and_section():
    assert download_name("令和5年度（2023年度）の状況", 3, "比較") == "令和5年度（2023年度）の状況-03-比較.csv"
    assert download_name('a/b: "c"?', 1, "") == "a_b_c-01.csv"
    assert "\n" not in download_name("x\ny", 2, "s\tt")


def test_the_transcription_is_shown_escaped_with_its_headings(monkeypatch):
    from wardanalysis import report

    shown = []
    monkeypatch.setattr(report, "_show_html", lambda fragment, text: shown.append(fragment))
    report.transcription("en")
    page = "".join(shown)
    assert "<h1>" in page and 'lang="ja"' in page  # an English heading around the Japanese text
    assert '<h2 class="wa-unnumbered">本庁と区役所の在り方について</h2>' in page
    assert "<h3" in page and "<strong>" in page and "<script" not in page.lower()
    assert "令和6年（2024年）6月26日" in page


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_every_source_line_of_the_front_page_gives_its_quality_marks(lang):
    from wardanalysis.data.sources import sources
    from wardanalysis.site.front import source_lines

    lines = source_lines(lang)
    assert lines
    for line in lines:
        assert "品質記号 、" not in line and "quality ;" not in line, line
    marks = {m for meta in sources().values() for m in [meta.get("quality"),
                                                         *(meta.get("quality_marks") or {})] if m}
    assert all(any(m in line for m in marks) for line in lines)


def test_the_transcriptions_tables_are_tables_and_its_html_lists_plain_lines(monkeypatch):
    from wardanalysis import report

    shown = []
    monkeypatch.setattr(report, "_show_html", lambda fragment, text: shown.append(fragment))
    report.transcription("ja")
    page = "".join(shown)
    assert "<td>H29</td><td>1,710件</td>" in page  # the request table of section 2
    assert "&lt;ul" not in page and "&lt;li" not in page and "<ul style" not in page
    assert "<br>・平成30年度以降は" in page  # one line per item of the cell's list
    # every heading level is a heading, and a bold phrase over a line break is bold
    assert "#" not in re.sub(r"&#\d+;", "", page) and "**" not in page
    assert "<strong>熊本市指定史跡<br>釣耕園・叢桂園一帯の整備</strong>" in page
    # the document's "- " items are list items, their continuation lines inside them
    assert "<p>- " not in page and "<li>- " not in page
    assert "<li>地域担当職員が地域に直接足を運び" in page


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_the_front_page_explains_every_term_a_summary_box_may_gloss(lang):
    """One definition of each term: the front page's 'how to read' lists the glosses the
    summary boxes use, word for word; English glosses are sentences of their own."""
    from markupsafe import escape  # as the page's templates escape text

    from wardanalysis.text.messages import glosses

    page = front_page_html({"reports": [], "run": {}}, lang)
    assert glosses(lang) and all(str(escape(g)) in page for g in glosses(lang))
    if lang == "en":
        assert all(g[0].isupper() for g in glosses(lang))


def test_a_sources_quality_marks_are_those_its_rows_carry():
    """Not the legend of every mark: the marks of the rows built from each source, read here
    through the loader (pandas), not the front page's CSV reading."""
    import wardanalysis as wa
    from wardanalysis.data.schema import dataset_names, get_schema
    from wardanalysis.data.sources import marks_used, sources

    for sid, meta in sources().items():
        names = [n for n in dataset_names() if get_schema(n).source.get("id") == sid]
        rows = {q for n in names for q in (wa.load(n)["quality"] if "quality" in wa.load(n)
                                          else [])}
        expected = {meta["quality"]} if meta.get("quality") else rows
        assert set(marks_used(sid)) == expected, sid
