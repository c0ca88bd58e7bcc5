"""The package's one font (IPAexGothic, which matplotlib-fontja ships and the plots use), as
WOFF subsets embedded where a reader's browser may not have it: a page embeds one subset of the
glyphs it shows (:func:`wardanalysis.site.pages.font_face`); a chart shown in a notebook carries
its own (:func:`figure_font_css`), so that JupyterLab draws its text, Japanese included, in this
font on a machine without it (SVG text as text is 8× smaller than as paths, which is the only
way matplotlib embeds fonts). fontTools does the subsetting.
"""

from __future__ import annotations

import base64
import html
import importlib.util
import io
import re
from functools import cache
from itertools import groupby
from pathlib import Path

__all__ = ["FIGURE_FONT_CLASS", "FONT_FAMILY", "figure_font_css", "font_path", "subset_woff"]

#: The family the plots (SVG text) and the pages both name.
FONT_FAMILY = "IPAexGothic"
#: The class of a chart's own ``<style>`` rule (which a page, embedding its font once, drops).
FIGURE_FONT_CLASS = "wa-figure-font"


@cache
def font_path() -> Path:
    """The IPAexGothic file that matplotlib-fontja ships, found without importing it (which
    would import matplotlib into the batch's parent process)."""
    spec = importlib.util.find_spec("matplotlib_fontja")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("matplotlib-fontja is not installed: no Japanese font to embed")
    return Path(next(iter(spec.submodule_search_locations))) / "fonts" / "ipaexg.ttf"


@cache
def subset_woff(chars: frozenset[str], compact: bool = False) -> bytes:
    """The font as WOFF with exactly the glyphs of ``chars``. ``compact``: without hinting and
    layout features (a chart's text needs neither at screen sizes; the subset is half as big)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    # recalcTimestamp=False: fontTools would stamp the subset's head.modified with the time it
    # was saved, and two runs of the same page would differ in the embedded font
    font = TTFont(str(font_path()), lazy=True, recalcTimestamp=False)
    # by default fontTools' default layout features: those browsers apply
    lean = {"hinting": False, "layout_features": [], "name_IDs": []} if compact else {}
    subsetter = subset.Subsetter(subset.Options(notdef_outline=not compact, **lean))
    subsetter.populate(unicodes=sorted(ord(c) for c in chars))
    subsetter.subset(font)
    buf = io.BytesIO()
    font.flavor = "woff"
    font.save(buf)
    return buf.getvalue()


def _unicode_range(chars: frozenset[str]) -> str:
    """``U+41-43, U+5186``: the code points as runs of consecutive ones."""
    points = enumerate(sorted(ord(c) for c in chars))
    runs = [[p for _, p in run] for _, run in groupby(points, lambda ip: ip[1] - ip[0])]
    return ", ".join(f"U+{r[0]:X}" if len(r) == 1 else f"U+{r[0]:X}-{r[-1]:X}" for r in runs)


def figure_font_css(svg: str) -> str:
    """A ``<style>`` element for an SVG chart made with ``svg.fonttype: none``: the font's
    glyphs for the text of its ``<text>`` elements, limited to them by ``unicode-range`` (so
    that the rules of several charts in one notebook add up to one font instead of the last
    replacing the others); empty when the chart has no text. A page drops it."""
    text = "".join(html.unescape(re.sub(r"<[^>]+>", "", t))  # a <tspan> inside keeps its text
                   for t in re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S))
    chars = frozenset(c for c in text if not c.isspace())
    if not chars:
        return ""
    data = base64.b64encode(subset_woff(chars, compact=True)).decode("ascii")
    return (f'<style class="{FIGURE_FONT_CLASS}">@font-face {{ font-family: "{FONT_FAMILY}"; '
            f'src: url(data:font/woff;base64,{data}) format("woff"); '
            f"unicode-range: {_unicode_range(chars)}; }}</style>")
