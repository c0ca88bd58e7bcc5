"""Key estimates recorded in an executed notebook, machine-readable, for the batch to collect.

A notebook calls :func:`record` with its result objects (anything with a ``records()`` method
returning the columns ``key, value, ci_low, ci_high, unit`` and optionally ``interval`` (how the
interval was computed) and ``flags`` (e.g. ``poisson_only``)) or with such DataFrames. That
displays one output carrying three representations:

- ``application/vnd.wardanalysis.records+json``: the rows, each number at the
  :data:`STORED_DIGITS` significant digits ``reports/results.csv`` keeps (what the batch collects
  into it; nbval skips it, see ``notebooks/conftest.py``): a committed notebook re-executed on
  another machine changes no recorded number unless it changes at that precision;
- ``text/plain``: the table with values to 4 significant figures (what nbval compares);
- ``text/html``: the same table for a reader.

:func:`collect_records` reads those outputs back from an executed notebook without parsing HTML.
This module imports neither matplotlib, seaborn nor statsmodels.
"""

from __future__ import annotations

import html
import json
import math
import numbers
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas is imported only where a DataFrame is made or received
    import pandas as pd

__all__ = ["COLUMNS", "HEADLINE_MIME", "MIME_TYPE", "STORED_DIGITS", "collect_records",
           "collected_headline", "format_sig", "record", "record_rows", "stored"]

MIME_TYPE = "application/vnd.wardanalysis.records+json"
#: The output a report's summary box carries for the front page (see
#: :func:`wardanalysis.report.summary`): the report's title, its answer and key figures in the
#: report's language, and whether it was made from simulated data.
HEADLINE_MIME = "application/vnd.wardanalysis.headline+json"
COLUMNS = ("key", "value", "ci_low", "ci_high", "unit", "interval", "flags")
#: Columns a records frame must have; the others default to "".
REQUIRED = COLUMNS[:5]
_TEXT = ("unit", "interval", "flags")
_NUMERIC = ("value", "ci_low", "ci_high")
SIGNIFICANT = 4
#: Significant digits a recorded number is stored with, in a notebook and in results.csv: far
#: beyond any interval's precision, short of the last binary digits that differ between BLAS
#: builds and machines.
STORED_DIGITS = 12


# --------------------------------------------------------------------------- rows


def _is_na(value: Any) -> bool:
    return type(value).__name__ == "NAType"


def stored(value: float) -> float:
    """``value`` at :data:`STORED_DIGITS` significant digits (1269.9999999999934 → 1270.0)."""
    return float(f"{value:.{STORED_DIGITS}g}")


def _number(value: Any, column: str, key: str) -> float | None:
    if value is None or _is_na(value):
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"record {key!r}: {column} must be a number, not {value!r}")
    value = float(value)
    if math.isnan(value):
        return None
    if math.isinf(value):
        raise ValueError(f"record {key!r}: {column} is infinite")
    return value


def _frame_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a DataFrame of records, not {type(frame).__name__}")
    columns = [str(c) for c in frame.columns]
    unknown = sorted(set(columns) - set(COLUMNS))
    if unknown or not set(REQUIRED) <= set(columns) or len(set(columns)) != len(columns):
        raise ValueError(f"records must have the columns {', '.join(REQUIRED)} (and optionally "
                         f"{', '.join(COLUMNS[5:])}); got {', '.join(columns)}")
    rows = []
    for raw in frame.to_dict("records"):
        key = raw["key"]
        if not isinstance(key, str) or not key:
            raise ValueError(f"a record key must be a non-empty string, not {key!r}")
        row: dict[str, Any] = {"key": key}
        for c in _NUMERIC:
            number = _number(raw[c], c, key)
            row[c] = None if number is None else stored(number)
        for c in _TEXT:
            row[c] = _text(raw.get(c), c, key)
        rows.append({c: row[c] for c in COLUMNS})
    return rows


def _text(value: Any, column: str, key: str) -> str:
    if value is None or _is_na(value) or (isinstance(value, float) and math.isnan(value)):
        return ""
    if not isinstance(value, str):
        raise TypeError(f"record {key!r}: {column} must be a string, not {value!r}")
    return value


def _is_frame(obj: Any) -> bool:
    return type(obj).__name__ == "DataFrame" and type(obj).__module__.startswith("pandas")


def _as_frames(results_or_frames: Any) -> list[pd.DataFrame]:
    if _is_frame(results_or_frames) or hasattr(results_or_frames, "records"):
        items = [results_or_frames]
    elif isinstance(results_or_frames, Iterable) and not isinstance(results_or_frames,
                                                                    (str, bytes, Mapping)):
        items = list(results_or_frames)
    else:
        raise TypeError("record() takes a result object with a records() method, a DataFrame "
                        f"of records, or a list of them; not {type(results_or_frames).__name__}")
    frames = []
    for item in items:
        if _is_frame(item):
            frames.append(item)
        elif callable(getattr(item, "records", None)):
            frames.append(item.records())
        else:
            raise TypeError(f"cannot record a {type(item).__name__}: it has no records() method")
    return frames


def record_rows(results_or_frames: Any) -> list[dict[str, Any]]:
    """The validated rows :func:`record` would display (keys must be unique)."""
    rows = [row for frame in _as_frames(results_or_frames) for row in _frame_rows(frame)]
    _check_unique(rows)
    return rows


