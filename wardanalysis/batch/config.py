"""What to run: ``params/batch.yaml``, the per-notebook ``params/<notebook>.yaml`` files, the
command-line options, and the notebooks' own ``parameters`` cells, validated before anything runs.

Every problem names its file and key (``params/batch.yaml: fiscal_years: 2031 is not a fiscal
year in the data (2013–2024)``) and all problems are reported together. YAML is read with a safe
loader that also rejects duplicated keys. A notebook's parameters cell is read without running it:
each ``name = literal`` (optionally annotated) gives a parameter, its default and its type.
"""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import WardanalysisError
from ..paths import REPO_DIR, notebooks_dir, params_dir
from .cache import fiscal_years_in_data

__all__ = [
    "BATCH_FILE",
    "LANGUAGES",
    "BatchConfig",
    "Job",
    "NotebookInfo",
    "Overrides",
    "Param",
    "ParamsError",
    "Problem",
    "inspect_notebook",
    "load_config",
    "plan_jobs",
]

BATCH_FILE = "batch.yaml"
LANGUAGES = ("ja", "en")
#: Parameters the batch sets for every run; a per-notebook file may not set them.
BATCH_PARAMETERS = ("lang", "data_dir", "fiscal_year")


@dataclass(frozen=True)
class Problem:
    file: str
    key: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.message}"


class ParamsError(WardanalysisError, ValueError):
    """The batch's parameters are invalid; nothing was run. ``problems`` lists every problem."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# --------------------------------------------------------------------------- YAML


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice (PyYAML would silently keep the last)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicated key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping
)


def _display_path(path: Path) -> str:
    path = Path(path)
    for base in (Path.cwd(), REPO_DIR):
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


#: Limits of a parameter file: far above any real one, low enough that no file can make the
#: batch spend time or memory before it is rejected.
MAX_YAML_BYTES = 256 * 1024
MAX_YAML_DEPTH = 20
#: How much of an offending value a message shows.
MAX_SHOWN = 200


def brief(value: Any) -> str:
    """``repr(value)``, cut to :data:`MAX_SHOWN` characters for a message."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _yaml_structure_problem(text: str) -> str | None:
    """Why a YAML text is refused before it is built into objects: an anchor or alias (the
    "billion laughs" expansion, and no parameter needs one), an explicit tag (!!binary, !!set,
    !!python/…), or nesting deeper than :data:`MAX_YAML_DEPTH`."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            return (f"uses a YAML anchor or alias (line {event.start_mark.line + 1}); write the "
                    "value out instead")
        tag = getattr(event, "tag", None)
        if tag not in (None, "!"):
            return (f"uses the explicit YAML tag {tag!r} (line {event.start_mark.line + 1}); "
                    "parameters are plain strings, numbers, true/false, lists and mappings")
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                return f"is nested more than {MAX_YAML_DEPTH} levels deep"
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return None


_PLAIN = (str, int, float, bool, type(None))


def _plain_problem(value: Any, where: str = "") -> str | None:
    """Why ``value`` is not plain data (a date, bytes, a set …), or None."""
    if isinstance(value, dict):
        for k, v in value.items():
            found = _plain_problem(v, f"{where}.{k}" if where else str(k))
            if found:
                return found
        return None
    if isinstance(value, list):
        for i, v in enumerate(value):
            found = _plain_problem(v, f"{where}[{i}]")
            if found:
                return found
        return None
    if not isinstance(value, _PLAIN):
        kind = type(value).__name__
        hint = " (quote a date to pass it as text)" if kind in ("date", "datetime") else ""
        return f"{where or 'a value'} is a {kind}, not a string, number, true/false or list{hint}"
    return None


def read_yaml_mapping(path: Path) -> tuple[dict[str, Any], list[Problem]]:
    """A YAML file's top-level mapping (empty file: empty mapping), or the problems."""
    shown_path = _display_path(path)
    try:
        path = Path(path)
        if not path.is_file():
            return {}, [Problem(shown_path, None, "is not a regular file")]
        if path.stat().st_size > MAX_YAML_BYTES:
            return {}, [Problem(shown_path, None, f"is larger than {MAX_YAML_BYTES // 1024} KB; "
                                                  "a parameter file is a few lines")]
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [Problem(shown_path, None, f"cannot be read: {exc}")]
    shown = shown_path
    try:
        refused = _yaml_structure_problem(text)
        if refused:
            return {}, [Problem(shown, None, refused)]
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        return {}, [Problem(shown, None, f"is not valid YAML: {str(exc)[:MAX_SHOWN]}")]
    except RecursionError:
        return {}, [Problem(shown, None, "is nested too deeply")]
    plain = _plain_problem(data)
    if plain:
        return {}, [Problem(shown, None, plain)]
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        return {}, [Problem(shown, None, f"must be a mapping of keys to values, "
                                         f"not {type(data).__name__}")]
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        return {}, [Problem(shown, str(k), "keys must be names (strings)") for k in bad]
    return data, []


