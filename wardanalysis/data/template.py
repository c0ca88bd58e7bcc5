"""``wardanalysis template DATASET``: an Excel workbook to fill in, a sheet named after the dataset
headed by the Japanese labels over an example row, and a sheet 列の説明 describing every column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import WardanalysisError
from .loading import load
from .schema import get_schema

__all__ = ["TemplateError", "write_template"]

#: The sheet that explains the columns (never read as data: it is not named after a dataset).
GUIDE_SHEET = "列の説明"


class TemplateError(WardanalysisError, ValueError):
    """A template that cannot be written: an unknown dataset, or a path already taken."""


def write_template(name: str, out: str | Path | None = None, force: bool = False) -> Path:
    """Write the template of dataset ``name`` to ``out`` (a file or a folder; by default
    ``<name>.xlsx`` in the current folder), replacing a file only with ``force``."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    try:
        schema = get_schema(name)
    except KeyError as exc:
        raise TemplateError(exc.args[0]) from None
    path = Path.cwd() / f"{name}.xlsx" if out is None else Path(out).expanduser()
    if path.is_dir():
        path = path / f"{name}.xlsx"
    if path.suffix.lower() != ".xlsx":
        raise TemplateError(f"{path}: a template is an Excel workbook; name it {name}.xlsx")
    if path.exists() and not force:
        raise TemplateError(f"{path} exists; pass --force to replace it")
    # a fiscal year the file gives as an era label is not a column of its own
    columns = [c for c in schema.columns
               if c.name != "fiscal_year" or schema.fiscal_year_from not in schema.column_names]
    if any(c.example is not None for c in columns) or schema.input_only:
        example = [c.example for c in columns]
    else:  # the shipped data's last row
        last = load(name).astype(object).iloc[-1]
        example = [None if pd.isna(last[c.name]) else last[c.name] for c in columns]
    wb = Workbook()
    ws = wb.active
    ws.title = name
    ws.append([c.label_ja or c.name for c in columns])
    ws.append(example)
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
