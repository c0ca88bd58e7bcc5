"""Days under Kumamoto's COVID-19 measures in each fiscal year.

From the ``covid_measures`` table: the rows with ``is_restriction`` true (emergency declarations
and まん延防止等重点措置; the move to 5類 is not a restriction and is left out) are merged into
a union of date intervals, so that overlapping measures are not counted twice, and the union is
intersected with each fiscal year (1 April to 31 March). ``end_date`` is the last day in force,
inclusive; a restriction without an end date is counted as in force to the end of the last
fiscal year asked for, and the result says so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..eras import fiscal_year_bounds, fiscal_year_of
from ..errors import InvalidCountError, MissingDataError
from ..results import Estimate, Joined, Result, Said, chosen
from ..text.glossary import label
from . import _input

__all__ = ["CovidExposureResult", "covid_exposure_days", "exposure_days"]

COLUMNS = ("measure_id", "kind", "start_date", "end_date", "is_restriction")


def restrictions(covid_measures: pd.DataFrame | None, data_dir, areas) -> tuple[pd.DataFrame, pd.DataFrame]:
    df = _input.frame(covid_measures, "covid_measures", COLUMNS, data_dir)
    if areas is not None:
        if "area_ja" not in df.columns:
            raise _input.MissingColumnError("covid_measures", ["area_ja"], list(df.columns))
        df = df[df["area_ja"].isin(list(areas))]
    flag = df["is_restriction"]
    if flag.isna().any():
        raise InvalidCountError(
            "covid_measures: is_restriction is missing for measure(s) "
            f"{df.loc[flag.isna(), 'measure_id'].tolist()}"
        )
    rows = df[flag.astype(bool)].copy()
    rows["start_date"] = pd.to_datetime(rows["start_date"], errors="coerce")
    rows["end_date"] = pd.to_datetime(rows["end_date"], errors="coerce")
    if rows["start_date"].isna().any():
        raise InvalidCountError(
            "covid_measures: restriction(s) without a start_date cannot be placed in a fiscal "
            f"year: {rows.loc[rows['start_date'].isna(), 'measure_id'].tolist()}"
        )
    reversed_ = rows["end_date"].notna() & (rows["end_date"] < rows["start_date"])
    if reversed_.any():
        raise InvalidCountError(
            "covid_measures: end_date before start_date for measure(s) "
            f"{rows.loc[reversed_, 'measure_id'].tolist()}"
        )
    return df, rows.sort_values("start_date", kind="stable")


def union_of(intervals: Iterable[tuple[dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """Merge inclusive date intervals that overlap or touch."""
    merged: list[list[dt.date]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + dt.timedelta(days=1):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def exposure_days(covid_measures: pd.DataFrame | None = None,
                  fiscal_years: Sequence[int] | None = None, *,
                  areas: Sequence[str] | None = None,
                  data_dir: str | Path | None = None) -> pd.DataFrame:
    """Days under COVID restrictions in each fiscal year, as a plain DataFrame.

    Parameters
    ----------
    covid_measures
        The ``covid_measures`` table (loaded from the shipped data when None).
    fiscal_years
        Fiscal years to report (every fiscal year from the first to the last restriction when
        None). Years without a restriction get 0 days.
    areas
        Keep only measures whose ``area_ja`` is one of these (all rows when None: the table is
        a list of the measures that applied to Kumamoto).
    data_dir
        Passed to the loader when ``covid_measures`` is None.

    Returns
    -------
    DataFrame with ``fiscal_year``, ``days_under_measures``, ``days_in_fiscal_year``,
    ``share_of_fiscal_year``, ``measures`` (ids of the restrictions in force that year, ``;``-joined)
    and ``has_open_ended`` (a restriction without an end date was counted to the year's end).
    """
    _, rows = restrictions(covid_measures, data_dir, areas)
    if fiscal_years is None:
        if rows.empty:
            raise MissingDataError("covid_measures: no restriction rows (is_restriction true), so "
                                   "the fiscal years cannot be inferred; pass fiscal_years")
        first = fiscal_year_of(rows["start_date"].min())
        ends = rows["end_date"].dropna()
        last = fiscal_year_of(max(ends.max(), rows["start_date"].max())) if not ends.empty else first
        fiscal_years = list(range(first, last + 1))
    years = sorted({int(y) for y in fiscal_years})
    if not years:
        raise MissingDataError("exposure_days: fiscal_years is empty")
    horizon = fiscal_year_bounds(max(years))[1]
    spans = []
    for r in rows.itertuples(index=False):
        start = r.start_date.date()
        open_ended = pd.isna(r.end_date)
        end = horizon if open_ended else r.end_date.date()
        spans.append((start, end, str(r.measure_id), open_ended))
    union = union_of((s, e) for s, e, _, _ in spans)
    out = []
    for fy in years:
        lo, hi = fiscal_year_bounds(fy)
        days = sum(max(0, (min(e, hi) - max(s, lo)).days + 1) for s, e in union)
        ids = [m for s, e, m, _ in spans if s <= hi and e >= lo]
        open_ = any(o for s, e, _, o in spans if o and s <= hi)
        n_days = (hi - lo).days + 1
        out.append((fy, days, n_days, days / n_days, ";".join(ids), open_))
    return pd.DataFrame(out, columns=["fiscal_year", "days_under_measures", "days_in_fiscal_year",
                                      "share_of_fiscal_year", "measures", "has_open_ended"])


@dataclass(frozen=True, eq=False, repr=False)
class CovidExposureResult(Result):
    sources = ("covid_measures",)
    SUMMARY_KEYS = ()
    measures: pd.DataFrame | None = None

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        ax.bar(d["fiscal_year"], d["days_under_measures"], color=plotting.COLORS["measures"],
               width=0.6)
        for y, n in zip(d["fiscal_year"], d["days_under_measures"], strict=True):
            ax.annotate(f"{n}", (y, n), xytext=(0, 3), textcoords="offset points", ha="center",
                        va="bottom", fontsize=10)
        plotting.set_fy_axis(ax, d["fiscal_year"], lang)
        ax.set_ylabel(label("days_under_measures", lang))
        ax.set_ylim(0, max(1, d["days_under_measures"].max()) * 1.18)
        ax.set_title(self.title(lang))


def covid_exposure_days(covid_measures: pd.DataFrame | None = None,
                        fiscal_years: Sequence[int] | None = None, *,
                        areas: Sequence[str] | None = None,
                        data_dir: str | Path | None = None) -> CovidExposureResult:
    """Days under Kumamoto's COVID-19 restrictions per fiscal year, as a result object.

    See :func:`exposure_days` for the arguments. Record keys:
    ``covid.days_under_measures.fy<YYYY>`` (days; exact counts, no interval).
    """
    all_rows, rows = restrictions(covid_measures, data_dir, areas)
    table = exposure_days(covid_measures if covid_measures is not None else all_rows,
                          fiscal_years, areas=areas)
    est = [Estimate(f"covid.days_under_measures.fy{y}", float(n), unit="days")
           for y, n in zip(table["fiscal_year"], table["days_under_measures"], strict=True)]
    restr_quality = rows["quality"] if "quality" in rows.columns else pd.Series(dtype=str)
    non_official = sorted(set(restr_quality.dropna().astype(str)) - {"O"})
    measures = rows.copy()
    days = Joined(tuple(Said("covid.days_part", {"year": int(y), "days": int(n)})
                        for y, n in zip(table["fiscal_year"], table["days_under_measures"],
                                        strict=True)), "list.joiner")
    return CovidExposureResult(
        title_key="title_covid_exposure",
        estimates=tuple(est),
        facts={"days": days, "qualities": ", ".join(non_official)},
        text_keys=("covid.text",), method_key="covid.method",
        caveat_keys=chosen([
            (True, "covid.caveat.calendar_days"),
            (bool(table["has_open_ended"].any()), "covid.caveat.open_ended"),
            (bool(non_official), "covid.caveat.non_official"),
        ]),
        n_obs=int(len(rows)), data=table,
        measures=measures,
    )


def _days_array(table: pd.DataFrame, years: Sequence[int]) -> np.ndarray:
    lookup = dict(zip(table["fiscal_year"], table["days_under_measures"], strict=True))
    return np.array([lookup.get(int(y), 0) for y in years], dtype=float)


# --- days under measures as a model term, beside the period ------------------------------------

#: Days per unit of the exposure term (a rate ratio per 30 days under measures).
PER_DAYS = 30
#: Where the period terms explain this share (R²) of the days under measures or more, the model
#: cannot tell the measures from the period and says so instead of reporting a dose-response.
SEPARABLE_R2 = 0.9


@dataclass(frozen=True)
class ExposureFit:
    """Days under measures fitted beside the period terms of ``base``.

    ``ratio``/``ci_low``/``ci_high``: the rate ratio per :data:`PER_DAYS` days under measures,
    holding the period terms fixed (quasi-Poisson, scale ``max(1, dispersion)``, t on the
    residual df). ``r2``: the share of the days' variance that the period terms explain;
    ``separable`` is False where it reaches :data:`SEPARABLE_R2` (the ratio is then not a
    dose-response but the period again, and is not reported as one)."""

    ratio: float
    ci_low: float
    ci_high: float
    r2: float
    separable: bool
    fit: Any

    @property
    def p_value(self) -> float:
        from scipy import stats as sps

        est, se = self.fit.contrast({"exposure": 1.0})
        return float(2 * sps.t.sf(abs(est / se), self.fit.df_resid))


def period_r2(base: pd.DataFrame, days: np.ndarray) -> float:
    """R² of the days under measures on the columns of ``base`` (least squares): how much of
    the days the period terms already carry."""
    d = np.asarray(days, dtype=float)
    if np.ptp(d) == 0:
        return 1.0
    Xb = base.to_numpy(dtype=float)
    coef, *_ = np.linalg.lstsq(Xb, d, rcond=None)
    resid = d - Xb @ coef
    return float(1 - resid @ resid / np.sum((d - d.mean()) ** 2))


def fit_exposure(y, base: pd.DataFrame, days, what: str = "the exposure model") -> ExposureFit:
    """Quasi-Poisson model of counts ``y`` on the period terms ``base`` (a constant, trend,
    the period step, ... or one level per fiscal year) plus the days under measures per
    :data:`PER_DAYS`: the days' rate ratio is identified only from how the days vary beside the
    period, so a flat step over the period is not read as a dose-response."""
    from .. import stats

    d = np.asarray(days, dtype=float)
    X = base.copy()
    X["exposure"] = d / PER_DAYS
    fit = stats.fit_quasi_poisson(np.asarray(y, dtype=float), X, what=what)
    r2 = period_r2(base, d)
    return ExposureFit(*fit.ratio("exposure"), r2=r2, separable=r2 < SEPARABLE_R2, fit=fit)


def within_year_design(fiscal_years, months, harmonics: int = 2) -> pd.DataFrame:
    """Period terms for monthly counts that leave only the month-to-month variation of the days
    to the exposure: one level per fiscal year (which holds the trend, the COVID period's step
    and any variation shared by a year's months) and ``harmonics`` pairs of month-of-year
    harmonics."""
    fy = np.asarray(fiscal_years, dtype=int)
    m = np.asarray(months, dtype=float)
    X = pd.DataFrame({f"fy{y}": (fy == y).astype(float) for y in sorted(set(fy.tolist()))})
    for k in range(1, harmonics + 1):
        X[f"sin{k}"] = np.sin(2 * np.pi * k * m / 12)
        X[f"cos{k}"] = np.cos(2 * np.pi * k * m / 12)
    return X
