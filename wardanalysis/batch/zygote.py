"""A fork server for kernels: import the heavy libraries once, then fork one fresh kernel per notebook.

Starting a kernel and importing pandas, statsmodels, matplotlib and seaborn costs seconds per
notebook, more than most notebooks take to run. This process (one per batch run, shared by the
workers) imports those modules *without running any user code and without binding any name in a
user namespace*, then waits. For each notebook it forks a child that becomes an ordinary ipykernel:
a new process with a new, empty user namespace, whose ``import pandas`` finds the module already
in ``sys.modules``. Each child runs exactly one notebook and is killed afterwards, so no state
passes from one notebook to the next; the fork server itself never executes a notebook cell.

Only modules without import-time side effects on global settings are preloaded by default:
``matplotlib_fontja`` (which changes ``rcParams`` when imported) and the inline plotting backend
(which hooks into IPython when imported) are deliberately left to the kernel.

Protocol: the server listens on a Unix socket (``--socket PATH``). A client sends JSON lines,
``{"ping": true}`` (answered ``{"ready": true}`` once the modules are loaded) or ``{"argv": [...],
"env": {...}, "cwd": ..., "log": ...}`` (answered ``{"pid": N}``). When a client disconnects,
the kernels it asked for are killed. The server writes ``{"listening": true}`` on stdout, and ends
at end of stdin; it dies with its parent, and its kernels die with it.

Run as ``python -P -m wardanalysis.batch.zygote --socket PATH [MODULE...]``.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pkgutil
import selectors
import shutil
import signal
import socket
import sys
import time
from typing import Any

from .procs import die_with_parent, kill_group, protocol_streams, send

#: What a kernel imports for the notebooks; ``wardanalysis.*`` stands for the package's modules.
DEFAULT_PRELOAD = (
    "numpy",
    "pandas",
    "scipy.stats",
    "statsmodels.api",
    "statsmodels.formula.api",
    "statsmodels.stats.proportion",
    "statsmodels.stats.rates",
    "statsmodels.stats.multitest",
    "matplotlib",
    "matplotlib.pyplot",
    "seaborn",
    "PIL.Image",
    "IPython",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "wardanalysis.*",
)

#: Package modules that are entry points or belong to the batch itself, never to a notebook.
_NOT_PRELOADED = ("wardanalysis.__main__", "wardanalysis.cli", "wardanalysis.batch",
                  "wardanalysis.refresh")

#: The backend ipykernel selects when nothing else is set; set here *before* matplotlib is
#: imported, so the preloaded matplotlib resolves the same backend a fresh kernel would.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def expand(modules: list[str] | tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for name in modules:
        if name.endswith(".*"):
            root = importlib.import_module(name[:-2])
            for info in pkgutil.walk_packages(root.__path__, prefix=root.__name__ + "."):
                if not info.name.startswith(_NOT_PRELOADED):
                    out.append(info.name)
        else:
            out.append(name)
    return out


def preload(modules: list[str] | tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    loaded: list[str] = []
    failed: dict[str, str] = {}
    for name in expand(modules):
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception as exc:  # a missing optional library only costs speed
            failed[name] = f"{type(exc).__name__}: {exc}"
    return loaded, failed


def _child(request: dict[str, Any], zygote_pid: int, inherited: list[int]) -> None:
    """Become an ipykernel. Never returns."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.setsid()
        die_with_parent(signal.SIGKILL, expected_parent=zygote_pid)
        for fd in inherited:  # the fork server's sockets and pipes are not the kernel's business
            with contextlib.suppress(OSError):
                os.close(fd)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(null)
        os.close(log)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ["JPY_PARENT_PID"] = str(zygote_pid)
        # ipykernel read JPY_PARENT_PID when the fork server imported it; say it again.
        sys.argv = ["ipykernel_launcher", *request["argv"],
                    f"--IPKernelApp.parent_handle={zygote_pid}"]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # report anything, then leave without unwinding into the server
        import traceback

        traceback.print_exc()
    finally:
        try:
            import atexit

            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


class _Client:
    def __init__(self, conn: socket.socket):
        self.conn = conn
        self.buffer = b""
        self.pids: set[int] = set()

    def reply(self, message: dict[str, Any]) -> None:
        self.conn.sendall(json.dumps(message).encode() + b"\n")

    def kill_kernels(self) -> None:
        for pid in self.pids:
            kill_group(pid, signal.SIGKILL)
        self.pids.clear()


def serve(socket_path: str, modules: list[str] | tuple[str, ...]) -> int:
    parent = int(os.environ.get("WARDANALYSIS_ZYGOTE_PARENT", os.getppid()))
    clients: dict[int, _Client] = {}

    def orphaned(signum: int, frame: object) -> None:
        # The batch died without closing our input (SIGKILL): kill the kernels and remove the
        # socket's private directory, which nobody else will.
        try:
            for client in list(clients.values()):
                client.kill_kernels()
            shutil.rmtree(os.path.dirname(socket_path), ignore_errors=True)
        finally:
            os._exit(128 + signum)

    signal.signal(signal.SIGTERM, orphaned)
    die_with_parent(signal.SIGTERM, expected_parent=parent)
    proto_in, proto_out = protocol_streams()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(64)
    # Clients may connect (and wait) while the modules load.
    send(proto_out, {"listening": True, "pid": os.getpid()})
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    started = time.perf_counter()
    loaded, failed = preload(modules)
    info = {"ready": True, "pid": os.getpid(), "loaded": len(loaded), "failed": failed,
            "seconds": round(time.perf_counter() - started, 3)}
    # Children are reaped automatically; each child restores the default before becoming a kernel.
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    zygote_pid = os.getpid()
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ)
    sel.register(proto_in, selectors.EVENT_READ)

    def drop(client: _Client) -> None:
        client.kill_kernels()
        sel.unregister(client.conn)
        clients.pop(client.conn.fileno(), None)
        client.conn.close()

    while True:
        for key, _ in sel.select():
            if key.fileobj is listener:
                conn, _ = listener.accept()
                clients[conn.fileno()] = _Client(conn)
                sel.register(conn, selectors.EVENT_READ)
            elif key.fileobj is proto_in:
                if not os.read(proto_in.fileno(), 4096):  # the batch is over
                    for client in list(clients.values()):
                        drop(client)
                    return 0
            else:
                client = clients[key.fd]
                try:
                    data = client.conn.recv(1 << 16)
                except OSError:
                    data = b""
                if not data:  # the worker is gone: so are its kernels
                    drop(client)
                    continue
                client.buffer += data
                *lines, client.buffer = client.buffer.split(b"\n")
                for line in lines:
                    if not line.strip():
                        continue
                    request = json.loads(line)
                    if request.get("ping"):
                        client.reply(info)
                        continue
                    client.pids = {p for p in client.pids if _alive(p)}
                    inherited = [listener.fileno(), proto_in.fileno(), proto_out.fileno(),
                                 *clients]
                    pid = os.fork()
                    if pid == 0:
                        _child(request, zygote_pid, inherited)
                    client.pids.add(pid)
                    client.reply({"pid": pid})


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if len(argv) < 2 or argv[0] != "--socket":
        print("usage: python -m wardanalysis.batch.zygote --socket PATH [MODULE...]",
              file=sys.stderr)
        return 2
    try:
        return serve(argv[1], argv[2:] or DEFAULT_PRELOAD)
    except KeyboardInterrupt:  # Ctrl-C reached the whole process group: the run is stopping
        return 130
    except FileNotFoundError:  # the run removed its scratch directory while we started
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
