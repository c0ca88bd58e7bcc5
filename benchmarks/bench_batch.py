"""How fast is ``wardanalysis run``? (``make bench``)

Times the full default batch (every notebook, every fiscal year, ja and en, as ``params/
batch.yaml`` says) three ways, each as the median of several repetitions:

- **loop**: the obvious loop a user would write: for each notebook run, the ``papermill`` CLI and
  then two ``jupyter nbconvert --to html`` calls (the two views the batch renders: without and
  with code);
- **force**: ``wardanalysis run --force`` (worker processes, an ordinary kernel per notebook,
  rendering in the worker);
- **cached**: ``wardanalysis run`` again with nothing changed.

It also measures the **floor**: starting one kernel and importing the libraries the notebooks use,
which every notebook pays.
While the forced runs execute it samples the memory of the whole process tree (RSS and PSS) and
keeps the peak. Ratios are printed and written to ``benchmarks/results/latest.json`` and
``latest.md``.

Runs on whatever ``notebooks/`` holds; ``--fixtures`` uses the end-to-end test fixtures instead
(automatic when ``notebooks/`` has no notebook).

    python benchmarks/bench_batch.py [--fixtures] [--repeat 3] [--loop-repeat N] [--workers N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "e2e" / "fixtures"
RESULTS = REPO / "benchmarks" / "results"
PY = sys.executable
BIN = Path(PY).parent
#: What the notebooks import (the floor's kernel imports them too).
LIBRARIES = ("numpy", "pandas", "scipy.stats", "statsmodels.api", "matplotlib.pyplot", "seaborn",
             "matplotlib_fontja", "wardanalysis", "wardanalysis.models", "wardanalysis.report")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # Kernels get ipykernel's own default backend (inline), in the batch and in the loop alike
    # (the Makefile exports MPLBACKEND=Agg).
    env.pop("MPLBACKEND", None)
    return env


class MemorySampler:
    """Peak total RSS and PSS of a process and all its descendants, sampled every 0.1 s."""

    def __init__(self, pid: int):
        self.root = psutil.Process(pid)
        self.peak_rss = 0
        self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        tick = 0
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            rss = pss = 0
            for p in procs:
                try:
                    if tick % 5 == 0:
                        info = p.memory_full_info()
                        rss += info.rss
                        pss += info.pss
                    else:
                        rss += p.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_pss = max(self.peak_pss, pss)
            tick += 1
            time.sleep(0.1)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def _timed(cmd: list[str], *, sample: bool = False, check: bool = True,
           cwd: Path | None = None) -> tuple[float, dict[str, int]]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=_env(), cwd=cwd, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    sampler = MemorySampler(proc.pid) if sample else None
    _, err = proc.communicate()
    seconds = time.perf_counter() - t0
    memory = {}
    if sampler:
        sampler.stop()
        memory = {"peak_rss_bytes": sampler.peak_rss, "peak_pss_bytes": sampler.peak_pss}
    if check and proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err[-3000:]}")
    return seconds, memory


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --------------------------------------------------------------------------- the four ways


def floor_seconds(repeat: int) -> list[float]:
    """Start a kernel, import the notebooks' libraries in it, shut it down."""
    from jupyter_client.manager import start_new_kernel

    code = "\n".join(f"import {m}" for m in LIBRARIES)
    times = []
    old = os.environ.pop("MPLBACKEND", None)
    try:
        for _ in range(repeat):
            t0 = time.perf_counter()
            km, kc = start_new_kernel(kernel_name="python3", stderr=subprocess.DEVNULL)
            try:
                reply = kc.execute_interactive(code, timeout=120, store_history=False,
                                               output_hook=lambda msg: None)
                assert reply["content"]["status"] == "ok", reply["content"]
            finally:
                kc.stop_channels()
                km.shutdown_kernel(now=True)
            times.append(time.perf_counter() - t0)
    finally:
        if old is not None:
            os.environ["MPLBACKEND"] = old
    return times


def loop_seconds(jobs: list[Any], work: Path) -> float:
    """papermill CLI, then jupyter nbconvert twice (without and with code), one notebook after
    another."""
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for i, job in enumerate(jobs):
        out = work / f"{i:03d}-{job.notebook}.ipynb"
        cmd = [str(BIN / "papermill"), str(job.path), str(out), "--cwd", str(work),
               "--no-progress-bar"]
        for name, value in job.parameters.items():
            if value is None:
                cmd += ["-y", f"{name}: null"]
            else:
                cmd += ["-p", name, str(value)]
        subprocess.run(cmd, env=_env(), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        for view in (["--no-input"], []):
            subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "html", *view,
                            "--output", f"{out.stem}{'-review' if view else '-full'}", str(out)],
                           env=_env(), check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def run_cmd(nb_dir: Path, params: Path, out: Path, workers: int, *extra: str) -> list[str]:
    return [PY, "-m", "wardanalysis", "run", "--notebooks-dir", str(nb_dir), "--params-dir",
            str(params), "--out", str(out), "--workers", str(workers), "--no-progress", *extra]


