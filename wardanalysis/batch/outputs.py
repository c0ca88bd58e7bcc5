"""The reports folder, written so that a run killed at any moment leaves a readable state::

    <out>/manifest.json, results.csv, results.xlsx, index.html, index.en.html, runs*.html
    <out>/<notebook>/<lang>/, <out>/<notebook>/<fiscal year>/<lang>/   a report's stable address
        index.html, full.html, notebook.ipynb, job.json   its latest good version
        failed/error.html, notebook.ipynb, job.json       its latest execution, if that failed

An execution is staged in ``<out>/.staging/`` and moved into place file by file with
``os.replace``, its record ``job.json`` removed first and written last (a half-replaced folder is
never taken for a finished report); top-level files are replaced whole; files are deleted only
after a manifest that no longer names them is written; a lock keeps two runs apart.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from ..errors import OutputDirError, WardanalysisError
from ..site.front import front_page_html
from ..site.pages import sharing_one_font
from ..site.results_files import results_csv, results_xlsx
from ..site.runlog import RUN_LOG_FILES, run_log_html

MANIFEST = "manifest.json"
RESULTS = "results.csv"
RESULTS_XLSX = "results.xlsx"  # the same, for reading in Excel
INDEX = "index.html"  # the front page for reviewers, in Japanese
INDEX_EN = "index.en.html"  # the same in English
STAGING = ".staging"
RECORD = "job.json"  # an execution's record, in its folder
FAILED = "failed"  # the sub-folder of a report holding its latest failed execution
#: All the batch ever writes in an execution's folder (``.source``: the earlier layout's mark).
_REPORT_FILES = ("index.html", "full.html", "error.html", "notebook.ipynb", "kernel.log",
                 "traceback.txt", RECORD, ".source")
LOCK = ".lock"
#: A run directory of the earlier layout (``<notebook>/<variant>/<run-id>/``), removed on sight.
RUN_ID_RE = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{6}$")


class OutputLockedError(WardanalysisError, RuntimeError):
    """Another run holds the output folder's lock."""


def write_atomic(path: Path, text: str | bytes) -> None:
    """Replace ``path`` with ``text`` so that readers see the old file or the new, never a mix."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def place(staged: Path, final: Path) -> None:
    """Move the files of a fully written folder into ``final``, one ``os.replace`` each, the
    record (``job.json``) last; the staged folder is removed."""
    final.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        (final / RECORD).unlink()
    files = sorted((f for f in staged.iterdir() if f.is_file()), key=lambda f: f.name == RECORD)
    for f in files:
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(f, final / f.name)
    for old in set(_REPORT_FILES) - {f.name for f in files}:  # e.g. logs of an earlier failure
        with contextlib.suppress(FileNotFoundError):
            (final / old).unlink()
    staged.rmdir()
    _fsync_dir(final)


#: The files a run writes at the top of the folder, and everything else of ours there.
_TOP = {MANIFEST, RESULTS, RESULTS_XLSX, INDEX, INDEX_EN, *RUN_LOG_FILES.values()}
_OURS = {*_TOP, LOCK, STAGING, ".cache", ".logs", "assets"}


def is_ours(out: Path) -> bool:
    """True when ``out`` is missing, empty, or a reports folder this package made (it has our
    manifest, or only the files a first run writes before its first commit)."""
    if not out.exists():
        return True
    if not out.is_dir():
        return False
    return {p.name for p in out.iterdir()} <= _OURS - _TOP or "format" in read_manifest(out)


def check_out_dir(out: Path) -> None:
    """Refuse an output folder the batch did not make: it would overwrite or delete a user's
    files. Raises :class:`OutputDirError` naming the folder."""
    if out.exists() and not out.is_dir():
        raise OutputDirError(f"output folder {out} is a file; give a folder (empty, or a reports "
                             "folder made by wardanalysis)")
    if not is_ours(out):
        hidden = _OURS - _TOP
        others = sorted(p.name for p in out.iterdir() if p.name not in hidden)[:3]
        raise OutputDirError(
            f"output folder {out} holds files wardanalysis did not make ({', '.join(others)}"
            f"{', …' if len(others) == 3 else ''}) and no reports manifest: choose an empty "
            "folder or a reports folder made by wardanalysis")
    probe = out if out.exists() else next((p for p in out.parents if p.exists()), out)
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputDirError(f"output folder {out} cannot be written (no permission on {probe})")


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold ``<out>/.lock`` for the duration of a run."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / LOCK, "a+", encoding="utf-8") as fh:  # held for the whole block
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read(200).strip()
            raise OutputLockedError(f"another `wardanalysis run` is writing to {out}"
                                    + (f" ({holder})" if holder else "")
                                    + ": wait for it to finish, or stop it") from None
        os.ftruncate(fh.fileno(), 0)  # say who holds it, for the next one
        started = dt.datetime.now().astimezone().replace(microsecond=0).isoformat()
        fh.write(f"process {os.getpid()} on {socket.gethostname()}, started {started}\n")
        fh.flush()
        yield


def read_manifest(out: Path) -> dict[str, Any]:
    """The manifest, or an empty one if there is none (or it cannot be read)."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        if isinstance(data, dict) and isinstance(data.get("reports"), list):
            return data
    except (OSError, ValueError):
        pass
    return {"reports": []}


