"""`wardanalysis check` on a corpus of malformed files: one file per kind of fault, each message
naming the file, row and column."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from wardanalysis.data.loading import check, load
from wardanalysis.data.readers import DataValidationError

HERE = Path(__file__).parent
MALFORMED = HERE / "malformed"
WELLFORMED = HERE / "wellformed"

# file, dataset, (row, column, fragment of the message) for the first problem reported
CASES = [
    ("negative_count.csv", "needs_reflection", 5, "requests", "below the minimum 0"),
    ("non_integer_count.csv", "needs_reflection", 6, "requests", "'587.5' is not an integer"),
    ("text_in_count.csv", "needs_reflection", 7, "requests", "'多数' is not an integer"),
    ("approximate_count.csv", "needs_reflection", 8, "requests", "'約650' is approximate"),
    ("dash_in_requests.csv", "needs_reflection", 4, "requests", "'—' where a number is expected"),
    ("handled_exceeds_requests.csv", "needs_reflection", 3, "requests_handled",
     "breaks the rule requests_handled <= requests"),
    ("priority_exceeds_requests.csv", "needs_reflection", 8, "priority_issues",
     "breaks the rule priority_issues <= requests"),
    ("decided_exceeds_priority.csv", "needs_reflection", 6, "decided_to_act",
     "breaks the rule decided_to_act <= priority_issues"),
    ("staff_differs_from_priority.csv", "needs_reflection", 2, "staff_consultations",
     "staff_consultations == priority_issues"),
    ("chief_exceeds_staff.csv", "needs_reflection", 7, "section_chief_consultations",
     "section_chief_consultations <= staff_consultations"),
    ("meeting_exceeds_chief.csv", "needs_reflection", 5, "coordination_meetings",
     "coordination_meetings <= section_chief_consultations"),
    ("total_mismatch.csv", "needs_reflection", 9, "priority_issues",
     "declared total 計 = 148 but the rows sum to 147"),
    ("duplicate_fiscal_year.csv", "needs_reflection", 9, "fiscal_year",
     "duplicate key (fiscal_year=2019), first given in row 4"),
    ("missing_fiscal_year.csv", "needs_reflection", None, "fiscal_year",
     "missing fiscal year(s) 2020 inside 2017–2023"),
    ("unknown_era_letter.csv", "needs_reflection", 8, "era_label", "unknown era 'X'"),
    ("nonexistent_era_year.csv", "needs_reflection", 5, "era_label", "'H32'"),
    ("year_disagrees_with_label.csv", "needs_reflection", 8, "fiscal_year",
     "fiscal_year 2022 disagrees with era_label 'R5' (2023)"),
    ("missing_column.csv", "needs_reflection", 1, None, "missing column(s): coordination_meetings"),
    ("unexpected_column.csv", "needs_reflection", 1, None, "unexpected column(s): '備考'"),
    ("duplicated_column.csv", "needs_reflection", 1, None, "duplicated column(s): requests"),
    ("ragged_row.csv", "needs_reflection", 4, None, "has 6 cells, the header has 8"),
    ("header_only.csv", "needs_reflection", None, None, "header but no data rows"),
    ("empty.csv", "needs_reflection", None, None, "the file is empty"),
    ("undecodable.csv", "needs_reflection", None, None, "cannot be decoded as UTF-8 or cp932"),
    ("utf16.csv", "needs_reflection", None, None, "contains NUL bytes"),
    ("civil_unknown_category.csv", "civil_engineering_requests", 3, "category",
     "'bridge' is not one of road, park, river"),
    ("budget_reversed_range.csv", "machizukuri_budget", 2, "period_label",
     "'R7~R5': reversed range"),
    ("twenty_digit_count.csv", "needs_reflection", 6, "requests",
     "'12345678901234567890' does not fit a 64-bit whole number"),
    ("count_beyond_bound.csv", "needs_reflection", 7, "priority_issues",
     "'92233720368547758' is above the maximum 10,000,000"),
    ("future_fiscal_year.csv", "needs_reflection", 4, "fiscal_year",
     "fiscal year 2099 is after the next fiscal year"),
    ("budget_reconstruction_exceeds.csv", "machizukuri_budget", 2, "reconstruction_thousand_yen",
     "breaks the rule reconstruction_thousand_yen <= budget_thousand_yen"),
]


def test_corpus_is_complete():
    assert len(CASES) >= 20
    assert sorted(c[0] for c in CASES) == sorted(p.name for p in MALFORMED.glob("*.csv"))


@pytest.mark.parametrize(("name", "dataset", "row", "column", "fragment"), CASES)
def test_malformed_file_reports_file_row_column(name, dataset, row, column, fragment):
    problems = check(MALFORMED / name, dataset=dataset)
    assert problems, f"{name}: no problem reported"
    first = problems[0]
    assert first.file.endswith(name)
    assert first.row == row
    assert first.column == column
    assert fragment in first.message
    text = str(first)
    assert text.startswith(str(MALFORMED / name))
    assert "\n" not in text  # one line per problem


def test_every_problem_is_reported_at_once(tmp_path):
    bad = tmp_path / "needs_reflection.csv"
    text = (MALFORMED / "handled_exceeds_requests.csv").read_text(encoding="utf-8")
    text = text.replace("R4,504", "X4,504").replace("R2,920,832,8,8,8", "R2,920,832,8,9,8")
    bad.write_text(text, encoding="utf-8")
    problems = check(bad)
    columns = {p.column for p in problems}
    assert {"requests_handled", "era_label", "decided_to_act"} <= columns


@pytest.mark.parametrize("name", [c[0] for c in CASES if c[1] == "needs_reflection"])
def test_overlay_with_a_malformed_file_raises_and_keeps_shipped_data(tmp_path, name):
    shipped = load("needs_reflection")
    shutil.copy(MALFORMED / name, tmp_path / "needs_reflection.csv")
    with pytest.raises(DataValidationError) as info:
        load("needs_reflection", tmp_path)
    assert str(tmp_path / "needs_reflection.csv") in str(info.value)
    # the shipped data is untouched and still loads
    assert load("needs_reflection").equals(shipped)


def test_cli_check_exit_status_and_messages(cli):
    bad = cli("check", str(MALFORMED / "total_mismatch.csv"), "--dataset", "needs_reflection")
    assert bad.returncode == 1
    assert "row 9, column 'priority_issues'" in bad.stdout
    good = cli("check")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "needs_reflection" in good.stdout and "kumamoto_review_2024" in good.stdout


def test_cli_check_directory_names_unknown_files(tmp_path):
    (tmp_path / "needs_reflections.csv").write_text("x\n1\n", encoding="utf-8")
    problems = check(tmp_path)
    assert len(problems) == 1
    assert "no dataset is named 'needs_reflections'" in problems[0].message


@pytest.mark.parametrize(
    ("name", "dataset", "year"),
    [
        ("needs_reflection_fy2024_cp932.csv", "needs_reflection", 2024),
        ("needs_reflection_fy2024_bom.csv", "needs_reflection", 2024),
        ("machizukuri_budget_fy2025.csv", "machizukuri_budget", 2025),
    ],
)
def test_wellformed_user_files_extend_the_data(tmp_path, name, dataset, year):
    assert check(WELLFORMED / name, dataset=dataset) == []
    shutil.copy(WELLFORMED / name, tmp_path / f"{dataset}.csv")
    df = load(dataset, tmp_path)
    assert df["fiscal_year"].max() == year
    assert df["fiscal_year"].is_unique
    assert df.attrs["provenance"]["overlay_keys"] == [{"fiscal_year": year}]
    new = df[df["fiscal_year"] == year].iloc[0]
    if dataset == "needs_reflection":  # full-width digits, a cp932 dash and a BOM all read alike
        assert (new["era_label"], new["requests"], new["requests_handled"]) == ("R6", 701, 602)
        assert new["coordination_meetings"] == 0
    else:
        assert (new["budget_thousand_yen"], new["reconstruction_thousand_yen"]) == (100_000, 0)
