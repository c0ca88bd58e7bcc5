"""Set-up: pyproject.toml, constraints.txt and environment.yml agree; the import stays light."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
_REQ = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$")


def _parse(spec: str) -> tuple[str, str]:
    m = _REQ.match(spec)
    assert m, spec
    return m[1].lower().replace("_", "-"), m[2].replace(" ", "")


def _declared() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = dict(_parse(s) for s in project["dependencies"])
    return declared | dict(_parse(s) for s in project["optional-dependencies"]["test"])


def _locked() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"constraints.txt: {line!r} is not an exact pin"
            pins[_parse(name)[0]] = version
    return pins


def _lock_bounds() -> dict[str, str]:
    """The bounds ``make lock`` keeps on packages the project does not use directly."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("lock", ROOT / "tools" / "lock.py")
    lock = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lock)
    return dict(_parse(s) for s in lock.BOUNDS)


def test_lock_pins_every_declared_dependency_within_its_bounds():
    from packaging.specifiers import SpecifierSet

    locked = _locked()
    for name, bound in [*_declared().items(), *_lock_bounds().items()]:
        assert name in locked, f"constraints.txt has no pin for {name}: run make lock"
        assert locked[name] in SpecifierSet(bound), f"{name}=={locked[name]} is outside {bound}"


def test_environment_yml_pins_the_locked_versions():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    listed: dict[str, str] = {}
    for item in env["dependencies"]:
        specs = item["pip"] if isinstance(item, dict) else [item]
        for spec in specs:
            if spec.startswith("-"):
                continue
            name, bound = _parse(spec)
            listed[name] = bound
    assert listed.pop("python") == "=3.11"  # the Python the lock was resolved for
    listed.pop("pip")
    locked = _locked()
    assert set(listed) == set(_declared())
    assert listed == {name: f"=={locked[name]}" for name in listed}


def test_installed_versions_are_the_locked_ones():
    """The environment the tests run in is the locked one (a stale .venv fails here)."""
    from importlib.metadata import PackageNotFoundError, version

    locked = _locked()
    wrong = {}
    for name in _declared():
        try:
            have = version(name)
        except PackageNotFoundError:
            have = None
        if have != locked[name]:
            wrong[name] = (have, locked[name])
    assert not wrong, f"installed (have, locked) differ: {wrong}; make test reinstalls from the lock"


def test_import_is_light():
    """One fresh interpreter: hashing the data (the batch's parent does it before any notebook
    runs) imports no pandas; importing the package's light modules and loading a dataset import
    no plotting or models."""
    code = (
        "import sys, wardanalysis; wardanalysis.data_checksum();"
        "print(','.join(m for m in ('pandas', 'matplotlib') if m in sys.modules));"
        "import wardanalysis.eras, wardanalysis.data.loading, wardanalysis.cli,"
        " wardanalysis.results, wardanalysis.text.glossary, wardanalysis.models,"
        " wardanalysis.errors, wardanalysis.records; wardanalysis.load('needs_reflection');"
        "wardanalysis.text.glossary.label('requests', 'ja');"
        "print(','.join(m for m in ('matplotlib', 'seaborn', 'statsmodels') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    hashing, start_up = out.stdout.splitlines()
    assert hashing == "", f"imported to hash the data: {hashing}"
    assert start_up == "", f"imported at start-up: {start_up}"


def test_console_command_help(cli):
    out = cli("--help")
    assert out.returncode == 0
    for command in ("check", "datasets", "describe", "run"):
        assert command in out.stdout


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_screen = "\n".join(readme.splitlines()[:40])
    assert "make report" in first_screen and "make test" in first_screen
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [ln.strip() for ln in ci.splitlines() if ln.strip() and not ln.startswith("#")]
    assert "make test" in commands


def _imported_top_level_modules() -> set[str]:
    import ast

    found: set[str] = set()
    for path in (ROOT / "wardanalysis").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_every_library_the_package_imports_is_declared():
    from importlib.metadata import packages_distributions

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_parse(s)[0] for s in project["dependencies"]}
    providers = packages_distributions()
    undeclared = {}
    for module in _imported_top_level_modules() - set(sys.stdlib_module_names) - {"wardanalysis"}:
        dists = {d.lower().replace("_", "-") for d in providers.get(module, [module])}
        if not dists & declared:
            undeclared[module] = sorted(dists)
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def _sanitize(text: str) -> str:
    """Apply tests/nbval_sanitize.cfg as nbval does (each section's regex, in order)."""
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "tests" / "nbval_sanitize.cfg", encoding="utf-8")
    for section in cfg.sections():
        text = re.sub(cfg[section]["regex"], cfg[section]["replace"], text)
    return text


def test_nbval_sanitizer_masks_svg_clip_ids_but_no_number():
    committed = '<clipPath id="pdec87ff142"><rect x="57.6" y="41.472"/></clipPath>' \
                '<g clip-path="url(#pdec87ff142)">'
    fresh = committed.replace("pdec87ff142", "p6a56053a6b")
    moved = fresh.replace("41.472", "41.473")
    assert _sanitize(committed) == _sanitize(fresh)
    assert _sanitize(committed) != _sanitize(moved)
    estimate = '{"value": 1026.5802712045513}'
    assert _sanitize(estimate) == estimate
