"""Japanese eras (和暦) and fiscal years (年度).

A fiscal year runs from 1 April to 31 March (地方自治法 第208条) and is named here by the calendar
year in which it starts: fiscal year 2019 is 令和元年度 and also 平成31年度, because the era
changed on 2019-05-01, inside it. Labels parsed: ``H29``, ``R元``, ``Ｒ５``, ``R5年度``,
``平成29年度``, ``2023``, ``FY2023``, ``2023年度``, ranges ``H26~H30`` / ``H26～30``, and dates
``令和6年（2024年）6月26日``, ``R6.3``. A label that cannot exist (``H32``, ``R0``, an unknown
era, a reversed range, a Gregorian year in parentheses that disagrees) raises
:class:`EraLabelError` quoting it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import NamedTuple

from .errors import WardanalysisError

__all__ = ["EraLabelError", "era_label", "fiscal_year", "fiscal_year_bounds", "fiscal_year_name",
           "fiscal_year_of", "fiscal_years", "latest_fiscal_year", "parse_japanese_date"]


class EraLabelError(WardanalysisError, ValueError):
    """A label that names no real era year, fiscal year or range."""

    def __init__(self, label: object, reason: str):
        super().__init__(f"invalid era/fiscal-year label {label!r}: {reason}")


class Era(NamedTuple):
    letter: str
    kanji: str
    start: dt.date  # first day
    end: dt.date | None  # last day, None while current


ERAS = (
    Era("M", "明治", dt.date(1868, 10, 23), dt.date(1912, 7, 29)),
    Era("T", "大正", dt.date(1912, 7, 30), dt.date(1926, 12, 24)),
    Era("S", "昭和", dt.date(1926, 12, 25), dt.date(1989, 1, 7)),
    Era("H", "平成", dt.date(1989, 1, 8), dt.date(2019, 4, 30)),
    Era("R", "令和", dt.date(2019, 5, 1), None),
)
_BY_NAME = {e.letter: e for e in ERAS} | {e.kanji: e for e in ERAS}

# NFKC folds full-width digits, letters, parentheses and the full-width tilde; the wave dash
# (U+301C) and the other dashes Japanese tables put between years are folded by hand.
_RANGE_SEPARATORS = str.maketrans({"〜": "~", "～": "~", "－": "~", "–": "~", "—": "~", "ー": "~"})

_ERA_RE = r"(?P<era>[A-Za-z]|明治|大正|昭和|平成|令和)"
_NUM_RE = r"(?P<num>\d+|元)"
_FISCAL_RE = re.compile(rf"^{_ERA_RE}\.?\s*{_NUM_RE}\s*(?:年度?)?$")
_GREGORIAN_FY_RE = re.compile(r"^(?:FY\s*)?(?P<year>\d{4})\s*(?:年度)?$", re.IGNORECASE)
_CALENDAR_RE = re.compile(
    rf"^{_ERA_RE}\s*{_NUM_RE}\s*年\s*(?:\(\s*(?P<greg>\d{{4}})\s*年?\s*\))?"
    r"\s*(?:(?P<month>\d{1,2})\s*月\s*(?:(?P<day>\d{1,2})\s*日)?)?$"
)
_DOTTED_RE = re.compile(rf"^{_ERA_RE}\s*{_NUM_RE}\.(?P<month>\d{{1,2}})(?:\.(?P<day>\d{{1,2}}))?$")


def _normalize(label: object) -> str:
    if not isinstance(label, str):
        raise EraLabelError(label, "expected a text label")
    text = unicodedata.normalize("NFKC", label).translate(_RANGE_SEPARATORS).strip()
    if not text:
        raise EraLabelError(label, "empty label")
    return text


def _era(m: re.Match[str], label: object) -> tuple[Era, int]:
    """The era and era year a match names (``era``, ``num`` groups)."""
    name, num = m["era"], m["num"]
    era = _BY_NAME.get(name.upper() if len(name) == 1 else name)
    if era is None:
        raise EraLabelError(label, f"unknown era {name!r} (known: M, T, S, H, R and their kanji)")
    if num != "元" and len(num) > 3:
        raise EraLabelError(label, f"era year {num[:10]} is far beyond any era")
    n = 1 if num == "元" else int(num)
    if n < 1:
        raise EraLabelError(label, "era years start at 1 (元年)")
    return era, n


def latest_fiscal_year() -> int:
    """The latest fiscal year a label of the current era may name: next fiscal year (a budget
    is printed before its year begins)."""
    return dt.date.today().year + 1


def _year(era: Era, n: int, label: object, fiscal: bool) -> int:
    """The year (fiscal, or calendar) that era year ``n`` names, checked to exist: a fiscal-year
    label exists when its era was in force at some point of that fiscal year (平成31年度 and
    令和元年度 are both 2019; 平成32年度 and 昭和64年度 never existed)."""
    year = era.start.year + n - 1
    start = fiscal_year_bounds(year)[0] if fiscal else dt.date(year, 1, 1)
    if era.end is not None and era.end < start:  # never before it: n starts at 1
        raise EraLabelError(label, f"{era.kanji} {n} would be fiscal year {year}, outside the era "
                            f"({era.start:%Y-%m-%d} to {era.end:%Y-%m-%d})" if fiscal
                            else f"{era.kanji} has no year {n}")
    if era.end is None and year > latest_fiscal_year():
        raise EraLabelError(label, f"{era.kanji} {n} would be {year}, after the next "
                                   f"fiscal year ({latest_fiscal_year()})")
    return year


def fiscal_year_bounds(fy: int) -> tuple[dt.date, dt.date]:
    """First and last day of fiscal year ``fy`` (1 April ``fy`` to 31 March ``fy + 1``)."""
    return dt.date(fy, 4, 1), dt.date(fy + 1, 3, 31)


def _calendar_year(m: re.Match[str], label: object) -> int:
    era, n = _era(m, label)
    year = _year(era, n, label, fiscal=False)
    if m["greg"] and int(m["greg"]) != year:
        raise EraLabelError(
            label, f"{era.kanji}{m['num']}年 is {year}, not the {m['greg']} given in parentheses")
    return year


def _single_fiscal_year(text: str, label: object) -> int:
    if m := _GREGORIAN_FY_RE.match(text):
        return int(m["year"])
    if m := _FISCAL_RE.match(text):
        return _year(*_era(m, label), label, fiscal=True)
    m = _CALENDAR_RE.match(text)
    if m and m["greg"]:
        # 令和6年（2024年） names a calendar year; the documents date their fiscal tables so, for
        # the fiscal year that starts in it.
        return _calendar_year(m, label)
    raise EraLabelError(label, "not a fiscal-year label (expected e.g. H29, R元, 令和5年度, FY2023)")


def fiscal_year(label: object) -> int:
    """The fiscal year (its starting calendar year) that one label names: ``"H29"``, ``"R元"``,
    ``"令和5年度"``, ``"FY2023"``, ``2023`` …; :class:`EraLabelError` for a range or a fiscal
    year that never existed."""
    if isinstance(label, int) and not isinstance(label, bool):
        if not 1868 <= label <= 2200:
            raise EraLabelError(label, "Gregorian fiscal year out of range 1868-2200")
        return label
    text = _normalize(label)
    if "~" in text:
        raise EraLabelError(label, "a range names several fiscal years; use fiscal_years()")
    return _single_fiscal_year(text, label)


def fiscal_years(label: object) -> list[int]:
    """Every fiscal year a label or range names, in order: ``"H26~H30"`` → 2014 … 2018. The
    second end may omit the era (``"H26~30"``); a reversed range raises."""
    if not isinstance(label, str) or "~" not in _normalize(label):
        return [fiscal_year(label)]
    parts = [p.strip() for p in _normalize(label).split("~")]
    if len(parts) != 2 or not all(parts):
        raise EraLabelError(label, "a range has exactly two ends, e.g. H26~H30")
    first = _single_fiscal_year(parts[0], label)
    second = parts[1]
    if second.isdigit() and len(second) < 4:
        m = _FISCAL_RE.match(parts[0])
        if not m:
            raise EraLabelError(label, "the second end has no era and the first end has none")
        second = m["era"] + second
    last = _single_fiscal_year(second, label)
    if last < first:
        raise EraLabelError(label, f"reversed range ({first} > {last})")
    return list(range(first, last + 1))


def era_label(fy: int, long: bool = False) -> str:
    """Fiscal year ``fy`` as the documents print it: ``R元``, ``H29``; ``long``: ``令和元年度``.
    The era is the newest one numbered from a year not after ``fy``: 2019 → 令和元年度 (as the
    review prints it), 1988 → 昭和63年度 although 平成 began before that fiscal year ended."""
    era = next((e for e in reversed(ERAS) if e.start.year <= fy), None)
    if era is None:
        raise EraLabelError(fy, "before the Meiji era")
    n = fy - era.start.year + 1
    _year(era, n, f"{era.letter}{n}", fiscal=True)
    number = "元" if n == 1 else n
    return f"{era.kanji}{number}年度" if long else f"{era.letter}{number}"


def fiscal_year_name(fy: int, lang: str, long: bool = False) -> str:
    """A fiscal year as a reader's page names it: 令和5年度（2023年度） in Japanese, as a council
    document writes it; FY2023 in English (``long``: Fiscal year 2023, for a title), with no era
    label, which means nothing to an English reader."""
    if lang == "ja":
        return f"{era_label(fy, long=True)}（{fy}年度）"
    if lang == "en":
        return f"Fiscal year {fy}" if long else f"FY{fy}"
    raise ValueError(f"unknown language {lang!r}: use 'ja' or 'en'")


def fiscal_year_of(date: dt.date) -> int:
    """The fiscal year a date (or datetime, or pandas Timestamp) falls in: 2020-03-31 → 2019,
    2020-04-01 → 2020."""
    return date.year if date.month >= 4 else date.year - 1


def parse_japanese_date(label: object) -> dt.date:
    """A date printed the Japanese way: ``令和6年（2024年）6月26日``, ``R6.3``; without a day,
    the first of its month; without a month, 1 January."""
    text = _normalize(label)
    m = _DOTTED_RE.match(text) or _CALENDAR_RE.match(text)
    if not m:
        raise EraLabelError(label, "not a Japanese date (expected e.g. 令和6年6月26日 or R6.3)")
    era, n = _era(m, label)
    year = (_calendar_year(m, label) if "greg" in m.groupdict()
            else _year(era, n, label, fiscal=False))
    try:
        date = dt.date(year, int(m["month"] or 1), int(m["day"] or 1))
    except ValueError as exc:
        raise EraLabelError(label, str(exc)) from None
    if date < era.start or (era.end is not None and date > era.end):
        raise EraLabelError(label, f"{date:%Y-%m-%d} is outside the {era.kanji} era")
    return date
