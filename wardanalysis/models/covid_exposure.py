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
from ..errors import MissingDataError
from ..results import Estimate, Joined, Result, Said, chosen
from ..text.glossary import label
from . import _input

COLUMNS = ("measure_id", "kind", "start_date", "end_date", "is_restriction")


def restrictions(covid_measures: pd.DataFrame | None, data_dir=None, areas=None) -> pd.DataFrame:
    """The rows of ``covid_measures`` with ``is_restriction`` true (in ``areas`` when given),
    dates as Timestamps, by start date; the descriptor has checked the dates at loading."""
    df = _input.frame(covid_measures, "covid_measures", COLUMNS, data_dir)
    if areas is not None:
        if "area_ja" not in df.columns:
            raise _input.MissingColumnError("covid_measures", ["area_ja"], list(df.columns))
        df = df[df["area_ja"].isin(list(areas))]
    rows = df[df["is_restriction"].astype(bool)].copy()
    rows["start_date"] = pd.to_datetime(rows["start_date"])
    rows["end_date"] = pd.to_datetime(rows["end_date"])
    return rows.sort_values("start_date", kind="stable")


def days_under(rows: pd.DataFrame, bounds: Iterable[tuple[dt.date, dt.date]],
               horizon: dt.date) -> list[int]:
    """Days under the restrictions ``rows`` within each inclusive ``(first, last)`` of
    ``bounds``, overlapping measures counted once; one without an end runs to ``horizon``."""
    merged: list[list[dt.date]] = []
    for start, end in sorted((r.start_date.date(), horizon if pd.isna(r.end_date)
                              else r.end_date.date()) for r in rows.itertuples(index=False)):
        if merged and start <= merged[-1][1] + dt.timedelta(days=1):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [sum(max(0, (min(e, hi) - max(s, lo)).days + 1) for s, e in merged)
            for lo, hi in bounds]


def exposure_days(covid_measures: pd.DataFrame | None = None,
                  fiscal_years: Sequence[int] | None = None, *,
                  areas: Sequence[str] | None = None,
                  data_dir: str | Path | None = None) -> pd.DataFrame:
    """Days under COVID restrictions in each of ``fiscal_years`` (by default, from the first to
    the last restriction's year), from ``covid_measures`` (the shipped table when None) limited
    to ``areas`` (``area_ja``) when given. Columns: ``fiscal_year``, ``days_under_measures``,
    ``days_in_fiscal_year``, ``share_of_fiscal_year``, ``measures`` (ids in force, ``;``-joined)
    and ``has_open_ended`` (a restriction without an end date was counted to the year's end)."""
    rows = restrictions(covid_measures, data_dir, areas)
    if fiscal_years is None:
        if rows.empty:
            raise MissingDataError("covid_measures: no restriction rows (is_restriction true), so "
                                   "the fiscal years cannot be inferred; pass fiscal_years")
        first = fiscal_year_of(rows["start_date"].min())
        ends = rows["end_date"].dropna()
        last = first if ends.empty else fiscal_year_of(max(ends.max(), rows["start_date"].max()))
        fiscal_years = list(range(first, last + 1))
    years = sorted({int(y) for y in fiscal_years})
    if not years:
        raise MissingDataError("exposure_days: fiscal_years is empty")
    horizon = fiscal_year_bounds(max(years))[1]
    spans = [(r.start_date.date(), horizon if pd.isna(r.end_date) else r.end_date.date(),
              str(r.measure_id), pd.isna(r.end_date)) for r in rows.itertuples(index=False)]
    days = days_under(rows, [fiscal_year_bounds(fy) for fy in years], horizon)
    out = []
    for fy, n in zip(years, days, strict=True):
        lo, hi = fiscal_year_bounds(fy)
        ids = [m for s, e, m, _ in spans if s <= hi and e >= lo]
        open_ = any(o for s, e, _, o in spans if o and s <= hi)
        n_days = (hi - lo).days + 1
        out.append((fy, n, n_days, n / n_days, ";".join(ids), open_))
    return pd.DataFrame(out, columns=["fiscal_year", "days_under_measures", "days_in_fiscal_year",
                                      "share_of_fiscal_year", "measures", "has_open_ended"])


