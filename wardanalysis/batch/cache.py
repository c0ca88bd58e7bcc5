"""When may a report be reused instead of executing its notebook again? When two things are
unchanged since it was made:

1. its **input key**: a SHA-256 over the notebook, its parameters, the package source, the
   installed distributions and Python version, the shipped data files that belong to no
   dataset, and the kernel name;
2. the **datasets the notebook read** (a kernel appends each name ``wardanalysis.load`` reads to
   ``$WARDANALYSIS_ACCESS_LOG``): each one's descriptor, transcription and overlay, or for a
   report of one fiscal year its rows up to that year (:class:`Views`). Changing one dataset
   re-executes only the notebooks that can see the change.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Iterable
from functools import cache
from importlib.metadata import distributions
from pathlib import Path
from typing import Any

import wardanalysis

from ..data import schema
from ..data.datafiles import data_files, sha256
from ..data.schema import get_schema
from ..params import FISCAL_YEAR_DATASETS, years_in_data
from ..paths import PACKAGE_DIR, shipped_data_dir
from .outputs import write_atomic

#: Bump when the layout of reports or the meaning of a key changes: every report is redone.
FORMAT_VERSION = 3

_SKIP_DIRS = {"__pycache__", "_shipped_data", ".ipynb_checkpoints"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


def _sha(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def _tree_fingerprint(root: Path, skip: Iterable[Path] = ()) -> str:
    skipped = {p.resolve() for p in skip}
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS
                             and (Path(dirpath) / d).resolve() not in skipped)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.suffix in _SKIP_SUFFIXES or path.resolve() in skipped:
                continue
            rel = path.relative_to(root).as_posix()
            h.update(_sha(rel, path.read_bytes()).encode())
    return h.hexdigest()


@cache
def package_fingerprint() -> str:
    """Every source and data file of the ``wardanalysis`` package."""
    return _tree_fingerprint(PACKAGE_DIR)


@cache
def dependency_fingerprint() -> str:
    """The Python version and every installed distribution with its version."""
    return _sha(sys.version, *sorted({f"{d.name}=={d.version}" for d in distributions()}))


def shared_data_fingerprint() -> str:
    """Shipped data files that belong to no single dataset (sources, snapshots); ``meta/`` and
    ``raw/`` count per dataset, and ``SHA256SUMS`` (their checksums) would redo every report."""
    root = shipped_data_dir()
    return _tree_fingerprint(root, skip=[root / "meta", root / "raw", root / "SHA256SUMS"])


def _file_digest(path: Path) -> str:
    try:
        return sha256(path)
    except FileNotFoundError:
        return "absent"


def dataset_files(name: str, data_dir: str | Path | None) -> list[Path]:
    """The files dataset ``name`` is read from: descriptor, transcription (none for a dataset
    read from a data directory only: "absent"), overlay."""
    root, schema = shipped_data_dir(), get_schema(name)
    files = [root / "meta" / ("inputs" if schema.input_only else "") / f"{name}.yml",
             schema.shipped_file or root / "raw" / f"{name}.csv"]  # none: "absent"
    if data_dir:  # an overlay counts only if it is there: no overlay is no overlay, wherever
        files += [p for p in data_files(data_dir) if p.stem == name and p.exists()]
    return files


def dataset_fingerprint(name: str, data_dir: str | Path | None) -> str:
    return _sha(*(f"{('meta', 'shipped', 'overlay')[min(i, 2)]}:{_file_digest(path)}"
                  for i, path in enumerate(dataset_files(name, data_dir))))


def dataset_names() -> list[str]:
    """Every dataset a report may read: the shipped ones and the user's inputs (``meta/inputs``)."""
    return sorted([*schema.dataset_names(), *schema.input_names()])


def dataset_fingerprints(data_dir: str | Path | None, names: Iterable[str] | None = None
                         ) -> dict[str, str]:
    return {n: dataset_fingerprint(n, data_dir) for n in (names or dataset_names())}


