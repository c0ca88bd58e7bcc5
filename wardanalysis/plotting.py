"""One look for every plot, and the small drawing helpers the result ``plot()`` methods share.
Nothing here selects a backend or calls ``plt.show()``; ``wardanalysis/__init__.py`` does not
import this module, which imports matplotlib."""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
import matplotlib_fontja
import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgb
from matplotlib.container import ErrorbarContainer
from matplotlib.text import Text
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    LogFormatter,
    NullLocator,
    PercentFormatter,
    ScalarFormatter,
)

from .eras import era_label
from .fonts import FONT_FAMILY
from .text.formats import OKU_ABOVE_YEN, fmt, fmt_count, fmt_yen
from .text.glossary import check_lang, label

__all__ = [
    "COLORS", "FONT_FAMILY", "INTERVAL_KINDS", "MIN_TEXT_PT", "PRINTED_WIDTH_IN", "QUALITY_MARKERS",
    "add_note", "contrast_ratio", "figure_and_axes", "finish_axes", "for_the_page",
    "interval_kinds", "mark_interval", "money_unit", "ratio_axis", "set_fy_axis", "text_color_on",
    "text_floor", "use_theme", "yen_axis",
]

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

#: The width a figure prints at on A4: the page's figure box (46rem at the print font size of
#: 10.5 pt, see site/templates/style.css), which A4's 182 mm of text width holds.
PRINTED_WIDTH_IN = 46 * 10.5 / 72
#: The smallest text a chart may print with (pt, on A4 at PRINTED_WIDTH_IN).
MIN_TEXT_PT = 9.0


def money_unit(thousand_yen: Any) -> tuple[float, str]:
    """The one money unit of a chart or table of amounts in 千円: ``(divisor, glossary key)`` —
    千円, or 億円 (10⁵ 千円) when any amount exceeds :data:`~.text.formats.OKU_ABOVE_YEN`."""
    values = np.asarray(thousand_yen, dtype=float)
    big = values.size and np.nanmax(np.abs(values)) > OKU_ABOVE_YEN / 1000
    return (1e5, "hundred_million_yen") if big else (1.0, "thousand_yen")


