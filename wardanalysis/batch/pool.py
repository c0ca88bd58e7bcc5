"""The run's execution: threads that execute notebooks, their kernels, the page renderers, and
stopping them all, whatever happens.

- Notebooks execute in ``workers`` threads of this process (papermill and nbclient wait on the
  kernels most of the time; the kernels do the computing, each in its own process).
- Kernels come from :class:`Kernels`: forked warm from the run's fork server
  (:mod:`~.kernels`), one per notebook.
- Pages render in ``workers`` processes of a :class:`~concurrent.futures.ProcessPoolExecutor`
  forked from the same fork server (rendering is CPU-bound Python).

SIGINT and SIGTERM are handled explicitly (a run started with SIGINT ignored, as a shell starts a
background job, keeps ignoring it): pending notebooks are cancelled, every live kernel is killed
(the notebooks running in them end at once), nothing of the interrupted notebooks is recorded, and
:func:`run_jobs` returns the signal's number within seconds. A second signal changes nothing.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: A run's scratch directory (kernels' working folders, sockets and connection files) is
#: ``<tmp>/<prefix><pid>-<random>``; a run removes its own, and sweeps those of killed runs.
SCRATCH_PREFIX = "wardanalysis-run-"
#: Seconds a stopping run waits for its notebook threads after killing their kernels.
STOP_SECONDS = 8.0


def sweep_scratch() -> None:
    """Remove the scratch directories of earlier runs whose process is gone (a run killed
    outright cannot remove its own)."""
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


@dataclass(eq=False)
class Kernel:
    km: Any
    scratch: Path
    kernel_name: str
    forked: bool

    @property
    def cwd(self) -> Path:
        return self.scratch / "cwd"

    @property
    def access_log(self) -> Path:
        return self.scratch / "access.log"

    @property
    def log(self) -> Path:
        return self.scratch / "kernel.log"

    def kill(self) -> None:
        """Kill the kernel's process group (it and whatever it started), asking it nothing."""
        from . import kernels

        pgid = getattr(getattr(self.km, "provisioner", None), "pgid", None)
        if pgid:
            kernels.kill_group(pgid)


class Kernels:
    """One fresh kernel per notebook. Every kernel started is known here until stopped, so
    :meth:`kill_all` reaches them all."""

    def __init__(self, scratch: Path, fork_context: Any) -> None:
        self.scratch = scratch
        self.fork_context = fork_context
        self._lock = threading.RLock()  # also taken by the signal handler, in the main thread
        self._live: set[Kernel] = set()
        self._stopper = cf.ThreadPoolExecutor(1, "kernel-stop")
        self.closed = False

    def take(self, kernel_name: str) -> Kernel:
        """A started kernel for one notebook."""
        from jupyter_core.utils import run_sync

        from . import kernels
        from .execute import ACCESS_LOG_ENV

        scratch = Path(tempfile.mkdtemp(prefix="kernel-", dir=self.scratch))
        kernel = Kernel(None, scratch, kernel_name, self.fork_context is not None)
        kernel.cwd.mkdir()
        with self._lock:
            if self.closed:
                raise RuntimeError("the run is stopping")
            self._live.add(kernel)
        try:
            kernel.km = kernels.kernel_manager(kernel_name, scratch, self.fork_context)
            env = kernels.kernel_env(os.getpid())
            env[ACCESS_LOG_ENV] = str(kernel.access_log)  # read by wardanalysis.load()
            env[kernels.LOG_ENV] = str(kernel.log)
            extra = ["--HistoryManager.hist_file=:memory:"] if kernel.km.ipykernel else []
            run_sync(kernel.km.start_kernel)(extra_arguments=extra, cwd=str(kernel.cwd), env=env)
        except BaseException:
            self.stop(kernel)
            raise
        return kernel

    def release(self, kernel: Kernel | None) -> None:
        """Kill a used kernel's group now; finish stopping it in the background."""
        if kernel is None:
            return
        kernel.kill()
        self._stopper.submit(self.stop, kernel)

    def stop(self, kernel: Kernel | None) -> None:
        if kernel is None:
            return
        from jupyter_core.utils import run_sync

        try:
            try:
                if kernel.km is not None and kernel.km.has_kernel:
                    run_sync(kernel.km.shutdown_kernel)(now=True)
            except Exception:
                pass
            finally:
                kernel.kill()  # whatever the kernel started in its session goes too
        finally:
            shutil.rmtree(kernel.scratch, ignore_errors=True)
            with self._lock:
                self._live.discard(kernel)

    def kill_all(self) -> None:
        """Kill every live kernel now, asking nothing of them (the run is stopping)."""
        with self._lock:
            self.closed = True
            live = list(self._live)
        for kernel in live:
            kernel.kill()

    def close(self) -> None:
        """Stop every kernel still alive."""
        with self._lock:
            self.closed = True
        self._stopper.shutdown(wait=True)
        with self._lock:
            live = list(self._live)
        for kernel in live:
            self.stop(kernel)


# -- the renderer processes

_RENDERER: list[Any] = []


