"""Every page a reader opens is a document: one HTML file that opens offline, prints on A4,
reads on a phone and runs no script.

- :func:`page` wraps a body in the one shell every page uses: ``<html lang>``, a
  Content-Security-Policy that forbids scripts and every network request, the package's own small
  stylesheet (screen, 390 px phones, print on A4), the navigation bar and the footer.
- :func:`font_face` embeds the Japanese font (the IPAexGothic that the plots use) as a subset of
  exactly the glyphs the page shows, so a single file sent by e-mail still renders Japanese
  (:mod:`wardanalysis.fonts`; WOFF (zlib) keeps it small and fast to make: WOFF2's Brotli at
  its fixed highest quality takes 0.8 s a page, WOFF 0.25 s for a quarter more bytes). The
  font each chart carries for JupyterLab is dropped: the page's one subset draws its text.

The pages need no script of their own, so the policy allows none.
"""

from __future__ import annotations

import base64
import html
import re

from ..fonts import FIGURE_FONT_CLASS, FONT_FAMILY, subset_woff

__all__ = ["CSP", "FONT_FAMILY", "font_face", "nav_bar", "page"]

#: No script from anywhere, no inline event handler, no frame, form, plugin or request to any
#: network address: only the page's own inline styles and embedded images and font.
CSP = ("default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:; "
       "font-src data:; object-src 'none'; frame-src 'none'; base-uri 'none'; "
       "form-action 'none'")

_STACK = (f'"{FONT_FAMILY}", system-ui, -apple-system, "Segoe UI", "Hiragino Sans", '
          '"Yu Gothic", "Noto Sans CJK JP", sans-serif')

CSS = """
:root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --accent: #0b5cad; --soft: #f6f8fa; }
* { box-sizing: border-box; }
html { font-size: 16px; -webkit-text-size-adjust: 100%; }
body { font-family: STACK; color: var(--ink); line-height: 1.7; margin: 0; }
main, .wa-nav-inner, footer { max-width: 60rem; margin: 0 auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; line-height: 1.35; margin: 1.2rem 0 .6rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .6rem; border-bottom: 2px solid var(--accent);
     padding-bottom: .2rem; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 1.1rem; margin: 1.4rem 0 .4rem; break-after: avoid; page-break-after: avoid; }
p, li { font-size: 1rem; }
a { color: var(--accent); }
.anchor-link { display: none; }
.wa-nav { border-bottom: 1px solid var(--line); background: var(--soft); font-size: .95rem; }
.wa-nav-inner { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; padding: .5rem 1rem; }
.wa-nav a, .wa-nav span { white-space: nowrap; }
.wa-nav .wa-here { font-weight: 600; }
.wa-summary { border: 1px solid #9ec5ec; border-left: 6px solid var(--accent); background: #f3f8fd;
              border-radius: 6px; padding: .6rem 1rem; margin: 1rem 0; break-inside: avoid; }
.wa-summary h2 { border: 0; margin: .2rem 0 .4rem; font-size: 1.15rem; }
.wa-summary ul { margin: .3rem 0; padding-left: 1.2rem; }
.wa-figures { font-weight: 600; }
.wa-download { font-size: .85rem; margin: -.4rem 0 1rem; }
.wa-caveat { color: var(--muted); }
.wa-toc { font-size: .95rem; margin: .5rem 0 1rem; }
.wa-toc ol { margin: .2rem 0; padding-left: 1.4rem; }
.wa-simulated { border: 2px solid #b35900; background: #fff4e5; padding: .4rem .8rem; }
figure { margin: 1rem 0; break-inside: avoid; page-break-inside: avoid; overflow-x: auto; }
/* a chart keeps a width its text can be read at (9 pt charts, see plotting.for_the_page): on a
   phone its box scrolls sideways instead of shrinking it */
figure svg, figure img { width: 100%; min-width: 34rem; max-width: 46rem; height: auto;
                         display: block; }
figcaption { font-size: .92rem; color: var(--muted); margin-top: .3rem; }
.wa-table { overflow-x: auto; margin: .6rem 0 1rem; }
table { border-collapse: collapse; font-size: .9rem; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .5rem; vertical-align: top; }
th { background: var(--soft); text-align: left; }
td { font-variant-numeric: tabular-nums; }
.output_html table, .rendered_html table { margin: 0; }
.output_html, .output_subarea, .text_cell_render { overflow-x: auto; max-width: 100%; }
p, li, figcaption { overflow-wrap: anywhere; }
th { min-width: 4.5em; }
td { min-width: 3em; }
.input, .prompt, .input_prompt, .output_prompt { display: none; }
.wa-full .input { display: block; }
pre, code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .85rem; }
pre { background: var(--soft); padding: .5rem; overflow-x: auto; white-space: pre-wrap; }
.highlight pre { margin: 0; }
.cell.code_cell:not(:has(.output_area)) { display: none; }
.wa-full .cell.code_cell { display: block; }
footer { border-top: 1px solid var(--line); margin-top: 3rem; padding-top: .6rem; padding-bottom: 2rem;
         color: var(--muted); font-size: .85rem; }
footer table { font-size: .85rem; }
.wa-status-failed, .wa-status-stale { color: #b00020; font-weight: 600; }
.wa-grid td, .wa-grid th { text-align: center; }
@media (max-width: 480px) {
  html { font-size: 15px; }
  h1 { font-size: 1.35rem; }
  main, .wa-nav-inner, footer { padding: 0 .7rem; }
  th { white-space: nowrap; }
  /* a table scrolls sideways in its box: its row labels keep a width they read at, instead of
     wrapping to three characters a line */
  td:first-child { min-width: 7.5em; }
  td { min-width: 4em; }
}
@media print {
  @page { size: A4; margin: 16mm 14mm; }
  html { font-size: 10.5pt; }
  .wa-nav, .wa-download { display: none; }
  main, footer { max-width: none; padding: 0; }
  a[href^="http"]::after { content: " (" attr(href) ")"; font-size: .8em; color: var(--muted);
                           word-break: break-all; }
  a[data-address]::after { content: " (" attr(data-address) ")"; }
  .wa-table, .output_html, .output_subarea, .text_cell_render, figure { overflow: visible; }
  table { font-size: 8.5pt; width: 100%; table-layout: auto; }
  th, td { padding: .15rem .3rem; }
  /* a cell's text may break anywhere, a heading's English words only where they cannot fit
     whole (no "Reques/ts"); a wide table's reader view keeps few columns (report.show_result) */
  td { overflow-wrap: anywhere; }
  th { overflow-wrap: break-word; word-break: normal; hyphens: manual; }
  tr, figure, .wa-summary { break-inside: avoid; page-break-inside: avoid; }
}
""".replace("STACK", _STACK)


