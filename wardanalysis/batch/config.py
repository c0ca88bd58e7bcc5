"""What to run: ``params/batch.yaml``, ``params/<notebook>.yaml``, the command-line options and
the notebooks' ``parameters`` cells, validated before anything runs. Every problem names its file
and key; all problems are reported together.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .._yaml import loads
from ..data.datafiles import data_files, irregular_files
from ..params import (
    MAX_SHOWN,
    NotebookInfo,
    ParamsError,
    Problem,
    brief,
    inspect_notebook,
    period_problems,
    valid,
    value_problems,
)
from ..paths import REPO_DIR, notebooks_dir, params_dir
from .cache import fiscal_years_in_data

BATCH_FILE = "batch.yaml"
LANGUAGES = ("ja", "en")
#: Parameters the batch sets for every run, and where a user chooses them instead.
BATCH_PARAMETERS = {"lang": "languages (or --lang)", "fiscal_year": "fiscal_years (or "
                    "--fiscal-year)", "data_dir": "data_dir (or --data-dir)"}
#: Where a run that changes a model parameter (``--set``) or covers one language writes unless
#: ``--out`` says otherwise: never over the canonical reports, whose two languages must agree.
EXPLORATORY_DIR = "reports-exploratory"
MAX_TIMEOUT = 86_400
#: Far above any real parameter file, low enough that none costs time or memory to refuse.
MAX_YAML_BYTES, MAX_YAML_DEPTH = 256 * 1024, 20

_YEARS = {"anyOf": [{"const": "all"}, {"type": "integer"},
                    {"type": "array", "minItems": 1, "items": {"type": "integer"}}]}
_FOLDER = {"type": "string", "minLength": 1}
#: batch.yaml: each key's JSON Schema, its default, and what a message says its value must be.
BATCH_KEYS: dict[str, tuple[dict[str, Any], Any, str]] = {
    "notebooks": ({"anyOf": [{"const": "all"}, {"type": "array", "minItems": 1,
                                                "items": {"type": "string", "minLength": 1}}]},
                  "all", "'all' or a list of notebook names (file names without .ipynb)"),
    "fiscal_years": (_YEARS, "all", "'all' or a list of fiscal years (integers such as 2023)"),
    "languages": ({"type": "array", "minItems": 1, "items": {"enum": list(LANGUAGES)}},
                  list(LANGUAGES), f"a non-empty list of {', '.join(LANGUAGES)}"),
    "workers": ({"type": ["integer", "null"], "minimum": 1}, None,
                "a positive integer, or null for one more than the number of CPU cores"),
    "timeout": ({"type": "integer", "minimum": 1, "maximum": MAX_TIMEOUT}, 600,
                f"a whole number of seconds from 1 to {MAX_TIMEOUT}"),
    "out": (_FOLDER, "reports", "a directory path"),
    "data_dir": ({"anyOf": [{"type": "null"}, _FOLDER,
                            {"type": "array", "minItems": 1, "items": _FOLDER}]}, None,
                 "null, or a folder (or a list of folders) of user data files laid over the "
                 "shipped data"),
    "kernel": ({"type": "string", "minLength": 1}, "python3", "a Jupyter kernel name"),
}
#: Where each setting comes from on the command line.
_OPTIONS = {"notebooks": "--notebook", "fiscal_years": "--fiscal-year", "languages": "--lang",
            "workers": "--workers", "timeout": "--timeout", "out": "--out",
            "data_dir": "--data-dir"}


def _display_path(path: Path) -> str:
    for base in (Path.cwd(), REPO_DIR):
        try:
            return str(Path(path).resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


def _structure_problem(text: str) -> str | None:
    """Why a YAML text is refused before it is built into objects: an anchor or alias ("billion
    laughs"), an explicit tag (!!binary, !!python/…), or nesting deeper than the limit."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = getattr(event.start_mark, "line", 0) + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            return f"uses a YAML anchor or alias (line {line}); write the value out instead"
        if getattr(event, "tag", None) not in (None, "!"):
            return (f"uses the explicit YAML tag {event.tag!r} (line {line}); parameters are "
                    "plain strings, numbers, true/false, lists and mappings")
        depth += isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent))
        depth -= isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent))
        if depth > MAX_YAML_DEPTH:
            return f"is nested more than {MAX_YAML_DEPTH} levels deep"
    return None


