"""data/corrections.yml: known source problems, written down rather than patched."""

from __future__ import annotations

import yaml

import wardanalysis as wa
from wardanalysis.paths import shipped_data_dir

ROOT = shipped_data_dir()
ENTRIES = yaml.safe_load((ROOT / "corrections.yml").read_text(encoding="utf-8"))
SOURCES = yaml.safe_load((ROOT / "sources.yml").read_text(encoding="utf-8"))
FIELDS = {"id", "dataset", "source", "location", "source_says", "package_uses", "why",
          "source_says_ja", "package_uses_ja", "why_ja"}


def test_every_entry_is_complete_and_names_real_datasets_and_sources():
    assert isinstance(ENTRIES, list) and ENTRIES
    ids = [e["id"] for e in ENTRIES]
    assert len(ids) == len(set(ids))
    for entry in ENTRIES:
        assert set(entry) == FIELDS, entry["id"]
        assert all(entry[k] for k in FIELDS), entry["id"]
        assert entry["source"] in SOURCES, entry["id"]
        assert entry["dataset"] and set(entry["dataset"]) <= set(wa.datasets()["name"]), entry["id"]


def test_the_known_problems_are_recorded():
    ids = {e["id"] for e in ENTRIES}
    assert {
        "civil_engineering_spacing",
        "machizukuri_center_opening_year",
        "citizen_ten_years_one_billion",
        "hamamatsu_unconfirmed",
        "nordot_republication",
    } <= ids


def test_the_spacing_entry_quotes_what_the_document_prints():
    doc = (ROOT / "snapshots" / "kumamoto_review_2024.txt").read_text(encoding="utf-8")
    entry = next(e for e in ENTRIES if e["id"] == "civil_engineering_spacing")
    assert "5, 569件" in doc and "5, 569件" in entry["source_says"]


def test_the_ten_year_sum_stated_is_the_documents():
    """The entry says the document's FY2013–FY2022 budgets sum to 1,100,000千円 (in each
    language's unit: thousand yen in English, 千円 in Japanese)."""
    df = wa.load("machizukuri_budget").set_index("fiscal_year")
    total = int(df.loc[2013:2022, "budget_thousand_yen"].sum())
    entry = next(e for e in ENTRIES if e["id"] == "citizen_ten_years_one_billion")
    assert f"{total:,} thousand yen" in entry["why"]
    assert f"{total:,}千円" in entry["why_ja"]
