"""Every page a reader opens is a document: one HTML file that opens offline, prints on A4,
reads on a phone and runs no script. Its shell, stylesheet and the pieces pages share are
jinja2 templates (``templates/``), escaping everything they are given but a rendered body.

The Japanese font (the IPAexGothic the plots use) is embedded as a subset of exactly the glyphs
a page shows, so a single file sent by e-mail still renders Japanese (WOFF: WOFF2's Brotli at
its fixed highest quality takes 0.8 s a page, WOFF 0.25 s for a quarter more bytes). The font
each chart carries for JupyterLab is dropped: the page's one subset draws its text.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

import jinja2

from ..fonts import FIGURE_FONT_CLASS, FONT_FAMILY, subset_woff
from ..text.messages import glosses, message

__all__ = ["CSP", "ENV", "PARTS", "font_face", "page", "sharing_one_font"]

#: No script from anywhere, no inline event handler, no frame, form, plugin or request to any
#: network address: only the page's own inline styles and embedded images and font.
CSP = ("default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:; "
       "font-src data:; object-src 'none'; frame-src 'none'; base-uri 'none'; "
       "form-action 'none'")

ENV = jinja2.Environment(loader=jinja2.PackageLoader("wardanalysis.site"), autoescape=True,
                         keep_trailing_newline=True)
ENV.globals.update(message=message, glosses=glosses, csp=CSP, font_family=FONT_FAMILY)
ENV.filters["json"] = lambda value: json.dumps(value, ensure_ascii=False)
#: The macros of ``parts.html.j2``, for the pages made in Python.
PARTS = ENV.get_template("parts.html.j2").module

#: Printable ASCII is always in the subset, so that Latin text (in the pages and in the charts'
#: SVG text) is drawn by the same font on every machine.
_ASCII = frozenset(chr(i) for i in range(0x20, 0x7F))
_FIGURE_FONT = re.compile(rf'<style class="{FIGURE_FONT_CLASS}">.*?</style>', re.S)


def font_face(text: str) -> str:
    """An ``@font-face`` rule embedding the Japanese font, subset to printable ASCII and the
    characters of ``text`` beyond it (kana, kanji, full-width forms, symbols)."""
    chars = frozenset(c for c in text if ord(c) >= 0x2000) | _ASCII
    data = base64.b64encode(subset_woff(chars)).decode("ascii")
    return (f'@font-face {{ font-family: "{FONT_FAMILY}"; '
            f'src: url(data:font/woff;base64,{data}) format("woff"); }}')


def page(template: str = "page.html.j2", *, lang: str, title: str, body: str = "",
         font_css: str | None = None, **context: Any) -> str:
    """One complete, self-contained page from ``template`` (``page.html.j2`` or one extending
    it). ``body`` (and ``nav``, ``footer``) are HTML already made safe by their makers. The font
    is subset to the page's own text unless ``font_css`` is a rule made for several pages."""
    context.update(lang=lang, title=title, body=_FIGURE_FONT.sub("", body))
    made = ENV.get_template(template)
    if font_css is None:
        font_css = font_face(made.render(context, font_css=""))
    return made.render(context, font_css=font_css)


def sharing_one_font(makers: dict[str, Callable[..., str]]) -> dict[str, str]:
    """Pages that embed one font subset, of all their characters (one subsetting instead of one
    per page: fontTools takes about 0.3 s for each): ``makers`` are page functions taking
    ``font_css``, by name."""
    font = font_face("".join(make(font_css="") for make in makers.values()))
    return {name: make(font_css=font) for name, make in makers.items()}
