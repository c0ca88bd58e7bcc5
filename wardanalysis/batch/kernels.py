"""Kernels for the batch: jupyter_client's own kernel manager, with kernels forked warm.

Starting a kernel and importing pandas, statsmodels, matplotlib and seaborn costs seconds per
notebook, more than most notebooks take to run. With ``kernel_start: fork`` the batch starts one
:mod:`multiprocessing` fork server (the standard library's ``forkserver`` context) that imports
those modules once, *without running any user code*, and every kernel is a fresh process forked
from it that becomes an ordinary ipykernel: a new, empty user namespace whose ``import pandas``
finds the module already loaded. Each kernel runs exactly one notebook and is killed afterwards.
With ``kernel_start: spawn`` kernels start from nothing, as ``jupyter`` starts them.

The pieces are public extension points of jupyter_client: :class:`BatchProvisioner` is a kernel
provisioner (registered under the ``jupyter_client.kernel_provisioners`` entry point), chosen for
ipykernel specs by :class:`BatchKernelSpecManager`; :func:`kernel_manager` builds an
``AsyncKernelManager`` whose ZeroMQ sockets are Unix sockets (``ipc``) and whose connection file
(it holds the kernel's HMAC key) lives in the kernel's own scratch directory, removed with it.

Every kernel runs in a session of its own (so that it and what it starts can be killed as a
group), writes its output to a log file, and dies with its parent (Linux ``PR_SET_PDEATHSIG``;
elsewhere ipykernel's own parent poller).
"""

from __future__ import annotations

import contextlib
import importlib.util
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# jsonschema (under nbformat, papermill and nbconvert) imports ``rfc3987_syntax`` when it is
# installed, to check "iri" formats; that compiles a grammar and costs about 1 s per process, a
# third of the fork server's imports. Nothing here checks formats: make that optional import fail
# (jsonschema then leaves those formats unchecked). This module is imported first, before them.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402
from jupyter_client.manager import AsyncKernelManager  # noqa: E402
from jupyter_client.provisioning import LocalProvisioner  # noqa: E402

#: The provisioner's name in the ``jupyter_client.kernel_provisioners`` entry point group.
PROVISIONER = "wardanalysis-batch"
#: The backend ipykernel selects when nothing else is set; set *before* matplotlib is imported,
#: so the preloaded matplotlib resolves the same backend a fresh kernel would.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
#: Environment of every kernel (and of the fork server they come from): the inline backend
#: whatever MPLBACKEND the caller has, a fixed hash seed (set iteration order, hence outputs, are
#: the same in every run), one BLAS thread each (the notebooks already use the cores).
KERNEL_ENV = {"MPLBACKEND": INLINE_BACKEND, "PYTHONHASHSEED": "0"}
KERNEL_ENV_DEFAULTS = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "JUPYTER_PLATFORM_DIRS": "1",
}
#: Marks every process a run starts (tests use it to find leftovers).
PARENT_ENV = "WARDANALYSIS_BATCH_PARENT"
#: Where a kernel's output goes; read by the provisioner from the launch environment.
LOG_ENV = "WARDANALYSIS_KERNEL_LOG"

#: What the fork server imports; ``wardanalysis.*`` stands for the package's modules. Only
#: modules without import-time side effects on global settings belong here: ``matplotlib_fontja``
#: (which changes ``rcParams``) and the inline backend (which hooks into IPython) are left to the
#: kernel. The rendering modules are here too: the batch's page renderers fork from it as well.
DEFAULT_PRELOAD = (
    "wardanalysis.batch.kernels",
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
    "ipykernel.debugger",  # imported by every kernel as it starts (debugpy: 0.3 s); starts nothing
    "nbconvert",
    "fontTools.subset",
    "wardanalysis.*",
)
#: Package modules that are entry points or belong to the batch's parent, never to a notebook.
_NOT_PRELOADED = ("wardanalysis.__main__", "wardanalysis.cli", "wardanalysis.batch.cli",
                  "wardanalysis.batch.runner", "wardanalysis.refresh")


def kernel_env(parent: int | None = None) -> dict[str, str]:
    env = dict(os.environ)
    for k, v in KERNEL_ENV_DEFAULTS.items():
        env.setdefault(k, v)
    env.update(KERNEL_ENV)
    env[PARENT_ENV] = str(os.getpid() if parent is None else parent)
    return env


def expand(modules: list[str] | tuple[str, ...]) -> list[str]:
    """``pkg.*`` expanded to the package's modules (found on disk, not imported)."""
    import pkgutil

    out: list[str] = []
    for name in modules:
        if not name.endswith(".*"):
            out.append(name)
            continue
        spec = importlib.util.find_spec(name[:-2])
        if spec is None or not spec.submodule_search_locations:
            out.append(name[:-2])
            continue
        out.append(name[:-2])
        for info in pkgutil.walk_packages(spec.submodule_search_locations, prefix=name[:-1]):
            if not info.name.startswith(_NOT_PRELOADED):
                out.append(info.name)
    return out


def missing_modules(modules: list[str]) -> list[str]:
    """Modules of ``modules`` that cannot be found (the fork server skips them silently)."""
    from .config import findable

    return [name for name in modules if not findable(name)]


