"""The run's execution: ``workers`` processes of a :class:`~concurrent.futures.ProcessPoolExecutor`
(``spawn``: nothing inherited) each execute one notebook at a time with papermill, in a kernel
that jupyter_client starts the ordinary way, then render its pages and publish them.

A kernel differs from a researcher's only in where its sockets, connection file (it holds the
HMAC key) and output go (the job's scratch folder) and in its working folder, an empty one: no
process's working directory is changed. On SIGINT/SIGTERM the run sets a stop event; a watchdog
thread in each worker (which ignores SIGINT itself) then kills its kernel and ends the worker,
as it does when the run's process is gone. Nothing of an interrupted notebook is recorded.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import json
import logging
import math
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..data.datafiles import overlay_path, sha256
from ..records import collected_headline, collected_rows
from ..site.render import Renderer, fallback_page, stable_dir
from .outputs import FAILED, RECORD, STAGING, place

#: Where ``wardanalysis.load`` notes each dataset a kernel reads (the report's inputs).
ACCESS_LOG_ENV = "WARDANALYSIS_ACCESS_LOG"
#: A run's scratch folder is ``<tmp>/<prefix><pid>-<random>``; killed runs' are swept later.
SCRATCH_PREFIX = "wardanalysis-run-"
_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: The longest path of a kernel's socket files (``<path>-<port>``) a Unix socket address takes.
_MAX_SOCKET_PATH = 100
#: The run's process id, in the environment of every process it starts (workers, kernels).
PARENT_ENV = "WARDANALYSIS_BATCH_PARENT"


def sweep_scratch() -> None:
    """Remove the scratch folders of earlier runs whose process is gone."""
    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        pid = path.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except (PermissionError, ValueError):  # alive and someone else's, or not a pid
            continue


_KERNELS: set[Any] = set()  # the kernel manager of the notebook this worker runs, if any
_RENDERER: list[Any] = []  # built once per worker


def _kill(km: Any) -> None:
    """Kill a kernel's process group (a session of its own), asking it nothing."""
    with contextlib.suppress(AttributeError, ProcessLookupError, PermissionError):  # none left
        os.killpg(km.provisioner.process.pid, signal.SIGKILL)


