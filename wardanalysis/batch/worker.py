"""A batch worker process: executes the jobs its parent sends, one at a time.

Run as ``python -P -m wardanalysis.batch.worker KERNEL_START [PRELOAD_JSON]``. Protocol (JSON
lines on stdin/stdout): the worker writes ``{"ready": true}`` once papermill, the HTML exporters
and (with ``fork``) its kernel fork server are loaded; then answers each ``{"job": {...}}`` with
``{"done": attempt}``. End of input ends the worker. It dies with its parent (SIGTERM), and its
fork server and kernels die with it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback

from .procs import die_with_parent, protocol_streams, receive, send

#: The worker's executor, once it exists: what SIGTERM has to clean up.
_EXECUTOR: list[object] = []


def _terminate(signum: int, frame: object) -> None:
    """Exit now. SIGTERM comes from a parent that is gone or is shutting the batch down; an
    orderly exit (raising SystemExit) could wait on a kernel or be swallowed inside an event
    loop, leaving the worker behind. Its kernels are killed by process group first; its fork
    server client's socket closes with the process, so the fork server kills what it forked."""
    try:
        for executor in _EXECUTOR:
            executor.abandon()  # type: ignore[attr-defined]
    finally:
        os._exit(128 + signum)


def _install_handlers() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what Ctrl-C means


def _skip_unused_imports() -> None:
    """jsonschema (under nbformat, under papermill) imports ``rfc3987_syntax`` when it is
    installed, to check the "iri" formats; that compiles a grammar and costs about 1 s per
    process, two thirds of importing papermill. Nothing here checks formats, so make that
    optional import fail (jsonschema then leaves those formats unchecked)."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _skip_unused_imports()
    kernel_start = argv[0] if argv else "fork"
    preload = json.loads(argv[1]) if len(argv) > 1 and argv[1] != "null" else None
    parent = int(os.environ.get("WARDANALYSIS_BATCH_PARENT", os.getppid()))
    die_with_parent(signal.SIGTERM, expected_parent=parent)
    _install_handlers()
    proto_in, proto_out = protocol_streams()

    from .execute import Executor
    from .kernels import SOCKET_ENV

    executor = Executor(kernel_start=kernel_start, preload=preload,
                        zygote_socket=os.environ.get(SOCKET_ENV))
    _EXECUTOR.append(executor)
    try:
        send(proto_out, {"ready": True, "pid": os.getpid()})
        while True:
            message = receive(proto_in)
            if message is None:
                return 0
            job = message["job"]
            try:
                attempt = executor.run_job(job)
            except Exception as exc:  # a bug of ours, not the notebook's: report it, go on
                traceback.print_exc()
                attempt = {"status": "failed", "error": f"batch error: {type(exc).__name__}: "
                           f"{exc}", "traceback": traceback.format_exc(), "files": {}}
            _install_handlers()  # nbclient replaces them while a notebook runs
            send(proto_out, {"done": attempt, "id": job["id"]})
    finally:
        executor.close()


def _run() -> None:
    code = main()
    # Everything is closed; skip tearing down papermill's and nbconvert's modules (~0.2 s).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _run()
