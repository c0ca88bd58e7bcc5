"""request_log and monthly_requests: schemas, office dates, checks, aggregation, reconciliation."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

import wardanalysis as wa
from wardanalysis import cli
from wardanalysis.data import inputs, schema
from wardanalysis.data.readers import DataValidationError
from wardanalysis.data.validation import parse_office_date
from wardanalysis.models import simulate

HEADER = ("request_id,received_date,ward,handled_date,is_priority_issue,level_reached,"
          "is_decided_to_act\n")


def _write(tmp_path, name, text):
    path = tmp_path / f"{name}.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_input_datasets_are_declared_but_not_shipped():
    assert schema.input_names() == ("monthly_requests", "request_log")
    for name in schema.input_names():
        s = schema.get_schema(name)
        assert s.input_only and s.path == ""
        assert name not in list(wa.datasets()["name"])  # not part of the shipped data's listing


@pytest.mark.parametrize("text, expected", [
    ("2023/4/1", dt.date(2023, 4, 1)), ("2023-04-01", dt.date(2023, 4, 1)),
    ("令和5年4月1日", dt.date(2023, 4, 1)), ("R5.4.1", dt.date(2023, 4, 1)),
    ("Ｒ５．４．１", dt.date(2023, 4, 1)), ("平成31年4月30日", dt.date(2019, 4, 30)),
    ("令和元年5月1日", dt.date(2019, 5, 1)), ("45017", dt.date(2023, 4, 1)),
    ("43466", dt.date(2019, 1, 1)), ("2023-04-01T09:30:00", dt.date(2023, 4, 1)),
])
def test_office_dates(text, expected):
    assert parse_office_date(text) == expected


@pytest.mark.parametrize("text", ["2023/2/30", "R5.2.30", "平成31年5月1日", "R5.4", "2023", "x"])
def test_impossible_or_partial_dates_are_refused(text):
    with pytest.raises(ValueError):
        parse_office_date(text)


def test_request_log_problems_name_row_and_column(tmp_path):
    path = _write(tmp_path, "request_log", HEADER + "\n".join([
        "A1,2023/4/1,中央区,R5.4.10,true,課長協議,true",
        "A2,2023/2/30,東区,,false,,",
        "A3,2001/4/1,西区,,false,,",
        "A4,2023/5/1,南区,2023/4/30,false,,",
        "A5,2023/5/1,北区,,true,,false",
        "A6,2023/5/1,北区,,false,担当者協議,true",
        "A1,2023/5/2,北区,,false,,",
        "A8,2023/5/2,博多区,,false,,",
    ]) + "\n")
    found = {(p.row, p.column): p.message for p in wa.check(path)}
    assert "does not exist" in found[(3, "received_date")] or "out of range" in found[(3, "received_date")]
    assert "fiscal year 2001" in found[(4, "received_date")]
    assert "received_date <= handled_date" in found[(5, "received_date")]
    assert "2023-05-01" in found[(5, "received_date")]  # dates without a midnight time
    assert "must name the level" in found[(6, "level_reached")]
    assert "not a priority issue" in found[(7, "level_reached")]
    assert "only a priority issue" in found[(7, "is_decided_to_act")]
    assert "duplicate key" in found[(8, "request_id")]
    assert "博多区" in found[(9, "ward")]
    assert all(str(path) in str(p) for p in wa.check(path))


def test_monthly_requests_checks(tmp_path):
    path = _write(tmp_path, "monthly_requests", "fiscal_year,month,ward,requests,requests_handled\n"
                  "2023,4,,80,70\n2023,13,,5,\n2023,5,東区,10,12\n2023,4,,81,\n")
    found = {(p.row, p.column): p.message for p in wa.check(path)}
    assert "above the maximum" in found[(3, "month")]
    assert "breaks the rule" in found[(4, "requests_handled")]
    assert "duplicate key" in found[(5, "fiscal_year")]


def test_load_reads_an_input_from_data_dir_only(tmp_path):
    with pytest.raises(inputs.InputMissingError, match="ships no such data"):
        wa.load("request_log", tmp_path)
    _write(tmp_path, "request_log", HEADER + "A1,R5.4.1,中央区,45030,true,課長協議,true\n"
           "A2,令和5年4月3日,東区,,false,,\n")
    log = wa.load("request_log", tmp_path)
    assert list(log["received_date"].dt.date) == [dt.date(2023, 4, 1), dt.date(2023, 4, 3)]
    assert log.loc[0, "handled_date"].date() == dt.date(2023, 4, 14)
    assert log.attrs["provenance"]["simulated"] is False


def test_excel_log_with_serial_and_real_dates(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "request_log"
    ws.append(HEADER.strip().split(","))
    ws.append(["A1", 45017, "中央区", dt.datetime(2023, 4, 20), True, "担当者協議", False])
    ws.append(["A2", "R5.4.2", "西区", None, False, None, None])
    wb.save(tmp_path / "request_log.xlsx")
    log = wa.load("request_log", tmp_path)
    assert log["received_date"].dt.date.tolist() == [dt.date(2023, 4, 1), dt.date(2023, 4, 2)]
    assert log["handled_date"].isna().tolist() == [False, True]


def _tiny_log() -> pd.DataFrame:
    rows = [  # id, received, ward, handled, priority, level, decided
        ("a", "2023-04-01", "中央区", "2023-04-10", True, "地域課題調整会議", True),
        ("b", "2023-04-15", "東区", None, True, "課長協議", False),
        ("c", "2023-05-02", "東区", "2024-07-01", True, "担当者協議", True),
        ("d", "2024-03-31", "西区", "2024-04-01", False, None, False),
        ("e", "2024-04-01", "西区", None, False, None, None),
    ]
    log = pd.DataFrame(rows, columns=["request_id", "received_date", "ward", "handled_date",
                                      "is_priority_issue", "level_reached", "is_decided_to_act"])
    for c in ("received_date", "handled_date"):
        log[c] = pd.to_datetime(log[c])
    return log


def test_yearly_aggregate_counts_levels_cumulatively_and_handling_by_as_of():
    y = inputs.yearly_needs(_tiny_log(), as_of="2024-06-26").set_index("fiscal_year")
    assert y.loc[2023, "requests"] == 4 and y.loc[2024, "requests"] == 1
    assert y.loc[2023, "requests_handled"] == 2  # c is handled after the as-of date
    assert y.loc[2023, "priority_issues"] == 3 and y.loc[2023, "decided_to_act"] == 2
    assert (y.loc[2023, "staff_consultations"], y.loc[2023, "section_chief_consultations"],
            y.loc[2023, "coordination_meetings"]) == (3, 2, 1)
    assert y.loc[2023, "era_label"] == "R5"
    later = inputs.yearly_needs(_tiny_log(), as_of="2024-07-01").set_index("fiscal_year")
    assert later.loc[2023, "requests_handled"] == 3


def test_monthly_aggregate_fills_empty_months():
    m = inputs.monthly_counts(_tiny_log(), as_of="2024-06-26")
    assert len(m) == 13  # 2023-04 … 2024-04
    assert m["requests"].sum() == 5
    assert m.loc[(m["fiscal_year"] == 2023) & (m["month"] == 6), "requests"].item() == 0
    assert m.loc[(m["fiscal_year"] == 2023) & (m["month"] == 3), "requests"].item() == 1
    w = inputs.monthly_counts(_tiny_log(), by_ward=True)
    assert set(w["ward"]) == {"中央区", "東区", "西区"} and len(w) == 39
    assert w["requests"].sum() == 5


def test_reconciliation_reports_differences():
    published = pd.DataFrame({"fiscal_year": [2023, 2025], "requests": [4, 9],
                              "requests_handled": [1, 1]})
    agg = inputs.yearly_needs(_tiny_log(), as_of="2024-06-26")
    rec = inputs.reconciliation(agg, published)
    assert set(rec["fiscal_year"]) == {2023}
    r = rec.set_index("column")
    assert r.loc["requests", "difference"] == 0
    assert r.loc["requests_handled", "aggregate"] == 2 and r.loc["requests_handled", "difference"] == 1


def test_monthly_input_prefers_city_rows_and_sums_wards():
    monthly = pd.DataFrame({"fiscal_year": [2023, 2023, 2023, 2023], "month": [4, 4, 5, 5],
                            "ward": [pd.NA, "東区", "東区", "西区"], "requests": [10, 3, 4, 5]})
    city = inputs.monthly_from_input(monthly)
    assert city["requests"].tolist() == [10, 9]


def test_check_prints_the_reconciliation(tmp_path, capsys):
    log = simulate.simulate_request_log(range(2022, 2024), seed=3)
    out = log.assign(received_date=log["received_date"].dt.strftime("%Y/%-m/%-d"),
                     handled_date=log["handled_date"].dt.strftime("%Y-%m-%d"))
    out.drop(columns=["center", "category", "channel"]).to_csv(tmp_path / "request_log.csv",
                                                               index=False)
    assert cli.main(["check", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "compared with the published table" in text
    assert "FY2022: requests" in text and "FY2023:" in text


def test_simulated_log_passes_its_own_schema(tmp_path):
    log = simulate.simulate_request_log(range(2019, 2022), seed=11)
    assert simulate.is_simulated(log)
    log.to_csv(tmp_path / "request_log.csv", index=False, date_format="%Y-%m-%d")
    assert [p for p in wa.check(tmp_path) if p.is_error] == []
    back = wa.load("request_log", tmp_path)
    assert len(back) == len(log) and not simulate.is_simulated(back)


def test_a_bad_input_stops_load(tmp_path):
    _write(tmp_path, "request_log", HEADER + "A1,2023/2/30,中央区,,false,,\n")
    with pytest.raises(DataValidationError, match="row 2"):
        wa.load("request_log", tmp_path)


def test_the_batch_fingerprints_an_input_file_by_content_not_place(tmp_path):
    from wardanalysis.batch import cache

    assert {"request_log", "monthly_requests"} <= set(cache.dataset_names())
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    none = cache.dataset_fingerprint("request_log", a)
    _write(a, "request_log", HEADER + "A1,2023/4/1,中央区,,false,,\n")
    _write(b, "request_log", HEADER + "A1,2023/4/1,中央区,,false,,\n")
    with_file = cache.dataset_fingerprint("request_log", a)
    assert with_file != none and cache.dataset_fingerprint("request_log", b) == with_file
    assert cache.dataset_files("request_log", None)[0].parent.name == "inputs"
