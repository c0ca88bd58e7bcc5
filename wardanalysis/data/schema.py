"""Dataset descriptors (``data/meta/*.yml``), the single declaration of each dataset, read into
frozen objects: the loader enforces them, ``describe()`` and ``make datadict`` print them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .._yaml import read
from ..errors import WardanalysisError, did_you_mean
from ..paths import shipped_data_dir

__all__ = ["Column", "DatasetSchema", "SchemaError", "dataset_names", "get_schema", "header_key",
           "input_names"]

TYPES = {"integer", "number", "string", "date", "boolean"}
_RULE_RE = re.compile(r"^\s*(\w+)\s*(<=|>=|==|<|>)\s*(\w+)\s*$")
_TOP_KEYS = {"name", "title", "description", "path", "key", "fiscal_year_from", "totals_label",
             "contiguous", "source", "columns", "rules", "notes", "input_only"}


class SchemaError(WardanalysisError, ValueError):
    """A descriptor in ``data/meta/`` that does not follow the descriptor format."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    enum: tuple[str, ...] | None = None
    nullable: bool = False
    dash_is_zero: bool = False
    pattern: str | None = None
    #: the column may be left out of a file (it is then missing, or its default, in every row)
    optional: bool = False
    #: the value an empty or left-out cell takes, in a file or a caller's frame; without one, an
    #: optional column is nullable
    default: Any = None
    #: the column's heading as the office's own tables print it (accepted as a header)
    label_ja: str | None = None
    #: other headings a file may give the column (accepted as headers too)
    aliases: tuple[str, ...] = ()
    #: a value as a template's example row shows it
    example: Any = None

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header a file may give this column: its name, its label, its aliases."""
        return tuple(dict.fromkeys(h for h in (self.name, self.label_ja, *self.aliases) if h))


_COLUMN_KEYS = {f.name for f in fields(Column)}


@dataclass(frozen=True)
class Rule:
    left: str
    op: str
    right: str

    def __str__(self) -> str:
        return f"{self.left} {self.op} {self.right}"


@dataclass(frozen=True)
class DatasetSchema:
    name: str
    path: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    title: dict[str, str]
    description: str
    source: dict[str, Any]
    fiscal_year_from: str | None = None
    expand_periods: bool = False
    totals_label: str | None = None
    contiguous: bool = False
    rules: tuple[Rule, ...] = ()
    notes: tuple[str, ...] = ()
    #: no shipped file (``path`` empty): the dataset exists only in a user's data directory
    input_only: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def shipped_file(self) -> Path | None:
        """The shipped transcription of the dataset; None for one read from a user's folder
        only (no ``path``)."""
        return shipped_data_dir() / self.path if self.path else None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return {c.name: c for c in self.columns}[name]

    def language_pairs(self) -> list[tuple[str, str]]:
        """``(Japanese column, English column)`` of the text a page shows in either language, by
        the descriptors' naming: ``x_en`` gives ``x_ja`` (or ``x_as_printed``, or a plain ``x``
        holding the printed Japanese, as ``unit``) in English; ``x_ja`` beside a plain ``x`` and
        no ``x_en`` gives ``x`` (English) in Japanese."""
        names = self.column_names
        pairs = []
        for c in names:
            stem = c[:-3]
            if c.endswith("_en"):
                ja = next((j for j in (f"{stem}_ja", f"{stem}_as_printed", stem) if j in names),
                          None)
                if ja:
                    pairs.append((ja, c))
            elif c.endswith("_ja") and stem in names and f"{stem}_en" not in names:
                pairs.append((c, stem))
        return pairs

    def header_map(self) -> dict[str, str]:
        """Each accepted header (as compared: NFKC, spaces out) → the column it names."""
        return {header_key(h): c.name for c in self.columns for h in c.headers}


def header_key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", str(text)).split())


def _fail(path: Path, msg: str) -> SchemaError:
    return SchemaError(f"{path.name}: {msg}")


def _column(path: Path, i: int, c: dict[str, Any]) -> Column:
    bad = set(c) - _COLUMN_KEYS
    if bad:
        raise _fail(path, f"column {i}: unknown key(s) {sorted(bad)}")
    name = c.get("name")
    if c.get("type") not in TYPES:
        raise _fail(path, f"column {name!r}: type must be one of {sorted(TYPES)}")
    if not c.get("description"):
        raise _fail(path, f"column {name!r}: a description is required")
    if c["type"] in {"integer", "number"} and (c.get("min") is None or c.get("max") is None):
        # a value that cannot be true (9.2×10¹⁸ requests in a month) is refused by these
        article = "an" if c["type"] == "integer" else "a"
        raise _fail(path, f"column {name!r}: {article} {c['type']} column declares min and max "
                          "(generous bounds, orders of magnitude beyond any real value)")
    return Column(**{
        **c,
        "enum": tuple(c["enum"]) if c.get("enum") else None,
        "nullable": bool(c.get("nullable") or c.get("optional")) and c.get("default") is None,
        "aliases": tuple(str(a) for a in c.get("aliases") or ()),
    })


def _parse(path: Path) -> DatasetSchema:
    try:
        doc = read(path)
    except yaml.YAMLError as exc:
        raise _fail(path, f"not valid YAML ({exc})") from None
    if not isinstance(doc, dict):
        raise _fail(path, "expected a mapping at the top level")
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise _fail(path, f"unknown key(s) {sorted(unknown)}")
    input_only = bool(doc.get("input_only", False))
    for k in ("name", "path", "columns", "source", "title", "description"):
        if k not in doc and not (k == "path" and input_only):
            raise _fail(path, f"missing key {k!r}")
    if doc["name"] != path.stem:
        raise _fail(path, f"name {doc['name']!r} differs from the file name")
    columns = [_column(path, i, c) for i, c in enumerate(doc["columns"])]
    names = [c.name for c in columns]
    seen: dict[str, str] = {}
    for c in columns:  # a header must name one column only
        for h in c.headers:
            key = header_key(h)
            if seen.get(key, c.name) != c.name:
                raise _fail(path, f"column {c.name!r}: header {h!r} also names {seen[key]!r}")
            seen[key] = c.name
    rules = []
    for r in doc.get("rules") or []:
        m = _RULE_RE.match(r)
        if not m or m[1] not in names or m[3] not in names:
            raise _fail(path, f"rule {r!r} must compare two declared columns, e.g. 'a <= b'")
        rules.append(Rule(m[1], m[2], m[3]))
    fy_from = doc.get("fiscal_year_from")
    expand = isinstance(fy_from, dict) and bool(fy_from.get("expand", False))
    if isinstance(fy_from, dict):
        fy_from = fy_from.get("column")
    key = tuple(doc.get("key") or ())
    undeclared = [k for k in key if k not in names]
    if undeclared:
        raise _fail(path, f"key column {undeclared[0]!r} is not declared")
    return DatasetSchema(
        name=doc["name"], path=doc.get("path") or "", columns=tuple(columns), key=key,
        title=dict(doc["title"]), description=doc["description"], source=dict(doc["source"]),
        fiscal_year_from=fy_from, expand_periods=expand, totals_label=doc.get("totals_label"),
        contiguous=bool(doc.get("contiguous", False)), rules=tuple(rules),
        notes=tuple(doc.get("notes") or ()), input_only=input_only, raw=doc)


def _meta_dir() -> Path:
    return shipped_data_dir() / "meta"


@cache
def dataset_names() -> tuple[str, ...]:
    """Names of the shipped datasets, sorted."""
    return tuple(sorted(p.stem for p in _meta_dir().glob("*.yml")))


@cache
def input_names() -> tuple[str, ...]:
    """Names of the datasets read only from a user's data directory (``data/meta/inputs/``)."""
    return tuple(sorted(p.stem for p in (_meta_dir() / "inputs").glob("*.yml")))


@cache
def get_schema(name: str) -> DatasetSchema:
    """The descriptor of dataset ``name``; ``KeyError`` lists the known ones."""
    path = _meta_dir() / f"{name}.yml"
    if not path.is_file():
        path = _meta_dir() / "inputs" / f"{name}.yml"
    if not isinstance(name, str) or not path.is_file():
        hint = did_you_mean(str(name), (*dataset_names(), *input_names()))
        raise KeyError(
            f"unknown dataset {name!r}{hint}; known datasets: {', '.join(dataset_names())}; "
            f"read from a data directory only: {', '.join(input_names())}"
        )
    schema = _parse(path)
    if schema.input_only != (path.parent.name == "inputs"):
        raise _fail(path, "input_only: true belongs to the descriptors in data/meta/inputs/ "
                          "(and only to them)")
    return schema
