"""Checking a data file against its descriptor, every problem at once, each naming the file, the
spreadsheet row (the header is row 1) and the column."""

from __future__ import annotations

import datetime as dt
import math
import operator
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..eras import (
    EraLabelError,
    era_label,
    fiscal_year,
    fiscal_year_of,
    fiscal_years,
    latest_fiscal_year,
    parse_japanese_date,
)
from ..text.formats import fmt_count
from .readers import Problem, cell_text, map_headers, read_rows, short
from .schema import Column, DatasetSchema

__all__ = ["cap_problems", "check_frame", "contiguity_problems", "markup_warnings",
           "parse_office_date", "read_table", "today"]

_DASHES = {"—", "-", "–", "―", "ー", "‐", "−", "－"}
_UNIT_SUFFIX = re.compile(r"(件|人|名|千円|百万円|万円|億円|円|か所|箇所|校区|施設|%)$")
#: A number like 1.000: a decimal point, or a thousands separator as some locales write it.
_AMBIGUOUS = re.compile(r"^[+-]?[1-9]\d{0,2}\.\d{3}$")
#: The whole numbers a column can hold (64 bits, as pandas and numpy store them).
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: Problems listed per kind of problem and column; the rest are counted.
MAX_PER_KIND = 20
_INT_RE = re.compile(r"^[+-]?(\d{1,3}(,\s?\d{3})+|\d+)$")
_NUM_RE = re.compile(r"^[+-]?(\d{1,3}(,\s?\d{3})+|\d+)(\.\d+)?$")
_OPS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq, "<": operator.lt, ">": operator.gt}
_BOOL = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def _parse_cell(raw: str, col: Column) -> tuple[Any, str | None]:
    """Parse one cell; returns (value, error message or None)."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if text == "" and col.default is not None:
        return col.default, None
    if text == "":
        return (pd.NA, None) if col.nullable else (pd.NA, "missing value")
    if col.type in {"integer", "number"}:
        if text in _DASHES and (col.dash_is_zero or col.nullable):
            return (0 if col.dash_is_zero else pd.NA), None
        if text in _DASHES:
            return pd.NA, (f"{short(raw)} where a number is expected (a dash means none only in "
                           "columns declared so)")
        unit = _UNIT_SUFFIX.search(text)
        # a column's unit names the suffixes its cells may carry in brackets: cases (件) → 件
        if unit and unit[1] not in re.findall(r"\(([^()]+)\)", col.unit or ""):
            wanted = f"is in {col.unit}" if col.unit else "takes a plain number"
            return pd.NA, f"{short(raw)} carries the unit {unit[1]}, but this column {wanted}"
        num = _UNIT_SUFFIX.sub("", text).strip()
        if num.startswith("約"):
            return pd.NA, f"{short(raw)} is approximate; give the number and note the approximation"
        if _AMBIGUOUS.match(num):
            whole, frac = num.split(".")
            return pd.NA, (f"{short(raw)} is ambiguous: {whole}.{frac} with a decimal point, or "
                           f"{whole}{frac} with a thousands separator; write it as "
                           f"{whole}{frac} or {whole},{frac} (thousands), or {float(num):g}")
        pattern = _INT_RE if col.type == "integer" else _NUM_RE
        if col.type == "integer" and re.fullmatch(r"[+-]?\d+\.0{1,2}", num):
            num = num.split(".")[0]
        if not pattern.match(num):
            what = "an integer" if col.type == "integer" else "a number"
            return pd.NA, f"{short(raw)} is not {what}"
        value = num.replace(",", "").replace(" ", "")
        value = int(value) if col.type == "integer" else float(value)
        if col.type == "integer" and not INT64_MIN <= value <= INT64_MAX:  # never wrapped
            return pd.NA, (f"{short(raw)} does not fit a 64-bit whole number (at most "
                           f"{INT64_MAX:,} either side of 0)")
        if not math.isfinite(value):
            return pd.NA, f"{short(raw)} is too large to be a number"
        if value < col.min:  # a number column declares both bounds (the descriptor checks)
            return value, f"{short(raw)} is below the minimum {_bound(col.min)}"
        if value > col.max:
            return value, f"{short(raw)} is above the maximum {_bound(col.max)}"
        return value, None
    if col.type == "boolean":
        b = _BOOL.get(text.lower())
        return (pd.NA, f"{short(raw)} is not true/false") if b is None else (b, None)
    if col.type == "date":
        return _parse_date(raw, text, col)
    if col.enum:
        return text, None if text in col.enum else f"{short(raw)} is not one of {', '.join(col.enum)}"
    if col.pattern and not re.fullmatch(col.pattern, text):
        return text, f"{short(raw)} does not match the pattern {col.pattern}"
    # Free text is kept as transcribed (quotes stay byte-exact); only codes are normalised.
    return raw.strip(), None


def _bound(value: float) -> str:
    """A descriptor's bound as a reader writes it: 1,000,000; 0.5."""
    return fmt_count(value) if float(value).is_integer() else f"{value:g}"


