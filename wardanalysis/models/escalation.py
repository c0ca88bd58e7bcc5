"""Section 3: how requests escalate, and the level at which priority issues are settled.

The funnel, per fiscal year: requests (要望・相談) → ward priority issues (区重要課題) → decided
to act (「対応する」とした件数). The consultation levels are cumulative (every priority issue had a
担当者協議; a 課長協議 case had one first; a 地域課題調整会議 case had both), so each priority
issue was settled at exactly one level:

- staff consultation only: 担当者協議 − 課長協議
- section-chief consultation: 課長協議 − 地域課題調整会議
- coordination meeting: 地域課題調整会議
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..glossary import check_lang, label
from ..results import Estimate, Result, fmt, fmt_ci, fmt_p, fmt_pct, join_caveats
from . import _input
from .errors import InvalidCountError, ZeroDenominatorError
from .requests import COVID_BREAK_FY, START_UP_FY, _check_break

__all__ = ["EscalationResult", "escalation_patterns"]

_COLUMNS = ("fiscal_year", "requests", "priority_issues", "decided_to_act", "staff_consultations",
            "section_chief_consultations", "coordination_meetings")
#: measure → (numerator column, denominator column)
MEASURES = {
    "priority_rate": ("priority_issues", "requests"),
    "decided_share": ("decided_to_act", "priority_issues"),
    "settled_staff": ("settled_staff", "priority_issues"),
    "settled_section_chief": ("settled_section_chief", "priority_issues"),
    "settled_coordination": ("settled_coordination", "priority_issues"),
}


@dataclass(frozen=True, eq=False)
class EscalationResult(Result):
    counts: pd.DataFrame | None = None
    fit: stats.GLMFit | None = None
    break_year: int = COVID_BREAK_FY

    def _text_ja(self) -> str:
        t = self.estimate("escalation.priority_rate_trend_or_per_year")
        f = self.estimate("escalation.first_level_share")
        o = self.estimate("escalation.priority_rate_or_covid_vs_pre")
        c = self.counts
        return (f"{int(c['requests'].sum()):,}件の要望・相談のうち{int(c['priority_issues'].sum())}件が"
                f"区重要課題となり、{int(c['decided_to_act'].sum())}件が「対応する」とされた。区重要課題の"
                f"割合は1年あたりオッズ比{fmt(t.value)}{fmt_ci(t.ci_low, t.ci_high, 'ja')}で低下し、"
                f"コロナ期間のコロナ前に対するオッズ比は{fmt(o.value)}{fmt_ci(o.ci_low, o.ci_high, 'ja')}"
                f"（フィッシャーの正確検定 {fmt_p(o.p_value, 'ja')}）。区重要課題の{fmt_pct(f.value)}"
                f"{fmt_ci(f.ci_low, f.ci_high, 'ja', pct=True)}は最初の段階（担当者協議）で決着した。")

    def _text_en(self) -> str:
        t = self.estimate("escalation.priority_rate_trend_or_per_year")
        f = self.estimate("escalation.first_level_share")
        o = self.estimate("escalation.priority_rate_or_covid_vs_pre")
        c = self.counts
        return (f"Of {int(c['requests'].sum()):,} requests, {int(c['priority_issues'].sum())} became "
                f"ward priority issues and {int(c['decided_to_act'].sum())} were decided to be acted "
                f"on. The priority-issue rate fell by an odds ratio of {fmt(t.value)} per year "
                f"{fmt_ci(t.ci_low, t.ci_high, 'en')}; COVID period against pre-COVID, odds ratio "
                f"{fmt(o.value)} {fmt_ci(o.ci_low, o.ci_high, 'en')} (Fisher's exact test "
                f"{fmt_p(o.p_value)}). {fmt_pct(f.value)} "
                f"{fmt_ci(f.ci_low, f.ci_high, 'en', pct=True)} of priority issues were settled at "
                "the first level (staff consultation).")

    def plot(self, lang: str = "ja", ax: Any = None, kind: str = "funnel") -> tuple[Any, Any]:
        """``kind='funnel'``: requests → priority issues → decided to act per year (log scale);
        ``kind='levels'``: priority issues per year stacked by the level at which they were
        settled."""
        check_lang(lang)
        if kind not in ("funnel", "levels"):
            raise ValueError(f"unknown kind {kind!r}: use 'funnel' or 'levels'")
        from .. import plotting

        fig, ax = plotting.figure_and_axes(ax)
        (self._plot_funnel if kind == "funnel" else self._plot_levels)(ax, lang)
        return fig, ax

    def _plot(self, ax: Any, lang: str) -> None:
        self._plot_funnel(ax, lang)

    def _plot_funnel(self, ax: Any, lang: str) -> None:
        from .. import plotting

        c = self.counts
        for col, color, marker, dy in (("requests", plotting.COLORS["level1"], "o", 7),
                                       ("priority_issues", plotting.COLORS["level2"], "s", 7),
                                       ("decided_to_act", plotting.COLORS["level3"], "D", -15)):
            # zero counts cannot sit on a log axis: they are left out of the line and labelled 0
            vals = c[col].where(c[col] > 0)
            ax.plot(c["fiscal_year"], vals, marker=marker, color=color, lw=2, markersize=7,
                    label=label(col, lang))
            for y, v in zip(c["fiscal_year"], c[col], strict=True):
                ax.annotate(f"{int(v):,}", (y, max(v, 1)), xytext=(0, dy), textcoords="offset points",
                            ha="center", fontsize=8.5, color=color)
        ax.set_yscale("log")
        from matplotlib.ticker import FuncFormatter

        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.set_ylim(0.5, c["requests"].max() * 2.5)
        plotting.set_fy_axis(ax, c["fiscal_year"], lang)
        ax.set_ylabel(label("cases_log_scale", lang))
        ax.set_title(label("title_escalation_funnel", lang))
        ax.legend(loc="upper right", fontsize=9, ncols=3)

    def _plot_levels(self, ax: Any, lang: str) -> None:
        from .. import plotting

        c = self.counts
        bottom = np.zeros(len(c))
        for col, color in (("settled_staff", plotting.COLORS["level1"]),
                           ("settled_section_chief", plotting.COLORS["level2"]),
                           ("settled_coordination", plotting.COLORS["level3"])):
            vals = c[col].to_numpy(float)
            ax.bar(c["fiscal_year"], vals, bottom=bottom, color=color, width=0.6,
                   label=label(col, lang))
            for y, b, v in zip(c["fiscal_year"], bottom, vals, strict=True):
                if v >= 3:
                    ax.annotate(f"{int(v)}", (y, b + v / 2), ha="center", va="center",
                                fontsize=8, color="white")
            bottom += vals
        for y, tot in zip(c["fiscal_year"], bottom, strict=True):
            ax.annotate(f"{int(tot)}", (y, tot), xytext=(0, 3), textcoords="offset points",
                        ha="center", fontsize=9)
        plotting.set_fy_axis(ax, c["fiscal_year"], lang)
        ax.set_ylabel(label("priority_issues_count", lang))
        ax.set_ylim(0, bottom.max() * 1.15 if bottom.max() > 0 else 1)
        ax.set_title(label("title_escalation_levels", lang))
        ax.legend(loc="upper right", fontsize=9)


def _shares(rows: list, scope: str, fy: Any, frame: pd.DataFrame) -> None:
    for measure, (num, den) in MEASURES.items():
        s, n = int(frame[num].sum()), int(frame[den].sum())
        if n > 0:
            lo, hi = stats.wilson_interval(s, n)
            share, lo, hi = s / n, float(lo), float(hi)
        else:
            share = lo = hi = math.nan
        rows.append({"scope": scope, "fiscal_year": fy, "measure": measure, "count": s,
                     "denominator": n, "share": share, "ci_low": lo, "ci_high": hi})


def escalation_patterns(needs_reflection: pd.DataFrame | None = None, *,
                        break_year: int = COVID_BREAK_FY,
                        data_dir: str | Path | None = None) -> EscalationResult:
    """The escalation funnel and the settlement levels, per fiscal year and pooled.

    Parameters
    ----------
    needs_reflection
        Columns ``fiscal_year``, ``requests``, ``priority_issues``, ``decided_to_act``,
        ``staff_consultations``, ``section_chief_consultations``, ``coordination_meetings``;
        the shipped data when None.
    break_year
        First fiscal year of the COVID period, for the pre/COVID comparison.

    Raises
    ------
    MissingColumnError, InvalidCountError (a count that breaks the funnel, e.g. more decided
    than priority issues, or staff consultations not equal to priority issues),
    ZeroDenominatorError (a year without requests, or no priority issue at all),
    TooFewYearsError (fewer than three fiscal years), BreakYearError.

    Returns
    -------
    EscalationResult
        ``table()`` is tidy: one row per scope (``year``, ``all_years``, ``pre_covid``,
        ``covid``), fiscal year and measure (``priority_rate``, ``decided_share``,
        ``settled_staff``, ``settled_section_chief``, ``settled_coordination``) with Wilson
        intervals. Keys: ``escalation.priority_rate_trend_or_per_year``,
        ``escalation.priority_rate_dispersion``, ``escalation.priority_rate_or_covid_vs_pre``
        (and ``.excl_fy2017``), ``escalation.priority_rate``, ``escalation.decided_share``,
        ``escalation.first_level_share``, ``escalation.second_level_share``,
        ``escalation.third_level_share``.
    """
    arg = "needs_reflection"
    df = _input.frame(needs_reflection, "needs_reflection", _COLUMNS, data_dir, arg)
    df = _input.fiscal_years(df, arg)
    df = _input.counts(df, _COLUMNS[1:], arg)
    _input.not_above(df, "priority_issues", "requests", arg)
    _input.not_above(df, "decided_to_act", "priority_issues", arg)
    _input.not_above(df, "section_chief_consultations", "staff_consultations", arg)
    _input.not_above(df, "coordination_meetings", "section_chief_consultations", arg)
    bad = df["staff_consultations"] != df["priority_issues"]
    if bad.any():
        raise InvalidCountError(
            f"{arg}: staff_consultations differs from priority_issues in fiscal year(s) "
            f"{df.loc[bad, 'fiscal_year'].tolist()}; the settlement levels assume every priority "
            "issue had a staff consultation"
        )
    _input.nonzero(df, "requests", "the priority-issue rate")
    _input.require_years(df, 3, "the escalation analysis")
    years = df["fiscal_year"].tolist()
    _check_break(break_year, years, 1, 1)
    if df["priority_issues"].sum() == 0:
        raise ZeroDenominatorError("the settlement-level shares", "priority_issues",
                                   "no priority issue in any fiscal year")
    c = df[["fiscal_year", *_COLUMNS[1:]]].copy()
    c["settled_staff"] = c["staff_consultations"] - c["section_chief_consultations"]
    c["settled_section_chief"] = c["section_chief_consultations"] - c["coordination_meetings"]
    c["settled_coordination"] = c["coordination_meetings"]

    rows: list[dict] = []
    for i, fy in enumerate(years):
        _shares(rows, "year", fy, c.iloc[[i]])
    pre = c[c["fiscal_year"] < break_year]
    cov = c[c["fiscal_year"] >= break_year]
    _shares(rows, "all_years", pd.NA, c)
    _shares(rows, "pre_covid", pd.NA, pre)
    _shares(rows, "covid", pd.NA, cov)
    table = pd.DataFrame(rows).astype({"fiscal_year": "Int64"})

    X = pd.DataFrame({"const": 1.0, "year": (c["fiscal_year"] - years[0]).astype(float)})
    fit = stats.fit_quasi_binomial(c["priority_issues"], c["requests"], X,
                                   what="the priority-issue rate trend")

    def fisher(a: pd.DataFrame, b: pd.DataFrame) -> stats.FisherResult:
        return stats.fisher_exact_2x2(int(b["priority_issues"].sum()), int(b["requests"].sum()),
                                      int(a["priority_issues"].sum()), int(a["requests"].sum()))

    fx = fisher(pre, cov)

    def pooled(measure: str, frame_scope: str = "all_years") -> tuple[float, float, float]:
        r = table[(table["scope"] == frame_scope) & (table["measure"] == measure)].iloc[0]
        return float(r["share"]), float(r["ci_low"]), float(r["ci_high"])

    fisher_interval = "conditional MLE, exact (Fisher) interval"
    est = [
        Estimate("escalation.priority_rate_trend_or_per_year", *fit.ratio("year"),
                 unit="odds ratio per year", interval=f"quasi-binomial Wald, t({fit.df_resid})"),
        Estimate("escalation.priority_rate_dispersion", fit.dispersion, unit="Pearson chi2/df"),
        Estimate("escalation.priority_rate_or_covid_vs_pre", fx.odds_ratio, fx.ci_low, fx.ci_high,
                 unit="odds ratio", interval=fisher_interval, p_value=fx.p_value),
    ]
    pre_x = pre[pre["fiscal_year"] != START_UP_FY]
    fx2 = None
    if START_UP_FY in years and not pre_x.empty:
        fx2 = fisher(pre_x, cov)
        est.append(Estimate(f"escalation.priority_rate_or_covid_vs_pre.excl_fy{START_UP_FY}",
                            fx2.odds_ratio, fx2.ci_low, fx2.ci_high, unit="odds ratio",
                            interval=fisher_interval, p_value=fx2.p_value))
    est += [
        Estimate("escalation.priority_rate", *pooled("priority_rate"), unit="share of requests",
                 interval="Wilson"),
        Estimate("escalation.decided_share", *pooled("decided_share"),
                 unit="share of priority issues", interval="Wilson"),
        Estimate("escalation.first_level_share", *pooled("settled_staff"),
                 unit="share of priority issues", interval="Wilson"),
        Estimate("escalation.second_level_share", *pooled("settled_section_chief"),
                 unit="share of priority issues", interval="Wilson"),
        Estimate("escalation.third_level_share", *pooled("settled_coordination"),
                 unit="share of priority issues", interval="Wilson"),
    ]
    no_priority = c.loc[c["priority_issues"] == 0, "fiscal_year"].tolist()
    n_startup = int(c.loc[c["fiscal_year"] == START_UP_FY, "priority_issues"].sum())
    n_pre = int(pre["priority_issues"].sum())
    small = c.loc[c["priority_issues"] < 10, "fiscal_year"].tolist()
    caveats, caveats_ja = join_caveats([
        (True,
         "The settlement levels are the package's reading of the document's cumulative columns "
         "(each 課長協議 case had a 担当者協議 first); the document does not print the levels "
         "directly.",
         "決着した段階は、文書の累積的な列（課長協議の案件はまず担当者協議を経ている）からの本パッケージの"
         "読み取りであり、文書が直接示した数字ではない。"),
        (bool(small),
         f"Priority issues are few in most years (under 10 in {', '.join(f'FY{y}' for y in small)}), "
         "so the yearly shares have wide intervals and many levels have zero counts.",
         f"区重要課題は多くの年度で少なく（{', '.join(f'{y}年度' for y in small)}は10件未満）、"
         "年度ごとの割合の区間は広く、件数0の段階も多い。"),
        (bool(no_priority),
         f"No priority issue in {', '.join(f'FY{y}' for y in no_priority)}: the shares of priority "
         "issues are undefined there (NaN).",
         f"{', '.join(f'{y}年度' for y in no_priority)}は区重要課題が0件のため、その年度の割合は定義できない（NaN）。"),
        (True,
         "The exact test treats requests as independent; the yearly rates vary more than that "
         f"(dispersion {fmt(fit.dispersion)}), so its p-value overstates the evidence.",
         f"正確検定は要望を互いに独立とみなしているが、年度ごとの割合はそれ以上にばらつく（過分散"
         f"{fmt(fit.dispersion)}）ため、p値は証拠を過大に示す。"),
        (START_UP_FY in years,
         f"FY{START_UP_FY} alone holds {n_startup} of the {n_pre} pre-COVID priority issues; the "
         "document says that from FY2018 more issues were settled in day-to-day cooperation "
         "before becoming priority issues, a change of practice unrelated to COVID (the "
         f"comparison without FY{START_UP_FY} is reported too).",
         f"コロナ前の区重要課題{n_pre}件のうち{n_startup}件が{START_UP_FY}年度である。文書は、2018年度以降は"
         "日常的な連携で解決が図られ区重要課題に選定される案件が減ったとしており、これはコロナと無関係な"
         f"運用の変化である（{START_UP_FY}年度を除いた比較も示した）。"),
    ])
    return EscalationResult(
        title_key="title_escalation",
        estimates=tuple(est),
        method=(f"Wilson intervals for each share; quasi-binomial logistic trend of priority issues "
                f"out of requests (t({fit.df_resid})); Fisher's exact test, FY{break_year} on "
                "against before."),
        method_ja=(f"各割合にウィルソン区間。区重要課題／要望・相談件数の準二項ロジスティック傾向"
                   f"（t分布・自由度{fit.df_resid}）。{break_year}年度以降とそれ以前をフィッシャーの正確検定で比較。"),
        n_obs=len(years), caveats=caveats, caveats_ja=caveats_ja, data=table, counts=c, fit=fit,
        break_year=break_year,
    )
