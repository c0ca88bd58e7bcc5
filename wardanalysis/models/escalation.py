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
from ..errors import ZeroDenominatorError
from ..results import (
    POISSON_ONLY,
    Estimate,
    Named,
    Pvalue,
    Result,
    Said,
    Years,
    chosen,
    quantiles,
)
from ..text.formats import fmt_count, sentences
from ..text.glossary import check_lang, label
from ..text.messages import message
from . import _input
from .handled import pooled_label, year_share_intervals
from .periods import check_period, covid_period
from .requests import START_UP_FY, ratio_estimate

__all__ = ["EscalationResult", "escalation_patterns"]

_COLUMNS = ("fiscal_year", "requests", "priority_issues", "decided_to_act", "staff_consultations",
            "section_chief_consultations", "coordination_meetings")
#: measure → (numerator column, denominator column, the pooled share's estimate key)
#: A pooled interval wider than this (as a share) is said to pin the share down hardly at all.
WIDE_INTERVAL = 0.5
MEASURES = {
    "priority_rate": ("priority_issues", "requests", "priority_rate"),
    "decided_share": ("decided_to_act", "priority_issues", "decided_share"),
    "settled_staff": ("settled_staff", "priority_issues", "first_level_share"),
    "settled_section_chief": ("settled_section_chief", "priority_issues", "second_level_share"),
    "settled_coordination": ("settled_coordination", "priority_issues", "third_level_share"),
}


#: the charts of ``EscalationResult.plot(kind=…)`` and their titles: requests → priority issues →
#: decided to act per year (log scale); priority issues per year stacked by the level settled at
_CHARTS = {"funnel": "title_escalation_funnel", "levels": "title_escalation_levels"}


@dataclass(frozen=True, eq=False, repr=False)
class EscalationResult(Result):
    sources = ("needs_reflection",)
    #: each headline figure, then the same without the start-up year (FY2017)
    SUMMARY_KEYS = ("escalation.priority_rate_or_covid_vs_pre",
                    f"escalation.priority_rate_or_covid_vs_pre.excl_fy{START_UP_FY}",
                    "escalation.first_level_share",
                    f"escalation.first_level_share.excl_fy{START_UP_FY}",
                    "escalation.priority_rate_trend_or_per_year",
                    f"escalation.priority_rate_trend_or_per_year.excl_fy{START_UP_FY}")
    counts: pd.DataFrame | None = None
    fit: stats.GLMFit | None = None

    def headline(self, lang: str = "ja") -> str:
        """How far issues go (the question's answer), then the COVID comparison, each with its
        value without FY2017 (the text's sentences about them, not the counts or the trend)."""
        lang = check_lang(lang)
        return sentences((
            self._said(k, lang) for prefix in ("escalation.text.first_level",
                                               "escalation.text.covid_")
            for k in self.text_keys if k.startswith(prefix)), lang)

    def _chart_title(self, lang: str, kind: str = "funnel") -> str:
        if kind not in _CHARTS:
            raise ValueError(f"unknown kind {kind!r}: use 'funnel' or 'levels'")
        return message(_CHARTS[kind], lang)

    def _plot(self, ax: Any, lang: str, kind: str = "funnel") -> None:
        (self._plot_funnel if kind == "funnel" else self._plot_levels)(ax, lang)

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
                ax.annotate(fmt_count(v), (y, max(v, 1)), xytext=(0, dy),
                            textcoords="offset points", ha="center", fontsize=8.5, color=color)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(lambda v, _: fmt_count(v))
        ax.set_ylim(0.5, c["requests"].max() * 2.5)
        plotting.finish_axes(ax, lang, years=c["fiscal_year"], ylabel="cases_log_scale",
                             legend="upper right", fontsize=9, ncols=3)

    def _plot_levels(self, ax: Any, lang: str) -> None:
        from .. import plotting

        c = self.counts
        levels = (("settled_staff", plotting.COLORS["level1"]),
                  ("settled_section_chief", plotting.COLORS["level2"]),
                  ("settled_coordination", plotting.COLORS["level3"]))
        # a segment's count inside it only where the segment is taller than its label (about 6%
        # of the axis at the printed size); the table gives every count
        tall = max(3.0, 0.06 * float(c[[col for col, _ in levels]].sum(axis=1).max()))
        bottom = np.zeros(len(c))
        for col, color in levels:
            vals = c[col].to_numpy(float)
            ax.bar(c["fiscal_year"], vals, bottom=bottom, color=color, width=0.6,
                   label=label(col, lang))
            for y, b, v in zip(c["fiscal_year"], bottom, vals, strict=True):
                if v >= tall:
                    ax.annotate(fmt_count(v), (y, b + v / 2), ha="center", va="center",
                                fontsize=9, color=plotting.text_color_on(color))
            bottom += vals
        for y, tot in zip(c["fiscal_year"], bottom, strict=True):
            ax.annotate(f"{int(tot)}", (y, tot), xytext=(0, 3), textcoords="offset points",
                        ha="center", fontsize=9)
        ax.set_ylim(0, bottom.max() * 1.15 if bottom.max() > 0 else 1)
        plotting.finish_axes(ax, lang, years=c["fiscal_year"], ylabel="priority_issues_count",
                             legend="upper right", fontsize=9)


