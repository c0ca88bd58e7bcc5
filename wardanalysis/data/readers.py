"""Reading a data file as rows of text, bounded so that a hostile file cannot exhaust memory: CSV
(UTF-8 or cp932) or the data sheet of an .xlsx (formulas refused); the :class:`Problem` every check
reports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import WardanalysisError, printable
from .schema import DatasetSchema, header_key

__all__ = ["DataValidationError", "Problem", "cell_text", "map_headers",
           "not_a_regular_file", "read_rows", "short"]

#: Limits of a user's data file, far above any real table of this kind. An .xlsx is compressed,
#: so its size on disk bounds nothing: a sheet is bounded by rows below the header, columns and
#: cells read, the bytes its parts declare once unpacked, and the empty rows after which reading
#: stops (anything further down is not data).
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_CELL_CHARS = csv.field_size_limit()
MAX_ROWS = 100_000
MAX_COLUMNS = 50
MAX_CELLS = 1_000_000
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
EMPTY_STRETCH = 1_000


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a data file."""

    file: str
    message: str
    row: int | None = None  # spreadsheet row number: the header is row 1
    column: str | None = None
    #: "error" (the file cannot be used) or "warning" (it can, but look at it)
    severity: str = "error"

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        lead = "warning: " if self.severity == "warning" else ""
        return printable(f"{', '.join(where)}: {lead}{self.message}")

    @property
    def is_error(self) -> bool:
        return self.severity != "warning"


class DataValidationError(WardanalysisError, ValueError):
    """A data file broke its dataset's schema; ``problems`` lists every fault found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        head = f"{len(self.problems)} problem(s) in the data"
        super().__init__(head + "\n" + "\n".join(f"  {p}" for p in self.problems))


def not_a_regular_file(path: Path, name: str | None = None) -> Problem | None:
    """The problem with ``path`` if it is not a regular file of its own folder (nothing is
    opened): a directory, FIFO, device or broken link, or a link to a file outside the folder
    (whose first line a message would otherwise quote)."""
    path = Path(path)
    if path.is_file():
        if not path.is_symlink() or path.resolve().is_relative_to(path.absolute().parent.resolve()):
            return None
        return Problem(name or str(path), "is a link to a file outside its folder; copy the file "
                                          "into the data folder instead")
    kind = "a directory" if path.is_dir() else (
        "missing" if not os.path.lexists(path) else "not a regular file (a FIFO, device or "
                                                    "broken link)")
    return Problem(name or str(path), f"is {kind}; a data file must be a regular file")


def _csv_rows(data: bytes, name: str) -> tuple[list[list[str]], Problem | None]:
    """The rows of a CSV file: UTF-8 (with or without BOM) or cp932, as Japanese spreadsheets write."""
    if b"\x00" in data:
        return [], Problem(name, "contains NUL bytes: it looks like UTF-16 or a binary file, "
                                 "not a CSV; save it as UTF-8 CSV")
    for enc in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        return [], Problem(name, "cannot be decoded as UTF-8 or cp932 (Shift_JIS); save it as "
                                 "UTF-8 CSV")
    if text.strip() == "":
        return [], Problem(name, "the file is empty")
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        return list(reader), None
    except csv.Error as exc:
        what = (f"a cell is longer than {MAX_CELL_CHARS:,} characters" if "field larger" in str(exc)
                else f"it is not well-formed CSV ({exc}; a stray or unclosed quote?)")
        return [], Problem(name, what, row=reader.line_num)


def cell_text(value: Any) -> str:
    """A cell's value as the text a CSV export of it would hold: whole numbers without ``.0``,
    dates as YYYY-MM-DD, empty cells empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _sheet_rows(ws, shown: str) -> tuple[list[list[str]], list[Problem]]:
    """The rows of worksheet ``ws`` as text, streamed within the limits (never padded to the
    width the sheet declares). A formula cell is a problem: the result saved with it may be stale."""
    from openpyxl.utils import get_column_letter

    rows: list[list[str]] = []
    problems: list[Problem] = []
    empty_run = width = cells = 0
    # one column more than the limit, to see a sheet that is too wide without reading it all
    for number, row in enumerate(ws.iter_rows(max_col=MAX_COLUMNS + 1), start=1):
        header = rows[0] if number > 1 else []
        texts = [cell_text(cell.value) if cell.data_type != "f" else "" for cell in row]
        for cell in (c for c in row if c.data_type == "f"):
            letter, i = get_column_letter(cell.column), cell.column - 1
            formula = str(getattr(cell.value, "text", None) or cell.value)
            problems.append(Problem(
                shown, f"cell {letter}{number} holds a formula ({short(formula)}); formulas are "
                       "not calculated here and the result saved with one may be stale: paste "
                       "the cells as values (形式を選択して貼り付け → 値) and save",
                row=number, column=header[i] if i < len(header) and header[i].strip() else letter))
        while texts and not texts[-1].strip():
            texts.pop()
        if not texts:
            empty_run += 1
            if empty_run >= EMPTY_STRETCH:
                break  # past the data: the rest of a sheet's declared range is not read
            rows.append([])
            continue
        empty_run = 0
        width = max(width, len(texts))
        cells += width
        over = next((what for exceeded, what in (
            (len(texts) > MAX_COLUMNS, f"has data beyond column {MAX_COLUMNS}, the limit of columns"),
            (number - 1 > MAX_ROWS, f"has more than {MAX_ROWS:,} rows below the header, the limit "
                                    "of rows"),
            (cells > MAX_CELLS, f"has more than {MAX_CELLS:,} cells, the limit of cells"),
        ) if exceeded), None)
        if over:
            problems.append(Problem(shown, f"{over} read from a sheet", row=number))
            break
        rows.append(texts)
    while rows and not rows[-1]:
        rows.pop()
    return [r + [""] * (width - len(r)) if r else r for r in rows], problems


