"""The run log, for analysts: every report's status, parameters, duration, versions, checksum
and every stored version; ``runs.html`` in English and ``runs.ja.html`` in Japanese, every label
from the catalogue (a notebook's error line is quoted as Python wrote it)."""

from __future__ import annotations

import html
import json
from typing import Any

from ..text.messages import message
from .pages import page

__all__ = ["RUN_LOG_FILES", "run_log_html"]

#: The run log's file in each language, beside the front pages.
RUN_LOG_FILES = {"en": "runs.html", "ja": "runs.ja.html"}
_FRONT = {"ja": "index.html", "en": "index.en.html"}

_CSS = """
.summary{color:#444;margin:.3rem 0 1rem}.meta{color:#555;font-size:.9rem}
td.num{text-align:right;white-space:nowrap}
.ok{color:#08660f;font-weight:600}.failed,.timeout{color:#b00020;font-weight:600}
.stale{color:#8a5a00;font-weight:600}.err{color:#b00020;font-family:ui-monospace,monospace;
font-size:.85rem;white-space:pre-wrap}
.links a{margin-right:.6rem;white-space:nowrap}
"""
_COLUMNS = ("notebook", "lang", "status", "parameters", "duration", "version", "checksum", "views")


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _params_text(params: dict[str, Any]) -> str:
    shown = {k: v for k, v in params.items() if k not in ("lang",)}
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in shown.items())


def _links(attempt: dict[str, Any], views: dict[str, str], lang: str) -> str:
    files = attempt.get("files") or {}
    return "".join(f'<a href="{_esc(files[k])}">{_esc(message(f"runlog.view.{v}", lang))}</a>'
                   for k, v in views.items() if k in files)


_VIEWS = {"review": "review", "full": "full", "notebook": "notebook"}
_ERROR_VIEWS = {"error": "error", "notebook": "partial"}


def _row(e: dict[str, Any], lang: str) -> str:
    report, failure = e.get("report"), e.get("failure")
    latest = failure or report or {}
    status = e.get("status", "ok")  # set by the manifest
    status_html = f'<span class="{_esc(status)}">{_esc(message(f"status.{status}", lang))}</span>'
    detail = links = ""
    if failure:
        detail = (f'<div class="err">{_esc(message("runlog.error", lang))}'
                  f'{_esc(failure.get("error") or "")}</div>')
        links = _links(failure, _ERROR_VIEWS, lang)
        if report:
            status_html += f' <span class="stale">{_esc(message("runlog.stale_kept", lang))}</span>'
            links += (f'<br><span class="stale">{_esc(message("runlog.stale_from", lang, finished=report.get("finished", "")))}'
                      f"</span> " + _links(report, _VIEWS, lang))
    elif report:
        links = _links(report, _VIEWS, lang)
    if e.get("kept"):
        status_html += f' <span class="meta">· {_esc(message("status.kept", lang))}</span>'
    checksum = latest.get("data_checksum") or ""
    duration = latest.get("duration_s")
    seconds = "" if duration is None else message("runlog.seconds", lang, s=f"{duration:.1f}")
    return (
        "<tr>"
        f"<td>{_esc(e['notebook'])}</td><td>{_esc(e['lang'])}</td>"
        f"<td>{status_html}{detail}</td>"
        f"<td><code>{_esc(_params_text(latest.get('parameters', {})))}</code></td>"
        f'<td class="num">{_esc(seconds)}</td>'
        f"<td>{_esc(latest.get('package_version', ''))}</td>"
        f'<td><code title="{_esc(checksum)}">{_esc(checksum[:12])}</code></td>'
        f'<td class="links">{links}</td>'
        "</tr>"
    )


def run_log_html(manifest: dict[str, Any], lang: str = "en") -> str:
    """The run log in ``lang``: every report grouped by fiscal year and notebook, with its
    status, parameters, duration, version, checksum and links to every stored version."""
    reports = manifest["reports"]
    run = manifest.get("run", {})
    n_failed = sum(1 for e in reports if e.get("failure"))
    n_stale = sum(1 for e in reports if e.get("stale"))
    groups: dict[Any, list[dict[str, Any]]] = {}
    for e in reports:
        groups.setdefault(e.get("fiscal_year"), []).append(e)
    head = "<tr>" + "".join(f"<th>{_esc(message(f'runlog.col.{c}', lang))}</th>"
                            for c in _COLUMNS) + "</tr>"
    sections = []
    for fy, entries in groups.items():
        heading = (message("runlog.all_years", lang) if fy is None
                   else message("front.fiscal_year", lang, year=fy))
        rows = "".join(_row(e, lang) for e in entries)
        sections.append(f'<h2 id="{"all" if fy is None else f"fy{fy}"}">{_esc(heading)}</h2>'
                        f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>")
    toc = " · ".join(
        f'<a href="#{"all" if fy is None else f"fy{fy}"}">'
        f'{_esc(message("runlog.all", lang)) if fy is None else fy}</a>' for fy in groups)
    summary = message("runlog.summary", lang, total=len(reports), ok=len(reports) - n_failed,
                      failed=n_failed)
    if n_stale:
        summary += message("runlog.summary_stale", lang, stale=n_stale)
    counts = {k: run.get(k) for k in ("total", "executed", "reused", "failed", "seconds")}
    last = ""
    if run and None not in counts.values():
        last = message("runlog.last_run", lang, id=run.get("id", ""), **counts) + (
            message("runlog.interrupted", lang) if run.get("interrupted") else "")
    other = "en" if lang == "ja" else "ja"
    title = message("runlog.title", lang)
    body = (
        f"<h1>{_esc(title)}</h1>"
        f'<p class="summary">{_esc(summary)}</p><p class="meta">{_esc(last)}</p>'
        f'<p class="meta">{_esc(message("runlog.jump", lang))}{toc}</p>'
        + "".join(f'<div class="wa-table">{s}</div>' for s in sections)
        + f'<p class="meta">{_esc(message("runlog.machine", lang))}'
        '<a href="manifest.json">manifest.json</a> · <a href="results.csv">results.csv</a> · '
        f'{_esc(message("runlog.for_readers", lang))}'
        f'<a href="{_FRONT[lang]}">{_esc(message("nav.front", lang))}</a> · '
        f'<a href="{RUN_LOG_FILES[other]}">{_esc(message("nav.other_lang", lang))}</a></p>'
    )
    return page(lang=lang, title=title, body=f"<style>{_CSS}</style>{body}")
