"""One notebook execution, inside a worker process: papermill, records, rendering, publishing.

:meth:`Executor.run_job` never raises for a notebook's own failure: an exception in a cell, a
timeout or a dead kernel becomes a ``failed``/``timeout`` attempt whose directory keeps the partial
executed notebook and an error page.

Each notebook gets a kernel of its own, used for that notebook only and then killed with its
whole process group (whatever happened, in a ``finally``). With forked kernels the worker starts
the *next* notebook's kernel as soon as the current one is handed to papermill, so that its
start-up overlaps the current notebook's execution and rendering; it is a fresh process all the
same, and is killed unused if no notebook comes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import kernels
from .outputs import STAGING, publish_dir

ACCESS_LOG_ENV = "WARDANALYSIS_ACCESS_LOG"


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _last_line(text: str) -> str:
    lines = [ln for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[-1].strip() if lines else ""


def _error_line(ename: str, evalue: str) -> str:
    """The last line of the error as Python prints it: ``ValueError: message``."""
    message = f"{ename}: {evalue}" if evalue else ename
    return _last_line(message)


def _read_access_log(path: Path) -> list[str]:
    try:
        names = path.read_text(encoding="utf-8").split()
    except OSError:
        return []
    return sorted(set(names))


@dataclass
class _Kernel:
    km: Any
    scratch: Path
    kernel_name: str

    @property
    def cwd(self) -> Path:
        return self.scratch / "cwd"

    @property
    def access_log(self) -> Path:
        return self.scratch / "access.log"

    @property
    def kernel_log(self) -> Path:
        return self.scratch / "kernel.log"

    @property
    def pgid(self) -> int | None:
        """The kernel's process group (it runs in a session of its own), once it has started."""
        return getattr(getattr(self.km, "provisioner", None), "pgid", None)

    @property
    def ipc_base(self) -> str:
        """Where the kernel's ZeroMQ sockets live (``<base>-1`` … ``<base>-5``)."""
        return str(self.scratch / "zmq")


