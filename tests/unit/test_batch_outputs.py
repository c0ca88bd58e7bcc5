"""wardanalysis.batch.outputs: atomic writes, results.csv, index.html, clean-up, the lock."""

from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import pytest

from wardanalysis.batch import outputs
from wardanalysis.site import results_files
from wardanalysis.site.runlog import run_log_html


def _attempt(run, status="ok", records=(), error=None, files=None, d=None):
    return {"status": status, "run_id": run, "dir": d, "error": error, "records": list(records),
            "files": files or {}, "parameters": {"lang": "ja", "data_dir": None},
            "duration_s": 1.25, "data_checksum": "c" * 64, "package_version": "0.1.0",
            "finished": "2026-01-01T00:00:00Z"}


def _rec(key, value, lo=None, hi=None, unit="cases"):
    return {"key": key, "value": value, "ci_low": lo, "ci_high": hi, "unit": unit}


def _entries():
    return {
        "b/en": {"id": "b/en", "notebook": "b", "fiscal_year": None, "lang": "en",
                 "report": _attempt("r1", records=[_rec("x", 2.0)]), "failure": None},
        "b/ja": {"id": "b/ja", "notebook": "b", "fiscal_year": None, "lang": "ja",
                 "report": _attempt("r1", records=[_rec("x", 2.0), _rec("a", 0.1, 0.05, 0.2)]),
                 "failure": None},
        "a/fy2023-ja": {"id": "a/fy2023-ja", "notebook": "a", "fiscal_year": 2023, "lang": "ja",
                        "report": _attempt("r1", records=[_rec("y", 650.0)]), "failure": None},
        "a/fy2022-ja": {"id": "a/fy2022-ja", "notebook": "a", "fiscal_year": 2022, "lang": "ja",
                        "report": _attempt("r0", records=[_rec("y", 504.0)]),
                        "failure": _attempt("r1", "failed", error="ValueError: <bad> & worse")},
    }


