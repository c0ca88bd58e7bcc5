"""The front page for reviewers (``index.html`` in Japanese, ``index.en.html`` in English).

It answers before it lists: the package's three questions, each with its one-line answer and key
figure taken from the latest good report's records, linking to that report's stable address;
then, apart from those findings, the design study and the worked example on simulated data
(``04_data_needed``, ``05_monthly_log``); then a grid of the fiscal-year reports (fiscal years × languages); then where the data come
from, one line per source with its quality mark. A report whose latest run failed is flagged.
The run log (status, durations, versions, checksums) is its own page, linked from the footer.

Everything shown here comes from the manifest and the shipped descriptors (01's second sentence is
filled from its records with the catalogue key the report uses, through the Estimate class).
"""

from __future__ import annotations

import html
from typing import Any

from ..formats import fmt
from ..messages import message
from ..pages import nav_bar, page
from .render import front_page, stable_dir

__all__ = ["front_page_html"]

#: The questions, in reading order: (notebook, question, how to state its answer).
QUESTIONS = (
    ("01_requests_covid", "front.q_requests", "requests"),
    ("02_escalation", "front.q_escalation", "escalation"),
    ("03_budgets_cross_city", "front.q_budgets", "budgets"),
    ("00_overview", "front.overview", "overview"),
)


def _records(entry: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    report = (entry or {}).get("report") or {}
    return {r["key"]: r for r in report.get("records", [])}


def _num(record: dict[str, Any] | None, key: str = "value", pct: bool = False) -> str:
    if not record or record.get(key) is None:
        return "—"
    v = float(record[key])
    return f"{100 * v:.1f}%" if pct else fmt(v)


def _estimate(record: dict[str, Any]) -> Any:
    """A record as the estimate a catalogue template formats (value and interval)."""
    from ..results import Estimate

    def num(k: str) -> float:
        v = record.get(k)
        return float("nan") if v is None or v == "" else float(v)

    return Estimate(record["key"], num("value"), num("ci_low"), num("ci_high"),
                    flags=tuple(f for f in str(record.get("flags") or "").split(";") if f))


def _answer(kind: str, rec: dict[str, dict[str, Any]], lang: str) -> str | None:
    if kind == "requests" and {"requests.mean_ratio_covid_vs_pre", "requests.its_pre_slope_rr",
                               "requests.trend_rr_per_year"} <= set(rec):
        verdict = rec.get("requests.verdict_distinguishable", {}).get("value")
        # 01's second sentence, from the same catalogue key: the ratio with the earlier decline
        reason = message("requests.verdict.falling", lang, **{
            name: _estimate(rec[key]) for name, key in (
                ("ratio", "requests.mean_ratio_covid_vs_pre"),
                ("pre", "requests.its_pre_slope_rr"), ("trend", "requests.trend_rr_per_year"))})
        return message("front.answer_requests", lang,
                       verdict=message("front.verdict_yes" if verdict == 1 else "front.verdict_no",
                                       lang), reason=reason)
    if kind == "escalation" and "escalation.first_level_share" in rec:
        r = rec["escalation.first_level_share"]
        return message("front.answer_escalation", lang, share=_num(r, pct=True),
                       low=_num(r, "ci_low", pct=True), high=_num(r, "ci_high", pct=True))
    if kind == "budgets":
        years = sorted(int(k.rsplit(".fy", 1)[1]) for k in rec
                       if k.startswith("budget.kumamoto_yen_per_capita.fy"))
        if years:
            r = rec[f"budget.kumamoto_yen_per_capita.fy{years[-1]}"]
            return message("front.answer_budgets", lang, yen=_num(r), year=years[-1])
    if kind == "overview":
        return message("front.answer_overview", lang)
    return None


#: Pages that are not findings, listed apart from the questions: (notebook, title, answer kind).
DESIGN = (
    ("04_data_needed", "front.data_needed", "design"),
    ("05_monthly_log", "front.monthly_log", "monthly_log"),
)


def _design_answer(kind: str, rec: dict[str, dict[str, Any]], lang: str) -> str | None:
    if kind == "design" and "design.power_at_30.yearly" in rec:
        return message("front.answer_design", lang,
                       yearly=_num(rec["design.power_at_30.yearly"], pct=True),
                       wards=_num(rec.get("design.power_at_30.wards"), pct=True))
    if kind == "monthly_log" and rec:
        simulated = any("simulated" in str(r.get("flags") or "").split(";") for r in rec.values())
        return message("front.answer_monthly_simulated" if simulated
                       else "front.answer_monthly_real", lang)
    return None


def _status_note(entry: dict[str, Any], lang: str) -> str:
    if entry.get("failure") and entry.get("report"):
        return f' <span class="wa-status-stale">({html.escape(message("status.stale", lang))})</span>'
    if entry.get("failure"):
        return f' <span class="wa-status-failed">({html.escape(message("status.failed", lang))})</span>'
    return ""


def _sources(lang: str) -> str:
    """One line per source document: its name, date, quality marks and how many datasets."""
    from ..glossary import has, label
    from ..schema import dataset_names, get_schema
    from ..sources import sources

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
    failed = [x for x in entries if x.get("failure")]
    if failed:
        parts.append(f'<p class="wa-status-failed">'
                     f'{e(message("front.problems", lang, count=len(failed)))}</p>')
    def listed(rows: Any, answer_of: Any) -> list[str]:
        """One item per report of ``rows`` (notebook, title key, kind): title, status, answer,
        link."""
        items = []
        for notebook, title, kind in rows:
            entry = by_id.get((notebook, None, lang))
            if entry is None:
                continue
            answer = answer_of(kind, _records(entry), lang) if entry.get("report") else None
            link = (f'<a href="{e(stable_dir(notebook, None, lang))}/index.html">'
                    f'{e(message("front.read", lang))}</a>' if entry.get("report")
                    else e(message("front.not_yet", lang)))
            items.append(f"<li><strong>{e(message(title, lang))}</strong>"
                         f"{_status_note(entry, lang)}<br>{e(answer or '')} {link}</li>")
        return items

    # the questions, each with its answer
    items = listed(QUESTIONS, _answer)
    if items:
        parts.append(f'<section class="wa-summary"><h2 class="wa-unnumbered">'
                     f'{e(message("front.questions", lang))}</h2><ul>{"".join(items)}</ul></section>')
    # the design study and the worked example: listed apart, never among the findings
    items = listed(DESIGN, _design_answer)
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
    parts.append(_sources(lang))
    other = "en" if lang == "ja" else "ja"
    nav = nav_bar([(message("nav.front", lang), None), (message("nav.other_lang", lang),
                                                        front_page(other)),
                   (message("nav.run_log", lang), "runs.html")], message("nav.label", lang))
    footer = (f'<footer><p><a href="runs.html">{e(message("nav.run_log", lang))}</a> · '
              '<a href="results.csv">results.csv</a> · <a href="manifest.json">manifest.json</a>'
              "</p></footer>")
    return page(lang=lang, title=message("front.title", lang), body="".join(parts), nav=nav,
                footer=footer)
