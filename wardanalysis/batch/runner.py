"""``wardanalysis run`` as a function: plan, reuse what is unchanged, execute the rest, publish.

:func:`run_batch` is what the command line calls and what the tests call; it prints one line per
notebook finished and a summary, and returns a :class:`RunSummary`.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

import wardanalysis

from ..errors import OutputDirError
from . import cache, outputs
from .config import Job, Overrides, ParamsError, discover_notebooks, load_config, plan_jobs
from .execute import run_jobs, sweep_scratch

__all__ = ["RunSummary", "run_batch"]

#: Exit statuses; a run stopped by a signal exits with 128 + its number (130 for SIGINT, 143 for
#: SIGTERM).
EXIT_OK, EXIT_FAILED, EXIT_PARAMS = 0, 1, 2
#: Seconds between intermediate commits of manifest, results.csv and index while notebooks run.
COMMIT_INTERVAL = 5.0


@dataclass
class RunSummary:
    exit_code: int
    total: int = 0
    executed: int = 0
    reused: int = 0
    failed: list[str] = field(default_factory=list)
    index: Path | None = None
    seconds: float = 0.0
    interrupted: bool = False
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        parts = [f"{self.total} reports: {self.executed} executed, {self.reused} reused "
                 f"(inputs unchanged), {len(self.failed)} failed in {self.seconds:.1f} s"]
        if self.interrupted:
            parts.append("INTERRUPTED")
        return "; ".join(parts)


def _run_id() -> str:
    return dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)


def _job_line(job: Job, attempt: dict[str, Any]) -> str:
    status = attempt.get("status", "failed")
    seconds = attempt.get("duration_s")
    extra = {k: v for k, v in job.parameters.items()
             if k not in ("lang", "fiscal_year", "data_dir")}
    shown = job.describe() + "".join(f" {k}={v!r}" for k, v in extra.items())
    line = f"{status:>7}  {'' if seconds is None else f'{seconds:6.1f} s'}  {shown}"
    if attempt.get("error"):
        line += f"  ← {attempt['error']}"
    return line


def run_batch(
    overrides: Overrides | None = None,
    *,
    force: bool = False,
    notebooks_directory: Path | None = None,
    params_directory: Path | None = None,
    echo: Callable[[str], None] = print,
    progress: bool | None = None,
    prune: bool = False,
) -> RunSummary:
    """Run the batch (see :mod:`wardanalysis.batch`). Never raises for a notebook's failure;
    raises nothing for invalid parameters either: those give exit code 2 and ``errors``.
    Raises :class:`~wardanalysis.errors.OutputDirError` for an output folder it may not write
    (not made by the package, a file, unwritable, full). ``prune`` drops the reports of
    notebooks that are no longer in the notebooks folder; without it they are kept."""
    t0 = time.monotonic()
    overrides = overrides or Overrides()

    def data_years(data_dir: list[Path] | None, out: Path) -> list[int]:
        # the answer is cached in the output folder only if that folder is one of ours
        # (not created by a run whose parameters may yet be refused)
        ours = out.is_dir() and outputs.is_ours(out)
        cache_file = out / ".cache" / "fiscal_years.json" if ours else None
        return cache.fiscal_years_in_data(data_dir, cache_file)

    try:
        config = load_config(overrides, notebooks_directory=notebooks_directory,
                             params_directory=params_directory, data_years=data_years)
    except ParamsError as exc:
        return RunSummary(EXIT_PARAMS, errors=[str(p) for p in exc.problems],
                          seconds=time.monotonic() - t0)
    jobs = plan_jobs(config)
    for stem, why in config.skipped.items():
        echo(f"skipped: {stem}.ipynb {why} (not a batch notebook)")
    if config.exploratory:
        echo(f"exploratory run ({'; '.join(config.exploratory)}): written to {config.out}, "
             "marked as exploratory on its front page" + ("" if overrides.out else
                                                          "; the canonical reports are unchanged"))
    out = config.out
    outputs.check_out_dir(out)
    try:
        return _run_locked(config, jobs, out, force, prune, echo, progress, t0)
    except OSError as exc:  # the folder became unwritable or the disk filled up
        where = exc.filename or out
        raise OutputDirError(f"cannot write the reports in {out}: {exc.strerror} ({where}); "
                             "earlier reports are unchanged") from None


def _run_locked(config: Any, jobs: list[Job], out: Path, force: bool, prune: bool,
                echo: Callable[[str], None], progress: bool | None, t0: float) -> RunSummary:
    with outputs.locked(out):
        manifest = outputs.read_manifest(out)
        entries = outputs.entries_by_id(manifest)
        # A run replaces only the reports it executes: reports of notebooks it was not asked to
        # run stay, listed as kept, unless --prune removes those whose notebook is gone.
        if prune:
            present = set(discover_notebooks(config.notebooks_dir))
            entries = {i: e for i, e in entries.items() if e.get("notebook") in present}
        data_dir = config.data_param
        shared = cache.shared_data_fingerprint()
        views = cache.Views(data_dir, out / ".cache" / "views.json")
        digests: dict[Path, str] = {}
        todo: list[tuple[Job, str]] = []
        reused = 0
        for job in jobs:
            if job.path not in digests:
                digests[job.path] = cache.notebook_digest(job.path)
            key = cache.input_key(notebook_sha=digests[job.path], parameters=job.parameters,
                                  kernel=config.kernel, shared_data=shared)
            entry = entries.get(job.id)
            if not force and entry and cache.reusable(entry.get("report"), key,
                                                      views.for_job(job.fiscal_year),
                                                      data_dir, out):
                entry["failure"] = None  # the good report matches the inputs again
                reused += 1
            else:
                todo.append((job, key))
        summary = RunSummary(EXIT_OK, total=len(jobs), reused=reused,
                             index=out / outputs.INDEX)
        run_id = _run_id()
        started = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        workers = min(config.workers, len(todo)) if todo else 0
        if data_dir:
            from ..data.loading import overlay_summary  # heavy: pandas

            for line in overlay_summary(data_dir):
                echo(f"overlay: {line}")
        echo(f"{len(jobs)} reports planned: {reused} reused (inputs unchanged), "
             f"{len(todo)} to execute" + (f" on {workers} worker(s)" if todo else ""))
        if todo and data_dir:
            echo("executed for the changed data: " + ", ".join(sorted({j.id for j, _ in todo})))

        job_ids = {j.id for j in jobs}

        def run_info(interrupted: bool = False) -> dict[str, Any]:
            summary.failed = [i for i, e in entries.items() if i in job_ids and e.get("failure")]
            summary.seconds = time.monotonic() - t0
            summary.interrupted = interrupted
            return {"id": run_id, "started": started,
                    "finished": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
                    "total": summary.total, "executed": summary.executed,
                    "reused": summary.reused, "failed": len(summary.failed),
                    "seconds": round(summary.seconds, 1), "interrupted": interrupted,
                    "package_version": wardanalysis.__version__,
                    "data_dir": data_dir, "workers": workers, "force": force,
                    "exploratory": config.exploratory}

        def publish(interrupted: bool = False) -> dict[str, Any]:
            for i, e in entries.items():
                e["kept"] = i not in job_ids
            built = outputs.build_manifest(entries, run_info(interrupted))
            outputs.commit(out, built)
            return built

        stopped_by = 0
        if todo:
            stopped_by = _execute(todo, config, entries, run_id, views, echo, publish, summary,
                                  progress)
        interrupted = bool(stopped_by)
        final = publish(interrupted)
        outputs.collect_garbage(out, final)
        views.save()
    sweep_scratch()
    summary.seconds = time.monotonic() - t0
    summary.interrupted = interrupted
    if interrupted:
        summary.exit_code = 128 + stopped_by
    elif summary.failed:
        summary.exit_code = EXIT_FAILED
    return summary


def _execute(todo: list[tuple[Job, str]], config: Any, entries: dict[str, dict[str, Any]],
             run_id: str, views: cache.Views, echo: Callable[[str], None],
             publish: Callable[[bool], Any], summary: RunSummary, progress: bool | None) -> int:
    """Execute ``todo``; 0, or the number of the signal that stopped the run."""
    data_dir = config.data_param
    by_id: dict[str, Job] = {job.id: job for job, _ in todo}

    def messages() -> list[dict[str, Any]]:
        checksum = wardanalysis.data_checksum(data_dir)
        found = []
        for job, key in todo:
            try:
                notebook_file = str(job.path.resolve().relative_to(
                    config.notebooks_dir.resolve().parent))
            except ValueError:
                notebook_file = job.path.name
            previous = entries.get(job.id) or {}
            last = previous.get("failure") or previous.get("report") or {}
            good = previous.get("report") or {}
            # a report made from the user's data: if this run makes it from simulated data,
            # its page and the front page say so
            real = ([Path(o["file"]).name for o in (good.get("overlays") or {}).values()]
                    if good.get("headline") and not good["headline"]["simulated"] else [])
            found.append({
                "id": job.id, "notebook": job.notebook, "variant": job.variant,
                "fiscal_year": job.fiscal_year, "lang": job.lang, "path": str(job.path),
                "notebook_file": notebook_file, "parameters": job.parameters, "key": key,
                "kernel": config.kernel, "timeout": config.timeout, "out": str(config.out),
                "run_id": run_id, "data_checksum": checksum,
                "fiscal_years": list(config.data_years or []),
                "package_version": wardanalysis.__version__,
                "datasets_now": views.for_job(job.fiscal_year), "previous_user_files": real,
                "_expected": float(last.get("duration_s") or 0.0),
            })
        # Longest first (by the last known duration) keeps the workers busy until the end.
        found.sort(key=lambda m: -m.pop("_expected"))
        return found

    bar = tqdm(total=len(todo), unit="nb", file=sys.stderr, leave=False,
               disable=(not sys.stderr.isatty()) if progress is None else not progress,
               dynamic_ncols=True)

    last_commit = [time.monotonic()]

    def on_done(message: dict[str, Any], attempt: dict[str, Any]) -> None:
        job = by_id[message["id"]]
        attempt.setdefault("parameters", job.parameters)
        attempt.setdefault("run_id", run_id)
        entry = entries.setdefault(job.id, {"id": job.id, "notebook": job.notebook,
                                            "fiscal_year": job.fiscal_year, "lang": job.lang,
                                            "report": None, "failure": None})
        if attempt.get("status") == "ok":
            entry["report"], entry["failure"] = attempt, None
        else:
            entry["failure"] = attempt  # an earlier good report stays, marked stale
        summary.executed += 1
        bar.update(1)
        bar.clear()
        echo(_job_line(job, attempt))
        bar.refresh()
        # Commit now and then, not after every notebook: each commit writes the manifest,
        # results.csv and .xlsx, the run log and the front pages (fsynced), in this process,
        # beside the notebook threads. A run killed in between loses at most the last
        # COMMIT_INTERVAL seconds from the index (the reports themselves are published as they
        # finish), never consistency; the next run completes it.
        now = time.monotonic()
        if now - last_commit[0] >= COMMIT_INTERVAL:
            publish(False)
            last_commit[0] = now

    try:
        return run_jobs(messages(), workers=config.workers, on_done=on_done)
    finally:
        bar.close()
