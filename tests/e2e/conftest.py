"""Fixtures of the end-to-end batch tests (helpers in ``batch_helpers.py``)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pytest
from batch_helpers import Workspace, make_workspace, run_real_batch


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Any, Workspace]:
    """A workspace after one complete run (two fiscal years, ja, two workers, with an overlay),
    and a snapshot of it.

    The run's inputs include absolute paths (``data_dir``), so tests that change things get the
    workspace restored in place from the snapshot (the ``workspace`` fixture), not a copy
    elsewhere.
    """
    base = tmp_path_factory.mktemp("batch")
    ws = make_workspace(base / "ws")
    result = ws.run("--data-dir", str(ws.overlay))
    shutil.copytree(ws.root, base / "snapshot", symlinks=True)
    return ws, result, Workspace(base / "snapshot")


@pytest.fixture
def workspace(first_run: tuple[Workspace, Any, Workspace]) -> Workspace:
    """The first run's workspace, as the first run left it."""
    ws, _, snapshot = first_run
    shutil.rmtree(ws.root)
    shutil.copytree(snapshot.root, ws.root, symlinks=True)
    return ws


@pytest.fixture(scope="session")
def default_batch(tmp_path_factory: pytest.TempPathFactory,
                  worker_id: str) -> tuple[Path, list[dict[str, str]]]:
    """The real default batch (every notebook, fiscal year and language) on the shipped data,
    and the rows of its results.csv. Tests only read it (or copy it).

    Under pytest-xdist the batch runs once for the whole session, whichever worker asks first
    (pytest-xdist's recipe: a file lock in the session's shared temporary directory); the other
    workers wait for it and read the same reports.
    """
    if worker_id == "master":  # not distributed
        out = tmp_path_factory.mktemp("default") / "reports"
        _run_default_batch(out)
    else:
        from filelock import FileLock

        shared = tmp_path_factory.getbasetemp().parent
        out = shared / "default-batch" / "reports"
        with FileLock(str(shared / "default-batch.lock")):
            if not (out / "results.csv").is_file():
                _run_default_batch(out)
    with open(out / "results.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return out, rows


def _run_default_batch(out: Path) -> None:
    run = run_real_batch(out)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