def _durations(out: Path) -> dict[str, float]:
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    bad = [e["id"] for e in manifest["reports"] if e["status"] != "ok"]
    if bad:
        raise SystemExit(f"the benchmark batch has failing notebooks: {bad}")
    return {e["id"]: e["report"]["duration_s"] for e in manifest["reports"]}


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    from wardanalysis.batch.config import default_workers

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", action="store_true",
                        help="benchmark the e2e fixture notebooks instead of notebooks/")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of each way (3)")
    parser.add_argument("--loop-repeat", type=int, help="repetitions of the slow loop "
                        "(default: --repeat)")
    parser.add_argument("--workers", type=int, default=default_workers(),
                        help="notebooks at once (the batch's default: one more than the cores)")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))
    from wardanalysis.batch.config import Overrides, load_config, plan_jobs
    from wardanalysis.paths import notebooks_dir, params_dir

    work = Path(tempfile.mkdtemp(prefix="wardanalysis-bench-"))
    try:
        real = sorted(notebooks_dir().glob("*.ipynb"))
        if args.fixtures or not real:
            source = "tests/e2e/fixtures (--fixtures)" if args.fixtures else \
                "tests/e2e/fixtures (notebooks/ holds no notebook yet)"
            nb_dir = FIXTURES / "notebooks"
            params = work / "params"
            params.mkdir()
            # The repository's batch settings (every fiscal year, ja and en), no per-notebook files.
            shutil.copy(params_dir() / "batch.yaml", params / "batch.yaml")
        else:
            source, nb_dir, params = "notebooks/", notebooks_dir(), params_dir()
        config = load_config(Overrides(workers=args.workers), notebooks_directory=nb_dir,
                             params_directory=params)
        jobs = plan_jobs(config)
        n = len(jobs)
        repeat = max(1, args.repeat)
        loop_repeat = max(1, args.loop_repeat or repeat)
        print(f"benchmark: {n} notebook runs from {source}; {args.workers} workers; "
              f"{os.cpu_count()} cores; medians of {repeat} (loop: {loop_repeat})", flush=True)

        floor = floor_seconds(max(3, repeat))
        print(f"floor (start a kernel + import the libraries): {_median(floor):.2f} s", flush=True)

        force, cached, memory = [], [], []
        out = work / "reports"
        for i in range(repeat):
            s, mem = _timed(run_cmd(nb_dir, params, out, args.workers, "--force"), sample=True)
            force.append(s)
            memory.append(mem)
            print(f"wardanalysis run --force #{i + 1}: {s:.2f} s, peak PSS "
                  f"{mem['peak_pss_bytes'] / 2**20:.0f} MiB, RSS {mem['peak_rss_bytes'] / 2**20:.0f}"
                  f" MiB", flush=True)
        durations = _durations(out)
        for _ in range(max(5, repeat)):
            s, _ = _timed(run_cmd(nb_dir, params, out, args.workers))
            cached.append(s)
        print(f"wardanalysis run (cached): {_median(cached):.3f} s", flush=True)
        loop = []
        for i in range(loop_repeat):
            s = loop_seconds(jobs, work / f"loop{i}")
            loop.append(s)
            print(f"obvious loop #{i + 1}: {s:.2f} s", flush=True)

        med = {"loop": _median(loop), "force": _median(force),
               "cached": _median(cached), "floor": _median(floor)}
        result: dict[str, Any] = {
            "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform(),
                        "memory_bytes": psutil.virtual_memory().total},
            "notebooks": source,
            "notebook_runs": n,
            "workers": args.workers,
            "repetitions": {"batch": repeat, "loop": loop_repeat},
            "seconds": {"loop": loop, "force": force, "cached": cached,
                        "floor": floor},
            "median_seconds": med,
            "per_notebook_seconds": {
                "loop": med["loop"] / n,
                "force_wall_x_workers": med["force"] * args.workers / n,
                "notebook_execution_mean": statistics.mean(durations.values()),
                "floor": med["floor"],
            },
            "ratios": {
                "loop_over_force": med["loop"] / med["force"],
                "cached_over_force_pct": 100 * med["cached"] / med["force"],
                "cold_floor_bound_over_force": (n * med["floor"] / args.workers) / med["force"],
            },
            "targets": {"loop_over_force_at_least": 4, "cached_over_force_pct_below": 3,
                        "peak_memory_below_bytes": 2 * 2**30},
            "peak_memory": {
                "pss_bytes": max(m["peak_pss_bytes"] for m in memory),
                "rss_sum_bytes": max(m["peak_rss_bytes"] for m in memory),
            },
        }
        r = result["ratios"]
        lines = [
            f"# Batch benchmark ({result['date']})",
            "",
            f"{n} notebook runs from {source}, {args.workers} workers on {os.cpu_count()} "
            f"cores; medians of {repeat} repetitions (loop: {loop_repeat}).",
            "",
            "| way | median s | per notebook s |",
            "|---|---:|---:|",
            f"| obvious loop (papermill CLI + 2 nbconvert CLI) | {med['loop']:.2f} | "
            f"{med['loop'] / n:.2f} |",
            f"| wardanalysis run --force | {med['force']:.2f} | {med['force'] / n:.2f} |",
            f"| wardanalysis run, cached | {med['cached']:.3f} | |",
            f"| floor: start a kernel + import the libraries | {med['floor']:.2f} | |",
            "",
            f"- loop / force: **{r['loop_over_force']:.1f}x** (target at least 4x)",
            f"- cached / force: **{r['cached_over_force_pct']:.2f} %** (target below 3 %)",
            f"- cold-start floor x runs / workers = {n * med['floor'] / args.workers:.1f} s, "
            f"{r['cold_floor_bound_over_force']:.2f}x the forced run",
            f"- peak memory of the batch's process tree: PSS "
            f"{result['peak_memory']['pss_bytes'] / 2**20:.0f} MiB (RSS summed "
            f"{result['peak_memory']['rss_sum_bytes'] / 2**20:.0f} MiB; target below 2 GiB)",
            f"- mean notebook execution inside the batch (kernel start to last cell): "
            f"{result['per_notebook_seconds']['notebook_execution_mean']:.2f} s",
        ]
        text = "\n".join(lines) + "\n"
        print()
        print(text)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        args.output.with_suffix(".md").write_text(text, encoding="utf-8")
        print(f"written: {args.output} and {args.output.with_suffix('.md')}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
