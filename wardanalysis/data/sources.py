"""The source documents of ``data/sources.yml``: each dataset descriptor names one in
``source.id``."""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from typing import Any

from .._yaml import read
from ..paths import shipped_data_dir
from ..text.messages import message
from .readers import read_rows
from .schema import dataset_names, get_schema

__all__ = ["citation", "marks_used", "shipped_urls", "source_date", "sources"]


@cache
def sources() -> dict[str, dict[str, Any]]:
    """Every source document, by id."""
    return read(shipped_data_dir() / "sources.yml")


def source_date(source_id: str) -> dt.date | None:
    """The date of a source document, or None when it has none (a compilation)."""
    value = sources().get(source_id, {}).get("date")  # YAML gives a date, or text if quoted
    return dt.date.fromisoformat(str(value)) if value else None


_URL = re.compile(r"https?://[^\s\"'<>]+")


@cache
def shipped_urls() -> frozenset[str]:
    """Every http(s) address in the shipped data files and descriptors: the only addresses a
    report renders as links (a user's cell is never made a link)."""
    root = shipped_data_dir()
    found: set[str] = set()
    for path in sorted([*root.glob("raw/*.csv"), *root.glob("meta/*.yml"), root / "sources.yml"]):
        if path.suffix == ".csv":
            cells = (c.strip() for row in read_rows(path, path.stem, path.name)[0] for c in row)
            found.update(c for c in cells if _URL.fullmatch(c))
        else:
            found.update(_URL.findall(path.read_text(encoding="utf-8")))
    return frozenset(found)


@cache
def marks_used(source_id: str) -> tuple[str, ...]:
    """The quality marks the shipped rows built from a source carry (its datasets' ``quality``
    column), in the order of the source's legend; its single mark for a whole document."""
    meta = sources().get(source_id, {})
    if meta.get("quality"):
        return (str(meta["quality"]),)
    found = set()
    for name in dataset_names():
        schema = get_schema(name)
        path = schema.shipped_file
        if schema.source.get("id") != source_id or path is None:
            continue
        rows = read_rows(path, name, path.name)[0]
        if rows and "quality" in rows[0]:
            col = rows[0].index("quality")
            found.update(r[col].strip() for r in rows[1:] if len(r) > col and r[col].strip())
    legend = list(meta.get("quality_marks") or {})
    return tuple(sorted(found, key=lambda m: (m not in legend, legend.index(m) if m in legend
                                              else 0, m)))


def citation(datasets, lang: str) -> str:
    """The sources of ``datasets`` (names) for a caption, in ``lang``: the review by its title
    and date, public figures as such; each source once, in the order first named."""
    # "simulated": numbers from wardanalysis.models.simulate, never a source of figures
    sids = ["simulated" if name == "simulated" else get_schema(name).source.get("id", "")
            for name in datasets]
    named = {"kumamoto_review_2024": "source.review", "user_export": "source.user",
             "simulated": "source.simulated"}
    parts = [message(named.get(sid, "source.public"), lang) for sid in sids if sid]
    return message("source.joiner", lang).join(dict.fromkeys(parts))
