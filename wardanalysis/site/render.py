"""Executed notebooks to pages, in-process with nbconvert's ``basic`` exporter: ``index.html``
(the review view: the report's language only, without code, stderr and cells tagged
``parameters`` or ``review-hide``; numbered sections under a table of contents), ``full.html``
(everything, for the researcher) and, for a failure, ``error.html`` (the partial notebook under
the error). A notebook shows one language already (its prose comes from the catalogue). Links
go to each report's stable address (:func:`stable_dir`), relative to the page's own folder.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import re
from functools import partial
from pathlib import PurePath
from typing import Any

from ..text.messages import message
from .pages import PARTS, page, sharing_one_font
from .runlog import FRONT_PAGES, RUN_LOG_FILES

REVIEW_HIDE_TAG = "review-hide"
TOC_MARKER = "<!--wa-toc-->"
#: The report that shows the city's document as transcribed, linked from every page.
TRANSCRIPTION = "source_review"


def data_as_of(lang: str, data_dir: Any = None) -> str:
    """What the data are as of: the review's figures and the dated public ones; a user's
    overlay named."""
    text = message("footer.data_as_of_text", lang, review=message("source.review", lang))
    if data_dir:
        text += message("footer.data_overlay", lang, files=PurePath(str(data_dir)).name)
    return text


def made_on(lang: str, day: dt.date | None = None) -> str:
    """The date a page was made (today, in UTC, unless given), as the language writes it."""
    from ..results import Dates  # heavy: pandas

    return Dates((day or dt.datetime.now(dt.UTC).date(),)).__lang_format__("", lang)


def stable_dir(notebook: str, fiscal_year: int | None, lang: str) -> str:
    """Where the latest good version of a report lives, relative to the reports folder."""
    return f"{notebook}/{lang}" if fiscal_year is None else f"{notebook}/{fiscal_year}/{lang}"


def to_root(info: dict[str, Any]) -> str:
    """The relative path from a report's page to the reports folder (one level deeper for the
    error page of a failed execution, in ``failed/``)."""
    depth = stable_dir(info["notebook"], info.get("fiscal_year"), info["lang"]).count("/") + 1
    return "../" * (depth + (info.get("status", "ok") != "ok"))


class Renderer:
    """nbconvert's HTML exporters, one per view and language, built once per worker process."""

    def __init__(self) -> None:
        from nbconvert import HTMLExporter  # heavy: the workers only
        from traitlets.config import Config

        def exporter(review: bool) -> Any:
            c = Config()
            c.TagRemovePreprocessor.enabled = True
            c.TagRemovePreprocessor.remove_cell_tags = {
                "remove_cell", "remove-cell",
                *(("parameters", "injected-parameters", REVIEW_HIDE_TAG) if review else ())}
            c.TagRemovePreprocessor.remove_all_outputs_tags = {"remove_output", "remove-output"}
            return HTMLExporter(config=c, template_name="basic", embed_images=True,
                                exclude_input=review, exclude_input_prompt=True,
                                exclude_output_prompt=True, anchor_link_text="")

        self.exporters = {review: exporter(review) for review in (True, False)}

    def _body(self, nb: dict[str, Any], *, review: bool = False) -> str:
        import nbformat

        return self.exporters[review].from_notebook_node(nbformat.from_dict(nb))[0]

    def views(self, nb: dict[str, Any], info: dict[str, Any]) -> dict[str, str]:
        """``{"review": html, "full": html}`` of a successfully executed notebook."""
        lang = info["lang"]
        clean = copy.deepcopy(nb)
        for cell in clean["cells"]:
            if cell.get("cell_type") == "code":
                cell["outputs"] = [o for o in cell.get("outputs", [])
                                   if o.get("output_type") != "stream" or o.get("name") != "stderr"]
        review = _numbered(self._body(clean, review=True), lang)
        full = self._body(nb)
        if info.get("switched_from"):  # real data last time, simulated now: said first
            said = message("simulated.switched", lang, files=", ".join(info["switched_from"]))
            notice = f'<p class="wa-simulated">{html.escape(said)}</p>'
            review, full = notice + review, notice + full
        shell = {"lang": lang, "title": title_of(review) or _fallback_title(info),
                 "nav": navigation(info), "footer": footer(info)}
        return sharing_one_font({"review": partial(page, body=review, **shell),
                                 "full": partial(page, body=full, body_class="wa-full", **shell)})

    def error_page(self, nb: dict[str, Any], info: dict[str, Any]) -> str:
        """The partial notebook, with code, under a banner naming the error."""
        lang = info["lang"]
        failed = message("status.failed", lang)
        banner = (f'<p class="wa-status-failed">{html.escape(failed)}: '
                  f"{html.escape(info.get('error') or '')}</p>")
        return page(lang=lang, title=f"{failed} · {_fallback_title(info)}",
                    body=banner + self._body(nb),
                    nav=navigation(info), footer=footer(info), body_class="wa-full")


