"""Executed notebooks to pages, in-process with nbconvert's ``basic`` exporter.

Two views of each report, and a third page for a failure:

- ``index.html`` (the review view): for reviewers, in the report's language only: no code, no parameter or
  machine cells, no stderr; the notebook's title, its summary box (要旨 / Summary), a table of
  contents of its numbered sections, the body, and a footer with the run data;
- ``full.html``: everything, code included, for the researcher;
- ``error.html``: the partial notebook with code, under the error.

nbconvert renders the cells (the ``basic`` template: content only); :func:`wardanalysis.site.pages.page`
wraps them in the package's own shell (stylesheet, print and phone rules, embedded font subset,
Content-Security-Policy, navigation bar). Markdown cells tagged ``lang-ja`` or ``lang-en`` are
kept only on pages of that language; cells tagged ``review-hide`` only in the full view. The
exporters are built once per worker process.

Navigation links point at the stable address of each report (``<notebook>/<lang>/`` or
``<notebook>/<fiscal year>/<lang>/``, see :func:`stable_dir`), relative to the page's own folder:
its stable address, or the ``failed/`` folder beside it for an error page (:func:`to_root`).
"""

from __future__ import annotations

import copy
import html
import json
import re
from typing import Any

from ..text.messages import message
from .pages import font_face, nav_bar, page
from .runlog import RUN_LOG_FILES

REMOVE_CELL_TAGS = {"remove_cell", "remove-cell"}
REMOVE_OUTPUT_TAGS = {"remove_output", "remove-output"}
PARAMETER_TAGS = {"parameters", "injected-parameters"}
REVIEW_HIDE_TAG = "review-hide"
TOC_MARKER = "<!--wa-toc-->"


#: The report that shows the city's document as transcribed, linked from every page.
TRANSCRIPTION = "source_review"


def data_as_of(lang: str, data_dir: Any = None) -> str:
    """What the data are as of: the review's figures and the dated public ones; a user's
    overlay named."""
    from pathlib import PurePath

    text = message("footer.data_as_of_text", lang, review=message("source.review", lang))
    if data_dir:
        text += message("footer.data_overlay", lang, files=PurePath(str(data_dir)).name)
    return text


def made_on(lang: str, day: Any = None) -> str:
    """The date a page was made (today, in UTC, unless given), as the language writes it."""
    import datetime as dt

    from ..results import Dates

    return Dates((day or dt.datetime.now(dt.UTC).date(),)).__lang_format__("", lang)


def stable_dir(notebook: str, fiscal_year: int | None, lang: str) -> str:
    """Where the latest good version of a report lives, relative to the reports folder."""
    return f"{notebook}/{lang}" if fiscal_year is None else f"{notebook}/{fiscal_year}/{lang}"


def to_root(info: dict[str, Any]) -> str:
    """The relative path from a report's page to the reports folder: its stable address, one
    level deeper for the error page of a failed execution (``failed/``)."""
    depth = stable_dir(info["notebook"], info.get("fiscal_year"), info["lang"]).count("/") + 1
    return "../" * (depth + (info.get("status", "ok") != "ok"))


def front_page(lang: str) -> str:
    return "index.html" if lang == "ja" else "index.en.html"


