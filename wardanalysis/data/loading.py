"""Public data API: ``datasets()``, ``load(name)``, ``describe(name)``, ``check(path)``.

``load`` reads the shipped transcription, enforces its descriptor, and, when ``data_dir`` is given,
lays the user's file ``<data_dir>/<name>.csv`` over it: rows with a key the shipped data has replace
the shipped rows (a correction), new keys are added (a new fiscal year). Shipped files are never
written. The result carries its provenance in ``DataFrame.attrs``.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from ..paths import shipped_data_dir
from .datafiles import data_checksum, data_files, log_access, overlay_path, sha256
from .inputs import load_input, read_input, reconciliation, yearly_from_monthly, yearly_needs
from .readers import DataValidationError, Problem, header_renames
from .schema import DatasetSchema, dataset_names, get_schema, input_names
from .validation import contiguity_problems, markup_warnings, read_table

__all__ = ["check", "data_checksum", "datasets", "describe", "load", "sha256"]


def datasets(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Every shipped dataset, one row each: ``name``, ``title`` (in the language chosen with
    :func:`wardanalysis.set_language`), the fiscal years it covers (``first_fiscal_year``,
    ``last_fiscal_year``; missing for a dataset without fiscal years) and ``rows``, as
    :func:`load` returns it with ``data_dir``. ``datasets()["name"]`` lists the names."""
    from ..text.display import current_lang

    lang = current_lang()
    rows = []
    for name in dataset_names():
        frame = load(name, data_dir)
        years = (pd.to_numeric(frame["fiscal_year"], errors="coerce").dropna()
                 if "fiscal_year" in frame.columns else pd.Series(dtype=float))
        rows.append({"name": name, "title": get_schema(name).title.get(lang, name),
                     "first_fiscal_year": int(years.min()) if len(years) else pd.NA,
                     "last_fiscal_year": int(years.max()) if len(years) else pd.NA,
                     "rows": len(frame)})
    return pd.DataFrame(rows).astype({"first_fiscal_year": "Int64", "last_fiscal_year": "Int64"})


def _shipped_path(schema: DatasetSchema) -> Path:
    return shipped_data_dir() / schema.path


