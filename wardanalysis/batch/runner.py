"""``wardanalysis run`` as a function: plan, reuse what is unchanged, execute the rest, publish."""

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

from ..data.datafiles import sha256
from ..errors import OutputDirError
from . import cache, outputs
from .config import (
    BatchConfig,
    Job,
    Overrides,
    ParamsError,
    discover_notebooks,
    load_config,
    plan_jobs,
)
from .execute import run_jobs, sweep_scratch

#: Exit statuses; a run stopped by a signal exits with 128 + its number (130 or 143).
EXIT_OK, EXIT_FAILED, EXIT_PARAMS = 0, 1, 2
#: Seconds between intermediate commits of manifest, results.csv and index while notebooks run:
#: each commit rewrites (and fsyncs) every top-level file; a run killed in between loses at most
#: this much from the index (never consistency, and not the reports, placed as they finish).
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
        return (f"{self.total} reports: {self.executed} executed, {self.reused} reused (inputs "
                f"unchanged), {len(self.failed)} failed in {self.seconds:.1f} s"
                + ("; INTERRUPTED" if self.interrupted else ""))


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def run_batch(overrides: Overrides | None = None, *, force: bool = False,
              notebooks_directory: Path | None = None, params_directory: Path | None = None,
              echo: Callable[[str], None] = print, progress: bool | None = None,
              prune: bool = False) -> RunSummary:
    """Run the batch (see :mod:`wardanalysis.batch`). A notebook's failure or invalid parameters
    raise nothing (exit code 1 or 2, ``failed`` or ``errors``); an output folder it may not write
    (not the package's, a file, unwritable, full) raises
    :class:`~wardanalysis.errors.OutputDirError`. ``prune`` drops the reports of notebooks no
    longer in the notebooks folder."""
    t0 = time.monotonic()
    overrides = overrides or Overrides()

    def data_years(data_dir: list[Path] | None, out: Path) -> list[int]:
        # cached in the output folder only if it is one of ours (not one a refused run made)
        ours = out.is_dir() and outputs.is_ours(out)
        return cache.fiscal_years_in_data(data_dir, out / ".cache" / "fiscal_years.json"
                                          if ours else None)

    try:
        config = load_config(overrides, notebooks_directory=notebooks_directory,
                             params_directory=params_directory, data_years=data_years)
    except ParamsError as exc:
        return RunSummary(EXIT_PARAMS, errors=[str(p) for p in exc.problems],
                          seconds=time.monotonic() - t0)
    for stem, why in config.skipped.items():
        echo(f"skipped: {stem}.ipynb {why} (not a batch notebook)")
    out = config.out
    if config.exploratory:
        echo(f"exploratory run ({'; '.join(config.exploratory)}): written to {out}, marked as "
             "exploratory on its front page" + ("" if overrides.out else
                                                "; the canonical reports are unchanged"))
    outputs.check_out_dir(out)
    try:
        with outputs.locked(out):
            summary = _run_locked(config, plan_jobs(config), force, prune, echo, progress, t0)
    except OSError as exc:  # the folder became unwritable or the disk filled up
        raise OutputDirError(f"cannot write the reports in {out}: {exc.strerror} "
                             f"({exc.filename or out}); earlier reports are unchanged") from None
    sweep_scratch()
    summary.seconds = time.monotonic() - t0
    if summary.interrupted:
        summary.exit_code = 128 + summary.exit_code
    elif summary.failed:
        summary.exit_code = EXIT_FAILED
    return summary


