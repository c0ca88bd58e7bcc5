"""Japanese eras (和暦) and fiscal years (年度).

A Japanese local government's fiscal year runs from 1 April to 31 March of the next calendar year
(地方自治法 第208条). This package names a fiscal year by the calendar year in which it starts:
fiscal year 2019 is 2019-04-01 to 2020-03-31, printed 令和元年度 or R元, and also 平成31年度 or H31,
because the era changed on 2019-05-01, inside that fiscal year.

The labels the documents use are parsed here, both ways:

- short fiscal labels: ``H29``, ``R元``, ``R5``, ``Ｒ５`` (full width), ``R5年度``
- long fiscal labels: ``平成29年度``, ``令和元年度``
- Gregorian: ``2023``, ``FY2023``, ``2023年度``
- ranges: ``H26~H30``, ``R元~R3``, ``H26～30`` (expanded to each fiscal year)
- calendar years and dates: ``令和6年（2024年）``, ``令和6年（2024年）6月26日``, ``R6.3``

A label that cannot exist (``H32``, ``R0``, ``S64年度``, an unknown era, a reversed range, a
Gregorian year in parentheses that disagrees with the era year) raises :class:`EraLabelError`
quoting the label.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from .errors import WardanalysisError

__all__ = [
    "ERAS",
    "EraLabelError",
    "era_label",
    "fiscal_year",
    "fiscal_year_bounds",
    "fiscal_year_name",
    "fiscal_year_of",
    "fiscal_years",
    "latest_fiscal_year",
    "normalize_label",
    "parse_japanese_date",
]


class EraLabelError(WardanalysisError, ValueError):
    """A label that names no real era year, fiscal year or range."""

    def __init__(self, label: object, reason: str):
        self.label = label
        self.reason = reason
        super().__init__(f"invalid era/fiscal-year label {label!r}: {reason}")


@dataclass(frozen=True)
class Era:
    letter: str
    kanji: str
    romaji: str
    start: dt.date  # first day of the era
    end: dt.date | None  # last day, None while current

    def gregorian(self, era_year: int) -> int:
        return self.start.year + era_year - 1


ERAS: tuple[Era, ...] = (
    Era("M", "明治", "Meiji", dt.date(1868, 10, 23), dt.date(1912, 7, 29)),
    Era("T", "大正", "Taisho", dt.date(1912, 7, 30), dt.date(1926, 12, 24)),
    Era("S", "昭和", "Showa", dt.date(1926, 12, 25), dt.date(1989, 1, 7)),
    Era("H", "平成", "Heisei", dt.date(1989, 1, 8), dt.date(2019, 4, 30)),
    Era("R", "令和", "Reiwa", dt.date(2019, 5, 1), None),
)
_BY_NAME = {e.letter: e for e in ERAS} | {e.kanji: e for e in ERAS}

# NFKC folds full-width digits, letters, parentheses and the full-width tilde; the wave dash
# (U+301C) and other dashes used between years in Japanese tables are folded by hand.
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


def normalize_label(label: object) -> str:
    """Fold full-width characters and spaces so that ``Ｒ５`` reads as ``R5``."""
    if not isinstance(label, str):
        raise EraLabelError(label, "expected a text label")
    text = unicodedata.normalize("NFKC", label).translate(_RANGE_SEPARATORS).strip()
    if not text:
        raise EraLabelError(label, "empty label")
    return text


def _era(name: str, label: object) -> Era:
    era = _BY_NAME.get(name.upper() if len(name) == 1 else name)
    if era is None:
        raise EraLabelError(label, f"unknown era {name!r} (known: M, T, S, H, R and their kanji)")
    return era


def _era_year(num: str, label: object) -> int:
    if num != "元" and len(num) > 3:
        raise EraLabelError(label, f"era year {num[:10]} is far beyond any era")
    n = 1 if num == "元" else int(num)
    if n < 1:
        raise EraLabelError(label, "era years start at 1 (元年)")
    return n


def latest_fiscal_year() -> int:
    """The latest fiscal year a label of the current era may name: next fiscal year (a budget
    is printed before its year begins)."""
    return dt.date.today().year + 1


def _check_current(era: Era, era_year: int, year: int, label: object) -> None:
    if era.end is None and year > latest_fiscal_year():
        raise EraLabelError(label, f"{era.kanji} {era_year} would be {year}, after the next "
                                   f"fiscal year ({latest_fiscal_year()})")


def fiscal_year_bounds(fy: int) -> tuple[dt.date, dt.date]:
    """First and last day of fiscal year ``fy`` (1 April ``fy`` to 31 March ``fy + 1``)."""
    return dt.date(fy, 4, 1), dt.date(fy + 1, 3, 31)


def _check_fiscal(era: Era, era_year: int, label: object) -> int:
    fy = era.gregorian(era_year)
    start, end = fiscal_year_bounds(fy)
    # A fiscal-year label exists when its era was in force at some point of that fiscal year:
    # 平成31年度 (era in force in April 2019) and 令和元年度 (era began in May 2019) are both
    # fiscal year 2019, while 平成32年度 and 昭和64年度 never existed.
    if era.start > end or (era.end is not None and era.end < start):
        last = era.end
        raise EraLabelError(
            label,
            f"{era.kanji} {era_year} would be fiscal year {fy}, "
            f"outside the era ({era.start:%Y-%m-%d} to {last:%Y-%m-%d})"
            if last
            else f"{era.kanji} {era_year} would be fiscal year {fy}, before the era began",
        )
    _check_current(era, era_year, fy, label)
    return fy


def _check_calendar(era: Era, era_year: int, label: object) -> int:
    year = era.gregorian(era_year)
    if era.start.year > year or (era.end is not None and era.end.year < year):
        raise EraLabelError(label, f"{era.kanji} has no year {era_year}")
    _check_current(era, era_year, year, label)
    return year


def _single_fiscal_year(text: str, label: object) -> int:
    m = _GREGORIAN_FY_RE.match(text)
    if m:
        return int(m["year"])
    m = _FISCAL_RE.match(text)
    if m:
        return _check_fiscal(_era(m["era"], label), _era_year(m["num"], label), label)
    m = _CALENDAR_RE.match(text)
    if m and m["greg"]:
        # 令和6年（2024年） names a calendar year; as a fiscal year it is read as the one that
        # starts in that calendar year, which is how the documents date their fiscal tables.
        return _calendar_year(m, label)
    raise EraLabelError(label, "not a fiscal-year label (expected e.g. H29, R元, 令和5年度, FY2023)")


def _calendar_year(m: re.Match[str], label: object) -> int:
    era = _era(m["era"], label)
    year = _check_calendar(era, _era_year(m["num"], label), label)
    if m["greg"] and int(m["greg"]) != year:
        raise EraLabelError(
            label, f"{era.kanji}{m['num']}年 is {year}, not the {m['greg']} given in parentheses"
        )
    return year


def fiscal_year(label: object) -> int:
    """The fiscal year (its starting calendar year) that ``label`` names.

    Parameters
    ----------
    label
        One fiscal-year label: ``"H29"``, ``"R元"``, ``"令和5年度"``, ``"FY2023"``, ``2023`` …

    Raises
    ------
    EraLabelError
        If the label is a range, or names no fiscal year that existed.
    """
    if isinstance(label, int) and not isinstance(label, bool):
        if not 1868 <= label <= 2200:
            raise EraLabelError(label, "Gregorian fiscal year out of range 1868-2200")
        return label
    text = normalize_label(label)
    if "~" in text:
        raise EraLabelError(label, "a range names several fiscal years; use fiscal_years()")
    return _single_fiscal_year(text, label)


def fiscal_years(label: object) -> list[int]:
    """Every fiscal year a label or range names, in order: ``"H26~H30"`` → 2014 … 2018.

    The second end of a range may omit the era (``"H26~30"``). A reversed range raises.
    """
    if isinstance(label, int) and not isinstance(label, bool):
        return [fiscal_year(label)]
    text = normalize_label(label)
    parts = [p.strip() for p in text.split("~")]
    if len(parts) == 1:
        return [_single_fiscal_year(text, label)]
    if len(parts) != 2 or not all(parts):
        raise EraLabelError(label, "a range has exactly two ends, e.g. H26~H30")
    first = _single_fiscal_year(parts[0], label)
    second_text = parts[1]
    if second_text.isdigit() and len(second_text) < 4:
        m = _FISCAL_RE.match(parts[0])
        if not m:
            raise EraLabelError(label, "the second end has no era and the first end has none")
        second_text = m["era"] + second_text
    last = _single_fiscal_year(second_text, label)
    if last < first:
        raise EraLabelError(label, f"reversed range ({first} > {last})")
    return list(range(first, last + 1))


def era_label(fy: int, style: str = "short", era: str | None = None) -> str:
    """Label fiscal year ``fy`` as the documents print it.

    Parameters
    ----------
    fy
        Fiscal year (calendar year in which it starts).
    style
        ``"short"`` → ``R元``, ``H29``; ``"long"`` → ``令和元年度``; ``"digits"`` → ``R1``.
    era
        Force an era letter or kanji (``"H"`` gives ``H31`` for 2019); by default the newest era
        whose first calendar year is not after ``fy`` (2019 is ``R元``, as the review prints it).
    """
    if isinstance(fy, bool) or not isinstance(fy, int):
        raise EraLabelError(fy, "expected an integer fiscal year")
    if style not in {"short", "long", "digits"}:
        raise ValueError(f"unknown style {style!r}: use 'short', 'long' or 'digits'")
    if era is None:
        # The newest era numbered from a year not after fy: 2019 → 令和元年度 (as the Kumamoto
        # review prints it), 1988 → 昭和63年度 although 平成 began before that fiscal year ended.
        chosen = next((e for e in reversed(ERAS) if e.start.year <= fy), None)
        if chosen is None:
            raise EraLabelError(fy, "before the Meiji era")
    else:
        chosen = _era(era, era)
    n = fy - chosen.start.year + 1
    _check_fiscal(chosen, n, f"{chosen.letter}{n}")
    if style == "long":
        return f"{chosen.kanji}{'元' if n == 1 else n}年度"
    if style == "digits":
        return f"{chosen.letter}{n}"
    return f"{chosen.letter}{'元' if n == 1 else n}"


def fiscal_year_name(fy: int, lang: str, long: bool = False) -> str:
    """A fiscal year as a reader's page names it: 令和5年度（2023年度） in Japanese, as a council
    document writes it; FY2023 in English (``long``: Fiscal year 2023, for a title), with no era
    label, which means nothing to an English reader."""
    if lang == "ja":
        return f"{era_label(fy, 'long')}（{fy}年度）"
    if lang == "en":
        return f"Fiscal year {fy}" if long else f"FY{fy}"
    raise ValueError(f"unknown language {lang!r}: use 'ja' or 'en'")


def fiscal_year_of(date: object) -> int:
    """The fiscal year a date falls in: 2020-03-31 → 2019, 2020-04-01 → 2020."""
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date.strip())
        except ValueError:
            date = parse_japanese_date(date)
    if isinstance(date, dt.datetime):
        date = date.date()
    if hasattr(date, "to_pydatetime"):  # pandas Timestamp
        date = date.to_pydatetime().date()
    if not isinstance(date, dt.date):
        raise TypeError(f"expected a date, got {date!r}")
    return date.year if date.month >= 4 else date.year - 1


def parse_japanese_date(label: object) -> dt.date:
    """A date printed the Japanese way: ``令和6年（2024年）6月26日``, ``R6.3`` (first of the month).

    A label without a day gives the first of its month; without a month, 1 January.
    """
    text = normalize_label(label)
    m = _DOTTED_RE.match(text) or _CALENDAR_RE.match(text)
    if not m:
        raise EraLabelError(label, "not a Japanese date (expected e.g. 令和6年6月26日 or R6.3)")
    year = _calendar_year(m, label) if "greg" in m.groupdict() else _check_calendar(
        _era(m["era"], label), _era_year(m["num"], label), label
    )
    month = int(m["month"] or 1)
    day = int(m["day"] or 1)
    try:
        date = dt.date(year, month, day)
    except ValueError as exc:
        raise EraLabelError(label, str(exc)) from None
    era = _era(m["era"], label)
    if date < era.start or (era.end is not None and date > era.end):
        raise EraLabelError(label, f"{date:%Y-%m-%d} is outside the {era.kanji} era")
    return date
