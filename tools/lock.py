"""``make lock``: refresh ``constraints.txt``, the exact version of every package a fresh install gets.

The lock is resolved the ordinary way: a throwaway virtual environment, ``pip install '.[test]'``
(plus the build backend, so that building the editable install is pinned too) with no constraint
but :data:`BOUNDS`, then ``pip freeze``. ``environment.yml`` is rewritten to pin the same versions of the direct
dependencies, so that conda and pip users compute with the same libraries. Every install the
Makefile makes passes ``constraints.txt`` to pip (as ``PIP_CONSTRAINT``, which reaches build
isolation too). The lock is for CPython 3.11 on Linux x86-64, the machine the project runs on.

Usage: ``python tools/lock.py`` (``make lock``); review the diff and commit both files.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "constraints.txt"
ENV_YML = ROOT / "environment.yml"
BUILD = ["hatchling"]  # the build backend of pyproject.toml
SKIP = {"wardanalysis", "setuptools"}  # the project itself; what the venv module ships
#: Bounds the lock keeps on packages the project does not use directly (pip constraints: each
#: narrows what the resolver may pick, never adds a package), with the reason for each.
BOUNDS = {
    # 4.25 added rfc3987-syntax to the format-nongpl extra (which jupyter-events asks for) and
    # imports it with jsonschema: it builds some 35 Lark parsers for the "iri" format, which no
    # notebook schema uses, a second of CPU in every process that reads a notebook (each batch
    # worker, papermill, nbval; python-jsonschema/jsonschema#1428). 4.24 validates notebooks the
    # same way.
    "jsonschema<4.25",
}
HEADER = """\
# The exact version of every package a fresh install of wardanalysis gets (tests included).
# Written by `make lock` (tools/lock.py) from pyproject.toml: do not edit by hand. Every pip call
# of the Makefile installs with it (PIP_CONSTRAINT), so make report, make test and CI compute
# with the same libraries. Resolved for CPython {python} on Linux x86-64.
"""
_NAME = re.compile(r"^\s*([A-Za-z0-9_.\-]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def direct_dependencies() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = project["dependencies"] + project["optional-dependencies"]["test"]
    return [canonical(_NAME.match(s)[1]) for s in specs]


def read_lock(text: str) -> dict[str, str]:
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[canonical(name)] = version
    return pins


def pin_environment_yml(text: str, pins: dict[str, str]) -> str:
    """Replace each direct dependency's version spec in environment.yml by the locked version."""
    direct = set(direct_dependencies())

    def repin(m: re.Match) -> str:
        name = canonical(m[2])
        if name not in direct:
            return m[0]
        return f"{m[1]}{m[2]}=={pins[name]}"

    return re.sub(r"^(\s*-\s+)([A-Za-z0-9_.\-]+)\s*(?:[<>=!~][^\s#]*)?$", repin, text, flags=re.M)


def main() -> int:
    env = {k: v for k, v in os.environ.items() if k != "PIP_CONSTRAINT"}
    with tempfile.TemporaryDirectory(prefix="wardanalysis-lock-") as tmp:
        py = Path(tmp) / "venv" / "bin" / "python"
        subprocess.run([sys.executable, "-m", "venv", str(py.parents[1])], check=True)
        pip = [str(py), "-m", "pip", "--disable-pip-version-check", "-q"]
        subprocess.run([*pip, "install", "--upgrade", "pip"], check=True, env=env)
        bounds = Path(tmp) / "bounds.txt"
        bounds.write_text("\n".join(sorted(BOUNDS)) + "\n", encoding="utf-8")
        subprocess.run([*pip, "install", "-c", str(bounds), f"{ROOT}[test]", *BUILD], check=True,
                       env=env)
        frozen = subprocess.run([*pip, "freeze", "--all"], check=True, env=env,
                                capture_output=True, text=True).stdout
    lines = [ln for ln in frozen.splitlines()
             if _NAME.match(ln) and canonical(_NAME.match(ln)[1]) not in SKIP]
    python = ".".join(map(str, sys.version_info[:3]))
    LOCK.write_text(HEADER.format(python=python) + "\n".join(sorted(lines, key=lambda ln: canonical(_NAME.match(ln)[1]))) + "\n",
                    encoding="utf-8")
    pins = read_lock(LOCK.read_text(encoding="utf-8"))
    ENV_YML.write_text(pin_environment_yml(ENV_YML.read_text(encoding="utf-8"), pins),
                       encoding="utf-8")
    print(f"constraints.txt: {len(pins)} packages; environment.yml pinned to them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
