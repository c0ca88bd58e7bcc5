"""Public data API: ``datasets()``, ``load(name)``, ``describe(name)``, ``check(path)``.

``load`` reads the shipped transcription, enforces its descriptor, and, when ``data_dir`` is given,
lays the user's file ``<data_dir>/<name>.csv`` over it: rows with a key the shipped data has replace
the shipped rows (a correction), new keys are added (a new fiscal year). Shipped files are never
written. The result carries its provenance in ``DataFrame.attrs``.
"""

from __future__ import annotations

import copy
import html
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from ..paths import shipped_data_dir
from ..text.display import current_lang
from . import inputs
from .datafiles import DataDir, data_files, log_access, overlay_path, sha256
from .readers import DataValidationError, Problem
from .schema import dataset_names, get_schema, input_names
from .validation import contiguity_problems, markup_warnings, read_table

__all__ = ["check", "datasets", "describe", "load", "overlaid_rows", "overlay_summary",
           "reconcile", "user_files"]


def datasets(data_dir: str | Path | None = None) -> pd.DataFrame:
    """Every shipped dataset as :func:`load` returns it with ``data_dir``: ``name``, ``title`` (in
    the current language), ``first_fiscal_year``, ``last_fiscal_year`` and ``rows``."""
    rows = []
    for name in dataset_names():
        frame = load(name, data_dir)
        years = frame.get("fiscal_year", pd.Series(dtype=float)).dropna()
        rows.append({"name": name, "title": get_schema(name).title.get(current_lang(), name),
                     "first_fiscal_year": years.min(), "last_fiscal_year": years.max(),
                     "rows": len(frame)})
    return pd.DataFrame(rows).astype({"first_fiscal_year": "Int64", "last_fiscal_year": "Int64"})


def _rel(path: Path) -> str:
    """A path for messages: relative to the data tree's parent when it is shipped data."""
    try:
        return str(path.resolve().relative_to(shipped_data_dir().parent))
    except ValueError:
        return str(path)


def _read_shipped(name: str):
    path = get_schema(name).shipped_file
    return read_table(path, get_schema(name), _rel(path))


@cache
def _load_shipped(name: str) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    frame, totals, problems = _read_shipped(name)
    if problems:
        raise DataValidationError(problems)
    return frame, totals


def _plain(value: Any) -> Any:
    """A cell as plain Python, for provenance records: None for missing, dates as ISO text."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    value = value.item() if hasattr(value, "item") else value
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else value


def _finish(frame: pd.DataFrame, key: list[str], provenance: dict[str, Any]) -> pd.DataFrame:
    """The frame as :func:`load` returns it: sorted by its key, with its provenance."""
    frame = frame.drop(columns="_row")
    if key:
        frame = frame.sort_values(key, kind="stable")
    frame = frame.reset_index(drop=True)
    frame.attrs["provenance"] = provenance
    return frame


def _load_input(name: str, data_dir: DataDir) -> pd.DataFrame:
    """The user's file of an input-only dataset, validated."""
    path = overlay_path(name, data_dir)
    if path is None:
        raise inputs.InputMissingError(f"{name}: the package ships no such data; put {name}.csv or "
                                       f"{name}.xlsx in the data directory (data_dir={data_dir!r})")
    frame, problems = inputs.read_input(name, path)
    if any(p.is_error for p in problems):
        raise DataValidationError([p for p in problems if p.is_error])
    schema = get_schema(name)
    return _finish(frame, list(schema.key), {
        "dataset": name, "source": dict(schema.source), "shipped_file": None,
        "overlay_file": str(path), "overlay_sha256": sha256(path), "overlay_keys": [],
        "simulated": False})


