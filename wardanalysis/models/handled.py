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
from ..results import Estimate, Result, fmt, fmt_ci, fmt_pct, join_caveats
from . import _input

__all__ = ["HandledShareResult", "handled_share"]

_COLUMNS = ("fiscal_year", "requests", "requests_handled")


@dataclass(frozen=True, eq=False)
class HandledShareResult(Result):
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
    low, high = stats.wilson_interval(s, n)
    X = pd.DataFrame({"const": 1.0, "year": (years - years[0]).astype(float)})
    fit = stats.fit_quasi_binomial(s, n, X, what="the handled-share trend")
    eta, se = fit.linear_predictor(X)
    expit = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    table = pd.DataFrame({
        "fiscal_year": years, "requests": n, "requests_handled": s, "not_handled": n - s,
        "share": s / n, "ci_low": low, "ci_high": high, "fitted": expit(eta),
        "fitted_ci_low": expit(eta - fit.crit * se), "fitted_ci_high": expit(eta + fit.crit * se),
        "pearson_residual": (s - n * expit(eta)) / np.sqrt(n * expit(eta) * (1 - expit(eta))),
    })
    pooled = stats.wilson_interval(s.sum(), n.sum())
    est = [
        Estimate("handled.trend_or_per_year", *fit.ratio("year"), unit="odds ratio per year",
                 interval=f"quasi-binomial Wald, t({fit.df_resid})"),
        Estimate("handled.dispersion", fit.dispersion, unit="Pearson chi2/df"),
        Estimate("handled.pooled_share", s.sum() / n.sum(), float(pooled[0]), float(pooled[1]),
                 unit="share", interval="Wilson"),
    ]
    est += [Estimate(f"handled.share.fy{y}", sh, lo, hi, unit="share", interval="Wilson")
            for y, sh, lo, hi in zip(years, s / n, low, high, strict=True)]
    caveats, caveats_ja = join_caveats([
        (True,
         "Requests count as handled if they had been handled by the time of the report (June "
         "2024), so later fiscal years had less time: part of any fall in the latest years is "
         "a matter of time, not of performance.",
         "対応済は報告時点（2024年6月）までに対応した件数であり、後の年度ほど対応に使えた時間が短い。"
         "最近の年度の割合の低下の一部は時間の問題であり、対応力の低下を意味しない。"),
        (fit.dispersion > 1.5,
         f"The yearly shares vary {fmt(fit.dispersion)} times more than binomial sampling would "
         f"allow (Pearson χ²/df on {fit.df_resid} df); the trend interval is widened accordingly, "
         "while the per-year Wilson intervals describe sampling within a year only.",
         f"年度ごとの割合のばらつきは二項分布の想定の{fmt(fit.dispersion)}倍ある（ピアソンχ²/自由度、"
         f"自由度{fit.df_resid}）。傾向の区間はその分広げてあるが、年度ごとのウィルソン区間は年度内の"
         "標本変動しか表さない。"),
        (True,
         f"There are only {len(years)} yearly points; a straight logistic trend is a summary, "
         "not a model of why the share moved.",
         f"年度データは{len(years)}点しかなく、ロジスティックの直線的傾向は要約にすぎず、"
         "割合が変化した理由を説明するものではない。"),
    ])
    return HandledShareResult(
        title_key="title_handled",
        estimates=tuple(est),
        method=(f"Wilson intervals per year; quasi-binomial logistic GLM of handled out of requests "
                f"on fiscal year, (successes, failures) endog, Pearson χ²/df dispersion, "
                f"t({fit.df_resid}) intervals."),
        method_ja=(f"年度ごとにウィルソン区間。対応済件数／要望・相談件数を年度で説明する準二項ロジスティック"
                   f"GLM（過分散＝ピアソンχ²/自由度、t分布・自由度{fit.df_resid}の区間）。"),
        n_obs=len(years), caveats=caveats, caveats_ja=caveats_ja, data=table, fit=fit,
    )
