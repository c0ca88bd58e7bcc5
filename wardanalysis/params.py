"""A notebook's parameters: what its ``parameters`` cell declares, and the checks every value
passes, whether the batch sets it (:mod:`wardanalysis.batch.config`) or a researcher runs the
notebook by hand (:func:`wardanalysis.report.setup`). Every problem names the file and the
parameter, one line each.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import fastjsonschema

from .data.datafiles import DataDirError, resolve_data_dir
from .errors import CovidPeriodError, WardanalysisError, did_you_mean, printable

#: How much of a value a message shows.
MAX_SHOWN = 200
#: Parameters whose value names a fiscal year (a year or an era label such as R2 or 令和2年度).
FISCAL_YEAR_PARAMETERS = ("covid_start", "covid_end", "break_year")
#: The datasets whose fiscal years, together, are the years "in the data".
FISCAL_YEAR_DATASETS = ("needs_reflection", "civil_engineering_requests", "machizukuri_budget")


@dataclass(frozen=True)
class Problem:
    file: str
    key: str | None
    message: str

    def __str__(self) -> str:
        return printable(f"{self.file}: {self.key}: {self.message}" if self.key
                         else f"{self.file}: {self.message}")


class ParamsError(WardanalysisError, ValueError):
    """The parameters are invalid; nothing was run. ``problems`` lists every problem."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def _render_traceback_(self) -> list[str]:
        """IPython shows the problems without a traceback: the fix goes in the parameters cell."""
        return [f"ParamsError: {p}" for p in self.problems]


def brief(value: Any) -> str:
    """``repr(value)``, cut to :data:`MAX_SHOWN` characters for a message."""
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def valid(schema: dict[str, Any], value: Any) -> bool:
    """Whether ``value`` matches the JSON Schema ``schema``. fastjsonschema, not jsonschema: the
    latter loads its format checkers on import (about 4 s in every kernel that calls setup)."""
    try:
        _validator(json.dumps(schema, sort_keys=True))(value)
    except fastjsonschema.JsonSchemaValueException:
        return False
    return True


@cache
def _validator(schema: str) -> Any:
    return fastjsonschema.compile(json.loads(schema))


#: JSON Schema types of the annotations a parameters cell may use, and how a message says them.
_JSON_TYPES = {"int": "integer", "float": "number", "str": "string", "Path": "string",
               "bool": "boolean", "list": "array", "tuple": "array", "dict": "object",
               "None": "null", "NoneType": "null"}
_SAID = {"integer": "an integer", "number": "a number", "string": "a string",
         "boolean": "true or false", "array": "a list", "object": "a mapping", "null": "null"}


@dataclass(frozen=True)
class Param:
    """A parameter: its default, and the JSON Schema of the values it accepts (``{}``: any)."""

    name: str
    default: Any
    schema: dict[str, Any]

    def accepts(self, value: Any) -> bool:
        return valid(self.schema, value)


def _schema(annotation: ast.expr | None, default: Any) -> dict[str, Any]:
    """``int | str | None`` → ``{"type": ["integer", "string", "null"]}``; without an
    annotation, the default's type (None: a path or nothing). Anything else accepts any value."""
    if annotation is not None:
        names = ast.unparse(annotation).strip("'\"").replace(" ", "").split("|")
    elif default is None:
        names = ["None", "str"]
    else:
        names = [type(default).__name__]
    types = [_JSON_TYPES.get(n.removeprefix("pathlib.")) for n in names]
    return {} if None in types else {"type": list(dict.fromkeys(types))}


def parse_parameters(source: str) -> dict[str, Param]:
    """The parameters a parameters cell declares: each ``name = literal`` or
    ``name: type = value`` (a value that is not a literal has no default). Not papermill's
    inspection: it cannot read annotations such as ``int | str | None``."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"the parameters cell is not valid Python: {exc}") from exc
    params: dict[str, Param] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, annotation = node.targets[0], None
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, annotation = node.target, node.annotation
        else:
            continue
        if isinstance(target, ast.Name):
            try:
                default, literal = ast.literal_eval(node.value), True
            except (ValueError, SyntaxError, TypeError):
                default, literal = None, False
            schema = _schema(annotation, default) if annotation or literal else {}
            params[target.id] = Param(target.id, default, schema)
    return params


@dataclass(frozen=True)
class NotebookInfo:
    stem: str
    path: Path
    parameters: dict[str, Param]

    @property
    def per_fiscal_year(self) -> bool:
        return "fiscal_year" in self.parameters


def inspect_notebook(path: Path) -> NotebookInfo:
    """Read a notebook's parameters cell (the first code cell tagged ``parameters``)."""
    with open(path, encoding="utf-8") as fh:
        cells = json.load(fh).get("cells", [])
    for cell in cells:
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get(
                "tags", []):
            source = cell.get("source", "")
            return NotebookInfo(Path(path).stem, Path(path), parse_parameters(
                "".join(source) if isinstance(source, list) else str(source)))
    raise ValueError("has no code cell tagged 'parameters'")