def _worker_init(stop: Any, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the run decides what Ctrl-C means
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)  # blocked by the run while it started us
    # papermill's warnings about parameters it cannot parse (``int | None``): checked already
    logging.getLogger("papermill").setLevel(logging.ERROR)

    def watch() -> None:
        while not stop.wait(1.0) and os.getppid() == parent:
            pass
        for km in list(_KERNELS):
            _kill(km)
        os._exit(1)

    threading.Thread(target=watch, name="stop-watch", daemon=True).start()


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _last_line(text: str) -> str:
    lines = [ln for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""


def _error_line(ename: str, evalue: str) -> str:
    return _last_line(f"{ename}: {evalue}" if evalue else ename)


def _execute(job: dict[str, Any], stage: Path, scratch: Path) -> tuple[str, str | None, float,
                                                                     list[str], str]:
    """Run the notebook into ``stage/notebook.ipynb``: status, error, seconds, datasets read,
    the time it started. (Jupyter and papermill are heavy: imported by the workers only.)"""
    import papermill as pm
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    timeout = float(job["timeout"])
    deadline: list[float] = []

    def remaining(cell: Any = None) -> int:  # nbclient's per-cell timeout: the notebook's rest
        if not deadline:
            deadline.append(time.monotonic() + timeout)
        return max(1, math.ceil(deadline[0] - time.monotonic()))

    (scratch / "cwd").mkdir()
    log, access = scratch / "kernel.log", scratch / "access.log"
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # ipykernel's own default (inline plots), as in JupyterLab
    env[ACCESS_LOG_ENV] = str(access)
    # sockets as files in the scratch folder, unless a deep TMPDIR makes the path too long
    sockets = str(scratch / "zmq")
    where = {"transport": "ipc", "ip": sockets} if len(sockets.encode()) < _MAX_SOCKET_PATH \
        else {"transport": "tcp", "ip": "127.0.0.1"}
    km = AsyncKernelManager(kernel_name=job["kernel"], **where,
                            connection_file=str(scratch / "connection.json"))
    status, error, started, t0 = "ok", None, _now(), time.monotonic()
    _KERNELS.add(km)
    try:
        with open(log, "wb") as out:
            run_sync(km.start_kernel)(cwd=str(scratch / "cwd"), env=env, stdout=out, stderr=out)
        started, t0 = _now(), time.monotonic()
        pm.execute_notebook(job["path"], str(stage / "notebook.ipynb"),
                            parameters=job["parameters"], kernel_name=job["kernel"], km=km,
                            progress_bar=False, log_output=False,
                            request_save_on_cell_execute=False, start_timeout=60,
                            execution_timeout=timeout, timeout_func=remaining)
    except PapermillExecutionError as exc:
        status, error = "failed", _error_line(exc.ename, exc.evalue)
    except CellTimeoutError:
        status = "timeout"
        error = f"TimeoutError: the notebook ran longer than its {timeout:g} s timeout"
    except Exception as exc:  # the kernel died (also before its first reply: jupyter_client
        # says so with a RuntimeError), did not start, or the notebook is unreadable …
        status = "failed"
        if isinstance(exc, DeadKernelError) or (km.has_kernel and not run_sync(km.is_alive)()):
            tail = _last_line(log.read_text(encoding="utf-8", errors="replace"))
            error = "DeadKernelError: the kernel died" + (f" ({tail})" if tail else "")
        else:
            error = _error_line(type(exc).__name__, str(exc))
            (stage / "traceback.txt").write_text(traceback.format_exc(), encoding="utf-8")
    finally:
        with contextlib.suppress(Exception):
            run_sync(km.shutdown_kernel)(now=True)
        _kill(km)  # and whatever the notebook started in its session
        _KERNELS.discard(km)
    if status != "ok" and log.exists() and log.stat().st_size:
        shutil.copy(log, stage / "kernel.log")
    try:
        datasets = sorted(set(access.read_text(encoding="utf-8").split()))
    except OSError:
        datasets = []
    return status, error, round(time.monotonic() - t0, 2), datasets, started


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Execute, record, render and publish one notebook (in a worker): the attempt's record.
    A notebook's own failure (a cell's exception, a timeout, a dead kernel) is a ``failed`` or
    ``timeout`` attempt with the partial notebook and an error page."""
    import nbformat  # heavy: the workers only

    out = Path(job["out"])
    stage = out / STAGING / job["run_id"] / f"{job['notebook']}--{job['variant']}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    scratch = Path(tempfile.mkdtemp(prefix="kernel-", dir=job["scratch"]))
    try:
        status, error, duration, datasets, started = _execute(job, stage, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    output = stage / "notebook.ipynb"
    try:
        nb = nbformat.read(output, as_version=4)
    except (OSError, ValueError):
        nb = nbformat.read(job["path"], as_version=4)
    for cell in nb.cells:  # papermill gives the cell it injects a random id; pages show the id
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = "injected-parameters"
    records: list[dict[str, Any]] = []
    headline = None
    if status == "ok":
        try:
            records, headline = collected_rows(nb), collected_headline(nb)
        except (ValueError, TypeError) as exc:
            status, error = "failed", f"RecordsError: {exc}"
    info = {k: job[k] for k in ("notebook", "notebook_file", "fiscal_year", "lang", "parameters",
                                "data_checksum", "package_version", "fiscal_years")}
    if headline and headline["simulated"] and job.get("previous_user_files"):
        info["switched_from"] = job["previous_user_files"]  # real data before, simulated now
    try:
        if not _RENDERER:
            _RENDERER.append(Renderer())
        pages = (_RENDERER[0].views(nb, {**info, "status": status}) if status == "ok" else
                 {"error": _RENDERER[0].error_page(nb, {**info, "status": status, "error": error})})
    except Exception as exc:
        pages = {"error": fallback_page({**info, "status": "failed", "error": error})}
        if status == "ok":
            status, error = "failed", f"RenderError: {type(exc).__name__}: {exc}"
    # a good report at its stable address; a failure beside it, the good one left in place
    rel_dir = stable_dir(job["notebook"], job["fiscal_year"], job["lang"])
    rel_dir += "" if status == "ok" else f"/{FAILED}"
    nb.metadata.setdefault("papermill", {})["output_path"] = str(out / rel_dir / output.name)
    nbformat.write(nb, output)
    files = {"notebook": output.name}
    for name, text in pages.items():
        file = "index.html" if name == "review" else f"{name}.html"
        (stage / file).write_text(text, encoding="utf-8")
        files[name] = file
    for name, file in (("kernel_log", "kernel.log"), ("traceback", "traceback.txt")):
        if status != "ok" and (stage / file).exists():
            files[name] = file
    attempt = {
        "status": status, "error": error, "run_id": job["run_id"], "started": started,
        "finished": _now(), "duration_s": duration, "parameters": job["parameters"],
        "key": job["key"], "datasets": {n: job["datasets_now"].get(n, "unknown") for n in datasets},
        "overlays": _overlays(datasets, job["parameters"].get("data_dir")), "records": records,
        "headline": headline, "switched_from": info.get("switched_from"),
        "data_checksum": job["data_checksum"], "package_version": job["package_version"],
        "dir": rel_dir, "files": {k: f"{rel_dir}/{v}" for k, v in files.items()},
    }
    (stage / RECORD).write_text(json.dumps({"id": job["id"], **attempt}, ensure_ascii=False,
                                           indent=1) + "\n", encoding="utf-8")
    place(stage, out / rel_dir)
    return attempt


def _overlays(datasets: list[str], data_dir: str | None) -> dict[str, dict[str, str]]:
    """The user's files a report read, by dataset: file and checksum."""
    found = {}
    for name in datasets if data_dir else []:
        with contextlib.suppress(Exception):  # a file gone bad since: not a user's file read
            if (path := overlay_path(name, data_dir)) is not None:
                found[name] = {"file": str(path), "sha256": sha256(path)}
    return found


