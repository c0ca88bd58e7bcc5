"""The office's own headers (issue 23 §1): each column's Japanese label and declared aliases are
accepted as headers, `check` says which header became which column, `describe` lists them, and
`wardanalysis template DATASET` writes a workbook in those headers that `check` accepts."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

import wardanalysis as wa
from wardanalysis.data import schema
from wardanalysis.data.template import GUIDE_SHEET, write_template

OFFICE_HEAD = ["年度", "要望・相談件数", "うち対応済", "区重要課題件数", "「対応する」とした件数",
               "担当者協議", "課長協議", "地域課題調整会議"]


def _sheet(path: Path, title: str, rows: list[list]) -> Path:
    wb = openpyxl.Workbook()
    wb.active.title = title
    for r in rows:
        wb.active.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def test_an_excel_sheet_in_the_offices_headers_is_read_and_the_mapping_said(tmp_path, cli):
    """The issue's sheet, headed 年度 / 要望・相談件数 / うち対応済 …, failed check with three
    problems; it is read, and check says which header became which column."""
    _sheet(tmp_path / "needs_reflection.xlsx", "needs_reflection",
           [OFFICE_HEAD, ["令和6年度", 701, 602, 5, 4, 5, 1, "—"]])
    df = wa.load("needs_reflection", tmp_path)
    row = df[df["fiscal_year"] == 2024].iloc[0]
    assert (row["requests"], row["requests_handled"], row["coordination_meetings"]) == (701, 602, 0)
    run = cli("check", str(tmp_path))
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    i = lines.index("Headers read as columns (a Japanese label or a declared alias):")
    assert lines[i + 1] == ("  needs_reflection.xlsx: '年度' → era_label, '要望・相談件数' → requests, "
                            "'うち対応済' → requests_handled, '区重要課題件数' → priority_issues, "
                            "'「対応する」とした件数' → decided_to_act, '担当者協議' → "
                            "staff_consultations, '課長協議' → section_chief_consultations, "
                            "'地域課題調整会議' → coordination_meetings")


def test_aliases_width_and_spaces_do_not_matter_and_a_csv_is_read_alike(tmp_path):
    """An alias, full-width brackets and a stray space in a header still name the column."""
    (tmp_path / "monthly_requests.csv").write_text(
        "年度,月,区名,要望 件数,対応済件数\n2023,4,東区,58,51\n", encoding="utf-8")
    assert wa.check(tmp_path) == []
    df = wa.load("monthly_requests", tmp_path)
    assert df[["fiscal_year", "month", "ward", "requests", "requests_handled"]].iloc[0].tolist() \
        == [2023, 4, "東区", 58, 51]
    (tmp_path / "monthly_requests.csv").write_text(
        "年度（西暦）,月,区,件数\n2023,4,東区,58\n", encoding="utf-8")
    found = " ".join(str(p) for p in wa.check(tmp_path))  # 年度（西暦） is needs_reflection's
    assert "unexpected column(s): '年度(西暦)'" in found


def test_one_column_under_two_headers_is_refused(tmp_path):
    (tmp_path / "monthly_requests.csv").write_text(
        "fiscal_year,month,requests,要望・相談件数\n2023,4,58,58\n", encoding="utf-8")
    (problem,) = wa.check(tmp_path)
    assert (problem.row, problem.message) == (1, "duplicated column(s): requests")


def test_a_header_naming_two_columns_is_refused_in_the_descriptor(tmp_path):
    text = (schema._meta_dir() / "inputs" / "monthly_requests.yml").read_text(encoding="utf-8")
    bad = tmp_path / "monthly_requests.yml"
    bad.write_text(text.replace('label_ja: "月"', 'label_ja: "年度"'), encoding="utf-8")
    with pytest.raises(schema.SchemaError, match="column 'month': header '年度' also names "
                                                 "'fiscal_year'"):
        schema._parse(bad)


def test_describe_lists_the_headers_accepted(cli):
    out = cli("describe", "request_log").stdout
    assert "      headers also accepted: 受付日, 受付年月日" in out.splitlines()
    meta = wa.describe("request_log")
    col = next(c for c in meta["columns"] if c["name"] == "received_date")
    assert (col["label_ja"], col["aliases"]) == ("受付日", ["受付年月日"])


@pytest.mark.parametrize("name", [*schema.dataset_names(), *schema.input_names()])
def test_a_template_is_headed_in_japanese_and_passes_check_as_written(tmp_path, name):
    path = write_template(name, tmp_path)
    assert path == tmp_path / f"{name}.xlsx"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [name, GUIDE_SHEET]
    header = [c.value for c in wb[name][1]]
    cols = {c.name: c for c in schema.get_schema(name).columns}
    for h in header:
        assert h in cols or any(c.label_ja == h for c in cols.values()), h
    assert any(v is not None for v in next(wb[name].iter_rows(min_row=2, values_only=True)))
    guide = list(wb[GUIDE_SHEET].iter_rows(values_only=True))
    assert [r[0] for r in guide[1:]] == header  # one line per column, in the sheet's order
    assert [p for p in wa.check(tmp_path) if p.is_error] == []


def test_the_template_command_writes_and_never_overwrites_unasked(tmp_path, cli):
    run = cli("template", "monthly_requests", cwd=tmp_path)
    assert run.returncode == 0 and (tmp_path / "monthly_requests.xlsx").is_file()
    ws = openpyxl.load_workbook(tmp_path / "monthly_requests.xlsx")["monthly_requests"]
    assert [c.value for c in ws[1]] == ["年度", "月", "区", "要望・相談件数", "うち対応済"]
    assert ws["D1"].comment.text == "requests [cases (件)]"
    again = cli("template", "monthly_requests", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.strip() == (f"wardanalysis template: {tmp_path / 'monthly_requests.xlsx'} "
                                    "exists; pass --force to replace it")
    assert cli("template", "monthly_requests", "--force", cwd=tmp_path).returncode == 0
    unknown = cli("template", "monthly_request", cwd=tmp_path)
    assert unknown.returncode == 2 and unknown.stderr.startswith(
        "wardanalysis template: unknown dataset 'monthly_request'")