def _rel(path: Path) -> str:
    """A path for messages: relative to the data tree's parent when it is shipped data."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(shipped_data_dir().parent))
    except ValueError:
        return str(path)


@cache
def _load_shipped(name: str) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    schema = get_schema(name)
    path = _shipped_path(schema)
    frame, totals, problems = read_table(path, schema, _rel(path))
    if problems:
        raise DataValidationError(problems)
    return frame, totals


def load(name: str, data_dir: str | Path | None = None) -> pd.DataFrame:
    """A validated dataset as a DataFrame.

    Parameters
    ----------
    name
        A name from :func:`datasets`.
    data_dir
        Optional directory of user files, each named ``<dataset>.csv`` in that dataset's schema,
        laid over the shipped data (see the module docstring).

    Raises
    ------
    KeyError
        Unknown dataset name.
    DataValidationError
        The shipped file or the overlay breaks the schema; every problem is listed.
    """
    schema = get_schema(name)
    if schema.input_only:  # request_log, monthly_requests: only ever the user's file
        return load_input(name, data_dir)
    log_access(name)
    shipped, totals = _load_shipped(name)
    frame = shipped.copy()
    provenance: dict[str, Any] = {
        "dataset": name,
        "source": dict(schema.source),
        "shipped_file": _rel(_shipped_path(schema)),
        "shipped_sha256": sha256(_shipped_path(schema)),
        "overlay_file": None,
        "overlay_keys": [],
    }
    if totals is not None:
        provenance["declared_totals"] = {
            k: (None if v is pd.NA else v) for k, v in totals.items() if k != "_row"
        }
    overlay = overlay_path(name, data_dir)
    if overlay is not None:
        extra, _, problems = read_table(overlay, schema, str(overlay))
        if any(p.is_error for p in problems):  # a warning (a hidden sheet not read) is check's
            raise DataValidationError(problems)
        frame = _merge(frame, extra, schema)
        problems = contiguity_problems(frame, schema, f"{overlay} laid over {provenance['shipped_file']}")
        if problems:
            raise DataValidationError(problems)
        provenance["overlay_file"] = str(overlay)
        provenance["overlay_sha256"] = sha256(overlay)
        provenance["overlay_changes"] = _changes(shipped, extra, schema)
        if totals is not None and schema.key:
            # the printed totals cover the shipped rows: compare them with those rows as
            # corrected (a new year is not part of the document's total)
            keys = list(schema.key)
            covered = frame.set_index(keys).index.isin(shipped.set_index(keys).index)
            provenance["totals_now"] = {
                c: int(frame.loc[covered, c].sum()) for c in provenance["declared_totals"]
                if c in frame.columns and pd.api.types.is_integer_dtype(frame[c])}
        key = list(schema.key)
        provenance["overlay_keys"] = [
            dict(zip(key, (v.item() if hasattr(v, "item") else v for v in row), strict=True))
            for row in extra[key].itertuples(index=False)
        ] if key else []
    frame = frame.drop(columns="_row")
    if schema.key:
        frame = frame.sort_values(list(schema.key), kind="stable")
    frame = frame.reset_index(drop=True)
    frame.attrs["provenance"] = provenance
    return frame


def overlaid_rows(df: pd.DataFrame) -> list[bool]:
    """For each row of a frame from :func:`load`, whether it came from the user's overlay file
    (by the dataset's key); all False for shipped data or a frame without provenance."""
    prov = df.attrs.get("provenance") or {}
    keys = prov.get("overlay_keys") or []
    if not keys or not prov.get("overlay_file"):
        return [False] * len(df)
    names = list(keys[0])
    if not all(n in df.columns for n in names):
        return [False] * len(df)
    wanted = {tuple(k[n] for n in names) for k in keys}
    return [tuple(v.item() if hasattr(v, "item") else v for v in row) in wanted
            for row in df[names].itertuples(index=False)]


def _plain(value: Any) -> Any:
    try:
        if value is None or pd.isna(value):
            return None
    except (TypeError, ValueError):  # a list-like cell: compare as it is
        pass
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat()
    return value


def _changes(shipped: pd.DataFrame, extra: pd.DataFrame, schema: DatasetSchema) -> list[dict]:
    """What an overlay does, row by row: ``{"key": {...}, "action": "replaces"|"adds",
    "cells": {column: [old, new]}}`` (only the cells that differ)."""
    key = list(schema.key)
    if not key:
        return [{"key": {}, "action": "adds", "cells": {}} for _ in range(len(extra))]
    old = shipped.drop(columns="_row").set_index(key)
    out = []
    for row in extra.drop(columns="_row").to_dict("records"):
        k = tuple(row[c] for c in key) if len(key) > 1 else row[key[0]]
        ident = {c: _plain(row[c]) for c in key}
        if k in old.index:
            before = old.loc[k]
            if isinstance(before, pd.DataFrame):
                before = before.iloc[0]
            cells = {c: [_plain(before[c]), _plain(row[c])] for c in old.columns
                     if c in row and _plain(before[c]) != _plain(row[c])}
            out.append({"key": ident, "action": "replaces", "cells": cells})
        else:
            out.append({"key": ident, "action": "adds", "cells": {}})
    return out


def overlay_summary(data_dir: str | Path | None) -> list[str]:
    """One line per overlay file in ``data_dir`` saying what it changes: the rows it replaces
    (each changed cell as old → new) and the rows it adds. Files that fail their checks are
    left to :func:`check`."""
    lines = []
    for name in dataset_names():
        path = overlay_path(name, data_dir)
        if path is None:
            continue
        try:
            prov = load(name, data_dir).attrs["provenance"]
        except DataValidationError:
            continue
        parts = []
        for ch in prov.get("overlay_changes", []):
            where = ", ".join(f"{k}={v}" for k, v in ch["key"].items())
            if ch["action"] == "adds":
                parts.append(f"adds {where}")
            elif ch["cells"]:
                cells = "; ".join(f"{c} {a} → {b}" for c, (a, b) in ch["cells"].items())
                parts.append(f"replaces {where} ({cells})")
            else:
                parts.append(f"repeats {where} unchanged")
        totals = prov.get("declared_totals") or {}
        now = prov.get("totals_now") or {}
        off = [f"{c} {totals[c]} ≠ {now[c]}" for c in now if totals.get(c) not in (None, now[c])]
        if off:
            parts.append("the document's printed totals no longer match the rows ("
                         + "; ".join(off) + ")")
        lines.append(f"{path.name} ({name}, sha256 {prov['overlay_sha256'][:12]}): "
                     + ("; ".join(parts) or "no rows"))
    return lines


def _merge(shipped: pd.DataFrame, extra: pd.DataFrame, schema: DatasetSchema) -> pd.DataFrame:
    if not schema.key:
        return pd.concat([shipped, extra], ignore_index=True)
    key = list(schema.key)
    replaced = shipped.set_index(key).index.isin(extra.set_index(key).index)
    return pd.concat([shipped[~replaced], extra], ignore_index=True)


class Description(dict):
    """A dataset's metadata (a dict, as :func:`describe` always returned), which shows itself
    readably: ``repr`` as text, ``_repr_html_`` in JupyterLab; :meth:`to_dict` for JSON."""

    def to_dict(self) -> dict[str, Any]:
        return dict(self)

    def _lines(self) -> list[str]:
        src = self.get("source", {})
        lines = [f"{self.get('name')}: {self['title']['en']} / {self['title']['ja']}",
                 f"  source: {src.get('id')} · {src.get('section', '')} · {src.get('as_of', '')}"
                 f" · quality {src.get('quality', 'per row')}",
                 f"  key: {', '.join(self.get('key') or []) or '—'}", "  columns:"]
        for c in self.get("columns", []):
            unit = f" [{c['unit']}]" if c.get("unit") else ""
            lines.append(f"    {c['name']} ({c['type']}){unit}: {' '.join(str(c['description']).split())}")
            headers = [h for h in (c.get("label_ja"), *(c.get("aliases") or [])) if h]
            if headers:
                lines.append(f"      headers also accepted: {', '.join(map(str, headers))}")
        for n in self.get("notes", []):
            lines.append(f"  note: {' '.join(str(n).split())}")
        return lines

    def __repr__(self) -> str:
        return "\n".join(self._lines())

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td><code>{html.escape(c['name'])}</code></td><td>{html.escape(c['type'])}</td>"
            f"<td>{html.escape(str(c.get('unit') or ''))}</td>"
            f"<td>{html.escape(' '.join(str(c['description']).split()))}</td></tr>"
            for c in self.get("columns", []))
        src = self.get("source", {})
        return (f"<div><p><strong>{html.escape(self['title']['ja'])}</strong> / "
                f"{html.escape(self['title']['en'])}</p><p>{html.escape(str(src.get('id')))} · "
                f"{html.escape(str(src.get('section', '')))} · {html.escape(str(src.get('as_of', '')))}"
                f"</p><table><tbody>{rows}</tbody></table></div>")