@dataclass(frozen=True, eq=False, repr=False)
class CovidExposureResult(Result):
    sources = ("covid_measures",)
    SUMMARY_KEYS = ()

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
    """:func:`exposure_days` as a result object; record keys
    ``covid.days_under_measures.fy<YYYY>`` (days; exact counts, no interval)."""
    rows = restrictions(covid_measures, data_dir, areas)
    table = exposure_days(covid_measures, fiscal_years, areas=areas, data_dir=data_dir)
    pairs = list(zip(table["fiscal_year"], table["days_under_measures"], strict=True))
    quality = rows["quality"] if "quality" in rows.columns else pd.Series(dtype=str)
    non_official = sorted(set(quality.dropna().astype(str)) - {"O"})
    days = Joined(tuple(Said("covid.days_part", {"year": int(y), "days": int(n)})
                        for y, n in pairs), "list.joiner")
    return CovidExposureResult(
        title_key="title_covid_exposure",
        estimates=tuple(Estimate(f"covid.days_under_measures.fy{y}", float(n), unit="days")
                        for y, n in pairs),
        facts={"days": days, "qualities": ", ".join(non_official)},
        text_keys=("covid.text",), method_key="covid.method",
        caveat_keys=chosen([
            (True, "covid.caveat.calendar_days"),
            (bool(table["has_open_ended"].any()), "covid.caveat.open_ended"),
            (bool(non_official), "covid.caveat.non_official"),
        ]),
        n_obs=int(len(rows)), data=table,
    )


#: Days per unit of the exposure term (a rate ratio per 30 days under measures).
PER_DAYS = 30
#: Where the period terms explain this share (R²) of the days under measures or more, the model
#: cannot tell the measures from the period and says so instead of reporting a dose-response.
SEPARABLE_R2 = 0.9


@dataclass(frozen=True)
class ExposureFit:
    """The rate ratio per :data:`PER_DAYS` days under measures beside the period terms, and
    ``r2``, the share of the days' variance those terms explain: at :data:`SEPARABLE_R2` or more
    the ratio is the period again, not a dose-response (``separable`` False)."""

    ratio: float
    ci_low: float
    ci_high: float
    r2: float
    separable: bool
    fit: Any


def period_r2(base: pd.DataFrame, days: np.ndarray) -> float:
    """R² of the days under measures on the period terms ``base`` (least squares)."""
    d = np.asarray(days, dtype=float)
    if np.ptp(d) == 0:
        return 1.0
    Xb = base.to_numpy(dtype=float)
    coef, *_ = np.linalg.lstsq(Xb, d, rcond=None)
    resid = d - Xb @ coef
    return float(1 - resid @ resid / np.sum((d - d.mean()) ** 2))


def fit_exposure(y, base: pd.DataFrame, days, what: str = "the exposure model") -> ExposureFit:
    """Quasi-Poisson model of counts ``y`` on the period terms ``base`` plus the days under
    measures: their rate ratio comes only from how the days vary beside the period, so a flat
    step over the period is not read as a dose-response."""
    from .. import stats

    d = np.asarray(days, dtype=float)
    X = base.assign(exposure=d / PER_DAYS)
    fit = stats.fit_quasi_poisson(np.asarray(y, dtype=float), X, what=what)
    r2 = period_r2(base, d)
    return ExposureFit(*fit.ratio("exposure"), r2=r2, separable=r2 < SEPARABLE_R2, fit=fit)


def within_year_design(fiscal_years, months, harmonics: int = 2) -> pd.DataFrame:
    """Period terms that leave the exposure only the days' month-to-month variation: one level
    per fiscal year (trend, the COVID step, whatever a year's months share) and harmonics."""
    fy = np.asarray(fiscal_years, dtype=int)
    m = np.asarray(months, dtype=float)
    X = pd.DataFrame({f"fy{y}": (fy == y).astype(float) for y in sorted(set(fy.tolist()))})
    for k in range(1, harmonics + 1):
        X[f"sin{k}"] = np.sin(2 * np.pi * k * m / 12)
        X[f"cos{k}"] = np.cos(2 * np.pi * k * m / 12)
    return X