def _run_locked(config: BatchConfig, jobs: list[Job], force: bool, prune: bool,
                echo: Callable[[str], None], progress: bool | None, t0: float) -> RunSummary:
    """The run inside the output folder's lock; ``exit_code`` is the stopping signal, if any."""
    out, data_dir = config.out, config.data_param
    entries = outputs.entries_by_id(outputs.read_manifest(out))
    # A run replaces only the reports it executes; the others stay, listed as kept, unless
    # --prune removes those whose notebook is gone.
    if prune:
        present = set(discover_notebooks(config.notebooks_dir))
        entries = {i: e for i, e in entries.items() if e.get("notebook") in present}
    shared = cache.shared_data_fingerprint()
    views = cache.Views(data_dir, out / ".cache" / "views.json")
    todo: list[tuple[Job, str]] = []
    for job in jobs:
        key = cache.input_key(notebook_sha=sha256(job.path),
                              parameters=job.parameters, kernel=config.kernel,
                              shared_data=shared)
        entry = entries.get(job.id)
        if not force and entry and cache.reusable(entry.get("report"), key,
                                                  views.for_job(job.fiscal_year), data_dir, out):
            entry["failure"] = None  # the good report matches the inputs again
        else:
            todo.append((job, key))
    summary = RunSummary(EXIT_OK, total=len(jobs), reused=len(jobs) - len(todo),
                         index=out / outputs.INDEX)
    run_id = dt.datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(3)
    started = _utc_now()
    workers = min(config.workers, len(todo))
    if data_dir:
        from ..data.loading import overlay_summary  # heavy: pandas

        for line in overlay_summary(data_dir):
            echo(f"overlay: {line}")
    echo(f"{len(jobs)} reports planned: {summary.reused} reused (inputs unchanged), "
         f"{len(todo)} to execute" + (f" on {workers} worker(s)" if todo else ""))
    if todo and data_dir:
        echo("executed for the changed data: " + ", ".join(sorted({j.id for j, _ in todo})))
    job_ids = {j.id for j in jobs}

    def publish() -> dict[str, Any]:
        summary.failed = [i for i, e in entries.items() if i in job_ids and e.get("failure")]
        for i, e in entries.items():
            e["kept"] = i not in job_ids
        run = {"id": run_id, "started": started, "finished": _utc_now(),
               "total": summary.total, "executed": summary.executed, "reused": summary.reused,
               "failed": len(summary.failed), "seconds": round(time.monotonic() - t0, 1),
               "interrupted": summary.interrupted,
               "package_version": wardanalysis.__version__, "data_dir": data_dir,
               "workers": workers, "force": force, "exploratory": config.exploratory}
        built = outputs.build_manifest(entries, run)
        outputs.commit(out, built)
        return built

    if todo:
        summary.exit_code = _execute(todo, config, entries, run_id, views, echo, publish,
                                     summary, progress)
        summary.interrupted = bool(summary.exit_code)
    outputs.collect_garbage(out, publish())
    views.save()
    return summary


def _execute(todo: list[tuple[Job, str]], config: BatchConfig, entries: dict[str, Any],
             run_id: str, views: cache.Views, echo: Callable[[str], None],
             publish: Callable[[], Any], summary: RunSummary, progress: bool | None) -> int:
    """Execute ``todo``; 0, or the number of the signal that stopped the run."""
    common = {"kernel": config.kernel, "timeout": config.timeout, "out": str(config.out),
              "run_id": run_id, "data_checksum": wardanalysis.data_checksum(config.data_param),
              "fiscal_years": list(config.data_years),
              "package_version": wardanalysis.__version__}
    by_id: dict[str, Job] = {}
    messages = []
    for job, key in todo:
        by_id[job.id] = job
        try:
            notebook_file = str(job.path.resolve().relative_to(config.notebooks_dir.parent))
        except ValueError:
            notebook_file = job.path.name
        previous = entries.get(job.id) or {}
        good = previous.get("report") or {}
        # made from the user's data last time: if simulated now, its pages say so
        real = ([Path(o["file"]).name for o in (good.get("overlays") or {}).values()]
                if good.get("headline") and not good["headline"]["simulated"] else [])
        messages.append({
            **common, "id": job.id, "notebook": job.notebook, "variant": job.variant,
            "fiscal_year": job.fiscal_year, "lang": job.lang, "path": str(job.path),
            "notebook_file": notebook_file, "parameters": job.parameters, "key": key,
            "datasets_now": views.for_job(job.fiscal_year), "previous_user_files": real,
            "_expected": float((previous.get("failure") or good).get("duration_s") or 0.0),
        })
    # Longest first (by the last known duration) keeps the workers busy until the end.
    messages.sort(key=lambda m: -m.pop("_expected"))
    bar = tqdm(total=len(todo), unit="nb", file=sys.stderr, leave=False, dynamic_ncols=True,
               disable=(not sys.stderr.isatty()) if progress is None else not progress)
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
        seconds = attempt.get("duration_s")
        shown = " ".join([job.notebook, *([] if job.fiscal_year is None else
                                          [f"fiscal_year={job.fiscal_year}"]),
                          f"lang={job.lang}", *(f"{k}={v!r}" for k, v in job.parameters.items()
                                                if k not in ("lang", "fiscal_year", "data_dir"))])
        echo(f"{attempt.get('status', 'failed'):>7}  "
             f"{'' if seconds is None else f'{seconds:6.1f} s'}  {shown}"
             + (f"  ← {attempt['error']}" if attempt.get("error") else ""))
        bar.refresh()
        if time.monotonic() - last_commit[0] >= COMMIT_INTERVAL:
            publish()
            last_commit[0] = time.monotonic()

    try:
        return run_jobs(messages, workers=config.workers, on_done=on_done)
    finally:
        bar.close()
