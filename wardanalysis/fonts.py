"""The package's one font (IPAexGothic, which matplotlib-fontja ships and the plots use), as
subsets embedded where a reader's browser may not have it.

- A page embeds one subset of the glyphs it shows (:func:`wardanalysis.site.pages.font_face`).
- A chart shown in a notebook (``report.show``) carries its own small subset in its SVG
  (:func:`figure_font_css`), so that JupyterLab draws its text in this font too, Japanese
  included, on a machine without it: the SVG's text is text (8× smaller than text as paths),
  and a browser that lacks the named font would draw it in its default serif, Japanese only if
  it has a CJK font. Each chart's rule names the same family with a ``unicode-range`` of its own
  glyphs, so the rules of several charts in one notebook add up to one font instead of the last
  replacing the others. A page drops these rules: it embeds its own subset once.

fontTools does the subsetting; WOFF (zlib) needs no other library. No package offers this for
inline SVG (matplotlib embeds fonts only as paths, ``svg.fonttype: path``).
"""

from __future__ import annotations

import base64
import io
import re
from functools import cache
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
    import importlib.util

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
    options = subset.Options()  # fontTools' default layout features: those browsers apply
    options.flavor = "woff"
    options.notdef_outline = True
    if compact:
        options.hinting = False
        options.layout_features = []
        options.name_IDs = []
        options.notdef_outline = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(ord(c) for c in chars))
    subsetter.subset(font)
    buf = io.BytesIO()
    font.flavor = "woff"
    font.save(buf)
    return buf.getvalue()


def _unicode_range(chars: frozenset[str]) -> str:
    points = sorted(ord(c) for c in chars)
    spans: list[list[int]] = []
    for p in points:
        if spans and p == spans[-1][1] + 1:
            spans[-1][1] = p
        else:
            spans.append([p, p])
    return ", ".join(f"U+{a:X}" if a == b else f"U+{a:X}-{b:X}" for a, b in spans)


def figure_font_css(svg: str) -> str:
    """A ``<style>`` element for an SVG chart made with ``svg.fonttype: none``: the font's
    glyphs for the text of its ``<text>`` elements, limited to them by ``unicode-range``; empty
    when the chart has no text."""
    import html

    text = "".join(html.unescape(re.sub(r"<[^>]+>", "", t))  # a <tspan> inside keeps its text
                   for t in re.findall(r"<text\b[^>]*>(.*?)</text>", svg, re.S))
    chars = frozenset(c for c in text if not c.isspace())
    if not chars:
        return ""
    data = base64.b64encode(subset_woff(chars, compact=True)).decode("ascii")
    return (f'<style class="{FIGURE_FONT_CLASS}">@font-face {{ font-family: "{FONT_FAMILY}"; '
            f'src: url(data:font/woff;base64,{data}) format("woff"); '
            f"unicode-range: {_unicode_range(chars)}; }}</style>")