def _excel_rows(path: Path, dataset: str, name: str
                ) -> tuple[list[list[str]], str, list[Problem]]:
    """The rows of the visible sheet named after ``dataset`` (else the only visible one), the
    file's name in messages (with the sheet) and the problems; hidden sheets are never read."""
    from openpyxl import load_workbook

    try:  # zipfile reads no more than a part declares, so the declarations bound the work
        with zipfile.ZipFile(path) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            return [], name, [Problem(name, f"unpacks to {unpacked:,} bytes, above the limit of "
                                            f"{MAX_UNPACKED_BYTES:,} bytes for a workbook")]
        # data_only=False: a formula is seen as a formula, not as the result last saved
        wb = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # zipfile and openpyxl raise many kinds for a non-workbook
        return [], name, [Problem(name, f"cannot be read as an Excel workbook (.xlsx): "
                                        f"{str(exc)[:120]}")]
    try:
        visible = [ws for ws in wb.worksheets if ws.sheet_state == "visible"]
        hidden = [ws.title for ws in wb.worksheets if ws.sheet_state != "visible"]
        named = [ws for ws in visible if ws.title == dataset]
        if not named and len(visible) != 1:
            listed = f" ({', '.join(repr(ws.title) for ws in visible)})" if visible else ""
            hid = (f"; hidden sheet(s) {', '.join(map(repr, hidden))} are never read"
                   if hidden else "")
            return [], name, [Problem(name, f"has {len(visible)} visible sheet(s){listed} and "
                                            f"none is named {dataset!r}: name the sheet to read "
                                            f"after the dataset{hid}")]
        ws = (named or visible)[0]
        shown = f"{name} (sheet {ws.title!r})"
        rows, problems = _sheet_rows(ws, shown)
    finally:
        wb.close()
    if hidden:
        problems.append(Problem(shown, f"hidden sheet(s) {', '.join(map(repr, hidden))} not "
                                       "read: only visible sheets count", severity="warning"))
    return rows, shown, problems


def read_rows(path: Path, dataset: str, name: str) -> tuple[list[list[str]], str, list[Problem]]:
    """The rows of a data file as text, the file's name for messages, and the problems."""
    try:
        irregular = not_a_regular_file(path, name)
        if irregular:
            return [], name, [irregular]
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return [], name, [Problem(name, f"is {size / 1e6:.1f} MB, above the limit of "
                                            f"{MAX_FILE_BYTES // (1024 * 1024)} MB for a data "
                                            "file (real tables are a few KB)")]
        if path.suffix.lower() == ".xlsx":
            return _excel_rows(path, dataset, name)
        rows, problem = _csv_rows(path.read_bytes(), name)
    except OSError as exc:
        return [], name, [Problem(name, f"cannot be read ({exc.strerror})")]
    if problem:
        return [], name, [problem]
    if len(rows) - 1 > MAX_ROWS:  # the same bound as a sheet's
        return [], name, [Problem(name, f"has more than {MAX_ROWS:,} rows below the header, the "
                                        "limit of rows read from a file", row=MAX_ROWS + 2)]
    return rows, name, []


def map_headers(header: list[str], schema: DatasetSchema
                ) -> tuple[list[str], list[tuple[str, str]]]:
    """A file's header (NFKC, stripped) with each Japanese label or declared alias replaced by
    its column's name, and the ``(header, column)`` pairs so renamed; an unknown header is kept."""
    known = schema.header_map()
    out, renamed = [], []
    for h in (unicodedata.normalize("NFKC", h).strip() for h in header):
        col = known.get(header_key(h), h)
        out.append(col)
        if col != h:
            renamed.append((h, col))
    return out, renamed


def short(raw: str) -> str:
    """A cell's text for a message: its repr, cut to 60 characters."""
    text = repr(raw)
    return text if len(text) <= 60 else text[:58] + "…'"