#: Day 0 of Excel's serial day numbers (1900 date system, counting its phantom 1900-02-29).
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SERIAL_RE = re.compile(r"^\d{5}(\.0+)?$")
_ISO_LIKE_RE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$")


def parse_office_date(text: str) -> dt.date:
    """A date as Japanese offices write it: ``2023-04-01``, ``2023/4/1``, ``2023.4.1``,
    ``令和5年4月1日``, ``R5.4.1`` or an Excel serial day number (``45017``, five digits).
    ``ValueError`` says why a text is not a date (e.g. 2023/2/30 does not exist)."""
    text = unicodedata.normalize("NFKC", str(text)).strip()
    if _SERIAL_RE.match(text):
        return _EXCEL_EPOCH + dt.timedelta(days=int(float(text)))
    if _ISO_LIKE_RE.match(text):
        y, m, d = (int(p) for p in re.split(r"[-/.]", text))
        return dt.date(y, m, d)  # ValueError names what is out of range
    if re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d", text):  # a date and time, as Excel cells give
        return dt.datetime.fromisoformat(text).date()
    try:
        date = parse_japanese_date(text)
    except EraLabelError as exc:
        reason = str(exc).split(": ", 1)[-1]
        raise ValueError(reason) from None
    if not re.search(r"(日|\.\d{1,2}\.\d{1,2})$", text):
        raise ValueError("gives no day (expected e.g. 2023/4/1, 令和5年4月1日 or R5.4.1)")
    return date


def _parse_date(raw: str, text: str, col: Column) -> tuple[Any, str | None]:
    """A date cell; for a date column, ``min``/``max`` are the first and last fiscal year."""
    try:
        date = parse_office_date(text)
    except (ValueError, OverflowError) as exc:
        return pd.NA, (f"{short(raw)} is not a date ({exc}; expected e.g. 2023-04-01, 2023/4/1, "
                       "令和5年4月1日, R5.4.1 or an Excel serial number)")
    fy = fiscal_year_of(date)
    if (col.min is not None and fy < col.min) or (col.max is not None and fy > col.max):
        return pd.NA, (f"{short(raw)} is {date:%Y-%m-%d}, in fiscal year {fy}, outside this "
                       f"dataset's fiscal years ({col.min:g}–{col.max:g})")
    if date > today():
        return pd.NA, (f"{short(raw)} is {date:%Y-%m-%d}, after today ({today():%Y-%m-%d}): "
                       "a recorded date cannot be in the future")
    return date, None


def today() -> dt.date:
    """The day of the check: no recorded date may be later."""
    return dt.date.today()


