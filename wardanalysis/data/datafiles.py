"""A dataset's files and their fingerprints: where a user's overlay file is, one checksum over the
data a report was made from. No pandas: the batch's parent process uses these.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeAlias

from ..errors import WardanalysisError
from ..paths import REPO_DIR, shipped_data_dir
from .readers import DataValidationError, Problem, not_a_regular_file

__all__ = ["DATA_SUFFIXES", "DataDir", "DataDirError", "NotRegularFileError", "data_checksum",
           "data_dirs", "data_files", "irregular_files", "overlay_path", "resolve_data_dir",
           "sha256"]

#: A user's data: one folder, or several (a list), whose files are laid over the shipped data
#: together; a dataset's file may be in any one of them, never in two.
DataDir: TypeAlias = "str | Path | Sequence[str | Path] | None"


def data_dirs(data_dir: DataDir) -> list[str | Path]:
    """The folders of ``data_dir``, as given: none, one, or each of a list."""
    if data_dir is None or isinstance(data_dir, (str, Path)):
        return [] if data_dir is None or str(data_dir) == "" else [data_dir]
    return list(data_dir)


class NotRegularFileError(WardanalysisError, OSError):
    """A data file that is a FIFO, device, directory or a link to one: never opened."""


def _open_regular(path: Path):
    """``path`` opened if it is a regular file: a FIFO would block forever, ``/dev/zero`` not end."""
    if not Path(path).is_file():
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


def data_files(data_dir: DataDir) -> list[Path]:
    """The ``*.csv`` and ``*.xlsx`` files (extension in any case, dot files aside) of a user's
    data folder(s): ``check``, ``run`` and the batch's fingerprints all see the same ones."""
    return [p for d in data_dirs(data_dir) if Path(d).is_dir()
            for p in sorted(Path(d).iterdir())
            if p.suffix.lower() in DATA_SUFFIXES and not p.name.startswith(".")]


def irregular_files(data_dir: DataDir) -> list[Any]:
    """The problems of the data files of ``data_dir`` that are not regular files of the folder."""
    return [p for p in map(not_a_regular_file, data_files(data_dir)) if p is not None]


def resolve_data_dir(data_dir: str | Path | None) -> Path | None:
    """A user's data directory as a path: absolute as given; relative, against the directory the
    command runs in, or else the project root (a notebook in JupyterLab runs in notebooks/, while
    the README's examples name folders beside it)."""
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


def overlay_path(name: str, data_dir: DataDir) -> Path | None:
    """The user's overlay file for dataset ``name`` in ``data_dir`` (one folder or several), if
    there is one; the same dataset in two files is an error naming both."""
    folders = [resolve_data_dir(d) for d in data_dirs(data_dir)]
    found = [p for p in data_files(folders) if p.stem == name]
    if len(found) > 1:
        if len({p.parent for p in found}) == 1:
            problem = Problem(str(found[0].parent), "holds both "
                              f"{' and '.join(p.name for p in found)}: keep one")
        else:
            problem = Problem(str(found[0]), f"the same dataset is also in "
                              f"{', '.join(str(p) for p in found[1:])}: keep one of the files")
        raise DataValidationError([problem])
    if found and not found[0].is_file():  # a directory, FIFO, device or broken link
        raise DataValidationError([not_a_regular_file(found[0])])
    return found[0] if found else None


def data_checksum(data_dir: DataDir = None) -> str:
    """One SHA-256 over the shipped data and descriptors and any overlay files."""
    h = hashlib.sha256()
    root = shipped_data_dir()
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in {".csv", ".yml"})
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