def describe(name: str) -> Description:
    """Metadata of dataset ``name``: title, description, key, columns (type, unit, description),
    source, notes, the data file and its SHA-256; a dict that shows itself readably."""
    schema = get_schema(name)
    log_access(name)
    meta = schema.metadata()
    # an input-only dataset (request_log, monthly_requests) has no shipped file to fingerprint
    meta["sha256"] = None if schema.input_only else sha256(_shipped_path(schema))
    return Description(meta)


def check(path: str | Path | None = None, dataset: str | None = None) -> list[Problem]:
    """Every problem in the shipped data, or in a user's file or directory of files (errors,
    and warnings for text cells that hold markup: ``Problem.severity``).

    A file is matched to its dataset by its name (``<dataset>.csv``) unless ``dataset`` is given;
    a directory is checked as an overlay directory, each file both alone and laid over the
    shipped data.
    """
    problems: list[Problem] = []
    if path is None:
        for name in dataset_names():
            schema = get_schema(name)
            p = _shipped_path(schema)
            _, _, found = read_table(p, schema, _rel(p))
            problems += found
        return problems
    path = Path(path)
    if path.is_dir():
        files = data_files(path)
        if not files:
            return [Problem(str(path), "no .csv or .xlsx files in this directory (the extension "
                                       "in upper or lower case)")]
        for f in files:
            if f.stem in input_names():
                problems += _check_input(f.stem, f)
                continue
            if f.stem not in dataset_names():
                problems.append(Problem(str(f), f"no dataset is named {f.stem!r}; "
                                        f"name the file after one of: "
                                        f"{', '.join([*dataset_names(), *input_names()])}"))
                continue
            problems += _check_overlay(f.stem, path)
            problems += _markup(f, get_schema(f.stem))
        return problems
    if not path.exists():
        return [Problem(str(path), "no such file")]
    name = dataset or path.stem
    if name in input_names():
        return _check_input(name, path)
    if name not in dataset_names():
        return [Problem(str(path), f"cannot tell which dataset this is: name it <dataset>.csv or "
                        f"pass --dataset (one of: {', '.join([*dataset_names(), *input_names()])})")]
    schema = get_schema(name)
    frame, _, found = read_table(path, schema, str(path))
    return found + markup_warnings(frame, schema, str(path))


