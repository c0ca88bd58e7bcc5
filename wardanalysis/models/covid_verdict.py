"""Section 1, the answer: the period comparison, the sensitivity of the level change to the years
and the model, and the verdict on what the yearly points can and cannot tell."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..errors import BreakYearError, ModelInputError, NotEstimableError, TooFewYearsError
from ..results import (
    POISSON_ONLY,
    Estimate,
    FiscalYear,
    Joined,
    Result,
    Said,
    Term,
    Years,
    chosen,
    quantiles,
    records_frame,
)
from ..text.formats import sentences
from ..text.glossary import check_lang, label
from . import _input
from .covid_exposure import PER_DAYS
from .its import ITSResult, exposure_model, interrupted_time_series
from .periods import CovidPeriod, check_period, covid_period
from .requests import (
    START_UP_FY,
    UNIT_RR,
    TrendResult,
    borrowed_interval_text,
    common_caveats,
    needs_frame,
    ratio_estimate,
    trend,
)

#: (record key, model term, unit) of the period comparison; "after" only with years after COVID
_MEANS = (("requests.pre_mean", "const", "requests per year"),
          ("requests.covid_mean", {"const": 1, "covid_period": 1}, "requests per year"),
          ("requests.mean_ratio_covid_vs_pre", "covid_period", "ratio of means"),
          ("requests.after_mean", {"const": 1, "after_covid": 1}, "requests per year"),
          ("requests.mean_ratio_after_vs_pre", "after_covid", "ratio of means"))


@dataclass(frozen=True, eq=False, repr=False)
class PeriodComparisonResult(Result):
    """No summary keys: the ratio of period means is shown only in sentences with the earlier
    trend beside it."""

    sources = ("needs_reflection",)
    period: CovidPeriod

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
            if key not in self.keys():
                continue
            e = self.estimate(key)
            ys = d.loc[d["phase"] == phase, "fiscal_year"]
            x0, x1 = ys.min() - 0.4, ys.max() + 0.4
            ax.hlines(e.value, x0, x1, color=color[phase], lw=2.5, label=label(name, lang))
            ax.fill_between([x0, x1], e.ci_low, e.ci_high, color=color[phase], alpha=0.15)
        plotting.finish_axes(ax, lang, years=d["fiscal_year"], ylabel="requests_count",
                             legend="upper right")


def period_comparison(needs_reflection: pd.DataFrame | None = None, *,
                      covid_start: int | str | None = None, covid_end: int | str | None = None,
                      break_year: int | str | None = None,
                      data_dir: str | Path | None = None) -> PeriodComparisonResult:
    """Mean requests per year before, during (and after) the COVID period and their ratios
    (quasi-Poisson GLM on period indicators), and year-over-year ratios with the dispersion of
    the requests trend borrowed (exact, flagged ``poisson_only``, where it has under 2 residual
    df). Needs three fiscal years, one before the period and one in it. Keys
    ``requests.pre_mean``, ``.covid_mean``, ``.mean_ratio_covid_vs_pre`` (``.after_mean``,
    ``.mean_ratio_after_vs_pre`` with years after it), ``.yoy_rr.fy<Y>_vs_fy<Y-1>``.
    """
    df = needs_frame(needs_reflection, data_dir)
    years = df["fiscal_year"].tolist()
    _input.require_years(df, 3, "period comparison")
    period = covid_period(covid_start, covid_end, break_year=break_year, data_dir=data_dir)
    check_period(period, years, 1, 1)
    phase = period.phase(years)
    during, after = phase == "during", phase == "after"
    X = pd.DataFrame({"const": 1.0, "covid_period": during.astype(float)})
    if after.any():
        X["after_covid"] = after.astype(float)
    fit = stats.fit_quasi_poisson(df["requests"], X, what="period comparison")
    est = [ratio_estimate(key, fit, term, unit) for key, term, unit in _MEANS
           if after.any() or "after" not in key]
    by_key = {e.key: e for e in est}
    trend_phi, trend_df = stats.trend_dispersion(df["requests"], years)
    counts = df["requests"].tolist()
    yoy = [None] + [stats.scaled_rate_ratio(c, p, trend_phi if trend_df >= 2 else math.nan,
                                            trend_df) if c + p else None
                    for p, c in zip(counts, counts[1:], strict=False)]
    est += [Estimate(f"requests.yoy_rr.fy{fy}_vs_fy{prev}", r.ratio, r.ci_low, r.ci_high,
                     unit=UNIT_RR, interval=borrowed_interval_text(r),
                     flags=(POISSON_ONLY,) if r.poisson_only else ())
            for fy, prev, r in zip(years[1:], years[:-1], yoy[1:], strict=True) if r is not None]
    table = pd.DataFrame({"fiscal_year": years, "requests": counts, "phase": phase,
                          "covid_period": during})
    for col, attr in (("yoy_rr", "ratio"), ("yoy_ci_low", "ci_low"), ("yoy_ci_high", "ci_high"),
                      ("yoy_exact_ci_low", "exact_low"), ("yoy_exact_ci_high", "exact_high"),
                      ("yoy_exact_p_value", "exact_p")):
        table[col] = [math.nan if r is None else getattr(r, attr) for r in yoy]
    gaps = [y for a, y in zip(years, years[1:], strict=False) if y - a != 1]
    common, common_facts = common_caveats(fit, years)
    split = period.split(years)
    # the ratio never stands without the trend already under way before COVID beside it: the
    # main interrupted time series' pre-COVID slope, and the trend over all years
    try:
        its = interrupted_time_series(df, covid_start=period.start, covid_end=period.end)
        pre_trend = its.estimate("requests.its_pre_slope_rr")
    except (TooFewYearsError, BreakYearError, NotEstimableError):
        pre_trend = None
    facts = {**common_facts, "pre": by_key["requests.pre_mean"],
             "cov": by_key["requests.covid_mean"],
             "ratio": by_key["requests.mean_ratio_covid_vs_pre"],
             "after": by_key.get("requests.after_mean"),
             "after_ratio": by_key.get("requests.mean_ratio_after_vs_pre"),
             "before_years": Years(split["before"]), "during_years": Years(split["during"]),
             "after_years": Years(split["after"]), "period_start": period.start,
             "trend_phi": trend_phi, "trend_df": trend_df,
             "narrow": math.sqrt(max(1.0, trend_phi)), "gaps": Years(gaps),
             "phases": period.phases(years), "quantiles": quantiles(fit.quantiles),
             "trend": trend(df).estimate("requests.trend_rr_per_year"), "pre_trend": pre_trend,
             "span": Years(years)}
    return PeriodComparisonResult(
        "title_requests_periods", est, facts=facts,
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
        n_obs=len(years), data=table, period=period)


@dataclass(frozen=True, eq=False, repr=False)
class SensitivityResult(Result):
    sources = ("needs_reflection", "covid_measures")
    models: tuple[Result | None, ...] = ()

    def _plot(self, ax: Any, lang: str) -> None:
        """Forest plot of rate ratios (log scale) with one row per variant and quantity."""
        from .. import plotting

        d = self.data[self.data["estimable"]].reset_index(drop=True)
        colors = {"level_change": plotting.COLORS["level1"],
                  "slope_change": plotting.COLORS["level2"],
                  "exposure_effect": plotting.COLORS["measures"]}
        ypos = np.arange(len(d))[::-1]
        for q, color in colors.items():
            m = (d["quantity"] == q).to_numpy()
            if not m.any():
                continue
            ax.errorbar(d.loc[m, "estimate"], ypos[m],
                        xerr=[d.loc[m, "estimate"] - d.loc[m, "ci_low"],
                              d.loc[m, "ci_high"] - d.loc[m, "estimate"]],
                        fmt="o", color=color, capsize=4, markersize=7, label=label(q, lang))
        plotting.ratio_axis(ax, d["ci_low"].min(), d["ci_high"].max())
        sep = "：" if lang == "ja" else ": "
        ax.set_yticks(ypos, [f"{label(v, lang)}{sep}{label(q + '_short', lang)}"
                             for v, q in zip(d["variant"], d["quantity"], strict=True)],
                      fontsize=9)
        ax.grid(axis="y", visible=False)
        plotting.finish_axes(ax, lang, xlabel="rate_ratio_log_scale")


def _row(variant: str, quantity: str, e: Estimate, model: Result | None, reason: str = "") -> dict:
    return {"variant": variant, "quantity": quantity, "record_key": e.key, "estimate": e.value,
            "ci_low": e.ci_low, "ci_high": e.ci_high,
            "n_obs": model.n_obs if model is not None else math.nan,
            "dispersion": model.fit.dispersion if model is not None else math.nan,
            "estimable": not math.isnan(e.value), "reason": reason}


def sensitivity(needs_reflection: pd.DataFrame | None = None,
                covid_measures: pd.DataFrame | None = None, *,
                covid_start: int | str | None = None, covid_end: int | str | None = None,
                data_dir: str | Path | None = None,
                exposure: pd.DataFrame | None = None) -> SensitivityResult:
    """The main interrupted time series beside its sensitivity analyses: the negative binomial
    fit, without FY2017 (the start-up year), a break one year later, and the exposure model. A
    variant the data cannot support stays as a row with ``estimable = False`` and the reason,
    its keys NaN. Keys: ``requests.its_level_rr.<v>`` and ``requests.its_slope_rr.<v>`` for
    ``<v>`` ``excl_fy2017`` and ``later_break``, ``requests.exposure_rr_per_30_days``.
    """
    df = needs_frame(needs_reflection, data_dir)
    years = df["fiscal_year"].tolist()
    period = covid_period(covid_start, covid_end, data_dir=data_dir)
    main = interrupted_time_series(df, covid_start=period.start, covid_end=period.end)
    quantities = (("level_change", "its_level_rr"), ("slope_change", "its_slope_rr"))
    rows = [_row("main_model", q, main.estimate(f"requests.{b}"), main) for q, b in quantities]
    for q, b in quantities:
        e = main.estimate(f"requests.{b}.nb")
        rows.append(_row("negative_binomial", q, e, main,
                         "negative binomial not estimable" if math.isnan(e.value) else ""))
    models: list[Result | None] = [main]
    est: list[Estimate] = []
    variants = [("later_break", period.start + 1, {"later_break": True})]
    if START_UP_FY in years:
        variants.insert(0, (f"excl_fy{START_UP_FY}", period.start,
                            {"exclude_fiscal_years": [START_UP_FY]}))
    for name, start, kw in variants:
        try:
            m, reason = interrupted_time_series(df, covid_start=start,
                                                covid_end=max(period.end, start),
                                                negative_binomial=False, **kw), ""
        except ModelInputError as exc:
            m, reason = None, str(exc)
        models.append(m)
        for q, b in quantities:
            key = f"requests.{b}.{name}"
            e = m.estimate(key) if m is not None else Estimate(key, math.nan, unit=UNIT_RR)
            est.append(e)
            rows.append(_row(name, q, e, m, reason))
    key = f"requests.exposure_rr_per_{PER_DAYS}_days"
    try:
        ex = exposure_model(df, covid_measures, exposure=exposure, data_dir=data_dir,
                            covid_start=period.start, covid_end=period.end)
        e, reason = ex.estimate(key), ""
    except ModelInputError as exc:
        ex, reason = None, str(exc)
        e = Estimate(key, math.nan, unit=f"rate ratio per {PER_DAYS} days under measures")
    models.append(ex)
    est.append(e)
    rows.append(_row("exposure_days", "exposure_effect", e, ex, reason))
    table = pd.DataFrame(rows)
    failed = table.loc[~table["estimable"], ["variant", "reason"]].drop_duplicates()
    ok = table[table["estimable"]]
    parts = tuple(Said("requests.sensitivity.part",
                       {"variant": Term(r.variant), "quantity": Term(r.quantity),
                        "r": Estimate(r.record_key, r.estimate, r.ci_low, r.ci_high)})
                  for r in ok.itertuples(index=False))
    failed_parts = tuple(Said("requests.sensitivity.failed_part",
                              {"variant": Term(v), "reason": r})
                         for v, r in failed.itertuples(index=False))
    facts = {"n_years": len(years), "parts": Joined(parts, "list.semicolon"), "n_ok": len(ok),
             "n_excl": int(((ok["ci_low"] > 1) | (ok["ci_high"] < 1)).sum()),
             "failed": Joined(failed_parts, "list.semicolon")}
    return SensitivityResult(
        "title_requests_sensitivity", est, facts=facts, text_keys=("requests.sensitivity.text",),
        method_key="requests.sensitivity.method",
        caveat_keys=chosen([
            (True, "requests.sensitivity.caveat.same_points"),
            (not failed.empty, "requests.sensitivity.caveat.not_estimable"),
            (True, Said(main.caveat_keys[0], main.facts)),  # the main model's first caveat
        ]),
        n_obs=len(years), data=table, models=tuple(models))


@dataclass(frozen=True, eq=False, repr=False)
class VerdictResult(Result):
    sources = ("needs_reflection", "covid_measures")
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
        return {"first_year": FiscalYear(int(first["fiscal_year"])),
                "first": int(first["requests"]), "low_year": FiscalYear(int(low["fiscal_year"])),
                "low": int(low["requests"]),
                "covid": Years(range(p.start, p.end + 1))}

    def reasons(self, lang: str = "ja") -> tuple[str, ...]:
        """The verdict's sentences (the verdict, why, and what would settle it)."""
        return tuple(self._said(k, check_lang(lang)) for k in self.text_keys)

    def components(self) -> tuple[Result, ...]:
        return (self.period, self.trend_result, self.its, self.sensitivity_result)

    def headline(self, lang: str = "ja") -> str:
        """The verdict and why, in two sentences."""
        return sentences(self.reasons(lang)[:2], lang)

    def key_figures(self) -> list[Estimate]:
        """In the order the verdict reasons: the decline before COVID, the level change against
        it, the smallest change the data could detect. The ratio of period means is not one: it
        is shown only in sentences that give the earlier decline beside it."""
        return [self.its.estimate("requests.its_pre_slope_rr"),
                self.its.estimate("requests.its_level_rr"),
                self.estimate("requests.its_level_mde_ratio")]

    def all_records(self) -> pd.DataFrame:
        """Records of the verdict and of every analysis behind it (each key once)."""
        est = [e for r in self.components() for e in r.estimates] + list(self.estimates)
        return records_frame(est)

    def text(self, lang: str = "ja") -> str:  # the verdict already weaves its caveat in
        return self._body(check_lang(lang))

    def _plot(self, ax: Any, lang: str) -> None:
        """The sensitivity forest plot, the level changes too small to detect shaded."""
        from .. import plotting

        self.sensitivity_result._plot(ax, lang)
        mde = self.estimate("requests.its_level_mde_ratio").value
        if not math.isnan(mde):
            ax.axvspan(mde, 1 / mde, color="grey", alpha=0.12, lw=0)
            plotting.add_note(ax, label("note_undetectable_zone", lang))


