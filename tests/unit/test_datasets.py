"""The data API: datasets(), load(), describe(), overlays and provenance."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

import wardanalysis as wa
from wardanalysis import paths
from wardanalysis.data import loading as ds_module
from wardanalysis.data import schema
from wardanalysis.data.readers import DataValidationError
from wardanalysis.models import _input

REQUIRED = {
    "needs_reflection": [
        "fiscal_year", "era_label", "requests", "requests_handled", "priority_issues",
        "decided_to_act", "staff_consultations", "section_chief_consultations",
        "coordination_meetings", "as_of",
    ],
    "civil_engineering_requests": ["fiscal_year", "category", "requests"],
    "machizukuri_budget": [
        "fiscal_year", "budget_thousand_yen", "reconstruction_thousand_yen", "period_label", "wards",
        "comparability_class",
    ],
}


@pytest.mark.parametrize(("name", "columns"), REQUIRED.items())
def test_required_datasets_have_exactly_these_columns(name, columns):
    assert name in list(wa.datasets()["name"])
    assert list(wa.load(name).columns) == columns


def test_required_years():
    assert wa.load("needs_reflection")["fiscal_year"].tolist() == list(range(2017, 2024))
    assert wa.load("machizukuri_budget")["fiscal_year"].tolist() == list(range(2013, 2025))
    assert sorted(wa.load("civil_engineering_requests")["fiscal_year"].unique()) == [2021, 2022]


@pytest.mark.parametrize("name", schema.dataset_names())
def test_every_dataset_loads_in_its_declared_shape(name):
    df = wa.load(name)
    meta = wa.describe(name)
    assert list(df.columns) == [c["name"] for c in meta["columns"]]
    assert len(df) > 0
    for col in meta["columns"]:
        assert col["description"]
    sources = yaml.safe_load((paths.shipped_data_dir() / "sources.yml").read_text(encoding="utf-8"))
    assert meta["source"]["id"] in sources
    prov = df.attrs["provenance"]
    assert prov["dataset"] == name and prov["shipped_sha256"] == meta["sha256"]


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(KeyError, match="needs_reflection"):
        wa.load("needs_reflections")


def test_describe_is_a_copy():
    meta = wa.describe("needs_reflection")
    meta["columns"].clear()
    assert wa.describe("needs_reflection")["columns"]


def test_load_returns_an_independent_frame():
    df = wa.load("needs_reflection")
    df.loc[0, "requests"] = -1
    assert wa.load("needs_reflection").loc[0, "requests"] == 1710


def test_dash_is_stored_as_zero_and_said_in_the_metadata():
    df = wa.load("needs_reflection").set_index("fiscal_year")
    assert df.loc[2020, "section_chief_consultations"] == 0
    assert any("'—'" in note and "0" in note for note in wa.describe("needs_reflection")["notes"])


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A private copy of the shipped data tree that the loader reads instead of data/."""
    root = tmp_path / "data"
    shutil.copytree(paths.shipped_data_dir(), root)
    monkeypatch.setattr(paths, "shipped_data_dir", lambda: root)
    monkeypatch.setattr(schema, "shipped_data_dir", lambda: root)
    monkeypatch.setattr(ds_module, "shipped_data_dir", lambda: root)
    for fn in (schema.get_schema, schema.dataset_names, ds_module._load_shipped):
        fn.cache_clear()
    yield root
    for fn in (schema.get_schema, schema.dataset_names, ds_module._load_shipped):
        fn.cache_clear()


def test_declared_totals_are_checked_at_every_load(data_copy):
    raw = data_copy / "raw" / "needs_reflection.csv"
    raw.write_text(raw.read_text(encoding="utf-8").replace('計,"6,471"', '計,"6,470"'), encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"row 9, column 'requests': declared total"):
        wa.load("needs_reflection")


def test_overlay_corrects_a_figure_without_touching_shipped_files(tmp_path):
    shipped = paths.shipped_data_dir() / "raw" / "needs_reflection.csv"
    before = shipped.read_bytes()
    user = tmp_path / "user"
    user.mkdir()
    (user / "needs_reflection.csv").write_text(
        "era_label,requests,requests_handled,priority_issues,decided_to_act,staff_consultations,"
        "section_chief_consultations,coordination_meetings\nR2,921,832,8,8,8,—,—\n",
        encoding="utf-8",
    )
    df = wa.load("needs_reflection", data_dir=user).set_index("fiscal_year")
    assert df.loc[2020, "requests"] == 921
    assert df.loc[2019, "requests"] == 999
    assert len(df) == 7
    prov = df.attrs["provenance"]
    assert prov["overlay_file"] == str(user / "needs_reflection.csv")
    assert prov["overlay_keys"] == [{"fiscal_year": 2020}]
    assert prov["overlay_changes"] == [{"key": {"fiscal_year": 2020}, "action": "replaces",
                                        "cells": {"requests": [920, 921]}}]
    assert shipped.read_bytes() == before


