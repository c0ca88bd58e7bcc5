"""The results a reader downloads beside the pages: ``results.csv`` (every key estimate of every
current report, unrounded to 12 significant digits) and ``results.xlsx`` (the same for Excel,
each estimate with its ja/en label from the catalogue and the address of its report).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from ..records import STORED_DIGITS
from ..text.messages import keys, message
from .render import stable_dir

RESULT_COLUMNS = ("notebook", "fiscal_year", "lang", "key", "value", "ci_low", "ci_high", "unit",
                  "interval", "flags", "parameters", "overlay_files")


def _csv_number(value: Any) -> str:
    """A number without float noise: the digits a record is stored with
    (:data:`~wardanalysis.records.STORED_DIGITS`), shortest form (1270, not
    1269.9999999999934)."""
    return "" if value is None else f"{float(value):.{STORED_DIGITS}g}"


def _overlay_files(report: dict[str, Any]) -> str:
    """The user's files a report read: ``name.csv (sha256 abcdef012345)``, ``;``-separated."""
    return "; ".join(f"{Path(o['file']).name} (sha256 {o['sha256'][:12]})"
                     for o in (report.get("overlays") or {}).values())


def _parameters(params: dict[str, Any]) -> str:
    """The parameters a report was made with, beyond its fiscal year and language, as JSON."""
    return json.dumps({k: v for k, v in params.items() if k not in ("lang", "fiscal_year")},
                      ensure_ascii=False, sort_keys=True)


def results_csv(manifest: dict[str, Any]) -> str:
    """Every key estimate of every report whose latest execution succeeded."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    rows = []
    for e in manifest["reports"]:
        if e.get("failure") or not e.get("report"):
            continue  # a stale report's numbers are not current results
        for r in e["report"].get("records", []):
            rows.append((e["notebook"], "" if e.get("fiscal_year") is None else e["fiscal_year"],
                         e["lang"], r["key"], _csv_number(r["value"]), _csv_number(r["ci_low"]),
                         _csv_number(r["ci_high"]), r.get("unit", ""), r.get("interval", ""),
                         r.get("flags", ""), _parameters(e["report"].get("parameters", {})),
                         _overlay_files(e["report"])))
    # Notebook, then fiscal year, then language; each notebook's records in recorded order.
    order = {"ja": 0, "en": 1}
    rows.sort(key=lambda r: (r[0], r[1] != "", r[1] or 0, order.get(r[2], 2), r[2]))
    writer.writerows(rows)
    return buf.getvalue()


def results_xlsx(manifest: dict[str, Any]) -> bytes:
    """results.csv as a workbook for reading in Excel: each estimate with its label in Japanese
    and English where the catalogue has one, its interval, unit, flags, parameters and the
    address of its report; numbers as numbers with display formats (never rounded values).
    The bytes are the same for the same results (fixed document dates)."""
    from openpyxl import Workbook  # heavy: only when results are written
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    labelled = set(keys())
    wb = Workbook()
    ws = wb.active
    ws.title = "results"
    ws.append([*RESULT_COLUMNS[:4], "label_ja", "label_en", *RESULT_COLUMNS[4:], "report"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r in list(csv.reader(io.StringIO(results_csv(manifest))))[1:]:
        notebook, fy, lang, key, value, lo, hi, unit, interval, flags, params, overlays = r
        name, year = f"estimate.{key}", int(fy) if fy else None
        ws.append([notebook, year, lang, key,
                   *(message(name, code) if name in labelled else "" for code in ("ja", "en")),
                   *(float(x) if x else None for x in (value, lo, hi)), unit, interval, flags,
                   params, overlays, f"{stable_dir(notebook, year, lang)}/index.html"])
    for row in ws.iter_rows(min_row=2, min_col=7, max_col=9):
        for cell in row:
            cell.number_format = "#,##0.0000"
    for col, width in zip("ABCDEFGHIJKLMNO",
                          (22, 10, 5, 44, 36, 36, 12, 12, 12, 24, 40, 12, 30, 30, 40), strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = "A2"
    wb.properties.created = wb.properties.modified = dt.datetime(2000, 1, 1)
    buf = io.BytesIO()
    # openpyxl's ExcelWriter, not wb.save(): save() stamps the document's modified date with the
    # clock (two saves a second apart differ)
    ExcelWriter(wb, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED)).save()
    return _fixed_zip_times(buf.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """The same workbook bytes for the same content: every member of the zip gets one date."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()