class Renderer:
    """HTML exporters, built once and reused for every notebook a worker renders."""

    def __init__(self) -> None:
        from nbconvert import HTMLExporter
        from traitlets.config import Config

        def exporter(*, review: bool) -> Any:
            c = Config()
            c.TagRemovePreprocessor.enabled = True
            c.TagRemovePreprocessor.remove_cell_tags = REMOVE_CELL_TAGS | (
                PARAMETER_TAGS | {REVIEW_HIDE_TAG} if review else set())
            c.TagRemovePreprocessor.remove_all_outputs_tags = REMOVE_OUTPUT_TAGS
            return HTMLExporter(config=c, template_name="basic", embed_images=True,
                                exclude_input=review, exclude_input_prompt=True,
                                exclude_output_prompt=True, anchor_link_text="")

        self.review_exporter = exporter(review=True)
        self.full_exporter = exporter(review=False)

    def _body(self, exporter: Any, nb: dict[str, Any], lang: str) -> str:
        import nbformat

        body, _ = exporter.from_notebook_node(nbformat.from_dict(_for_language(nb, lang)))
        return body

    def views(self, nb: dict[str, Any], info: dict[str, Any]) -> dict[str, str]:
        """``{"review": html, "full": html}`` of a successfully executed notebook."""
        lang = info["lang"]
        clean = _without_stderr(nb)
        review = _numbered(self._body(self.review_exporter, clean, lang), lang)
        full = self._body(self.full_exporter, nb, lang)
        if info.get("switched_from"):  # real data last time, simulated now: said first
            said = message("simulated.switched", lang, files=", ".join(info["switched_from"]))
            notice = f'<p class="wa-simulated">{html.escape(said)}</p>'
            review, full = notice + review, notice + full
        title = _first_heading(review) or _fallback_title(info)
        nav, foot = navigation(info), footer(info)
        font = font_face(review + full + nav + foot + title)  # one subset for both views
        return {
            "review": page(lang=lang, title=title, body=review, nav=nav, footer=foot,
                           font_css=font),
            "full": page(lang=lang, title=title, body=full, nav=nav, footer=foot,
                         body_class="wa-full", font_css=font),
        }

    def error_page(self, nb: dict[str, Any], info: dict[str, Any]) -> str:
        """The partial notebook, with code, under a banner naming the error."""
        lang = info["lang"]
        body = self._body(self.full_exporter, nb, lang)
        banner = (f'<p class="wa-status-failed">{html.escape(message("status.failed", lang))}: '
                  f"{html.escape(info.get('error') or '')}</p>")
        title = f"{message('status.failed', lang)} · {_fallback_title(info)}"
        return page(lang=lang, title=title, body=banner + body, nav=navigation(info),
                    footer=footer(info), body_class="wa-full")


def _for_language(nb: dict[str, Any], lang: str) -> dict[str, Any]:
    other = {"lang-en", "lang-ja"} - {f"lang-{lang}"}
    nb = copy.deepcopy(nb)
    nb["cells"] = [c for c in nb.get("cells", [])
                   if not other & set(c.get("metadata", {}).get("tags", []))]
    return nb


_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)
_H2 = re.compile(r"<h2([^>]*)>(.*?)</h2>", re.S)
_TAGS = re.compile(r"<[^>]+>")


def _text(fragment: str) -> str:
    return html.unescape(_TAGS.sub("", fragment)).strip()


def _first_heading(body: str) -> str:
    m = _H1.search(body)
    return _text(m[1]) if m else ""


def _numbered(body: str, lang: str) -> str:
    """Number the sections (h2) 1, 2, 3 … in page order, give each an id, and put a table of
    contents where the summary box left its marker (or after the title)."""
    sections: list[tuple[str, str]] = []

    def number(m: re.Match[str]) -> str:
        attrs, inner = m[1], m[2]
        if "wa-unnumbered" in attrs:
            return m[0]
        n = len(sections) + 1
        sid = f"s{n}"
        sections.append((sid, _text(inner)))
        attrs = re.sub(r'\sid="[^"]*"', "", attrs)
        return f'<h2 id="{sid}"{attrs}>{n}. {inner}</h2>'

    body = _H2.sub(number, body)
    if not sections:
        return body.replace(TOC_MARKER, "")
    items = "".join(f'<li><a href="#{sid}">{html.escape(text)}</a></li>' for sid, text in sections)
    toc = (f'<nav class="wa-toc" aria-label="{html.escape(message("toc.heading", lang))}">'
           f'<strong>{html.escape(message("toc.heading", lang))}</strong><ol>{items}</ol></nav>')
    if TOC_MARKER in body:
        return body.replace(TOC_MARKER, toc, 1)
    m = _H1.search(body)
    end = body.find("</div>", m.end()) if m else -1
    return body[:end] + toc + body[end:] if end >= 0 else toc + body


