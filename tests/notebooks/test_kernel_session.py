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
             "from wardanalysis.models.handled import handled_share\n"
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


def test_a_wrong_parameter_in_a_notebook_run_by_hand_is_one_line_naming_it(kernel):
    """Page 05's parameters cell with a seed typed as text, then its set-up cell, as a
    researcher runs them in JupyterLab: the error shown is one line naming the parameter, not
    a traceback through the package."""
    import json

    from wardanalysis.paths import notebooks_dir

    path = notebooks_dir() / "05_monthly_log.ipynb"
    cells = [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
             if c["cell_type"] == "code"]
    parameters, first = ("".join(c["source"]) for c in cells[:2])
    assert kernel.execute_interactive(parameters, timeout=60)["content"]["status"] == "ok"
    errors: list[dict] = []

    def keep(msg):
        if msg["msg_type"] == "error":
            errors.append(msg["content"])

    reply = kernel.execute_interactive('seed = "20240626x"\ncovid_end = "R9"\n' + first,
                                       output_hook=keep, timeout=120)
    assert reply["content"]["status"] == "error" and len(errors) == 1
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in errors[0]["traceback"]]
    assert lines == ["ParamsError: 05_monthly_log.ipynb: seed: must be an integer (the default "
                     "in 05_monthly_log.ipynb is 20240626), not '20240626x'"], lines


def test_a_chart_shown_in_a_kernel_carries_the_package_font(kernel):
    """A result's chart displayed in a researcher's kernel (``report.show_result``) embeds the
    glyphs of its text in IPAexGothic, so that JupyterLab draws it in the package's font on a
    machine without it; and its text is still text (not paths)."""
    import base64
    import html
    import io

    from fontTools.ttLib import TTFont

    shown: list[str] = []

    def keep(msg):
        if msg["msg_type"] == "display_data" and "<svg" in msg["content"]["data"].get(
                "text/html", ""):
            shown.append(msg["content"]["data"]["text/html"])

    code = ("from wardanalysis import report\nfrom wardanalysis.models.handled import handled_share\n"
            "report.setup('ja')\nreport.show_result(handled_share(), 'ja')\n")
    reply = kernel.execute_interactive(code, output_hook=keep, timeout=120)
    assert reply["content"]["status"] == "ok" and len(shown) == 1
    figure = shown[0]
    text = {c for t in re.findall(r"<text\b[^>]*>(.*?)</text>", figure, re.S)
            for c in html.unescape(t) if not c.isspace()}
    assert JAPANESE.search("".join(text)) and len(text) > 20
    data = re.search(r'@font-face \{ font-family: "IPAexGothic"; '
                     r"src: url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", figure)
    assert data, figure[:500]
    drawn = {chr(c) for c in TTFont(io.BytesIO(base64.b64decode(data[1]))).getBestCmap()}
    assert text <= drawn, sorted(text - drawn)
    assert "font-family: 'IPAexGothic'" in figure  # the text names the family the rule defines