def header_lines(path: str | Path, dataset: str | None = None) -> list[str]:
    """For ``check``: one line per user file in ``path`` (a file or a data directory) whose
    header names columns by their Japanese label or an alias, saying which header became which
    column (only header rows are read)."""
    path = Path(path)
    files = data_files(path) if path.is_dir() else [path]
    lines = []
    for f in files:
        name = dataset if (dataset and not path.is_dir()) else f.stem
        if name not in (*dataset_names(), *input_names()):
            continue
        renamed = header_renames(f, get_schema(name))
        if renamed:
            lines.append(f"{f.name}: " + ", ".join(f"{h!r} → {c}" for h, c in renamed))
    return lines


def _check_input(name: str, path: Path) -> list[Problem]:
    """A user's request_log or monthly_requests: its problems and markup warnings."""
    frame, problems = read_input(name, path)
    return problems + markup_warnings(frame, get_schema(name), str(path))


def _markup(path: Path, schema: DatasetSchema) -> list[Problem]:
    """The warnings of an overlay file: those of reading it (a hidden sheet not read) and its
    text cells that hold markup."""
    frame, _, found = read_table(path, schema, str(path))
    return [p for p in found if not p.is_error] + markup_warnings(frame, schema, str(path))


def _check_overlay(name: str, data_dir: Path) -> list[Problem]:
    try:
        load(name, data_dir)
    except DataValidationError as exc:
        return exc.problems
    return []


def reconciliation_lines(path: str | Path) -> list[str]:
    """For ``check``: one line per fiscal year of each input file in ``path`` (a file or a data
    directory) that can be compared with the published table, listing the columns that differ;
    files with errors are left to the problems ``check`` lists."""
    path = Path(path)
    files = ([path] if path.is_file() else
             [p for p in data_files(path) if p.stem in input_names() and p.is_file()])
    lines = []
    for f in files:
        name = f.stem if f.stem in input_names() else None
        if name is None:
            continue
        frame, problems = read_input(name, f)
        if frame is None or any(p.is_error for p in problems):
            continue
        agg = yearly_needs(frame) if name == "request_log" else yearly_from_monthly(frame)
        data_dir = path if path.is_dir() else None
        rec = reconciliation(agg, load("needs_reflection", data_dir))
        if rec.empty:
            lines.append(f"{f.name}: no fiscal year in common with the published table "
                         "(needs_reflection)")
            continue
        for fy, part in rec.groupby("fiscal_year"):
            off = part[part["difference"] != 0]
            text = ("agrees with the published figures" if off.empty else "; ".join(
                f"{r.column} {r.aggregate} vs published {r.published} ({r.difference:+d})"
                for r in off.itertuples()))
            lines.append(f"{f.name}: FY{fy}: {text}")
    return lines
