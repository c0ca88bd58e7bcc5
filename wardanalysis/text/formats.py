"""Numbers for display: rounding happens here and only here (results keep every number
unrounded), and a value's form follows from its unit (:func:`fmt_unit`). No pandas, so that the
batch's parent process can format the front page without importing it."""

from __future__ import annotations

import math

__all__ = ["fmt", "fmt_count", "fmt_p", "fmt_pct", "fmt_unit"]


def _missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt(x: float, sig: int = 3) -> str:
    """A number for display: ``sig`` significant figures, thousands separators for large
    values, no exponent for everyday magnitudes."""
    if _missing(x):
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if x == 0:
        return "0"
    digits = sig - int(math.floor(math.log10(abs(x)))) - 1
    if digits <= 0:
        return f"{round(x, digits):,.0f}"
    return f"{x:.{digits}f}"


def fmt_pct(x: float, decimals: int = 1) -> str:
    """A share as a percentage: 0.903 → ``90.3%``."""
    return "—" if _missing(x) else f"{100 * x:.{decimals}f}%"


def fmt_count(x: float) -> str:
    """A count: 1234 → ``1,234`` (never rounded to significant figures)."""
    return "—" if _missing(x) else f"{round(x):,}"


def fmt_p(p: float, lang: str = "en", bare: bool = False) -> str:
    """A p-value: ``p = 0.042`` (``p=0.042`` in Japanese), ``p < 0.001``; ``bare``: the
    number alone (``0.042``, ``< 0.001``), for a table column."""
    if _missing(p):
        number = "—"
    elif p < 0.001:
        number = "< 0.001" if bare else "<0.001"
    else:
        number = fmt(p, 2)
    if bare:
        return number
    sep = " " if lang == "en" else ""
    return f"p{sep}{number.replace('<', f'<{sep}') if number.startswith('<') else '=' + sep + number}"


def fmt_unit(x: float, unit: str, lang: str, bare: bool = False) -> str:
    """``x`` in the form its unit asks for, in ``lang``; ``bare`` leaves out the unit's word
    (円, points …: for the ends of an interval after the value), never a percent sign."""
    unit = unit.lower()
    ja = lang == "ja"
    if _missing(x):
        return "—"
    if unit.startswith("share"):
        return fmt_pct(x)
    if unit.startswith("difference in shares"):  # in percentage points, as the prose says it
        return fmt(100 * x) + ("" if bare else "ポイント" if ja else " percentage points")
    if unit.startswith("p-value"):
        return fmt_p(x, lang, bare=True)
    if unit.startswith("thousand yen"):
        if ja:
            return fmt(x) + ("" if bare else "千円")
        yen = 1000 * x
        scale = next(((d, w) for d, w in ((1e9, " billion"), (1e6, " million")) if abs(yen) >= d),
                     (1, ""))
        return f"¥{fmt(yen / scale[0])}{scale[1]}"
    if unit.startswith("yen"):
        return fmt(x) + ("" if bare else "円") if ja else f"¥{fmt(x)}"
    if unit.startswith(("requests", "days")) and float(x).is_integer():
        return fmt_count(x)
    return fmt(x)


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
