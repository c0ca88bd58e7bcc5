"""One notebook execution, in one of the run's threads: papermill, records, rendering, publishing.

:meth:`Executor.run_job` never raises for a notebook's own failure: an exception in a cell, a
timeout or a dead kernel becomes a ``failed``/``timeout`` attempt whose directory keeps the partial
executed notebook and an error page. A job the run was told to stop (Ctrl-C, SIGTERM) returns
None: nothing of it is recorded, and the earlier report stays.

Each notebook gets a kernel of its own (from :class:`~.pool.Kernels`), used for that notebook only
and then killed with its whole process group, whatever happened. Pages are rendered in the run's
renderer processes (:mod:`~.render` is CPU-bound Python; threads would queue on one core).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
import time
import traceback
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


class Executor:
    """Executes one job at a time per calling thread, on the run's kernels and renderers."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool  # a pool.Run: kernels, renderers, the stop flag

    def run_job(self, job: dict[str, Any]) -> dict[str, Any] | None:
        out = Path(job["out"])
        rel_dir = f"{job['notebook']}/{job['variant']}/{job['run_id']}"
        stage = out / STAGING / job["run_id"] / f"{job['notebook']}--{job['variant']}"
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir(parents=True)
        attempt = self._execute(job, stage)
        if attempt is None or self.pool.stopping:
            shutil.rmtree(stage, ignore_errors=True)
            return None
        attempt["dir"] = rel_dir
        attempt["files"] = {k: f"{rel_dir}/{v}" for k, v in attempt["files"].items()}
        (stage / "job.json").write_text(
            json.dumps({"id": job["id"], **attempt}, ensure_ascii=False, indent=1) + "\n",
            encoding="utf-8")
        publish_dir(stage, out / rel_dir)
        return attempt

    def _execute(self, job: dict[str, Any], stage: Path) -> dict[str, Any] | None:
        import papermill as pm
        from nbclient.exceptions import CellTimeoutError, DeadKernelError
        from papermill.exceptions import PapermillExecutionError

        output = stage / "notebook.ipynb"
        timeout = float(job["timeout"])
        deadline: list[float] = []
        status, error = "ok", None

        def remaining(cell: Any = None) -> int:
            # nbclient's per-cell timeout: what is left of the notebook's budget, which starts
            # when its first cell does (kernel start-up has its own timeout).
            if not deadline:
                deadline.append(time.monotonic() + timeout)
            return max(1, math.ceil(deadline[0] - time.monotonic()))

        kernel = None
        started, t0 = _now(), time.monotonic()
        try:
            kernel = self.pool.kernels.take(job["kernel"])
            started, t0 = _now(), time.monotonic()
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
            tail = _last_line(kernels.kernel_log_tail(kernel.log)) if kernel else ""
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
                if status != "ok" and kernel.log.exists() and kernel.log.stat().st_size:
                    shutil.copy(kernel.log, stage / "kernel.log")
        finally:
            self.pool.kernels.release(kernel)  # before rendering: nothing more is needed from it
        if self.pool.stopping:
            return None
        return self._finish(job, stage, output, datasets, status, error, started, duration,
                            forked=kernel is not None and kernel.forked)

    def _finish(self, job: dict[str, Any], stage: Path, output: Path, datasets: list[str],
                status: str, error: str | None, started: str, duration: float, forked: bool
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
        pages, render_error = self.pool.render(nb, info)
        if render_error and status == "ok":  # the renderer failed on a good notebook
            status, error = "failed", render_error
        for name, text in pages.items():
            (stage / f"{name}.html").write_text(text, encoding="utf-8")
            files[name] = f"{name}.html"
        if status != "ok":
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
            "kernel_start": "fork" if forked else "spawn",
            "files": files,
        }


def _overlays(datasets: Any, data_dir: str | None) -> dict[str, dict[str, str]]:
    """The user's files a report read, by dataset: file and checksum."""
    if not data_dir:
        return {}
    from ..datafiles import overlay_path, sha256

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
