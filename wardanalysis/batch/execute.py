"""The run's execution: each notebook in a worker process, in an ordinary Jupyter kernel.

- ``workers`` processes of a :class:`concurrent.futures.ProcessPoolExecutor` (the ``spawn``
  start method: a fresh interpreter, nothing inherited from this process) each execute one
  notebook at a time with papermill, render its pages and place them at the report's address.
- Each notebook gets a kernel of its own, started by jupyter_client the ordinary way (the
  kernel spec's command, a new process), as JupyterLab or ``papermill`` would start it, with the
  environment a researcher's kernel has: the only difference is where its sockets, connection
  file (it holds the kernel's HMAC key) and output go, the job's scratch folder. The kernel is
  shut down after its notebook, whatever happened.
- Nothing here changes the working directory of a process: the kernel starts in an empty
  folder of its own (``cwd`` of the kernel), so a notebook that reads a relative path fails here
  as it would anywhere else.

Stopping: the caller's handlers for SIGINT and SIGTERM (see :func:`run_jobs`) set a flag; the
workers ignore SIGINT themselves (a terminal's Ctrl-C reaches the whole process group) and a
watchdog thread in each kills its kernel and ends the worker as soon as the run's stop event is
set or the run's process is gone. Nothing of an interrupted notebook is recorded.
"""

from __future__ import annotations

import concurrent.futures as cf
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
#: A run's scratch folder (kernels' sockets, connection files, logs) is
#: ``<tmp>/<prefix><pid>-<random>``; a run removes its own and sweeps those of killed runs.
SCRATCH_PREFIX = "wardanalysis-run-"
_SIGNALS = (signal.SIGINT, signal.SIGTERM)
#: The longest path of a kernel's socket files (``<path>-<port>``) a Unix socket address takes.
_MAX_SOCKET_PATH = 100
#: Set to the run's process id in the environment of every process it starts (its workers and
#: their kernels), so that a look at the system finds them all.
PARENT_ENV = "WARDANALYSIS_BATCH_PARENT"


def sweep_scratch() -> None:
    """Remove the scratch folders of earlier runs whose process is gone."""
    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        pid = path.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:  # alive, and someone else's
            continue


# -- in the worker processes

_KERNELS: set[Any] = set()  # the kernel manager of the notebook this worker runs, if any
_RENDERER: list[Any] = []


def _kill(km: Any) -> None:
    """Kill a kernel's process group (it runs in a session of its own), asking it nothing."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is not None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _worker_init(stop: Any, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the run decides what Ctrl-C means
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGNALS)  # blocked by the run while it started us
    # papermill re-reads each parameters cell to warn about unknown parameters and cannot parse
    # annotations such as ``int | str | None``: the batch has checked every parameter already.
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
    """The last line of the error as Python prints it: ``ValueError: message``."""
    return _last_line(f"{ename}: {evalue}" if evalue else ename)


def _execute(job: dict[str, Any], stage: Path, scratch: Path) -> tuple[str, str | None, float,
                                                                     list[str], str]:
    """Run the notebook into ``stage/notebook.ipynb``: status, error, seconds, datasets read,
    the time it started."""
    # heavy (Jupyter, papermill): imported by the workers only
    import papermill as pm
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    timeout = float(job["timeout"])
    deadline: list[float] = []

    def remaining(cell: Any = None) -> int:
        # nbclient's per-cell timeout: what is left of the notebook's budget, which starts when
        # its first cell does (kernel start-up has its own timeout)
        if not deadline:
            deadline.append(time.monotonic() + timeout)
        return max(1, math.ceil(deadline[0] - time.monotonic()))

    (scratch / "cwd").mkdir()
    log, access = scratch / "kernel.log", scratch / "access.log"
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # ipykernel's own default (inline plots), as in JupyterLab
    env[ACCESS_LOG_ENV] = str(access)
    # sockets as files in the scratch folder, unless its path is too long for a Unix socket
    # (about 100 bytes with the port number; a deep TMPDIR): then TCP on this machine only
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
    except DeadKernelError:
        tail = _last_line(log.read_text(encoding="utf-8", errors="replace"))
        status, error = "failed", "DeadKernelError: the kernel died" + (f" ({tail})" if tail else "")
    except Exception as exc:  # the kernel did not start, the notebook is unreadable …
        status, error = "failed", _error_line(type(exc).__name__, str(exc))
        (stage / "traceback.txt").write_text(traceback.format_exc(), encoding="utf-8")
    finally:
        try:
            if km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)
        except Exception:
            pass
        _kill(km)  # and whatever the notebook started in its session
        _KERNELS.discard(km)
    if status != "ok" and log.exists() and log.stat().st_size:
        shutil.copy(log, stage / "kernel.log")
    try:
        datasets = sorted(set(access.read_text(encoding="utf-8").split()))
    except OSError:
        datasets = []
    return status, error, round(time.monotonic() - t0, 2), datasets, started


def _pages(nb: Any, info: dict[str, Any]) -> tuple[dict[str, str], str | None]:
    """The notebook's pages, and why they could not be rendered (None if they were)."""
    try:
        if not _RENDERER:
            _RENDERER.append(Renderer())
        if info["status"] == "ok":
            return _RENDERER[0].views(nb, info), None
        return {"error": _RENDERER[0].error_page(nb, info)}, None
    except Exception as exc:
        return {"error": fallback_page({**info, "status": "failed"})}, f"RenderError: {type(exc).__name__}: {exc}"


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Execute, record, render and publish one notebook (in a worker): the attempt's record.
    A notebook's own failure (an exception in a cell, a timeout, a dead kernel) is a ``failed``
    or ``timeout`` attempt with the partial notebook and an error page."""
    import nbformat  # heavy (jsonschema, fastjsonschema): the workers only

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
    pages, render_error = _pages(nb, {**info, "status": status, "error": error})
    if render_error and status == "ok":
        status, error = "failed", render_error
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
    if not data_dir:
        return {}
    found = {}
    for name in datasets:
        try:
            path = overlay_path(name, data_dir)
        except Exception:
            path = None
        if path is not None:
            found[name] = {"file": str(path), "sha256": sha256(path)}
    return found


# -- in the run's process


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
