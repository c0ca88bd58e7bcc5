"""wardanalysis.records: recording key estimates in a notebook and collecting them back."""

from __future__ import annotations

import json
import math

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from wardanalysis import records
from wardanalysis.records import MIME_TYPE, collected_rows, record, record_rows
from wardanalysis.text.formats import fmt


def _frame(**overrides):
    data = {"key": ["requests_change", "handled_share"], "value": [-0.3456789, 0.91234],
            "ci_low": [-0.41, float("nan")], "ci_high": [-0.28, None],
            "unit": ["ratio", "share"]}
    data.update(overrides)
    return pd.DataFrame(data)


class _Result:
    """Stands in for a model result object: anything with ``records()``."""

    def __init__(self, frame):
        self.frame = frame

    def records(self):
        return self.frame


def test_rows_from_frames_and_result_objects():
    rows = record_rows([_Result(_frame()), pd.DataFrame({"key": ["n"], "value": [3],
                        "ci_low": [None], "ci_high": [None], "unit": [None]})])
    assert [r["key"] for r in rows] == ["requests_change", "handled_share", "n"]
    assert rows[0] == {"key": "requests_change", "value": -0.3456789, "ci_low": -0.41,
                       "ci_high": -0.28, "unit": "ratio", "interval": "", "flags": ""}
    assert rows[1]["ci_low"] is None and rows[1]["ci_high"] is None  # NaN and None → None
    assert rows[2] == {"key": "n", "value": 3.0, "ci_low": None, "ci_high": None, "unit": "",
                       "interval": "", "flags": ""}
    assert record_rows(_frame()) == record_rows(_Result(_frame()))  # single object


def test_columns_may_come_in_any_order_but_must_be_exact():
    frame = _frame()[["unit", "ci_high", "key", "value", "ci_low"]]
    assert record_rows(frame)[0]["key"] == "requests_change"
    with pytest.raises(ValueError, match="must have the columns"):
        record_rows(_frame().assign(extra=1))
    with pytest.raises(ValueError, match="must have the columns"):
        record_rows(_frame().drop(columns="unit"))


def test_interval_and_flags_are_optional_text_columns():
    rows = record_rows(_frame(interval=["quasi-Poisson Wald, t(5)", None],
                              flags=["poisson_only", float("nan")]))
    assert rows[0]["interval"] == "quasi-Poisson Wald, t(5)" and rows[0]["flags"] == "poisson_only"
    assert rows[1]["interval"] == "" and rows[1]["flags"] == ""
    with pytest.raises(TypeError, match="flags must be a string"):
        record_rows(_frame(flags=[1, 2]))
    text = records.bundle(rows)["text/plain"].splitlines()
    assert text[0].split()[-1] == "flags" and text[1].split()[-1] == "poisson_only"


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        ({"value": ["a lot", 1.0]}, TypeError, "value must be a number"),
        ({"value": [True, 1.0]}, TypeError, "value must be a number"),
        ({"value": [math.inf, 1.0]}, ValueError, "infinite"),
        ({"key": ["same", "same"]}, ValueError, "duplicate record keys: same"),
        ({"key": ["", "b"]}, ValueError, "non-empty string"),
        ({"unit": [3, "x"]}, TypeError, "unit must be a string"),
    ],
)
def test_invalid_records_are_rejected(bad, error, match):
    with pytest.raises(error, match=match):
        record_rows(_frame(**bad))


def test_record_rejects_things_without_records():
    with pytest.raises(TypeError, match="no records"):
        record_rows([object()])
    with pytest.raises(TypeError, match="takes a result object"):
        record_rows(3.0)


def test_record_leaves_the_caller_frame_unchanged():
    frame = _frame()
    before = frame.copy(deep=True)
    record_rows(frame)
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(0.0, "0"), (-0.0, "0"), (1.0, "1.000"), (-0.3456789, "-0.3457"), (12345.6, "12,350"),
     (9999.5, "10,000"), (0.00123456, "0.001235"), (1.23456e-7, "1.235e-07"),
     (2.5e16, "2.500e+16"), (None, "—"), (float("nan"), "—")],
)
def test_records_show_four_significant_figures(value, shown):
    assert fmt(value, 4) == shown


def test_bundle_has_json_text_and_html():
    bundle = records.bundle(record_rows(_frame()))
    assert set(bundle) == {MIME_TYPE, "text/plain", "text/html"}
    assert bundle[MIME_TYPE][0]["value"] == -0.3456789  # unrounded
    text = bundle["text/plain"].splitlines()
    assert text[0].split() == ["key", "value", "ci_low", "ci_high", "unit", "flags"]
    assert text[1].split() == ["requests_change", "-0.3457", "-0.4100", "-0.2800", "ratio"]
    assert text[2].split() == ["handled_share", "0.9123", "—", "—", "share"]
    assert "<table" in bundle["text/html"] and "-0.3457" in bundle["text/html"]
    assert "<script" not in records.bundle(record_rows(_frame(key=["<script>", "b"])))[
        "text/html"]