def load(name: str, data_dir: str | Path | None = None) -> pd.DataFrame:
    """Dataset ``name`` validated, with the user's files in ``data_dir`` laid over it (see the
    module docstring).

    Raises
    ------
    KeyError
        Unknown dataset name.
    DataValidationError
        The shipped file or the overlay breaks the schema; every problem is listed.
    """
    schema = get_schema(name)
    log_access(name)  # the batch re-runs a report when a file it read appears or changes
    if schema.input_only:
        return _load_input(name, data_dir)
    shipped, totals = _load_shipped(name)
    frame, key = shipped, list(schema.key)
    provenance: dict[str, Any] = {
        "dataset": name, "source": dict(schema.source),
        "shipped_file": _rel(schema.shipped_file), "shipped_sha256": sha256(schema.shipped_file),
        "overlay_file": None, "overlay_keys": []}
    if totals is not None:
        provenance["declared_totals"] = {k: _plain(v) for k, v in totals.items() if k != "_row"}
    overlay = overlay_path(name, data_dir)
    if overlay is not None:
        extra, _, problems = read_table(overlay, schema, str(overlay))
        if any(p.is_error for p in problems):  # a warning (a hidden sheet not read) is check's
            raise DataValidationError(problems)
        kept = shipped
        if key:  # a row with a key the shipped data has replaces the shipped row
            kept = shipped[~shipped.set_index(key).index.isin(extra.set_index(key).index)]
        frame = pd.concat([kept, extra], ignore_index=True)
        problems = contiguity_problems(frame, schema,
                                       f"{overlay} laid over {provenance['shipped_file']}")
        if problems:
            raise DataValidationError(problems)
        # what the overlay does, row by row: the cells (old, new) of a row it replaces, or adds
        old = {tuple(r[c] for c in key): r for r in shipped.drop(columns="_row").to_dict("records")}
        records = extra.drop(columns="_row").to_dict("records")
        changes = []
        for row in records:
            before = old.get(tuple(row[c] for c in key)) if key else None
            cells = {} if before is None else {
                c: [_plain(before[c]), _plain(v)] for c, v in row.items()
                if _plain(before[c]) != _plain(v)}
            changes.append({"key": {c: _plain(row[c]) for c in key},
                            "action": "adds" if before is None else "replaces", "cells": cells})
        provenance.update(overlay_file=str(overlay), overlay_sha256=sha256(overlay),
                          overlay_changes=changes,
                          overlay_keys=[{c: row[c] for c in key} for row in records] if key else [])
        if totals is not None and key:
            # the printed totals cover the shipped rows: compare them with those rows as
            # corrected (a new year is not part of the document's total)
            covered = frame.set_index(key).index.isin(shipped.set_index(key).index)
            # each printed total the corrected rows no longer sum to: [printed, now]
            provenance["totals_off"] = {}
            for c, printed in provenance["declared_totals"].items():
                if c in frame.columns and pd.api.types.is_integer_dtype(frame[c]):
                    now = int(frame.loc[covered, c].sum())
                    if printed not in (None, now):
                        provenance["totals_off"][c] = [printed, now]
    return _finish(frame, key, provenance)


def overlaid_rows(df: pd.DataFrame) -> list[bool]:
    """For each row of a frame from :func:`load`, whether it came from the user's overlay file
    (by the dataset's key); all False for shipped data or a frame without provenance."""
    prov = df.attrs.get("provenance") or {}
    keys = prov.get("overlay_keys") or []
    names = list(keys[0]) if keys and prov.get("overlay_file") else []
    if not names or not all(n in df.columns for n in names):
        return [False] * len(df)
    wanted = {tuple(k[n] for n in names) for k in keys}
    return [tuple(row) in wanted for row in df[names].to_dict("split")["data"]]


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
        for ch in prov["overlay_changes"]:
            where = ", ".join(f"{k}={v}" for k, v in ch["key"].items())
            cells = "; ".join(f"{c} {a} → {b}" for c, (a, b) in ch["cells"].items())
            parts.append(f"adds {where}" if ch["action"] == "adds" else
                         f"replaces {where} ({cells})" if cells else f"repeats {where} unchanged")
        off = [f"{c} {a} ≠ {b}" for c, (a, b) in (prov.get("totals_off") or {}).items()]
        if off:
            parts.append("the document's printed totals no longer match the rows "
                         f"({'; '.join(off)})")
        lines.append(f"{path.name} ({name}, sha256 {prov['overlay_sha256'][:12]}): "
                     + ("; ".join(parts) or "no rows"))
    return lines


