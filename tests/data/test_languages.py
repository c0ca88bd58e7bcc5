"""Every text a reader's page shows exists in both languages: where a dataset gives the
document's Japanese, the row gives its English too, and the English is English.

Pairs are found by the descriptors' naming convention (``DatasetSchema.language_pairs``): ``x_en``
gives ``x_ja`` (or ``x_as_printed``, or ``x`` itself where that is the printed Japanese, as
``unit``) in English; ``x_ja`` beside a plain ``x`` with no ``x_en`` gives ``x`` in Japanese.
"""

from __future__ import annotations

import calendar
import re

import pandas as pd
import pytest

import wardanalysis as wa
from wardanalysis.data.schema import dataset_names, get_schema

#: Kana and kanji (an English cell may hold them only in brackets: "Residents' Voice (区民の声)").
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
#: The datasets whose Japanese text the overview and the COVID page show in tables.
SHOWN = ["organisation_timeline", "chiba_analysis_items", "meeting_bodies", "office_roles",
         "machizukuri_centers", "request_volume_changes"]
#: Japanese that a page never shows in a table, or shows verbatim in both languages.
UNPAIRED = {"quote_ja"}


def pairs(name: str) -> list[tuple[str, str]]:
    """``(Japanese column, English column)`` of dataset ``name``."""
    return get_schema(name).language_pairs()


ALL_PAIRS = [(n, ja, en) for n in dataset_names() for ja, en in pairs(n)]


def filled(value) -> bool:
    return not pd.isna(value) and str(value).strip() != ""


def outside_brackets(text: str) -> str:
    """``text`` without its bracketed parts, innermost first: (…) and （…）."""
    prev = None
    while prev != text:
        prev, text = text, re.sub(r"\([^()]*\)|（[^（）]*）", "", text)
    return text


@pytest.mark.parametrize(("name", "ja", "en"), ALL_PAIRS, ids=[f"{n}.{e}" for n, _, e in ALL_PAIRS])
def test_every_row_has_both_languages(name, ja, en):
    df = wa.load(name)
    for i, (j, e) in enumerate(zip(df[ja], df[en], strict=True)):
        assert filled(e) == filled(j), f"{name} row {i + 2}: {ja}={j!r} but {en}={e!r}"


@pytest.mark.parametrize(("name", "ja", "en"), ALL_PAIRS, ids=[f"{n}.{e}" for n, _, e in ALL_PAIRS])
def test_the_english_side_is_english(name, ja, en):
    for value in wa.load(name)[en].dropna():
        assert not JAPANESE.search(outside_brackets(str(value))), (
            f"{name}.{en}: {value!r} holds Japanese outside brackets")


@pytest.mark.parametrize("name", SHOWN)
def test_every_japanese_text_column_shown_has_an_english_partner(name):
    df = wa.load(name)
    paired = {c for p in pairs(name) for c in p}
    for col in get_schema(name).column_names:
        if col in paired or col in UNPAIRED:
            continue
        japanese = [v for v in df[col].dropna()
                    if isinstance(v, str) and JAPANESE.search(outside_brackets(v))]
        assert not japanese, f"{name}.{col} holds Japanese with no English column: {japanese[:2]}"


def test_timeline_months_in_english_are_the_dates():
    df = wa.load("organisation_timeline")
    for date, en in zip(df["date"], df["date_en"], strict=True):
        assert en == f"{calendar.month_name[date.month]} {date.year}"


def _period_ja(period: str) -> str:
    """A period code (2019, 2020-03, FY2019, 2020-03/2020-08) as a Japanese page writes it."""
    out, year = [], None
    for part in period.split("/"):
        fy, y, month = re.fullmatch(r"(FY)?(\d{4})(?:-(\d{2}))?", part).groups()
        out.append(f"{y}年度" if fy else f"{y}年" if not month else
                   f"{int(month)}月" if y == year else f"{y}年{int(month)}月")
        year = y
    return "〜".join(out)


@pytest.mark.parametrize("column", ["period_before", "period_after"])
def test_request_volume_periods_in_japanese_are_the_periods(column):
    df = wa.load("request_volume_changes")
    for code, ja in zip(df[column], df[f"{column}_ja"], strict=True):
        assert (pd.isna(code) and pd.isna(ja)) or ja == _period_ja(code)
