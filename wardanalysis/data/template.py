"""``wardanalysis template DATASET``: an Excel workbook a city analyst fills in.

The sheet named after the dataset is headed by each column's Japanese label (the descriptor's
``label_ja``, else its name), with the unit in each header's comment and an example row (the
descriptor's ``example`` values, or else the last row of the shipped transcription as printed).
A second sheet, 列の説明, lists every column: header, name, unit, required or not, the other
headers accepted, and the description. ``check`` and ``run`` read the file as it is filled in:
only the dataset's sheet is read (it is the visible sheet named after the dataset).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from ..errors import WardanalysisError
from ..paths import shipped_data_dir
from .schema import Column, DatasetSchema, get_schema

__all__ = ["TemplateError", "template_columns", "write_template"]

#: The sheet that explains the columns (never read as data: it is not named after a dataset).
GUIDE_SHEET = "列の説明"


class TemplateError(WardanalysisError, ValueError):
    """A template that cannot be written: an unknown dataset, or a path already taken."""


def template_columns(schema: DatasetSchema) -> list[Column]:
    """The columns a file gives: all but a fiscal year the file gives as an era label."""
    derived = "fiscal_year" if schema.fiscal_year_from in schema.column_names else None
    return [c for c in schema.columns if c.name != derived]


def _example(schema: DatasetSchema, columns: list[Column]) -> list[Any]:
    """The example row: declared examples, else the shipped transcription's last data row."""
    if any(c.example is not None for c in columns) or schema.input_only:
        return [c.example for c in columns]
    with open(shipped_data_dir() / schema.path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    label_col = schema.fiscal_year_from or "fiscal_year"
    data = [r for r in rows if not schema.totals_label
            or (r.get(label_col) or "").strip() != schema.totals_label]
    last = dict(data[-1]) if data else {}
    wanted = any(c.name == "fiscal_year" for c in columns)
    if wanted and not last.get("fiscal_year") and last.get(label_col):  # given as its label
        from ..eras import fiscal_year

        last["fiscal_year"] = str(fiscal_year(last[label_col]))
    return [_typed(last.get(c.name), c) for c in columns]


def _typed(text: str | None, col: Column) -> Any:
    """A transcribed cell as a workbook cell: a plain whole number as a number, else text."""
    if text is None or text == "":
        return None
    plain = text.replace(",", "")
    if col.type == "integer" and plain.lstrip("-").isdigit():
        return int(plain)
    return text


def _target(name: str, out: str | Path | None) -> Path:
    path = Path.cwd() / f"{name}.xlsx" if out is None else Path(out).expanduser()
    if path.is_dir():
        path = path / f"{name}.xlsx"
    if path.suffix.lower() != ".xlsx":
        raise TemplateError(f"{path}: a template is an Excel workbook; name it {name}.xlsx")
    return path


def write_template(name: str, out: str | Path | None = None, force: bool = False) -> Path:
    """Write the template of dataset ``name`` to ``out`` (a file or a folder; by default
    ``<name>.xlsx`` in the current folder) and return its path. An existing file is replaced
    only with ``force``."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    try:
        schema = get_schema(name)
    except KeyError as exc:
        raise TemplateError(exc.args[0]) from None
    path = _target(name, out)
    if path.exists() and not force:
        raise TemplateError(f"{path} exists; pass --force to replace it")
    columns = template_columns(schema)
    wb = Workbook()
    ws = wb.active
    ws.title = name
    ws.append([c.label_ja or c.name for c in columns])
    ws.append(_example(schema, columns))
    for i, c in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True)
        note = f"{c.name}" + (f" [{c.unit}]" if c.unit else "")
        cell.comment = Comment(note, "wardanalysis")
        ws.column_dimensions[cell.column_letter].width = max(12, 2 * len(str(cell.value)) + 2)
    ws.freeze_panes = "A2"
    guide = wb.create_sheet(GUIDE_SHEET)
    guide.append(["見出し", "列名 (column)", "単位 (unit)", "必須 (required)",
                  "ほかに使える見出し (other headers)", "説明 (description)"])
    for c in columns:
        required = "任意 (optional)" if c.optional or c.nullable else "必須 (required)"
        others = [h for h in c.headers if h != (c.label_ja or c.name)]
        guide.append([c.label_ja or c.name, c.name, c.unit or "", required, ", ".join(others),
                      " ".join(str(c.description).split())])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