class Description(dict):
    """A dataset's metadata (a dict), which shows itself readably as text and in JupyterLab."""

    def source_line(self) -> str:
        src = self["source"]
        return (f"{src.get('id')} · {src.get('section', '')} · {src.get('as_of', '')} · quality "
                f"{src.get('quality', 'per row')}")

    def __repr__(self) -> str:
        lines = [f"{self.get('name')}: {self['title']['en']} / {self['title']['ja']}",
                 f"  source: {self.source_line()}",
                 f"  key: {', '.join(self.get('key') or []) or '—'}", "  columns:"]
        for c in self.get("columns", []):
            unit = f" [{c['unit']}]" if c.get("unit") else ""
            text = " ".join(str(c["description"]).split())
            lines.append(f"    {c['name']} ({c['type']}){unit}: {text}")
            headers = [h for h in (c.get("label_ja"), *(c.get("aliases") or [])) if h]
            if headers:
                lines.append(f"      headers also accepted: {', '.join(map(str, headers))}")
        lines += [f"  note: {' '.join(str(n).split())}" for n in self.get("notes", [])]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(repr(self))}</pre>"


def describe(name: str) -> Description:
    """Metadata of dataset ``name``: title, description, key, columns (type, unit, description),
    source, notes, the data file and its SHA-256 (None for an input-only dataset)."""
    schema = get_schema(name)
    log_access(name)
    meta = copy.deepcopy(schema.raw)
    meta["sha256"] = None if schema.input_only else sha256(schema.shipped_file)
    return Description(meta)


def user_files(path: str | Path, dataset: str | None = None) -> list[tuple[Path, str]]:
    """The files of ``path`` (a file, or a data directory) with the dataset each holds: a file
    given alone is ``dataset`` when given, else each is named after its dataset."""
    path = Path(path)
    if path.is_dir():
        return [(f, f.stem) for f in data_files(path)]
    return [(path, dataset or path.stem)] if path.exists() else []


def check(path: str | Path | None = None, dataset: str | None = None) -> list[Problem]:
    """Every problem (errors, and warnings such as markup in a text cell) in the shipped data,
    or in a user's file (named ``<dataset>.csv`` unless ``dataset`` is given) or directory of
    files, each checked alone and laid over the shipped data."""
    if path is None:
        return [p for name in dataset_names() for p in _read_shipped(name)[2]]
    problems: list[Problem] = []
    path = Path(path)
    files = user_files(path, dataset)
    if not files:
        return [Problem(str(path), "no .csv or .xlsx files in this directory (the extension in "
                                   "upper or lower case)" if path.is_dir() else "no such file")]
    overlay = path.is_dir()  # each file of a directory is laid over the shipped data
    for f, name in files:
        if name in input_names():
            frame, found = inputs.read_input(name, f)
        elif name not in dataset_names():
            names = ", ".join([*dataset_names(), *input_names()])
            problems.append(Problem(str(f), (
                f"no dataset is named {f.stem!r}; name the file after one of: {names}"
                if overlay else "cannot tell which dataset this is: name it <dataset>.csv or "
                                f"pass --dataset (one of: {names})")))
            continue
        else:
            frame, _, found = read_table(f, get_schema(name), str(f))
            if overlay:  # its errors are those of laying it over the shipped data
                try:
                    load(name, path)
                    found = [p for p in found if not p.is_error]
                except DataValidationError as exc:
                    found = exc.problems + [p for p in found if not p.is_error]
        problems += found + markup_warnings(frame, get_schema(name), str(f))
    return problems


def reconcile(name: str, frame: pd.DataFrame, data_dir: DataDir = None) -> pd.DataFrame:
    """A ``request_log`` or ``monthly_requests`` frame aggregated to fiscal years beside the
    published ``needs_reflection`` (with ``data_dir``'s overlay): :func:`.inputs.reconciliation`."""
    agg = inputs.yearly_needs(frame) if name == "request_log" else inputs.yearly_from_monthly(frame)
    return inputs.reconciliation(agg, load("needs_reflection", data_dir))
