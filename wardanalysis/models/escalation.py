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
from ..results import POISSON_ONLY, Estimate, Pct, Pvalue, Quantiles, Result, Said, Years, chosen
from ..text.glossary import check_lang, label
from ..text.messages import message
from . import _input
from .periods import CovidPeriod, check_period, covid_period
from .requests import COVID_BREAK_FY, START_UP_FY

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
    #: the sentences the summary box leads with, in this order: how far issues go (the
    #: question's answer), then the COVID comparison
    HEADLINE_TEXTS = ("escalation.text.first_level", "escalation.text.covid_")
    counts: pd.DataFrame | None = None
    fit: stats.GLMFit | None = None
    break_year: int = COVID_BREAK_FY
    period: CovidPeriod = CovidPeriod(COVID_BREAK_FY, 2023)
    first_level_p: float = math.nan

    def headline(self, lang: str = "ja") -> str:
        """How far issues go, then the COVID comparison, each with its value without FY2017
        (the text's sentences about them, not the counts or the trend)."""
        lang = check_lang(lang)
        return ("" if lang == "ja" else " ").join(
            self._said(k, lang) for prefix in self.HEADLINE_TEXTS for k in self.text_keys
            if isinstance(k, str) and k.startswith(prefix))

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
        ax.set_title(message("title_escalation_funnel", lang))
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
                                fontsize=9, color=plotting.text_color_on(color))
            bottom += vals
        for y, tot in zip(c["fiscal_year"], bottom, strict=True):
            ax.annotate(f"{int(tot)}", (y, tot), xytext=(0, 3), textcoords="offset points",
                        ha="center", fontsize=9)
        plotting.set_fy_axis(ax, c["fiscal_year"], lang)
        ax.set_ylabel(label("priority_issues_count", lang))
        ax.set_ylim(0, bottom.max() * 1.15 if bottom.max() > 0 else 1)
        ax.set_title(message("title_escalation_levels", lang))
        ax.legend(loc="upper right", fontsize=9)


def _shares(rows: list, scope: str, fy: Any, frame: pd.DataFrame, pooled: bool = False) -> None:
    """One row per measure: a single year's share with its Wilson interval, or (``pooled``) the
    share over several years with the quasi-binomial interval of :func:`stats.pooled_share`."""
    for measure, (num, den) in MEASURES.items():
        s, n = int(frame[num].sum()), int(frame[den].sum())
        if n > 0 and pooled:
            ps = stats.pooled_share(frame[num], frame[den])
            share, lo, hi = ps.share, ps.ci_low, ps.ci_high
        elif n > 0:
            lo, hi = stats.wilson_interval(s, n)
            share, lo, hi = s / n, float(lo), float(hi)
        else:
            share = lo = hi = math.nan
        rows.append({"scope": scope, "fiscal_year": fy, "measure": measure, "count": s,
                     "denominator": n, "share": share, "ci_low": lo, "ci_high": hi})


def _period_or(priority: pd.DataFrame, phase: np.ndarray, what: str
               ) -> tuple[tuple[float, float, float], stats.GLMFit]:
    """The odds ratio of the priority-issue rate, COVID period against before, from a
    quasi-binomial GLM on period indicators (scale from that model, t on its residual df)."""
    X = pd.DataFrame({"const": 1.0, "covid_period": (phase == "during").astype(float)})
    if (phase == "after").any():
        X["after_covid"] = (phase == "after").astype(float)
    fit = stats.fit_quasi_binomial(priority["priority_issues"], priority["requests"], X, what=what)
    return fit.ratio("covid_period"), fit