_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)
_H2 = re.compile(r"<h2([^>]*)>(.*?)</h2>", re.S)


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def title_of(body: str) -> str:
    """The text of a page's first heading (h1); empty without one."""
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
        sections.append((f"s{len(sections) + 1}", _text(inner)))
        attrs = re.sub(r'\sid="[^"]*"', "", attrs)
        return f'<h2 id="s{len(sections)}"{attrs}>{len(sections)}. {inner}</h2>'

    body = _H2.sub(number, body)
    if not sections:
        return body.replace(TOC_MARKER, "")
    toc = str(PARTS.toc(sections, lang))
    if TOC_MARKER in body:
        return body.replace(TOC_MARKER, toc, 1)
    m = _H1.search(body)
    end = body.find("</div>", m.end()) if m else -1
    return body[:end] + toc + body[end:] if end >= 0 else toc + body


def _fallback_title(info: dict[str, Any]) -> str:
    fy = info.get("fiscal_year")
    return info["notebook"] + ("" if fy is None else f" · {fy}")


def navigation(info: dict[str, Any]) -> str:
    """一覧 · 日本語/English · 前年度/次年度, each to a stable address."""
    lang, nb, fy = info["lang"], info["notebook"], info.get("fiscal_year")
    root = to_root(info)
    items = [(message("nav.front", lang), root + FRONT_PAGES[lang]),
             (message("nav.this_lang", lang), None),
             (message("nav.other_lang", lang),
              f"{root}{stable_dir(nb, fy, 'en' if lang == 'ja' else 'ja')}/index.html")]
    years = sorted(int(y) for y in info.get("fiscal_years") or [])
    if fy is not None:
        for key, near in (("nav.previous_year", [y for y in years if y < fy][-1:]),
                          ("nav.next_year", [y for y in years if y > fy][:1])):
            items += [(message(key, lang, year=y), f"{root}{stable_dir(nb, y, lang)}/index.html")
                      for y in near]
    return str(PARTS.nav_bar(items, lang))


def footer(info: dict[str, Any]) -> str:
    """The run data, under the content: notebook, parameters, data checksum, version, status."""
    lang, root = info["lang"], to_root(info)
    data_dir = (info.get("parameters") or {}).get("data_dir")
    return str(PARTS.report_footer(
        info, made=made_on(lang), as_of=data_as_of(lang, data_dir),
        transcription=f"{root}{stable_dir(TRANSCRIPTION, None, lang)}/index.html",
        run_log=root + RUN_LOG_FILES[lang]))


def fallback_page(info: dict[str, Any]) -> str:
    """The bare facts of a report whose page could not be rendered."""
    info = info if info.get("lang") in ("ja", "en") else {**info, "lang": "en"}
    return f"<!DOCTYPE html><meta charset='utf-8'>{footer(info)}"
