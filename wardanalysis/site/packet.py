"""The committee packet: one A4 PDF per language (``packet.ja.pdf``, ``packet.en.pdf`` in the
reports folder) made from the pages the batch already rendered: a cover, contents with page
numbers, the front page's answers and how to read them, reports 01–03, the latest fiscal-year
report and the sources, each part from a new page, numbered at the foot of every page but the
cover.

Debian's headless ``chromium`` prints it, the browser the page tests use: it lays the pages out
as a reader's browser prints them and supports the ``@page`` margin boxes that number pages
(an HTML-to-PDF library such as WeasyPrint would be a second layout engine with its own CSS
gaps). Without ``chromium`` the packet is skipped, with one line saying so. Chromium has no
``target-counter()``, so the contents' page numbers come from a first printing: where each
part's title first appears in its text (poppler's ``pdftotext``; without it, no numbers).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ..text.messages import message
from .front import answers, source_lines
from .pages import page
from .render import data_as_of, made_on, stable_dir, title_of

__all__ = ["PACKET_NOTEBOOKS", "build_packets", "packet_html"]

#: The reports of all years that go into the packet, in this order; then the latest
#: fiscal-year report.
PACKET_NOTEBOOKS = ("01_requests_covid", "02_escalation", "03_budgets_cross_city")
FISCAL_YEAR_NOTEBOOK = "fiscal_year_report"
PDF_NAME = "packet.{lang}.pdf"


def _scoped(body: str, prefix: str) -> str:
    """A page's content inside the packet: its ids and in-page links prefixed (each part has
    its own s1, s2 …), links elsewhere in the site made plain text (the packet is one file),
    the embedded CSV downloads left out."""
    body = re.sub(r'<p class="wa-download">.*?</p>', "", body, flags=re.S)
    body = re.sub(r'\sid="([^"]*)"', rf' id="{prefix}-\1"', body)
    body = re.sub(r'href="#([^"]*)"', rf'href="#{prefix}-\1"', body)
    return re.sub(r'<a\s+href="(?!#|https?:)[^"]*"[^>]*>(.*?)</a>', r"\1", body, flags=re.S)


def _latest_full_year(reports: dict[tuple[str, Any, str], Any], lang: str) -> list[int]:
    """The latest fiscal year whose report is a full one: it records at least half as many
    estimates as the fullest year's (a year whose data so far hold only its budget is not the
    year a committee reads)."""
    sizes = {fy: len((x["report"] or {}).get("records") or [])
             for (nb, fy, code), x in reports.items()
             if nb == FISCAL_YEAR_NOTEBOOK and code == lang}
    full = [fy for fy, n in sizes.items() if sizes and n * 2 >= max(sizes.values())]
    return [max(full)] if full else []


def _parts(out: Path, manifest: dict[str, Any], lang: str) -> list[tuple[str, str, str]]:
    """``(id, title, html)`` of every report in the packet, in order."""
    reports = {(x["notebook"], x.get("fiscal_year"), x["lang"]): x
               for x in manifest.get("reports", []) if x.get("report")}
    parts = []
    for nb, fy in [(nb, None) for nb in PACKET_NOTEBOOKS] + [
            (FISCAL_YEAR_NOTEBOOK, y) for y in _latest_full_year(reports, lang)]:
        path = out / stable_dir(nb, fy, lang) / "index.html"
        if (nb, fy, lang) in reports and path.is_file():
            main = re.search(r"<main>\n?(.*)\n?</main>", path.read_text(encoding="utf-8"), re.S)
            body = main[1] if main else ""
            pid = f"part-{nb}" if fy is None else f"part-{nb}-{fy}"
            parts.append((pid, title_of(body) or nb, _scoped(body, pid)))
    return parts


def packet_html(out: Path, lang: str, *, made: dt.date,
                page_numbers: dict[str, int] | None = None) -> tuple[str, list[tuple[str, str]]]:
    """The packet in ``lang`` as one HTML document, and its parts ``[(id, title), …]``.
    ``page_numbers`` (part id → page) fills the contents; an empty one shows a placeholder of
    the same width."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    run = manifest.get("run") or {}
    reports = _parts(out, manifest, lang)
    titles = [("part-answers", message("front.questions", lang)), *[p[:2] for p in reports],
              ("part-sources", message("front.sources", lang))]
    cover = [("footer.made", made_on(lang, made)),
             ("footer.data_as_of", data_as_of(lang, run.get("data_dir"))),
             ("footer.version", str(run.get("package_version", "")))]
    if run.get("exploratory"):
        cover.append(("packet.exploratory", "; ".join(run["exploratory"])))
    text = page("packet.html.j2", lang=lang, title=message("packet.title", lang),
                body_class="wa-packet", cover=cover, titles=titles, reports=reports,
                numbers=page_numbers, sources=source_lines(lang),
                answers=answers(manifest, lang, simulated=False, href=lambda nb: f"#part-{nb}"))
    return text, titles


def _chromium_pdf(chromium: str, source: Path, pdf: Path, profile: Path) -> None:
    run = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
         source.as_uri()],
        capture_output=True, text=True, timeout=600, check=False)
    if run.returncode != 0 or not pdf.is_file():
        raise RuntimeError(f"chromium could not print {source.name}: "
                           f"{run.stderr.strip().splitlines()[-1:] or run.returncode}")


def _page_numbers(pdf: Path, parts: list[tuple[str, str]]) -> dict[str, int] | None:
    """The page each part starts on, found by its title in the text of ``pdf``; None without
    poppler's ``pdftotext``."""
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        return None
    text = subprocess.run([pdftotext, "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                          text=True, timeout=120, check=True).stdout
    pages = [re.sub(r"\s+", "", p) for p in text.split("\f")]
    numbers: dict[str, int] = {}
    start = 2  # after the cover and the contents (whose lines name every part)
    for pid, title in parts:
        for i in range(start, len(pages)):
            if re.sub(r"\s+", "", title) in pages[i]:
                numbers[pid] = i + 1
                start = i + 1
                break
    return numbers


def build_packets(out: Path, langs: tuple[str, ...] = ("ja", "en"),
                  made: dt.date | None = None) -> list[Path] | None:
    """Write ``packet.<lang>.pdf`` into the reports folder ``out`` for each language; None when
    ``chromium`` is not installed (nothing is written)."""
    chromium = shutil.which("chromium")
    if chromium is None:
        return None
    made = made or dt.date.today()
    with tempfile.TemporaryDirectory(prefix="wa-packet-") as tmp:
        source, profile = Path(tmp) / "packet.html", Path(tmp) / "profile"
        for lang in langs:
            pdf = out / PDF_NAME.format(lang=lang)
            numbers: dict[str, int] | None = {}  # a placeholder as wide as a number, first
            for target in (Path(tmp) / "draft.pdf", pdf.with_suffix(".pdf.part")):
                text, parts = packet_html(out, lang, made=made, page_numbers=numbers)
                source.write_text(text, encoding="utf-8")
                _chromium_pdf(chromium, source, target, profile)
                numbers = _page_numbers(target, parts)
            target.replace(pdf)
    return [out / PDF_NAME.format(lang=lang) for lang in langs]