def read_table(path: Path, schema: DatasetSchema, label: str | None = None):
    """``(frame, declared_totals, problems)`` of ``path`` read against ``schema``: ``frame`` has
    the schema's columns and ``_row`` (each row's spreadsheet row); the totals row is a dict."""
    rows, name, problems = read_rows(Path(path), schema.name, label or str(path))
    if any(p.is_error for p in problems):
        return None, None, cap_problems(problems)
    if not rows:
        return None, None, [Problem(name, "the file is empty")]
    header, _ = map_headers(rows[0], schema)  # the office's headings name the columns too
    body = [(i + 2, r) for i, r in enumerate(rows[1:]) if any(c.strip() for c in r)]
    if not body:
        problems.append(Problem(name, "the file has a header but no data rows"))

    expected = schema.column_names
    fy_col = schema.fiscal_year_from
    optional = {c.name for c in schema.columns if c.optional}
    required = [c for c in expected if c not in ("fiscal_year", fy_col, *optional)]
    if "fiscal_year" in expected and "fiscal_year" not in header and fy_col not in header:
        want = f"'fiscal_year' or {fy_col!r}" if fy_col else "'fiscal_year'"
        problems.append(Problem(name, f"missing column: {want}", row=1))
    missing = [c for c in required if c not in header]
    unexpected = [h for h in header if h not in expected and h != fy_col]
    dupes = sorted({h for h in header if header.count(h) > 1})
    problems += [Problem(name, what, row=1) for found, what in (
        (missing, f"missing column(s): {', '.join(missing)}"),
        (unexpected, f"unexpected column(s): {', '.join(map(repr, unexpected))}; "
                     f"expected {', '.join(expected)}"),
        (dupes, f"duplicated column(s): {', '.join(dupes)}")) if found]
    if missing or unexpected or dupes or (problems and not body):
        return None, None, problems

    records: list[dict[str, Any]] = []
    totals: dict[str, Any] | None = None
    for rownum, cells in body:
        if len(cells) != len(header):
            problems.append(
                Problem(name, f"has {len(cells)} cells, the header has {len(header)}", row=rownum))
            continue
        raw = dict(zip(header, cells, strict=True))
        rec: dict[str, Any] = {"_row": rownum}
        for col in schema.columns:
            if col.name in ("fiscal_year", fy_col):
                continue
            # an optional column the file leaves out is empty in every row
            value, err = _parse_cell(raw.get(col.name, ""), col)
            if err:
                problems.append(Problem(name, err, row=rownum, column=col.name))
            rec[col.name] = value
        labels = (unicodedata.normalize("NFKC", raw.get(c, "")).strip()
                  for c in (fy_col, "fiscal_year"))
        if schema.totals_label and schema.totals_label in labels:
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
            if fy_col in expected:
                r[fy_col] = unicodedata.normalize("NFKC", label).strip() if label else (
                    era_label(fy) if fy is not None else pd.NA)
            records.append(r)
    if not records:
        return None, totals, cap_problems(problems)
    frame = _typed(pd.DataFrame.from_records(records, columns=["_row", *expected]), schema)
    problems += _table_checks(frame, schema, name) + contiguity_problems(frame, schema, name)
    if totals is not None:
        problems += _totals_check(frame, totals, schema, name)
    return frame, totals, cap_problems(problems)


