"""The parent's side of the worker processes: start them, hand out jobs, collect attempts, and
stop them all, whatever happens.

Workers run in their own sessions, so a Ctrl-C at the terminal reaches only this process, which
then stops the workers in order: their input is closed, then they are sent SIGTERM, then, after a
grace period, their whole process group is killed. A worker that dies fails only the job it held;
another worker is started for the jobs still waiting.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .kernels import SCRATCH_ENV, SOCKET_ENV, ZygoteError, ZygoteServer
from .procs import SCRATCH_PREFIX, kill_group
from .zygote import INLINE_BACKEND

#: Environment every worker, fork server and kernel runs with. Kernels always use the inline
#: plotting backend (whatever MPLBACKEND the caller has, e.g. the Makefile's Agg), a fixed hash
#: seed (set iteration order, hence outputs, are the same in every run) and one BLAS thread
#: each (the workers already use the cores).
KERNEL_ENV = {"MPLBACKEND": INLINE_BACKEND, "PYTHONHASHSEED": "0"}
KERNEL_ENV_DEFAULTS = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "JUPYTER_PLATFORM_DIRS": "1",
}
GRACE_SECONDS = 5.0


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    for k, v in KERNEL_ENV_DEFAULTS.items():
        env.setdefault(k, v)
    env.update(KERNEL_ENV)
    env["WARDANALYSIS_BATCH_PARENT"] = str(os.getpid())
    return env


class _Worker:
    def __init__(self, number: int, kernel_start: str, preload: list[str] | None, log: IO[bytes],
                 env: dict[str, str]):
        self.number = number
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "wardanalysis.batch.worker", kernel_start,
             json.dumps(preload)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
            cwd="/",
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buffer = b""
        self.ready = False
        self.job: dict[str, Any] | None = None

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")
        self.proc.stdin.flush()

    def messages(self) -> tuple[list[dict[str, Any]], bool]:
        """Messages now readable, and whether the worker's output has ended."""
        assert self.proc.stdout is not None
        ended = False
        while True:
            try:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 16)
            except BlockingIOError:
                break
            if not chunk:
                ended = True
                break
            self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()], ended

    def close_input(self) -> None:
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run_jobs(
    jobs: list[dict[str, Any]] | Callable[[], list[dict[str, Any]]],
    count: int,
    *,
    workers: int,
    kernel_start: str,
    preload: list[str] | None,
    on_done: Callable[[dict[str, Any], dict[str, Any]], None],
    log_path: Path,
) -> bool:
    """Execute ``count`` jobs on up to ``workers`` processes; call ``on_done(job, attempt)`` for
    each. ``jobs`` may be a function giving the list, called once the processes are starting
    (so that the caller's own preparation overlaps their start-up).

    Returns False if interrupted (Ctrl-C or SIGTERM), True otherwise. Every worker, the fork
    server and every kernel have stopped when this returns or raises.
    """
    pending: deque[dict[str, Any]] = deque()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "wb")  # closed in finally
    selector = selectors.DefaultSelector()
    live: dict[int, _Worker] = {}
    started = 0
    failed_starts = 0
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM,)}
    signal.signal(signal.SIGTERM, _interrupt)
    server: ZygoteServer | None = None
    env = worker_env()
    # The kernels' directories go under one directory of this run's, removed at the end, so
    # that a worker killed outright leaves nothing behind in the temporary directory.
    scratch = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
    env[SCRATCH_ENV] = scratch

    def start() -> None:
        nonlocal started
        started += 1
        w = _Worker(started, kernel_start, preload, log, env)
        assert w.proc.stdout is not None
        live[w.proc.stdout.fileno()] = w
        selector.register(w.proc.stdout, selectors.EVENT_READ, w)

    def dispatch(w: _Worker) -> None:
        if pending:
            w.job = pending.popleft()
            try:
                w.send({"job": w.job})
            except OSError:
                pass  # it died; its end of output will tell
        else:
            w.job = None
            w.close_input()

    try:
        if kernel_start == "fork":
            try:
                server = ZygoteServer(preload, env=env, parent_dir=scratch)
                env[SOCKET_ENV] = server.socket_path
            except ZygoteError as exc:  # workers fall back to spawning kernels
                log.write(f"{exc}\n".encode())
        for _ in range(min(workers, count)):
            start()
        pending.extend(jobs() if callable(jobs) else jobs)
        while live:
            for key, _ in selector.select(timeout=1.0):
                w: _Worker = key.data
                messages, ended = w.messages()
                for message in messages:
                    if message.get("ready"):
                        w.ready = True
                        dispatch(w)
                    elif "done" in message and w.job is not None:
                        job, w.job = w.job, None
                        dispatch(w)  # keep the worker busy while the result is recorded
                        on_done(job, message["done"])
                if ended:
                    selector.unregister(key.fileobj)
                    del live[key.fd]
                    code = w.proc.wait()
                    if not w.ready:
                        failed_starts += 1
                    if w.job is not None:
                        on_done(w.job, {"status": "failed", "files": {},
                                        "error": f"the worker process died (exit status {code}) "
                                                 f"while running this notebook; see {log_path}"})
                        w.job = None
                    if pending and failed_starts < max(2, workers):
                        start()
        for job in pending:  # no worker could be started
            on_done(job, {"status": "failed", "files": {},
                          "error": f"no worker process could start; see {log_path}"})
        return True
    except KeyboardInterrupt:
        return False
    finally:
        _stop(list(live.values()))
        if server is not None:
            server.close()
        selector.close()
        log.close()
        shutil.rmtree(scratch, ignore_errors=True)
        for s, handler in previous.items():
            signal.signal(s, handler)


def _stop(workers: list[_Worker]) -> None:
    """Stop every worker: close input, SIGTERM, then kill the process group after a grace."""
    for w in workers:
        w.close_input()
        if w.job is not None:
            with contextlib.suppress(OSError):
                w.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE_SECONDS
    for w in workers:
        try:
            w.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        kill_group(w.proc.pid, signal.SIGKILL)  # the worker and its fork server
        w.proc.wait()
