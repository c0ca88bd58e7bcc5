"""Numbers for display, and nothing else: rounding happens here and only here (the result
objects keep every number unrounded). No pandas, so that the batch's parent process can format
the front page without importing it."""

from __future__ import annotations

import math

__all__ = ["fmt", "fmt_pct"]


def fmt(x: float, sig: int = 3) -> str:
    """A number for display: ``sig`` significant figures, thousands separators for large
    values, no exponent for everyday magnitudes."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
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
    if x is None or math.isnan(x):
        return "—"
    return f"{100 * x:.{decimals}f}%"
