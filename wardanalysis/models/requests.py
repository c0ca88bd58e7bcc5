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
from ..glossary import label
from ..results import (
    Estimate,
    Result,
    fmt,
    fmt_ci,
    join_caveats,
    pct_change,
    records_frame,
    years_text,
)
from . import _input
from .errors import (
    BreakYearError,
    MissingDataError,
    ModelInputError,
    NotEstimableError,
    TooFewYearsError,
)
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
                    startup_included: bool) -> list[tuple[bool, str, str]]:
    out = [(True,
            f"There are only {n_years} yearly totals, so every interval is wide and the model "
            "cannot tell apart explanations that fit those few points equally well.",
            f"年度ごとの合計が{n_years}点しかないため、どの区間も広く、"
            "少数の点に同程度に当てはまる説明を区別できない。")]
    if fit is not None:
        out.append((fit.dispersion > 1.5,
                    f"The counts vary {fmt(fit.dispersion)} times more than Poisson counts would "
                    f"(Pearson χ²/df on {fit.df_resid} df); intervals are widened by that factor's "
                    "square root, and the dispersion itself is poorly estimated from so few degrees "
                    "of freedom.",
                    f"件数のばらつきはポアソン分布の想定の{fmt(fit.dispersion)}倍ある"
                    f"（ピアソンχ²/自由度、自由度{fit.df_resid}）。区間はその平方根の分だけ広げてあるが、"
                    "自由度が少ないため過分散の推定自体も不確かである。"))
        out.append((fit.dispersion < 1,
                    f"The estimated dispersion ({fmt(fit.dispersion)}) is below 1; intervals use 1 "
                    "(Poisson variation) rather than claim less variation than Poisson counts.",
                    f"推定された過分散（{fmt(fit.dispersion)}）は1未満だが、ポアソン分布より小さい"
                    "ばらつきは仮定せず1を用いた。"))
    out.append((startup_included,
                f"FY{START_UP_FY} was the まちづくりセンター start-up year; the document says it "
                "surfaced long-buried requests, so its count is high for reasons unrelated to COVID.",
                f"{START_UP_FY}年度はまちづくりセンター設置初年度で、文書はそれまで埋もれていた要望を"
                "把握したため件数が多かったとしている（新型コロナとは無関係の理由で多い）。"))
    return out


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
    if r.method == "exact":
        return "exact conditional (the series shows no overdispersion)"
    return (f"quasi-{family} Wald with the dispersion of the series' trend "
            f"({fmt(r.scale)}), {r.quantiles}")


