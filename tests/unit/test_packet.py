"""wardanalysis.site.packet: the committee packet printed from a tiny reports folder."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from wardanalysis import cli
from wardanalysis.site import packet
from wardanalysis.site.pages import page
from wardanalysis.site.render import stable_dir

needs_chromium = pytest.mark.skipif(shutil.which("chromium") is None,
                                    reason="Debian's chromium is not installed")
needs_poppler = pytest.mark.skipif(shutil.which("pdffonts") is None,
                                   reason="poppler-utils (pdffonts, pdftotext) is not installed")

_FY = packet.FISCAL_YEAR_NOTEBOOK


def _report(nb, fy, lang, answer=None):
    headline = {"title": f"{nb} title", "answer": answer, "simulated": False} if answer else None
    return {"id": f"{nb}/{fy}/{lang}", "notebook": nb, "fiscal_year": fy, "lang": lang,
            "report": {"status": "ok", "headline": headline}, "failure": None}


@pytest.fixture
def reports(tmp_path):
    """Two reports of all years and two fiscal years, in Japanese, each page long enough to
    run over a page break."""
    out = tmp_path / "reports"
    entries = [_report("01_requests_covid", None, "ja", "コロナ期間の件数はコロナ前の約半分。"),
               _report("03_budgets_cross_city", None, "ja", "予算は比較対象の中で低い方。"),
               _report(_FY, 2022, "ja"), _report(_FY, 2023, "ja")]
    for x in entries:
        title = {"01_requests_covid": "要望・相談の報告", "03_budgets_cross_city": "予算の報告"}.get(
            x["notebook"], f"{x['fiscal_year']}年度の報告")
        sections = "".join(f'<h2 id="s{i}">{i}. 節{i}</h2>' + "<p>本文の段落です。</p>" * 12
                           for i in range(1, 5))
        body = (f'<h1>{title}</h1><nav class="wa-toc"><a href="#s1">節1</a></nav>{sections}'
                '<p><a href="../../index.html">一覧</a></p>')
        d = out / stable_dir(x["notebook"], x["fiscal_year"], "ja")
        d.mkdir(parents=True)
        (d / "index.html").write_text(page(lang="ja", title=title, body=body), encoding="utf-8")
    (out / "manifest.json").write_text(json.dumps(
        {"run": {"package_version": "9.9.9", "exploratory": []}, "reports": entries},
        ensure_ascii=False), encoding="utf-8")
    return out


def test_the_packet_html_has_its_parts_in_order_with_ids_of_their_own(reports):
    text, parts = packet.packet_html(reports, "ja", made=__import__("datetime").date(2026, 1, 2))
    titles = [t for _, t in parts]
    # the answers, the reports in order (02 is missing), only the latest fiscal year, sources
    assert titles == ["問いと答え", "要望・相談の報告", "予算の報告", "2023年度の報告", "データの出典"]
    assert "2022年度の報告" not in text
    assert "2026年1月2日" in text and "9.9.9" in text
    # each part's section ids are its own; a link to another page is text, an answer links
    # to its part of the packet
    assert 'id="part-01_requests_covid-s1"' in text and 'href="#part-01_requests_covid-s1"' in text
    assert 'href="../../index.html"' not in text
    assert 'href="#part-01_requests_covid"' in text


def test_the_fiscal_year_in_the_packet_is_the_latest_full_one():
    """A year whose data so far hold only its budget (3 records against 12) is not the year the
    packet prints; with no such year, the latest."""
    def entry(fy, n):
        x = _report(_FY, fy, "ja")
        x["report"]["records"] = [{"key": f"k{i}"} for i in range(n)]
        return x

    reports = {(_FY, fy, "ja"): entry(fy, n) for fy, n in ((2022, 12), (2023, 12), (2024, 3))}
    assert packet._latest_full_year(reports, "ja") == [2023]
    assert packet._latest_full_year(reports, "en") == []
    del reports[(_FY, 2024, "ja")]
    assert packet._latest_full_year(reports, "ja") == [2023]


@needs_chromium
@needs_poppler
def test_the_packet_is_an_a4_pdf_with_page_numbers_contents_and_embedded_fonts(reports):
    import datetime as dt

    written = packet.build_packets(reports, langs=("ja",), made=dt.date(2026, 1, 2))
    pdf = reports / "packet.ja.pdf"
    assert written == [pdf] and pdf.stat().st_size > 10_000
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "(A4)" in info
    n = int(re.search(r"Pages:\s+(\d+)", info)[1])
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True,
                           check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts  # emb column
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                           text=True, check=True).stdout.split("\f")[:n]
    assert "1 /" not in pages[0]  # no number on the cover
    for i, text in enumerate(pages[1:], start=2):
        assert re.search(rf"\b{i} / {n}\s*$", text.rstrip()), (i, text[-200:])
    # the contents give the page each part starts on, and that page shows its title
    contents = pages[1]
    for title in ("要望・相談の報告", "予算の報告", "2023年度の報告", "データの出典"):
        m = re.search(rf"{title}[ .]*?(\d+)\s*$", contents, re.M)
        assert m, (title, contents)
        assert title in pages[int(m[1]) - 1].replace(" ", "")


def test_without_chromium_the_packet_is_skipped_in_one_line(reports, monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert cli.main(["packet", "--reports-dir", str(reports)]) == 0
    said = capsys.readouterr().out.strip().splitlines()
    assert said == ["wardanalysis packet: chromium is not installed, the packet was skipped"]
    assert not list(reports.glob("*.pdf"))


def test_a_folder_without_a_manifest_is_named(tmp_path, capsys):
    assert cli.main(["packet", "--reports-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "manifest.json" in err and len(err.splitlines()) == 1
