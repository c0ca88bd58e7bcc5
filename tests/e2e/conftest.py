"""Fixtures of the end-to-end batch tests (helpers in ``batch_helpers.py``)."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from batch_helpers import Workspace, assert_no_leftovers, make_workspace


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


ROOT = Path(__file__).resolve().parents[2]


def run_real_batch(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``wardanalysis run`` on the repository's notebooks and parameters, as ``make report``."""
    proc = subprocess.Popen([sys.executable, "-m", "wardanalysis", "run", "--out", str(out),
                             "--no-progress", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    stdout, stderr = proc.communicate(timeout=900)
    assert_no_leftovers(proc.pid)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


@pytest.fixture(scope="session")
def default_batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    """The real default batch (every notebook, fiscal year and language) on the shipped data,
    and the rows of its results.csv."""
    out = tmp_path_factory.mktemp("default") / "reports"
    run = run_real_batch(out)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    with open(out / "results.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return out, rows