def escalation_patterns(needs_reflection: pd.DataFrame | None = None, *,
                        covid_start: int | str | None = None, covid_end: int | str | None = None,
                        break_year: int | str | None = None,
                        data_dir: str | Path | None = None) -> EscalationResult:
    """The escalation funnel and the settlement levels, per fiscal year and pooled.

    Parameters
    ----------
    needs_reflection
        Columns ``fiscal_year``, ``requests``, ``priority_issues``, ``decided_to_act``,
        ``staff_consultations``, ``section_chief_consultations``, ``coordination_meetings``;
        the shipped data when None.
    covid_start, covid_end
        The COVID period for the before/during comparison (the dataset ``covid_period`` when
        None: FY2020–FY2023); years after it form their own period. ``break_year`` is another
        name of ``covid_start``.

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
        ``covid``, ``after_covid``), fiscal year and measure (``priority_rate``,
        ``decided_share``, ``settled_staff``, ``settled_section_chief``,
        ``settled_coordination``); a year's share has its Wilson interval (sampling within that
        year), a pooled share the interval of an intercept-only quasi-binomial GLM over the
        years. Keys: ``escalation.priority_rate_trend_or_per_year`` (and ``.excl_fy2017``),
        ``escalation.priority_rate_dispersion``, ``escalation.priority_rate_or_covid_vs_pre``
        (quasi-binomial on period indicators; ``.excl_fy2017``; ``.exact``: Fisher's exact
        test, flagged ``poisson_only``), ``escalation.priority_rate`` (and ``.excl_fy2017``),
        ``escalation.decided_share``, ``escalation.first_level_share`` (and ``.excl_fy2017``),
        ``escalation.first_level_share_differs_p``, ``escalation.second_level_share``,
        ``escalation.third_level_share``.
    """
    arg = "needs_reflection"
    df = _input.frame(needs_reflection, "needs_reflection", _COLUMNS, data_dir, arg, by_year=True)
    _input.nonzero(df, "requests", "the priority-issue rate")
    _input.require_years(df, 3, "the escalation analysis")
    years = df["fiscal_year"].tolist()
    period = covid_period(covid_start, covid_end, break_year=break_year, data_dir=data_dir)
    check_period(period, years, 1, 1)
    phase = period.phase(years)
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
    pre, cov, aft = c[phase == "before"], c[phase == "during"], c[phase == "after"]
    for scope, frame in (("all_years", c), ("pre_covid", pre), ("covid", cov), ("after_covid", aft)):
        if not frame.empty:
            _shares(rows, scope, pd.NA, frame, pooled=True)
    table = pd.DataFrame(rows).astype({"fiscal_year": "Int64"})

    X = pd.DataFrame({"const": 1.0, "year": (c["fiscal_year"] - years[0]).astype(float)})
    fit = stats.fit_quasi_binomial(c["priority_issues"], c["requests"], X,
                                   what="the priority-issue rate trend")
    or_period, fit_period = _period_or(c, phase, "the priority-issue rate, COVID against before")
    fx = stats.fisher_exact_2x2(int(cov["priority_issues"].sum()), int(cov["requests"].sum()),
                                int(pre["priority_issues"].sum()), int(pre["requests"].sum()))

    def pooled(measure: str, frame_scope: str = "all_years") -> tuple[float, float, float]:
        r = table[(table["scope"] == frame_scope) & (table["measure"] == measure)].iloc[0]
        return float(r["share"]), float(r["ci_low"]), float(r["ci_high"])

    def q_interval(ps: stats.PooledShare) -> str:
        return ("Wilson" if ps.quantiles == "Wilson" else
                stats.interval_label("binomial", ps.dispersion, ps.quantiles)
                + " (intercept only)")

    shares = {m: stats.pooled_share(c[num], c[den]) if c[den].sum() > 0 else None
              for m, (num, den) in MEASURES.items()}
    est = [
        Estimate("escalation.priority_rate_trend_or_per_year", *fit.ratio("year"),
                 unit="odds ratio per year",
                 interval=stats.interval_label("binomial", fit.dispersion, fit.quantiles)),
        Estimate("escalation.priority_rate_dispersion", fit.dispersion, unit="Pearson chi2/df"),
        Estimate("escalation.priority_rate_or_covid_vs_pre", *or_period, unit="odds ratio",
                 interval=stats.interval_label("binomial", fit_period.dispersion,
                                               fit_period.quantiles, "GLM on period indicators")),
        Estimate("escalation.priority_rate_or_covid_vs_pre.exact", fx.odds_ratio, fx.ci_low,
                 fx.ci_high, unit="odds ratio", p_value=fx.p_value, flags=(POISSON_ONLY,),
                 interval="Fisher's exact test, conditional MLE; valid only if the counts were "
                          "binomial"),
    ]
    rest = c[c["fiscal_year"] != START_UP_FY]
    startup = START_UP_FY in years
    excl = {}
    if startup and (period.before(rest["fiscal_year"])).any() and len(rest) >= 3:
        rest_phase = period.phase(rest["fiscal_year"])
        or_x, fit_x = _period_or(rest, rest_phase, "the priority-issue rate without FY2017")
        Xr = pd.DataFrame({"const": 1.0, "year": (rest["fiscal_year"] - years[0]).astype(float)})
        fit_r = stats.fit_quasi_binomial(rest["priority_issues"], rest["requests"], Xr,
                                         what="the priority-issue rate trend without FY2017")
        excl = {
            "priority_rate_or_covid_vs_pre": (
                or_x, stats.interval_label("binomial", fit_x.dispersion, fit_x.quantiles,
                                           "GLM on period indicators"), "odds ratio"),
            "priority_rate_trend_or_per_year": (
                fit_r.ratio("year"), stats.interval_label("binomial", fit_r.dispersion,
                                                          fit_r.quantiles), "odds ratio per year"),
        }
        for measure, key in (("priority_rate", "priority_rate"),
                             ("settled_staff", "first_level_share")):
            num, den = MEASURES[measure]
            ps = stats.pooled_share(rest[num], rest[den])
            excl[key] = ((ps.share, ps.ci_low, ps.ci_high), q_interval(ps),
                         "share of requests" if measure == "priority_rate" else "share of priority issues")
    for key, (vals, interval, unit) in excl.items():
        if key == "priority_rate_or_covid_vs_pre":
            est.append(Estimate(f"escalation.{key}.excl_fy{START_UP_FY}", *vals, unit=unit,
                                interval=interval))
    est += [Estimate(f"escalation.priority_rate_trend_or_per_year.excl_fy{START_UP_FY}",
                     *excl["priority_rate_trend_or_per_year"][0], unit="odds ratio per year",
                     interval=excl["priority_rate_trend_or_per_year"][1])] if excl else []
    for measure, key, unit in (("priority_rate", "priority_rate", "share of requests"),
                               ("decided_share", "decided_share", "share of priority issues"),
                               ("settled_staff", "first_level_share", "share of priority issues"),
                               ("settled_section_chief", "second_level_share",
                                "share of priority issues"),
                               ("settled_coordination", "third_level_share",
                                "share of priority issues")):
        ps = shares[measure]
        est.append(Estimate(f"escalation.{key}", *pooled(measure), unit=unit,
                            interval=q_interval(ps)))
        if key in excl:
            vals, interval, u = excl[key]
            est.append(Estimate(f"escalation.{key}.excl_fy{START_UP_FY}", *vals, unit=u,
                                interval=interval))
    first_p = stats.fisher_exact_rx2(c["settled_staff"], c["priority_issues"])
    exact_p = stats.fisher_rx2_method(c["priority_issues"]) == "exact"
    est.append(Estimate("escalation.first_level_share_differs_p", first_p,
                        unit="p-value (the share is the same every year)", p_value=first_p,
                        interval="Fisher's exact test on the years x 2 table (every table "
                                 "enumerated)" if exact_p else
                                 f"Fisher's test on the years x 2 table, Monte Carlo "
                                 f"({stats.FISHER_RESAMPLES:,} draws)"))
    no_priority = c.loc[c["priority_issues"] == 0, "fiscal_year"].tolist()
    n_startup = int(c.loc[c["fiscal_year"] == START_UP_FY, "priority_issues"].sum())
    n_pre = int(pre["priority_issues"].sum())
    n_all = int(c["priority_issues"].sum())
    n_not_decided = n_all - int(c["decided_to_act"].sum())
    small = c.loc[c["priority_issues"] < 10, "fiscal_year"].tolist()
    by_key = {e.key: e for e in est}
    trend_or, covid_or = (by_key["escalation.priority_rate_trend_or_per_year"],
                          by_key["escalation.priority_rate_or_covid_vs_pre"])
    exact = by_key.get("escalation.priority_rate_or_covid_vs_pre.exact")
    facts = {
        "requests": int(c["requests"].sum()), "n_all": n_all,
        "decided": int(c["decided_to_act"].sum()), "n_not_decided": n_not_decided,
        "trend": trend_or, "covid": covid_or, "exact": exact,
        "first": by_key["escalation.first_level_share"],
        "small": Years(small), "no_priority": Years(no_priority),
        "dispersion": fit_period.dispersion, "fisher_p": Pvalue(fx.p_value),
        "first_p": Pvalue(first_p), "n_startup": n_startup, "n_pre": n_pre,
        "startup_share": Pct(n_startup / n_all, 0), "startup_year": START_UP_FY,
        "trend_q": Quantiles(fit.quantiles), "period_q": Quantiles(fit_period.quantiles),
        "phases": period.phases(years),
    }
    x = f".excl_fy{START_UP_FY}"
    trend_x, covid_x, first_x = (by_key.get(f"escalation.{k}{x}") for k in (
        "priority_rate_trend_or_per_year", "priority_rate_or_covid_vs_pre", "first_level_share"))
    facts.update(trend_x=trend_x, covid_x=covid_x, first_x=first_x,
                 first_p_method=Said("escalation.first_p." + ("exact" if exact_p else "monte_carlo"),
                                     {"draws": f"{stats.FISHER_RESAMPLES:,}"}))
    differs = first_p < stats.ALPHA
    # the step reading is for a fall after the start-up year; a rise keeps the plain sentence
    step = trend_x is not None and trend_or.value < 1
    return EscalationResult(
        title_key="title_escalation",
        estimates=tuple(est), facts=facts,
        text_keys=chosen([
            (True, "escalation.text.counts"),
            # with the start-up year in the data, the all-years trend is read as the step after
            # it, beside the trend without it (not as a steady change)
            (not step and trend_or.value < 1, "escalation.text.trend_fell"),
            (not step and trend_or.value >= 1, "escalation.text.trend_rose"),
            (step and not (trend_x and trend_x.interval_excludes_one),
             "escalation.text.trend_step_includes_one"),
            (step and bool(trend_x and trend_x.interval_excludes_one),
             "escalation.text.trend_step_excludes_one"),
            (not covid_or.interval_excludes_one, "escalation.text.covid_includes_one"),
            (covid_or.interval_excludes_one, "escalation.text.covid_excludes_one"),
            (covid_x is not None, "escalation.text.covid_without_startup"),
            (exact is not None, "escalation.text.exact"),
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
            (differs, "escalation.caveat.first_level_differs"),
            (startup, "escalation.caveat.startup"),
        ]),
        n_obs=len(years), data=table, counts=c, fit=fit,
        break_year=period.start, period=period, first_level_p=first_p,
    )