def _renderer_init() -> None:
    from . import kernels

    kernels.exit_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the run decides what Ctrl-C means
    from .render import Renderer

    renderer = Renderer()
    # load the templates and the font now, while the kernels start
    nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    renderer.views(nb, {"notebook": "warm-up", "lang": "ja", "parameters": {}})
    _RENDERER.append(renderer)


def _ready() -> bool:
    return bool(_RENDERER)


def _render(nb: dict[str, Any], info: dict[str, Any]) -> dict[str, str]:
    """``{"review": …, "full": …}`` of a good notebook, or ``{"error": …}`` of a failed one."""
    renderer = _RENDERER[0]
    if info["status"] == "ok":
        return renderer.views(nb, info)
    return {"error": renderer.error_page(nb, info)}


class Run:
    """What the notebook threads share: kernels, renderers, and whether the run is stopping."""

    def __init__(self, workers: int, kernel_start: str, preload: list[str] | None,
                 scratch: Path) -> None:
        self.stopping = False
        from . import kernels

        self.notes: list[str] = []
        context = None
        if kernel_start == "fork":
            server = kernels.ForkServer(preload)
            context = server.start()
            if server.problem:
                self.notes.append(server.problem)
        self.kernels = Kernels(scratch, context)
        self._context = context or multiprocessing.get_context("spawn")
        self._workers = workers
        self._render_lock = threading.Lock()
        self.renderers = self._renderer_pool()

    def _renderer_pool(self) -> cf.ProcessPoolExecutor:
        pool = cf.ProcessPoolExecutor(self._workers, mp_context=self._context,
                                      initializer=_renderer_init)
        for _ in range(self._workers):  # start them all now (they start on demand)
            pool.submit(_ready)
        return pool

    def render(self, nb: dict[str, Any], info: dict[str, Any]) -> tuple[dict[str, str], str | None]:
        """The notebook's pages, and why they could not be rendered (None if they were)."""
        pool = self.renderers
        try:
            return pool.submit(_render, nb, info).result(), None
        except cf.process.BrokenProcessPool:
            reason = "a page-rendering process died"
            with self._render_lock:  # later notebooks get a new pool
                if self.renderers is pool and not self.stopping:
                    self.renderers = self._renderer_pool()
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
        from .render import fallback_page

        return {"error": fallback_page(info)}, f"RenderError: {reason}"

    def close(self) -> None:
        self.kernels.close()
        self.renderers.shutdown(wait=True, cancel_futures=True)


def run_jobs(
    jobs: list[dict[str, Any]] | Callable[[], list[dict[str, Any]]],
    count: int,
    *,
    workers: int,
    kernel_start: str,
    preload: list[str] | None,
    on_done: Callable[[dict[str, Any], dict[str, Any]], None],
    notes: list[str] | None = None,
) -> int:
    """Execute ``count`` jobs on ``workers`` threads; call ``on_done(job, attempt)`` for each
    finished one. ``jobs`` may be a function giving the list, called once the fork server is
    starting (so that the caller's own preparation overlaps its imports). Fallbacks to a slower
    mode are appended to ``notes``.

    Returns 0, or the number of the signal (SIGINT, SIGTERM) that stopped the run. Every kernel
    and renderer has stopped when this returns or raises.
    """
    import logging

    from .execute import Executor

    # papermill re-reads each parameters cell to warn about unknown parameters, and cannot parse
    # annotations such as ``int | str | None`` ("Unable to parse line …"): the batch has already
    # checked every parameter against the cell (config.py), so its warnings would only mislead.
    logging.getLogger("papermill").setLevel(logging.ERROR)
    received: list[int] = []
    run: Run | None = None

    def on_signal(signum: int, frame: Any) -> None:
        if not received:
            received.append(signum)
        if run is not None:
            run.stopping = True
            run.kernels.kill_all()

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) is not signal.SIG_IGN:
            previous[sig] = signal.signal(sig, on_signal)
    scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-"))
    threads = cf.ThreadPoolExecutor(max(1, min(workers, count)), "notebook")
    try:
        run = Run(workers, kernel_start, preload, scratch)
        if notes is not None:
            notes.extend(run.notes)
        if received:
            run.stopping = True
        executor = Executor(run)
        futures = {threads.submit(executor.run_job, job): job
                   for job in (jobs() if callable(jobs) else jobs)} if not received else {}
        pending = set(futures)
        while pending and not received:
            done, pending = cf.wait(pending, timeout=0.5, return_when=cf.FIRST_COMPLETED)
            for future in done:
                attempt = _attempt(future)
                if attempt is not None and not received:
                    on_done(futures[future], attempt)
        if received:
            for future in pending:
                future.cancel()
            cf.wait(pending, timeout=STOP_SECONDS)
        return received[0] if received else 0
    finally:
        threads.shutdown(wait=False, cancel_futures=True)
        if run is not None:
            run.stopping = run.stopping or bool(received)
            run.close()
        shutil.rmtree(scratch, ignore_errors=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _attempt(future: cf.Future[Any]) -> dict[str, Any] | None:
    try:
        return future.result()
    except Exception as exc:  # a bug of ours, not the notebook's: report it, go on
        import traceback

        return {"status": "failed", "files": {}, "traceback": traceback.format_exc(),
                "error": f"batch error: {type(exc).__name__}: {exc}"}
