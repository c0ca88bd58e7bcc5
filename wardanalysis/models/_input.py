"""Input handling shared by the models: loading defaults, copying, validating.

Every public model function passes its DataFrame arguments through :func:`frame`: the shipped
dataset (validated at loading) when the argument is ``None``; otherwise the caller's frame checked
once against the same dataset's descriptor, by the same function that checks a data file
(:func:`wardanalysis.data.validation.check_frame`). Either way the model gets a *copy*, so the
caller's frame is never modified, and need not check again what a descriptor states.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.loading import load, overlaid_rows
from ..data.schema import get_schema
from ..data.sources import source_date
from ..data.validation import check_frame
from ..errors import (
    DuplicateYearError,
    InvalidCountError,
    InvalidFrameError,
    MissingColumnError,
    ModelInputError,
    TooFewYearsError,
    ZeroDenominatorError,
)


def frame(df: pd.DataFrame | None, name: str, columns: Sequence[str],
          data_dir: str | Path | None = None, argument: str | None = None, *,
          by_year: bool = False) -> pd.DataFrame:
    """A validated copy of ``df`` (or of the shipped dataset ``name`` when ``df`` is None) with
    ``columns``; sorted by fiscal year (index reset) when ``by_year``. A caller's frame is checked
    in ``columns``, the ones the model reads; a frame that is no dataset's (``name`` without a
    descriptor) is checked by its model."""
    argument = argument or name
    given = df is not None
    if not given:
        df = load(name, data_dir)
    if not isinstance(df, pd.DataFrame):
        raise ModelInputError(f"{argument}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MissingColumnError(argument, missing, list(df.columns))
    out = df.copy(deep=True)
    if given:
        try:
            schema = get_schema(name)
        except KeyError:
            schema = None
        if schema is not None:
            out, problems = check_frame(out, schema, argument, columns)
            if problems:
                raise InvalidFrameError(
                    f"{argument}: {len(problems)} problem(s) against the descriptor of {name} "
                    "(data/meta):\n" + "\n".join(f"  {p}" for p in problems))
    out.attrs = dict(df.attrs)
    if by_year:
        out = out.sort_values("fiscal_year", kind="stable").reset_index(drop=True)
    return out


def fiscal_years(df: pd.DataFrame, argument: str) -> pd.DataFrame:
    """For a frame no descriptor states: ``fiscal_year`` whole numbers, one row per year; sorted."""
    fy = df["fiscal_year"]
    values = pd.to_numeric(fy, errors="coerce")
    bad = fy[values.isna() | (values != np.round(values))]
    if not bad.empty:
        raise InvalidCountError(
            f"{argument}: fiscal_year must be a whole number (the calendar year in which the fiscal "
            f"year starts); found {list(bad.astype(str))[:5]}"
        )
    df = df.assign(fiscal_year=values.astype(int))
    dup = df["fiscal_year"][df["fiscal_year"].duplicated()]
    if not dup.empty:
        raise DuplicateYearError(
            f"{argument}: fiscal year(s) {sorted(set(dup.tolist()))} appear more than once; "
            "one row per fiscal year is expected"
        )
    return df.sort_values("fiscal_year", kind="stable").reset_index(drop=True)


def counts(df: pd.DataFrame, columns: Iterable[str], argument: str) -> pd.DataFrame:
    """Check that ``columns`` hold non-negative whole numbers; convert them to int."""
    out = df.copy()
    for col in columns:
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() | (values < 0) | (values != np.round(values))
        if bad.any():
            where = _where(df, bad)
            raise InvalidCountError(
                f"{argument}: column {col!r} must hold non-negative whole counts; "
                f"bad value(s) {list(df.loc[bad, col].astype(str))[:5]} at {where}"
            )
        out[col] = values.astype(np.int64)
    return out


def nonzero(df: pd.DataFrame, column: str, what: str) -> None:
    bad = df[column] == 0
    if bad.any():
        raise ZeroDenominatorError(what, column, _where(df, bad))


def require_years(df: pd.DataFrame, needed: int, model: str, detail: str = "") -> None:
    years = df["fiscal_year"].unique().tolist()
    if len(years) < needed:
        raise TooFewYearsError(model, needed, years, detail)


def _where(df: pd.DataFrame, mask: pd.Series) -> str:
    if "fiscal_year" in df.columns:
        ys = df.loc[mask, "fiscal_year"].tolist()
        return "fiscal year(s) " + ", ".join(str(y) for y in ys[:5])
    return "row(s) " + ", ".join(str(i) for i in df.index[mask][:5])


def as_of_dates(df: pd.DataFrame) -> dict[int, object]:
    """The date at which each fiscal year's row was counted: the row's own ``as_of`` where the
    frame has that column and the row fills it; the date of the shipped source document for a
    shipped row; None (unknown) for a user's row without one, or for a frame without provenance.
    """
    prov = df.attrs.get("provenance") or {}
    users = overlaid_rows(df)
    shipped_date = None
    source_id = (prov.get("source") or {}).get("id")
    if source_id:
        shipped_date = source_date(source_id)
    out: dict[int, object] = {}
    for i, fy in enumerate(df["fiscal_year"].tolist()):
        own = df["as_of"].iloc[i] if "as_of" in df.columns else None
        if own is not None and not pd.isna(own):
            out[int(fy)] = pd.Timestamp(own).date()
        elif prov and not users[i] and isinstance(shipped_date, dt.date):
            out[int(fy)] = shipped_date
        else:
            out[int(fy)] = None
    return out
