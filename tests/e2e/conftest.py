"""Fixtures of the end-to-end batch tests (helpers in ``batch_helpers.py``)."""

from __future__ import annotations

import shutil
from typing import Any

import pytest
from batch_helpers import Workspace, make_workspace


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