# =============================================================================================
# Period means
# =============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class PeriodComparisonResult(Result):
    sources = ("needs_reflection",)
    SUMMARY_KEYS = ("requests.mean_ratio_covid_vs_pre",)
    break_year: int = COVID_BREAK_FY
    period: CovidPeriod = CovidPeriod(COVID_BREAK_FY, 2023)
    exact_ratio: stats.RateRatio | None = None

    def _after_text(self, lang: str) -> str:
        if "requests.after_mean" not in self.keys:
            return ""
        a = self.estimate("requests.after_mean")
        r = self.estimate("requests.mean_ratio_after_vs_pre")
        years = self._years("after", lang)
        if lang == "ja":
            return (f"コロナ期間の後（{years}）は年平均{fmt(a.value)}件で、コロナ前に対する比は"
                    f"{fmt(r.value)}{fmt_ci(r.ci_low, r.ci_high, 'ja')}である。")
        return (f"After the COVID period ({years}) they averaged {fmt(a.value)} a year, "
                f"{fmt(r.value)} times the pre-COVID mean {fmt_ci(r.ci_low, r.ci_high, 'en')}. ")

    def _text_ja(self) -> str:
        r = self.estimate("requests.mean_ratio_covid_vs_pre")
        pre = self.estimate("requests.pre_mean")
        cov = self.estimate("requests.covid_mean")
        return (f"要望・相談件数の年平均は、コロナ前（{self._years('before', 'ja')}）が{fmt(pre.value)}件、"
                f"コロナ期間（{self._years('during', 'ja')}）が{fmt(cov.value)}件で、比は{fmt(r.value)}"
                f"{fmt_ci(r.ci_low, r.ci_high, 'ja')}である（年ごとのばらつきを考慮した準ポアソンモデル）。"
                + self._after_text("ja") +
                "この比は単純な前後比較であり、コロナ前から続いていた減少とコロナの影響を区別しない。")

    def _text_en(self) -> str:
        r = self.estimate("requests.mean_ratio_covid_vs_pre")
        pre = self.estimate("requests.pre_mean")
        cov = self.estimate("requests.covid_mean")
        return (f"Requests averaged {fmt(pre.value)} a year before COVID ({self._years('before')}) and "
                f"{fmt(cov.value)} a year in the COVID period ({self._years('during')}), a ratio of "
                f"{fmt(r.value)} {fmt_ci(r.ci_low, r.ci_high, 'en')} (quasi-Poisson, allowing for "
                "the year-to-year variation). " + self._after_text("en") +
                "It is a plain before/after comparison and does not separate COVID from the "
                "decline already under way.")

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
    interval = f"quasi-Poisson Wald, {fit.quantiles}"
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
    caveats, caveats_ja = join_caveats([
        (True,
         f"The ratio compares period averages only; it would be below 1 even if COVID had no "
         f"effect, because requests were already falling before FY{period.start}.",
         f"この比は期間平均の比較にすぎず、{period.start}年度より前から件数が減っていたため、"
         "コロナの影響がなくても1を下回りうる。"),
        *_common_caveats(fit, years, len(years), START_UP_FY in years),
        (trend_df >= 2,
         f"Each year-over-year interval borrows the dispersion of the requests trend "
         f"({fmt(trend_phi)}, Pearson χ²/df on {trend_df} df): exact Poisson intervals would be "
         f"about {fmt(math.sqrt(max(1.0, trend_phi)), 2)} times too narrow on the log scale "
         "(they remain in the table as a sensitivity, valid only if the counts were Poisson).",
         f"前年度比の区間は要望・相談件数の傾向モデルの過分散（{fmt(trend_phi)}、ピアソンχ²/自由度、自由度"
         f"{trend_df}）を借りて広げた。ポアソン分布を仮定した正確な区間は対数尺度で約"
         f"{fmt(math.sqrt(max(1.0, trend_phi)), 2)}分の1の幅で狭すぎる（表にはポアソン分布の場合に限り"
         "有効な参考値として残した）。"),
        (trend_df < 2,
         f"The requests trend has {trend_df} residual degree(s) of freedom, so no honest "
         "year-over-year interval exists: the intervals shown are exact, valid only if the counts "
         "were Poisson, and far too narrow for counts that vary as these do.",
         f"要望・相談件数の傾向モデルの残差自由度が{trend_df}しかなく、ばらつきを考慮した前年度比の区間は"
         "求められない。示した区間はポアソン分布の場合に限り有効な正確な区間で、実際のばらつきに対しては狭すぎる。"),
        (bool(gaps),
         f"Fiscal years are missing before {', '.join(f'FY{y}' for y in gaps)}; those ratios span "
         "more than one year.",
         f"{', '.join(f'{y}年度' for y in gaps)}の前の年度が欠けており、その比は1年を超える間隔の比である。"),
    ])
    return PeriodComparisonResult(
        title_key="title_requests_periods",
        estimates=tuple(est),
        method=(f"Quasi-Poisson GLM of yearly requests on period indicators "
                f"({period.describe(years)}), {fit.quantiles} intervals; year-over-year ratios "
                "with the dispersion of the requests trend borrowed (exact conditional Poisson "
                "intervals as a sensitivity)."),
        method_ja=(f"年度ごとの要望・相談件数を期間の指標（{period.describe(years, 'ja')}）で説明する"
                   f"準ポアソンGLM（{_quantiles_ja(fit.quantiles)}の区間）。前年度比は傾向モデルの過分散を借りた区間"
                   "（条件付き正確ポアソン区間は参考）。"),
        n_obs=len(years), caveats=caveats, caveats_ja=caveats_ja, data=table,
        break_year=period.start, period=period, exact_ratio=exact,
    )


def _quantiles_ja(q: str) -> str:
    """``t(3)`` → ``t分布・自由度3``; ``normal`` → ``正規分布``."""
    return "正規分布" if q == "normal" else f"t分布・自由度{q[2:-1]}"


