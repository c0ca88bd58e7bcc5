"""Section 1: did community requests (要望・相談) fall because of COVID-19, or were they already
falling?

The data are one count per fiscal year (``needs_reflection.requests``, FY2017–FY2023 in the
shipped data). Every model here is a log-linear count model with the year-to-year overdispersion
estimated from the data (quasi-Poisson, dispersion = Pearson chi2 / df, intervals from Student's t
on the residual degrees of freedom), because seven yearly totals vary far more than Poisson
counts would.

- :func:`period_comparison`: pre-COVID, COVID-period (and after-COVID) means and their ratios;
  year-over-year rate ratios with the dispersion of the requests trend borrowed.
- :func:`trend`: one log-linear trend over all years.
- :func:`interrupted_time_series`: segmented regression with a break (level and slope change),
  negative binomial sensitivity, and the counterfactual projection of the pre-period trend.
- :func:`exposure_model`: the trend plus days under COVID measures instead of a step.
- :func:`sensitivity`: the main model beside excluding FY2017, a break at FY2021 and exposure days.
- :func:`verdict`: whether seven yearly points can tell a COVID effect from the decline already
  under way, with the numbers, and what data would settle it.
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
from ..errors import (
    BreakYearError,
    MissingDataError,
    ModelInputError,
    NotEstimableError,
    TooFewYearsError,
)
from ..glossary import check_lang, label
from ..results import (
    Era,
    Estimate,
    Joined,
    Pct,
    Quantiles,
    Result,
    Said,
    Term,
    Years,
    chosen,
    fmt,
    pct_change,
    records_frame,
    years_text,
)
from . import _input
from .periods import CovidPeriod, covid_period

__all__ = [
    "COVID_BREAK_FY",
    "START_UP_FY",
    "ExposureModelResult",
    "ITSResult",
    "PeriodComparisonResult",
    "SensitivityResult",
    "TrendResult",
    "VerdictResult",
    "exposure_model",
    "interrupted_time_series",
    "period_comparison",
    "sensitivity",
    "trend",
    "verdict",
]

#: First fiscal year of the COVID period in the review (FY2020 starts on 2020-04-01). The models
#: read the period from the dataset ``covid_period``; this constant names the document's start
#: for record-key suffixes only.
COVID_BREAK_FY = 2020
#: The まちづくりセンター start-up year, which the document says surfaced long-buried requests.
START_UP_FY = 2017
#: Exposure effects are reported per this many days under measures (about a month).
PER_DAYS = 30

_UNIT_RR_YEAR = "rate ratio per year"
_UNIT_RR = "rate ratio"


def _needs(df: pd.DataFrame | None, data_dir, argument: str = "needs_reflection") -> pd.DataFrame:
    df = _input.frame(df, "needs_reflection", ("fiscal_year", "requests"), data_dir, argument)
    df = _input.fiscal_years(df, argument)
    return _input.counts(df, ["requests"], argument)


def _years_text(years: Sequence[int], lang: str = "en") -> str:
    return years_text(years, lang) if len(years) else "none"


def _common_caveats(fit: stats.GLMFit | None, years: Sequence[int], n_years: int,
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


def _period(covid_start, covid_end, break_year, data_dir) -> CovidPeriod:
    return covid_period(covid_start, covid_end, break_year=break_year, data_dir=data_dir)


def _check_period(period: CovidPeriod, years: Sequence[int], pre_needed: int,
                  during_needed: int, model: str = "") -> None:
    """Enough fiscal years before and during the COVID period for ``model``."""
    split = period.split(years)
    if not split["before"] or not split["during"]:
        raise BreakYearError(
            period.start, years,
            f"the COVID period FY{period.start}–FY{period.end} must leave fiscal years both "
            "before it and in it",
        )
    if len(split["before"]) < pre_needed or len(split["during"]) < during_needed:
        model = model or f"a model with the COVID period FY{period.start}–FY{period.end}"
        raise TooFewYearsError(
            model, pre_needed + during_needed, years,
            message=(f"{model} needs at least {pre_needed} fiscal year(s) before FY{period.start} "
                     f"and {during_needed} in FY{period.start}–FY{period.end}; the data "
                     f"({_years_text(years)}) have {len(split['before'])} before and "
                     f"{len(split['during'])} in it"),
        )


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


@dataclass(frozen=True, eq=False, repr=False)
class PeriodComparisonResult(Result):
    sources = ("needs_reflection",)
    #: none: the ratio of period means is shown only in sentences with the earlier trend beside it
    SUMMARY_KEYS = ()
    break_year: int = COVID_BREAK_FY
    period: CovidPeriod = CovidPeriod(COVID_BREAK_FY, 2023)
    exact_ratio: stats.RateRatio | None = None

    def _years(self, phase: str, lang: str = "en") -> str:
        return _years_text(self.data.loc[self.data["phase"] == phase, "fiscal_year"].tolist(), lang)

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        color = {"before": plotting.COLORS["pre"], "during": plotting.COLORS["covid"],
                 "after": plotting.COLORS["neutral"]}
        ax.bar(d["fiscal_year"], d["requests"], color=[color[p] for p in d["phase"]], width=0.6,
               alpha=0.45)
        for key, phase, name in (("requests.pre_mean", "before", "pre_period_mean"),
                                 ("requests.covid_mean", "during", "covid_period_mean"),
                                 ("requests.after_mean", "after", "after_period_mean")):
            if key not in self.keys:
                continue
            e = self.estimate(key)
            ys = d.loc[d["phase"] == phase, "fiscal_year"]
            x0, x1 = ys.min() - 0.4, ys.max() + 0.4
            ax.hlines(e.value, x0, x1, color=color[phase], lw=2.5, label=label(name, lang))
            ax.fill_between([x0, x1], e.ci_low, e.ci_high, color=color[phase], alpha=0.15)
        plotting.set_fy_axis(ax, d["fiscal_year"], lang)
        ax.set_ylabel(label("requests_count", lang))
        ax.set_title(self.title(lang))
        ax.legend(loc="upper right")


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


def period_comparison(needs_reflection: pd.DataFrame | None = None, *,
                      covid_start: int | str | None = None, covid_end: int | str | None = None,
                      break_year: int | str | None = None,
                      data_dir: str | Path | None = None) -> PeriodComparisonResult:
    """Mean requests per year before, during (and after) the COVID period, their ratios, and
    year-over-year ratios.

    Parameters
    ----------
    needs_reflection
        Columns ``fiscal_year`` and ``requests`` (one row per fiscal year); the shipped data when
        None. A frame cut off at some fiscal year is fine as long as three years remain, at least
        one before the COVID period and one in it.
    covid_start, covid_end
        First and last fiscal year of the COVID period; the dataset ``covid_period`` (FY2020 and
        FY2023, from the review) when None. Years after ``covid_end`` form their own period.
    break_year
        Another name of ``covid_start``.
    data_dir
        Passed to the loader when ``needs_reflection`` is None, and for the period.

    Returns
    -------
    PeriodComparisonResult
        Keys ``requests.pre_mean``, ``requests.covid_mean``, ``requests.mean_ratio_covid_vs_pre``
        (quasi-Poisson GLM with period indicators, t intervals on its residual df),
        ``requests.after_mean`` and ``requests.mean_ratio_after_vs_pre`` when years after the
        period exist, and ``requests.yoy_rr.fy<Y>_vs_fy<Y-1>`` (the dispersion of the requests
        trend borrowed, t on its residual df; exact and flagged ``poisson_only`` where that trend
        has fewer than 2 residual df).
    """
    df = _needs(needs_reflection, data_dir)
    years = df["fiscal_year"].tolist()
    _input.require_years(df, 3, "period comparison")
    period = _period(covid_start, covid_end, break_year, data_dir)
    _check_period(period, years, 1, 1)
    phase = period.phase(years)
    during, after = phase == "during", phase == "after"
    X = pd.DataFrame({"const": 1.0, "covid_period": during.astype(float)})
    if after.any():
        X["after_covid"] = after.astype(float)
    fit = stats.fit_quasi_poisson(df["requests"], X, what="period comparison")
    n_pre, n_during = int((phase == "before").sum()), int(during.sum())
    exact = stats.rate_ratio_exact(int(df.loc[during, "requests"].sum()), n_during,
                                   int(df.loc[phase == "before", "requests"].sum()), n_pre)
    interval = stats.interval_label("Poisson", fit.dispersion, fit.quantiles)
    est = [
        Estimate("requests.pre_mean", *fit.ratio("const"), unit="requests per year",
                 interval=interval),
        Estimate("requests.covid_mean", *fit.ratio({"const": 1, "covid_period": 1}),
                 unit="requests per year", interval=interval),
        Estimate("requests.mean_ratio_covid_vs_pre", *fit.ratio("covid_period"),
                 unit="ratio of means", interval=interval),
    ]
    if after.any():
        est += [
            Estimate("requests.after_mean", *fit.ratio({"const": 1, "after_covid": 1}),
                     unit="requests per year", interval=interval),
            Estimate("requests.mean_ratio_after_vs_pre", *fit.ratio("after_covid"),
                     unit="ratio of means", interval=interval),
        ]
    yoy = {y: (prev, r) for y, prev, r in yoy_ratios(df["requests"].tolist(), years)}
    rows = []
    for i, fy in enumerate(years):
        row = {"fiscal_year": fy, "requests": int(df["requests"].iloc[i]), "phase": phase[i],
               "covid_period": bool(during[i]), "yoy_rr": math.nan, "yoy_ci_low": math.nan,
               "yoy_ci_high": math.nan, "yoy_exact_ci_low": math.nan,
               "yoy_exact_ci_high": math.nan, "yoy_exact_p_value": math.nan}
        if fy in yoy:
            prev, r = yoy[fy]
            row.update(yoy_rr=r.ratio, yoy_ci_low=r.ci_low, yoy_ci_high=r.ci_high,
                       yoy_exact_ci_low=r.exact_low, yoy_exact_ci_high=r.exact_high,
                       yoy_exact_p_value=r.exact_p)
            est.append(Estimate(f"requests.yoy_rr.fy{fy}_vs_fy{prev}", r.ratio, r.ci_low,
                                r.ci_high, unit=_UNIT_RR, interval=borrowed_interval_text(r),
                                flags=("poisson_only",) if r.poisson_only else ()))
        rows.append(row)
    table = pd.DataFrame(rows)
    gaps = [y for a, y in zip(years, years[1:], strict=False) if y - a != 1]
    trend_phi, trend_df = stats.trend_dispersion(df["requests"], years)
    common, common_facts = _common_caveats(fit, years, len(years), START_UP_FY in years)
    split = period.split(years)
    by_key = {e.key: e for e in est}
    # the ratio never stands without the trend already under way before COVID beside it: the
    # main interrupted time series' pre-COVID slope, and the trend over all years
    all_trend = trend(df).estimate("requests.trend_rr_per_year")
    try:
        its = interrupted_time_series(df, covid_start=period.start, covid_end=period.end)
        pre_trend = its.estimate(its.k("its_pre_slope_rr"))
    except (TooFewYearsError, BreakYearError, NotEstimableError):
        pre_trend = None
    facts = {**common_facts, "pre": by_key["requests.pre_mean"], "cov": by_key["requests.covid_mean"],
             "ratio": by_key["requests.mean_ratio_covid_vs_pre"],
             "after": by_key.get("requests.after_mean"),
             "after_ratio": by_key.get("requests.mean_ratio_after_vs_pre"),
             "before_years": Years(split["before"]), "during_years": Years(split["during"]),
             "after_years": Years(split["after"]), "period_start": period.start,
             "trend_phi": trend_phi, "trend_df": trend_df,
             "narrow": math.sqrt(max(1.0, trend_phi)), "gaps": Years(gaps),
             "phases": period.phases(years), "quantiles": Quantiles(fit.quantiles),
             "trend": all_trend, "pre_trend": pre_trend, "span": Years(years)}
    return PeriodComparisonResult(
        title_key="title_requests_periods",
        estimates=tuple(est), facts=facts,
        text_keys=chosen([(pre_trend is not None, "requests.periods.text"),
                          (pre_trend is None, "requests.periods.text_trend_only"),
                          (bool(after.any()), "requests.periods.after"),
                          (True, "requests.periods.plain")]),
        method_key="requests.periods.method",
        caveat_keys=chosen([
            (True, "requests.periods.caveat.averages"),
            *common,
            (trend_df >= 2, "requests.periods.caveat.yoy_borrowed"),
            (trend_df < 2, "requests.periods.caveat.yoy_exact"),
            (bool(gaps), "requests.periods.caveat.gaps"),
        ]),
        n_obs=len(years), data=table,
        break_year=period.start, period=period, exact_ratio=exact,
    )


# =============================================================================================
# Trend
# =============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class TrendResult(Result):
    sources = ("needs_reflection",)
    SUMMARY_KEYS = ("requests.trend_rr_per_year",)
    fit: stats.GLMFit | None = None

    _EXCL = f"requests.trend_rr_per_year.excl_fy{START_UP_FY}"

    def _span(self, lang: str = "en") -> str:
        return _years_text(self.data["fiscal_year"].tolist(), lang)

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
    df = _needs(needs_reflection, data_dir)
    _input.require_years(df, 3, "the requests trend")
    years = df["fiscal_year"].tolist()
    X = pd.DataFrame({"const": 1.0, "year": (df["fiscal_year"] - years[0]).astype(float)})
    fit = stats.fit_quasi_poisson(df["requests"], X, what="requests trend")
    rr = fit.ratio("year")
    interval = stats.interval_label("Poisson", fit.dispersion, fit.quantiles)
    est = [
        Estimate("requests.trend_rr_per_year", *rr, unit=_UNIT_RR_YEAR, interval=interval),
        Estimate("requests.trend_dispersion", fit.dispersion, unit="Pearson chi2/df"),
    ]
    startup = START_UP_FY in years
    rest = df[df["fiscal_year"] != START_UP_FY]
    if startup and len(rest) >= 3:
        Xr = pd.DataFrame({"const": 1.0, "year": (rest["fiscal_year"] - years[0]).astype(float)})
        fit_r = stats.fit_quasi_poisson(rest["requests"], Xr, what="requests trend without FY2017")
        est.append(Estimate(f"requests.trend_rr_per_year.excl_fy{START_UP_FY}", *fit_r.ratio("year"),
                            unit=_UNIT_RR_YEAR, interval=stats.interval_label("Poisson", fit_r.dispersion,
                                                           fit_r.quantiles)))
    eta, se = fit.linear_predictor(X)
    table = df[["fiscal_year", "requests"]].assign(
        fitted=np.exp(eta), fitted_ci_low=np.exp(eta - fit.crit * se),
        fitted_ci_high=np.exp(eta + fit.crit * se),
        pearson_residual=(df["requests"] - np.exp(eta)) / np.sqrt(fit.scale * np.exp(eta)),
    )
    common, common_facts = _common_caveats(fit, years, len(years), startup)
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


def _its_design(years: np.ndarray, break_year: int) -> pd.DataFrame:
    t = (years - break_year).astype(float)
    post = (years >= break_year).astype(float)
    return pd.DataFrame({"const": 1.0, "years_since_break": t, "covid_period": post,
                         "years_since_break_covid": t * post})


@dataclass(frozen=True, eq=False, repr=False)
class ITSResult(Result):
    sources = ("needs_reflection",)
    SUMMARY_KEYS = ()
    break_year: int = COVID_BREAK_FY
    excluded: tuple[int, ...] = ()
    suffix: str = ""
    fit: stats.GLMFit | None = None
    nb_fit: stats.NBFit | None = None

    def k(self, base: str) -> str:
        return f"requests.{base}{self.suffix}"

    def fit_years(self) -> np.ndarray:
        return self.data.loc[self.data["used_in_fit"], "fiscal_year"].to_numpy()

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        used = d["used_in_fit"]
        post = d["fiscal_year"] >= self.break_year
        cf = d[used | post]
        ax.fill_between(cf.loc[cf["fiscal_year"] >= self.break_year, "fiscal_year"],
                        cf.loc[cf["fiscal_year"] >= self.break_year, "pi_low"],
                        cf.loc[cf["fiscal_year"] >= self.break_year, "pi_high"],
                        color=plotting.COLORS["counterfactual"], alpha=0.15,
                        label=label("counterfactual_pi95", lang))
        line = d[used | post].copy()
        ax.plot(line["fiscal_year"], line["counterfactual"], "--",
                color=plotting.COLORS["counterfactual"], lw=2, label=label("counterfactual", lang))
        for seg in (line[line["fiscal_year"] < self.break_year], line[line["fiscal_year"] >= self.break_year]):
            seg = seg[seg["used_in_fit"]]
            ax.plot(seg["fiscal_year"], seg["fitted"], color=plotting.COLORS["fit"], lw=2,
                    label=label("fitted_segmented", lang) if seg["fiscal_year"].min() >= self.break_year else None)
        ax.plot(d.loc[used, "fiscal_year"], d.loc[used, "requests"], "o",
                color=plotting.COLORS["observed"], markersize=8, label=label("observed", lang))
        if (~used).any():
            ax.plot(d.loc[~used, "fiscal_year"], d.loc[~used, "requests"], "o",
                    markerfacecolor="white", markeredgecolor=plotting.COLORS["observed"],
                    markersize=8, markeredgewidth=1.5, label=label("excluded_from_fit", lang))
        ax.axvline(self.break_year - 0.5, color=plotting.COLORS["neutral"], lw=1, ls=":")
        # a prediction interval far wider than the data would flatten the points: clip it and say so
        observed_top = float(d["requests"].max())
        pi_top = float(np.nanmax(d["pi_high"].to_numpy(float)))
        top = max(observed_top, min(pi_top, 2.5 * observed_top))
        if pi_top > top:
            plotting.add_note(ax, label("note_pi_clipped", lang).format(value=fmt(pi_top)))
        ax.annotate(label("covid_period_starts", lang), (self.break_year - 0.45, top * 1.02),
                    fontsize=9, color=plotting.COLORS["neutral"], va="bottom")
        plotting.set_fy_axis(ax, d["fiscal_year"], lang)
        ax.set_ylabel(label("requests_count", lang))
        ax.set_ylim(0, top * 1.12)
        ax.set_title(self.say("requests.its.plot_title", lang, title=self.title(lang))
                     if self.suffix else self.title(lang))
        ax.legend(loc="upper right", fontsize=9)


def interrupted_time_series(needs_reflection: pd.DataFrame | None = None, *,
                            covid_start: int | str | None = None,
                            covid_end: int | str | None = None,
                            break_year: int | str | None = None,
                            exclude_fiscal_years: Sequence[int] = (),
                            negative_binomial: bool = True,
                            data_dir: str | Path | None = None,
                            later_break: bool = False) -> ITSResult:
    """Segmented quasi-Poisson regression of requests with a break at the COVID start.

    Fiscal years after the COVID period (``covid_end``) are not part of the interrupted segment:
    they stay in the table (``phase = 'after'``, ``used_in_fit = False``) and are left out of
    the fit, so no later year is ever counted as a COVID year.

    ``log E[requests] = b0 + b1 t + b2 covid + b3 t covid`` with ``t = fiscal_year - break_year``
    and ``covid = fiscal_year >= break_year``: ``exp(b2)`` is the level change at the break (the
    break year's fitted count against the pre-period trend projected to it), ``exp(b3)`` the
    change in the yearly rate ratio. The counterfactual is the pre-period segment projected into
    the COVID years, with a 95% prediction interval for new counts (see
    :func:`wardanalysis.stats.prediction_interval`); observed/expected is given per year and
    over the period. A negative binomial (NB2) fit of the same design is the sensitivity model.

    Parameters
    ----------
    needs_reflection
        Columns ``fiscal_year`` and ``requests``; the shipped data when None.
    covid_start, covid_end
        First and last fiscal year of the COVID period (the dataset ``covid_period`` when None:
        FY2020–FY2023). ``break_year`` is another name of ``covid_start``.
    exclude_fiscal_years
        Fiscal years left out of the fit (e.g. ``[2017]``, the start-up year); they stay in the
        table, marked ``used_in_fit = False``.
    negative_binomial
        Also fit the NB2 sensitivity model.
    data_dir
        Passed to the loader when ``needs_reflection`` is None.

    Raises
    ------
    BreakYearError
        ``break_year`` is not a whole year strictly after the first fitted year and no later
        than the last.
    TooFewYearsError
        Fewer than two fitted years on either side of the break, or fewer than five in all (four
        coefficients plus one degree of freedom for the dispersion).

    later_break
        Mark this fit as the later-break sensitivity (its keys end in ``.later_break``).

    Record keys (``<s>`` is ``''`` for the main model, ``.excl_fy2017``, ``.later_break``):
    ``requests.its_level_rr<s>``, ``requests.its_slope_rr<s>``, ``requests.its_pre_slope_rr<s>``,
    ``requests.its_post_slope_rr<s>``, ``requests.its_dispersion<s>``,
    ``requests.its_level_rr.nb<s>``, ``requests.its_slope_rr.nb<s>``, ``requests.its_nb_alpha<s>``,
    ``requests.counterfactual_oe_total<s>``, ``requests.counterfactual_oe.fy<Y><s>``.
    """
    df = _needs(needs_reflection, data_dir)
    all_years = df["fiscal_year"].tolist()
    exclude = sorted({int(y) for y in exclude_fiscal_years})
    unknown = [y for y in exclude if y not in all_years]
    if unknown:
        raise MissingDataError(
            f"exclude_fiscal_years names FY{', FY'.join(map(str, unknown))}, not in the data "
            f"({_years_text(all_years)})"
        )
    period = _period(covid_start, covid_end, break_year, data_dir)
    break_year = period.start
    phase = period.phase(all_years)
    used = ~df["fiscal_year"].isin(exclude) & (phase != "after")
    fit_df = df[used]
    years = fit_df["fiscal_year"].to_numpy()
    model = f"the interrupted time series (break FY{break_year})"
    _check_period(period, years.tolist(), 2, 2, model=model)
    if len(years) < 5:
        raise TooFewYearsError(model, 5, years.tolist(),
                               "four coefficients and one degree of freedom for the dispersion")
    suffix = variant_suffix(exclude, later_break)
    X = _its_design(years, break_year)
    fit = stats.fit_quasi_poisson(fit_df["requests"], X, what=model)
    interval = stats.interval_label("Poisson", fit.dispersion, fit.quantiles)

    def key(base: str) -> str:
        return f"requests.{base}{suffix}"

    est = [
        Estimate(key("its_level_rr"), *fit.ratio("covid_period"), unit=_UNIT_RR, interval=interval),
        Estimate(key("its_slope_rr"), *fit.ratio("years_since_break_covid"),
                 unit="ratio of yearly rate ratios", interval=interval),
        Estimate(key("its_pre_slope_rr"), *fit.ratio("years_since_break"), unit=_UNIT_RR_YEAR,
                 interval=interval),
        Estimate(key("its_post_slope_rr"),
                 *fit.ratio({"years_since_break": 1, "years_since_break_covid": 1}),
                 unit=_UNIT_RR_YEAR, interval=interval),
        Estimate(key("its_dispersion"), fit.dispersion, unit="Pearson chi2/df"),
    ]

    # negative binomial sensitivity
    nb_fit, nb_problem, nb_not_converged = None, "", False
    if negative_binomial:
        try:
            nb_fit = stats.fit_negative_binomial(fit_df["requests"], X, what=f"NB2 {model}")
            if not nb_fit.converged:
                nb_problem, nb_not_converged = "the negative binomial fit did not converge", True
        except NotEstimableError as exc:
            nb_problem = str(exc)
    nb_ok = nb_fit is not None and not nb_problem
    nan3 = (math.nan, math.nan, math.nan)
    nb_interval = (f"negative binomial (NB2) ML, Wald t({nb_fit.df_resid if nb_fit else '—'}), "
                   "covariance from the joint information of the coefficients and alpha")
    est += [
        Estimate(f"requests.its_level_rr.nb{suffix}",
                 *(nb_fit.ratio("covid_period") if nb_ok else nan3), unit=_UNIT_RR,
                 interval=nb_interval),
        Estimate(f"requests.its_slope_rr.nb{suffix}",
                 *(nb_fit.ratio("years_since_break_covid") if nb_ok else nan3),
                 unit="ratio of yearly rate ratios", interval=nb_interval),
        Estimate(key("its_nb_alpha"), nb_fit.nb_alpha if nb_ok else math.nan,
                 unit="NB2 alpha (variance = mu + alpha mu^2)"),
    ]

    # fitted and counterfactual for every year in the table
    Xall = _its_design(df["fiscal_year"].to_numpy(), break_year)
    eta, se = fit.linear_predictor(Xall)
    Xcf = Xall.assign(covid_period=0.0, years_since_break_covid=0.0)
    pi = stats.prediction_interval(fit, Xcf)
    post = phase != "before"  # the counterfactual runs on past the period's end
    during = phase == "during"
    table = df[["fiscal_year", "requests"]].assign(
        used_in_fit=used.to_numpy(), phase=phase, covid_period=during,
        fitted=np.where(used, np.exp(eta), np.nan),
        fitted_ci_low=np.where(used, np.exp(eta - fit.crit * se), np.nan),
        fitted_ci_high=np.where(used, np.exp(eta + fit.crit * se), np.nan),
        counterfactual=pi["expected"].to_numpy(),
        counterfactual_ci_low=pi["expected_ci_low"].to_numpy(),
        counterfactual_ci_high=pi["expected_ci_high"].to_numpy(),
        pi_low=np.where(post, pi["pi_low"], np.nan),
        pi_high=np.where(post, pi["pi_high"], np.nan),
    )
    obs = table["requests"].to_numpy(float)
    table["observed_expected"] = np.where(post, obs / table["counterfactual"], np.nan)
    table["oe_low"] = np.where(post, obs / table["pi_high"], np.nan)
    table["oe_high"] = np.where(post, obs / table["pi_low"], np.nan)
    post_used = during & used.to_numpy()
    total_e, total_lo, total_hi = stats.total_prediction_interval(fit, Xcf[post_used])
    total_o = float(obs[post_used].sum())
    oe_interval = "observed / (expected and its 95% prediction interval)"
    est.append(Estimate(key("counterfactual_oe_total"), total_o / total_e, total_o / total_hi,
                        total_o / total_lo, unit="observed/expected", interval=oe_interval))
    for r in table[post_used].itertuples(index=False):
        est.append(Estimate(f"requests.counterfactual_oe.fy{r.fiscal_year}{suffix}",
                            r.observed_expected, r.oe_low, r.oe_high, unit="observed/expected",
                            interval=oe_interval))
    table.attrs["counterfactual_total"] = {"observed": total_o, "expected": total_e,
                                           "pi_low": total_lo, "pi_high": total_hi}

    n_pre = int((years < break_year).sum())
    n_post = int((years >= break_year).sum())
    base = years[years < break_year].tolist()
    startup_base = START_UP_FY in base
    n_after = int((phase == "after").sum())
    common, common_facts = _common_caveats(fit, years.tolist(), len(years),
                                           START_UP_FY in years.tolist())
    by_key = {e.key: e for e in est}
    lv, sl = by_key[key("its_level_rr")], by_key[key("its_slope_rr")]
    variant = (Said("requests.its.variant_excluding", {"excluded": Years(sorted(exclude)),
                                                       "break_year": break_year})
               if exclude else Said("requests.its.variant", {"break_year": break_year}))
    facts = {**common_facts, "variant": variant, "pre": by_key[key("its_pre_slope_rr")],
             "level": lv, "slope": sl, "oe": by_key[key("counterfactual_oe_total")],
             "break_year": break_year, "n_pre": n_pre, "n_post": n_post, "its_df": fit.df_resid,
             "nb_df": nb_fit.df_resid if nb_fit else 0, "n_base": len(base),
             "base_years": Years(base), "n_after": n_after,
             "after_years": Years(table.loc[table["phase"] == "after", "fiscal_year"]),
             "phases": period.phases(all_years), "quantiles": Quantiles(fit.quantiles)}
    nb_failed = negative_binomial and bool(nb_problem)
    return ITSResult(
        title_key="title_requests_its",
        estimates=tuple(est), facts=facts,
        text_keys=chosen([
            (True, "requests.its.text"),
            (lv.interval_excludes_one or sl.interval_excludes_one, "requests.its.excludes_one"),
            (not (lv.interval_excludes_one or sl.interval_excludes_one), "requests.its.includes_one"),
        ]),
        method_key="requests.its.method",
        caveat_keys=chosen([
            (True, "requests.its.caveat.segments"),
            *common[1:],
            (nb_failed and nb_not_converged, "requests.its.caveat.nb_not_converged"),
            (nb_failed and not nb_not_converged, "requests.its.caveat.nb_not_estimable"),
            (nb_ok, "requests.its.caveat.nb_t"),
            (startup_base, "requests.its.caveat.counterfactual_startup"),
            (not startup_base, "requests.its.caveat.counterfactual"),
            (n_after > 0, "requests.its.caveat.after"),
        ]),
        n_obs=len(years), data=table,
        break_year=break_year, excluded=tuple(exclude), suffix=suffix, fit=fit, nb_fit=nb_fit,
    )


# =============================================================================================
# Exposure (days under measures) instead of a step
# =============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class ExposureModelResult(Result):
    sources = ("needs_reflection", "covid_measures")
    SUMMARY_KEYS = ()
    per_days: int = PER_DAYS
    fit: stats.GLMFit | None = None

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        ax.plot(d["fiscal_year"], d["requests"], "o", color=plotting.COLORS["observed"],
                markersize=8, label=label("observed", lang))
        ax.plot(d["fiscal_year"], d["fitted"], color=plotting.COLORS["fit"], lw=2,
                label=label("fitted_exposure_model", lang))
        ax.set_ylabel(label("requests_count", lang))
        ax.set_ylim(0, d["requests"].max() * 1.15)
        ax2 = ax.twinx()
        ax2.bar(d["fiscal_year"], d["days_under_measures"], width=0.5, alpha=0.25,
                color=plotting.COLORS["measures"], label=label("days_under_measures", lang))
        ax2.set_ylabel(label("days_under_measures", lang))
        ax2.set_ylim(0, 366)
        ax2.grid(False)
        ax.set_zorder(ax2.get_zorder() + 1)
        ax.patch.set_visible(False)
        plotting.set_fy_axis(ax, d["fiscal_year"], lang)
        h1, l1 = ax.get_legend_handles_labels()
        h2, l2 = ax2.get_legend_handles_labels()
        ax.legend(h1 + h2, l1 + l2, loc="upper right", fontsize=9)
        ax.set_title(self.title(lang))


def exposure_model(needs_reflection: pd.DataFrame | None = None,
                   covid_measures: pd.DataFrame | None = None, *,
                   exposure: pd.DataFrame | None = None, per_days: int = PER_DAYS,
                   covid_start: int | str | None = None, covid_end: int | str | None = None,
                   break_year: int | str | None = None,
                   data_dir: str | Path | None = None) -> ExposureModelResult:
    """Quasi-Poisson model of requests on a yearly trend, the COVID period's step and the days
    under COVID measures.

    ``log E[requests] = b0 + b1 (fiscal_year - first) + b2 [COVID period] (+ b3 [after it])
    + b4 days / per_days``: ``exp(b4)`` is the rate ratio per ``per_days`` days under measures,
    holding the trend and the period's step fixed, so that a step over the whole period is not
    read as a dose-response (without the step, a flat drop over the period that has nothing to
    do with the measures shows as one: ``benchmarks/exposure_size.py``). Where the period terms
    explain the days almost entirely (R² at least
    :data:`~wardanalysis.models.covid_exposure.SEPARABLE_R2`), the result says that the model
    cannot separate the measures from the period.

    Parameters
    ----------
    needs_reflection
        ``fiscal_year`` and ``requests``; the shipped data when None.
    covid_measures
        The measures table, turned into days per fiscal year by
        :func:`wardanalysis.models.covid_exposure.exposure_days`; the shipped data when None.
    exposure
        Days per fiscal year directly (``fiscal_year``, ``days_under_measures``); overrides
        ``covid_measures``. A fiscal year absent from it counts as 0 days.
    per_days
        Days per unit of exposure for the reported rate ratio.

    Raises
    ------
    TooFewYearsError
        Fewer than five fiscal years (four coefficients plus one degree of freedom; six with
        years after the period).
    BreakYearError
        No fiscal year before the COVID period or none in it.
    NotEstimableError
        The days do not vary across the fiscal years (e.g. data cut off before FY2020), or they
        move in lockstep with the year and the period.

    Keys: ``requests.exposure_rr_per_<per_days>_days``, ``requests.exposure_trend_rr_per_year``,
    ``requests.exposure_step_rr``, ``requests.exposure_dispersion``.
    """
    from .covid_exposure import PER_DAYS as UNIT_DAYS
    from .covid_exposure import exposure_days, fit_exposure, period_r2

    df = _needs(needs_reflection, data_dir)
    years = df["fiscal_year"].tolist()
    period = _period(covid_start, covid_end, break_year, data_dir)
    _check_period(period, years, 1, 1, "the exposure model")
    phase = period.phase(years)
    after = phase == "after"
    n_coef = 5 if after.any() else 4
    _input.require_years(df, n_coef + 1, "the exposure model",
                         f"{n_coef} coefficients and one degree of freedom for the dispersion")
    if exposure is None:
        exposure = exposure_days(covid_measures, years, data_dir=data_dir)
    else:
        exposure = _input.frame(exposure, "exposure", ("fiscal_year", "days_under_measures"),
                                argument="exposure")
        exposure = _input.fiscal_years(exposure, "exposure")
        exposure = _input.counts(exposure, ["days_under_measures"], "exposure")
    lookup = dict(zip(exposure["fiscal_year"], exposure["days_under_measures"], strict=True))
    days = np.array([lookup.get(y, 0) for y in years], dtype=float)
    if np.ptp(days) == 0:
        raise NotEstimableError(
            f"the exposure model: the days under measures are {int(days[0])} in every fiscal year "
            f"of the data ({_years_text(years)}), so their effect cannot be estimated"
        )
    base = pd.DataFrame({"const": 1.0, "year": np.array(years, float) - years[0],
                         "covid_period": (phase == "during").astype(float)})
    if after.any():
        base["after_covid"] = after.astype(float)
    if period_r2(base, days) > 1 - 1e-9:
        raise NotEstimableError(
            "the exposure model: the days under measures move in lockstep with the trend and "
            f"the COVID period's step ({_years_text(years)}), so the measures cannot be told "
            "from the period"
        )
    ef = fit_exposure(df["requests"], base, days * UNIT_DAYS / per_days, what="the exposure model")
    fit = ef.fit
    X = base.assign(exposure=days / per_days)
    eta, _ = fit.linear_predictor(X)
    table = df[["fiscal_year", "requests"]].assign(days_under_measures=days.astype(int),
                                                   fitted=np.exp(eta))
    interval = stats.interval_label("Poisson", fit.dispersion, fit.quantiles)
    exposed = [(y, int(d)) for y, d in zip(years, days, strict=True) if d > 0]
    common, common_facts = _common_caveats(fit, years, len(years), START_UP_FY in years)
    estimates = (
        Estimate(f"requests.exposure_rr_per_{per_days}_days", *fit.ratio("exposure"),
                 unit=f"rate ratio per {per_days} days under measures", interval=interval),
        Estimate("requests.exposure_trend_rr_per_year", *fit.ratio("year"),
                 unit=_UNIT_RR_YEAR, interval=interval),
        Estimate("requests.exposure_step_rr", *fit.ratio("covid_period"),
                 unit="rate ratio (COVID period against the trend, at zero days)",
                 interval=interval),
        Estimate("requests.exposure_dispersion", fit.dispersion, unit="Pearson chi2/df"),
    )
    facts = {**common_facts, "exposure": estimates[0], "trend": estimates[1],
             "step": estimates[2], "r2": Pct(ef.r2, 0), "per_days": per_days,
             "phases": period.phases(years),
             "n_exposed": len(exposed), "span": Years(years), "quantiles": Quantiles(fit.quantiles),
             "exposed": Joined(tuple(Said("requests.exposure.days_part", {"year": y, "days": d})
                                     for y, d in exposed), "list.joiner")}
    return ExposureModelResult(
        title_key="title_requests_exposure",
        estimates=estimates, facts=facts,
        text_keys=("requests.exposure.text" if ef.separable
                   else "requests.exposure.text_not_separable",),
        method_key="requests.exposure.method",
        caveat_keys=chosen([
            (len(exposed) <= 2, "requests.exposure.caveat.near_step"),
            (True, "requests.exposure.caveat.crude"),
            *common[:3],
        ]),
        n_obs=len(years), data=table, per_days=per_days, fit=fit,
    )


# =============================================================================================
# Sensitivity analyses side by side
# =============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class SensitivityResult(Result):
    sources = ("needs_reflection", "covid_measures")
    SUMMARY_KEYS = ()
    models: tuple[Result | None, ...] = ()
    main_suffix: str = ""

    def _rows_ok(self) -> pd.DataFrame:
        return self.data[self.data["estimable"]]

    def _plot(self, ax: Any, lang: str) -> None:
        forest(ax, self.data, lang)
        ax.set_title(self.title(lang))


def forest(ax: Any, d: pd.DataFrame, lang: str) -> None:
    """Forest plot of rate ratios (log scale) with one row per variant and quantity."""
    from .. import plotting

    d = d[d["estimable"]].reset_index(drop=True)
    colors = {"level_change": plotting.COLORS["level1"], "slope_change": plotting.COLORS["level2"],
              "exposure_effect": plotting.COLORS["measures"]}
    ypos = np.arange(len(d))[::-1]
    for q, color in colors.items():
        m = (d["quantity"] == q).to_numpy()
        if not m.any():
            continue
        ax.errorbar(d.loc[m, "estimate"], ypos[m],
                    xerr=[d.loc[m, "estimate"] - d.loc[m, "ci_low"], d.loc[m, "ci_high"] - d.loc[m, "estimate"]],
                    fmt="o", color=color, capsize=4, markersize=7, label=label(q, lang))
    ax.axvline(1, color=plotting.COLORS["neutral"], lw=1, ls="--")
    plotting.ratio_axis(ax, d["ci_low"].min(), d["ci_high"].max())
    ax.set_yticks(ypos)
    sep = "：" if lang == "ja" else ": "
    ax.set_yticklabels([f"{label(v, lang)}{sep}{label(q + '_short', lang)}"
                        for v, q in zip(d["variant"], d["quantity"], strict=True)], fontsize=9)
    ax.set_xlabel(label("rate_ratio_log_scale", lang))
    ax.grid(axis="y", visible=False)


def _row(variant: str, quantity: str, e: Estimate | None, model: Result | None, reason: str = "") -> dict:
    ok = e is not None and not math.isnan(e.value)
    return {"variant": variant, "quantity": quantity, "record_key": e.key if e else "",
            "estimate": e.value if ok else math.nan, "ci_low": e.ci_low if ok else math.nan,
            "ci_high": e.ci_high if ok else math.nan,
            "n_obs": model.n_obs if model is not None else math.nan,
            "dispersion": getattr(getattr(model, "fit", None), "dispersion", math.nan),
            "estimable": ok, "reason": reason}


def sensitivity(needs_reflection: pd.DataFrame | None = None,
                covid_measures: pd.DataFrame | None = None, *,
                covid_start: int | str | None = None, covid_end: int | str | None = None,
                break_year: int | str | None = None, data_dir: str | Path | None = None,
                exposure: pd.DataFrame | None = None) -> SensitivityResult:
    """The main interrupted time series beside its sensitivity analyses.

    Variants: the main model (break at ``break_year``); excluding FY2017 (the start-up year);
    a break one year later (FY2021); the negative binomial fit of the main model; the exposure
    model (days under measures instead of a step). A variant that the data cannot support (too
    few years after a fiscal-year cut-off, no variation in exposure) is kept as a row with
    ``estimable = False`` and the reason, and its record keys carry NaN.

    Record keys (those of the main model belong to :func:`interrupted_time_series` and are not
    repeated here): ``requests.its_level_rr.excl_fy2017``, ``requests.its_slope_rr.excl_fy2017``,
    ``requests.its_level_rr.later_break``, ``requests.its_slope_rr.later_break``,
    ``requests.exposure_rr_per_30_days``.
    """
    df = _needs(needs_reflection, data_dir)
    years = df["fiscal_year"].tolist()
    period = _period(covid_start, covid_end, break_year, data_dir)
    main = interrupted_time_series(df, covid_start=period.start, covid_end=period.end)
    rows = [
        _row("main_model", "level_change", main.estimate(main.k("its_level_rr")), main),
        _row("main_model", "slope_change", main.estimate(main.k("its_slope_rr")), main),
    ]
    for q, base in (("level_change", "its_level_rr"), ("slope_change", "its_slope_rr")):
        e = main.estimate(f"requests.{base}.nb{main.suffix}")
        rows.append(_row("negative_binomial", q, e, main,
                         "" if not math.isnan(e.value) else "negative binomial not estimable"))
    models: list[Result | None] = [main]
    est: list[Estimate] = []
    variants = []
    if START_UP_FY in years:
        variants.append(("excl_fy2017", {"covid_start": period.start,
                                         "exclude_fiscal_years": [START_UP_FY]}))
    variants.append(("later_break", {"covid_start": period.start + 1, "later_break": True}))
    for name, kw in variants:
        suffix = variant_suffix(kw.get("exclude_fiscal_years", ()), kw.get("later_break", False))
        try:
            m = interrupted_time_series(df, negative_binomial=False,
                                        covid_end=max(period.end, kw["covid_start"]), **kw)
            reason = ""
        except ModelInputError as exc:
            m, reason = None, str(exc)
        models.append(m)
        for q, base in (("level_change", "its_level_rr"), ("slope_change", "its_slope_rr")):
            key = f"requests.{base}{suffix}"
            e = m.estimate(key) if m is not None else Estimate(key, math.nan, unit=_UNIT_RR)
            est.append(e)
            rows.append(_row(name, q, e, m, reason))
    key = f"requests.exposure_rr_per_{PER_DAYS}_days"
    try:
        ex = exposure_model(df, covid_measures, exposure=exposure, data_dir=data_dir,
                            covid_start=period.start, covid_end=period.end)
        e, reason = ex.estimate(key), ""
    except ModelInputError as exc:
        ex, e, reason = None, Estimate(key, math.nan, unit=f"rate ratio per {PER_DAYS} days under measures"), str(exc)
    models.append(ex)
    est.append(e)
    rows.append(_row("exposure_days", "exposure_effect", e, ex, reason))
    table = pd.DataFrame(rows)
    failed = table.loc[~table["estimable"], ["variant", "reason"]].drop_duplicates()
    ok = table[table["estimable"]]
    rows_said = tuple(
        Said("requests.sensitivity.part",
             {"variant": Term(r.variant), "quantity": Term(r.quantity),
              "r": Estimate(r.record_key, r.estimate, r.ci_low, r.ci_high)})
        for r in ok.itertuples(index=False))
    facts = {"n_years": len(years), "parts": Joined(rows_said, "list.semicolon"),
             "n_ok": len(ok), "n_excl": int(((ok["ci_low"] > 1) | (ok["ci_high"] < 1)).sum()),
             "failed": Joined(tuple(Said("requests.sensitivity.failed_part",
                                         {"variant": Term(v), "reason": r})
                                    for v, r in failed.itertuples(index=False)),
                              "list.semicolon")}
    return SensitivityResult(
        title_key="title_requests_sensitivity",
        estimates=tuple(est), facts=facts, text_keys=("requests.sensitivity.text",),
        method_key="requests.sensitivity.method",
        caveat_keys=chosen([
            (True, "requests.sensitivity.caveat.same_points"),
            (not failed.empty, "requests.sensitivity.caveat.not_estimable"),
            *main_caveats(main),
        ]),
        n_obs=len(years), data=table,
        models=tuple(models), main_suffix=main.suffix,
    )


def main_caveats(main: ITSResult) -> list[tuple[bool, Said]]:
    """The main model's first caveat, to repeat beside the sensitivity analyses."""
    return [(True, Said(main.caveat_keys[0], main.facts))] if main.caveat_keys else []


# =============================================================================================
# Verdict
# =============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class VerdictResult(Result):
    sources = ("needs_reflection", "covid_measures")
    SUMMARY_KEYS = ()
    distinguishable: bool = False
    period: PeriodComparisonResult | None = None
    trend_result: TrendResult | None = None
    its: ITSResult | None = None
    sensitivity_result: SensitivityResult | None = None

    def prose_facts(self) -> dict[str, Any]:
        """Facts for the notebook's introduction: the first fiscal year's requests, the lowest
        year's, and the COVID period."""
        d = self.period.data
        first, low = d.iloc[0], d.loc[d["requests"].idxmin()]
        p = self.period.period
        return {"first_fy": int(first["fiscal_year"]), "first_era": Era(int(first["fiscal_year"])),
                "first": int(first["requests"]), "low_fy": int(low["fiscal_year"]),
                "low_era": Era(int(low["fiscal_year"])), "low": int(low["requests"]),
                "covid": Years(range(p.start, p.end + 1))}

    @property
    def reasons(self) -> tuple[str, ...]:
        """The verdict's sentences in English (the verdict, why, and what would settle it)."""
        return tuple(self._said(k, "en") for k in self.text_keys)

    @property
    def reasons_ja(self) -> tuple[str, ...]:
        return tuple(self._said(k, "ja") for k in self.text_keys)

    def components(self) -> tuple[Result, ...]:
        return tuple(r for r in (self.period, self.trend_result, self.its,
                                 self.sensitivity_result) if r is not None)

    def headline(self, lang: str = "ja") -> str:
        """The verdict and why, in two sentences."""
        reasons = self.reasons_ja if lang == "ja" else self.reasons
        return ("" if lang == "ja" else " ").join(reasons[:2])

    def key_figures(self) -> list[Estimate]:
        """In the order the verdict reasons: the decline before COVID (the main model's
        pre-COVID slope), the level change against that trend, the smallest change the data
        could detect. The ratio of period means is not a key figure: it is shown only in
        sentences that give the earlier decline beside it."""
        its = self.its
        found = [its.estimate(its.k("its_pre_slope_rr")) if its else None,
                 its.estimate(its.k("its_level_rr")) if its else None,
                 self.estimate("requests.its_level_mde_ratio")]
        return [e for e in found if e is not None and e.key in {
            "requests.its_pre_slope_rr", "requests.its_level_rr",
            "requests.its_level_mde_ratio"}]

    def all_records(self) -> pd.DataFrame:
        """Records of the verdict and of every analysis behind it (each key once)."""
        est = [e for r in self.components() for e in r.estimates] + list(self.estimates)
        return records_frame(est)

    def text(self, lang: str = "ja") -> str:  # the verdict already weaves its caveat in
        return self._body(check_lang(lang))

    def _plot(self, ax: Any, lang: str) -> None:
        forest(ax, self.sensitivity_result.data, lang)
        mde = self.estimate("requests.its_level_mde_ratio").value
        if not math.isnan(mde):
            ax.axvspan(mde, 1 / mde, color="grey", alpha=0.12, lw=0)
            from .. import plotting

            plotting.add_note(ax, label("note_undetectable_zone", lang))
        ax.set_title(self.title(lang))


def verdict(needs_reflection: pd.DataFrame | None = None,
            covid_measures: pd.DataFrame | None = None, *,
            covid_start: int | str | None = None, covid_end: int | str | None = None,
            break_year: int | str | None = None, data_dir: str | Path | None = None,
            exposure: pd.DataFrame | None = None) -> VerdictResult:
    """Can the yearly points distinguish a COVID effect from the decline already under way?

    Runs :func:`period_comparison`, :func:`trend`, :func:`interrupted_time_series` and
    :func:`sensitivity`, and states the answer with numbers. The data *distinguish* a COVID
    effect only if the main model's level or slope change has an interval excluding 1 and the
    estimable robustness variants agree with it (same direction, interval excluding 1): the
    negative binomial fit and the fit without FY2017. The later-break variant tests the timing
    and the exposure model a dose-response beyond the period's step (issue 21: it models the
    days beside the step), not the same hypothesis, so they are reported beside them but not
    required to agree. The minimum detectable level change (80% power, two-sided 5% t-test on the
    main model's residual degrees of freedom) says how large an effect these data could have seen.

    Keys: ``requests.its_level_mde_ratio`` (the level ratio below 1 detectable with 80% power),
    ``requests.verdict_distinguishable`` (1 = distinguishable, 0 = not). ``all_records()`` adds
    the keys of the analyses behind it.
    """
    df = _needs(needs_reflection, data_dir)
    period = _period(covid_start, covid_end, break_year, data_dir)
    break_year = period.start
    per = period_comparison(df, covid_start=period.start, covid_end=period.end)
    tr = trend(df)
    sens = sensitivity(df, covid_measures, covid_start=period.start, covid_end=period.end,
                       data_dir=data_dir, exposure=exposure)
    its = sens.models[0]
    assert isinstance(its, ITSResult)
    years = df["fiscal_year"].tolist()
    fit = its.fit
    se_level = fit.se("covid_period")
    mde_up = stats.minimum_detectable_ratio(se_level, fit.df_resid)
    mde = 1 / mde_up
    lv = its.estimate(its.k("its_level_rr"))
    sl = its.estimate(its.k("its_slope_rr"))
    pre = its.estimate(its.k("its_pre_slope_rr"))
    tr_e = tr.estimate("requests.trend_rr_per_year")
    ratio = per.estimate("requests.mean_ratio_covid_vs_pre")
    oe = its.estimate(its.k("counterfactual_oe_total"))
    oe_informative = oe.interval_excludes_one
    n_base = int((its.fit_years() < break_year).sum())
    d = sens.data
    ok = d[d["estimable"]]
    # the later break tests the timing, and the exposure model (days under measures beside the
    # period's step) a dose-response beyond the step: not the same hypothesis, so they are
    # reported, not required to agree
    agreeing = ok[~ok["variant"].isin(["later_break", "exposure_days"])]
    distinguishable = False
    for q, e in (("level_change", lv), ("slope_change", sl)):
        if not e.interval_excludes_one:
            continue
        down = e.value < 1
        same = agreeing[agreeing["quantity"] == q]
        agree = (same["ci_high"] < 1) if down else (same["ci_low"] > 1)
        distinguishable = distinguishable or bool(agree.all())
    n_excl = int(((ok["ci_low"] > 1) | (ok["ci_high"] < 1)).sum())
    facts = {"n_years": len(years), "ratio": ratio, "span": Years(years), "trend": tr_e,
             "pre": pre, "break_year": break_year, "level": lv, "slope": sl, "oe": oe,
             "n_base": n_base, "n_excl": n_excl, "n_ok": len(ok), "df": fit.df_resid,
             "mde": mde, "fall_pct": 100 * (1 - mde), "mde_up": mde_up,
             "next_year": period.end + 1, "phases": period.phases(years)}
    text_keys = chosen([
        (distinguishable, "requests.verdict.yes"),
        (not distinguishable, "requests.verdict.no"),
        (True, "requests.verdict.falling"),
        (oe_informative, "requests.verdict.changes_projection"),
        (not oe_informative, "requests.verdict.changes"),
        (bool(n_excl) and not distinguishable, "requests.verdict.sensitivity_disagree"),
        (not (n_excl and not distinguishable), "requests.verdict.sensitivity"),
        (True, "requests.verdict.power"),
        (True, "requests.verdict.settle"),
    ])
    return VerdictResult(
        title_key="title_requests_verdict",
        estimates=(
            Estimate("requests.its_level_mde_ratio", mde, unit="rate ratio (80% power, 5% two-sided)"),
            Estimate("requests.verdict_distinguishable", float(distinguishable),
                     unit="indicator (1 = distinguishable)"),
        ),
        facts=facts, text_keys=text_keys, method_key="requests.verdict.method",
        caveat_keys=chosen([
            (True, "requests.verdict.caveat.yearly_totals"),
            *[(True, Said(k, its.facts)) for k in its.caveat_keys[:2]],
            (START_UP_FY in years, "requests.verdict.caveat.document"),
        ]),
        n_obs=len(years), data=d.assign(verdict_distinguishable=distinguishable),
        distinguishable=distinguishable, period=per, trend_result=tr, its=its,
        sensitivity_result=sens,
    )