def test_overlay_that_leaves_a_gap_is_refused(tmp_path):
    (tmp_path / "needs_reflection.csv").write_text(
        "fiscal_year,requests,requests_handled,priority_issues,decided_to_act,staff_consultations,"
        "section_chief_consultations,coordination_meetings\n2025,600,500,3,3,3,0,0\n",
        encoding="utf-8",
    )
    with pytest.raises(DataValidationError, match=r"missing fiscal year\(s\) 2024"):
        wa.load("needs_reflection", data_dir=tmp_path)


_R2 = ("era_label,requests,requests_handled,priority_issues,decided_to_act,staff_consultations,"
       "section_chief_consultations,coordination_meetings\nR2,921,832,8,8,8,—,—\n")


def test_several_data_folders_are_laid_over_together(tmp_path):
    """A list of folders: each dataset's file is taken from whichever folder holds it; the same
    dataset in two folders is refused naming both files."""
    yearly, logs = tmp_path / "yearly", tmp_path / "logs"
    yearly.mkdir()
    logs.mkdir()
    (yearly / "needs_reflection.csv").write_text(_R2, encoding="utf-8")
    one = wa.load("needs_reflection", data_dir=[logs, yearly]).set_index("fiscal_year")
    assert one.loc[2020, "requests"] == 921
    assert one.attrs["provenance"]["overlay_file"] == str(yearly / "needs_reflection.csv")
    assert wa.data_checksum([logs, yearly]) == wa.data_checksum(yearly) != wa.data_checksum()
    (logs / "needs_reflection.csv").write_text(_R2, encoding="utf-8")
    with pytest.raises(DataValidationError) as info:
        wa.load("needs_reflection", data_dir=[logs, yearly])
    assert str(logs / "needs_reflection.csv") in str(info.value)
    assert str(yearly / "needs_reflection.csv") in str(info.value)