def exit_with_parent(*, group: bool = False) -> None:
    """In a process started through :mod:`multiprocessing`: kill this process (``group``: its
    whole process group, which it must lead) as soon as the process that started it ends, even
    by SIGKILL. (A forked process's parent is the fork server, which lives as long as any of its
    children; the starting process is ``multiprocessing.parent_process()``.)"""
    import multiprocessing.connection
    import threading

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        if group:
            kill_group(os.getpid())
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class ForkServer:
    """The run's fork server: the standard library's ``forkserver`` context, preloaded.

    Started (in the background: the imports take a few seconds) by :meth:`start`; its processes
    get the kernels' environment. ``problem`` says why kernels will be slower, if they will.
    """

    def __init__(self, preload: list[str] | None) -> None:
        self.modules = expand(list(DEFAULT_PRELOAD if preload is None else preload))
        self.context: Any = None
        self.problem: str | None = None
        missing = missing_modules(self.modules)
        if missing:
            self.problem = ("the fork server cannot preload " + ", ".join(missing)
                            + " (not installed): kernels import them themselves")
            self.modules = [m for m in self.modules if m not in missing]

    def start(self) -> Any:
        """The ``forkserver`` context, its server running with the kernels' environment; None
        (and ``problem`` set) where there is none."""
        if "forkserver" not in multiprocessing.get_all_start_methods():
            self.problem = "this system has no fork server: kernels are spawned (slower)"
            return None
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(self.modules)
        saved = dict(os.environ)
        try:  # the server is a new interpreter, started by the first process, with this environment
            os.environ.clear()
            os.environ.update(kernel_env())
            first = context.Process(target=os.getpid, name="wardanalysis-warm-up")
            first.start()
        except OSError as exc:
            self.problem = f"the fork server did not start ({exc}): kernels are spawned (slower)"
            return None
        finally:
            os.environ.clear()
            os.environ.update(saved)
        first.join()  # once it has run, the server has imported its modules
        self.context = context
        return context


def _become_kernel(argv: list[str], env: dict[str, str], cwd: str, log: str) -> None:
    """In a process forked from the fork server: become an ipykernel (returns when it ends)."""
    os.setsid()
    exit_with_parent(group=True)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    # ipykernel read JPY_PARENT_PID when the fork server imported it: say it again.
    os.environ["JPY_PARENT_PID"] = str(os.getppid())
    sys.argv = ["ipykernel_launcher", *argv, f"--IPKernelApp.parent_handle={os.getppid()}"]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


class _ForkedKernel:
    """What jupyter_client's local provisioner uses of a ``Popen``, for a forked kernel."""

    stdin = stdout = stderr = None

    def __init__(self, process: Any) -> None:
        self.process = process
        self.pid = process.pid

    def poll(self) -> int | None:
        return self.process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self.process.join(timeout)
        if self.process.exitcode is None:
            raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
        return self.process.exitcode

    def send_signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class BatchProvisioner(LocalProvisioner):  # type: ignore[misc]
    """The local provisioner, launching ipykernel by forking from the run's fork server when
    the kernel manager has one (``fork_context``), with the kernel's output in its log file."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        env = {str(k): str(v) for k, v in (kwargs.get("env") or os.environ).items()}
        log = env.get(LOG_ENV, os.devnull)
        context = getattr(self.parent, "fork_context", None)
        if context is not None and cmd[1:3] == ["-m", "ipykernel_launcher"]:
            cwd = str(kwargs.get("cwd") or os.getcwd())
            process = context.Process(target=_become_kernel, args=(cmd[3:], env, cwd, log),
                                      name="wardanalysis-kernel")
            process.start()
            deadline = time.monotonic() + 10
            # the kernel's group is its own once it has called setsid(); until then it is the
            # fork server's, which must never be signalled as a group
            while time.monotonic() < deadline and process.exitcode is None:
                try:
                    if os.getpgid(process.pid) == process.pid:
                        break
                except ProcessLookupError:
                    break
                time.sleep(0.001)
            self.process = _ForkedKernel(process)
            self.pid = self.pgid = process.pid
            self.cwd = cwd
            return self.connection_info
        with open(log, "ab") as fh:
            kwargs.update(stdout=fh, stderr=fh, stdin=subprocess.DEVNULL)
            return await super().launch_kernel(cmd, **kwargs)


class BatchKernelSpecManager(KernelSpecManager):  # type: ignore[misc]
    """Kernel specs as installed, with ipykernel's launched by :class:`BatchProvisioner`."""

    def get_kernel_spec(self, kernel_name: str) -> Any:
        spec = super().get_kernel_spec(kernel_name)
        if spec.argv[1:3] == ["-m", "ipykernel_launcher"]:
            spec.metadata = {**(spec.metadata or {}),
                             "kernel_provisioner": {"provisioner_name": PROVISIONER}}
        return spec


class BatchKernelManager(AsyncKernelManager):  # type: ignore[misc]
    """jupyter_client's kernel manager, carrying the fork server its provisioner forks from."""

    fork_context: Any = None


def kernel_manager(kernel_name: str, scratch: Path, fork_context: Any) -> BatchKernelManager:
    """A kernel manager for one kernel, its sockets and connection file under ``scratch``."""
    km = BatchKernelManager(kernel_name=kernel_name, transport="ipc", ip=str(scratch / "zmq"),
                            connection_file=str(scratch / "connection.json"),
                            kernel_spec_manager=BatchKernelSpecManager())
    km.fork_context = fork_context
    return km


def kernel_log_tail(path: str | Path, lines: int = 20) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