def _shares(rows: list, scope: str, fy: Any, frame: pd.DataFrame) -> None:
    """One row per measure: the share over the frame's years with the interval of
    :func:`stats.pooled_share` (an intercept-only quasi-binomial GLM)."""
    for measure, (num, den, _) in MEASURES.items():
        s, n = int(frame[num].sum()), int(frame[den].sum())
        if n > 0:
            ps = stats.pooled_share(frame[num], frame[den])
            share, lo, hi = ps.share, ps.ci_low, ps.ci_high
        else:
            share = lo = hi = math.nan
        rows.append({"scope": scope, "fiscal_year": fy, "measure": measure, "count": s,
                     "denominator": n, "share": share, "ci_low": lo, "ci_high": hi})


def _year_rows(c: pd.DataFrame) -> list[dict]:
    """One row per fiscal year and measure: the year's share with the interval every per-year
    share has (:func:`year_share_intervals`: Wilson widened by the series' dispersion)."""
    found = {}
    for measure, (num, den, _) in MEASURES.items():
        low, high, _, _ = year_share_intervals(c[num], c[den], c["fiscal_year"])
        found[measure] = low, high
    rows = []
    for i, fy in enumerate(c["fiscal_year"]):
        for measure, (num, den, _) in MEASURES.items():
            s, n = int(c[num].iloc[i]), int(c[den].iloc[i])
            low, high = found[measure]
            rows.append({"scope": "year", "fiscal_year": fy, "measure": measure, "count": s,
                         "denominator": n, "share": s / n if n else math.nan,
                         "ci_low": low[i] if n else math.nan,
                         "ci_high": high[i] if n else math.nan})
    return rows


def _fit(c: pd.DataFrame, first_year: int, phase: np.ndarray | None, what: str) -> stats.GLMFit:
    """The quasi-binomial GLM of the priority-issue rate: on the year (``phase`` None), or on
    period indicators (COVID against before, years after it apart)."""
    X = pd.DataFrame({"const": 1.0}, index=c.index)
    if phase is None:
        X["year"] = (c["fiscal_year"] - first_year).astype(float)
    else:
        X["covid_period"] = (phase == "during").astype(float)
        if (phase == "after").any():
            X["after_covid"] = (phase == "after").astype(float)
    return stats.fit_quasi_binomial(c["priority_issues"], c["requests"], X, what=what)


