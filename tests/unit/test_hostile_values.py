"""Values that cannot be true, by class, each refused by `check` (and by `load`, so never by a
later step that cannot name the cell) with a message naming file, row and column: whole numbers
that do not fit 64 bits (never wrapped), dates after the day of the check, fiscal years and
months that have not happened, and counts beyond the generous bound each descriptor declares.
The field, the dataset and the file kind vary."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest

import wardanalysis as wa
from wardanalysis.data import schema, validation
from wardanalysis.data.readers import DataValidationError
from wardanalysis.paths import shipped_data_dir

NR_HEAD = ["era_label", "requests", "requests_handled", "priority_issues", "decided_to_act",
           "staff_consultations", "section_chief_consultations", "coordination_meetings"]
LOG_HEAD = ["request_id", "received_date", "ward", "handled_date", "is_priority_issue",
            "level_reached", "is_decided_to_act"]
MONTHLY_HEAD = ["fiscal_year", "month", "ward", "requests"]


def _write(directory: Path, dataset: str, kind: str, head: list, rows: list[list]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{dataset}.{kind}"
    if kind == "csv":
        with open(path, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows([head, *([("" if v is None else v) for v in r]
                                              for r in rows)])
    else:
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = dataset
        for r in [head, *rows]:
            ws.append(r)
        wb.save(path)
    return path


def _only_error(directory: Path) -> validation.Problem:
    errors = [p for p in wa.check(directory) if p.is_error]
    assert len(errors) == 1, errors
    return errors[0]


# --- whole numbers fit 64 bits ----------------------------------------------------------------

@pytest.mark.parametrize(("dataset", "kind", "head", "row", "column", "shown"), [
    ("needs_reflection", "csv", NR_HEAD, ["R6", "12345678901234567890", 602, 5, 4, 5, 1, 0],
     "requests", "'12345678901234567890'"),
    ("needs_reflection", "csv", NR_HEAD, ["R6", 701, 602, 5, 4, 5, 1, "-9223372036854775809"],
     "coordination_meetings", "'-9223372036854775809'"),
    ("monthly_requests", "xlsx", MONTHLY_HEAD, [2023, 4, "東区", 1e20], "requests",
     "'100000000000000000000'"),
    ("civil_engineering_requests", "csv", ["era_label", "category", "requests"],
     ["R6", "road", "9,223,372,036,854,775,808"], "requests", "'9,223,372,036,854,775,808'"),
])
def test_a_whole_number_beyond_64_bits_is_refused_never_wrapped(tmp_path, dataset, kind, head,
                                                                 row, column, shown):
    path = _write(tmp_path, dataset, kind, head, [row])
    problem = _only_error(tmp_path)
    assert (problem.row, problem.column) == (2, column)
    assert problem.message == (f"{shown} does not fit a 64-bit whole number (at most "
                               "9,223,372,036,854,775,807 either side of 0)")
    assert problem.file.startswith(str(path))
    with pytest.raises(DataValidationError, match="does not fit a 64-bit whole number"):
        wa.load(dataset, tmp_path)


def test_the_largest_64_bit_number_is_read_exactly_where_a_column_allows_it(tmp_path):
    """The bound is the storage's, not a rounding: 2**63 − 1 is kept to the last digit (no
    descriptor allows it, so a column is widened here for the test)."""
    col = validation.Column("n", "integer", "a count", min=0, max=2**63 - 1)
    assert validation._parse_cell(str(2**63 - 1), col) == (2**63 - 1, None)
    assert validation._parse_cell(str(2**63), col)[1].endswith("either side of 0)")


# --- dates no later than the day of the check ---------------------------------------------------

def _log_row(rid: str, received: object, handled: object) -> list:
    return [rid, received, "東区", handled, False, None, None]


@pytest.mark.parametrize(("kind", "row", "column", "shown"), [
    ("csv", _log_row("a", "2099-04-01", None), "received_date", "'2099-04-01' is 2099-04-01"),
    ("csv", _log_row("a", "2023-04-01", "2100/1/1"), "handled_date",
     "'2100/1/1' is 2100-01-01"),
    ("xlsx", _log_row("a", dt.datetime(2023, 4, 1), dt.datetime(2099, 5, 1)), "handled_date",
     "'2099-05-01' is 2099-05-01"),
])
def test_a_date_in_the_future_is_refused_naming_the_cell(tmp_path, kind, row, column, shown):
    _write(tmp_path, "request_log", kind, LOG_HEAD, [row])
    problem = _only_error(tmp_path)
    assert (problem.row, problem.column) == (2, column)
    assert problem.message == (f"{shown}, after today ({dt.date.today():%Y-%m-%d}): a recorded "
                               "date cannot be in the future")


def test_today_is_accepted_and_tomorrow_is_not(tmp_path, monkeypatch):
    monkeypatch.setattr(validation, "today", lambda: dt.date(2024, 6, 26))
    _write(tmp_path, "request_log", "csv", LOG_HEAD,
           [_log_row("a", "2024-06-26", "2024-06-26"), _log_row("b", "2024-06-26", "2024-06-27")])
    problem = _only_error(tmp_path)
    assert (problem.row, problem.column) == (3, "handled_date")
    assert "after today (2024-06-26)" in problem.message


def test_a_future_as_of_date_is_refused(tmp_path):
    """needs_reflection's as_of dates the handled counts: it cannot be later than today either."""
    _write(tmp_path, "needs_reflection", "csv", [*NR_HEAD, "as_of"],
           [["R6", 701, 602, 5, 4, 5, 1, 0, "2099-06-26"]])
    problem = _only_error(tmp_path)
    assert (problem.row, problem.column) == (2, "as_of")
    assert "after today" in problem.message


