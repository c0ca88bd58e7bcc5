"""wardanalysis.batch.cache: input keys, dataset fingerprints, and when a report is reused."""

from __future__ import annotations

import json

import pytest

from wardanalysis.batch import cache

OVERLAY = ("fiscal_year,era_label,requests,requests_handled,priority_issues,decided_to_act,"
           "staff_consultations,section_chief_consultations,coordination_meetings\n"
           "2023,R5,651,587,3,3,3,1,0\n")


def _key(**changes):
    base = {"notebook_sha": "a" * 64, "parameters": {"lang": "ja", "fiscal_year": 2023,
                                                      "data_dir": None},
            "kernel": "python3", "shared_data": "s"}
    base.update(changes)
    return cache.input_key(**base)


def test_input_key_is_stable_and_sensitive_to_each_input():
    assert _key() == _key()
    assert _key(parameters={"data_dir": None, "fiscal_year": 2023, "lang": "ja"}) == _key()
    variants = [
        _key(notebook_sha="b" * 64),
        _key(parameters={"lang": "en", "fiscal_year": 2023, "data_dir": None}),
        _key(parameters={"lang": "ja", "fiscal_year": 2022, "data_dir": None}),
        _key(kernel="other"),
        _key(shared_data="t"),
    ]
    assert len({_key(), *variants}) == 1 + len(variants)


def test_package_and_dependency_fingerprints_are_hex_digests():
    for fp in (cache.package_fingerprint(), cache.dependency_fingerprint(),
               cache.shared_data_fingerprint()):
        assert len(fp) == 64 and int(fp, 16) >= 0


def test_dataset_fingerprint_follows_the_content_of_the_overlay(tmp_path):
    shipped = cache.dataset_fingerprint("needs_reflection", None)
    # a data directory without this dataset's file is no overlay, wherever it is
    assert cache.dataset_fingerprint("needs_reflection", tmp_path) == shipped
    without = cache.dataset_fingerprint("needs_reflection", tmp_path)
    overlay = tmp_path / "needs_reflection.csv"
    overlay.write_text(OVERLAY, encoding="utf-8")
    with_overlay = cache.dataset_fingerprint("needs_reflection", tmp_path)
    assert with_overlay != without
    overlay.touch()  # the time changes, the content does not
    assert cache.dataset_fingerprint("needs_reflection", tmp_path) == with_overlay
    overlay.write_text(OVERLAY.replace("651", "652"), encoding="utf-8")
    assert cache.dataset_fingerprint("needs_reflection", tmp_path) != with_overlay
    # another dataset's fingerprint does not move
    assert (cache.dataset_fingerprint("machizukuri_budget", tmp_path)
            == cache.dataset_fingerprint("machizukuri_budget", tmp_path))


def test_dataset_files_are_descriptor_transcription_and_overlay(tmp_path):
    assert [f.name for f in cache.dataset_files("needs_reflection", tmp_path)] == [
        "needs_reflection.yml", "needs_reflection.csv"]  # no overlay file: none counted
    (tmp_path / "needs_reflection.xlsx").write_bytes(b"x")
    files = cache.dataset_files("needs_reflection", tmp_path)
    assert [f.name for f in files] == ["needs_reflection.yml", "needs_reflection.csv",
                                       "needs_reflection.xlsx"]
    assert files[0].is_file() and files[1].is_file() and files[2].parent == tmp_path
    assert "needs_reflection" in cache.dataset_names()


def _report(tmp_path, **changes):
    (tmp_path / "r").mkdir(exist_ok=True)
    (tmp_path / "r" / "review.html").write_text("x")
    report = {"status": "ok", "key": "K",
              "datasets": {"needs_reflection": cache.dataset_fingerprint("needs_reflection",
                                                                         tmp_path)},
              "files": {"review": "r/review.html"}}
    report.update(changes)
    return report


def test_reusable_only_when_key_datasets_and_files_all_match(tmp_path):
    now = cache.dataset_fingerprints(tmp_path)
    report = _report(tmp_path)
    assert cache.reusable(report, "K", now, tmp_path, tmp_path)
    assert not cache.reusable(report, "other key", now, tmp_path, tmp_path)
    assert not cache.reusable(None, "K", now, tmp_path, tmp_path)
    assert not cache.reusable(_report(tmp_path, status="failed"), "K", now, tmp_path, tmp_path)
    assert not cache.reusable(_report(tmp_path, files={"review": "gone.html"}), "K", now,
                              tmp_path, tmp_path)
    # the dataset it read changed
    (tmp_path / "needs_reflection.csv").write_text(OVERLAY, encoding="utf-8")
    assert not cache.reusable(report, "K", cache.dataset_fingerprints(tmp_path), tmp_path,
                              tmp_path)


def test_a_change_to_a_dataset_not_read_does_not_matter(tmp_path):
    report = _report(tmp_path)
    (tmp_path / "machizukuri_budget.csv").write_text("anything", encoding="utf-8")
    assert cache.reusable(report, "K", cache.dataset_fingerprints(tmp_path), tmp_path, tmp_path)


def test_fiscal_years_are_cached_under_the_data_key(tmp_path, monkeypatch):
    cache_file = tmp_path / "fy.json"
    years = cache.fiscal_years_in_data(None, cache_file)
    assert years == list(range(2013, 2025))
    assert json.loads(cache_file.read_text())["value"] == years

    from wardanalysis.data import loading

    def no_loading(*args, **kwargs):
        raise AssertionError("the cached answer should have been used")

    monkeypatch.setattr(loading, "load", no_loading)
    assert cache.fiscal_years_in_data(None, cache_file) == years
    # new data → a new key → the data is read again
    overlay_dir = tmp_path / "overlay"
    overlay_dir.mkdir()
    (overlay_dir / "needs_reflection.csv").write_text(OVERLAY, encoding="utf-8")
    with pytest.raises(AssertionError, match="cached answer"):
        cache.fiscal_years_in_data(overlay_dir, cache_file)
