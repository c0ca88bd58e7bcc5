"""One number, one form: a value shown in a table, its CSV download, a sentence and a summary
box (the front page's key figures) is the same number, decided by its unit."""

from __future__ import annotations

import base64
import io
import re

import pandas as pd
import pytest

from wardanalysis import plotting, report
from wardanalysis.results import Estimate, Pvalue, Yen, key_figure
from wardanalysis.text.formats import OKU_ABOVE_YEN, fmt
from wardanalysis.text.messages import _Formatter

#: Multipliers of the words a shown number may carry (money to yen, a share to a fraction).
_WORDS = (("億円", 1e8), ("千円", 1e3), (" billion", 1e9), (" million", 1e6), ("%", 1e-2),
          ("ポイント", 1e-2), (" percentage points", 1e-2))
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def _span(text: str, scale: float = 1.0) -> tuple[float, float]:
    """The values the first number of ``text`` rounds from: in ``scale``, times its word's."""
    m = _NUMBER.search(text)
    digits = m[0].replace(",", "")
    half = 0.5 * 10 ** -(len(digits.split(".")[1]) if "." in digits else 0)
    after = text[m.end():]
    scale *= next((s for w, s in _WORDS if after.startswith(w)), 1.0)
    return (float(digits) - half) * scale, (float(digits) + half) * scale


def _csv_cell(html: str) -> str:
    data = re.search(r"base64,([^\"]+)", html)[1]
    return pd.read_csv(io.BytesIO(base64.b64decode(data)), encoding="utf-8-sig", dtype=str).iat[0, 0]


# (unit, a table column that declares it, yen in one of the value's units (1 if not money), a
#  key figure's key, the value, how a sentence states it)
CASES = [
    ("share", "handled_share", 1.0, "fy.handled_share", 0.90326, "{e}"),
    ("thousand yen per ward (equal split assumed)", "per_ward_thousand_yen", 1e3,
     "budget.kumamoto_per_ward_thousand_yen", 96_458.0, "{yen}"),
    ("yen per resident", "yen_per_capita", 1.0, "budget.kumamoto_yen_per_capita", 135.51, "{e}"),
    ("requests", "requests", 1.0, "fy.requests", 1713.0, "{e}"),
    ("rate ratio per year", "rate_ratio", 1.0, "requests.trend_rr_per_year", 0.82661, "{e}"),
    ("p-value", "p_value", 1.0, None, 0.04213, "{p}"),
]


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize(("unit", "column", "scale", "key", "value", "template"), CASES)
def test_table_csv_sentence_and_summary_box_show_one_value_alike(
        monkeypatch, lang, unit, column, scale, key, value, template):
    pages: list[str] = []
    monkeypatch.setattr(report, "display", lambda obj, **kw: pages.append(obj.data))
    frame = pd.DataFrame({column: [value]})
    cell = report.format_table(frame, lang).iat[0, 0]
    report.show_table(frame, lang)
    assert _csv_cell(pages[0]) == cell  # the download is the table, cell for cell
    e = Estimate(key or "x", value, unit=unit)
    sentence = _Formatter(lang).format(template, e=e, yen=Yen(1000 * value), p=Pvalue(value))
    shown = [_span(cell, scale), _span(sentence.removeprefix("p").lstrip(" ="))]
    if key:
        shown.append(_span(key_figure(e, lang).split("：" if lang == "ja" else ": ")[-1]))
    for low, high in shown:  # every form rounds from the value, and no form is 0
        assert low <= value * scale <= high
        assert high > 0
    if lang == "ja" or scale == 1.0:  # the same digits, but English money in ¥ million
        assert cell in sentence and (not key or cell in key_figure(e, lang))


@pytest.mark.parametrize("yen", [OKU_ABOVE_YEN, 1.25e9, 2.5e10])
def test_japanese_money_is_said_in_oku_yen_where_a_chart_is_drawn_in_it(yen):
    text = _Formatter("ja").format("{y}", y=Yen(yen))
    big = yen > OKU_ABOVE_YEN
    assert text.endswith("億円") == big
    assert plotting.money_unit([yen / 1000])[1] == ("hundred_million_yen" if big else "thousand_yen")
    low, high = _span(text)
    assert low <= yen <= high


@pytest.mark.parametrize("x", [0.5, 0.05, 1.25, 2500.0])
def test_trimmed_numbers_keep_their_value_without_trailing_zeros(x):
    text = fmt(x, trim=True)
    assert float(text.replace(",", "")) == x
    assert not ("." in text and text.endswith("0"))


@pytest.mark.parametrize("yen", [136.0, 54_321.0, 2e7, 12_019_231.0, 12_980_769.0, 96_458_000.0,
                                 1.25e9, 1.3504e10])
def test_money_shows_the_same_digits_in_both_languages(yen):
    """A range of ¥12.019 million to ¥12.981 million, never ¥12 million to ¥13 million beside
    the Japanese 12,019千円〜12,981千円."""
    ja, en = (_Formatter(lang).format("{y}", y=Yen(yen)) for lang in ("ja", "en"))
    assert sum(_span(ja)) == pytest.approx(sum(_span(en)))  # the same rounded amount
    assert _span(ja)[0] <= yen <= _span(ja)[1]


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize(("share", "shown"), [(0.90326, "90.3%"), (0.00012, "0.012%"),
                                              (0.0, "0.0%")])
def test_a_share_has_one_form_in_tables_sentences_and_summary_boxes(lang, share, shown):
    """Every path shows a share through text.formats.fmt_pct: only a zero prints as 0."""
    table = report.format_table(pd.DataFrame({"share": [share], "power": [share]}), lang,
                                pct=("power",))
    e = Estimate("fy.handled_share", share, unit="share")
    sentence = _Formatter(lang).format("{x:pct}|{e}", x=share, e=e)
    assert [*table.iloc[0], *sentence.split("|")] == [shown] * 4
    assert key_figure(e, lang).endswith(shown)


def test_a_gap_in_years_shows_two_signed_decimals_on_every_row():
    from wardanalysis.text.formats import fmt_unit, unit_of_column

    unit = unit_of_column("population_gap_years")
    assert [fmt_unit(x, unit, "ja", bare=True) for x in (3.0, -0.75, -1.749, 15.0007)] == [
        "+3.00", "-0.75", "-1.75", "+15.00"]