# --------------------------------------------------------------------------- notebooks

_TYPE_NAMES = {"int": int, "float": float, "str": str, "bool": bool, "list": list,
               "dict": dict, "tuple": tuple, "None": type(None), "Path": str}


@dataclass(frozen=True)
class Param:
    """A parameter of a notebook's parameters cell."""

    name: str
    default: Any
    types: tuple[type, ...] | None  # None: any value
    annotation: str | None = None

    def accepts(self, value: Any) -> bool:
        if self.types is None:
            return True
        if isinstance(value, bool) and bool not in self.types:
            return False  # True is an int in Python, never in a params file
        if isinstance(value, int) and not isinstance(value, bool) and float in self.types:
            return True
        return isinstance(value, self.types)

    def describe_type(self) -> str:
        if self.types is None:
            return "any value"
        names = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
                 list: "a list", dict: "a mapping", tuple: "a list", type(None): "null"}
        return " or ".join(dict.fromkeys(names.get(t, t.__name__) for t in self.types))


def _types_from_annotation(node: ast.expr) -> tuple[type, ...] | None:
    if isinstance(node, ast.Constant) and node.value is None:
        return (type(None),)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return _types_from_annotation(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return None
    if isinstance(node, ast.Name):
        t = _TYPE_NAMES.get(node.id)
        return None if t is None else (t,)
    if isinstance(node, ast.Attribute):  # pathlib.Path, typing.Any …
        return (str,) if node.attr == "Path" else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left, right = _types_from_annotation(node.left), _types_from_annotation(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.Subscript):
        base = node.value.id if isinstance(node.value, ast.Name) else getattr(node.value, "attr", "")
        if base == "Optional":
            inner = _types_from_annotation(node.slice)
            return None if inner is None else (*inner, type(None))
        if base == "Union" and isinstance(node.slice, ast.Tuple):
            parts = [_types_from_annotation(e) for e in node.slice.elts]
            return None if any(p is None for p in parts) else tuple(t for p in parts for t in p)
        t = _TYPE_NAMES.get(base)
        return None if t is None else (t,)
    return None


def _types_from_default(value: Any) -> tuple[type, ...] | None:
    if value is None:
        return (type(None), str)  # the convention for optional paths such as data_dir
    if isinstance(value, bool):
        return (bool,)
    if isinstance(value, int):
        return (int,)
    if isinstance(value, float):
        return (float,)
    if isinstance(value, str):
        return (str,)
    if isinstance(value, (list, tuple)):
        return (list, tuple)
    if isinstance(value, dict):
        return (dict,)
    return None


_NO_DEFAULT = object()


def parse_parameters(source: str) -> dict[str, Param]:
    """The parameters declared by a parameters cell's source."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"the parameters cell is not valid Python: {exc}") from exc
    params: dict[str, Param] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value, annotation = node.targets[0], node.value, None
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value, annotation = node.target, node.value, node.annotation
        else:
            continue
        if not isinstance(target, ast.Name):
            continue
        try:
            default = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError):
            default = _NO_DEFAULT
        types = _types_from_annotation(annotation) if annotation is not None else None
        if types is None and default is not _NO_DEFAULT:
            types = _types_from_default(default)
        params[target.id] = Param(
            name=target.id,
            default=None if default is _NO_DEFAULT else default,
            types=types,
            annotation=ast.unparse(annotation) if annotation is not None else None,
        )
    return params


@dataclass(frozen=True)
class NotebookInfo:
    stem: str
    path: Path
    parameters: dict[str, Param]

    @property
    def per_fiscal_year(self) -> bool:
        return "fiscal_year" in self.parameters


def _source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def inspect_notebook(path: Path) -> NotebookInfo:
    """Read a notebook's parameters cell (the first code cell tagged ``parameters``)."""
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        nb = json.load(fh)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get(
            "tags", []
        ):
            return NotebookInfo(path.stem, path, parse_parameters(_source(cell)))
    raise ValueError("has no code cell tagged 'parameters'")


def discover_notebooks(directory: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(Path(directory).glob("*.ipynb"))
            if not p.name.startswith(".") and ".ipynb_checkpoints" not in p.parts}


# --------------------------------------------------------------------------- batch.yaml


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
    data_dir: str | None = None
    #: ``--set NAME=VALUE`` (repeatable): a parameter for every selected notebook declaring it
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

    def describe(self) -> str:
        fy = "" if self.fiscal_year is None else f" fiscal_year={self.fiscal_year}"
        return f"{self.notebook}{fy} lang={self.lang}"


@dataclass
class BatchConfig:
    notebooks_dir: Path
    params_dir: Path
    out: Path
    data_dir: Path | None
    notebooks: dict[str, NotebookInfo]
    notebook_params: dict[str, dict[str, Any]]
    fiscal_years: list[int]
    languages: list[str]
    workers: int
    timeout: float
    kernel: str
    data_years: list[int] = field(default_factory=list)


_BATCH_KEYS = {
    "notebooks": "'all' or a list of notebook names (file names without .ipynb)",
    "fiscal_years": "'all' or a list of fiscal years",
    "languages": "a list of languages (ja, en)",
    "workers": "a positive integer, or null for one more than the number of CPU cores",
    "timeout": "seconds a notebook may run before it is stopped (a positive number)",
    "out": "the output directory (relative paths are relative to the repository)",
    "data_dir": "null, or a directory of user data files laid over the shipped data",
    "kernel": "the Jupyter kernel name",
}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_year_list(value: Any, file: str, key: str, problems: list[Problem]) -> list[int] | None:
    if value == "all":
        return None
    if _is_int(value):
        value = [value]
    if not isinstance(value, list) or not value or not all(_is_int(v) for v in value):
        problems.append(Problem(file, key, f"must be 'all' or a list of fiscal years (integers "
                                           f"such as 2023), not {brief(value)}"))
        return []
    return sorted(set(value))


def _resolve(path: str | os.PathLike[str], base: Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base / p)


def default_workers() -> int:
    """Notebooks executed at once when ``workers`` is null: one more than the CPU cores. Each
    notebook's worker also waits while its kernel starts, so one extra keeps the cores busy."""
    return (os.cpu_count() or 1) + 1


def load_config(
    overrides: Overrides | None = None,
    *,
    notebooks_directory: Path | None = None,
    params_directory: Path | None = None,
    data_years: Any = None,
) -> BatchConfig:
    """Read and validate everything the batch needs; raise :class:`ParamsError` listing every
    problem.

    ``data_years(data_dir, out) -> list[int]`` gives every fiscal year in the data (see
    :func:`wardanalysis.batch.cache.fiscal_years_in_data`, which caches it); it is injected so
    that tests and the cache can provide it.
    """
    o = overrides or Overrides()
    # Absolute from here on: workers and kernels do not run in the caller's directory.
    nb_dir = Path(notebooks_directory or notebooks_dir()).expanduser().resolve()
    p_dir = Path(params_directory or params_dir()).expanduser().resolve()
    problems: list[Problem] = []
    batch_path = p_dir / BATCH_FILE
    batch_file = _display_path(batch_path)
    raw: dict[str, Any] = {}
    if batch_path.exists():
        raw, found = read_yaml_mapping(batch_path)
        problems += found
    for key in raw:
        if key not in _BATCH_KEYS:
            known = ", ".join(_BATCH_KEYS)
            problems.append(Problem(batch_file, key, f"unknown key (known keys: {known})"))
    # Relative paths in batch.yaml are relative to the repository (the params directory's parent).
    base = p_dir.resolve().parent

    # -- notebooks
    available = discover_notebooks(nb_dir)
    selected: list[str]
    if o.notebooks:
        unknown = [n for n in o.notebooks if n not in available]
        for n in unknown:
            problems.append(Problem("--notebook", n, f"no notebook {n}.ipynb in "
                                    f"{_display_path(nb_dir)} (have: {', '.join(available)})"))
        selected = [n for n in dict.fromkeys(o.notebooks) if n in available]
    else:
        value = raw.get("notebooks", "all")
        if value == "all":
            selected = list(available)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value) and value:
            selected = []
            for n in value:
                if n.endswith(".ipynb"):
                    n = n[: -len(".ipynb")]
                if n not in available:
                    problems.append(Problem(batch_file, "notebooks", f"no notebook {n}.ipynb in "
                                            f"{_display_path(nb_dir)}"))
                else:
                    selected.append(n)
            selected = list(dict.fromkeys(selected))
        else:
            problems.append(Problem(batch_file, "notebooks",
                                    f"must be {_BATCH_KEYS['notebooks']}, not {brief(value)}"))
            selected = []
    if not available:
        problems.append(Problem(_display_path(nb_dir), None, "holds no notebooks"))

    notebooks: dict[str, NotebookInfo] = {}
    for stem in selected:
        shown = _display_path(available[stem])
        try:
            info = inspect_notebook(available[stem])
        except (OSError, ValueError) as exc:
            problems.append(Problem(shown, None, str(exc)))
            continue
        for required in ("lang", "data_dir"):
            if required not in info.parameters:
                problems.append(Problem(shown, required, "the parameters cell must declare it "
                                        "(every notebook takes lang and data_dir)"))
        if "fiscal_year" in info.parameters and not info.parameters["fiscal_year"].accepts(2000):
            problems.append(Problem(shown, "fiscal_year", "must be an integer parameter"))
        notebooks[stem] = info

    # -- per-notebook parameter files
    notebook_params: dict[str, dict[str, Any]] = {}
    if p_dir.is_dir():
        for path in sorted(p_dir.glob("*.yaml")) + sorted(p_dir.glob("*.yml")):
            if path.name in (BATCH_FILE, "batch.yml"):
                continue
            shown = _display_path(path)
            if path.stem not in available:
                problems.append(Problem(shown, None, f"no notebook {path.stem}.ipynb in "
                                        f"{_display_path(nb_dir)}; a parameter file is named "
                                        f"after its notebook"))
                continue
            values, found = read_yaml_mapping(path)
            problems += found
            info = notebooks.get(path.stem)
            if info is None:
                if path.stem in selected:
                    continue  # its notebook's own problem is reported already
                try:
                    info = inspect_notebook(available[path.stem])
                except (OSError, ValueError):
                    continue
            problems += _check_notebook_params(values, info, shown)
            notebook_params[path.stem] = values

    # -- --set NAME=VALUE: after the files, for every selected notebook that declares NAME
    for setting in o.settings or []:
        name, sep, text = setting.partition("=")
        name = name.strip()
        if not sep or not name:
            problems.append(Problem("--set", None, f"expects NAME=VALUE, not {brief(setting)}"))
            continue
        try:
            value = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            value = text
        plain = _plain_problem(value)
        if plain:
            problems.append(Problem("--set", name, plain))
            continue
        takers = [stem for stem, info in notebooks.items() if name in info.parameters]
        if not takers:
            problems.append(Problem("--set", name, "no selected notebook declares this parameter"
                                    f" (selected: {', '.join(notebooks) or 'none'})"))
            continue
        for stem in takers:
            found = _check_notebook_params({name: value}, notebooks[stem], f"--set {name}")
            problems += found
            if not found:
                notebook_params.setdefault(stem, {})[name] = value

    # -- scalar settings
    languages = o.languages or raw.get("languages", list(LANGUAGES))
    if isinstance(languages, str):
        languages = [languages]
    if (not isinstance(languages, list) or not languages
            or not all(isinstance(x, str) and x in LANGUAGES for x in languages)):
        where = ("--lang", None) if o.languages else (batch_file, "languages")
        problems.append(Problem(where[0], where[1],
                                f"must be a non-empty list of {', '.join(LANGUAGES)}, "
                                f"not {brief(languages)}"))
        languages = []
    languages = list(dict.fromkeys(languages))

    workers = o.workers if o.workers is not None else raw.get("workers")
    if workers is None:
        workers = default_workers()
    if not _is_int(workers) or workers < 1:
        where = ("--workers", None) if o.workers is not None else (batch_file, "workers")
        problems.append(Problem(where[0], where[1], f"must be a positive integer, not {brief(workers)}"))
        workers = 1

    timeout = o.timeout if o.timeout is not None else raw.get("timeout", DEFAULT_TIMEOUT)
    if not _is_int(timeout) or not 1 <= timeout <= MAX_TIMEOUT:
        where = ("--timeout", None) if o.timeout is not None else (batch_file, "timeout")
        problems.append(Problem(where[0], where[1],
                                f"must be a whole number of seconds from 1 to {MAX_TIMEOUT}, "
                                f"not {brief(timeout)}"))
        timeout = DEFAULT_TIMEOUT

    kernel = raw.get("kernel", "python3")
    if not isinstance(kernel, str) or not kernel:
        problems.append(Problem(batch_file, "kernel", f"must be a kernel name, not {brief(kernel)}"))
        kernel = "python3"
    elif (known := _kernel_names()) and kernel not in known:
        problems.append(Problem(batch_file, "kernel", f"no Jupyter kernel named {brief(kernel)} "
                                f"is installed (installed: {', '.join(sorted(known))})"))
        kernel = "python3"

    if o.out is not None:
        out = Path(o.out).expanduser().resolve()
    else:
        value = raw.get("out", "reports")
        if not isinstance(value, str) or not value:
            problems.append(Problem(batch_file, "out", f"must be a directory path, not {brief(value)}"))
            value = "reports"
        out = _resolve(value, base).resolve()

    data_dir: Path | None
    if o.data_dir is not None:
        data_dir = Path(o.data_dir).expanduser().resolve()
        where = ("--data-dir", None)
    else:
        value = raw.get("data_dir")
        where = (batch_file, "data_dir")
        if value is not None and (not isinstance(value, str) or not value):
            problems.append(Problem(*where, f"must be null or a directory path, not {brief(value)}"))
            value = None
        data_dir = None if value is None else _resolve(value, base).resolve()
    if data_dir is not None and not data_dir.is_dir():
        problems.append(Problem(*where, f"{data_dir} is not a directory"))
        data_dir = None
    irregular = []
    if data_dir is not None:  # before anything reads or hashes them
        from ..datafiles import irregular_files

        irregular = irregular_files(data_dir)
        for path in irregular:
            problems.append(Problem(str(path), None, "not a regular file (a FIFO, device, "
                                    "directory or a link to one); move it out of the data folder"))

    # -- fiscal years (needs the data; only worth reading when the rest is sound)
    fiscal_years: list[int] = []
    years_in_data: list[int] = []
    needs_years = any(info.per_fiscal_year for info in notebooks.values())
    if o.fiscal_years:
        requested = sorted(set(o.fiscal_years))
        year_source: tuple[str, str | None] = ("--fiscal-year", None)
    elif o.all_fiscal_years:
        requested = None
        year_source = ("--all", None)
    else:
        requested = _check_year_list(raw.get("fiscal_years", "all"), batch_file, "fiscal_years",
                                     problems)
        year_source = (batch_file, "fiscal_years")
    if (needs_years or requested) and not irregular:
        if data_years is None:
            def data_years(d: Path | None, _out: Path) -> list[int]:
                return fiscal_years_in_data(d)
        try:
            years_in_data = sorted(int(y) for y in data_years(data_dir, out))
        except Exception as exc:  # bad overlay data: say so, run nothing
            problems.append(Problem(str(data_dir or "the shipped data"), None,
                                    f"cannot list the fiscal years in the data: {exc}"))
        if years_in_data:
            if requested is None:
                fiscal_years = years_in_data
            else:
                span = f"{years_in_data[0]}–{years_in_data[-1]}"
                for y in requested:
                    if y not in years_in_data:
                        problems.append(Problem(year_source[0], year_source[1],
                                                f"{y} is not a fiscal year in the data ({span})"))
                fiscal_years = [y for y in requested if y in years_in_data]

    if problems:
        raise ParamsError(problems)
    return BatchConfig(
        notebooks_dir=nb_dir,
        params_dir=p_dir,
        out=out,
        data_dir=data_dir,
        notebooks=notebooks,
        notebook_params={k: v for k, v in notebook_params.items() if k in notebooks},
        fiscal_years=fiscal_years,
        languages=languages,
        workers=int(workers),
        timeout=float(timeout),
        kernel=kernel,
        data_years=years_in_data,
    )


