"""Hostile workbooks, by class: a sheet read within stated bounds (rows, columns, cells, unpacked
bytes; reading stops at the first empty stretch past the data), and read by a rule an analyst can
predict (which sheets count, what a formula cell means, upper-case extensions). Each case asserts
its one-line message naming the file, sheet, row or column. Workbooks are small and generated;
the bounds are lowered where a case would otherwise need a large file."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pytest

import wardanalysis as wa
from wardanalysis.data import readers

NR_HEAD = ["era_label", "requests", "requests_handled", "priority_issues", "decided_to_act",
           "staff_consultations", "section_chief_consultations", "coordination_meetings"]
NR_ROW = ["R6", 701, 602, 5, 4, 5, 1, 0]
MONTHLY_HEAD = ["fiscal_year", "month", "ward", "requests"]


def _workbook(path: Path, sheets: dict[str, list[list]], states: dict[str, str] | None = None
              ) -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        ws.sheet_state = (states or {}).get(title, "visible")
        for r in rows:
            ws.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _errors(problems) -> list[str]:
    return [str(p) for p in problems if p.is_error]


def _declare_huge(path: Path, empty_rows: int) -> None:
    """Rewrite the first sheet to declare A1:XFD<n> and ``empty_rows`` empty rows 16,384 columns
    wide, as the workbook of issue 24 did."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                last = 2 + empty_rows
                text, n = re.subn(r'<dimension ref="[^"]*"\s*/>',
                                  f'<dimension ref="A1:XFD{last}"/>', text)
                assert n == 1, text[:300]
                empty = "".join(f'<row r="{i}" spans="1:16384"/>' for i in range(3, last + 1))
                data = text.replace("</sheetData>", empty + "</sheetData>").encode()
            zout.writestr(item, data)
    tmp.replace(path)


# --- 1. bounded ----------------------------------------------------------------------------------

