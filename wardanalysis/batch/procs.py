"""Process plumbing shared by the batch's processes: parent-death signals and group kills.

Every process the batch starts dies with its parent (Linux ``PR_SET_PDEATHSIG``), so that killing
``wardanalysis run`` at any moment, even with SIGKILL, leaves no worker, fork server or kernel
behind. Elsewhere the kernels' own parent poller (``JPY_PARENT_PID``) does the same job, slower.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
import signal
import sys
from typing import IO, Any

_PR_SET_PDEATHSIG = 1
#: A batch run's scratch directory (kernels, fork server) is ``<tmp>/<prefix><pid>-<random>``.
SCRATCH_PREFIX = "wardanalysis-run-"


def sweep_scratch() -> None:
    """Remove the scratch directories of earlier runs whose process is gone (a run killed
    outright cannot remove its own)."""
    import shutil
    import tempfile
    from pathlib import Path

    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        pid = path.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except PermissionError:  # alive, and someone else's
            continue


def die_with_parent(sig: int = signal.SIGKILL, expected_parent: int | None = None) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent exits (Linux only).

    If the parent is already gone (``getppid`` differs from ``expected_parent``), exit now: the
    signal would never come.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    if expected_parent is not None and os.getppid() != expected_parent:
        os._exit(1)


def kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal the process group led by ``pid`` (falling back to the process alone)."""
    try:
        os.killpg(pid, sig)
        return
    except (ProcessLookupError, PermissionError):
        pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def protocol_streams() -> tuple[IO[bytes], IO[bytes]]:
    """The JSON-lines channel to the parent: the original stdin and stdout.

    File descriptor 1 is then pointed at stderr, so that a library printing to stdout cannot
    corrupt the channel.
    """
    proto_in = os.fdopen(os.dup(0), "rb")
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    return proto_in, proto_out


def send(stream: IO[bytes], message: dict[str, Any]) -> None:
    stream.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")


def receive(stream: IO[bytes]) -> dict[str, Any] | None:
    """The next message, or None at end of stream."""
    line = stream.readline()
    if not line.endswith(b"\n"):
        return None
    return json.loads(line)