class Views:
    """The fingerprints of what a report can see: every dataset's files for a report of all
    years; for a report of one fiscal year, each yearly dataset's rows up to that year (after
    the overlay), so that a correction or a new year re-executes only the reports that see it."""

    def __init__(self, data_dir: str | Path | None, cache_file: Path | None = None) -> None:
        self.data_dir = data_dir
        self.files = dataset_fingerprints(data_dir)
        self._frames: dict[str, Any] = {}
        # kept in ``cache_file`` under the files' fingerprint: a run with nothing to do reads
        # them instead of loading every dataset
        self._cache_file = cache_file
        self._files_key = _sha(package_fingerprint(), *(f"{k}:{v}" for k, v in
                                                        sorted(self.files.items())))
        stored = _stored(cache_file, self._files_key) if cache_file is not None else None
        self._years: dict[int, dict[str, str]] = {int(y): v for y, v in (stored or {}).items()}
        self._dirty = False

    def save(self) -> None:
        """Keep the views computed in this run for the next one."""
        if self._cache_file is not None and self._dirty:
            _store(self._cache_file, self._files_key, {str(y): v for y, v in self._years.items()})

    def _frame(self, name: str) -> Any:
        if name not in self._frames:
            try:
                self._frames[name] = wardanalysis.load(name, self.data_dir)
            except Exception:
                self._frames[name] = None
        return self._frames[name]

    def for_job(self, fiscal_year: int | None) -> dict[str, str]:
        if fiscal_year is None:
            return self.files
        if fiscal_year in self._years:
            return self._years[fiscal_year]
        out = {}
        for name, files in self.files.items():
            frame = self._frame(name)
            if frame is None or "fiscal_year" not in frame.columns:
                out[name] = files
                continue
            seen = frame[frame["fiscal_year"] <= fiscal_year]
            meta = _file_digest(dataset_files(name, None)[0])
            out[name] = _sha("rows-up-to", str(fiscal_year), meta, seen.to_csv(index=False))
        self._years[fiscal_year] = out
        self._dirty = True
        return out


def input_key(*, notebook_sha: str, parameters: dict[str, Any], kernel: str,
              shared_data: str) -> str:
    """The key of everything but the datasets; not the data directory's path either (the same
    files moved elsewhere change nothing)."""
    shown = {k: v for k, v in parameters.items() if k != "data_dir"}
    return _sha(
        f"format:{FORMAT_VERSION}",
        f"notebook:{notebook_sha}",
        "parameters:" + json.dumps(shown, sort_keys=True, ensure_ascii=False, default=str),
        f"package:{package_fingerprint()}",
        f"dependencies:{dependency_fingerprint()}",
        f"shared-data:{shared_data}",
        f"kernel:{kernel}",
    )


def reusable(report: dict[str, Any] | None, key: str, current: dict[str, str],
             data_dir: str | Path | None, out: Path) -> bool:
    """Whether the stored ``report`` was made from the inputs a run would use now."""
    if not report or report.get("status") != "ok" or report.get("key") != key:
        return False
    for name, fingerprint in (report.get("datasets") or {}).items():
        now = current.get(name) or dataset_fingerprint(name, data_dir)
        if now != fingerprint:
            return False
    return all((out / rel).is_file() for rel in (report.get("files") or {}).values())


def fiscal_years_in_data(data_dir: str | Path | None, cache_file: Path | None = None) -> list[int]:
    """:func:`wardanalysis.params.years_in_data`, kept in ``cache_file`` under a key of the
    datasets' files and the package source (loading validates the data: it takes seconds)."""
    key = _sha(package_fingerprint(), str(data_dir or ""),
               *(f"{n}:{dataset_fingerprint(n, data_dir)}" for n in FISCAL_YEAR_DATASETS))
    stored = _stored(cache_file, key) if cache_file is not None else None
    if stored is not None:
        return [int(y) for y in stored]
    result = years_in_data(data_dir)
    if cache_file is not None:
        _store(cache_file, key, result)
    return result


def _stored(file: Path, key: str) -> Any:
    """What ``file`` keeps under ``key``: None if it is absent, unreadable or for another key."""
    try:
        stored = json.loads(Path(file).read_text(encoding="utf-8"))
        return stored["value"] if stored.get("key") == key else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _store(file: Path, key: str, value: Any) -> None:
    with contextlib.suppress(OSError):  # a cache: the next run computes it again
        write_atomic(Path(file), json.dumps({"key": key, "value": value}))