#: The longest timeout accepted (a day), and the one used when batch.yaml gives none.
MAX_TIMEOUT, DEFAULT_TIMEOUT = 86_400, 600


def _kernel_names() -> set[str]:
    """Names of the installed Jupyter kernels (empty if they cannot be listed)."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        return set(KernelSpecManager().find_kernel_specs())
    except Exception:  # listing failed: the kernel's own start will say what is wrong
        return set()


def _check_notebook_params(values: dict[str, Any], info: NotebookInfo, file: str) -> list[Problem]:
    problems: list[Problem] = []
    for key, value in values.items():
        if key in BATCH_PARAMETERS:
            where = {"lang": "languages (or --lang)", "fiscal_year": "fiscal_years "
                     "(or --fiscal-year)", "data_dir": "data_dir (or --data-dir)"}[key]
            problems.append(Problem(file, key, f"is set by the batch for each run; choose it with "
                                    f"{where} in {BATCH_FILE}"))
            continue
        param = info.parameters.get(key)
        if param is None:
            known = ", ".join(p for p in info.parameters if p not in BATCH_PARAMETERS) or "none"
            problems.append(Problem(file, key, f"unknown parameter: {info.path.name} declares no "
                                    f"{key!r} in its parameters cell (settable: {known})"))
        elif not param.accepts(value):
            problems.append(Problem(file, key, f"must be {param.describe_type()} (the default in "
                                    f"{info.path.name} is {brief(param.default)}), not {brief(value)}"))
        elif key in FISCAL_YEAR_PARAMETERS and value is not None:
            problem = _fiscal_year_problem(value)
            if problem:
                problems.append(Problem(file, key, problem))
    return problems


#: Parameters whose value names a fiscal year (a year or an era label such as R2 or 令和2年度).
FISCAL_YEAR_PARAMETERS = ("covid_start", "covid_end", "break_year")


def _fiscal_year_problem(value: Any) -> str | None:
    """Why ``value`` is not a fiscal year, or None."""
    from ..eras import EraLabelError, fiscal_year

    if isinstance(value, bool):
        return f"must be a fiscal year (2020) or an era label (R2), not {brief(value)}"
    if isinstance(value, int):
        return None if 1989 <= value <= 2100 else f"{value} is not a plausible fiscal year"
    try:
        fiscal_year(value)
    except (EraLabelError, ValueError) as exc:
        return str(exc)
    return None


def plan_jobs(config: BatchConfig) -> list[Job]:
    """Every (notebook, fiscal year, language) run the configuration asks for, in a fixed order."""
    jobs: list[Job] = []
    data_dir = None if config.data_dir is None else str(config.data_dir)
    for stem, info in config.notebooks.items():
        years: Iterable[int | None] = config.fiscal_years if info.per_fiscal_year else [None]
        for year in years:
            for lang in config.languages:
                params = dict(config.notebook_params.get(stem, {}))
                if year is not None:
                    params["fiscal_year"] = year
                params["lang"] = lang
                params["data_dir"] = data_dir
                jobs.append(Job(stem, info.path, year, lang, params))
    return jobs
