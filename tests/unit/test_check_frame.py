"""A frame given to a model directly is checked by the rules a data file passes at loading
(wardanalysis.data.validation.check_frame), in the columns the model reads."""

from __future__ import annotations

import pandas as pd

from wardanalysis.data.schema import get_schema
from wardanalysis.data.validation import check_frame


def test_a_frame_is_typed_as_a_file_is_and_the_callers_frame_is_left_alone():
    given = pd.DataFrame({"fiscal_year": [2018.0, 2019.0], "requests": [10.0, 12.0],
                          "note": ["kept", "as is"]})
    typed, problems = check_frame(given.copy(), get_schema("needs_reflection"), "nr")
    assert problems == []
    assert str(typed["requests"].dtype) == "int64" and typed["requests"].tolist() == [10, 12]
    assert typed["note"].tolist() == ["kept", "as is"]


def test_cell_rules_and_table_rules_name_the_row_and_column():
    schema = get_schema("needs_reflection")
    bad = pd.DataFrame({"fiscal_year": [2018, 2019], "requests": ["abc", 5]})
    _, problems = check_frame(bad, schema, "nr")
    assert [str(p) for p in problems] == ["nr, row 0, column 'requests': 'abc' is not an integer"]
    over = pd.DataFrame({"fiscal_year": [2018, 2019], "requests": [5, 5],
                         "requests_handled": [5, 6]})
    _, problems = check_frame(over, schema, "nr")
    assert [str(p) for p in problems] == [
        "nr, row 1, column 'requests_handled': requests_handled = 6 breaks the rule "
        "requests_handled <= requests (requests = 5)"]


def test_only_the_columns_asked_for_are_checked():
    schema = get_schema("needs_reflection")
    frame = pd.DataFrame({"fiscal_year": [2018, 2019], "requests": [5, 5],
                          "requests_handled": [5, 6]})
    assert check_frame(frame, schema, "nr", ["fiscal_year", "requests"])[1] == []


def test_a_gap_in_the_years_is_a_selection_not_a_fault():
    frame = pd.DataFrame({"fiscal_year": [2017, 2023], "requests": [5, 5]})
    assert check_frame(frame, get_schema("needs_reflection"), "nr")[1] == []