# =============================================================================================
# Trend
# =============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class TrendResult(Result):
    sources = ("needs_reflection",)
    SUMMARY_KEYS = ("requests.trend_rr_per_year",)
    fit: stats.GLMFit | None = None

    _EXCL = f"requests.trend_rr_per_year.excl_fy{START_UP_FY}"

    def _excl_text(self, lang: str) -> str:
        if self._EXCL not in self.keys:
            return ""
        x = self.estimate(self._EXCL)
        if lang == "ja":
            return (f"{START_UP_FY}年度を除くと{fmt(x.value)}{fmt_ci(x.ci_low, x.ci_high, 'ja')}である。")
        return f" Without FY{START_UP_FY} it is {fmt(x.value)} {fmt_ci(x.ci_low, x.ci_high, 'en')}."

    def _text_ja(self) -> str:
        e = self.estimate("requests.trend_rr_per_year")
        way = "減少" if e.value < 1 else "増加"
        return (f"{self._span('ja')}の要望・相談件数に対数線形の傾向を当てはめると、1年あたりの率比は"
                f"{fmt(e.value)}{fmt_ci(e.ci_low, e.ci_high, 'ja')}で、年に約"
                f"{fmt(abs(pct_change(e.value)), 2)}%ずつ{way}する傾向である。" + self._excl_text("ja"))

    def _text_en(self) -> str:
        e = self.estimate("requests.trend_rr_per_year")
        way = "fall" if e.value < 1 else "rise"
        return (f"A log-linear trend through the requests of {self._span()} gives a rate ratio of "
                f"{fmt(e.value)} per year {fmt_ci(e.ci_low, e.ci_high, 'en')}, a {way} of about "
                f"{fmt(abs(pct_change(e.value)), 2)}% a year." + self._excl_text("en"))

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
    interval = f"quasi-Poisson Wald, {fit.quantiles}"
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
                            unit=_UNIT_RR_YEAR, interval=f"quasi-Poisson Wald, {fit_r.quantiles}"))
    eta, se = fit.linear_predictor(X)
    table = df[["fiscal_year", "requests"]].assign(
        fitted=np.exp(eta), fitted_ci_low=np.exp(eta - fit.crit * se),
        fitted_ci_high=np.exp(eta + fit.crit * se),
        pearson_residual=(df["requests"] - np.exp(eta)) / np.sqrt(fit.scale * np.exp(eta)),
    )
    caveats, caveats_ja = join_caveats([
        (startup,
         "A single trend over all years cannot say why requests fell; it mixes the start-up "
         "year, the settling-in of the mechanism and the COVID years.",
         "全年度を通した1本の傾向は、減少の理由を示さない（設置初年度、仕組みの定着、コロナ期間が混ざっている）。"),
        (not startup,
         "A single trend over all years cannot say why requests changed; it mixes every "
         "influence on these years into one rate.",
         "全年度を通した1本の傾向は、件数が変化した理由を示さない（各年度のあらゆる影響が1つの率に混ざっている）。"),
        *_common_caveats(fit, years, len(years), startup),
    ])
    return TrendResult(
        title_key="title_requests_trend",
        estimates=tuple(est),
        method=(f"Quasi-Poisson GLM, log(requests) linear in fiscal year over {_years_text(years)} "
                f"(every year, whatever its COVID period); dispersion = Pearson χ²/df; "
                f"{fit.quantiles} Wald intervals."),
        method_ja=(f"準ポアソンGLM（件数の対数が年度に比例、{_years_text(years, 'ja')}のすべての年度）。"
                   f"過分散＝ピアソンχ²/自由度、{_quantiles_ja(fit.quantiles)}のワルド区間。"),
        n_obs=len(years), caveats=caveats, caveats_ja=caveats_ja, data=table, fit=fit,
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

    def _variant_text(self, lang: str) -> str:
        parts = []
        if self.excluded:
            ys = ", ".join(str(y) for y in self.excluded)
            parts.append(f"{ys}年度を除外" if lang == "ja" else f"excluding FY{ys}")
        parts.append(f"区切り{self.break_year}年度" if lang == "ja" else f"break at FY{self.break_year}")
        return "、".join(parts) if lang == "ja" else ", ".join(parts)

    def _text_ja(self) -> str:
        lv, sl = self.estimate(self.k("its_level_rr")), self.estimate(self.k("its_slope_rr"))
        pre = self.estimate(self.k("its_pre_slope_rr"))
        oe = self.estimate(self.k("counterfactual_oe_total"))
        return (f"分断時系列分析（{self._variant_text('ja')}）では、コロナ前の傾向は1年あたり率比"
                f"{fmt(pre.value)}{fmt_ci(pre.ci_low, pre.ci_high, 'ja')}、{self.break_year}年度の"
                f"水準の変化は率比{fmt(lv.value)}{fmt_ci(lv.ci_low, lv.ci_high, 'ja')}、傾きの変化は"
                f"率比{fmt(sl.value)}{fmt_ci(sl.ci_low, sl.ci_high, 'ja')}であった。コロナ前の傾向が"
                f"続いた場合の期待値に対する実績の比（期間合計）は{fmt(oe.value)}"
                f"{fmt_ci(oe.ci_low, oe.ci_high, 'ja').replace('信頼区間', '予測区間に基づく範囲')}である。"
                + self._interpretation("ja"))

    def _text_en(self) -> str:
        lv, sl = self.estimate(self.k("its_level_rr")), self.estimate(self.k("its_slope_rr"))
        pre = self.estimate(self.k("its_pre_slope_rr"))
        oe = self.estimate(self.k("counterfactual_oe_total"))
        return (f"In the interrupted time series ({self._variant_text('en')}), the pre-COVID trend "
                f"was a rate ratio of {fmt(pre.value)} per year {fmt_ci(pre.ci_low, pre.ci_high, 'en')}; "
                f"the level changed at FY{self.break_year} by a rate ratio of {fmt(lv.value)} "
                f"{fmt_ci(lv.ci_low, lv.ci_high, 'en')} and the slope by {fmt(sl.value)} "
                f"{fmt_ci(sl.ci_low, sl.ci_high, 'en')}. Observed requests in the COVID period were "
                f"{fmt(oe.value)} times those projected from the pre-COVID trend "
                f"{fmt_ci(oe.ci_low, oe.ci_high, 'en').replace('CI', 'range from the prediction interval')}. "
                + self._interpretation("en"))

    def _interpretation(self, lang: str) -> str:
        lv, sl = self.estimate(self.k("its_level_rr")), self.estimate(self.k("its_slope_rr"))
        if lv.interval_excludes_one or sl.interval_excludes_one:
            return ("区間が1を含まない推定があるが、少数の点に基づくため頑健性の確認が必要である。"
                    if lang == "ja" else
                    "At least one interval excludes 1, but with so few points this needs the "
                    "sensitivity analyses before it is read as an effect.")
        return ("どちらの区間も1（変化なし）を含み、コロナによる変化があったともなかったとも言えない。"
                if lang == "ja" else
                "Both intervals include 1 (no change): the data neither show nor rule out a COVID "
                "effect.")

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
        ax.set_title(self.title(lang) + ("" if not self.suffix else f"（{self._variant_text(lang)}）"
                                         if lang == "ja" else f" ({self._variant_text(lang)})"))
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
    interval = f"quasi-Poisson Wald, {fit.quantiles}"

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
    nb_fit, nb_problem = None, ""
    if negative_binomial:
        try:
            nb_fit = stats.fit_negative_binomial(fit_df["requests"], X, what=f"NB2 {model}")
            if not nb_fit.converged:
                nb_problem = "the negative binomial fit did not converge"
        except NotEstimableError as exc:
            nb_problem = str(exc)
    nb_ok = nb_fit is not None and not nb_problem
    nan3 = (math.nan, math.nan, math.nan)
    nb_interval = f"negative binomial (NB2) ML, Wald t({nb_fit.df_resid if nb_fit else '—'})"
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
    caveats, caveats_ja = join_caveats([
        (True,
         f"The pre-COVID trend rests on {n_pre} fiscal years and the COVID segment on {n_post}; "
         f"with {fit.df_resid} residual degree(s) of freedom the level and slope changes are "
         "barely identified, and the projection into the COVID years widens quickly.",
         f"コロナ前の傾向は{n_pre}年度分、コロナ期間は{n_post}年度分の点に基づき、残差自由度は"
         f"{fit.df_resid}しかない。水準と傾きの変化はほとんど識別できず、コロナ期間への投影の幅も急速に広がる。"),
        *_common_caveats(fit, years.tolist(), len(years), START_UP_FY in years.tolist())[1:],
        (negative_binomial and bool(nb_problem),
         f"The negative binomial sensitivity model could not be used: {nb_problem}.",
         f"負の二項モデルによる感度分析は行えなかった（{nb_problem}）。"),
        (nb_ok,
         f"The negative binomial intervals use t({nb_fit.df_resid if nb_fit else 0}) like the main "
         "model, since its alpha is estimated from the same few points; it is a check of the "
         "variance assumption, not more evidence.",
         f"負の二項モデルの区間も主分析と同じくt分布（自由度{nb_fit.df_resid if nb_fit else 0}）による。"
         "αも同じ少数の点から推定しており、分散の仮定の確認であって追加の証拠ではない。"),
        (True,
         f"The counterfactual extends a trend fitted to {len(base)} baseline fiscal year(s) "
         f"({_years_text(base)})"
         + (f", most of whose fall is the decay after the FY{START_UP_FY} start-up year" if startup_base else "")
         + "; it assumes that trend would have continued unchanged, which nothing in the data can "
         "check, and its prediction interval is correspondingly wide.",
         f"反事実（コロナがなかった場合）の推計は、{len(base)}年度分の基準期間（{_years_text(base, 'ja')}）"
         "の傾向を延長したもの"
         + (f"で、その減少の大部分は{START_UP_FY}年度（設置初年度）の後の落ち着きである" if startup_base else "")
         + "。その傾向がそのまま続いたという仮定はデータで確かめられず、予測区間もそれだけ広い。"),
        (n_after > 0,
         f"{n_after} fiscal year(s) after the COVID period ({_years_text(table.loc[table['phase'] == 'after', 'fiscal_year'])}) "
         "are shown but not used in the fit: they are neither COVID years nor part of the "
         "pre-COVID trend.",
         f"コロナ期間の後の{n_after}年度（{_years_text(table.loc[table['phase'] == 'after', 'fiscal_year'], 'ja')}）"
         "は表示するがモデルには使っていない（コロナ期間でもコロナ前の傾向でもない）。"),
    ])
    return ITSResult(
        title_key="title_requests_its",
        estimates=tuple(est),
        method=(f"Segmented quasi-Poisson GLM (break at FY{break_year}: level and slope change; "
                f"{period.describe(all_years)}; years after the period not fitted), Pearson χ²/df "
                f"dispersion, {fit.quantiles} intervals; NB2 sensitivity with t intervals; "
                "pre-trend projection with delta-method prediction intervals."),
        method_ja=(f"分断時系列の準ポアソンGLM（{break_year}年度で水準と傾きが変化。"
                   f"{period.describe(all_years, 'ja')}。コロナ後の年度は当てはめに使わない）、"
                   f"過分散＝ピアソンχ²/自由度、{_quantiles_ja(fit.quantiles)}の区間。"
                   "負の二項モデル（t分布の区間）で感度分析。コロナ前の傾向の投影にデルタ法の予測区間。"),
        n_obs=len(years), caveats=caveats, caveats_ja=caveats_ja, data=table,
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

    def _text_ja(self) -> str:
        e = self.estimate(f"requests.exposure_rr_per_{self.per_days}_days")
        t = self.estimate("requests.exposure_trend_rr_per_year")
        return (f"コロナの影響を「措置が適用された日数」で表し、年ごとの傾向とともに当てはめると、措置"
                f"{self.per_days}日あたりの率比は{fmt(e.value)}{fmt_ci(e.ci_low, e.ci_high, 'ja')}、"
                f"傾向は1年あたり率比{fmt(t.value)}{fmt_ci(t.ci_low, t.ci_high, 'ja')}であった。")

    def _text_en(self) -> str:
        e = self.estimate(f"requests.exposure_rr_per_{self.per_days}_days")
        t = self.estimate("requests.exposure_trend_rr_per_year")
        return (f"Measuring COVID as the days under Kumamoto's measures in each fiscal year, "
                f"alongside a yearly trend, gives a rate ratio of {fmt(e.value)} per "
                f"{self.per_days} days under measures {fmt_ci(e.ci_low, e.ci_high, 'en')} and a "
                f"trend of {fmt(t.value)} per year {fmt_ci(t.ci_low, t.ci_high, 'en')}.")

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
                   data_dir: str | Path | None = None) -> ExposureModelResult:
    """Quasi-Poisson model of requests on a yearly trend and the days under COVID measures.

    ``log E[requests] = b0 + b1 (fiscal_year - first) + b2 days / per_days``: ``exp(b2)`` is the
    rate ratio per ``per_days`` days under measures, holding the trend fixed.

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
        Fewer than four fiscal years (three coefficients plus one degree of freedom).
    NotEstimableError
        The days do not vary across the fiscal years (e.g. data cut off before FY2020), or they
        move in lockstep with the year.

    Keys: ``requests.exposure_rr_per_<per_days>_days``, ``requests.exposure_trend_rr_per_year``,
    ``requests.exposure_dispersion``.
    """
    from .covid_exposure import exposure_days

    df = _needs(needs_reflection, data_dir)
    _input.require_years(df, 4, "the exposure model",
                         "three coefficients and one degree of freedom for the dispersion")
    years = df["fiscal_year"].tolist()
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
    X = pd.DataFrame({"const": 1.0, "year": np.array(years, float) - years[0],
                      "exposure": days / per_days})
    fit = stats.fit_quasi_poisson(df["requests"], X, what="the exposure model")
    eta, _ = fit.linear_predictor(X)
    table = df[["fiscal_year", "requests"]].assign(days_under_measures=days.astype(int),
                                                   fitted=np.exp(eta))
    interval = f"quasi-Poisson Wald, {fit.quantiles}"
    exposed = [(y, int(d)) for y, d in zip(years, days, strict=True) if d > 0]
    caveats, caveats_ja = join_caveats([
        (len(exposed) <= 2,
         f"Only {len(exposed)} fiscal year(s) have any day under measures ("
         + ", ".join(f"FY{y}: {d} days" for y, d in exposed)
         + "), so the exposure term is close to a step for those years and this model is nearly "
         "the step (level-change) model again, not an independent check.",
         f"措置の日数が0でない年度は{len(exposed)}年度しかなく（"
         + "、".join(f"{y}年度：{d}日" for y, d in exposed)
         + "）、措置日数の項はそれらの年度の段差とほぼ同じで、このモデルは水準変化のモデルとほぼ同じになる"
         "（独立した確認ではない）。"),
        (True,
         "Days under measures are a crude dose: they ignore what each measure restricted, the "
         "voluntary caution outside those periods, and any delay before meetings resumed.",
         "措置の日数は粗い指標であり、各措置が何を制限したか、期間外の自主的な自粛、会合再開までの遅れを反映しない。"),
        *_common_caveats(fit, years, len(years), START_UP_FY in years)[:3],
    ])
    return ExposureModelResult(
        title_key="title_requests_exposure",
        estimates=(
            Estimate(f"requests.exposure_rr_per_{per_days}_days", *fit.ratio("exposure"),
                     unit=f"rate ratio per {per_days} days under measures", interval=interval),
            Estimate("requests.exposure_trend_rr_per_year", *fit.ratio("year"),
                     unit=_UNIT_RR_YEAR, interval=interval),
            Estimate("requests.exposure_dispersion", fit.dispersion, unit="Pearson chi2/df"),
        ),
        method=(f"Quasi-Poisson GLM of requests on fiscal year and days under COVID measures "
                f"(per {per_days} days) over {_years_text(years)}; {fit.quantiles} intervals."),
        method_ja=(f"要望・相談件数を年度と措置日数（{per_days}日単位）で説明する準ポアソンGLM"
                   f"（{_years_text(years, 'ja')}、{_quantiles_ja(fit.quantiles)}の区間）。"),
        n_obs=len(years), caveats=caveats, caveats_ja=caveats_ja, data=table,
        per_days=per_days, fit=fit,
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

    def _text_ja(self) -> str:
        d = self._rows_ok()
        parts = []
        for r in d.itertuples(index=False):
            parts.append(f"{label(r.variant, 'ja')}：{label(r.quantity, 'ja')} {fmt(r.estimate)}"
                         f"{fmt_ci(r.ci_low, r.ci_high, 'ja')}")
        n_excl = int(((d["ci_low"] > 1) | (d["ci_high"] < 1)).sum())
        return ("感度分析の結果を並べると、" + "、".join(parts) + "。"
                f"{len(d)}個の推定のうち区間が1を含まないものは{n_excl}個である。")

    def _text_en(self) -> str:
        d = self._rows_ok()
        parts = [f"{label(r.variant, 'en')}: {label(r.quantity, 'en').lower()} {fmt(r.estimate)} "
                 f"{fmt_ci(r.ci_low, r.ci_high, 'en')}" for r in d.itertuples(index=False)]
        n_excl = int(((d["ci_low"] > 1) | (d["ci_high"] < 1)).sum())
        return ("Side by side, " + "; ".join(parts) + ". "
                f"{n_excl} of these {len(d)} intervals exclude 1.")

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
        ex = exposure_model(df, covid_measures, exposure=exposure, data_dir=data_dir)
        e, reason = ex.estimate(key), ""
    except ModelInputError as exc:
        ex, e, reason = None, Estimate(key, math.nan, unit=f"rate ratio per {PER_DAYS} days under measures"), str(exc)
    models.append(ex)
    est.append(e)
    rows.append(_row("exposure_days", "exposure_effect", e, ex, reason))
    table = pd.DataFrame(rows)
    failed = table.loc[~table["estimable"], ["variant", "reason"]].drop_duplicates()
    caveats, caveats_ja = join_caveats([
        (True,
         f"The variants reuse the same {len(years)} (or fewer) yearly points, so they are not "
         "independent confirmations; agreement among them shows robustness to modelling choices, "
         "not more data.",
         f"各感度分析は同じ{len(years)}点（以下）の年度データを使い回しており、独立した確認ではない。"
         "結果が一致しても、分析方法の選択に頑健であることを示すだけで、データが増えるわけではない。"),
        (not failed.empty,
         "Not estimable with these data: " + "; ".join(
             f"{label(v, 'en')} ({r})" for v, r in failed.itertuples(index=False)) + ".",
         "このデータでは推定できなかったもの：" + "；".join(
             f"{label(v, 'ja')}（{r}）" for v, r in failed.itertuples(index=False)) + "。"),
        *main_caveats(main),
    ])
    return SensitivityResult(
        title_key="title_requests_sensitivity",
        estimates=tuple(est),
        method=("The main segmented quasi-Poisson model beside: NB2, excluding FY2017, a break one "
                "year later, and days under COVID measures in place of the step."),
        method_ja=("主分析（分断時系列の準ポアソンGLM）と、負の二項モデル、2017年度を除外、区切りを1年後に、"
                   "措置日数モデルを並べて比較。"),
        n_obs=len(years), caveats=caveats, caveats_ja=caveats_ja, data=table,
        models=tuple(models), main_suffix=main.suffix,
    )


def main_caveats(main: ITSResult) -> list[tuple[bool, str, str]]:
    return [(True, main.caveats[0], main.caveats_ja[0])] if main.caveats else []


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
    reasons: tuple[str, ...] = ()
    reasons_ja: tuple[str, ...] = ()

    def components(self) -> tuple[Result, ...]:
        return tuple(r for r in (self.period, self.trend_result, self.its,
                                 self.sensitivity_result) if r is not None)

    def headline(self, lang: str = "ja") -> str:
        """The verdict and why, in two sentences."""
        reasons = self.reasons_ja if lang == "ja" else self.reasons
        return ("" if lang == "ja" else " ").join(reasons[:2])

    def key_figures(self) -> list[Estimate]:
        its = self.its
        found = [self.period.estimate("requests.mean_ratio_covid_vs_pre") if self.period else None,
                 its.estimate(its.k("its_level_rr")) if its else None,
                 self.estimate("requests.its_level_mde_ratio")]
        return [e for e in found if e is not None and e.key in {
            "requests.mean_ratio_covid_vs_pre", "requests.its_level_rr",
            "requests.its_level_mde_ratio"}]

    def all_records(self) -> pd.DataFrame:
        """Records of the verdict and of every analysis behind it (each key once)."""
        est = [e for r in self.components() for e in r.estimates] + list(self.estimates)
        return records_frame(est)

    def _text_ja(self) -> str:
        return "".join(self.reasons_ja)

    def _text_en(self) -> str:
        return " ".join(self.reasons)

    def text(self, lang: str = "ja") -> str:  # the verdict already weaves its caveat in
        from ..glossary import check_lang

        return self._text_ja() if check_lang(lang) == "ja" else self._text_en()

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
    negative binomial fit, the fit without FY2017 and the exposure model. The later-break
    variant tests the timing rather than the same hypothesis, so it is reported beside them but
    not required to agree. The minimum detectable level change (80% power, two-sided 5% t-test on the
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
    # the later break tests the timing, not the same hypothesis: it is reported, not required
    agreeing = ok[ok["variant"] != "later_break"]
    distinguishable = False
    for q, e in (("level_change", lv), ("slope_change", sl)):
        if not e.interval_excludes_one:
            continue
        down = e.value < 1
        same = agreeing[agreeing["quantity"].isin([q, "exposure_effect"])]
        agree = (same["ci_high"] < 1) if down else (same["ci_low"] > 1)
        distinguishable = distinguishable or bool(agree.all())
    n_excl = int(((ok["ci_low"] > 1) | (ok["ci_high"] < 1)).sum())
    span = _years_text(years)
    span_ja = _years_text(years, "ja")

    en = [
        f"Verdict: {'the data distinguish' if distinguishable else 'the data cannot distinguish'} "
        f"a COVID effect from the decline that was already under way.",
        f"Requests averaged {fmt(ratio.value)} times as many a year in the COVID period as before "
        f"it {fmt_ci(ratio.ci_low, ratio.ci_high, 'en')}, but they were falling before COVID: "
        f"the trend over {span} is {fmt(tr_e.value)} per year {fmt_ci(tr_e.ci_low, tr_e.ci_high, 'en')}, "
        f"and the pre-COVID segment alone {fmt(pre.value)} per year {fmt_ci(pre.ci_low, pre.ci_high, 'en')}.",
        f"Against that trend the level change at FY{break_year} is {fmt(lv.value)} "
        f"{fmt_ci(lv.ci_low, lv.ci_high, 'en')} and the slope change {fmt(sl.value)} "
        f"{fmt_ci(sl.ci_low, sl.ci_high, 'en')}"
        + (f"; COVID-period requests were {fmt(oe.value)} times the projection of the pre-COVID "
           f"trend {fmt_ci(oe.ci_low, oe.ci_high, 'en').replace('CI', 'range')}." if oe_informative
           else f". The projection of the pre-COVID trend rests on {n_base} baseline years and is "
           "too uncertain to weigh (its range includes 1), so it plays no part in this verdict."),
        f"{n_excl} of the {len(ok)} estimates in the sensitivity analyses (excluding FY2017, a "
        "later break, negative binomial, days under measures) have intervals excluding 1"
        + (", and they do not agree in direction." if n_excl and not distinguishable else "."),
        f"With {len(years)} yearly points and {fit.df_resid} residual degrees of freedom, only a "
        f"drop in level to {fmt(mde, 2)} times the trend (a fall of {fmt(100 * (1 - mde), 2)}% or "
        f"more) or a rise to {fmt(mde_up, 2)} times would be detected with 80% power.",
        "What would settle it: monthly or quarterly request counts for several years before and "
        f"after FY{break_year}, so that the timing of each measure can be matched to the counts; "
        f"counts by ward or まちづくりセンター; counts after FY{period.end}, to see whether the "
        "latest rebound continues; and a comparison channel that COVID did not touch.",
    ]
    ja = [
        f"判定：{len(years)}点の年度データでは、コロナの影響とそれ以前から続いていた減少を"
        f"{'区別できる' if distinguishable else '区別できない'}。",
        f"コロナ期間の年平均はコロナ前の{fmt(ratio.value)}倍{fmt_ci(ratio.ci_low, ratio.ci_high, 'ja')}だが、"
        f"件数はコロナ前から減っていた（{span_ja}の傾向は1年あたり{fmt(tr_e.value)}倍"
        f"{fmt_ci(tr_e.ci_low, tr_e.ci_high, 'ja')}、コロナ前だけでは{fmt(pre.value)}倍"
        f"{fmt_ci(pre.ci_low, pre.ci_high, 'ja')}）。",
        f"その傾向に対する{break_year}年度の水準の変化は{fmt(lv.value)}倍"
        f"{fmt_ci(lv.ci_low, lv.ci_high, 'ja')}、傾きの変化は{fmt(sl.value)}倍"
        f"{fmt_ci(sl.ci_low, sl.ci_high, 'ja')}"
        + (f"で、コロナ期間の実績はコロナ前の傾向を延長した値の{fmt(oe.value)}倍"
           f"{fmt_ci(oe.ci_low, oe.ci_high, 'ja').replace('信頼区間', '範囲')}だった。" if oe_informative
           else f"である。コロナ前の傾向の延長は{n_base}年度分の基準期間に基づき、不確かさが大きい"
           "（範囲が1を含む）ため、この判定には用いない。"),
        f"感度分析（2017年度除外、区切りを後ろにずらす、負の二項モデル、措置日数）の{len(ok)}個の推定の"
        f"うち、区間が1を含まないものは{n_excl}個"
        + ("で、方向もそろっていない。" if n_excl and not distinguishable else "である。"),
        f"{len(years)}点・残差自由度{fit.df_resid}では、水準が傾向の{fmt(mde, 2)}倍以下に下がる"
        f"（{fmt(100 * (1 - mde), 2)}%以上の減少）か{fmt(mde_up, 2)}倍以上に上がる変化でなければ、"
        "80%の検出力で検出できない。",
        f"決着をつけるには、{break_year}年度の前後数年にわたる月別または四半期別の件数（各措置の時期と照合できる）、"
        f"区別・まちづくりセンター別の件数、{period.end + 1}年度以降の件数（直近の回復が続くか）、"
        "コロナの影響を受けない比較対象の窓口のデータが必要である。",
    ]
    caveats, caveats_ja = join_caveats([
        (True,
         "The verdict is about what these yearly totals can show; it is not evidence that COVID "
         "had no effect.",
         "この判定は年度合計のデータで示せることについての判断であり、コロナの影響がなかったことの証拠ではない。"),
        *[(True, c, cj) for c, cj in zip(its.caveats[:2], its.caveats_ja[:2], strict=True)],
        (START_UP_FY in years,
         "The document itself attributes the FY2017 peak to the start-up year and the FY2020–FY2023 "
         "fall to COVID; the statistics can neither confirm nor refute the second claim.",
         "文書自身は2017年度の多さを設置初年度に、2020〜2023年度の減少をコロナに帰しているが、"
         "統計的には後者を確かめることも否定することもできない。"),
    ])
    return VerdictResult(
        title_key="title_requests_verdict",
        estimates=(
            Estimate("requests.its_level_mde_ratio", mde, unit="rate ratio (80% power, 5% two-sided)"),
            Estimate("requests.verdict_distinguishable", float(distinguishable),
                     unit="indicator (1 = distinguishable)"),
        ),
        method=("Decision rule: the main ITS level or slope interval excludes 1 and the estimable "
                "negative binomial, excluding-FY2017 and exposure models agree in direction with "
                "intervals excluding 1 (every interval dispersion-aware: quasi-Poisson or NB2 with "
                "t quantiles; no exact Poisson test enters); minimum detectable change from the "
                f"main model's standard error. Periods: {period.describe(years)}."),
        method_ja=("判定規則：主分析の水準または傾きの変化の区間が1を含まず、推定可能な負の二項モデル・"
                   "2017年度除外・措置日数モデルが同じ方向で区間が1を含まないこと（区間はすべて過分散を考慮した"
                   "準ポアソンまたは負の二項のt分布による区間で、ポアソン分布を仮定した正確検定は用いない）。"
                   f"検出可能な最小の変化は主分析の標準誤差から計算。期間：{period.describe(years, 'ja')}。"),
        n_obs=len(years), caveats=caveats, caveats_ja=caveats_ja,
        data=d.assign(verdict_distinguishable=distinguishable),
        distinguishable=distinguishable, period=per, trend_result=tr, its=its,
        sensitivity_result=sens, reasons=tuple(en), reasons_ja=tuple(ja),
    )
