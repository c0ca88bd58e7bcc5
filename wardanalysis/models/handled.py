"""Section 2: the share of requests handled (``requests_handled / requests``).

Per fiscal year, the share with its Wilson interval; over the years, a logistic (quasi-binomial)
trend, odds ratio per year, with the overdispersion estimated as Pearson chi2 / df from the
counts and the number of requests in each year.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..glossary import label
from ..results import POISSON_ONLY, Estimate, Result, fmt, fmt_ci, fmt_pct, join_caveats
from . import _input
from .requests import _quantiles_ja

__all__ = ["HandledShareResult", "handled_share"]

_COLUMNS = ("fiscal_year", "requests", "requests_handled")


@dataclass(frozen=True, eq=False, repr=False)
class HandledShareResult(Result):
    sources = ("needs_reflection",)
    SUMMARY_KEYS = ("handled.trend_or_per_year",)
    fit: stats.GLMFit | None = None

    def _span(self) -> tuple[int, int]:
        return int(self.data["fiscal_year"].min()), int(self.data["fiscal_year"].max())

    def _text_ja(self) -> str:
        e = self.estimate("handled.trend_or_per_year")
        d = self.data
        a, b = self._span()
        first, last = d.iloc[0], d.iloc[-1]
        return (f"要望・相談のうち対応済の割合は、{a}年度の{fmt_pct(first['share'])}"
                f"{fmt_ci(first['ci_low'], first['ci_high'], 'ja', pct=True)}から{b}年度の"
                f"{fmt_pct(last['share'])}{fmt_ci(last['ci_low'], last['ci_high'], 'ja', pct=True)}へと"
                f"推移し、ロジスティック回帰による傾向はオッズ比で1年あたり{fmt(e.value)}"
                f"{fmt_ci(e.ci_low, e.ci_high, 'ja')}（過分散 {fmt(self.fit.dispersion)}）であった。")

    def _text_en(self) -> str:
        e = self.estimate("handled.trend_or_per_year")
        d = self.data
        a, b = self._span()
        first, last = d.iloc[0], d.iloc[-1]
        return (f"The share of requests handled went from {fmt_pct(first['share'])} "
                f"{fmt_ci(first['ci_low'], first['ci_high'], 'en', pct=True)} in FY{a} to "
                f"{fmt_pct(last['share'])} {fmt_ci(last['ci_low'], last['ci_high'], 'en', pct=True)} "
                f"in FY{b}; the logistic trend is an odds ratio of {fmt(e.value)} per year "
                f"{fmt_ci(e.ci_low, e.ci_high, 'en')} (dispersion {fmt(self.fit.dispersion)}).")

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        ax.fill_between(d["fiscal_year"], d["fitted_ci_low"], d["fitted_ci_high"],
                        color=plotting.COLORS["fit"], alpha=0.2, label=label("fitted_ci95", lang))
        ax.plot(d["fiscal_year"], d["fitted"], color=plotting.COLORS["fit"], lw=2,
                label=label("fitted_trend", lang))
        plotting.interval_points(ax, d["fiscal_year"], d["share"], d["ci_low"], d["ci_high"],
                                 color=plotting.COLORS["observed"],
                                 label_text=label("share_wilson_ci", lang))
        plotting.set_fy_axis(ax, d["fiscal_year"], lang)
        ax.set_ylabel(label("handled_share", lang))
        lo = float(np.nanmin(np.r_[d["ci_low"], d["fitted_ci_low"]]))
        ax.set_ylim(max(0.0, lo - 0.05), 1.0)
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_title(self.title(lang))
        ax.legend(loc="lower left", fontsize=9)


def handled_share(needs_reflection: pd.DataFrame | None = None, *,
                  data_dir: str | Path | None = None) -> HandledShareResult:
    """Share of requests handled per fiscal year and its logistic trend.

    Parameters
    ----------
    needs_reflection
        Columns ``fiscal_year``, ``requests``, ``requests_handled``; the shipped data when None.
    data_dir
        Passed to the loader when ``needs_reflection`` is None.

    Raises
    ------
    MissingColumnError, InvalidCountError, ZeroDenominatorError (a year with no requests),
    TooFewYearsError (fewer than three fiscal years).

    Keys: ``handled.trend_or_per_year`` (quasi-binomial, t interval), ``handled.dispersion``
    (Pearson chi2/df), ``handled.pooled_share`` and ``handled.share.fy<Y>`` (Wilson).
    """
    arg = "needs_reflection"
    df = _input.frame(needs_reflection, "needs_reflection", _COLUMNS, data_dir, arg)
    df = _input.fiscal_years(df, arg)
    df = _input.counts(df, ["requests", "requests_handled"], arg)
    _input.not_above(df, "requests_handled", "requests", arg)
    _input.nonzero(df, "requests", "the handled share")
    _input.require_years(df, 3, "the handled-share trend")
    years = df["fiscal_year"].to_numpy()
    s = df["requests_handled"].to_numpy()
    n = df["requests"].to_numpy()
    X = pd.DataFrame({"const": 1.0, "year": (years - years[0]).astype(float)})
    fit = stats.fit_quasi_binomial(s, n, X, what="the handled-share trend")
    # a year's share borrows the dispersion of the trend (counts divided by it); with fewer than
    # two residual df there is none to borrow, and the plain Wilson interval is binomial-only
    borrowed = fit.df_resid >= 2
    low, high = (stats.scaled_wilson_interval(s, n, fit.dispersion) if borrowed
                 else stats.wilson_interval(s, n))
    year_interval = (f"Wilson on counts divided by the trend's dispersion ({fmt(fit.scale)})"
                     if borrowed else "Wilson; valid only if binomial")
    eta, se = fit.linear_predictor(X)
    expit = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    table = pd.DataFrame({
        "fiscal_year": years, "requests": n, "requests_handled": s, "not_handled": n - s,
        "share": s / n, "ci_low": low, "ci_high": high, "fitted": expit(eta),
        "fitted_ci_low": expit(eta - fit.crit * se), "fitted_ci_high": expit(eta + fit.crit * se),
        "pearson_residual": (s - n * expit(eta)) / np.sqrt(n * expit(eta) * (1 - expit(eta))),
    })
    pooled = stats.pooled_share(s, n, what="the pooled handled share")
    est = [
        Estimate("handled.trend_or_per_year", *fit.ratio("year"), unit="odds ratio per year",
                 interval=f"quasi-binomial Wald, {fit.quantiles}"),
        Estimate("handled.dispersion", fit.dispersion, unit="Pearson chi2/df"),
        Estimate("handled.pooled_share", pooled.share, pooled.ci_low, pooled.ci_high,
                 unit="share", interval=f"quasi-binomial (intercept only), {pooled.quantiles}"),
    ]
    est += [Estimate(f"handled.share.fy{y}", sh, lo, hi, unit="share", interval=year_interval,
                     flags=() if borrowed else (POISSON_ONLY,))
            for y, sh, lo, hi in zip(years, s / n, low, high, strict=True)]
    as_of = _input.as_of_dates(df)
    dates = sorted({d for d in as_of.values() if d is not None})
    unknown = [y for y, d in as_of.items() if d is None]
    caveats, caveats_ja = join_caveats([
        (bool(dates),
         "Requests count as handled if they had been handled by "
         + " or ".join(f"{d:%Y-%m-%d}" for d in dates)
         + " (the date the figures were counted), so later fiscal years had less time: part of "
         "any fall in the latest years is a matter of time, not of performance.",
         "対応済は" + "または".join(f"{d.year}年{d.month}月{d.day}日" for d in dates)
         + "（数字の時点）までに対応した件数であり、後の年度ほど対応に使えた時間が短い。"
         "最近の年度の割合の低下の一部は時間の問題であり、対応力の低下を意味しない。"),
        (bool(unknown),
         f"The as-of date of the handled counts of {', '.join(f'FY{y}' for y in unknown)} is "
         "unknown (a user's rows without an as_of column), so how much time those requests had "
         "to be handled cannot be said.",
         f"{'、'.join(f'{y}年度' for y in unknown)}の対応済の件数は時点が不明（as_of列のない利用者の行）で、"
         "対応に使えた時間はわからない。"),
        (fit.dispersion > 1.5,
         f"The yearly shares vary {fmt(fit.dispersion)} times more than binomial sampling would "
         f"allow (Pearson χ²/df on {fit.df_resid} df); every interval here is widened "
         "accordingly (a year's share by dividing its counts by that dispersion), and the "
         "dispersion itself is poorly estimated from so few degrees of freedom.",
         f"年度ごとの割合のばらつきは二項分布の想定の{fmt(fit.dispersion)}倍ある（ピアソンχ²/自由度、"
         f"自由度{fit.df_resid}）。区間はすべてその分広げてある（各年度の割合は件数をその過分散で割って計算）が、"
         "自由度が少ないため過分散の推定自体も不確かである。"),
        (True,
         f"There are only {len(years)} yearly points; a straight logistic trend is a summary, "
         "not a model of why the share moved.",
         f"年度データは{len(years)}点しかなく、ロジスティックの直線的傾向は要約にすぎず、"
         "割合が変化した理由を説明するものではない。"),
    ])
    return HandledShareResult(
        title_key="title_handled",
        estimates=tuple(est),
        method=(f"Quasi-binomial logistic GLM of handled out of requests on fiscal year, "
                f"(successes, failures) endog, Pearson χ²/df dispersion, {fit.quantiles} "
                "intervals; the pooled share from the intercept-only model; each year's share "
                "with a Wilson interval on counts divided by the trend's dispersion."),
        method_ja=(f"対応済件数／要望・相談件数を年度で説明する準二項ロジスティックGLM（過分散＝ピアソンχ²/自由度、"
                   f"{_quantiles_ja(fit.quantiles)}の区間）。全体の割合は切片のみのモデル、各年度の割合は件数を"
                   "傾向の過分散で割ったウィルソン区間。"),
        n_obs=len(years), caveats=caveats, caveats_ja=caveats_ja, data=table, fit=fit,
    )