def test_a_sheet_declaring_16384_columns_and_200000_empty_rows_is_read_within_bounds(tmp_path):
    """The workbook of issue 24 (0.5 MB declaring A1:XFD200002): read as its one data row, in a
    child process whose peak resident memory stays under 800 MiB (it went past 2.5 GB when each
    row was padded to the declared width). The bound is the failure's order of magnitude, not a
    tight budget: the interpreter with pandas and openpyxl alone takes some 300 MiB."""
    path = _workbook(tmp_path / "data" / "needs_reflection.xlsx",
                     {"needs_reflection": [NR_HEAD, NR_ROW]})
    _declare_huge(path, 200_000)
    script = textwrap.dedent(f"""
        import resource
        import wardanalysis as wa
        assert not wa.check({str(path.parent)!r})
        df = wa.load("needs_reflection", {str(path.parent)!r})
        assert df.loc[df["fiscal_year"] == 2024, "requests"].item() == 701
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    peak_mib = int(out.stdout.strip()) / 1024  # Linux reports KiB
    assert peak_mib < 800, f"peak resident memory {peak_mib:.0f} MiB"


def test_too_many_rows_are_refused_naming_the_limit_and_the_row(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_ROWS", 30)
    rows = [[2013 + i // 12, 1 + i % 12, "東区", 10] for i in range(40)]
    _workbook(tmp_path / "monthly_requests.xlsx", {"monthly_requests": [MONTHLY_HEAD, *rows]})
    (line,) = _errors(wa.check(tmp_path))
    assert line == (f"{tmp_path / 'monthly_requests.xlsx'} (sheet 'monthly_requests'), row 32: "
                    "has more than 30 rows below the header, the limit of rows read from a sheet")


def test_a_csv_with_too_many_rows_is_refused_by_the_same_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_ROWS", 30)
    rows = "".join(f"{2013 + i // 12},{1 + i % 12},東区,10\n" for i in range(40))
    (tmp_path / "monthly_requests.csv").write_text(",".join(MONTHLY_HEAD) + "\n" + rows,
                                                   encoding="utf-8")
    (line,) = _errors(wa.check(tmp_path))
    assert line.endswith("row 32: has more than 30 rows below the header, the limit of rows "
                         "read from a file")


def test_data_beyond_the_column_limit_is_refused_naming_the_row(tmp_path):
    far = [*NR_ROW] + [None] * (readers.MAX_COLUMNS - len(NR_ROW)) + ["note"]  # column 51
    _workbook(tmp_path / "needs_reflection.xlsx", {"needs_reflection": [NR_HEAD, NR_ROW, far]})
    (line,) = _errors(wa.check(tmp_path))
    assert line.endswith("(sheet 'needs_reflection'), row 3: has data beyond column 50, the "
                         "limit of columns read from a sheet")


def test_too_many_cells_are_refused_naming_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_CELLS", 20)
    rows = [[2013, m, "東区", 10] for m in range(1, 13)]  # 4 columns: the 6th row passes 20
    _workbook(tmp_path / "monthly_requests.xlsx", {"monthly_requests": [MONTHLY_HEAD, *rows]})
    (line,) = _errors(wa.check(tmp_path))
    assert line.endswith("row 6: has more than 20 cells, the limit of cells read from a sheet")


def test_reading_stops_at_the_first_empty_stretch_past_the_data(tmp_path, monkeypatch):
    """Rows below a stretch of EMPTY_STRETCH empty rows are not read: the rule the README states."""
    monkeypatch.setattr(readers, "EMPTY_STRETCH", 10)
    rows = [[2023, m, "東区", 10] for m in (4, 5)]
    below = [[None]] * 10 + [[2023, 6, "東区", "not read"]]
    _workbook(tmp_path / "monthly_requests.xlsx",
              {"monthly_requests": [MONTHLY_HEAD, *rows, *below]})
    assert not wa.check(tmp_path)
    assert wa.load("monthly_requests", tmp_path)["month"].tolist() == [4, 5]
    monkeypatch.setattr(readers, "EMPTY_STRETCH", 11)  # a shorter gap is inside the data
    assert "'not read' is not an integer" in _errors(wa.check(tmp_path))[0]


def test_a_workbook_that_unpacks_beyond_the_limit_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_UNPACKED_BYTES", 2048)
    _workbook(tmp_path / "needs_reflection.xlsx", {"needs_reflection": [NR_HEAD, NR_ROW]})
    (line,) = _errors(wa.check(tmp_path))
    assert re.search(r"needs_reflection\.xlsx: unpacks to [\d,]+ bytes, above the limit of "
                     "2,048 bytes for a workbook$", line), line


# --- 2. read by a rule an analyst can predict ------------------------------------------------------

@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_only_visible_sheets_count_and_a_hidden_one_is_named(tmp_path, state):
    """A hidden sheet named after the dataset, beside the visible sheet: the visible figures are
    read, and check's warning names the sheet that was not."""
    _workbook(tmp_path / "needs_reflection.xlsx",
              {"Sheet1": [NR_HEAD, NR_ROW],
               "needs_reflection": [NR_HEAD, ["R6", 999, 602, 5, 4, 5, 1, 0]]},
              states={"needs_reflection": state})
    (warning,) = wa.check(tmp_path)
    assert not warning.is_error
    assert str(warning) == (f"{tmp_path / 'needs_reflection.xlsx'} (sheet 'Sheet1'): warning: "
                            "hidden sheet(s) 'needs_reflection' not read: only visible sheets "
                            "count")
    df = wa.load("needs_reflection", tmp_path)
    assert df.loc[df["fiscal_year"] == 2024, "requests"].item() == 701


def test_two_visible_sheets_without_the_datasets_name_are_listed(tmp_path):
    _workbook(tmp_path / "monthly_requests.xlsx",
              {"a": [MONTHLY_HEAD], "b": [MONTHLY_HEAD], "c": [MONTHLY_HEAD]},
              states={"c": "hidden"})
    (line,) = _errors(wa.check(tmp_path))
    assert line == (f"{tmp_path / 'monthly_requests.xlsx'}: has 2 visible sheet(s) ('a', 'b') "
                    "and none is named 'monthly_requests': name the sheet to read after the "
                    "dataset; hidden sheet(s) 'c' are never read")


def _with_cached_value(path: Path, formula: str, cached: str) -> None:
    """Give a formula the result a program saved with it (openpyxl saves none)."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text, n = re.subn(rf"(<f>{re.escape(formula)}</f>)(<v\s*/>|<v></v>)?",
                                  rf"\1<v>{cached}</v>", data.decode())
                assert n == 1, text[:500]
                data = text.encode()
            zout.writestr(item, data)
    tmp.replace(path)


@pytest.mark.parametrize(("dataset", "head", "row", "cell", "column"), [
    ("needs_reflection", NR_HEAD, ["R6", "=700+1", 602, 5, 4, 5, 1, 0], "B2", "requests"),
    ("monthly_requests", MONTHLY_HEAD, [2023, 4, "東区", "=700+1"], "D2", "requests"),
    ("monthly_requests", MONTHLY_HEAD, ["=2022+1", 4, "東区", 5], "A2", "fiscal_year"),
])
def test_a_formula_cell_is_refused_naming_the_cell_even_with_a_saved_result(
        tmp_path, dataset, head, row, cell, column):
    """No library here calculates formulas, and the result saved with one may be stale (999 where
    the formula gives 701): a formula is refused, with or without a saved result."""
    path = _workbook(tmp_path / f"{dataset}.xlsx", {dataset: [head, row]})
    formula = next(str(v)[1:] for v in row if str(v).startswith("="))
    _with_cached_value(path, formula, "999")
    (line,) = _errors(wa.check(tmp_path))
    assert line == (f"{path} (sheet {dataset!r}), row 2, column {column!r}: cell {cell} holds a "
                    f"formula ('={formula}'); formulas are not calculated here and the result "
                    "saved with one may be stale: paste the cells as values "
                    "(形式を選択して貼り付け → 値) and save")


def test_many_formula_cells_are_capped(tmp_path):
    rows = [[2013 + i // 12, 1 + i % 12, "東区", f"={i}+1"] for i in range(30)]
    _workbook(tmp_path / "monthly_requests.xlsx", {"monthly_requests": [MONTHLY_HEAD, *rows]})
    lines = _errors(wa.check(tmp_path))
    assert len(lines) == 21 and "10 more problem(s) like" in lines[-1]


@pytest.mark.parametrize("name", ["needs_reflection.XLSX", "needs_reflection.Xlsx",
                                  "needs_reflection.CSV"])
def test_an_upper_case_extension_is_read_by_check_load_and_the_batch_alike(tmp_path, name):
    from wardanalysis.batch.cache import dataset_files
    from wardanalysis.data.datafiles import data_checksum, overlay_path

    path = tmp_path / name
    if name.lower().endswith(".csv"):
        path.write_text(",".join(NR_HEAD) + "\n" + ",".join(map(str, NR_ROW)) + "\n",
                        encoding="utf-8")
    else:
        _workbook(path, {"needs_reflection": [NR_HEAD, NR_ROW]})
    assert wa.check(tmp_path) == []
    assert overlay_path("needs_reflection", tmp_path) == path
    assert dataset_files("needs_reflection", tmp_path)[-1] == path  # the batch's fingerprint
    before = data_checksum(tmp_path)
    df = wa.load("needs_reflection", tmp_path)
    assert df.loc[df["fiscal_year"] == 2024, "requests"].item() == 701
    assert df.attrs["provenance"]["overlay_file"] == str(path)
    path.unlink()
    assert data_checksum(tmp_path) != before


def test_the_same_dataset_in_two_cases_of_extension_is_refused(tmp_path):
    (tmp_path / "needs_reflection.csv").write_text(",".join(NR_HEAD) + "\n", encoding="utf-8")
    _workbook(tmp_path / "needs_reflection.XLSX", {"needs_reflection": [NR_HEAD, NR_ROW]})
    with pytest.raises(readers.DataValidationError,
                       match="holds both needs_reflection.XLSX and needs_reflection.csv: keep one"):
        wa.load("needs_reflection", tmp_path)


def test_the_readme_states_the_bounds_the_reader_applies():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    for stated in (f"{readers.MAX_ROWS:,} rows", f"{readers.MAX_COLUMNS} columns",
                   f"{readers.MAX_CELLS:,} cells",
                   f"{readers.MAX_UNPACKED_BYTES // 2**20} MB",
                   f"first {readers.EMPTY_STRETCH:,} empty rows"):
        assert stated in readme, stated
