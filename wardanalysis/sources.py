"""The source documents of ``data/sources.yml``: each dataset descriptor names one in
``source.id``."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from .paths import shipped_data_dir

__all__ = ["source", "source_date", "sources"]


@cache
def sources() -> dict[str, dict[str, Any]]:
    """Every source document, by id."""
    import yaml

    return yaml.safe_load((shipped_data_dir() / "sources.yml").read_text(encoding="utf-8"))


def source(source_id: str) -> dict[str, Any]:
    """One source document; KeyError naming the id when it is not in ``sources.yml``."""
    try:
        return dict(sources()[source_id])
    except KeyError:
        raise KeyError(f"no source {source_id!r} in data/sources.yml") from None


def source_date(source_id: str) -> dt.date | None:
    """The date of a source document, or None when it has none (a compilation)."""
    value = sources().get(source_id, {}).get("date")
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value) if isinstance(value, str) else None
