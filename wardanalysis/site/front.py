"""The front page for reviewers (``index.html`` in Japanese, ``index.en.html`` in English).

It answers before it lists: every report of all years with the question it answers (catalogue
``front.question.<notebook>``, else its title), its answer as its own summary box states it
(the headline the batch collected) and a link to its stable address; what was made from
simulated data is listed apart, never among the findings. Then the fiscal-year reports
(fiscal years × languages), how to read the pages, and one line per source. Everything comes
from the manifest and the catalogue: adding a notebook changes no code here.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Any

from ..data.schema import dataset_names, get_schema
from ..data.sources import marks_used, sources
from ..text.glossary import has, label
from ..text.messages import keys, message
from .pages import page
from .render import TRANSCRIPTION, data_as_of, made_on, stable_dir
from .runlog import FRONT_PAGES, RUN_LOG_FILES

__all__ = ["answers", "front_page_html", "source_lines"]


def _status(entry: dict[str, Any]) -> str | None:
    """What a reader is told beside a report: shown again on simulated data, an earlier
    version kept after a failure, or failed."""
    if (entry.get("report") or {}).get("switched_from"):
        return "switched"
    if entry.get("failure"):
        return "stale" if entry.get("report") else "failed"
    return None


def answers(manifest: dict[str, Any], lang: str, *, simulated: bool,
            href: Callable[[str], str] | None = None) -> list[dict[str, Any]]:
    """One item per report of all years in ``lang`` whose headline is (or is not) made from
    simulated data, in notebook order: its question, status, answer and a link, by default to
    its stable address."""
    href = href or (lambda notebook: f"{stable_dir(notebook, None, lang)}/index.html")
    items = []
    for x in sorted(manifest.get("reports", []), key=lambda x: x["notebook"]):
        headline = (x.get("report") or {}).get("headline")
        if x.get("fiscal_year") is not None or x["lang"] != lang or bool(
                headline and headline["simulated"]) != simulated:
            continue
        if x.get("report") and not headline:  # a page that answers nothing (the transcription)
            continue
        key = f"front.question.{x['notebook']}"
        items.append({
            "question": message(key, lang) if key in keys()
            else (headline or {}).get("title") or x["notebook"],
            "status": _status(x), "answer": headline["answer"] if headline else "",
            "href": href(x["notebook"]) if x.get("report") else None})
    return items


def source_lines(lang: str) -> list[str]:
    """One line per source document: its name, quality marks and how many datasets."""
    counts = Counter(get_schema(name).source.get("id", "") for name in dataset_names())
    return [message("front.source_line", lang, datasets=counts[sid],
                    name=label(sid, lang) if has(sid) else str(meta.get("title", sid)),
                    quality="/".join(marks_used(sid)))
            for sid, meta in sources().items() if counts[sid]]


def front_page_html(manifest: dict[str, Any], lang: str, font_css: str | None = None) -> str:
    """The front page in ``lang`` (``font_css``: see :func:`.pages.page`)."""
    entries = manifest.get("reports", [])
    run = manifest.get("run") or {}
    by_id = {(x["notebook"], x.get("fiscal_year"), x["lang"]): x for x in entries}
    langs = (lang, "en" if lang == "ja" else "ja")
    grid = []  # (fiscal year, [(lang, address or None, status)]) per fiscal-year report
    for notebook, fy in sorted({(x["notebook"], x["fiscal_year"]) for x in entries
                                if x.get("fiscal_year") is not None}):
        reports = [(code, by_id.get((notebook, fy, code))) for code in langs]
        grid.append((fy, [(code, f"{stable_dir(notebook, fy, code)}/index.html", _status(x))
                          if x and x.get("report") else (code, None, None)
                          for code, x in reports]))
    finished = max((str((x.get("report") or {}).get("finished") or "") for x in entries),
                   default="")[:10]
    facts = [("footer.made", made_on(lang, dt.date.fromisoformat(finished) if finished else None),
              False),
             ("footer.data_as_of", data_as_of(lang, run.get("data_dir")), False),
             ("footer.version", str(run.get("package_version", "")), False)]
    return page("front.html.j2", lang=lang, title=message("front.title", lang), langs=langs,
                font_css=font_css,
                exploratory=run.get("exploratory"), facts=facts, grid=grid,
                failed=sum(1 for x in entries if x.get("failure")),
                findings=answers(manifest, lang, simulated=False),
                designs=answers(manifest, lang, simulated=True), sources=source_lines(lang),
                other_front=FRONT_PAGES[langs[1]], run_log=RUN_LOG_FILES[lang],
                transcription=f"{stable_dir(TRANSCRIPTION, None, lang)}/index.html")