def test_write_atomic_replaces_whole_files_and_leaves_no_temporaries(tmp_path):
    target = tmp_path / "sub" / "index.html"
    outputs.write_atomic(target, "one")
    outputs.write_atomic(target, "two")
    assert target.read_text() == "two"
    assert os.listdir(target.parent) == ["index.html"]


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "results.csv"
    outputs.write_atomic(target, "old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(outputs.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        outputs.write_atomic(target, "new")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["results.csv"]


def test_manifest_orders_entries_and_marks_stale_reports():
    manifest = outputs.build_manifest(_entries(), {"id": "r1"})
    assert [e["id"] for e in manifest["reports"]] == ["b/ja", "b/en", "a/fy2022-ja",
                                                      "a/fy2023-ja"]
    stale = manifest["reports"][2]
    assert stale["status"] == "failed" and stale["stale"] is True
    assert all(e["status"] == "ok" and not e["stale"] for i, e in enumerate(manifest["reports"])
               if i != 2)


def test_results_csv_has_current_results_only_in_a_fixed_order():
    manifest = outputs.build_manifest(_entries(), {})
    rows = list(csv.reader(io.StringIO(results_files.results_csv(manifest))))
    assert rows[0] == list(results_files.RESULT_COLUMNS)
    assert rows[1:] == [
        ["a", "2023", "ja", "y", "650", "", "", "cases", "", "", "{\"data_dir\": null}", ""],
        ["b", "", "ja", "x", "2", "", "", "cases", "", "", "{\"data_dir\": null}", ""],
        ["b", "", "ja", "a", "0.1", "0.05", "0.2", "cases", "", "", "{\"data_dir\": null}", ""],
        ["b", "", "en", "x", "2", "", "", "cases", "", "", "{\"data_dir\": null}", ""],
    ]  # a/fy2022 failed: its stale numbers are left out


def test_index_groups_by_fiscal_year_and_escapes(tmp_path):
    manifest = outputs.build_manifest(_entries(), {"id": "r1", "summary": "done"})
    page = run_log_html(manifest)
    assert page.index("All fiscal years") < page.index("FY2022") < page.index("FY2023")
    assert "ValueError: &lt;bad&gt; &amp; worse" in page
    assert "<bad>" not in page
    assert "stale" in page
    assert "1.2 s" in page and "0.1.0" in page and "c" * 12 in page


def _publish(out, rel, *names):
    d = out / rel
    d.mkdir(parents=True)
    for name in ("job.json", *names):
        (d / name).write_text("{}")
    return d


def test_garbage_collection_removes_only_what_the_manifest_no_longer_names(tmp_path):
    out = tmp_path
    keep = _publish(out, "nb/ja", "index.html", "full.html")
    repaired = _publish(out, "nb/ja/failed", "error.html", "kernel.log")  # failure since repaired
    pruned = _publish(out, "nb/2023/ja", "index.html")
    (pruned / "notes.txt").write_text("a reader's own file")
    old = _publish(out, "nb/en/20250101T000000-bbbbbb", "review.html")  # the earlier layout
    (out / ".staging" / "x").mkdir(parents=True)
    manifest = {"reports": [{"id": "nb/ja", "report": {"dir": "nb/ja"}, "failure": None}]}
    assert outputs.collect_garbage(out, manifest) == 3
    assert sorted(p.name for p in keep.iterdir()) == ["full.html", "index.html", "job.json"]
    assert not repaired.exists() and not old.exists() and not (out / "nb" / "en").exists()
    assert [p.name for p in pruned.iterdir()] == ["notes.txt"]  # not ours: kept, and its folder
    assert not (out / ".staging").exists()


def test_an_execution_is_placed_file_by_file_with_its_record_last(tmp_path, monkeypatch):
    final = _publish(tmp_path, "nb/ja", "index.html", "kernel.log")
    (final / "notes.txt").write_text("mine")
    stage = tmp_path / "stage"
    stage.mkdir()
    for name in ("job.json", "index.html", "notebook.ipynb"):
        (stage / name).write_text(f"new {name}")
    order = []
    real = outputs.os.replace
    monkeypatch.setattr(outputs.os, "replace", lambda a, b: (order.append(Path(b).name),
                                                              real(a, b)))
    outputs.place(stage, final)
    assert order[-1] == "job.json" and sorted(order) == ["index.html", "job.json",
                                                          "notebook.ipynb"]
    assert (final / "index.html").read_text() == "new index.html"
    assert not (final / "kernel.log").exists()  # the earlier execution's, not this one's
    assert (final / "notes.txt").read_text() == "mine" and not stage.exists()


def test_commit_writes_manifest_results_run_log_and_both_front_pages(tmp_path):
    manifest = outputs.build_manifest(_entries(), {"id": "r1"})
    outputs.commit(tmp_path, manifest)
    assert outputs.read_manifest(tmp_path)["reports"][0]["id"] == "b/ja"
    assert (tmp_path / "results.csv").read_text().startswith("notebook,fiscal_year")
    ja = (tmp_path / "index.html").read_text(encoding="utf-8")
    en = (tmp_path / "index.en.html").read_text(encoding="utf-8")
    assert '<html lang="ja">' in ja and '<html lang="en">' in en
    assert 'href="index.en.html"' in ja and 'href="index.html"' in en
    # the fiscal-year grid links each report's stable address; a failure is flagged
    assert 'href="a/2023/ja/index.html"' in ja and "2023年度" in ja
    assert "失敗" in ja and "failed" in en
    log = (tmp_path / "runs.html").read_text(encoding="utf-8")
    assert "ValueError: &lt;bad&gt; &amp; worse" in log
    # the run log in each language, each front page linking its own
    log_ja = (tmp_path / "runs.ja.html").read_text(encoding="utf-8")
    assert '<html lang="ja">' in log_ja and "実行記録" in log_ja and "失敗" in log_ja
    assert 'href="runs.ja.html"' in ja and 'href="runs.html"' in en


def test_the_japanese_run_log_has_no_english_label():
    """Every label of runs.ja.html comes from the catalogue; what is left in Latin letters is
    data (notebook names, parameters, checksums, versions, file names, the error as quoted)."""
    import html
    import re

    run = {"id": "r1", "total": 3, "executed": 2, "reused": 1, "failed": 1, "seconds": 12.5,
           "interrupted": True}
    manifest = outputs.build_manifest(_entries(), run)
    page = run_log_html(manifest, "ja")
    assert "直近の実行 r1：報告書3件のうち、実行2件、再利用1件" in html.unescape(page)
    assert "（途中で中断）" in page and "reused" not in page
    text = html.unescape(re.sub(r"<style>.*?</style>|<[^>]+>", " ", page, flags=re.S))
    english = {"All fiscal years", "Fiscal year", "notebook", "status", "parameters", "duration",
               "reviewer view", "full view", "stale", "Machine-readable", "Reports for readers",
               "Jump to", "earlier report kept", "ok,", "Last run", "executed"}
    assert not [w for w in english if w in text], text


def test_unreadable_manifest_counts_as_empty(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    assert outputs.read_manifest(tmp_path) == {"reports": []}


def test_second_run_on_the_same_directory_is_refused(tmp_path):
    with outputs.locked(tmp_path):
        with pytest.raises(outputs.OutputLockedError, match="another"):
            with outputs.locked(tmp_path):
                pass
    with outputs.locked(tmp_path):  # released
        pass


def test_results_csv_numbers_have_no_float_noise():
    assert results_files._csv_number(1269.9999999999934) == "1270"
    assert results_files._csv_number(0.5238188976377965) == "0.523818897638"
    assert results_files._csv_number(None) == ""
    assert results_files._parameters({"lang": "ja", "fiscal_year": 2023, "covid_end": 2022,
                                "data_dir": None}) == '{"covid_end": 2022, "data_dir": null}'


def test_results_xlsx_holds_every_estimate_as_numbers_and_is_reproducible(tmp_path):
    import io

    from openpyxl import load_workbook

    manifest = outputs.build_manifest(_entries(), {})
    data = results_files.results_xlsx(manifest)
    assert data == results_files.results_xlsx(manifest)  # the same bytes for the same results
    # ... whenever they are written: no date of the clock inside (two calls a second apart
    # would differ; openpyxl's save() stamps the modified date)
    import zipfile

    core = zipfile.ZipFile(io.BytesIO(data)).read("docProps/core.xml").decode()
    assert re.findall(r"<dcterms:(?:created|modified)[^>]*>([^<]*)<", core) == [
        "2000-01-01T00:00:00Z"] * 2
    ws = load_workbook(io.BytesIO(data))["results"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:7] == ("notebook", "fiscal_year", "lang", "key", "label_ja", "label_en",
                           "value")
    assert len(rows) - 1 == len(list(csv.reader(io.StringIO(results_files.results_csv(manifest))))) - 1
    a = next(r for r in rows if r[3] == "a")
    assert a[6] == 0.1 and a[7] == 0.05 and isinstance(a[6], float)
    assert a[-1] == "b/ja/index.html"


def test_an_exploratory_run_is_marked_on_both_front_pages_and_the_mark_goes_with_it(tmp_path):
    outputs.commit(tmp_path, outputs.build_manifest(
        _entries(), {"id": "r1", "exploratory": ["covid_end=2022"]}))
    ja = (tmp_path / "index.html").read_text(encoding="utf-8")
    en = (tmp_path / "index.en.html").read_text(encoding="utf-8")
    assert "試算" in ja and "covid_end=2022" in ja
    assert "Exploratory run" in en and "covid_end=2022" in en
    outputs.commit(tmp_path, outputs.build_manifest(_entries(), {"id": "r2", "exploratory": []}))
    assert "試算" not in (tmp_path / "index.html").read_text(encoding="utf-8")


def test_the_front_page_reads_each_reports_headline_and_needs_no_code_for_a_new_notebook(
        tmp_path):
    """The front page lists every report of all years by the headline its summary box carried:
    a notebook the package has never heard of (no catalogue question) appears under its own
    title; one made from simulated data is listed apart from the findings; text is escaped."""
    from wardanalysis.site.front import front_page_html

    def entry(nb, headline):
        return {"id": f"{nb}/ja", "notebook": nb, "fiscal_year": None, "lang": "ja",
                "report": {**_attempt("r1"), "headline": headline}, "failure": None}

    manifest = outputs.build_manifest({
        "01/ja": entry("01_requests_covid", {"title": "t", "answer": "答えの文。",
                                             "figures": ["図1：0.5", "図2"], "simulated": False}),
        "07/ja": entry("07_new_study", {"title": "新しい<問い>", "answer": "新しい答え。",
                                        "figures": [], "simulated": False}),
        "04/ja": entry("04_data_needed", {"title": "t", "answer": "模擬の答え。", "figures": [],
                                          "simulated": True}),
    }, {"id": "r1"})
    page = front_page_html(manifest, "ja")
    findings, _, apart = page.partition("データの設計と分析の例示")
    assert "要望・相談の減少はコロナによるものか" in findings and "答えの文。" in findings
    assert "図1" not in page  # each number once: the answer states its own
    assert "新しい&lt;問い&gt;" in findings and "新しい答え。" in findings
    assert "模擬の答え。" in apart and "模擬の答え。" not in findings
    assert "95%信頼区間は" in page  # how to read the pages


def test_a_malformed_headline_is_an_error_not_a_page():
    from wardanalysis.records import HEADLINE_MIME, collected_headline

    def nb(h):
        return {"cells": [{"cell_type": "code", "outputs": [
            {"output_type": "display_data", "data": {HEADLINE_MIME: h}}]}]}

    good = {"title": "t", "answer": "a", "figures": ["f"], "simulated": False}
    assert collected_headline(nb(good)) == good
    assert collected_headline({"cells": []}) is None
    with pytest.raises(ValueError, match="malformed headline"):
        collected_headline(nb({**good, "figures": [1]}))
