"""Key estimates recorded in an executed notebook, machine-readable, for the batch to collect.

:func:`record` displays the rows under :data:`MIME_TYPE` (what the batch collects into
``reports/results.csv``; nbval skips it, see ``notebooks/conftest.py``) beside their table as
text and HTML; :func:`collected_rows` reads them back. No pandas at import: the batch's parent
process reads records too.
"""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from .text.formats import fmt

__all__ = ["COLUMNS", "HEADLINE_MIME", "MIME_TYPE", "STORED_DIGITS", "collected_headline",
           "collected_rows", "record", "record_rows", "stored"]

MIME_TYPE = "application/vnd.wardanalysis.records+json"
#: The output a report's summary box carries for the front page (see
#: :func:`wardanalysis.report.summary`): the report's title, its answer and key figures in the
#: report's language, and whether it was made from simulated data.
HEADLINE_MIME = "application/vnd.wardanalysis.headline+json"
COLUMNS = ("key", "value", "ci_low", "ci_high", "unit", "interval", "flags")
#: Columns a records frame must have; the others default to "".
REQUIRED = COLUMNS[:5]
_NUMERIC = ("value", "ci_low", "ci_high")
#: Significant digits a recorded number is stored with, in a notebook and in results.csv: far
#: beyond any interval's precision, short of the last binary digits that differ between BLAS
#: builds and machines (a notebook re-executed elsewhere changes no recorded number).
STORED_DIGITS = 12


def _is_missing(value: Any) -> bool:
    return (value is None or type(value).__name__ == "NAType"
            or (isinstance(value, float) and math.isnan(value)))


def stored(value: float) -> float:
    """``value`` at :data:`STORED_DIGITS` significant digits (1269.9999999999934 → 1270.0)."""
    return float(f"{value:.{STORED_DIGITS}g}")


def _number(value: Any, column: str, key: str) -> float | None:
    if _is_missing(value):
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"record {key!r}: {column} must be a number, not {value!r}")
    if math.isinf(value):
        raise ValueError(f"record {key!r}: {column} is infinite")
    return None if math.isnan(value) else float(value)


def _row(raw: Mapping[str, Any], store: bool) -> dict[str, Any]:
    """A checked row: numbers as floats or None (at :data:`STORED_DIGITS` when ``store``), the
    text columns as strings ("" for a missing one)."""
    key = raw["key"]
    if not isinstance(key, str) or not key:
        raise ValueError(f"a record key must be a non-empty string, not {key!r}")
    row: dict[str, Any] = {"key": key}
    for c in _NUMERIC:
        number = _number(raw[c], c, key)
        row[c] = stored(number) if store and number is not None else number
    for c in COLUMNS[4:]:
        value = raw.get(c)
        if not _is_missing(value) and not isinstance(value, str):
            raise TypeError(f"record {key!r}: {c} must be a string, not {value!r}")
        row[c] = "" if _is_missing(value) else value
    return row


def _unique(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[str] = set()
    dup = sorted({r["key"] for r in rows if r["key"] in seen or seen.add(r["key"])})
    if dup:
        raise ValueError(f"duplicate record keys: {', '.join(dup)}")
    return rows


def record_rows(results_or_frames: Any) -> list[dict[str, Any]]:
    """The validated rows :func:`record` would display (keys must be unique)."""
    import pandas as pd

    items = results_or_frames
    if isinstance(items, pd.DataFrame) or hasattr(items, "records"):
        items = [items]
    elif not isinstance(items, Iterable) or isinstance(items, (str, bytes, Mapping)):
        raise TypeError("record() takes a result object with a records() method, a DataFrame "
                        f"of records, or a list of them; not {type(items).__name__}")
    rows = []
    for item in items:
        item = item.records() if callable(getattr(item, "records", None)) else item
        if not isinstance(item, pd.DataFrame):
            raise TypeError(f"cannot record a {type(item).__name__}: it has no records() method "
                            "that returns a DataFrame of records")
        columns = [str(c) for c in item.columns]
        if (set(columns) - set(COLUMNS) or not set(REQUIRED) <= set(columns)
                or len(set(columns)) != len(columns)):
            raise ValueError(f"records must have the columns {', '.join(REQUIRED)} (and "
                             f"optionally {', '.join(COLUMNS[5:])}); got {', '.join(columns)}")
        rows += [_row(raw, store=True) for raw in item.to_dict("records")]
    return _unique(rows)


def bundle(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The MIME bundle :func:`record` displays: the rows, and their table with each number to
    4 significant figures as text and HTML."""
    import pandas as pd

    shown = pd.DataFrame(rows, columns=["key", *_NUMERIC, "unit", "flags"])
    for c in _NUMERIC:
        shown[c] = [fmt(r[c], 4) for r in rows]
    return {MIME_TYPE: rows, "text/plain": shown.to_string(index=False),
            "text/html": shown.to_html(index=False, classes="wardanalysis-records", border=0)}


def record(results_or_frames: Any, *, notebook: str | None = None) -> None:
    """Display the key estimates of ``results_or_frames`` (a result with ``records()``, a
    DataFrame with the columns ``key, value, ci_low, ci_high, unit`` and optionally
    ``interval``, ``flags``, or a list of them; keys unique) as one machine-readable output;
    ``notebook`` is stored in its metadata. Outside IPython, prints the table."""
    from IPython import get_ipython
    from IPython.display import display

    data = bundle(record_rows(results_or_frames))
    if get_ipython() is None:
        print(data["text/plain"])
        return
    display(data, raw=True, metadata={MIME_TYPE: {"notebook": notebook} if notebook else {}})


def _outputs(notebook: Mapping[str, Any], mime: str) -> list[Any]:
    """The ``mime`` data of every output of a notebook (a NotebookNode or its JSON as a dict)."""
    found = []
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = output.get("data", {})
            if output.get("output_type") in ("display_data", "execute_result") and mime in data:
                value = data[mime]
                found.append(json.loads(value) if isinstance(value, str) else value)
    return found


def collected_headline(notebook: Any) -> dict[str, Any] | None:
    """The headline of an executed notebook (its last summary box), or None if it has none.
    Raises ValueError for one that is not ``{title, answer, figures, simulated}``."""
    found = _outputs(notebook, HEADLINE_MIME)
    if not found:
        return None
    h = found[-1]
    if not (isinstance(h, Mapping) and isinstance(h.get("title"), str)
            and isinstance(h.get("answer"), str) and isinstance(h.get("simulated"), bool)
            and isinstance(h.get("figures"), list)
            and all(isinstance(f, str) for f in h["figures"])):
        raise ValueError(f"malformed headline {str(h)[:200]}")
    return {k: h[k] for k in ("title", "answer", "figures", "simulated")}


def collected_rows(notebook: Any) -> list[dict[str, Any]]:
    """Every recorded row of an executed notebook as dicts, validated, keys unique."""
    rows = []
    for r in (r for rows_ in _outputs(notebook, MIME_TYPE) for r in rows_):
        if not isinstance(r, Mapping) or not set(REQUIRED) <= set(r) <= set(COLUMNS):
            raise ValueError(f"malformed record row {r!r}: expected the keys "
                             f"{', '.join(REQUIRED)} (and optionally {', '.join(COLUMNS[5:])})")
        rows.append(_row(r, store=False))
    return _unique(rows)