def test_overlay_dir_must_exist(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a directory"):
        wa.load("needs_reflection", data_dir=tmp_path / "nope")


def test_data_dir_without_the_dataset_file_gives_the_shipped_data(tmp_path):
    pd.testing.assert_frame_equal(wa.load("needs_reflection", tmp_path), wa.load("needs_reflection"))


def test_data_checksum_changes_with_an_overlay(tmp_path):
    base = wa.data_checksum()
    assert wa.data_checksum(tmp_path) == base
    (tmp_path / "needs_reflection.csv").write_text("x", encoding="utf-8")
    assert wa.data_checksum(tmp_path) != base


def test_checksum_manifest_lists_every_data_file():
    root = paths.shipped_data_dir()
    listed = {
        line.split(maxsplit=1)[1].strip().removeprefix("./")
        for line in (root / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    }
    actual = {
        str(p.relative_to(root)) for p in root.rglob("*")
        if p.is_file() and p.suffix in {".csv", ".yml", ".txt", ".md"}
    }
    assert listed == actual, "run `make checksums` after a deliberate change to shipped data"


def test_descriptor_errors_name_the_file(tmp_path):
    bad = tmp_path / "broken.yml"
    bad.write_text("name: broken\npath: x.csv\ncolour: red\n", encoding="utf-8")
    with pytest.raises(schema.SchemaError, match=r"broken.yml: unknown key\(s\) \['colour'\]"):
        schema._parse(Path(bad))


def test_data_dictionary_is_generated_from_the_descriptors():
    from wardanalysis.data.datadict import markdown

    committed = (paths.REPO_DIR / "docs" / "data_dictionary.md").read_text(encoding="utf-8")
    assert committed == markdown(), "run `make datadict` after changing a descriptor"


def test_an_optional_column_may_be_left_out_or_given(tmp_path):
    """needs_reflection.as_of is optional: the shipped file leaves it out (all missing), a
    user's file may give it, and a bad date in it is named by row and column."""
    assert wa.load("needs_reflection")["as_of"].isna().all()
    head = ("era_label,requests,requests_handled,priority_issues,decided_to_act,"
            "staff_consultations,section_chief_consultations,coordination_meetings")
    (tmp_path / "needs_reflection.csv").write_text(f"{head},as_of\nR6,701,602,5,4,5,1,—,2025-06-30\n",
                                                   encoding="utf-8")
    got = wa.load("needs_reflection", tmp_path)
    assert str(got.loc[got["fiscal_year"] == 2024, "as_of"].iloc[0].date()) == "2025-06-30"
    (tmp_path / "needs_reflection.csv").write_text(f"{head},as_of\nR6,701,602,5,4,5,1,—,2025-13-40\n",
                                                   encoding="utf-8")
    problems = wa.check(tmp_path)
    assert problems and problems[0].row == 2 and problems[0].column == "as_of"


def test_a_column_left_out_or_empty_takes_its_declared_default(tmp_path):
    """machizukuri_budget.comparability_class defaults to a: a user's file may leave the column
    out or a cell empty, and the rows are class a."""
    assert schema.get_schema("machizukuri_budget").column("comparability_class").default == "a"
    head = "period_label,budget_thousand_yen,reconstruction_thousand_yen,wards"
    (tmp_path / "machizukuri_budget.csv").write_text(f"{head}\nR7,\"100,000\",0,5\n",
                                                     encoding="utf-8")
    got = wa.load("machizukuri_budget", tmp_path)
    assert got.loc[got["fiscal_year"] == 2025, "comparability_class"].tolist() == ["a"]
    (tmp_path / "machizukuri_budget.csv").write_text(
        f"{head},comparability_class\nR7,\"100,000\",0,5,\n", encoding="utf-8")
    got = wa.load("machizukuri_budget", tmp_path)
    assert set(got["comparability_class"]) == {"a"}
    # a caller's frame too: population.set_names_inferred defaults to false
    pop = wa.load("population").drop(columns="set_names_inferred").head(3)
    got = _input.frame(pop, "population", ["population_persons"])
    assert got["set_names_inferred"].tolist() == [False] * 3 and got["set_names_inferred"].dtype == bool


def test_a_relative_data_dir_is_found_beside_the_project_or_named(tmp_path, monkeypatch):
    """A notebook in JupyterLab runs in notebooks/, the README's folders sit at the project
    root: a relative data_dir is looked for in the working directory, then the project root."""
    from wardanalysis.data.datafiles import DataDirError, resolve_data_dir
    from wardanalysis.paths import REPO_DIR

    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine").mkdir()
    assert resolve_data_dir("mine") == tmp_path / "mine"
    assert resolve_data_dir("data") == REPO_DIR / "data"  # not in cwd: the project root's
    with pytest.raises(DataDirError, match=r"'nowhere' is not a directory \(looked for "
                                           rf"{tmp_path}/nowhere or {REPO_DIR}/nowhere\)"):
        resolve_data_dir("nowhere")


def _workbook(path, sheets):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    wb.save(path)


NR_XLSX_HEAD = ["era_label", "requests", "requests_handled", "priority_issues", "decided_to_act",
                "staff_consultations", "section_chief_consultations", "coordination_meetings"]


def test_an_excel_overlay_is_read_like_a_csv(tmp_path):
    _workbook(tmp_path / "needs_reflection.xlsx",
              {"needs_reflection": [NR_XLSX_HEAD, ["R6", 701, 602, 5, 4, 5, 1, "—"]],
               "notes": [["anything"]]})
    df = wa.load("needs_reflection", tmp_path)
    assert df.loc[df["fiscal_year"] == 2024, "requests"].item() == 701


def test_an_excel_sheet_problem_names_the_sheet_row_and_column(tmp_path):
    _workbook(tmp_path / "needs_reflection.xlsx",
              {"Sheet1": [NR_XLSX_HEAD, ["R6", "多数", 602, 5, 4, 5, 1, 0]]})  # the only sheet
    (problem,) = wa.check(tmp_path)
    assert str(problem).endswith("needs_reflection.xlsx (sheet 'Sheet1'), row 2, column "
                                 "'requests': '多数' is not an integer")


def test_an_excel_file_without_the_sheet_or_beside_a_csv_is_named(tmp_path):
    _workbook(tmp_path / "needs_reflection.xlsx", {"a": [["x"]], "b": [["y"]]})
    assert "none is named 'needs_reflection'" in str(wa.check(tmp_path)[0])
    (tmp_path / "needs_reflection.csv").write_text(",".join(NR_XLSX_HEAD) + "\nR6,701,602,5,4,5,1,—\n",
                                                   encoding="utf-8")
    with pytest.raises(DataValidationError, match="holds both needs_reflection.csv and"):
        wa.load("needs_reflection", tmp_path)
