"""Numbers for display, decided here and only here: results keep every number unrounded, and
a value's form follows from its unit (:func:`fmt_unit`), the same in a table, a sentence, a CSV
download and the front page. No pandas, so that the batch's parent process can format the
front page without importing it."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .glossary import check_lang

__all__ = ["OKU_ABOVE_YEN", "fmt", "fmt_count", "fmt_dates", "fmt_month", "fmt_p", "fmt_pct",
           "fmt_ratio_words", "fmt_unit", "fmt_yen", "sentences", "unit_of_column", "years_text"]

#: Japanese money above one billion yen is said in 億円 (13億円, as the review prints it), and
#: a chart or table of such amounts is drawn in 億円 (:func:`wardanalysis.plotting.money_unit`).
OKU_ABOVE_YEN = 1e9


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt(x: float, sig: int = 3, trim: bool = False) -> str:
    """A number to ``sig`` significant figures, with thousands separators, and an exponent only
    outside 1e-4 to 1e15; ``trim`` drops trailing decimal zeros (an axis tick: 0.5, not 0.500)."""
    if _missing(x):
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    rounded = float(f"{x:.{sig}g}")
    if rounded == 0:
        return "0"
    exponent = math.floor(math.log10(abs(rounded)))
    if not -4 <= exponent < 15:
        return f"{rounded:.{sig - 1}e}"
    text = f"{rounded:,.{max(0, sig - 1 - exponent)}f}"
    return text.rstrip("0").rstrip(".") if trim and "." in text else text


def fmt_pct(x: float, decimals: int = 1) -> str:
    """A share as a percentage: 0.903 → ``90.3%``; a share too small for ``decimals`` keeps two
    significant figures (0.00012 → ``0.012%``), so that only a zero prints as 0."""
    if _missing(x):
        return "—"
    if x != 0 and round(100 * x, decimals) == 0:
        return f"{fmt(100 * x, 2)}%"
    return f"{100 * x:.{decimals}f}%"


def fmt_count(x: float) -> str:
    """A count: 1234 → ``1,234`` (never rounded to significant figures)."""
    return "—" if _missing(x) else f"{round(x):,}"


def fmt_p(p: float, lang: str = "en", bare: bool = False) -> str:
    """A p-value: ``p = 0.042`` (``p=0.042`` in Japanese), ``p < 0.001``; ``bare``: the
    number alone (``0.042``, ``< 0.001``), for a table column."""
    small = not _missing(p) and p < 0.001
    number = "0.001" if small else fmt(p, 2)
    if bare:
        return f"< {number}" if small else number
    sep = " " if lang == "en" else ""
    return f"p{sep}{'<' if small else '='}{sep}{number}"


def fmt_yen(yen: float, lang: str, bare: bool = False) -> str:
    """Money as the city's documents print it: in 億円 above :data:`OKU_ABOVE_YEN` (12.5億円),
    in 千円 with thousands separators from 10,000円 (96,458千円), in 円 below; in English ¥ with
    million or billion and the digits the Japanese shows (¥96.458 million, not 96,458 thousand
    yen). ``bare``: the number alone, in 千円 in either language (a table column)."""
    if _missing(yen):
        return "—"
    if lang == "ja" and not bare and abs(yen) > OKU_ABOVE_YEN:
        return f"{fmt(yen / 1e8, trim=True)}億円"
    k = yen / 1000
    thousands = fmt_count(k) if abs(k) >= 100 or k.is_integer() else fmt(k)
    if bare or (lang == "ja" and abs(yen) >= 1e4):
        return thousands + ("" if bare else "千円")
    if lang == "ja":
        return f"{fmt(yen)}円"
    if abs(yen) >= 1e9:
        return f"¥{fmt(yen / 1e9, trim=True)} billion"
    if abs(yen) >= 1e6:  # to the thousand yen, as the Japanese 千円 shows it
        return f"¥{round(k) / 1000:,.3f}".rstrip("0").rstrip(".") + " million"
    return f"¥{fmt(yen, trim=True)}"


def fmt_unit(x: float, unit: str, lang: str, bare: bool = False) -> str:
    """``x`` in the form its unit asks for, in ``lang``; ``bare`` leaves out the unit's word
    (千円, points …: for a table column under its unit, or the ends of an interval after the
    value), never a percent sign."""
    unit = unit.lower()
    if _missing(x):
        return "—"
    if unit.startswith("share"):
        return fmt_pct(x)
    if unit.startswith("difference in shares"):  # in percentage points, as the prose says it
        return fmt(100 * x) + ("" if bare else "ポイント" if lang == "ja" else " percentage points")
    if unit.startswith("p-value"):
        return fmt_p(x, lang, bare=True)
    if unit.startswith("thousand yen"):
        return fmt_yen(1000 * x, lang, bare)
    if unit.startswith("yen"):
        return fmt(x) if bare else fmt_yen(x, lang)
    if unit.startswith(("requests", "days")) and float(x).is_integer():
        return fmt_count(x)
    if unit.startswith("years off"):  # a gap in years: two decimals on every row, signed
        return f"{x:+.2f}"
    return fmt(x)


def unit_of_column(name: str) -> str:
    """The unit a table column's name declares (``budget_thousand_yen``, ``yen_per_capita``,
    ``share_of_fiscal_year``, ``p_value_holm``), as :func:`fmt_unit` reads it; "" if none."""
    if name.endswith("_thousand_yen"):
        return "thousand yen"
    if name.startswith("yen_") or name.endswith("_yen"):
        return "yen"
    if name == "share" or name.startswith("share_") or name.endswith("_share"):
        return "share"
    if name.endswith("_gap_years"):
        return "years off"
    return "p-value" if "p_value" in name else ""


def fmt_month(d: Any, lang: str) -> str:
    """A month: 2023-10 or 2023年10月."""
    return f"{d.year}年{d.month}月" if lang == "ja" else f"{d:%Y-%m}"


def sentences(parts: Iterable[str], lang: str) -> str:
    """Sentences run on as each language writes them: nothing between them in Japanese, a space
    in English (which a catalogue joiner, never empty, cannot say)."""
    return ("" if lang == "ja" else " ").join(parts)


def years_text(years, lang: str = "en") -> str:
    """``FY2017–FY2019`` or ``2017〜2019年度``."""
    ys = sorted(int(y) for y in years)
    if not ys:
        return "—"
    if check_lang(lang) == "ja":
        return f"{ys[0]}〜{ys[-1]}年度" if len(ys) > 1 else f"{ys[0]}年度"
    return f"FY{ys[0]}–FY{ys[-1]}" if len(ys) > 1 else f"FY{ys[0]}"


def fmt_dates(dates: Any, lang: str) -> str:
    """Dates: 2024-06-26 or 2024年6月26日, several joined by "or" / 「または」."""
    if lang == "ja":
        return "または".join(f"{d.year}年{d.month}月{d.day}日" for d in dates)
    return " or ".join(f"{d:%Y-%m-%d}" for d in dates)


#: Fractions a reader says in words (ja, en), for :func:`fmt_ratio_words`.
_FRACTIONS = ((1 / 4, "約4分の1", "about a quarter"), (1 / 3, "約3分の1", "about a third"),
              (1 / 2, "約半分", "about half"), (2 / 3, "約3分の2", "about two thirds"),
              (3 / 4, "約4分の3", "about three quarters"))


def fmt_ratio_words(x: float, lang: str) -> str:
    """A ratio as a reader says it: 約半分 / about half for 0.524, 約1.3倍 / about 1.3 times,
    約60% / about 60% (a fraction in words only within 5% of it)."""
    if _missing(x):
        return "—"
    for value, ja, en in _FRACTIONS:
        if abs(x / value - 1) <= 0.05:
            return ja if lang == "ja" else en
    if x >= 1:
        return f"約{x:.1f}倍" if lang == "ja" else f"about {x:.1f} times"
    return f"約{round(100 * x)}%" if lang == "ja" else f"about {round(100 * x)}%"
