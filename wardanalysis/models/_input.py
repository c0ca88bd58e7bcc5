"""The models' input frames: the shipped dataset (validated at loading) or the caller's frame,
checked once against the same descriptor (:func:`wardanalysis.data.validation.check_frame`).
A model always gets a copy, so the caller's frame is never modified.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.loading import load, overlaid_rows
from ..data.schema import dataset_names, get_schema, input_names
from ..data.sources import source_date
from ..data.validation import check_frame
from ..errors import (
    InvalidFrameError,
    MissingColumnError,
    MissingDataError,
    ModelInputError,
    TooFewYearsError,
    ZeroDenominatorError,
)


def frame(df: pd.DataFrame | None, name: str, columns: Sequence[str],
          data_dir: str | Path | None = None, argument: str | None = None, *,
          by_year: bool = False) -> pd.DataFrame:
    """A checked copy of ``df`` (the shipped dataset ``name`` when None) with ``columns`` and a
    row at least, sorted by fiscal year when ``by_year``; a frame of no dataset is its model's."""
    argument = argument or name
    given = df is not None
    if not given:
        df = load(name, data_dir)
    if not isinstance(df, pd.DataFrame):
        raise ModelInputError(f"{argument}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise MissingColumnError(argument, missing, list(df.columns))
    if df.empty:
        raise MissingDataError(f"{argument}: no row (no fiscal year in the data)")
    out = df.copy(deep=True)
    if given and name in (*dataset_names(), *input_names()):
        out, problems = check_frame(out, get_schema(name), argument, columns)
        if problems:
            raise InvalidFrameError(
                f"{argument}: {len(problems)} problem(s) against the descriptor of {name} "
                "(data/meta):\n" + "\n".join(f"  {p}" for p in problems))
    out.attrs = dict(df.attrs)
    if by_year:
        out = out.sort_values("fiscal_year", kind="stable").reset_index(drop=True)
    return out


def yearly_counts(df: pd.DataFrame, columns: Iterable[str], argument: str) -> pd.DataFrame:
    """For a frame no descriptor states: one row per whole ``fiscal_year`` and non-negative whole
    counts in ``columns`` (converted to int), sorted by fiscal year."""
    out = df.copy()
    for col in ("fiscal_year", *columns):
        values = pd.to_numeric(df[col], errors="coerce")
        bad = values.isna() | (values < 0) | (values != np.round(values))
        if bad.any():
            raise InvalidFrameError(
                f"{argument}: column {col!r} must hold non-negative whole counts; "
                f"bad value(s) {list(df.loc[bad, col].astype(str))[:5]} at {_where(df, bad)}")
        out[col] = values.astype(np.int64)
    dup = out["fiscal_year"][out["fiscal_year"].duplicated()]
    if not dup.empty:
        raise InvalidFrameError(f"{argument}: fiscal year(s) {sorted(set(dup.tolist()))} appear "
                                "more than once; one row per fiscal year is expected")
    return out.sort_values("fiscal_year", kind="stable").reset_index(drop=True)


def nonzero(df: pd.DataFrame, column: str, what: str) -> None:
    bad = df[column] == 0
    if bad.any():
        raise ZeroDenominatorError(what, column, _where(df, bad))


def require_years(df: pd.DataFrame, needed: int, model: str, detail: str = "") -> None:
    years = df["fiscal_year"].unique().tolist()
    if len(years) < needed:
        raise TooFewYearsError(model, needed, years, detail)


def _where(df: pd.DataFrame, mask: pd.Series) -> str:
    return "fiscal year(s) " + ", ".join(str(y) for y in df.loc[mask, "fiscal_year"].tolist()[:5])


def as_of_dates(df: pd.DataFrame) -> dict[int, dt.date | None]:
    """The date each fiscal year's row was counted: the row's own ``as_of`` where it has one,
    else the shipped source document's date for a shipped row, else None (unknown)."""
    prov = df.attrs.get("provenance") or {}
    source_id = (prov.get("source") or {}).get("id")
    shipped_date = source_date(source_id) if source_id else None
    own = df["as_of"] if "as_of" in df.columns else [None] * len(df)
    return {int(fy): pd.Timestamp(date).date() if not pd.isna(date)
            else shipped_date if prov and not user else None
            for fy, date, user in zip(df["fiscal_year"], own, overlaid_rows(df), strict=True)}