def verdict(needs_reflection: pd.DataFrame | None = None,
            covid_measures: pd.DataFrame | None = None, *,
            covid_start: int | str | None = None, covid_end: int | str | None = None,
            data_dir: str | Path | None = None,
            exposure: pd.DataFrame | None = None) -> VerdictResult:
    """Can the yearly points distinguish a COVID effect from the decline already under way?

    Only if the main model's level or slope change has an interval excluding 1 and the estimable
    robustness variants (negative binomial, without FY2017) agree. Keys:
    ``requests.its_level_mde_ratio`` (the level ratio below 1 detectable with 80% power, two-sided
    5% t-test) and ``requests.verdict_distinguishable`` (1 or 0); ``all_records()`` adds the keys
    of the analyses behind it.
    """
    df = needs_frame(needs_reflection, data_dir)
    period = covid_period(covid_start, covid_end, data_dir=data_dir)
    per = period_comparison(df, covid_start=period.start, covid_end=period.end)
    tr = trend(df)
    sens = sensitivity(df, covid_measures, covid_start=period.start, covid_end=period.end,
                       data_dir=data_dir, exposure=exposure)
    its = sens.models[0]
    years = df["fiscal_year"].tolist()
    mde_up = stats.minimum_detectable_ratio(its.fit.se("covid_period"), its.fit.df_resid)
    mde = 1 / mde_up
    lv, sl, pre, oe = (its.estimate(f"requests.{k}") for k in (
        "its_level_rr", "its_slope_rr", "its_pre_slope_rr", "counterfactual_oe_total"))
    d = sens.data
    # the later break tests the timing, and the exposure model (days under measures beside the
    # period's step) a dose-response beyond the step: not the same hypothesis, so they are
    # reported, not required to agree
    agreeing = d[d["estimable"] & ~d["variant"].isin(["later_break", "exposure_days"])]
    distinguishable = False
    for q, e in (("level_change", lv), ("slope_change", sl)):
        same = agreeing[agreeing["quantity"] == q]
        agree = (same["ci_high"] < 1) if e.value < 1 else (same["ci_low"] > 1)
        distinguishable |= e.interval_excludes_one and bool(agree.all())
    n_excl = sens.facts["n_excl"]
    facts = {"n_years": len(years), "ratio": per.estimate("requests.mean_ratio_covid_vs_pre"),
             "span": Years(years), "trend": tr.estimate("requests.trend_rr_per_year"),
             "pre": pre, "break_year": period.start, "level": lv, "slope": sl, "oe": oe,
             "n_base": its.facts["n_base"], "n_excl": n_excl, "n_ok": sens.facts["n_ok"],
             "df": its.fit.df_resid, "mde": mde, "fall_pct": 100 * (1 - mde), "mde_up": mde_up,
             "next_year": period.end + 1, "phases": period.phases(years)}
    text_keys = chosen([
        # what happened, in words, before the verdict; an earlier decline beside the ratio
        (pre.value < 1, "requests.verdict.plain_falling"),
        (not pre.value < 1, "requests.verdict.plain"),
        (distinguishable, "requests.verdict.yes"),
        (not distinguishable, "requests.verdict.no"),
        (True, "requests.verdict.falling"),
        (oe.interval_excludes_one, "requests.verdict.changes_projection"),
        (not oe.interval_excludes_one, "requests.verdict.changes"),
        (bool(n_excl) and not distinguishable, "requests.verdict.sensitivity_disagree"),
        (not (n_excl and not distinguishable), "requests.verdict.sensitivity"),
        (True, "requests.verdict.power"),
        (True, "requests.verdict.settle"),
    ])
    return VerdictResult(
        "title_requests_verdict",
        (Estimate("requests.its_level_mde_ratio", mde, unit="rate ratio (80% power, 5% two-sided)"),
         Estimate("requests.verdict_distinguishable", float(distinguishable),
                  unit="indicator (1 = distinguishable)")),
        facts=facts, text_keys=text_keys, method_key="requests.verdict.method",
        caveat_keys=chosen([
            (True, "requests.verdict.caveat.yearly_totals"),
            *[(True, Said(k, its.facts)) for k in its.caveat_keys[:2]],
            (START_UP_FY in years, "requests.verdict.caveat.document"),
        ]),
        n_obs=len(years), data=d.assign(verdict_distinguishable=distinguishable),
        distinguishable=distinguishable, period=per, trend_result=tr, its=its,
        sensitivity_result=sens)