def check_frame(frame: pd.DataFrame, schema: DatasetSchema, name: str,
                columns: Sequence[str] | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """A caller's frame checked by a file's rules in ``columns`` (default: all it has) and in each
    column with a default (filled in), not for contiguity (it may hold a selection of years);
    rows are named by the index. Returns the frame, those columns typed, and the problems."""
    filled = {c.name: c.default for c in schema.columns if c.default is not None}
    frame = frame.assign(**{c: frame[c].fillna(d) if c in frame else d for c, d in filled.items()})
    known = {c.name for c in schema.columns}
    given = frame.columns if columns is None else columns
    checked = [c for c in dict.fromkeys([*given, *filled]) if c in known]
    part = frame[checked]
    problems: list[Problem] = []
    rows = frame.index if pd.api.types.is_integer_dtype(frame.index) else range(len(frame))
    for c in checked:
        for row, value in zip(rows, part[c], strict=True):
            _, err = _parse_cell(_cell_text(value), schema.column(c))
            if err:
                problems.append(Problem(name, err, row=int(row), column=c))
    if problems:
        return frame, cap_problems(problems)
    typed = _typed(part, schema)
    problems = _table_checks(typed.assign(_row=list(rows)), schema, name)
    return frame.assign(**{c: typed[c] for c in checked}), cap_problems(problems)


def _cell_text(value: Any) -> str:
    """A value of a DataFrame as the text a file would hold."""
    if not pd.api.types.is_scalar(value):
        return repr(value)
    if pd.isna(value):
        return ""
    return cell_text(value.item() if isinstance(value, np.bool_) else value)


def cap_problems(problems: list[Problem]) -> list[Problem]:
    """At most ``MAX_PER_KIND`` problems of each kind (the same message but for the values
    quoted in it, in the same column), then one line counting the rest."""
    kept: list[Problem] = []
    counts: Counter[tuple] = Counter()
    for p in problems:
        kind = (p.file, p.column, p.severity, re.sub(r"'[^']*'|\d+", "…", p.message))
        counts[kind] += 1
        if counts[kind] <= MAX_PER_KIND:
            kept.append(p)
    kept += [Problem(file, f"{n - MAX_PER_KIND} more problem(s) like \"{message}\" not listed",
                     column=column, severity=severity)
             for (file, column, severity, message), n in counts.items() if n > MAX_PER_KIND]
    return kept


def _fiscal_years_of(raw, schema, name, rownum, problems) -> list[int] | None:
    """The fiscal years of a row: its ``fiscal_year``, or those of its era label (which must
    agree when both are given); None after adding the problem."""
    if "fiscal_year" not in schema.column_names:
        return [None]
    fy_col = schema.fiscal_year_from

    def fail(message: str, column: str = "fiscal_year") -> None:
        problems.append(Problem(name, message, row=rownum, column=column))

    from_label: list[int] | None = None
    if fy_col and raw.get(fy_col, "").strip():
        try:
            label = raw[fy_col]
            from_label = fiscal_years(label) if schema.expand_periods else [fiscal_year(label)]
        except EraLabelError as exc:
            return fail(str(exc), fy_col)
    from_year: list[int] | None = None
    if raw.get("fiscal_year", "").strip():
        value, err = _parse_cell(raw["fiscal_year"], schema.column("fiscal_year"))
        if err:
            return fail(err)
        if value > latest_fiscal_year():  # a label's year is bounded so by the eras module
            return fail(f"fiscal year {value} is after the next fiscal year "
                        f"({latest_fiscal_year()})")
        from_year = [value]
    if from_label and from_year and from_year[0] not in from_label:
        return fail(f"fiscal_year {from_year[0]} disagrees with {fy_col} {raw[fy_col]!r} "
                    f"({', '.join(map(str, from_label))})")
    years = from_year or from_label
    if not years:
        return fail("no fiscal year given")
    col = schema.column("fiscal_year")
    outside = [y for y in years if not col.min <= y <= col.max]
    if from_label and not from_year and outside:  # fiscal_year itself is range-checked by type
        return fail(f"{raw[fy_col]!r} is fiscal year {outside[0]}, outside this dataset's range "
                    f"({col.min:g}–{col.max:g})", fy_col)
    return years


#: Each column type's dtype. Plain numpy dtypes (``_PLAIN``) where a column holds no missing
#: value, as statsmodels and numpy take them; pandas' nullable ones only where there are gaps.
_DTYPES = {
    "integer": lambda s: pd.to_numeric(s, errors="coerce").astype("Int64"),
    "number": lambda s: pd.to_numeric(s, errors="coerce").astype("float64"),
    "boolean": lambda s: s.astype("boolean"),
    "date": lambda s: pd.to_datetime(s, errors="coerce"),
    "string": lambda s: s.astype("str"),
}
_PLAIN = {"Int64": "int64", "boolean": "bool"}


def _typed(frame: pd.DataFrame, schema: DatasetSchema) -> pd.DataFrame:
    out = frame.copy()
    for col in schema.columns:
        if col.name in out.columns:  # a frame given directly may hold only some columns
            s = _DTYPES[col.type](out[col.name])
            plain = _PLAIN.get(str(s.dtype))
            out[col.name] = s if plain is None or col.nullable or s.isna().any() else s.astype(plain)
    return out


def _table_checks(frame: pd.DataFrame, schema: DatasetSchema, name: str) -> list[Problem]:
    """The descriptor's rules and key, among the columns the frame has."""
    problems: list[Problem] = []
    for rule in schema.rules:
        if rule.left not in frame.columns or rule.right not in frame.columns:
            continue
        left, right = frame[rule.left], frame[rule.right]
        # a rule says nothing about a row where either side is missing (an open-ended date)
        ok = _OPS[rule.op](left, right).fillna(True) | left.isna() | right.isna()
        for idx in frame.index[~ok.astype(bool)]:
            problems.append(Problem(name, f"{rule.left} = {cell_text(left[idx])} breaks the rule "
                                          f"{rule} ({rule.right} = {cell_text(right[idx])})",
                                    row=int(frame.at[idx, "_row"]), column=rule.left))
    keys = list(schema.key)
    if keys and set(keys) <= set(frame.columns):
        dup = frame.duplicated(keys, keep="first")
        # one pass: each repeat is matched to its first row by a merge
        first = frame.loc[~dup, [*keys, "_row"]].rename(columns={"_row": "first_row"})
        repeats = frame.loc[dup, [*keys, "_row"]].merge(first, on=keys, how="left")
        for r in repeats.to_dict("records"):
            key = ", ".join(f"{k}={r[k]}" for k in keys)
            problems.append(Problem(name, f"duplicate key ({key}), first given in row "
                                          f"{r['first_row']}", row=int(r["_row"]), column=keys[0]))
    return problems


def contiguity_problems(frame: pd.DataFrame, schema: DatasetSchema, name: str) -> list[Problem]:
    """Fiscal years missing inside the span of a yearly series."""
    if not schema.contiguous or frame["fiscal_year"].isna().all():
        return []
    years = set(frame["fiscal_year"].dropna().astype(int))
    gaps = sorted(set(range(min(years), max(years) + 1)) - years)
    return [Problem(name, f"missing fiscal year(s) {', '.join(map(str, gaps))} inside "
                          f"{min(years)}–{max(years)}", column="fiscal_year")] if gaps else []


def _totals_check(frame, totals, schema, name) -> list[Problem]:
    """The printed totals row against the sum of the rows, in each whole-number column."""
    problems = []
    for col in schema.columns:
        declared = totals.get(col.name)
        if col.type != "integer" or col.name == "fiscal_year" or pd.isna(declared):
            continue
        actual = int(frame[col.name].sum())
        if int(declared) != actual:
            problems.append(Problem(name, f"declared total {schema.totals_label} = {declared} but "
                                          f"the rows sum to {actual}",
                                    row=totals["_row"], column=col.name))
    return problems


#: What looks like markup in a text cell: an HTML tag or comment, an entity, an event-handler
#: attribute, a script URL or a Markdown link. Reports show such text as text (it is escaped
#: where it enters a page), so this is a warning, not an error.
_MARKUP = re.compile(r"<\s*[a-zA-Z/!?]|&#?\w+;|\bon[a-z]+\s*=|(?:java|vb)script\s*:"
                     r"|data\s*:\s*text/html|\]\s*\(", re.IGNORECASE)


def markup_warnings(frame: pd.DataFrame | None, schema: DatasetSchema, name: str) -> list[Problem]:
    """A warning for each text cell that holds markup."""
    if frame is None:
        return []
    found = []
    for col in schema.columns:
        if col.type != "string" or col.name not in frame.columns:
            continue
        for row, value in zip(frame["_row"], frame[col.name], strict=True):
            m = _MARKUP.search("" if pd.isna(value) else str(value))
            if m:
                shown = short(" ".join(m.string[m.start():].split()))
                found.append(Problem(name, f"contains markup ({shown}); reports show it as plain "
                                           "text, never as markup",
                                     row=int(row), column=col.name, severity="warning"))
    return cap_problems(found)
