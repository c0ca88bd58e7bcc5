"""Reading a data file against its descriptor, and reporting every problem at once.

Each problem names the file, the spreadsheet row (the header is row 1) and the column, so that a
user can find it in the spreadsheet they exported. Nothing here modifies a file.
"""

from __future__ import annotations

import csv
import io
import operator
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from .eras import EraLabelError, era_label, fiscal_year, fiscal_years
from .schema import Column, DatasetSchema

__all__ = ["DataValidationError", "Problem", "read_table"]

_DASHES = {"—", "-", "–", "―", "ー", "‐", "−", "－"}
_UNIT_SUFFIX = re.compile(r"(件|人|名|千円|円|か所|箇所|校区|施設|%)$")
_INT_RE = re.compile(r"^[+-]?(\d{1,3}(,\s?\d{3})+|\d+)$")
_NUM_RE = re.compile(r"^[+-]?(\d{1,3}(,\s?\d{3})+|\d+)(\.\d+)?$")
_OPS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq, "<": operator.lt, ">": operator.gt}
_BOOL = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a data file."""

    file: str
    message: str
    row: int | None = None  # spreadsheet row number: the header is row 1
    column: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where)}: {self.message}"


class DataValidationError(ValueError):
    """A data file broke its dataset's schema; ``problems`` lists every fault found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        head = f"{len(self.problems)} problem(s) in the data"
        super().__init__(head + "\n" + "\n".join(f"  {p}" for p in self.problems))


def _is_blank(v: str) -> bool:
    return v.strip() == ""