def run_jobs(jobs: list[dict[str, Any]], *, workers: int,
             on_done: Callable[[dict[str, Any], dict[str, Any]], None]) -> int:
    """Execute ``jobs`` on ``workers`` processes; call ``on_done(job, attempt)`` for each
    finished one. Returns 0, or the number of the signal (SIGINT, SIGTERM) that stopped the run;
    every worker and kernel has ended when it returns."""
    received: list[int] = []

    def on_signal(signum: int, frame: Any) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in _SIGNALS
                if signal.getsignal(sig) is not signal.SIG_IGN}
    scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
    os.environ[PARENT_ENV] = str(os.getpid())
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    pool = None
    try:
        # the workers start with both signals blocked, until they ignore SIGINT themselves
        signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
        try:
            pool = cf.ProcessPoolExecutor(max(1, min(workers, len(jobs))), mp_context=context,
                                          initializer=_worker_init, initargs=(stop, os.getpid()))
            futures = {pool.submit(run_job, {**job, "scratch": str(scratch)}): job
                       for job in jobs}
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)
        pending = set(futures)
        while pending and not received:
            done, pending = cf.wait(pending, timeout=0.5, return_when=cf.FIRST_COMPLETED)
            for future in done:
                if not received:
                    on_done(futures[future], _attempt(future))
        return received[0] if received else 0
    finally:
        if pool is not None:
            if received:
                stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(scratch, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _attempt(future: cf.Future[Any]) -> dict[str, Any]:
    try:
        return future.result()
    except Exception as exc:  # a bug of ours or a worker that died, not the notebook's failure
        return {"status": "failed", "files": {}, "traceback": traceback.format_exc(),
                "error": f"batch error: {type(exc).__name__}: {exc}"}