def test_record_displays_one_output_and_returns_none(monkeypatch):
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: object())
    monkeypatch.setattr(IPython.display, "display",
                        lambda *objs, **kw: shown.append((objs, kw)))
    assert record([_Result(_frame())], notebook="01_requests_covid") is None
    assert len(shown) == 1
    (data,), kwargs = shown[0]
    assert kwargs["raw"] is True
    assert set(data) == {MIME_TYPE, "text/plain", "text/html"}
    assert kwargs["metadata"] == {MIME_TYPE: {"notebook": "01_requests_covid"}}


def test_record_outside_ipython_prints_the_table(capsys):
    record(_frame())
    assert "requests_change" in capsys.readouterr().out


def _notebook(*bundles):
    cells = [new_code_cell("record(...)", outputs=[
        new_output("display_data", data=b) for b in bundles])]
    cells.append(new_code_cell("1 + 1", outputs=[
        new_output("execute_result", data={"text/plain": "2"}, execution_count=2)]))
    return new_notebook(cells=cells)


def test_collected_rows_round_trip_through_a_saved_notebook(tmp_path):
    first = records.bundle(record_rows(_frame()))
    second = records.bundle(record_rows(_Result(pd.DataFrame({
        "key": ["n_years"], "value": [7], "ci_low": [None], "ci_high": [None],
        "unit": ["years"]}))))
    path = tmp_path / "nb.ipynb"
    nbformat.write(_notebook(first, second), path)
    nbformat.validate(nbformat.read(path, as_version=4))
    for source in (nbformat.read(path, as_version=4), json.loads(path.read_text())):
        rows = collected_rows(source)
        assert all(list(r) == list(records.COLUMNS) for r in rows)
        assert [r["key"] for r in rows] == ["requests_change", "handled_share", "n_years"]
        assert rows[0]["value"] == -0.3456789
        assert rows[1]["ci_low"] is None
        assert isinstance(rows[2]["value"], float)


def test_collected_rows_of_a_notebook_without_records_are_none():
    assert collected_rows(_notebook()) == []


def test_collected_rows_reject_a_key_recorded_twice():
    bundle = records.bundle(record_rows(_frame()))
    with pytest.raises(ValueError, match="duplicate record keys"):
        collected_rows(_notebook(bundle, bundle))


def test_collected_rows_reject_malformed_rows():
    with pytest.raises(ValueError, match="malformed record row"):
        collected_rows(_notebook({MIME_TYPE: [{"key": "a", "value": 1}], "text/plain": "a"}))


def test_a_summary_box_carries_the_reports_headline(monkeypatch):
    """report.summary puts the page's title, its answer (without emphasis marks), its key
    figures and whether it was made from simulated data in the headline the front page reads."""

    from wardanalysis import report
    from wardanalysis.records import HEADLINE_MIME
    from wardanalysis.results import Estimate

    class Simulated:
        sources = ("simulated",)
        caveats = ()

        def headline(self, lang):
            return "**答え**の文。"

        def key_figures(self):
            return [Estimate("escalation.first_level_share", 0.85, 0.8, 0.9, unit="share")]

    shown = []
    monkeypatch.setattr(report, "display", lambda *objs, **kw: shown.append(objs[0]))
    report.setup("ja")
    report.heading("題名", "ja", level=1)
    report.summary("ja", Simulated())
    headline = shown[-1][HEADLINE_MIME]
    assert headline["title"] == "題名" and headline["answer"] == "答えの文。"
    assert headline["simulated"] is True
    from wardanalysis.text.messages import message

    label = message("estimate.escalation.first_level_share", "ja")
    assert headline["figures"] == [f"{label}：85.0%（95%信頼区間 80.0%〜90.0%）"]


def test_a_result_shows_itself_in_the_language_set_by_one_public_call():
    import wardanalysis as wa
    from wardanalysis.models.requests import trend

    res = trend()
    try:
        import html

        wa.set_language("en")
        english = res._repr_html_()
        assert html.escape(res.title("en")) in english
        wa.set_language("ja")
        assert html.escape(res.title("ja")) in res._repr_html_()
        assert html.escape(res.title("en")) not in res._repr_html_()
        with pytest.raises(KeyError, match="unknown language"):
            wa.set_language("fr")
    finally:
        wa.set_language("ja")