def settlement_levels(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with the level at which each priority issue was settled (the consultation counts
    are cumulative: see the module's docstring)."""
    return df.assign(
        settled_staff=df["staff_consultations"] - df["section_chief_consultations"],
        settled_section_chief=df["section_chief_consultations"] - df["coordination_meetings"],
        settled_coordination=df["coordination_meetings"])


def escalation_patterns(needs_reflection: pd.DataFrame | None = None, *,
                        covid_start: int | str | None = None, covid_end: int | str | None = None,
                        break_year: int | str | None = None,
                        data_dir: str | Path | None = None) -> EscalationResult:
    """The escalation funnel and the settlement levels, per fiscal year and pooled.

    ``table()``: one row per scope (``year``, ``all_years``, ``pre_covid``, ``covid``,
    ``after_covid``), fiscal year and measure (:data:`MEASURES`); a year's share has its Wilson
    interval widened by the series' dispersion, a pooled share that of an intercept-only
    quasi-binomial GLM. Keys
    ``escalation.<name>``: ``priority_rate_trend_or_per_year``, ``priority_rate_dispersion``,
    ``priority_rate_or_covid_vs_pre`` (``.exact``: Fisher's test, flagged ``poisson_only``), the
    pooled shares of :data:`MEASURES` and ``first_level_share_differs_p``; the trend, the period
    odds ratio, the priority rate and the first-level share also ``.excl_fy2017``.
    """
    df = _input.frame(needs_reflection, "needs_reflection", _COLUMNS, data_dir, by_year=True)
    _input.nonzero(df, "requests", "the priority-issue rate")
    _input.require_years(df, 3, "the escalation analysis")
    years = df["fiscal_year"].tolist()
    period = covid_period(covid_start, covid_end, break_year=break_year, data_dir=data_dir)
    check_period(period, years, 1, 1)
    phase = period.phase(years)
    if df["priority_issues"].sum() == 0:
        raise ZeroDenominatorError("the settlement-level shares", "priority_issues",
                                   "no priority issue in any fiscal year")
    c = settlement_levels(df[list(_COLUMNS)])

    rows = _year_rows(c)
    pre, cov = c[phase == "before"], c[phase == "during"]
    for scope, frame in (("all_years", c), ("pre_covid", pre), ("covid", cov),
                         ("after_covid", c[phase == "after"])):
        if not frame.empty:
            _shares(rows, scope, pd.NA, frame)
    table = pd.DataFrame(rows).astype({"fiscal_year": "Int64"})

    fit = _fit(c, years[0], None, "the priority-issue rate trend")
    fit_period = _fit(c, years[0], phase, "the priority-issue rate, COVID against before")
    fx = stats.fisher_exact_2x2(int(cov["priority_issues"].sum()), int(cov["requests"].sum()),
                                int(pre["priority_issues"].sum()), int(pre["requests"].sum()))
    est = [
        ratio_estimate("escalation.priority_rate_trend_or_per_year", fit, "year",
                       "odds ratio per year", "binomial"),
        Estimate("escalation.priority_rate_dispersion", fit.dispersion, unit="Pearson chi2/df"),
        ratio_estimate("escalation.priority_rate_or_covid_vs_pre", fit_period, "covid_period",
                       "odds ratio", "binomial", "GLM on period indicators"),
        Estimate("escalation.priority_rate_or_covid_vs_pre.exact", fx.odds_ratio, fx.ci_low,
                 fx.ci_high, unit="odds ratio", p_value=fx.p_value, flags=(POISSON_ONLY,),
                 interval="Fisher's exact test, conditional MLE; valid only if the counts were "
                          "binomial"),
    ]
    x = f".excl_fy{START_UP_FY}"
    rest = c[c["fiscal_year"] != START_UP_FY]
    startup = START_UP_FY in years
    excl = startup and (rest["fiscal_year"] < period.start).any() and len(rest) >= 3
    if excl:
        fit_x = _fit(rest, years[0], period.phase(rest["fiscal_year"]),
                     "the priority-issue rate without FY2017")
        fit_r = _fit(rest, years[0], None, "the priority-issue rate trend without FY2017")
        est += [ratio_estimate(f"escalation.priority_rate_or_covid_vs_pre{x}", fit_x,
                               "covid_period", "odds ratio", "binomial",
                               "GLM on period indicators"),
                ratio_estimate(f"escalation.priority_rate_trend_or_per_year{x}", fit_r, "year",
                               "odds ratio per year", "binomial")]
    for num, den, key in MEASURES.values():
        unit = "share of requests" if den == "requests" else "share of priority issues"
        with_excl = excl and key in ("priority_rate", "first_level_share")
        for suffix, frame in (("", c), *([(x, rest)] if with_excl else [])):
            ps = stats.pooled_share(frame[num], frame[den])
            est.append(Estimate(f"escalation.{key}{suffix}", ps.share, ps.ci_low, ps.ci_high,
                                unit=unit, interval=pooled_label(ps)))
    first_p = stats.fisher_exact_rx2(c["settled_staff"], c["priority_issues"])
    exact_p = stats.fisher_rx2_method(c["priority_issues"]) == "exact"
    est.append(Estimate("escalation.first_level_share_differs_p", first_p,
                        unit="p-value (the share is the same every year)", p_value=first_p,
                        interval="Fisher's exact test on the years x 2 table (every table "
                                 "enumerated)" if exact_p else
                                 f"Fisher's test on the years x 2 table, Monte Carlo "
                                 f"({fmt_count(stats.FISHER_RESAMPLES)} draws)"))
    no_priority = c.loc[c["priority_issues"] == 0, "fiscal_year"].tolist()
    n_startup = int(c.loc[c["fiscal_year"] == START_UP_FY, "priority_issues"].sum())
    n_all, decided = int(c["priority_issues"].sum()), int(c["decided_to_act"].sum())
    small = c.loc[c["priority_issues"] < 10, "fiscal_year"].tolist()
    by_key = {e.key: e for e in est}
    trend_or = by_key["escalation.priority_rate_trend_or_per_year"]
    covid_or = by_key["escalation.priority_rate_or_covid_vs_pre"]
    trend_x, covid_x, first_x = (by_key.get(f"escalation.{k}{x}") for k in (
        "priority_rate_trend_or_per_year", "priority_rate_or_covid_vs_pre", "first_level_share"))
    facts = {
        "requests": int(c["requests"].sum()), "n_all": n_all, "decided": decided,
        "n_not_decided": n_all - decided, "trend": trend_or, "covid": covid_or,
        "exact": by_key["escalation.priority_rate_or_covid_vs_pre.exact"],
        "first": by_key["escalation.first_level_share"], "small": Years(small),
        "no_priority": Years(no_priority), "dispersion": fit_period.dispersion,
        "fisher_p": Pvalue(fx.p_value), "first_p": Pvalue(first_p), "n_startup": n_startup,
        "n_pre": int(pre["priority_issues"].sum()), "startup_share": n_startup / n_all,
        "startup_year": START_UP_FY, "trend_q": quantiles(fit.quantiles),
        "period_q": quantiles(fit_period.quantiles), "phases": period.phases(years),
        "trend_x": trend_x, "covid_x": covid_x, "first_x": first_x,
        "first_p_method": Said("escalation.first_p." + ("exact" if exact_p else "monte_carlo"),
                               {"draws": stats.FISHER_RESAMPLES}),
    }
    # the widest pooled interval, said plainly when it spans more than half the scale
    pooled = table[table["scope"] != "year"]
    widest = pooled.loc[(pooled["ci_high"] - pooled["ci_low"]).idxmax()]
    wide = bool(widest["ci_high"] - widest["ci_low"] > WIDE_INTERVAL)
    if wide:
        facts["wide"] = Named(*(f"{label(widest['scope'], lang)}の{label(widest['measure'], lang)}"
                                if lang == "ja" else
                                f"{label(widest['measure'], lang)} ({label(widest['scope'], lang)})"
                                for lang in ("ja", "en")))
        facts.update(wide_count=int(widest["count"]), wide_n=int(widest["denominator"]),
                     wide_share=float(widest["share"]), wide_low=float(widest["ci_low"]),
                     wide_high=float(widest["ci_high"]))
    differs = first_p < stats.ALPHA
    # with the start-up year in the data, a fall of the all-years trend is read as the step
    # after it, beside the trend without it; a rise keeps the plain sentence
    step = trend_x is not None and trend_or.value < 1
    step_excludes_one = step and trend_x.interval_excludes_one
    return EscalationResult(
        "title_escalation", est, facts=facts,
        text_keys=chosen([
            (True, "escalation.text.counts"),
            (not step and trend_or.value < 1, "escalation.text.trend_fell"),
            (not step and trend_or.value >= 1, "escalation.text.trend_rose"),
            (step and not step_excludes_one, "escalation.text.trend_step_includes_one"),
            (step_excludes_one, "escalation.text.trend_step_excludes_one"),
            (not covid_or.interval_excludes_one, "escalation.text.covid_includes_one"),
            (covid_or.interval_excludes_one, "escalation.text.covid_excludes_one"),
            (covid_x is not None, "escalation.text.covid_without_startup"),
            (True, "escalation.text.exact"),
            (first_x is None and not differs, "escalation.text.first_level"),
            (first_x is None and differs, "escalation.text.first_level_differs"),
            (first_x is not None and not differs, "escalation.text.first_level_same_excl"),
            (first_x is not None and differs, "escalation.text.first_level_differs_excl"),
        ]),
        method_key="escalation.method",
        caveat_keys=chosen([
            (True, "escalation.caveat.levels"),
            (bool(small), "escalation.caveat.small"),
            (bool(no_priority), "escalation.caveat.no_priority"),
            (True, "escalation.caveat.dispersion"),
            (wide, "escalation.caveat.wide"),
            (differs, "escalation.caveat.first_level_differs"),
            (startup, "escalation.caveat.startup"),
        ]),
        n_obs=len(years), data=table, counts=c, fit=fit)
