"""A dataset's files and their fingerprints: where a user's overlay file is, one checksum over the
data a report was made from. No pandas: the batch's parent process uses these.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from ..errors import WardanalysisError
from ..paths import REPO_DIR, shipped_data_dir
from .readers import DataValidationError, Problem, not_a_regular_file

__all__ = ["DATA_SUFFIXES", "DataDirError", "NotRegularFileError", "data_checksum", "data_files",
           "irregular_files", "overlay_path", "resolve_data_dir", "sha256"]


class NotRegularFileError(WardanalysisError, OSError):
    """A data file that is a FIFO, device, directory or a link to one: never opened."""


def _open_regular(path: Path):
    """``path`` opened for reading, if it is a regular file: a FIFO would block forever and a
    link to ``/dev/zero`` never end, so anything else is refused, naming it."""
    path = Path(path)
    if not path.is_file():
        if not os.path.lexists(path):
            raise FileNotFoundError(path)
        raise NotRegularFileError(f"{path}: not a regular file (a FIFO, device, directory or a "
                                  "link to one); move it out of the data folder")
    return open(path, "rb")


def sha256(path: Path) -> str:
    """The file's SHA-256, read in blocks; only a regular file is opened."""
    with _open_regular(path) as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


#: The extensions of a user's data files, matched in any case (``.CSV`` as ``.csv``).
DATA_SUFFIXES = (".csv", ".xlsx")


def data_files(data_dir: str | Path) -> list[Path]:
    """The files of a user's data folder that the package reads or fingerprints: every
    ``*.csv`` and ``*.xlsx``, the extension in any case, hidden (dot) files aside. ``check``,
    ``run`` and the batch's fingerprints all find files here, so they see the same ones."""
    if not Path(data_dir).is_dir():
        return []
    return sorted(p for p in Path(data_dir).iterdir()
                  if p.suffix.lower() in DATA_SUFFIXES and not p.name.startswith("."))


def irregular_files(data_dir: str | Path) -> list[Any]:
    """The problems of the data files of ``data_dir`` that are not regular files of the folder
    (a FIFO, device, directory, broken link, or a link leaving the folder); nothing is opened."""
    return [p for p in map(not_a_regular_file, data_files(data_dir)) if p is not None]


def resolve_data_dir(data_dir: str | Path | None) -> Path | None:
    """A user's data directory as a path: absolute as given; relative, against the directory the
    command runs in, or else the project root (a notebook in JupyterLab runs in notebooks/, while
    the README's examples name folders beside it). A directory found nowhere is an error that
    says where it was looked for."""
    if data_dir is None or str(data_dir) == "":
        return None
    given = Path(data_dir).expanduser()
    candidates = [given] if given.is_absolute() else [Path.cwd() / given, REPO_DIR / given]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    where = " or ".join(str(c) for c in dict.fromkeys(candidates))
    raise DataDirError(f"data_dir {str(data_dir)!r} is not a directory (looked for {where})")


class DataDirError(WardanalysisError, FileNotFoundError):
    """A ``data_dir`` that names no directory; the message says where it was looked for."""


def overlay_path(name: str, data_dir: str | Path | None) -> Path | None:
    """The user's overlay file for dataset ``name`` in ``data_dir``, if there is one."""
    data_dir = resolve_data_dir(data_dir)
    if data_dir is None:
        return None
    found = [p for p in data_files(data_dir) if p.stem == name]
    if len(found) > 1:
        raise DataValidationError([Problem(str(data_dir), "holds both "
                                           f"{' and '.join(p.name for p in found)}: keep one")])
    for path in found:
        if not path.is_file():  # a directory, FIFO, device or broken link named like the file
            raise DataValidationError([not_a_regular_file(path)])
        return path
    return None


def data_checksum(data_dir: str | Path | None = None) -> str:
    """One SHA-256 over every shipped data and descriptor file and any overlay files: a fingerprint
    of the data a report was made from."""
    h = hashlib.sha256()
    root = shipped_data_dir()
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in {".csv", ".yml"})
    if data_dir:
        files += data_files(data_dir)
    for p in files:
        h.update(p.name.encode())
        with _open_regular(p) as fh:
            for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def log_access(name: str) -> None:
    """Append the dataset name to $WARDANALYSIS_ACCESS_LOG, so that the batch learns which
    datasets a notebook read and re-executes it only when one of those changes."""
    log = os.environ.get("WARDANALYSIS_ACCESS_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(name + "\n")