def _plain_problem(value: Any, where: str = "") -> str | None:
    """Why ``value`` is not plain data (YAML makes dates of unquoted dates), or None."""
    if isinstance(value, (dict, list)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        return next((p for k, v in items if (p := _plain_problem(
            v, f"{where}[{k}]" if isinstance(value, list) else f"{where}.{k}" if where else str(k)
        ))), None)
    if isinstance(value, (str, int, float, bool, type(None))):
        return None
    kind = type(value).__name__
    hint = " (quote a date to pass it as text)" if kind in ("date", "datetime") else ""
    return f"{where or 'a value'} is a {kind}, not a string, number, true/false or list{hint}"


def read_yaml_mapping(path: Path) -> tuple[dict[str, Any], list[Problem]]:
    """A YAML file's top-level mapping (empty file: empty mapping), or the problems."""
    shown = _display_path(path)
    try:
        if not Path(path).is_file():
            return {}, [Problem(shown, None, "is not a regular file")]
        if Path(path).stat().st_size > MAX_YAML_BYTES:
            return {}, [Problem(shown, None, f"is larger than {MAX_YAML_BYTES // 1024} KB; a "
                                             "parameter file is a few lines")]
        text = Path(path).read_text(encoding="utf-8")
        refused = _structure_problem(text)
        data = None if refused else loads(text)  # a key given twice is refused
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [Problem(shown, None, f"cannot be read: {exc}")]
    except yaml.YAMLError as exc:
        return {}, [Problem(shown, None, f"is not valid YAML: {str(exc)[:MAX_SHOWN]}")]
    except RecursionError:
        return {}, [Problem(shown, None, "is nested too deeply")]
    refused = refused or _plain_problem(data)
    if not refused and data is not None and not isinstance(data, dict):
        refused = f"must be a mapping of keys to values, not {type(data).__name__}"
    if refused:
        return {}, [Problem(shown, None, refused)]
    bad = [Problem(shown, str(k), "keys must be names (strings)") for k in data or {}
           if not isinstance(k, str)]
    return ({}, bad) if bad else (data or {}, [])


def discover_notebooks(directory: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(Path(directory).glob("*.ipynb"))
            if not p.name.startswith(".")}


@dataclass
class Overrides:
    """Command-line options; None means "as params/batch.yaml says"."""

    notebooks: list[str] | None = None
    fiscal_years: list[int] | None = None
    all_fiscal_years: bool = False
    languages: list[str] | None = None
    workers: int | None = None
    timeout: float | None = None
    out: str | None = None
    data_dir: list[str] | None = None
    #: ``--set NAME=VALUE``: a parameter for every selected notebook declaring it
    settings: list[str] | None = None


@dataclass(frozen=True)
class Job:
    """One notebook execution: a notebook with one fiscal year (if it takes one) and language."""

    notebook: str
    path: Path
    fiscal_year: int | None
    lang: str
    parameters: dict[str, Any]

    @property
    def variant(self) -> str:
        return self.lang if self.fiscal_year is None else f"fy{self.fiscal_year}-{self.lang}"

    @property
    def id(self) -> str:
        return f"{self.notebook}/{self.variant}"


@dataclass
class BatchConfig:
    notebooks_dir: Path
    params_dir: Path
    out: Path
    #: The user's data folders (absolute), or None for the shipped data only.
    data_dir: list[Path] | None
    notebooks: dict[str, NotebookInfo]
    notebook_params: dict[str, dict[str, Any]]
    fiscal_years: list[int]
    languages: list[str]
    workers: int
    timeout: float
    kernel: str
    data_years: list[int] = field(default_factory=list)
    #: Notebooks in the folder that the batch did not run, and why (a scratch notebook).
    skipped: dict[str, str] = field(default_factory=dict)
    #: What makes the run exploratory (``--set`` settings, a single language); empty if none.
    exploratory: list[str] = field(default_factory=list)

    @property
    def data_param(self) -> str | list[str] | None:
        """``data_dir`` as notebooks take it; one folder stays a string (its reports' inputs
        unchanged)."""
        if not self.data_dir:
            return None
        folders = [str(d) for d in self.data_dir]
        return folders[0] if len(folders) == 1 else folders


def default_workers() -> int:
    """One more than the CPU cores: each worker also waits while its kernel starts."""
    return (os.cpu_count() or 1) + 1


def load_config(overrides: Overrides | None = None, *, notebooks_directory: Path | None = None,
                params_directory: Path | None = None, data_years: Any = None) -> BatchConfig:
    """Read and validate everything the batch needs; raise :class:`ParamsError` listing every
    problem. ``data_years(data_dir, out)`` lists the fiscal years in the data (default
    :func:`~wardanalysis.batch.cache.fiscal_years_in_data`)."""
    o = overrides or Overrides()
    # Absolute from here on: workers and kernels do not run in the caller's directory.
    nb_dir = Path(notebooks_directory or notebooks_dir()).expanduser().resolve()
    p_dir = Path(params_directory or params_dir()).expanduser().resolve()
    batch_file = _display_path(p_dir / BATCH_FILE)
    raw, problems = read_yaml_mapping(p_dir / BATCH_FILE) if (p_dir / BATCH_FILE).exists() \
        else ({}, [])
    problems += [Problem(batch_file, k, f"unknown key (known keys: {', '.join(BATCH_KEYS)})")
                 for k in raw if k not in BATCH_KEYS]
    # Each setting from its option, else batch.yaml, else the default; checked by its schema.
    given = {"notebooks": o.notebooks, "fiscal_years": "all" if o.all_fiscal_years
             else o.fiscal_years, "languages": o.languages, "workers": o.workers,
             "timeout": o.timeout}  # --out and --data-dir: paths, checked below
    value: dict[str, Any] = {}
    for key, (schema, default, said) in BATCH_KEYS.items():
        option = given.get(key) is not None
        value[key] = given[key] if option else raw.get(key, default)
        if not valid(schema, value[key]):
            where = (_OPTIONS[key], None) if option else (batch_file, key)
            problems.append(Problem(*where, f"must be {said}, not {brief(value[key])}"))
            value[key] = default
    # Relative paths in batch.yaml are relative to the repository (the params folder's parent).
    base = p_dir.parent
    out = (Path(o.out).expanduser() if o.out is not None
           else base / Path(value["out"]).expanduser()).resolve()
    exploratory = [*(o.settings or []), *([f"lang={'+'.join(o.languages)}"] if o.languages and
                                            set(o.languages) != set(LANGUAGES) else [])]
    if exploratory and o.out is None:  # beside the canonical reports, never over them
        slug = re.sub(r"[^\w=+.-]+", "-", "_".join(exploratory), flags=re.ASCII)[:80]
        out = (base / EXPLORATORY_DIR / slug).resolve()
    data_dir = (_data_dir(o.data_dir, Path.cwd(), ("--data-dir", None), problems)
                if o.data_dir is not None
                else _data_dir(value["data_dir"], base, (batch_file, "data_dir"), problems))
    available = discover_notebooks(nb_dir)
    notebooks, skipped = _notebooks(nb_dir, available, value["notebooks"],
                                    o.notebooks is not None, batch_file, problems)
    notebook_params = _notebook_params(p_dir, nb_dir, available, notebooks, o.settings or [],
                                       problems)
    kernel = value["kernel"]
    if (known := _kernel_names()) and kernel not in known:
        problems.append(Problem(batch_file, "kernel", f"no Jupyter kernel named {brief(kernel)} "
                                f"is installed (installed: {', '.join(sorted(known))})"))
    # The fiscal years and the COVID period need the data: read only when the rest is sound.
    years_in_data: list[int] = []
    if not problems:
        try:
            years_in_data = sorted(int(y) for y in (data_years or (
                lambda d, _: fiscal_years_in_data(d)))(data_dir, out))
        except Exception as exc:  # bad overlay data: say so, run nothing
            problems.append(Problem(str(data_dir or "the shipped data"), None,
                                    f"cannot list the fiscal years in the data: {exc}"))
    fiscal_years = _fiscal_years(value["fiscal_years"], years_in_data, (
        ("--fiscal-year", None) if o.fiscal_years else (batch_file, "fiscal_years")), problems)
    if years_in_data:
        problems += period_problems(notebooks, notebook_params, years_in_data, data_dir)
    if problems:
        raise ParamsError(problems)
    workers = value["workers"] or default_workers()
    return BatchConfig(nb_dir, p_dir, out, data_dir, notebooks, notebook_params, fiscal_years,
                       list(dict.fromkeys(value["languages"])), workers,
                       float(value["timeout"]), kernel, years_in_data, skipped, exploratory)


def _data_dir(value: str | list[str] | None, base: Path, where: tuple[str, str | None],
              problems: list[Problem]) -> list[Path] | None:
    """The user's data folders, absolute, after checking that every file in them is regular
    (before anything reads or hashes them) and that no dataset is given in two of them."""
    folders = []
    for given in [value] if isinstance(value, str) else value or []:
        folder = (base / Path(given).expanduser()).resolve()  # an absolute value stays as it is
        if not folder.is_dir():
            problems.append(Problem(*where, f"{folder} is not a directory"))
        elif folder not in folders:
            folders.append(folder)
    problems += [Problem(p.file, None, p.message) for p in irregular_files(folders)]
    seen: dict[str, Path] = {}
    for path in data_files(folders):
        if path.stem.lower() in seen:
            problems.append(Problem(str(path), None, f"the same dataset is also in "
                                    f"{seen[path.stem.lower()]}: keep one of the two files"))
        seen.setdefault(path.stem.lower(), path)
    return folders or None


def _notebooks(nb_dir: Path, available: dict[str, Path], chosen: Any, named: bool,
               batch_file: str, problems: list[Problem]
               ) -> tuple[dict[str, NotebookInfo], dict[str, str]]:
    """The selected notebooks with their parameters. With ``all``, a notebook without a
    parameters cell (a scratch notebook) is skipped and named; one named explicitly must have
    one."""
    if not available:
        problems.append(Problem(_display_path(nb_dir), None, "holds no notebooks"))
    where = ("--notebook", None) if named else (batch_file, "notebooks")
    stems = list(available) if chosen == "all" else list(dict.fromkeys(
        n.removesuffix(".ipynb") for n in chosen))
    notebooks, skipped = {}, {}
    for stem in stems:
        if stem not in available:
            problems.append(Problem(where[0], stem if named else where[1], f"no notebook "
                                    f"{stem}.ipynb in {_display_path(nb_dir)} (have: "
                                    f"{', '.join(available)})"))
            continue
        shown = _display_path(available[stem])
        try:
            info = inspect_notebook(available[stem])
        except (OSError, ValueError) as exc:
            if chosen == "all" and "tagged 'parameters'" in str(exc):
                skipped[stem] = str(exc)
            else:
                problems.append(Problem(shown, None, str(exc)))
            continue
        problems += [Problem(shown, name, "the parameters cell must declare it (every notebook "
                             "takes lang and data_dir)") for name in ("lang", "data_dir")
                     if name not in info.parameters]
        if info.per_fiscal_year and not info.parameters["fiscal_year"].accepts(2000):
            problems.append(Problem(shown, "fiscal_year", "must be an integer parameter"))
        notebooks[stem] = info
    return notebooks, skipped


def _notebook_params(p_dir: Path, nb_dir: Path, available: dict[str, Path],
                     notebooks: dict[str, NotebookInfo], settings: list[str],
                     problems: list[Problem]) -> dict[str, dict[str, Any]]:
    """``params/<notebook>.yaml`` of the selected notebooks, then ``--set NAME=VALUE`` for every
    selected notebook that declares NAME, each value checked against the parameters cell."""
    found: dict[str, dict[str, Any]] = {}
    files = sorted(p_dir.glob("*.yaml")) + sorted(p_dir.glob("*.yml")) if p_dir.is_dir() else []
    for path in files:
        if path.stem == "batch":
            continue
        shown = _display_path(path)
        if path.stem not in available:
            problems.append(Problem(shown, None, f"no notebook {path.stem}.ipynb in "
                                    f"{_display_path(nb_dir)}; a parameter file is named after "
                                    "its notebook"))
            continue
        values, read_problems = read_yaml_mapping(path)
        problems += read_problems
        if path.stem in notebooks:
            problems += _check_params(values, notebooks[path.stem], shown)
            found[path.stem] = values
    for setting in settings:
        name, sep, text = (part.strip() for part in setting.partition("="))
        if not sep or not name:
            problems.append(Problem("--set", None, f"expects NAME=VALUE, not {brief(setting)}"))
            continue
        try:
            value = yaml.safe_load(text) if text else None
        except yaml.YAMLError:
            value = text
        takers = [stem for stem, info in notebooks.items() if name in info.parameters]
        if plain := _plain_problem(value):
            problems.append(Problem("--set", name, plain))
        elif not takers:
            problems.append(Problem("--set", name, "no selected notebook declares this parameter"
                                    f" (selected: {', '.join(notebooks) or 'none'})"))
        for stem in takers if not plain else []:
            bad = _check_params({name: value}, notebooks[stem], "--set")
            problems += [b for b in bad if b not in problems]
            if not bad:
                found.setdefault(stem, {})[name] = value
    return found


def _check_params(values: dict[str, Any], info: NotebookInfo, file: str) -> list[Problem]:
    fixed = {k: f"is set by the batch for each run; choose it with {where} in {BATCH_FILE}"
             for k, where in BATCH_PARAMETERS.items()}
    return value_problems(values, info, file, fixed)


def _fiscal_years(chosen: Any, years_in_data: list[int], where: tuple[str, str | None],
                  problems: list[Problem]) -> list[int]:
    if not years_in_data:
        return []
    if chosen == "all":
        return years_in_data
    requested = sorted(set([chosen] if isinstance(chosen, int) else chosen))
    span = f"{years_in_data[0]}–{years_in_data[-1]}"
    problems += [Problem(*where, f"{y} is not a fiscal year in the data ({span})")
                 for y in requested if y not in years_in_data]
    return [y for y in requested if y in years_in_data]


def _kernel_names() -> set[str]:
    """Names of the installed Jupyter kernels (empty if they cannot be listed)."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager  # heavy: Jupyter

        return set(KernelSpecManager().find_kernel_specs())
    except Exception:  # listing failed: the kernel's own start will say what is wrong
        return set()


def plan_jobs(config: BatchConfig) -> list[Job]:
    """Every (notebook, fiscal year, language) run the configuration asks for, in a fixed order."""
    data_dir = config.data_param
    return [Job(stem, info.path, year, lang, {**config.notebook_params.get(stem, {}),
                                              **({} if year is None else {"fiscal_year": year}),
                                              "lang": lang, "data_dir": data_dir})
            for stem, info in config.notebooks.items()
            for year in (config.fiscal_years if info.per_fiscal_year else [None])
            for lang in config.languages]
