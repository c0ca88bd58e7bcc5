"""Public data API: ``datasets()``, ``load(name)``, ``describe(name)``, ``check(path)``.

``load`` reads the shipped transcription, enforces its descriptor, and, when ``data_dir`` is given,
lays the user's file ``<data_dir>/<name>.csv`` over it: rows with a key the shipped data has replace
the shipped rows (a correction), new keys are added (a new fiscal year). Shipped files are never
written. The result carries its provenance in ``DataFrame.attrs``.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from .paths import shipped_data_dir
from .schema import DatasetSchema, dataset_names, get_schema
from .validation import (
    DataValidationError,
    Problem,
    contiguity_problems,
    markup_warnings,
    not_a_regular_file,
    read_table,
)

__all__ = ["check", "data_checksum", "datasets", "describe", "load", "sha256"]


def datasets() -> list[str]:
    """Names of every shipped dataset."""
    return list(dataset_names())


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


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


def overlay_path(name: str, data_dir: str | Path | None) -> Path | None:
    """The user's overlay file for dataset ``name`` in ``data_dir``, if there is one."""
    if data_dir is None or str(data_dir) == "":
        return None
    data_dir = Path(data_dir).expanduser()
    if not data_dir.is_dir():
        raise FileNotFoundError(f"data_dir {str(data_dir)!r} is not a directory")
    path = data_dir / f"{name}.csv"
    if path.is_file():
        return path
    if os.path.lexists(path):  # a directory, FIFO, device or broken link named like the file
        raise DataValidationError([not_a_regular_file(path)])
    return None


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
    _log_access(name)
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
        if problems:
            raise DataValidationError(problems)
        frame = _merge(frame, extra, schema)
        problems = contiguity_problems(frame, schema, f"{overlay} laid over {provenance['shipped_file']}")
        if problems:
            raise DataValidationError(problems)
        provenance["overlay_file"] = str(overlay)
        provenance["overlay_sha256"] = sha256(overlay)
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


def _log_access(name: str) -> None:
    """Append the dataset name to $WARDANALYSIS_ACCESS_LOG, so that the batch learns which
    datasets a notebook read and re-executes it only when one of those changes."""
    log = os.environ.get("WARDANALYSIS_ACCESS_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(name + "\n")


def _merge(shipped: pd.DataFrame, extra: pd.DataFrame, schema: DatasetSchema) -> pd.DataFrame:
    if not schema.key:
        return pd.concat([shipped, extra], ignore_index=True)
    key = list(schema.key)
    replaced = shipped.set_index(key).index.isin(extra.set_index(key).index)
    return pd.concat([shipped[~replaced], extra], ignore_index=True)


def describe(name: str) -> dict[str, Any]:
    """Metadata of dataset ``name``: title, description, key, columns (type, unit, description),
    source, notes, the data file and its SHA-256."""
    schema = get_schema(name)
    _log_access(name)
    meta = schema.metadata()
    meta["sha256"] = sha256(_shipped_path(schema))
    return meta


def data_checksum(data_dir: str | Path | None = None) -> str:
    """One SHA-256 over every shipped data and descriptor file and any overlay files: a fingerprint
    of the data a report was made from."""
    h = hashlib.sha256()
    root = shipped_data_dir()
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in {".csv", ".yml"})
    if data_dir:
        files += sorted(Path(data_dir).glob("*.csv"))
    for p in files:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def check(path: str | Path | None = None, dataset: str | None = None) -> list[Problem]:
    """Every problem in the shipped data, or in a user's file or directory of files (errors,
    and warnings for text cells that hold markup: ``Problem.severity``).

    A file is matched to its dataset by its name (``<dataset>.csv``) unless ``dataset`` is given;
    a directory is checked as an overlay directory, each file both alone and laid over the
    shipped data.
    """
    problems: list[Problem] = []
    if path is None:
        for name in datasets():
            schema = get_schema(name)
            p = _shipped_path(schema)
            _, _, found = read_table(p, schema, _rel(p))
            problems += found
        return problems
    path = Path(path)
    if path.is_dir():
        files = sorted(path.glob("*.csv"))
        if not files:
            return [Problem(str(path), "no .csv files in this directory")]
        for f in files:
            if f.stem not in dataset_names():
                problems.append(Problem(str(f), f"no dataset is named {f.stem!r}; "
                                        f"name the file after one of: {', '.join(datasets())}"))
                continue
            problems += _check_overlay(f.stem, path)
            problems += _markup(f, get_schema(f.stem))
        return problems
    if not path.exists():
        return [Problem(str(path), "no such file")]
    name = dataset or path.stem
    if name not in dataset_names():
        return [Problem(str(path), f"cannot tell which dataset this is: name it <dataset>.csv or "
                        f"pass --dataset (one of: {', '.join(datasets())})")]
    schema = get_schema(name)
    frame, _, found = read_table(path, schema, str(path))
    return found + markup_warnings(frame, schema, str(path))


def _markup(path: Path, schema: DatasetSchema) -> list[Problem]:
    frame, _, _ = read_table(path, schema, str(path))
    return markup_warnings(frame, schema, str(path))


def _check_overlay(name: str, data_dir: Path) -> list[Problem]:
    try:
        load(name, data_dir)
    except DataValidationError as exc:
        return exc.problems
    return []
