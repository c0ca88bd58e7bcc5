"""The run log, for analysts: every report's status, parameters, duration, versions, checksum
and every stored version; ``runs.html`` in English and ``runs.ja.html`` in Japanese, every label
from the catalogue (a notebook's error line is quoted as Python wrote it)."""

from __future__ import annotations

from typing import Any

from ..text.messages import message
from .pages import page

__all__ = ["FRONT_PAGES", "RUN_LOG_FILES", "run_log_html"]

#: The front page and the run log in each language, at the top of the reports folder.
FRONT_PAGES = {"ja": "index.html", "en": "index.en.html"}
RUN_LOG_FILES = {"en": "runs.html", "ja": "runs.ja.html"}


def run_log_html(manifest: dict[str, Any], lang: str = "en", font_css: str | None = None) -> str:
    """The run log in ``lang``: every report grouped by fiscal year and notebook, with its
    status, parameters, duration, version, checksum and links to every stored version
    (``font_css``: see :func:`.pages.page`)."""
    reports = manifest["reports"]
    run = manifest.get("run", {})
    groups: dict[Any, list[dict[str, Any]]] = {}
    for e in reports:
        groups.setdefault(e.get("fiscal_year"), []).append(e)
    failed = sum(1 for e in reports if e.get("failure"))
    stale = sum(1 for e in reports if e.get("stale"))
    summary = message("runlog.summary", lang, total=len(reports), ok=len(reports) - failed,
                      failed=failed)
    summary += message("runlog.summary_stale", lang, stale=stale) if stale else ""
    counts = {k: run.get(k) for k in ("total", "executed", "reused", "failed", "seconds")}
    last = ""
    if run and None not in counts.values():
        last = message("runlog.last_run", lang, id=run.get("id", ""), **counts) + (
            message("runlog.interrupted", lang) if run.get("interrupted") else "")
    return page("runlog.html.j2", lang=lang, title=message("runlog.title", lang), groups=groups,
                font_css=font_css,
                summary=summary, last=last, front=FRONT_PAGES[lang],
                other_log=RUN_LOG_FILES["en" if lang == "ja" else "ja"])
