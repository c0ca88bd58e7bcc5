"""``make notebooks``: re-execute the committed notebooks in place with their default parameters.

The committed outputs are what reviewers read on a code host and what nbval compares against, so
they must be reproducible and free of anything machine-specific. Each notebook is executed by
papermill from an empty temporary working directory (a notebook that reads a relative path fails
here, as it would in the batch), then checked: no error, nothing printed to stderr (warnings
included), no absolute path in any output. Only then is the file replaced, atomically; a failing
notebook leaves the committed one untouched.

Usage: ``python -m wardanalysis.refresh [NOTEBOOK ...]`` (default: every notebook in notebooks/).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import tempfile
from pathlib import Path

from .paths import notebooks_dir

_ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:root|home|tmp|work|usr|opt|var)/")


class RefreshError(RuntimeError):
    """A notebook whose default run cannot be committed; the message names notebook and cell."""


def _problems(nb, name: str) -> list[str]:
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            where = f"{name}, cell {i}"
            if out.get("output_type") == "error":
                found.append(f"{where}: raised {out.get('ename')}: {out.get('evalue')}")
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                first = str(out.get("text", "")).strip().splitlines()[:1]
                found.append(f"{where}: wrote to stderr: {first[0] if first else ''}")
            texts = [out.get("text", "")]
            texts += [v for k, v in out.get("data", {}).items() if not k.startswith("image/")]
            for text in map(str, texts):
                if m := _ABSOLUTE_PATH.search(text):
                    found.append(f"{where}: output holds an absolute path near "
                                 f"{text[m.start():m.start() + 40]!r}")
    return found


def refresh(path: Path, timeout: int = 600) -> None:
    """Execute ``path`` with its defaults and replace it with the executed, cleaned notebook."""
    import nbformat  # heavy, as papermill and jupyter_client: only when notebooks run
    import papermill as pm
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    path = Path(path).resolve()
    with tempfile.TemporaryDirectory(prefix="wardanalysis-refresh-") as scratch:
        cwd = Path(scratch) / "cwd"
        cwd.mkdir()
        out = Path(scratch) / path.name
        # papermill starts the kernel the ordinary way; its sockets are Unix sockets (no TCP
        # port on the machine) and its connection file lives and dies with the scratch folder
        km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=f"{scratch}/zmq",
                                connection_file=f"{scratch}/connection.json")
        try:
            pm.execute_notebook(str(path), str(out), parameters={}, cwd=str(cwd), km=km,
                                kernel_name="python3", progress_bar=False, log_output=False,
                                execution_timeout=timeout)
        except pm.PapermillExecutionError as exc:
            raise RefreshError(f"{path.name}, cell {exc.exec_count}: {exc.ename}: "
                               f"{exc.evalue}") from None
        finally:
            if km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)
        nb = nbformat.read(out, as_version=4)
    # what changes from run to run without changing a result: timings, papermill's bookkeeping
    for meta in (nb.metadata, *(cell.metadata for cell in nb.cells)):
        for key in ("papermill", "widgets", "execution", "collapsed"):
            meta.pop(key, None)
    problems = _problems(nb, path.name)
    if problems:
        raise RefreshError("; ".join(problems))
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(nb, tmp)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wardanalysis.refresh",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    # papermill cannot parse annotations such as ``int | str | None`` and says so for each one;
    # the defaults are used here, so its parameter warnings say nothing
    logging.getLogger("papermill").setLevel(logging.ERROR)
    # The kernels' environment, as in the batch and in JupyterLab: ipykernel's own default
    # backend (inline plots), whatever MPLBACKEND the caller has (the Makefile exports Agg, under
    # which a kernel shows no plot at all). papermill's kernels inherit this environment.
    os.environ.pop("MPLBACKEND", None)
    failed = 0
    for p in args.notebooks or sorted(notebooks_dir().glob("*.ipynb")):
        try:
            refresh(p)
            print(f"refreshed {p.name}")
        except RefreshError as exc:
            failed += 1
            print(f"FAILED {exc}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