#: Printable ASCII is always in the subset, so that Latin text (in the pages and in the charts'
#: SVG text) is drawn by the same font on every machine.
_ASCII = frozenset(chr(i) for i in range(0x20, 0x7F))


def font_face(text: str) -> str:
    """An ``@font-face`` rule embedding the Japanese font, subset to printable ASCII and the
    characters of ``text`` beyond it (kana, kanji, full-width forms, symbols)."""
    chars = frozenset(c for c in text if ord(c) >= 0x2000) | _ASCII
    data = base64.b64encode(subset_woff(chars)).decode("ascii")
    return (f'@font-face {{ font-family: "{FONT_FAMILY}"; '
            f'src: url(data:font/woff;base64,{data}) format("woff"); }}')


_FIGURE_FONT = re.compile(rf'<style class="{FIGURE_FONT_CLASS}">.*?</style>', re.S)


def nav_bar(items: list[tuple[str, str | None]], label: str) -> str:
    """The bar at the top of a page: ``[(text, href or None for the current page), …]``."""
    parts = [f'<span class="wa-here" aria-current="page">{html.escape(text)}</span>' if href is None
             else f'<a href="{html.escape(href, quote=True)}">{html.escape(text)}</a>'
             for text, href in items]
    return (f'<nav class="wa-nav" aria-label="{html.escape(label, quote=True)}">'
            f'<div class="wa-nav-inner">{"".join(parts)}</div></nav>')


def page(*, lang: str, title: str, body: str, nav: str = "", footer: str = "",
         body_class: str = "", font_css: str | None = None) -> str:
    """One complete, self-contained page. ``title`` is plain text (escaped here); ``body``,
    ``nav`` and ``footer`` are HTML already made safe by their makers. ``font_css`` is an
    ``@font-face`` rule made for several pages at once (see :func:`font_face`); by default the
    page's own."""
    # a chart's own font rule (for JupyterLab, see wardanalysis.fonts): the page embeds its font
    body = _FIGURE_FONT.sub("", body)
    shown = nav + body + footer + title
    cls = f' class="{html.escape(body_class, quote=True)}"' if body_class else ""
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang, quote=True)}">\n<head>\n'
        '<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>\n{font_face(shown) if font_css is None else font_css}\n{CSS}</style>\n</head>\n"
        f"<body{cls}>\n{nav}\n<main>\n{body}\n</main>\n{footer}\n</body>\n</html>\n"
    )
