"""Section 1: did community requests (要望・相談) fall because of COVID-19, or were they already
falling?

The data are one count per fiscal year (``needs_reflection.requests``, FY2017–FY2023 in the
shipped data). Every model here is a log-linear count model with the year-to-year overdispersion
estimated from the data (quasi-Poisson, dispersion = Pearson chi2 / df, intervals from Student's t
on the residual degrees of freedom), because seven yearly totals vary far more than Poisson
counts would.

Here: :func:`trend`, one log-linear trend over all years; :func:`yoy_ratios`, year-over-year
rate ratios with the dispersion of the trend borrowed; and the helpers the section's models
share (the data, the period, their checks and caveats). The interrupted time series and the
exposure model are :mod:`.its`'s; the period comparison, the sensitivities and the verdict
:mod:`.covid_verdict`'s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..results import (
    Estimate,
    Quantiles,
    Result,
    Years,
    chosen,
    fmt,
    pct_change,
)
from ..text.glossary import label
from . import _input

__all__ = [
    "COVID_BREAK_FY",
    "PER_DAYS",
    "START_UP_FY",
    "TrendResult",
    "UNIT_RR",
    "UNIT_RR_YEAR",
    "borrowed_interval_text",
    "common_caveats",
    "needs_frame",
    "trend",
    "variant_suffix",
    "yoy_ratios",
]


COVID_BREAK_FY = 2020
#: The まちづくりセンター start-up year, which the document says surfaced long-buried requests.
START_UP_FY = 2017
#: Exposure effects are reported per this many days under measures (about a month).
PER_DAYS = 30

UNIT_RR_YEAR = "rate ratio per year"
UNIT_RR = "rate ratio"


def needs_frame(df: pd.DataFrame | None, data_dir, argument: str = "needs_reflection") -> pd.DataFrame:
    return _input.frame(df, "needs_reflection", ("fiscal_year", "requests"), data_dir, argument,
                        by_year=True)


def common_caveats(fit: stats.GLMFit | None, years: Sequence[int], n_years: int,
                    startup_included: bool) -> tuple[list[tuple[bool, str]], dict[str, Any]]:
    """The caveats every requests model shares, as ``[(condition, key), …]`` and their facts."""
    facts: dict[str, Any] = {"n_years": n_years, "startup_year": START_UP_FY}
    out = [(True, "requests.caveat.few_years")]
    if fit is not None:
        facts.update(dispersion=fit.dispersion, disp_df=fit.df_resid)
        out += [(fit.dispersion > 1.5, "requests.caveat.overdispersed"),
                (fit.dispersion < 1, "requests.caveat.underdispersed")]
    out.append((startup_included, "requests.caveat.startup"))
    return out, facts


def borrowed_interval_text(r: stats.ScaledRatio, family: str = "Poisson") -> str:
    """The ``interval`` string of a year-on-year ratio with a borrowed dispersion."""
    if r.method == "poisson_only":
        return (f"exact conditional; valid only if the counts were {family} (the trend has "
                f"{r.df} residual df: no dispersion-aware interval)")
    floor = ", floored at 1" if r.scale_floored else ""
    return (f"quasi-{family} Wald with the dispersion of the series' trend "
            f"({fmt(r.scale)}{floor}), {r.quantiles}; the exact interval is a sensitivity")


# =============================================================================================
# Period means
# =============================================================================================


def yoy_ratios(counts: Sequence[int], years: Sequence[int], family: str = "Poisson",
               dispersion: tuple[float, int] | None = None):
    """Year-over-year rate ratios of a count series, each with the dispersion of the series'
    trend (fitted on ``years``) borrowed: ``[(year, previous, ScaledRatio), …]`` for each pair of
    consecutive rows with a non-zero total. ``dispersion`` overrides ``(scale, df)``."""
    phi, df = dispersion if dispersion is not None else stats.trend_dispersion(counts, years)
    out = []
    for i in range(1, len(years)):
        c1, c0 = int(counts[i]), int(counts[i - 1])
        if c1 + c0 == 0:
            continue
        out.append((int(years[i]), int(years[i - 1]),
                    stats.scaled_rate_ratio(c1, c0, phi if df >= 2 else math.nan, df)))
    return out


@dataclass(frozen=True, eq=False, repr=False)
class TrendResult(Result):
    sources = ("needs_reflection",)
    SUMMARY_KEYS = ("requests.trend_rr_per_year",)
    fit: stats.GLMFit | None = None

    _EXCL = f"requests.trend_rr_per_year.excl_fy{START_UP_FY}"

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        ax.fill_between(d["fiscal_year"], d["fitted_ci_low"], d["fitted_ci_high"],
                        color=plotting.COLORS["fit"], alpha=0.2,
                        label=label("fitted_ci95", lang))
        ax.plot(d["fiscal_year"], d["fitted"], color=plotting.COLORS["fit"], lw=2,
                label=label("fitted_trend", lang))
        ax.plot(d["fiscal_year"], d["requests"], "o", color=plotting.COLORS["observed"],
                markersize=8, label=label("observed", lang))
        plotting.set_fy_axis(ax, d["fiscal_year"], lang)
        ax.set_ylabel(label("requests_count", lang))
        ax.set_ylim(0, None)
        ax.set_title(self.title(lang))
        ax.legend(loc="upper right")


def trend(needs_reflection: pd.DataFrame | None = None, *,
          data_dir: str | Path | None = None) -> TrendResult:
    """Log-linear quasi-Poisson trend of requests over all fiscal years.

    Needs at least three fiscal years (two coefficients and one degree of freedom for the
    dispersion). Keys: ``requests.trend_rr_per_year`` (t interval), ``requests.trend_dispersion``.
    """
    df = needs_frame(needs_reflection, data_dir)
    _input.require_years(df, 3, "the requests trend")
    years = df["fiscal_year"].tolist()
    X = pd.DataFrame({"const": 1.0, "year": (df["fiscal_year"] - years[0]).astype(float)})
    fit = stats.fit_quasi_poisson(df["requests"], X, what="requests trend")
    rr = fit.ratio("year")
    interval = stats.interval_label("Poisson", fit.dispersion, fit.quantiles)
    est = [
        Estimate("requests.trend_rr_per_year", *rr, unit=UNIT_RR_YEAR, interval=interval),
        Estimate("requests.trend_dispersion", fit.dispersion, unit="Pearson chi2/df"),
    ]
    startup = START_UP_FY in years
    rest = df[df["fiscal_year"] != START_UP_FY]
    if startup and len(rest) >= 3:
        Xr = pd.DataFrame({"const": 1.0, "year": (rest["fiscal_year"] - years[0]).astype(float)})
        fit_r = stats.fit_quasi_poisson(rest["requests"], Xr, what="requests trend without FY2017")
        est.append(Estimate(f"requests.trend_rr_per_year.excl_fy{START_UP_FY}", *fit_r.ratio("year"),
                            unit=UNIT_RR_YEAR, interval=stats.interval_label("Poisson", fit_r.dispersion,
                                                           fit_r.quantiles)))
    eta, se = fit.linear_predictor(X)
    table = df[["fiscal_year", "requests"]].assign(
        fitted=np.exp(eta), fitted_ci_low=np.exp(eta - fit.crit * se),
        fitted_ci_high=np.exp(eta + fit.crit * se),
        pearson_residual=(df["requests"] - np.exp(eta)) / np.sqrt(fit.scale * np.exp(eta)),
    )
    common, common_facts = common_caveats(fit, years, len(years), startup)
    main = est[0]
    excl = est[-1] if est[-1].key.endswith(f".excl_fy{START_UP_FY}") else None
    facts = {**common_facts, "span": Years(years), "trend": main,
             "pct": abs(pct_change(main.value)), "excl": excl,
             "quantiles": Quantiles(fit.quantiles)}
    return TrendResult(
        title_key="title_requests_trend",
        estimates=tuple(est), facts=facts,
        text_keys=chosen([(main.value < 1, "requests.trend.text_fall"),
                          (main.value >= 1, "requests.trend.text_rise"),
                          (excl is not None, "requests.trend.excl")]),
        method_key="requests.trend.method",
        caveat_keys=chosen([
            (startup, "requests.trend.caveat.single_startup"),
            (not startup, "requests.trend.caveat.single"),
            *common,
        ]),
        n_obs=len(years), data=table, fit=fit,
    )


# =============================================================================================
# Interrupted time series
# =============================================================================================


def variant_suffix(exclude_fiscal_years: Sequence[int] = (), later_break: bool = False) -> str:
    """The record-key suffix of an ITS variant: ``''`` for the main model, ``'.excl_fy2017'``,
    ``'.later_break'`` (the break one year after the COVID start). Keys never depend on the
    parameters (the period's start and end are in each record's parameters instead)."""
    parts = [f"excl_fy{y}" for y in sorted(exclude_fiscal_years)]
    if later_break:
        parts.append("later_break")
    return "".join(f".{p}" for p in parts)
