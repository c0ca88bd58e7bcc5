"""Helpers of the end-to-end batch tests: a workspace of fixture notebooks and parameter files in a
temporary directory, and ``wardanalysis run`` executed as a separate process, as a user runs it.

Every run is checked for leftovers: once it has exited, no process it started (worker,
kernel) may still be alive. They are recognised by ``WARDANALYSIS_BATCH_PARENT``,
which the batch sets in the environment of everything it starts.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

FIXTURES = Path(__file__).resolve().parent / "fixtures"

#: A valid overlay of needs_reflection: FY2023 corrected (requests 651 instead of 650).
OVERLAY_HEADER = ("fiscal_year,era_label,requests,requests_handled,priority_issues,decided_to_act,"
                  "staff_consultations,section_chief_consultations,coordination_meetings\n")


def overlay_row(requests: int) -> str:
    return f"2023,R5,{requests},587,3,3,3,1,0\n"


def batch_processes(parent_pid: int) -> list[psutil.Process]:
    """Processes started (directly or not) by the batch whose main process was ``parent_pid``."""
    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get("WARDANALYSIS_BATCH_PARENT") == str(parent_pid):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def scratch_dirs(parent_pid: int, tmp: Path | None = None) -> list[Path]:
    """The temporary directories (kernels) of the batch run ``parent_pid``, in ``tmp`` (a
    workspace's own temporary folder) or the system's."""
    return list(Path(tmp or tempfile.gettempdir()).glob(f"wardanalysis-run-{parent_pid}-*"))


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:  # exited between listing and looking
        return False


def assert_no_leftovers(parent_pid: int, grace: float = 10.0) -> None:
    deadline = time.monotonic() + grace
    while True:
        alive = [p for p in batch_processes(parent_pid) if _alive(p)]
        if not alive:
            return
        if time.monotonic() > deadline:
            raise AssertionError("processes left behind: "
                                 + "; ".join(" ".join(p.cmdline()) for p in alive))
        time.sleep(0.2)


@dataclass
class Workspace:
    root: Path

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def params(self) -> Path:
        return self.root / "params"

    @property
    def out(self) -> Path:
        return self.root / "reports"

    @property
    def overlay(self) -> Path:
        return self.root / "overlay"

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "wardanalysis", "run", "--notebooks-dir", str(self.notebooks),
                "--params-dir", str(self.params), "--out", str(self.out), "--no-progress", *args]

    @property
    def tmp(self) -> Path:
        """The runs' temporary folder, one per workspace: a run sweeps the scratch folders
        of killed runs in its temporary folder, so the runs of tests in parallel do not share
        one (another test's run would sweep what a test is about to look at)."""
        # short: the kernels' socket files are in it (a deep path makes them use TCP instead)
        path = Path(tempfile.gettempdir()) / f"wa-{hashlib.sha1(str(self.root).encode()).hexdigest()[:10]}"
        path.mkdir(exist_ok=True)
        return path

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["MPLBACKEND"] = "Agg"  # as the Makefile sets it: kernels must still plot inline
        env["TMPDIR"] = str(self.tmp)
        return env

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        proc = subprocess.Popen(self.command(*args), cwd=self.root, env=self.env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stdout, stderr = proc.communicate(timeout=timeout)
        assert_no_leftovers(proc.pid)
        assert not scratch_dirs(proc.pid, self.tmp), "the run left its scratch directory behind"
        return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)

    def explain(self, result: subprocess.CompletedProcess[str]) -> str:
        """What a test prints when a run did not go as expected: its output and, for every
        failed report, the error and the traceback the batch recorded."""
        parts = [result.stdout, result.stderr]
        try:
            entries = self.manifest()["reports"]
        except (OSError, ValueError, KeyError):
            entries = []
        for e in entries:
            failure = e.get("failure")
            if failure:
                parts.append(f"{e['id']}: {failure.get('error')}")
                for name in ("traceback", "kernel_log"):
                    rel = failure.get("files", {}).get(name)
                    if rel and (self.out / rel).is_file():
                        parts.append((self.out / rel).read_text(encoding="utf-8", errors="replace"))
        return "\n".join(parts)

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.out / "manifest.json").read_text(encoding="utf-8"))

    def entries(self) -> dict[str, dict[str, Any]]:
        return {e["id"]: e for e in self.manifest()["reports"]}

    def results(self) -> str:
        return (self.out / "results.csv").read_text(encoding="utf-8")

    def copy(self, dest: Path) -> Workspace:
        shutil.copytree(self.root, dest, symlinks=True)
        return Workspace(dest)


def make_workspace(root: Path, notebooks: Path = FIXTURES / "notebooks") -> Workspace:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copytree(notebooks, root / "notebooks")
    shutil.copytree(FIXTURES / "params", root / "params")
    (root / "overlay").mkdir()
    (root / "overlay" / "needs_reflection.csv").write_text(OVERLAY_HEADER + overlay_row(651),
                                                           encoding="utf-8")
    return Workspace(root)


def summary_counts(stdout: str) -> dict[str, int]:
    """``{"executed": n, "reused": n, "failed": n}`` from the summary line."""
    line = next(ln for ln in stdout.splitlines() if " executed, " in ln and "reports:" in ln)
    words = line.replace(",", "").split()
    return {k: int(words[words.index(k) - 1]) for k in ("executed", "reused", "failed")}


ROOT = Path(__file__).resolve().parents[2]


def run_real_batch(out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``wardanalysis run`` on the repository's notebooks and parameters, as ``make report``."""
    proc = subprocess.Popen([sys.executable, "-m", "wardanalysis", "run", "--out", str(out),
                             "--no-progress", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    stdout, stderr = proc.communicate(timeout=900)
    assert_no_leftovers(proc.pid)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