def contrast_ratio(a: Any, b: Any) -> float:
    """The WCAG 2 contrast ratio of two matplotlib colours (1 = the same, 21 = black on white)."""
    def luminance(c: Any) -> float:
        lin = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in to_rgb(c)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def use_theme() -> None:
    """Apply the package theme: seaborn ``whitegrid``, then the Japanese font (which
    ``seaborn.set_theme()`` resets), then the settings below."""
    global _themed
    import seaborn as sns  # heavy (scipy, pandas): when a figure is made

    sns.set_theme(context="notebook", style="whitegrid", font_scale=1.05)
    matplotlib_fontja.japanize()
    mpl.rcParams.update({
        # printed at its own size on A4 (see PRINTED_WIDTH_IN), so 9 pt in the figure is 9 pt
        # on paper
        "figure.figsize": (PRINTED_WIDTH_IN, 4.2),
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


def figure_and_axes(ax: Any = None):
    """``(fig, ax)``: a new themed figure, or the figure of the given axes."""
    if not _themed:
        use_theme()
    elif FONT_FAMILY not in mpl.rcParams["font.family"]:
        matplotlib_fontja.japanize()  # a later seaborn.set_theme() reset it: no empty boxes
    if ax is not None:
        return ax.figure, ax
    import matplotlib.pyplot as plt

    return plt.subplots(layout="constrained")


def set_fy_axis(ax: Any, years: Sequence[int], lang: str) -> None:
    """An x axis of fiscal years: ``H29\\n(2017)`` in Japanese, ``FY2017`` in English."""
    years = [int(y) for y in years]
    ja = check_lang(lang) == "ja"
    ax.set_xticks(years, [f"{era_label(y)}\n({y})" if ja else f"FY{y}" for y in years])
    ax.set_xlabel(label("fiscal_year", lang))
    if years:
        ax.set_xlim(min(years) - 0.6, max(years) + 0.6)


def finish_axes(ax: Any, lang: str, *, years: Sequence[int] | None = None, xlabel: str = "",
                ylabel: str = "", percent: str = "", legend: str = "", **legend_kw: Any) -> None:
    """The axis set-up charts share, once the data are drawn: fiscal-year ticks
    (:func:`set_fy_axis`), axis labels (glossary keys), whole-percent ticks on the axes named in
    ``percent`` (``"x"``, ``"y"``: shares from 0 to 1), and the legend at ``legend``
    (``legend_kw`` go to ``ax.legend``)."""
    if years is not None:
        set_fy_axis(ax, years, lang)
    if xlabel:
        ax.set_xlabel(label(xlabel, lang))
    if ylabel:
        ax.set_ylabel(label(ylabel, lang))
    for name in percent:
        getattr(ax, f"{name}axis").set_major_formatter(PercentFormatter(1.0, decimals=0))
    if legend:
        ax.legend(loc=legend, **legend_kw)


#: What a chart's band or whiskers can be, besides a 95% confidence interval (an unmarked band
#: or whisker): the mark :func:`mark_interval` gives the artist, which the caption reads.
INTERVAL_KINDS = ("ci", "prediction", "poisson_only", "range")


def mark_interval(drawn: Any, kind: str) -> Any:
    """Say what a band (``fill_between``) or whiskers (``errorbar``) show, so that the figure's
    caption can say it too: ``prediction`` (a 95% prediction band, not a confidence interval
    of an estimate), ``poisson_only`` (intervals the text calls too narrow), ``range`` (the
    range a rounded figure stands for). The mark is the artist's gid; returns ``drawn``."""
    if kind not in INTERVAL_KINDS:
        raise ValueError(f"unknown interval kind {kind!r}: one of {', '.join(INTERVAL_KINDS)}")
    artists = drawn.lines[2] if isinstance(drawn, ErrorbarContainer) else (drawn,)
    for artist in artists:
        artist.set_gid(f"wa-{kind}")
    return drawn


def interval_kinds(fig: Any) -> dict[str, set[str]]:
    """What a figure draws as intervals, read from the figure itself: ``{kind: {"band",
    "whiskers"}}`` for each kind of :data:`INTERVAL_KINDS` it draws (a band is a filled area
    between two curves, whiskers are error bars), by its mark (:func:`mark_interval`) or, for a
    band, its legend's words (a 95% prediction interval); empty when it draws none."""
    # a band its legend calls a prediction interval is one (page 05's monthly model labels its
    # band so, in a module whose code the simulation check hashes)
    predictions = {label(k, lang) for k in ("pi95", "counterfactual_pi95") for lang in ("ja", "en")}

    def kind(artist: Any) -> str:
        gid = artist.get_gid() or ""
        if gid.startswith("wa-"):
            return gid[3:]
        return "prediction" if artist.get_label() in predictions else "ci"

    found: dict[str, set[str]] = {}
    for ax in fig.axes:
        for c in ax.collections:
            if isinstance(c, PolyCollection):
                found.setdefault(kind(c), set()).add("band")
        for c in ax.containers:
            if isinstance(c, ErrorbarContainer) and c.lines[2]:
                found.setdefault(kind(c.lines[2][0]), set()).add("whiskers")
    return found


def ratio_axis(ax: Any, low: float, high: float) -> None:
    """A log-scale x axis of ratios from ``low`` to ``high`` with readable ticks, 1 (no change)
    always shown and marked by a dashed line."""
    ax.axvline(1, color=COLORS["neutral"], lw=1, ls="--")
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
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.xaxis.set_major_locator(FixedLocator([t for t in cands if lo <= t <= hi]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(_plain_number))


def add_note(ax: Any, text: str, fontsize: float = MIN_TEXT_PT) -> None:
    """A short note under the plot (a caveat or a key to marks), wrapped to the figure width.

    It is the figure's ``supxlabel``, so the constrained layout makes room for it; a figure
    holds one note (a second call replaces the first).
    """
    fig = ax.figure
    width_pt = fig.get_figwidth() * 72 * 0.95
    widths = [1.0 if unicodedata.east_asian_width(c) in "WF" else 0.55 for c in text] or [1.0]
    per_char = fontsize * sum(widths) / len(widths)
    wrapped = "\n".join(textwrap.wrap(text, width=max(20, int(width_pt / per_char))))
    fig.supxlabel(wrapped, x=0.01, ha="left", fontsize=fontsize, color=COLORS["neutral"])


def text_floor(fig: Any) -> float:
    """The smallest font size (pt) of ``fig`` that prints at :data:`MIN_TEXT_PT` on A4."""
    return MIN_TEXT_PT * max(1.0, fig.get_figwidth() / PRINTED_WIDTH_IN)


def text_color_on(background: Any) -> str:
    """Black or white, whichever reads better on ``background`` (WCAG contrast ratio)."""
    return max(("#000000", "#ffffff"), key=lambda c: contrast_ratio(c, background))


def yen_axis(ax: Any, lang: str) -> None:
    """A log-scale x axis of yen whose ticks say amounts: 100円 / ¥100, 1,000円 / ¥1,000 (not
    10²)."""
    check_lang(lang)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_yen(v, lang)))  # minor: for_the_page


def _leading(v: float) -> int:
    """The leading digit of ``v`` (2 for 0.2, 200 or 2,500)."""
    return int(round(v / 10 ** np.floor(np.log10(abs(v))), 6)) if v else 0


def _plain_number(v: float, _pos: Any = None) -> str:
    """A tick as a reader writes a number: thousands separators, no powers of ten."""
    return fmt_count(v) if v == round(v) else fmt(v, trim=True)


def for_the_page(fig: Any, lang: str) -> None:
    """Make a finished figure readable where readers see it, before it is saved for a page:

    - no text under :data:`MIN_TEXT_PT` once the figure is printed at its width on A4 (a figure
      wider than :data:`PRINTED_WIDTH_IN` is shrunk in print, so its floor is higher);
    - numbers on the axes with thousands separators and without powers of ten (log axes too);
    - in Japanese, the y-axis label written horizontally above its axis, not on its side.
    """
    check_lang(lang)
    floor = text_floor(fig)
    for ax in fig.axes:
        for a, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            major = a.get_major_formatter()
            if isinstance(major, (ScalarFormatter, LogFormatter)):
                a.set_major_formatter(FuncFormatter(_plain_number))
            if isinstance(a.get_minor_formatter(), LogFormatter):
                # under two decades a log axis has too few powers of ten: 2 and 5 × 10ⁿ too
                few = abs(np.log10(max(limits) / max(min(limits), 1e-300))) < 2
                shown = major if isinstance(major, FuncFormatter) else FuncFormatter(_plain_number)
                a.set_minor_formatter(FuncFormatter(
                    lambda v, pos, f=shown, few=few: f(v, pos) if few and _leading(v) in (2, 5)
                    else ""))
        if lang == "ja":
            _horizontal_ylabel(ax)
    for text in fig.findobj(Text):
        if text.get_text() and text.get_fontsize() < floor:
            text.set_fontsize(floor)
    for ax in fig.axes:  # tick labels made at draw time take their axis's size
        for a in (ax.xaxis, ax.yaxis):
            ticks = a.get_major_ticks()
            if ticks and ticks[0].label1.get_fontsize() < floor:
                a.set_tick_params(which="both", labelsize=floor)
    _titles_within(fig)


def _every_nth_tick_label(ax: Any, renderer: Any) -> None:
    """Show every 2nd (3rd …) x tick label when the labels at the printed size would touch
    (twelve fiscal years across an A4 column)."""
    ticks = [t for t in ax.xaxis.get_major_ticks() if t.label1.get_text()]
    for step in (1, 2, 3, 4):
        shown = ticks[::step]
        boxes = [t.label1.get_window_extent(renderer) for t in shown]
        if all(a.x1 + 2 <= b.x0 for a, b in zip(boxes, boxes[1:], strict=False)):
            break
    for i, t in enumerate(ticks):
        t.label1.set_visible(i % step == 0)


def _titles_within(fig: Any) -> None:
    """Wrap a title that runs past the figure's right edge (a long Japanese title at the
    printed size would otherwise widen the saved figure, and so shrink all its text)."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        _every_nth_tick_label(ax, renderer)
        titles = {ax.get_title(loc) for loc in ("left", "center", "right")} - {""}
        for t in ax.get_children():
            if not (isinstance(t, Text) and t.get_text() in titles):
                continue
            box = t.get_window_extent(renderer)
            room = fig.bbox.x1 - box.x0 - 4
            if box.x1 <= fig.bbox.x1 or room <= 0:
                continue
            text = t.get_text()
            per_line = max(8, int(len(text) * room / box.width))
            head, sep, tail = text.partition("：")
            if sep and len(head) + 1 <= per_line and len(tail) <= per_line:
                t.set_text(f"{head}{sep}\n{tail}")  # at the colon, as a Japanese title breaks
            elif " " in text:
                t.set_text("\n".join(textwrap.wrap(text, per_line)))
            else:
                t.set_text("\n".join(text[i:i + per_line] for i in range(0, len(text), per_line)))


def _horizontal_ylabel(ax: Any) -> None:
    """The y label above the axis, read left to right, and the title raised over it; a label
    that repeats the title is dropped."""
    label_ = ax.yaxis.label
    if not label_.get_text() or label_.get_rotation() == 0:
        return
    if label_.get_text() in {ax.get_title(loc) for loc in ("left", "center", "right")}:
        label_.set_text("")  # the title above the axis says it already: once is enough
        return
    right = ax.yaxis.get_label_position() == "right"
    label_.set_rotation(0)
    label_.set_horizontalalignment("right" if right else "left")
    label_.set_verticalalignment("bottom")
    ax.yaxis.set_label_coords(1.0 if right else 0.0, 1.02)
    pad = mpl.rcParams["axes.titlepad"] + label_.get_fontsize() * 1.9
    for loc in ("left", "center", "right"):
        title = ax.get_title(loc)
        if title:
            ax.set_title(title, loc=loc, pad=pad)
