"""Kernels for the batch: started fresh or forked from a warm fork server, always killed after use.

:class:`BatchKernelManager` is what nbclient (under papermill) is told to use. Its provisioner
either forks the kernel from the worker's :mod:`~wardanalysis.batch.zygote` (``kernel_start:
fork``, the default where ``os.fork`` exists) or launches ``python -m ipykernel_launcher`` the
usual way (``kernel_start: spawn``). Either way the kernel is a new process in its own session,
its stdout/stderr go to a log file rather than the terminal, and it dies with its parent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner
from jupyter_core.utils import ensure_async
from traitlets import DottedObjectName, Type

from .procs import kill_group, receive, send

#: Per-job launch settings, set by the worker before each notebook (one notebook at a time).
LAUNCH: dict[str, Any] = {"zygote": None, "log": os.devnull}
#: The environment variable through which workers learn the fork server's socket.
SOCKET_ENV = "WARDANALYSIS_ZYGOTE_SOCKET"
#: The environment variable naming the directory under which workers make their kernels'.
SCRATCH_ENV = "WARDANALYSIS_BATCH_SCRATCH"


class ZygoteError(RuntimeError):
    pass


class ZygoteServer:
    """The batch's fork server process (see :mod:`~wardanalysis.batch.zygote`), started by the
    main process and shared by its workers through a Unix socket in a private directory."""

    def __init__(self, preload: list[str] | None = None, env: dict[str, str] | None = None,
                 parent_dir: str | None = None):
        self._dir = tempfile.mkdtemp(prefix="wardanalysis-zygote-", dir=parent_dir)
        self.socket_path = os.path.join(self._dir, "fork.sock")
        env = dict(os.environ if env is None else env)
        env["WARDANALYSIS_ZYGOTE_PARENT"] = str(os.getpid())
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "wardanalysis.batch.zygote", "--socket",
             self.socket_path, *(preload or [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd="/",
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        hello = receive(self.proc.stdout)
        if not hello or not hello.get("listening"):
            self.close()
            raise ZygoteError(f"the kernel fork server did not start (exit {self.proc.poll()})")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        """End the fork server (any kernel still alive dies with it). It holds nothing worth a
        graceful exit, and tearing down its interpreter would take a few tenths of a second."""
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        kill_group(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)


class ZygoteClient:
    """A worker's connection to the fork server."""

    def __init__(self, socket_path: str):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.sock.connect(socket_path)
        except OSError as exc:
            raise ZygoteError(f"cannot reach the kernel fork server: {exc}") from exc
        self.stream = self.sock.makefile("rwb")
        self.info: dict[str, Any] | None = None

    def _ask(self, message: dict[str, Any]) -> dict[str, Any]:
        try:
            send(self.stream, message)
            self.stream.flush()
            reply = receive(self.stream)
        except OSError as exc:
            raise ZygoteError(f"the kernel fork server is gone: {exc}") from exc
        if reply is None:
            raise ZygoteError("the kernel fork server is gone")
        return reply

    def wait_ready(self) -> dict[str, Any]:
        """Block until the fork server has loaded its modules."""
        if self.info is None:
            self.info = self._ask({"ping": True})
        return self.info

    def fork(self, argv: list[str], env: dict[str, str], cwd: str, log: str) -> int:
        reply = self._ask({"argv": argv, "env": env, "cwd": cwd, "log": log})
        if "pid" not in reply:
            raise ZygoteError(f"the kernel fork server refused: {reply}")
        return int(reply["pid"])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.stream.close()
            self.sock.close()


class ForkedProcess:
    """The part of :class:`subprocess.Popen` that jupyter_client uses, for a forked kernel.

    The kernel is the fork server's child, not ours; it is reaped there, so it counts as gone once
    its pid no longer exists.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, sig: int) -> None:
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class BatchProvisioner(LocalProvisioner):
    """Launch by forking from the fork server when one is set and the command is ipykernel's."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any):
        zygote: ZygoteClient | None = LAUNCH.get("zygote")
        log = str(LAUNCH.get("log") or os.devnull)
        is_ipykernel = len(cmd) >= 3 and cmd[1:3] == ["-m", "ipykernel_launcher"]
        if zygote is not None and is_ipykernel:
            env = {str(k): str(v) for k, v in (kwargs.get("env") or os.environ).items()}
            cwd = str(kwargs.get("cwd") or os.getcwd())
            pid = zygote.fork(cmd[3:], env, cwd, log)
            self.process = ForkedProcess(pid)
            self.pid = pid
            self.pgid = pid  # the child calls setsid()
            self.cwd = cwd
            return self.connection_info
        with open(log, "ab") as fh:
            kwargs.update(stdout=fh, stderr=fh, stdin=subprocess.DEVNULL)
            return await super().launch_kernel(cmd, **kwargs)

    async def kill(self, restart: bool = False) -> None:
        if self.pgid:
            kill_group(self.pgid, signal.SIGKILL)
            return
        await super().kill(restart=restart)


class BatchKernelClient(AsyncKernelClient):
    """jupyter_client's asynchronous client, minus a fixed 0.2 s wait per kernel start.

    After the kernel_info reply, ``wait_for_ready`` drains IOPub until it has been silent for
    0.2 s. nbclient then only reads IOPub messages whose parent is its own request, so leftover
    start-up messages are harmless; waiting 0.01 s instead saves 0.2 s of every notebook (measured:
    about a quarter of a small notebook's time in a warm kernel). Otherwise this is jupyter_client
    8's ``_async_wait_for_ready``, for a client created by a kernel manager.
    """

    IOPUB_FLUSH_SECONDS = 0.01

    async def _batch_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.time() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                msg = await ensure_async(self.shell_channel.get_msg(timeout=1))
            except Empty:
                pass
            else:
                if msg["msg_type"] == "kernel_info_reply":
                    try:  # IOPub is connected once the kernel's status messages arrive
                        await ensure_async(self.iopub_channel.get_msg(timeout=0.2))
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.time() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
        while True:
            try:
                await ensure_async(self.iopub_channel.get_msg(timeout=self.IOPUB_FLUSH_SECONDS))
            except Empty:
                break

    wait_for_ready = _batch_wait_for_ready


class BatchKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernels come from :class:`BatchProvisioner`."""

    client_class = DottedObjectName("wardanalysis.batch.kernels.BatchKernelClient")
    client_factory = Type(klass=BatchKernelClient)

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        # jupyter_client polls every 0.1 s for the killed kernel to be gone; 0.01 s is enough.
        await super()._async_wait(pollinterval=min(pollinterval, 0.01))

    async def _async_pre_start_kernel(self, **kw: Any):
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", str(uuid.uuid4()))
            self.provisioner = BatchProvisioner(
                kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self
            )
        return await super()._async_pre_start_kernel(**kw)

    async def _async_shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        pgid = getattr(self.provisioner, "pgid", None)
        try:
            await super()._async_shutdown_kernel(now=now, restart=restart)
        finally:
            # Whatever the kernel started in its session goes too.
            if pgid:
                kill_group(pgid, signal.SIGKILL)


def kernel_log_tail(path: str | Path, lines: int = 20) -> str:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