def test_a_date_in_the_future_fails_check_not_a_later_step(tmp_path, cli):
    """The issue's case: a received date of 2099 passed check and then failed in the analysis
    with an era message naming no file or row. Now check refuses it, one line, exit 1."""
    _write(tmp_path, "request_log", "csv", LOG_HEAD,
           [_log_row("a", "2023-04-01", "2023-04-10"), _log_row("b", "2099-04-01", None)])
    run = cli("check", str(tmp_path))
    assert run.returncode == 1
    (line,) = [ln for ln in run.stdout.splitlines() if "request_log.csv" in ln]
    assert line.startswith(f"{tmp_path / 'request_log.csv'}, row 3, column 'received_date': "
                           "'2099-04-01' is 2099-04-01, after today")


# --- fiscal years and months that have not happened --------------------------------------------

@pytest.mark.parametrize(("dataset", "kind", "head", "row"), [
    ("monthly_requests", "csv", MONTHLY_HEAD, [2099, 4, "東区", 5]),
    ("monthly_requests", "xlsx", MONTHLY_HEAD, [2099, 4, None, 5]),
    ("civil_engineering_requests", "csv", ["fiscal_year", "category", "requests"],
     [2099, "park", 5]),
])
def test_a_fiscal_year_after_the_next_is_refused(tmp_path, dataset, kind, head, row):
    _write(tmp_path, dataset, kind, head, [row])
    problem = _only_error(tmp_path)
    assert (problem.row, problem.column) == (2, "fiscal_year")
    latest = dt.date.today().year + 1
    assert problem.message == f"fiscal year 2099 is after the next fiscal year ({latest})"


def test_a_month_after_the_current_one_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(validation, "today", lambda: dt.date(2024, 6, 15))
    _write(tmp_path, "monthly_requests", "csv", MONTHLY_HEAD,
           [[2024, 6, "東区", 5], [2024, 7, "東区", 5], [2023, 3, "東区", 5]])
    problem = _only_error(tmp_path)
    assert (problem.row, problem.column) == (3, "month")
    assert problem.message == ("FY2024 month 7 (2024-07) is after the current month (2024-06), "
                               "so it cannot have been counted")