def _fallback_title(info: dict[str, Any]) -> str:
    fy = info.get("fiscal_year")
    return f"{info['notebook']}" + ("" if fy is None else f" · {fy}")


def navigation(info: dict[str, Any]) -> str:
    """一覧 · 日本語/English · 前年度/次年度, each to a stable address."""
    lang, nb, fy = info["lang"], info["notebook"], info.get("fiscal_year")
    other = "en" if lang == "ja" else "ja"
    root = to_root(info)
    items: list[tuple[str, str | None]] = [
        (message("nav.front", lang), root + front_page(lang)),
        (message("nav.this_lang", lang), None),
        (message("nav.other_lang", lang), f"{root}{stable_dir(nb, fy, other)}/index.html"),
    ]
    years = sorted(int(y) for y in info.get("fiscal_years") or [])
    if fy is not None and years:
        earlier = [y for y in years if y < fy]
        later = [y for y in years if y > fy]
        if earlier:
            items.append((message("nav.previous_year", lang, year=earlier[-1]),
                          f"{root}{stable_dir(nb, earlier[-1], lang)}/index.html"))
        if later:
            items.append((message("nav.next_year", lang, year=later[0]),
                          f"{root}{stable_dir(nb, later[0], lang)}/index.html"))
    return nav_bar(items, message("nav.label", lang))


def footer(info: dict[str, Any]) -> str:
    """The run data, under the content: notebook, parameters, data checksum, version, status."""
    lang = info["lang"]
    e = html.escape
    params = ", ".join(f"{k} = {json.dumps(v, ensure_ascii=False)}"
                       for k, v in info.get("parameters", {}).items())
    status = info.get("status", "ok")
    rows = [
        ("footer.made", e(made_on(lang))),
        ("footer.data_as_of", e(data_as_of(lang, (info.get("parameters") or {}).get("data_dir")))),
        ("footer.notebook", f"<code>{e(info.get('notebook_file') or info['notebook'])}</code>"),
        ("footer.parameters", f"<code>{e(params)}</code>"),
        ("footer.data_checksum", f"<code>{e(info.get('data_checksum', ''))}</code>"),
        ("footer.version", e(info.get("package_version", ""))),
        ("footer.status", e(message(f"status.{status}", lang) if status in ("ok", "failed",
                                                                           "timeout") else status)),
    ]
    body = "".join(f"<tr><th>{e(message(k, lang))}</th><td>{v}</td></tr>" for k, v in rows)
    root = to_root(info)
    links = ((f'<a href="full.html">{e(message("footer.full_view", lang))}</a> · '
              if status == "ok" else "")
             + f'<a href="notebook.ipynb">{e(message("footer.notebook_file", lang))}</a> · '
             f'<a href="{root}{stable_dir(TRANSCRIPTION, None, lang)}/index.html">'
             f'{e(message("footer.transcription", lang))}</a> · '
             f'<a href="{root}{RUN_LOG_FILES[lang]}">{e(message("nav.run_log", lang))}</a>')
    return (f'<footer><p><strong>{e(message("footer.heading", lang))}</strong></p>'
            f'<div class="wa-table"><table><tbody>{body}</tbody></table></div>'
            f"<p>{links}</p></footer>")


def _without_stderr(nb: dict[str, Any]) -> dict[str, Any]:
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in cell.get("outputs", [])
                               if not (o.get("output_type") == "stream"
                                       and o.get("name") == "stderr")]
    return nb


def header_html(info: dict[str, Any]) -> str:
    """The bare facts of a run, for the last-resort error page."""
    return footer({"lang": "en", **info} if info.get("lang") not in ("ja", "en") else info)


def fallback_page(info: dict[str, Any]) -> str:
    """The bare facts of a report whose page could not be rendered."""
    return f"<!DOCTYPE html><meta charset='utf-8'>{header_html(info)}"