def _check_unique(rows: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    dup = sorted({r["key"] for r in rows if r["key"] in seen or seen.add(r["key"])})
    if dup:
        raise ValueError(f"duplicate record keys: {', '.join(dup)}")


# --------------------------------------------------------------------------- display


def format_sig(value: float | None, digits: int = SIGNIFICANT) -> str:
    """``value`` to ``digits`` significant figures, with thousands separators and no exponent
    between 1e-4 and 1e15 (``12345.6`` → ``12,350``; ``0.0012345`` → ``0.001235``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    rounded = float(f"{value:.{digits}g}")
    if rounded == 0:
        return "0"
    exponent = math.floor(math.log10(abs(rounded)))
    if not -4 <= exponent < 15:
        return f"{rounded:.{digits - 1}e}"
    decimals = max(0, digits - 1 - exponent)
    return f"{rounded:,.{decimals}f}"


_SHOWN = ("key", "value", "ci_low", "ci_high", "unit", "flags")


def _text_table(rows: list[dict[str, Any]]) -> str:
    header = list(_SHOWN)
    body = [[r["key"], *(format_sig(r[c]) for c in _NUMERIC), r["unit"], r["flags"]]
            for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body, strict=False)]
    right = {1, 2, 3}

    def line(cells: list[str]) -> str:
        out = [c.rjust(w) if i in right else c.ljust(w)
               for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(out).rstrip()

    return "\n".join([line(header), *(line(b) for b in body)])


def _html_table(rows: list[dict[str, Any]]) -> str:
    head = "".join(f"<th>{c}</th>" for c in _SHOWN)
    body = "".join(
        "<tr>" + f"<td>{html.escape(r['key'])}</td>"
        + "".join(f'<td style="text-align:right">{format_sig(r[c])}</td>' for c in _NUMERIC)
        + f"<td>{html.escape(r['unit'])}</td><td>{html.escape(r['flags'])}</td></tr>"
        for r in rows
    )
    return (f'<table class="wardanalysis-records"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def bundle(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The MIME bundle :func:`record` displays."""
    return {MIME_TYPE: rows, "text/plain": _text_table(rows), "text/html": _html_table(rows)}


def record(results_or_frames: Any, *, notebook: str | None = None) -> None:
    """Display the key estimates of ``results_or_frames`` as one machine-readable output.

    Parameters
    ----------
    results_or_frames
        A result object with a ``records()`` method, a DataFrame with the columns
        ``key, value, ci_low, ci_high, unit`` (and optionally ``interval``, ``flags``), or a
        list of them. Keys must be unique.
    notebook
        Optional name stored in the output's metadata, for a reader of the raw notebook.

    Returns None, so that a trailing ``record(...)`` does not display a second output.
    """
    rows = record_rows(results_or_frames)
    data = bundle(rows)
    metadata = {MIME_TYPE: {"notebook": notebook} if notebook else {}}
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python: print the table
        print(data["text/plain"])
        return None
    if get_ipython() is None:
        print(data["text/plain"])
        return None
    display(data, raw=True, metadata=metadata)
    return None


# --------------------------------------------------------------------------- collection


def _notebook(node: Any) -> Mapping[str, Any]:
    if isinstance(node, (str, Path)):
        with open(node, encoding="utf-8") as fh:
            return json.load(fh)
    return node


def _outputs(notebook_node: Any, mime: str) -> list[Any]:
    """The ``mime`` data of every output of the notebook, in order."""
    found = []
    for cell in _notebook(notebook_node).get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = output.get("data", {})
            if output.get("output_type") in ("display_data", "execute_result") and mime in data:
                value = data[mime]
                found.append(json.loads(value) if isinstance(value, str) else value)
    return found


def iter_record_outputs(notebook_node: Any) -> list[list[dict[str, Any]]]:
    """The rows of every records output, in notebook order."""
    return [list(rows) for rows in _outputs(notebook_node, MIME_TYPE)]


def collected_headline(notebook_node: Any) -> dict[str, Any] | None:
    """The headline of an executed notebook (its last summary box), or None if it has none.
    Raises ValueError for one that is not ``{title, answer, figures, simulated}``."""
    found = _outputs(notebook_node, HEADLINE_MIME)
    if not found:
        return None
    h = found[-1]
    if not (isinstance(h, Mapping) and isinstance(h.get("title"), str)
            and isinstance(h.get("answer"), str) and isinstance(h.get("simulated"), bool)
            and isinstance(h.get("figures"), list)
            and all(isinstance(f, str) for f in h["figures"])):
        raise ValueError(f"malformed headline {str(h)[:200]}")
    return {k: h[k] for k in ("title", "answer", "figures", "simulated")}


def collected_rows(notebook_node: Any) -> list[dict[str, Any]]:
    """Every recorded row of an executed notebook as dicts, validated, keys unique."""
    rows: list[dict[str, Any]] = []
    for output_rows in iter_record_outputs(notebook_node):
        for r in output_rows:
            if not isinstance(r, Mapping) or not set(REQUIRED) <= set(r) <= set(COLUMNS):
                raise ValueError(f"malformed record row {r!r}: expected the keys "
                                 f"{', '.join(REQUIRED)} (and optionally "
                                 f"{', '.join(COLUMNS[5:])})")
            row = {"key": r["key"]}
            for c in _NUMERIC:
                row[c] = _number(r[c], c, str(r["key"]))
            for c in _TEXT:
                row[c] = r.get(c) or ""
            rows.append({c: row[c] for c in COLUMNS})
    _check_unique(rows)
    return rows


def collect_records(notebook_node: Any) -> pd.DataFrame:
    """The key estimates recorded in an executed notebook (a NotebookNode, a dict, or a path).

    Returns a DataFrame with the columns ``key, value, ci_low, ci_high, unit, interval, flags``
    (missing numbers as NaN), in the order recorded. Raises ValueError on a malformed output or a duplicated key.
    """
    import pandas as pd

    rows = collected_rows(notebook_node)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return frame.astype({"key": object, "value": float, "ci_low": float, "ci_high": float,
                         "unit": object, "interval": object, "flags": object})
