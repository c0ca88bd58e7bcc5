"""One look for every plot, and the small drawing helpers the result ``plot()`` methods share.

:func:`use_theme` applies the seaborn theme and *then* the Japanese font (IPAexGothic from
matplotlib-fontja): ``seaborn.set_theme()`` resets ``font.family``, so the font must come after it.
Nothing here selects a backend or calls ``plt.show()``; under the Agg backend everything works
headless.

This module imports matplotlib and seaborn, so ``wardanalysis/__init__.py`` does not import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import numpy as np

from .eras import era_label
from .text.glossary import check_lang, label

__all__ = [
    "COLORS",
    "contrast_ratio",
    "money_unit",
    "FONT_NAME",
    "QUALITY_MARKERS",
    "add_note",
    "ensure_japanese_font",
    "figure_and_axes",
    "fy_tick_labels",
    "interval_points",
    "set_fy_axis",
    "use_theme",
]

FONT_NAME = "IPAexGothic"
#: One colour per role, colour-blind safe (seaborn "colorblind" palette order).
COLORS = {
    "observed": "#0173B2",
    "fit": "#DE8F05",
    "counterfactual": "#029E73",
    "interval": "#0173B2",
    "pre": "#0173B2",
    "covid": "#D55E00",
    "level1": "#0173B2",
    "level2": "#DE8F05",
    "level3": "#CC78BC",
    "neutral": "#555555",
    "measures": "#D55E00",
    # a prediction (expected value and its interval) drawn over bars: near-black with a white
    # edge, so it stands out on every bar colour above (contrast ratio ≥ 3 against each)
    "prediction": "#1A1A1A",
}
#: Marker per source-quality mark: filled for official (O), open shapes for the others.
QUALITY_MARKERS = {"O": "o", "N": "s", "W": "D", "B": "^", "C": "v"}

_themed = False


def money_unit(thousand_yen: Any) -> tuple[float, str]:
    """The one money unit of a chart or table of amounts in 千円: ``(divisor, glossary key)`` —
    千円, or 億円 (10⁵ 千円) when any amount exceeds 10⁶ 千円 (one billion yen)."""
    values = np.asarray(thousand_yen, dtype=float)
    big = values.size and np.nanmax(np.abs(values)) > 1e6
    return (1e5, "hundred_million_yen") if big else (1.0, "thousand_yen")


def contrast_ratio(a: Any, b: Any) -> float:
    """The WCAG 2 contrast ratio of two matplotlib colours (1 = the same, 21 = black on white)."""
    from matplotlib.colors import to_rgb

    def luminance(c: Any) -> float:
        lin = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in to_rgb(c)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def use_theme(font_scale: float = 1.05) -> None:
    """Apply the package theme: seaborn ``whitegrid`` at a readable size, then the Japanese font.

    Safe to call repeatedly and under any backend.
    """
    global _themed
    import seaborn as sns

    sns.set_theme(context="notebook", style="whitegrid", font_scale=font_scale)
    ensure_japanese_font(force=True)
    mpl.rcParams.update({
        "figure.figsize": (8.0, 4.8),
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "savefig.bbox": "tight",
        "axes.titlesize": "large",
        "axes.titleweight": "normal",  # IPAexGothic has no bold face
        "axes.titlelocation": "left",
        "legend.frameon": False,
        "axes.unicode_minus": True,  # IPAexGothic has U+2212
        # figures go into pages as SVG with their text as text (the page's embedded font
        # draws it), deterministic from run to run (no date, fixed ids)
        "svg.fonttype": "none",
        "svg.hashsalt": "wardanalysis",
    })
    _themed = True


def ensure_japanese_font(force: bool = False) -> None:
    """Make IPAexGothic the font family unless it already is (a later ``seaborn.set_theme()``
    would otherwise leave Japanese labels drawn as empty boxes)."""
    family = mpl.rcParams["font.family"]
    family = [family] if isinstance(family, str) else list(family)
    if force or FONT_NAME not in family:
        import matplotlib_fontja

        matplotlib_fontja.japanize()


def figure_and_axes(ax: Any = None, figsize: tuple[float, float] | None = None):
    """``(fig, ax)``: a new themed figure, or the figure of the given axes."""
    if not _themed:
        use_theme()
    else:
        ensure_japanese_font()
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def fy_tick_labels(years: Sequence[int], lang: str) -> list[str]:
    """Fiscal-year tick labels: ``H29\\n(2017)`` in Japanese, ``FY2017`` in English."""
    check_lang(lang)
    if lang == "ja":
        return [f"{era_label(int(y))}\n({int(y)})" for y in years]
    return [f"FY{int(y)}" for y in years]


def set_fy_axis(ax: Any, years: Sequence[int], lang: str) -> None:
    years = [int(y) for y in years]
    ax.set_xticks(years)
    ax.set_xticklabels(fy_tick_labels(years, lang))
    ax.set_xlabel(label("fiscal_year", lang))
    if years:
        ax.set_xlim(min(years) - 0.6, max(years) + 0.6)


def interval_points(ax: Any, x, est, low, high, *, color: str, label_text: str | None = None,
                    marker: str = "o", filled: bool = True, offset: float = 0.0, **kw) -> Any:
    """Points with 95% interval bars; NaN intervals draw the point alone."""
    x = np.asarray(x, dtype=float) + offset
    est = np.asarray(est, dtype=float)
    low = np.asarray(low, dtype=float)
    high = np.asarray(high, dtype=float)
    yerr = np.vstack([np.where(np.isnan(low), 0, est - low), np.where(np.isnan(high), 0, high - est)])
    return ax.errorbar(
        x, est, yerr=yerr, fmt=marker, color=color, ecolor=color, elinewidth=1.6, capsize=4,
        markersize=7, markerfacecolor=color if filled else "white", markeredgewidth=1.5,
        label=label_text, **kw,
    )


def ratio_axis(ax: Any, low: float, high: float, axis: str = "x") -> None:
    """A log-scale ratio axis from ``low`` to ``high`` with readable ticks (1 always shown)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    low, high = float(min(low, 1.0)), float(max(high, 1.0))
    span = np.log10(high / low)
    if span < 0.35:
        cands = np.round(np.arange(0.5, 2.01, 0.05), 2)
    elif span < 0.8:
        cands = np.round(np.arange(0.5, 3.01, 0.1), 2)
        cands = cands[np.isclose((cands * 10) % 2, 0) | (cands == 1)]
    else:
        cands = np.array([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500])
    pad = span * 0.08 + 0.01
    lo, hi = low / 10**pad, high * 10**pad
    ticks = [t for t in cands if lo <= t <= hi]
    a = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    (ax.set_xlim if axis == "x" else ax.set_ylim)(lo, hi)
    a.set_major_locator(FixedLocator(ticks))
    a.set_minor_locator(NullLocator())
    a.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))


def add_note(ax: Any, text: str, fontsize: float = 8.5) -> None:
    """A short note under the plot (a caveat or a key to marks), wrapped to the figure width.

    It is the figure's ``supxlabel``, so the constrained layout makes room for it; a figure
    holds one note (a second call replaces the first).
    """
    import textwrap
    import unicodedata

    fig = ax.figure
    width_pt = fig.get_figwidth() * 72 * 0.95
    widths = [1.0 if unicodedata.east_asian_width(c) in "WF" else 0.55 for c in text] or [1.0]
    per_char = fontsize * sum(widths) / len(widths)
    wrapped = "\n".join(textwrap.wrap(text, width=max(20, int(width_pt / per_char))))
    fig.supxlabel(wrapped, x=0.01, ha="left", fontsize=fontsize, color=COLORS["neutral"])
