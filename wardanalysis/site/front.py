"""The front page for reviewers (``index.html`` in Japanese, ``index.en.html`` in English).

It answers before it lists: every report of all years, in notebook order, with the question it
answers (catalogue ``front.question.<notebook>``, else its title), its answer as its own
summary box states it (the headline the batch collected from the executed
notebook), and a link to its stable address; what was made from simulated data is listed apart,
never among the findings. Then a grid of the fiscal-year reports (fiscal years × languages), how
to read the pages, and where the data come from, one line per source with its quality mark. A
report whose latest run failed is flagged. The run log is its own page, linked from the footer.

Everything shown here comes from the manifest and the catalogue: adding a notebook changes no
code here. No pandas is needed.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from ..text.messages import keys, message
from .pages import nav_bar, page
from .render import TRANSCRIPTION, data_as_of, front_page, made_on, stable_dir
from .runlog import RUN_LOG_FILES

__all__ = ["answers_html", "front_page_html", "how_to_read_html", "sources_html"]

#: What a first-time reader would otherwise have to ask, a line each (catalogue
#: ``front.how_to_read.<key>``).
HOW_TO_READ = ("interval", "quality", "simulated", "run_log")

def _date(iso: str) -> Any:
    """The date of an ISO time stamp (None when there is none)."""
    import datetime as dt

    return dt.date.fromisoformat(iso[:10]) if iso[:10] else None


def _question(notebook: str, headline: dict[str, Any] | None, lang: str) -> str:
    """The question a report answers (catalogue ``front.question.<notebook>``), else its title."""
    key = f"front.question.{notebook}"
    return message(key, lang) if key in keys() else (headline or {}).get("title") or notebook


def _status_note(entry: dict[str, Any], lang: str) -> str:
    if (entry.get("report") or {}).get("switched_from"):
        return f' <span class="wa-status-stale">({html.escape(message("status.switched", lang))})</span>'
    if entry.get("failure") and entry.get("report"):
        return f' <span class="wa-status-stale">({html.escape(message("status.stale", lang))})</span>'
    if entry.get("failure"):
        return f' <span class="wa-status-failed">({html.escape(message("status.failed", lang))})</span>'
    return ""


def answer_items(manifest: dict[str, Any], lang: str, *, simulated: bool,
                 href: Callable[[str], str] | None = None) -> list[str]:
    """One item per report of all years in ``lang`` whose headline is (or is not) made from
    simulated data, in notebook order: its question, status, answer (each number once, as the
    report's summary states it) and a link, by default to its stable address."""
    e = html.escape
    href = href or (lambda notebook: f"{stable_dir(notebook, None, lang)}/index.html")
    items = []
    for x in sorted(manifest.get("reports", []), key=lambda x: x["notebook"]):
        headline = (x.get("report") or {}).get("headline")
        if x.get("fiscal_year") is not None or x["lang"] != lang or bool(
                headline and headline["simulated"]) != simulated:
            continue
        if x.get("report") and not headline:  # a page that answers nothing (the transcription)
            continue
        answer = headline["answer"] if headline else ""  # its numbers in its own words
        link = (f'<a href="{e(href(x["notebook"]))}">{e(message("front.read", lang))}</a>'
                if x.get("report") else e(message("front.not_yet", lang)))
        items.append(f"<li><strong>{e(_question(x['notebook'], headline, lang))}</strong>"
                     f"{_status_note(x, lang)}<br>{e(answer)} {link}</li>")
    return items


def answers_html(manifest: dict[str, Any], lang: str,
                 href: Callable[[str], str] | None = None) -> str:
    """The questions, each with its answer, in a summary box (empty when there is none)."""
    items = answer_items(manifest, lang, simulated=False, href=href)
    if not items:
        return ""
    return (f'<section class="wa-summary"><h2 class="wa-unnumbered">'
            f'{html.escape(message("front.questions", lang))}</h2><ul>{"".join(items)}</ul>'
            "</section>")


def how_to_read_html(lang: str) -> str:
    """What a first-time reader would otherwise have to ask, a line each."""
    e = html.escape
    return (f"<h2>{e(message('front.how_to_read', lang))}</h2><ul>"
            + "".join(f"<li>{e(message(f'front.how_to_read.{k}', lang))}</li>"
                      for k in HOW_TO_READ) + "</ul>")


def sources_html(lang: str) -> str:
    """One line per source document: its name, date, quality marks and how many datasets."""
    from ..data.schema import dataset_names, get_schema
    from ..data.sources import sources
    from ..text.glossary import has, label

    counts: dict[str, int] = {}
    for name in dataset_names():
        sid = get_schema(name).source.get("id", "")
        counts[sid] = counts.get(sid, 0) + 1
    items = []
    for sid, meta in sources().items():
        if not counts.get(sid):
            continue
        name = label(sid, lang) if has(sid) else str(meta.get("title", sid))
        quality = meta.get("quality") or "/".join(meta.get("quality_marks", {}))
        items.append(f"<li>{html.escape(message('front.source_line', lang, name=name, quality=quality, datasets=counts[sid]))}</li>")
    return (f"<h2>{html.escape(message('front.sources', lang))}</h2><ul>{''.join(items)}</ul>"
            f"<p>{html.escape(message('front.quality', lang))}</p>")


def front_page_html(manifest: dict[str, Any], lang: str) -> str:
    """The front page in ``lang``."""
    e = html.escape
    entries = manifest.get("reports", [])
    by_id = {(x["notebook"], x.get("fiscal_year"), x["lang"]): x for x in entries}
    parts = [f"<h1>{e(message('front.title', lang))}</h1>",
             f"<p>{e(message('front.intro', lang))}</p>"]
    exploratory = (manifest.get("run") or {}).get("exploratory")
    if exploratory:
        parts.insert(1, f'<p class="wa-status-failed wa-exploratory">'
                        f'{e(message("front.exploratory", lang, settings="; ".join(exploratory)))}</p>')
    failed = [x for x in entries if x.get("failure")]
    if failed:
        parts.append(f'<p class="wa-status-failed">'
                     f'{e(message("front.problems", lang, count=len(failed)))}</p>')
    # the questions, each with its answer; then, apart, what was made from simulated data
    parts.append(answers_html(manifest, lang))
    items = answer_items(manifest, lang, simulated=True)
    if items:
        parts.append(f'<h2>{e(message("front.design_heading", lang))}</h2>'
                     f'<ul class="wa-design">{"".join(items)}</ul>')
    # the fiscal-year reports: fiscal years × languages
    per_year = sorted({(x["notebook"], x["fiscal_year"]) for x in entries
                       if x.get("fiscal_year") is not None}, key=lambda t: (t[0], t[1]))
    if per_year:
        langs = [lang, "en" if lang == "ja" else "ja"]
        head = "".join(f"<th>{e(message('nav.this_lang', code))}</th>" for code in langs)
        rows = []
        for notebook, fy in per_year:
            cells = []
            for code in langs:
                x = by_id.get((notebook, fy, code))
                if x and x.get("report"):
                    href = f"{stable_dir(notebook, fy, code)}/index.html"
                    cells.append(f'<td><a href="{e(href)}" hreflang="{code}">'
                                 f'{e(message("front.fiscal_year", code, year=fy))}</a>'
                                 f"{_status_note(x, lang)}</td>")
                else:
                    cells.append("<td>—</td>")
            rows.append(f"<tr><th>{e(message('front.fiscal_year', lang, year=fy))}</th>"
                        f"{''.join(cells)}</tr>")
        parts.append(f"<h2>{e(message('front.fiscal_years', lang))}</h2>"
                     f'<div class="wa-table"><table class="wa-grid"><thead><tr><th></th>{head}'
                     f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")
    parts.append(how_to_read_html(lang))
    parts.append(sources_html(lang))
    other = "en" if lang == "ja" else "ja"
    nav = nav_bar([(message("nav.front", lang), None), (message("nav.other_lang", lang),
                                                        front_page(other)),
                   (message("nav.run_log", lang), RUN_LOG_FILES[lang])], message("nav.label", lang))
    finished = max((str((x.get("report") or {}).get("finished") or "") for x in entries),
                   default="")
    run = manifest.get("run") or {}
    facts = [("footer.made", made_on(lang, _date(finished))),
             ("footer.data_as_of", data_as_of(lang, run.get("data_dir"))),
             ("footer.version", str(run.get("package_version", "")))]
    footer = ('<footer><div class="wa-table"><table><tbody>'
              + "".join(f"<tr><th>{e(message(k, lang))}</th><td>{e(v)}</td></tr>" for k, v in facts)
              + f'</tbody></table></div><p><a href="{e(stable_dir(TRANSCRIPTION, None, lang))}/'
              f'index.html">{e(message("footer.transcription", lang))}</a> · '
              f'<a href="{RUN_LOG_FILES[lang]}">{e(message("nav.run_log", lang))}</a> · '
              '<a href="results.csv">results.csv</a> · <a href="results.xlsx">results.xlsx</a> · '
              '<a href="manifest.json">manifest.json</a>'
              "</p></footer>")
    return page(lang=lang, title=message("front.title", lang), body="".join(parts), nav=nav,
                footer=footer)