# --- counts within the descriptor's generous bound ----------------------------------------------

@pytest.mark.parametrize(("dataset", "kind", "head", "row", "column", "bound"), [
    ("monthly_requests", "csv", MONTHLY_HEAD, [2023, 4, "東区", "9200000000000000000"],
     "requests", "1,000,000"),
    ("monthly_requests", "xlsx", MONTHLY_HEAD, [2023, 4, "東区", 1_000_001], "requests",
     "1,000,000"),
    ("needs_reflection", "csv", NR_HEAD, ["R6", "20000000", 602, 5, 4, 5, 1, 0], "requests",
     "10,000,000"),
    ("population", "csv", None, None, "population_persons", "100,000,000"),
])
def test_a_count_beyond_the_declared_bound_is_refused(tmp_path, dataset, kind, head, row,
                                                      column, bound):
    if head is None:  # a shipped row with its count raised beyond the bound
        with open(shipped_data_dir() / "raw" / f"{dataset}.csv", encoding="utf-8") as fh:
            head, row, *_ = csv.reader(fh)
        row[head.index(column)] = "200000000"
        _write(tmp_path, dataset, "csv", head, [row])
    else:
        _write(tmp_path, dataset, kind, head, [row])
    problem = _only_error(tmp_path)
    assert (problem.row, problem.column) == (2, column)
    assert problem.message.endswith(f"is above the maximum {bound}")
    assert schema.get_schema(dataset).column(column).max == int(bound.replace(",", ""))


def test_a_population_of_zero_is_refused(tmp_path):
    """Budgets are divided by a population: its descriptor's minimum of 1 refuses a 0 in a
    user's file at loading, naming the row and column."""
    with open(shipped_data_dir() / "raw" / "population.csv", encoding="utf-8") as fh:
        head, row, *_ = csv.reader(fh)
    row[head.index("population_persons")] = "0"
    _write(tmp_path, "population", "csv", head, [row])
    problem = _only_error(tmp_path)
    assert (problem.row, problem.column) == (2, "population_persons")
    assert problem.message.endswith("is below the minimum 1")
    with pytest.raises(DataValidationError, match="below the minimum 1"):
        wa.load("population", tmp_path)


def test_a_centres_real_volume_passes_far_below_the_bound(tmp_path):
    """A consultation log of some 10,000 requests a year, and its monthly counts, pass."""
    rows = [[f"R{i:05d}", dt.date(2023, 4, 1) + dt.timedelta(days=i % 365), "東区", None,
             False, None, None] for i in range(10_000)]
    _write(tmp_path / "log", "request_log", "csv", LOG_HEAD, rows)
    assert wa.check(tmp_path / "log") == []
    months = [[2023, m, None, 10_000 // 12 + 1] for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]
    _write(tmp_path / "monthly", "monthly_requests", "xlsx", MONTHLY_HEAD, months)
    assert wa.check(tmp_path / "monthly") == []


def test_every_number_column_declares_its_bounds(tmp_path):
    """A descriptor whose count has no maximum is refused when read, so no dataset can accept
    9.2×10¹⁸ requests; every shipped and input descriptor declares both bounds."""
    for name in (*schema.dataset_names(), *schema.input_names()):
        for col in schema.get_schema(name).columns:
            if col.type in {"integer", "number"}:
                assert col.min is not None and col.max is not None, (name, col.name)
    text = (schema._meta_dir() / "inputs" / "monthly_requests.yml").read_text(encoding="utf-8")
    bad = tmp_path / "monthly_requests.yml"
    bad.write_text(text.replace("    max: 1000000\n", "", 1), encoding="utf-8")
    with pytest.raises(schema.SchemaError, match="column 'requests': an integer column declares "
                                                 "min and max"):
        schema._parse(bad)
