"""A researcher's JupyterLab session, in a real kernel: switching the language and re-running a cell
changes what the cell shows, with no restart and no re-computation."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from jupyter_client.manager import KernelManager

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def kernel():
    with tempfile.TemporaryDirectory(prefix="wardanalysis-session-") as scratch:
        # a kernel started as JupyterLab starts one (Unix sockets: no TCP warning)
        km = KernelManager(kernel_name="python3", transport="ipc", ip=str(Path(scratch) / "zmq"),
                           connection_file=str(Path(scratch) / "connection.json"))
        km.start_kernel(cwd=scratch)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            yield kc
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


def _html(kc, code: str) -> str:
    """The text/html the cell ``code`` displays as its result."""
    shown: list[str] = []

    def keep(msg):
        if msg["msg_type"] == "execute_result":
            shown.append(msg["content"]["data"].get("text/html", ""))
        if msg["msg_type"] == "error":
            shown.append("ERROR " + msg["content"]["ename"] + ": " + msg["content"]["evalue"])

    reply = kc.execute_interactive(code, output_hook=keep, timeout=120)
    assert reply["content"]["status"] == "ok", shown
    assert len(shown) == 1, shown
    return shown[0]


def test_rerunning_a_cell_after_switching_language_shows_the_other_language(kernel):
    setup = ("from wardanalysis import report\n"
             "from wardanalysis.models import handled_share\n"
             "report.setup('ja')\n"
             "result = handled_share()\n")
    kernel.execute_interactive(setup, timeout=120)
    ja = _html(kernel, "result")
    assert JAPANESE.search(ja)
    kernel.execute_interactive("report.setup('en')", timeout=60)
    en = _html(kernel, "result")
    assert not JAPANESE.search(re.sub(r"<[^>]+>", "", en)), en[:300]
    assert "handled" in en.lower()
    kernel.execute_interactive("report.setup('ja')", timeout=60)
    assert _html(kernel, "result") == ja  # and back, the same page as before
