"""The run log (``runs.html``): every report's status, parameters, duration, versions, checksum
and every stored version, for analysts; in English, as the machine-facing files are."""

from __future__ import annotations

import html
import json
from typing import Any

from .pages import page

__all__ = ["run_log_html"]

_CSS = """
.summary{color:#444;margin:.3rem 0 1rem}.meta{color:#555;font-size:.9rem}
td.num{text-align:right;white-space:nowrap}
.ok{color:#08660f;font-weight:600}.failed,.timeout{color:#b00020;font-weight:600}
.stale{color:#8a5a00;font-weight:600}.err{color:#b00020;font-family:ui-monospace,monospace;
font-size:.85rem;white-space:pre-wrap}
.links a{margin-right:.6rem;white-space:nowrap}
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _params_text(params: dict[str, Any]) -> str:
    shown = {k: v for k, v in params.items() if k not in ("lang",)}
    return ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in shown.items())


def _links(attempt: dict[str, Any], labels: dict[str, str]) -> str:
    files = attempt.get("files") or {}
    return "".join(f'<a href="{_esc(files[k])}">{_esc(label)}</a>'
                   for k, label in labels.items() if k in files)


_VIEW_LABELS = {"review": "reviewer view", "full": "full view (code)", "notebook": ".ipynb"}
_ERROR_LABELS = {"error": "error page", "notebook": "partial .ipynb"}


def _row(e: dict[str, Any]) -> str:
    report, failure = e.get("report"), e.get("failure")
    latest = failure or report or {}
    status = e.get("status", "ok")  # set by the manifest
    status_html = f'<span class="{status}">{_esc(status)}</span>'
    detail = ""
    links = ""
    if failure:
        detail = f'<div class="err">{_esc(failure.get("error") or "")}</div>'
        links = _links(failure, _ERROR_LABELS)
        if report:
            status_html += ' <span class="stale">· earlier report kept (stale)</span>'
            links += (f'<br><span class="stale">stale, from {_esc(report.get("finished", ""))}:'
                      f"</span> " + _links(report, _VIEW_LABELS))
    elif report:
        links = _links(report, _VIEW_LABELS)
    if e.get("kept"):
        status_html += ' <span class="meta">· kept from an earlier run (not run this time)</span>'
    checksum = latest.get("data_checksum") or ""
    duration = latest.get("duration_s")
    return (
        "<tr>"
        f"<td>{_esc(e['notebook'])}</td><td>{_esc(e['lang'])}</td>"
        f"<td>{status_html}{detail}</td>"
        f"<td><code>{_esc(_params_text(latest.get('parameters', {})))}</code></td>"
        f'<td class="num">{"" if duration is None else f"{duration:.1f} s"}</td>'
        f"<td>{_esc(latest.get('package_version', ''))}</td>"
        f'<td><code title="{_esc(checksum)}">{_esc(checksum[:12])}</code></td>'
        f'<td class="links">{links}</td>'
        "</tr>"
    )


def run_log_html(manifest: dict[str, Any], title: str = "wardanalysis run log") -> str:
    """The run log (``runs.html``): every report grouped by fiscal year and notebook, with its
    status, parameters, duration, version, checksum and links to every stored version."""
    reports = manifest["reports"]
    run = manifest.get("run", {})
    n_ok = sum(1 for e in reports if not e.get("failure"))
    n_failed = sum(1 for e in reports if e.get("failure"))
    n_stale = sum(1 for e in reports if e.get("stale"))
    groups: dict[Any, list[dict[str, Any]]] = {}
    for e in reports:
        groups.setdefault(e.get("fiscal_year"), []).append(e)
    head = ("<tr><th>notebook</th><th>lang</th><th>status</th><th>parameters</th>"
            "<th>duration</th><th>package</th><th>data checksum</th><th>views</th></tr>")
    sections = []
    for fy, entries in groups.items():
        heading = "All fiscal years" if fy is None else f"Fiscal year {fy}"
        rows = "".join(_row(e) for e in entries)
        sections.append(f'<h2 id="{"all" if fy is None else f"fy{fy}"}">{_esc(heading)}</h2>'
                        f"<table><thead>{head}</thead><tbody>{rows}</tbody></table>")
    toc = " · ".join(
        f'<a href="#{"all" if fy is None else f"fy{fy}"}">{"all" if fy is None else fy}</a>'
        for fy in groups)
    summary = f"{len(reports)} reports: {n_ok} ok, {n_failed} failed"
    if n_stale:
        summary += f" ({n_stale} with an earlier good report kept, marked stale)"
    last = (f"Last run {_esc(run.get('id', ''))}: {_esc(run.get('summary', ''))}"
            if run else "")

    body = (
        f"<h1>{_esc(title)}</h1>"
        f'<p class="summary">{_esc(summary)}</p><p class="meta">{last}</p>'
        f'<p class="meta">Jump to: {toc}</p>'
        + "".join(f'<div class="wa-table">{s}</div>' for s in sections)
        + '<p class="meta">Machine-readable: <a href="manifest.json">manifest.json</a> · '
        '<a href="results.csv">results.csv</a> · Reports for readers: '
        '<a href="index.html">日本語</a> · <a href="index.en.html">English</a></p>'
    )
    return page(lang="en", title=title, body=f"<style>{_CSS}</style>{body}")