def value_problems(values: dict[str, Any], info: NotebookInfo, file: str,
                   fixed: Mapping[str, str] | None = None) -> list[Problem]:
    """Each value against its parameter: declared (a misspelt name says which was meant), of
    an accepted type, a fiscal-year parameter a plausible fiscal year, ``data_dir`` folders.
    ``fixed``: parameters the caller sets itself, each with the message a value for it gets."""
    from .eras import EraLabelError, fiscal_year

    fixed = fixed or {}
    problems: list[Problem] = []
    for key, value in values.items():
        param = info.parameters.get(key)
        message = None
        if key in fixed:
            message = fixed[key]
        elif param is None:
            settable = [p for p in info.parameters if p not in fixed]
            message = (f"unknown parameter: {info.path.name} declares no {key!r} in its "
                       f"parameters cell{did_you_mean(key, settable)} (settable: "
                       f"{', '.join(settable) or 'none'})")
        elif key == "data_dir" and value is not None:
            folders = value if isinstance(value, list) else [value]
            if not folders or not all(isinstance(f, (str, Path)) and str(f) for f in folders):
                message = f"must be a folder or a list of folders, not {brief(value)}"
            else:  # found where the data layer looks: the working folder, then the project root
                try:
                    for folder in folders:
                        resolve_data_dir(folder)
                except DataDirError as exc:
                    message = str(exc)
        elif key != "data_dir" and not param.accepts(value):
            types = param.schema["type"]
            said = " or ".join(_SAID[t] for t in ([types] if isinstance(types, str) else types))
            message = (f"must be {said} (the default in {info.path.name} is "
                       f"{brief(param.default)}), not {brief(value)}")
        elif key in FISCAL_YEAR_PARAMETERS and value is not None:
            try:  # the same reading as the models' (an era label or a year)
                year = value if isinstance(value, int) else fiscal_year(value)
            except (EraLabelError, ValueError, TypeError) as exc:
                message = str(exc)
            else:
                if not 1989 <= year <= 2100:
                    message = f"{value} is not a plausible fiscal year"
        if message:
            problems.append(Problem(file, key, message))
    return problems


def period_problems(notebooks: dict[str, NotebookInfo], params: dict[str, dict[str, Any]],
                    years: list[int], data_dir: Path | str | None) -> list[Problem]:
    """The COVID period each notebook would use, checked as a whole: start ≤ end, and both ends
    within the data with a fiscal year before the period (the models' own rule, so that a
    period that would fail inside a notebook fails here, before anything runs)."""
    from .models.periods import covid_period  # numpy and the data: only when a period is set

    problems = []
    for stem, info in notebooks.items():
        given = {k: v for k, v in params.get(stem, {}).items() if k in FISCAL_YEAR_PARAMETERS}
        if not given or "covid_start" not in info.parameters:
            continue
        where = ", ".join(f"{k}={v!r}" for k, v in given.items())
        try:
            period = covid_period(**given, data_dir=data_dir)
        except CovidPeriodError as exc:
            problems.append(Problem(stem, None, f"{where}: {exc}"))
            continue
        if not years[0] < period.start <= period.end <= years[-1]:
            problems.append(Problem(stem, None, f"{where}: the COVID period FY{period.start}–"
                                    f"FY{period.end} must lie within the data (FY{years[0]}–"
                                    f"FY{years[-1]}) and leave a fiscal year before it"))
    return problems


def years_in_data(data_dir: Path | str | None) -> list[int]:
    """Every fiscal year in the data: the union over :data:`FISCAL_YEAR_DATASETS`."""
    from .data.loading import load

    years: set[int] = set()
    for name in FISCAL_YEAR_DATASETS:
        years.update(int(y) for y in load(name, data_dir)["fiscal_year"].dropna().unique())
    return sorted(years)


def check_notebook_values(path: Path, values: dict[str, Any]) -> None:
    """The batch's checks of a notebook's parameter values, for a notebook run by hand: raise
    :class:`ParamsError` (one line per problem, naming the notebook and the parameter).
    ``path`` is the notebook file whose parameters cell declares them."""
    info = inspect_notebook(path)
    missing = [n for n in info.parameters if n not in values]
    if missing:
        raise TypeError(f"{path.name}: pass every parameter of the parameters cell to "
                        f"report.setup (missing: {', '.join(missing)})")
    problems = value_problems(values, info, path.name)
    year = values.get("fiscal_year")
    dated = year is not None or any(values.get(k) is not None for k in FISCAL_YEAR_PARAMETERS)
    if not problems and dated:
        data_dir = values.get("data_dir")
        years = years_in_data(data_dir)
        if year is not None and year not in years:
            problems.append(Problem(path.name, "fiscal_year", f"{year} is not a fiscal year in "
                                    f"the data ({years[0]}–{years[-1]})"))
        given = {k: v for k, v in values.items() if v is not None}  # None: from the data
        problems += period_problems({path.stem: info}, {path.stem: given}, years, data_dir)
    if problems:
        raise ParamsError(problems)