def _parse_cell(raw: str, col: Column) -> tuple[Any, str | None]:
    """Parse one cell; returns (value, error message or None)."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if text == "":
        return (pd.NA, None) if col.nullable else (pd.NA, "missing value")
    if col.type in {"integer", "number"}:
        if text in _DASHES:
            if col.dash_is_zero:
                return 0, None
            if col.nullable:
                return pd.NA, None
            return pd.NA, f"{raw!r} where a number is expected (a dash means none only in columns declared so)"
        num = _UNIT_SUFFIX.sub("", text).strip()
        if num.startswith("約"):
            return pd.NA, f"{raw!r} is approximate; give the number and note the approximation"
        pattern = _INT_RE if col.type == "integer" else _NUM_RE
        if col.type == "integer" and re.fullmatch(r"[+-]?\d+\.0*", num):
            num = num.split(".")[0]
        if not pattern.match(num):
            what = "an integer" if col.type == "integer" else "a number"
            return pd.NA, f"{raw!r} is not {what}"
        value = num.replace(",", "").replace(" ", "")
        value = int(value) if col.type == "integer" else float(value)
        if col.min is not None and value < col.min:
            return value, f"{raw!r} is below the minimum {col.min}"
        if col.max is not None and value > col.max:
            return value, f"{raw!r} is above the maximum {col.max}"
        return value, None
    if col.type == "boolean":
        b = _BOOL.get(text.lower())
        return (pd.NA, f"{raw!r} is not true/false") if b is None else (b, None)
    if col.type == "date":
        try:
            return pd.Timestamp(text).date(), None
        except (ValueError, TypeError):
            return pd.NA, f"{raw!r} is not a date (expected YYYY-MM-DD)"
    if col.enum:
        if text not in col.enum:
            return text, f"{raw!r} is not one of {', '.join(col.enum)}"
        return text, None
    if col.pattern and not re.fullmatch(col.pattern, text):
        return text, f"{raw!r} does not match the pattern {col.pattern}"
    # Free text is kept as transcribed (quotes stay byte-exact); only codes are normalised.
    return raw.strip(), None


def decode(data: bytes, name: str) -> tuple[str | None, Problem | None]:
    """Text of a CSV file: UTF-8 (with or without BOM) or cp932, as Japanese spreadsheets write."""
    if b"\x00" in data:
        return None, Problem(name, "contains NUL bytes: it looks like UTF-16 or a binary file, "
                                   "not a CSV; save it as UTF-8 CSV")
    for enc in ("utf-8-sig", "cp932"):
        try:
            return data.decode(enc), None
        except UnicodeDecodeError:
            continue
    return None, Problem(name, "cannot be decoded as UTF-8 or cp932 (Shift_JIS); save it as UTF-8 CSV")


def read_table(path: Path, schema: DatasetSchema, label: str | None = None):
    """Read ``path`` against ``schema``.

    Returns ``(frame, declared_totals, problems)``. ``frame`` holds the parsed rows in the schema's
    columns plus ``_row`` (the spreadsheet row each came from); ``declared_totals`` is the printed
    totals row as a dict, or None.
    """
    name = label or str(path)
    problems: list[Problem] = []
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return None, None, [Problem(name, f"cannot be read ({exc.strerror})")]
    text, problem = decode(data, name)
    if problem:
        return None, None, [problem]
    if text.strip() == "":
        return None, None, [Problem(name, "the file is empty")]
    rows = list(csv.reader(io.StringIO(text)))
    header = [unicodedata.normalize("NFKC", h).strip() for h in rows[0]]
    body = [(i + 2, r) for i, r in enumerate(rows[1:]) if any(not _is_blank(c) for c in r)]
    if not body:
        problems.append(Problem(name, "the file has a header but no data rows"))

    expected = schema.column_names
    aliases = schema.input_aliases
    fy_col = schema.fiscal_year_from
    has_fy = "fiscal_year" in header
    has_label = bool(fy_col) and fy_col in header
    optional = {c.name for c in schema.columns if c.optional}
    required = [c for c in expected if c != "fiscal_year" and c != fy_col and c not in optional]
    if "fiscal_year" in expected and not (has_fy or has_label):
        want = f"'fiscal_year' or {fy_col!r}" if fy_col else "'fiscal_year'"
        problems.append(Problem(name, f"missing column: {want}", row=1))
    missing = [c for c in required if c not in header]
    if missing:
        problems.append(Problem(name, f"missing column(s): {', '.join(missing)}", row=1))
    unexpected = [h for h in header if h not in expected and h not in aliases]
    if unexpected:
        problems.append(
            Problem(
                name,
                f"unexpected column(s): {', '.join(map(repr, unexpected))}; "
                f"expected {', '.join(expected)}",
                row=1,
            )
        )
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        problems.append(Problem(name, f"duplicated column(s): {', '.join(dupes)}", row=1))
    if missing or unexpected or dupes or (problems and not body):
        return None, None, problems

    records: list[dict[str, Any]] = []
    totals: dict[str, Any] | None = None
    for rownum, cells in body:
        if len(cells) != len(header):
            problems.append(
                Problem(name, f"has {len(cells)} cells, the header has {len(header)}", row=rownum)
            )
            continue
        raw = dict(zip(header, cells, strict=True))
        is_total = bool(schema.totals_label) and any(
            unicodedata.normalize("NFKC", raw.get(c, "")).strip() == schema.totals_label
            for c in (fy_col, "fiscal_year")
        )
        rec: dict[str, Any] = {"_row": rownum}
        for col in schema.columns:
            if col.name == "fiscal_year" or (col.name == fy_col):
                continue
            if col.name not in raw:  # an optional column the file leaves out
                rec[col.name] = pd.NA
                continue
            value, err = _parse_cell(raw[col.name], col)
            if err:
                problems.append(Problem(name, err, row=rownum, column=col.name))
            rec[col.name] = value
        if is_total:
            if totals is not None:
                problems.append(Problem(name, f"a second {schema.totals_label} row", row=rownum))
            totals = rec
            continue
        years = _fiscal_years_of(raw, schema, name, rownum, problems)
        if years is None:
            continue
        label = raw.get(fy_col) if fy_col else None
        for fy in years:
            r = dict(rec)
            if "fiscal_year" in expected:
                r["fiscal_year"] = fy
            if fy_col and fy_col in expected:
                r[fy_col] = unicodedata.normalize("NFKC", label).strip() if label else (
                    era_label(fy) if fy is not None else pd.NA
                )
            records.append(r)
    frame = pd.DataFrame.from_records(records, columns=["_row", *expected]) if records else None
    if frame is not None:
        frame = _typed(frame, schema)
        problems += _table_checks(frame, schema, name)
        if totals is not None:
            problems += _totals_check(frame, totals, schema, name)
    return frame, totals, problems


def _fiscal_years_of(raw, schema, name, rownum, problems) -> list[int] | None:
    fy_col = schema.fiscal_year_from
    if "fiscal_year" not in schema.column_names:
        return [None]
    from_label: list[int] | None = None
    if fy_col and fy_col in raw and not _is_blank(raw[fy_col]):
        try:
            from_label = (
                fiscal_years(raw[fy_col]) if schema.expand_periods else [fiscal_year(raw[fy_col])]
            )
        except EraLabelError as exc:
            problems.append(Problem(name, str(exc), row=rownum, column=fy_col))
            return None
    from_year: list[int] | None = None
    if "fiscal_year" in raw and not _is_blank(raw["fiscal_year"]):
        value, err = _parse_cell(raw["fiscal_year"], schema.column("fiscal_year"))
        if err:
            problems.append(Problem(name, err, row=rownum, column="fiscal_year"))
            return None
        from_year = [value]
    if from_label and from_year and from_year[0] not in from_label:
        problems.append(
            Problem(
                name,
                f"fiscal_year {from_year[0]} disagrees with {fy_col} {raw[fy_col]!r} "
                f"({', '.join(map(str, from_label))})",
                row=rownum,
                column="fiscal_year",
            )
        )
        return None
    years = from_year or from_label
    if not years:
        problems.append(Problem(name, "no fiscal year given", row=rownum, column="fiscal_year"))
        return None
    return years


def _typed(frame: pd.DataFrame, schema: DatasetSchema) -> pd.DataFrame:
    out = frame.copy()
    for col in schema.columns:
        s = out[col.name]
        # Plain numpy dtypes where a column cannot hold a missing value (statsmodels and numpy
        # take them as they are); pandas' nullable dtypes only where the schema allows gaps.
        if col.type == "integer":
            num = pd.to_numeric(s, errors="coerce")
            nullable = col.nullable or num.isna().any()
            out[col.name] = num.astype("Int64" if nullable else "int64")
        elif col.type == "number":
            out[col.name] = pd.to_numeric(s, errors="coerce").astype("float64")
        elif col.type == "boolean":
            b = s.astype("boolean")
            out[col.name] = b if (col.nullable or b.isna().any()) else b.astype("bool")
        elif col.type == "date":
            out[col.name] = pd.to_datetime(s, errors="coerce")
        else:
            out[col.name] = s.astype("str")
    return out


def _table_checks(frame: pd.DataFrame, schema: DatasetSchema, name: str) -> list[Problem]:
    problems: list[Problem] = []
    for rule in schema.rules:
        left, right = frame[rule.left], frame[rule.right]
        # a rule says nothing about a row where either side is missing (an open-ended date)
        ok = _OPS[rule.op](left, right).fillna(True) | left.isna() | right.isna()
        for idx in frame.index[~ok.astype(bool)]:
            problems.append(
                Problem(
                    name,
                    f"{rule.left} = {left[idx]} breaks the rule {rule} ({rule.right} = {right[idx]})",
                    row=int(frame.at[idx, "_row"]),
                    column=rule.left,
                )
            )
    if schema.key:
        dup = frame.duplicated(list(schema.key), keep="first")
        for idx in frame.index[dup]:
            key = ", ".join(f"{k}={frame.at[idx, k]}" for k in schema.key)
            first = frame.loc[
                (frame[list(schema.key)] == frame.loc[idx, list(schema.key)]).all(axis=1), "_row"
            ].iloc[0]
            problems.append(
                Problem(name, f"duplicate key ({key}), first given in row {first}",
                        row=int(frame.at[idx, "_row"]), column=schema.key[0])
            )
    problems += contiguity_problems(frame, schema, name)
    return problems


def contiguity_problems(frame: pd.DataFrame, schema: DatasetSchema, name: str) -> list[Problem]:
    """Fiscal years missing inside the span of a yearly series."""
    if not schema.contiguous or frame["fiscal_year"].isna().all():
        return []
    years = set(frame["fiscal_year"].dropna().astype(int))
    gaps = sorted(set(range(min(years), max(years) + 1)) - years)
    if not gaps:
        return []
    return [Problem(name, f"missing fiscal year(s) {', '.join(map(str, gaps))} inside "
                          f"{min(years)}–{max(years)}", column="fiscal_year")]


def _totals_check(frame, totals, schema, name) -> list[Problem]:
    problems = []
    row = totals["_row"]
    for col in schema.columns:
        if col.type != "integer" or col.name == "fiscal_year" or col.name not in totals:
            continue
        declared = totals[col.name]
        if declared is pd.NA or declared is None:
            continue
        actual = int(frame[col.name].sum())
        if int(declared) != actual:
            problems.append(
                Problem(
                    name,
                    f"declared total {schema.totals_label} = {declared} but the rows sum to {actual}",
                    row=row,
                    column=col.name,
                )
            )
    return problems