def entries_by_id(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in manifest.get("reports", []) if isinstance(e, dict) and "id" in e}


def _sort_key(entry: dict[str, Any]) -> tuple[Any, ...]:
    fy = entry.get("fiscal_year")
    return (fy is not None, fy or 0, entry.get("notebook", ""),
            {"ja": 0, "en": 1}.get(entry.get("lang", ""), 2), entry.get("lang", ""))


def build_manifest(entries: dict[str, dict[str, Any]], run: dict[str, Any]) -> dict[str, Any]:
    """The manifest; each entry's status is its latest execution's, and a good report kept while
    that failed is stale."""
    reports = sorted(entries.values(), key=_sort_key)
    for e in reports:
        e["status"] = e["failure"]["status"] if e.get("failure") else "ok"
        e["stale"] = bool(e.get("failure") and e.get("report"))
    return {"format": 1, "run": run, "reports": reports}


def commit(out: Path, manifest: dict[str, Any]) -> None:
    """Write the manifest, results.csv and .xlsx, the run logs and the two front pages, each file
    atomically; the pages written together embed one font subset."""
    write_atomic(out / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    write_atomic(out / RESULTS, results_csv(manifest))
    write_atomic(out / RESULTS_XLSX, results_xlsx(manifest))
    pages = {name: partial(run_log_html, manifest, lang) for lang, name in RUN_LOG_FILES.items()}
    # The front pages depend on the reports only: rewritten when those changed (fonts are
    # embedded: a run with nothing to do should not pay for it).
    mark = out / ".cache" / "front.key"
    key = hashlib.sha256(json.dumps([manifest.get("reports", []), manifest.get("run", {}).get(
        "exploratory")], sort_keys=True, default=str).encode()).hexdigest()
    try:
        same = (mark.read_text(encoding="utf-8") == key and (out / INDEX).is_file()
                and (out / INDEX_EN).is_file())
    except OSError:
        same = False
    if not same:
        pages |= {INDEX: partial(front_page_html, manifest, "ja"),
                  INDEX_EN: partial(front_page_html, manifest, "en")}
    for name, text in sharing_one_font(pages).items():
        write_atomic(out / name, text)
    if not same:
        mark.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(mark, key)


def collect_garbage(out: Path, manifest: dict[str, Any]) -> int:
    """Delete the report folders the committed manifest no longer names (a failure since
    repaired, a notebook pruned), and old staging; returns how many.

    Only what the batch wrote is touched: the files of :data:`_REPORT_FILES` in a folder holding
    a ``job.json``, and run directories of the earlier layout (named by run id, with a
    ``job.json``); a folder is removed only when that leaves it empty.
    """
    keep = {a["dir"] for e in manifest.get("reports", []) for a in (e.get("report"),
            e.get("failure")) if a and a.get("dir")}
    removed = 0
    shutil.rmtree(out / STAGING, ignore_errors=True)
    for record in [*out.glob(f"*/*/{RECORD}"), *out.glob(f"*/*/*/{RECORD}"),
                   *out.glob(f"*/*/*/*/{RECORD}")]:
        folder = record.parent
        if folder.relative_to(out).as_posix() in keep:
            continue
        if RUN_ID_RE.match(folder.name):
            shutil.rmtree(folder, ignore_errors=True)
        else:
            for name in _REPORT_FILES:
                with contextlib.suppress(FileNotFoundError):
                    (folder / name).unlink()
        removed += 1
        for parent in (folder, *folder.parents):
            if parent == out:
                break
            with contextlib.suppress(OSError):
                parent.rmdir()  # only if now empty
    return removed