class Executor:
    """Executes jobs one at a time; holds the worker's renderer and fork server."""

    def __init__(self, kernel_start: str = "fork", preload: list[str] | None = None,
                 zygote_socket: str | None = None, prestart: bool = True):
        import papermill  # noqa: F401 - imported once per worker, before the first job

        from .render import Renderer

        self.own_server: kernels.ZygoteServer | None = None
        self.zygote: kernels.ZygoteClient | None = None
        self.prestart = prestart
        self._next: _Kernel | None = None
        self._live: list[_Kernel] = []  # started and not yet stopped, for abandon()
        if kernel_start == "fork":
            try:
                if zygote_socket is None:  # used on its own (tests): a fork server of its own
                    self.own_server = kernels.ZygoteServer(preload)
                    zygote_socket = self.own_server.socket_path
                self.zygote = kernels.ZygoteClient(zygote_socket)
            except kernels.ZygoteError:
                self.zygote = None  # spawn kernels instead
        self.renderer = Renderer()
        self._warm_renderer()

    def _warm_renderer(self) -> None:
        """Load the templates and CSS now, while the fork server imports its libraries."""
        nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        self.renderer.views(nb, {"notebook": "warm-up", "lang": "en", "parameters": {}})

    def close(self) -> None:
        self._stop_kernel(self._next)
        self._next = None
        if self.zygote is not None:
            self.zygote.close()
            self.zygote = None
        if self.own_server is not None:
            self.own_server.close()
            self.own_server = None

    def _zygote(self) -> kernels.ZygoteClient | None:
        if self.zygote is not None:
            try:
                self.zygote.wait_ready()
            except kernels.ZygoteError:
                self.zygote.close()
                self.zygote = None  # fall back to spawning kernels
        return self.zygote

    def run_job(self, job: dict[str, Any]) -> dict[str, Any]:
        out = Path(job["out"])
        rel_dir = f"{job['notebook']}/{job['variant']}/{job['run_id']}"
        stage = out / STAGING / job["run_id"] / f"{job['notebook']}--{job['variant']}"
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir(parents=True)
        attempt = self._execute(job, stage)
        attempt["dir"] = rel_dir
        attempt["files"] = {k: f"{rel_dir}/{v}" for k, v in attempt["files"].items()}
        (stage / "job.json").write_text(
            json.dumps({"id": job["id"], **attempt}, ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8")
        publish_dir(stage, out / rel_dir)
        return attempt

    # -- kernels: one per notebook, started ahead of need when forked

    def _start_kernel(self, kernel_name: str) -> _Kernel:
        """A new kernel with its own scratch directory (its cwd), access log and output log."""
        from jupyter_core.utils import run_sync

        scratch = tempfile.mkdtemp(prefix="wardanalysis-kernel-",
                                   dir=os.environ.get(kernels.SCRATCH_ENV) or None)
        kernel = _Kernel(None, Path(scratch), kernel_name)
        kernel.cwd.mkdir()
        self._live.append(kernel)
        zygote = self._zygote()
        previous_log = os.environ.get(ACCESS_LOG_ENV)
        os.environ[ACCESS_LOG_ENV] = str(kernel.access_log)  # read by wardanalysis.load()
        kernels.LAUNCH.update(zygote=zygote, log=str(kernel.kernel_log))
        try:
            # Unix sockets in the kernel's own directory, not TCP ports: jupyter_client picks
            # free ports and releases them before the kernel binds them, so two kernels started
            # at once in two workers can pick the same port ("Address already in use"; seen
            # here about once in 20 runs of the e2e tests). A private path cannot collide.
            km = kernels.BatchKernelManager(kernel_name=kernel_name, transport="ipc",
                                            ip=kernel.ipc_base)
            kernel.km = km
            extra = ["--HistoryManager.hist_file=:memory:"] if km.ipykernel else []
            run_sync(km.start_kernel)(extra_arguments=extra, cwd=str(kernel.cwd))
        except BaseException:
            self._stop_kernel(kernel)
            raise
        finally:
            kernels.LAUNCH["zygote"] = None
            if previous_log is None:
                os.environ.pop(ACCESS_LOG_ENV, None)
            else:
                os.environ[ACCESS_LOG_ENV] = previous_log
        return kernel

    def _stop_kernel(self, kernel: _Kernel | None) -> None:
        if kernel is None:
            return
        from jupyter_core.utils import run_sync

        km = kernel.km
        try:
            if km is not None:
                pgid = kernel.pgid
                try:
                    if km.has_kernel:
                        run_sync(km.shutdown_kernel)(now=True)
                except Exception:
                    pass
                finally:
                    if pgid:
                        kernels.kill_group(pgid)
        finally:
            shutil.rmtree(kernel.scratch, ignore_errors=True)
            if kernel in self._live:
                self._live.remove(kernel)

    def abandon(self) -> None:
        """Kill every kernel this executor started and remove their directories, at once and
        without asking anything of the kernels: for a worker told to exit now (its parent died)."""
        for kernel in list(self._live):
            if kernel.pgid:
                kernels.kill_group(kernel.pgid)
            shutil.rmtree(kernel.scratch, ignore_errors=True)
        self._live.clear()

    def _kernel_for(self, kernel_name: str) -> _Kernel:
        """The kernel started ahead for this notebook if it is alive, else a new one; and (with
        forked kernels) start the next notebook's kernel now, so that it initialises while this
        notebook runs. Each kernel serves exactly one notebook."""
        from jupyter_core.utils import run_sync

        kernel, self._next = self._next, None
        if kernel is not None and (kernel.kernel_name != kernel_name
                                   or not run_sync(kernel.km.is_alive)()):
            self._stop_kernel(kernel)
            kernel = None
        if kernel is None:
            kernel = self._start_kernel(kernel_name)
        if self.prestart and self.zygote is not None:
            try:
                self._next = self._start_kernel(kernel_name)
            except Exception:
                self._next = None  # the next notebook starts its own
        return kernel

    def _execute(self, job: dict[str, Any], stage: Path) -> dict[str, Any]:
        import papermill as pm
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
        from papermill.exceptions import PapermillExecutionError

        self._zygote()  # waits for the fork server; not counted in the duration
        started, t0 = _now(), time.monotonic()
        output = stage / "notebook.ipynb"
        kernel: _Kernel | None = None
        timeout = float(job["timeout"])
        deadline: list[float] = []
        status, error = "ok", None

        def remaining(cell: Any = None) -> int:
            # nbclient's per-cell timeout: what is left of the notebook's budget, which starts
            # when its first cell does (kernel start-up has its own timeout).
            if not deadline:
                deadline.append(time.monotonic() + timeout)
            return max(1, math.ceil(deadline[0] - time.monotonic()))

        try:
            kernel = self._kernel_for(job["kernel"])
            pm.execute_notebook(
                job["path"],
                str(output),
                parameters=job["parameters"],
                kernel_name=job["kernel"],
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                start_timeout=60,
                execution_timeout=timeout,
                timeout_func=remaining,
                km=kernel.km,  # ours: nbclient neither starts nor stops it
            )
        except PapermillExecutionError as exc:
            status, error = "failed", _error_line(exc.ename, exc.evalue)
        except CellTimeoutError:
            status = "timeout"
            error = f"TimeoutError: the notebook ran longer than its {timeout:g} s timeout"
        except DeadKernelError:
            tail = _last_line(kernels.kernel_log_tail(kernel.kernel_log)) if kernel else ""
            status, error = "failed", "DeadKernelError: the kernel died" + (
                f" ({tail})" if tail else "")
        except Exception as exc:  # kernel did not start, notebook unreadable …
            status, error = "failed", _error_line(type(exc).__name__, str(exc))
            (stage / "traceback.txt").write_text(traceback.format_exc(), encoding="utf-8")
        duration = round(time.monotonic() - t0, 2)
        datasets: list[str] = []
        try:
            if kernel is not None:
                datasets = _read_access_log(kernel.access_log)
                if status != "ok" and kernel.kernel_log.exists() and kernel.kernel_log.stat(
                        ).st_size:
                    shutil.copy(kernel.kernel_log, stage / "kernel.log")
        finally:
            self._stop_kernel(kernel)  # before rendering: nothing more is needed from it
        return self._finish(job, stage, output, datasets, status, error, started, duration)

    def _finish(self, job: dict[str, Any], stage: Path, output: Path, datasets: list[str],
                status: str, error: str | None, started: str, duration: float
                ) -> dict[str, Any]:
        nb = _read_notebook(output, job["path"])
        nb.setdefault("metadata", {}).setdefault("papermill", {})["output_path"] = str(
            Path(job["out"]) / job["notebook"] / job["variant"] / job["run_id"] / output.name)
        records: list[dict[str, Any]] = []
        if status == "ok":
            from ..records import collected_rows

            try:
                records = collected_rows(nb)
            except (ValueError, TypeError) as exc:
                status, error = "failed", f"RecordsError: {exc}"

        info = {
            "notebook": job["notebook"],
            "notebook_file": job["notebook_file"],
            "fiscal_year": job["fiscal_year"],
            "lang": job["lang"],
            "parameters": job["parameters"],
            "status": status,
            "error": error,
            "data_checksum": job["data_checksum"],
            "package_version": job["package_version"],
            "fiscal_years": job.get("fiscal_years", []),
        }
        files = {"notebook": output.name}
        _write_notebook(output, nb)
        if status == "ok":
            views = self.renderer.views(nb, info)
            for name, text in views.items():
                (stage / f"{name}.html").write_text(text, encoding="utf-8")
                files[name] = f"{name}.html"
        else:
            try:
                page = self.renderer.error_page(nb, info)
            except Exception:  # the error page must not fail: fall back to the bare facts
                from .render import header_html

                page = f"<!DOCTYPE html><meta charset='utf-8'>{header_html(info)}"
            (stage / "error.html").write_text(page, encoding="utf-8")
            files["error"] = "error.html"
            if (stage / "kernel.log").exists():
                files["kernel_log"] = "kernel.log"
            if (stage / "traceback.txt").exists():
                files["traceback"] = "traceback.txt"
        return {
            "status": status,
            "error": error,
            "run_id": job["run_id"],
            "started": started,
            "finished": _now(),
            "duration_s": duration,
            "parameters": job["parameters"],
            "key": job["key"],
            "datasets": {n: job["datasets_now"].get(n, "unknown") for n in datasets},
            "overlays": _overlays(datasets, job["parameters"].get("data_dir")),
            "records": records,
            "data_checksum": job["data_checksum"],
            "package_version": job["package_version"],
            "kernel_start": "fork" if self.zygote is not None else "spawn",
            "files": files,
        }


def _overlays(datasets: Any, data_dir: str | None) -> dict[str, dict[str, str]]:
    """The user's files a report read, by dataset: file and checksum."""
    if not data_dir:
        return {}
    from ..loading import overlay_path, sha256

    found = {}
    for name in sorted(datasets):
        try:
            path = overlay_path(name, data_dir)
        except Exception:
            path = None
        if path is not None:
            found[name] = {"file": str(path), "sha256": sha256(path)}
    return found


def _read_notebook(output: Path, source: str) -> Any:
    import nbformat

    for path in (output, Path(source)):
        try:
            return nbformat.read(path, as_version=4)
        except (OSError, ValueError):
            continue
    return nbformat.v4.new_notebook()


def _write_notebook(path: Path, nb: Any) -> None:
    import nbformat

    nbformat.write(nb, path)
