"""Section 1, the interrupted time series: did the level of requests change when the COVID
period began, against the trend before it (quasi-Poisson, the break year and the period from
the data), and did the days under the city's measures go with a change beyond that step
(the exposure model)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..errors import MissingDataError, NotEstimableError
from ..results import PREDICTION, Estimate, Joined, Result, Said, Years, chosen, quantiles
from ..text.formats import fmt
from ..text.glossary import label
from . import _input
from .covid_exposure import PER_DAYS, exposure_days, fit_exposure, period_r2
from .periods import check_period, covid_period, years_phrase
from .requests import (
    START_UP_FY,
    UNIT_RR,
    UNIT_RR_YEAR,
    common_caveats,
    needs_frame,
    ratio_estimate,
)

UNIT_RR_RATIO = "ratio of yearly rate ratios"


def its_design(years: np.ndarray, break_year: int) -> pd.DataFrame:
    t = (years - break_year).astype(float)
    post = (years >= break_year).astype(float)
    return pd.DataFrame({"const": 1.0, "years_since_break": t, "covid_period": post,
                         "years_since_break_covid": t * post})


@dataclass(frozen=True, eq=False, repr=False)
class ITSResult(Result):
    sources = ("needs_reflection",)
    break_year: int
    suffix: str = ""
    fit: stats.GLMFit | None = None
    nb_fit: stats.NBFit | None = None

    def fit_years(self) -> np.ndarray:
        return self.data.loc[self.data["used_in_fit"], "fiscal_year"].to_numpy()

    def _chart_title(self, lang: str) -> str:
        """A variant's chart names it: the title alone would repeat the main analysis's."""
        title = self.title(lang)
        return self.say("requests.its.plot_title", lang, title=title) if self.suffix else title

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        used = d["used_in_fit"]
        line = d[used | (d["fiscal_year"] >= self.break_year)]
        post = line[line["fiscal_year"] >= self.break_year]
        plotting.mark_interval(ax.fill_between(
            post["fiscal_year"], post["pi_low"], post["pi_high"],
            color=plotting.COLORS["counterfactual"], alpha=0.15,
            label=label("counterfactual_pi95", lang)), "prediction")
        ax.plot(line["fiscal_year"], line["counterfactual"], "--",
                color=plotting.COLORS["counterfactual"], lw=2, label=label("counterfactual", lang))
        for seg in (line[line["fiscal_year"] < self.break_year], post):
            seg = seg[seg["used_in_fit"]]
            ax.plot(seg["fiscal_year"], seg["fitted"], color=plotting.COLORS["fit"], lw=2,
                    label=label("fitted_segmented", lang)
                    if seg["fiscal_year"].min() >= self.break_year else None)
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
        ax.set_ylim(0, top * 1.12)
        plotting.finish_axes(ax, lang, years=d["fiscal_year"], ylabel="requests_count",
                             legend="upper right", fontsize=9)


def interrupted_time_series(needs_reflection: pd.DataFrame | None = None, *,
                            covid_start: int | str | None = None,
                            covid_end: int | str | None = None,
                            break_year: int | str | None = None,
                            exclude_fiscal_years: Sequence[int] = (),
                            negative_binomial: bool = True,
                            data_dir: str | Path | None = None,
                            later_break: bool = False) -> ITSResult:
    """Segmented quasi-Poisson regression of requests with a break at the COVID start:
    ``log E[requests] = b0 + b1 t + b2 covid + b3 t covid``, ``t = fiscal_year - break_year``.

    The counterfactual is the pre-period segment projected on (95% prediction intervals); NB2 is
    the sensitivity model. Years after ``covid_end`` and ``exclude_fiscal_years`` stay in the
    table with ``used_in_fit = False``. Needs two fitted years each side of the break, five in
    all. Keys ``requests.<name><s>`` (``<s>``: ``''``, ``.excl_fy2017``, ``.later_break``) for
    ``its_level_rr``, ``its_slope_rr``, ``its_pre_slope_rr``, ``its_post_slope_rr``,
    ``its_dispersion``, ``its_level_rr.nb``, ``its_slope_rr.nb``, ``its_nb_alpha``,
    ``counterfactual_oe_total`` and ``counterfactual_oe.fy<Y>``.
    """
    df = needs_frame(needs_reflection, data_dir)
    all_years = df["fiscal_year"].tolist()
    exclude = sorted({int(y) for y in exclude_fiscal_years})
    unknown = [y for y in exclude if y not in all_years]
    if unknown:
        raise MissingDataError(
            f"exclude_fiscal_years names FY{', FY'.join(map(str, unknown))}, not in the data "
            f"({years_phrase(all_years)})")
    period = covid_period(covid_start, covid_end, break_year=break_year, data_dir=data_dir)
    break_year = period.start
    phase = period.phase(all_years)
    used = ~df["fiscal_year"].isin(exclude) & (phase != "after")
    fit_df = df[used]
    years = fit_df["fiscal_year"].to_numpy()
    model = f"the interrupted time series (break FY{break_year})"
    check_period(period, years.tolist(), 2, 2, model=model)
    _input.require_years(fit_df, 5, model,
                         "four coefficients and one degree of freedom for the dispersion")
    # keys never depend on the parameters: the period's ends are in each record's parameters
    suffix = "".join(f".excl_fy{y}" for y in exclude) + (".later_break" if later_break else "")
    X = its_design(years, break_year)
    fit = stats.fit_quasi_poisson(fit_df["requests"], X, what=model)

    def key(base: str) -> str:
        return f"requests.{base}{suffix}"

    lv = ratio_estimate(key("its_level_rr"), fit, "covid_period", UNIT_RR)
    sl = ratio_estimate(key("its_slope_rr"), fit, "years_since_break_covid", UNIT_RR_RATIO)
    pre = ratio_estimate(key("its_pre_slope_rr"), fit, "years_since_break", UNIT_RR_YEAR)
    est = [lv, sl, pre,
           ratio_estimate(key("its_post_slope_rr"), fit,
                          {"years_since_break": 1, "years_since_break_covid": 1}, UNIT_RR_YEAR),
           Estimate(key("its_dispersion"), fit.dispersion, unit="Pearson chi2/df")]

    nb_fit, nb_problem = None, ""
    if negative_binomial:
        try:
            nb_fit = stats.fit_negative_binomial(fit_df["requests"], X, what=f"NB2 {model}")
            nb_problem = "" if nb_fit.converged else "not_converged"
        except NotEstimableError:
            nb_problem = "not_estimable"
    nb_ok = nb_fit is not None and not nb_problem
    nb_interval = (f"negative binomial (NB2) ML, Wald t({nb_fit.df_resid if nb_fit else '—'}), "
                   "covariance from the joint information of the coefficients and alpha")
    est += [Estimate(key(f"its_{name}_rr.nb"),
                     *(nb_fit.ratio(term) if nb_ok else (math.nan,) * 3), unit=unit,
                     interval=nb_interval)
            for name, term, unit in (("level", "covid_period", UNIT_RR),
                                     ("slope", "years_since_break_covid", UNIT_RR_RATIO))]
    est.append(Estimate(key("its_nb_alpha"), nb_fit.nb_alpha if nb_ok else math.nan,
                        unit="NB2 alpha (variance = mu + alpha mu^2)"))

    Xall = its_design(df["fiscal_year"].to_numpy(), break_year)
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
        pi_high=np.where(post, pi["pi_high"], np.nan))
    obs = table["requests"].to_numpy(float)
    table["observed_expected"] = np.where(post, obs / table["counterfactual"], np.nan)
    table["oe_low"] = np.where(post, obs / table["pi_high"], np.nan)
    table["oe_high"] = np.where(post, obs / table["pi_low"], np.nan)
    post_used = during & used.to_numpy()
    total_e, total_lo, total_hi = stats.total_prediction_interval(fit, Xcf[post_used])
    total_o = float(obs[post_used].sum())
    oe_interval = "observed / (expected and its 95% prediction interval)"
    oe = Estimate(key("counterfactual_oe_total"), total_o / total_e, total_o / total_hi,
                  total_o / total_lo, unit="observed/expected", interval=oe_interval,
                  flags=(PREDICTION,))
    est.append(oe)
    for r in table[post_used].itertuples(index=False):
        est.append(Estimate(f"requests.counterfactual_oe.fy{r.fiscal_year}{suffix}",
                            r.observed_expected, r.oe_low, r.oe_high, unit="observed/expected",
                            interval=oe_interval, flags=(PREDICTION,)))

    base = years[years < break_year].tolist()
    startup_base = START_UP_FY in base
    n_after = int((phase == "after").sum())
    common, common_facts = common_caveats(fit, years.tolist())
    variant = (Said("requests.its.variant_excluding", {"excluded": Years(exclude),
                                                       "break_year": break_year})
               if exclude else Said("requests.its.variant", {"break_year": break_year}))
    facts = {**common_facts, "variant": variant, "pre": pre, "level": lv, "slope": sl, "oe": oe,
             "break_year": break_year, "n_pre": len(base), "n_post": len(years) - len(base),
             "its_df": fit.df_resid, "nb_df": nb_fit.df_resid if nb_fit else 0,
             "n_base": len(base), "base_years": Years(base), "n_after": n_after,
             "after_years": Years(table.loc[table["phase"] == "after", "fiscal_year"]),
             "phases": period.phases(all_years), "quantiles": quantiles(fit.quantiles)}
    excludes_one = lv.interval_excludes_one or sl.interval_excludes_one
    return ITSResult(
        "title_requests_its", est, facts=facts,
        text_keys=("requests.its.text", "requests.its.excludes_one" if excludes_one
                   else "requests.its.includes_one"),
        method_key="requests.its.method",
        caveat_keys=chosen([
            (True, "requests.its.caveat.segments"),
            *common[1:],
            (nb_problem == "not_converged", "requests.its.caveat.nb_not_converged"),
            (nb_problem == "not_estimable", "requests.its.caveat.nb_not_estimable"),
            (nb_ok, "requests.its.caveat.nb_t"),
            (startup_base, "requests.its.caveat.counterfactual_startup"),
            (not startup_base, "requests.its.caveat.counterfactual"),
            (n_after > 0, "requests.its.caveat.after"),
        ]),
        n_obs=len(years), data=table, break_year=break_year, suffix=suffix, fit=fit,
        nb_fit=nb_fit)


@dataclass(frozen=True, eq=False, repr=False)
class ExposureModelResult(Result):
    sources = ("needs_reflection", "covid_measures")
    fit: stats.GLMFit | None = None

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        ax.plot(d["fiscal_year"], d["requests"], "o", color=plotting.COLORS["observed"],
                markersize=8, label=label("observed", lang))
        ax.plot(d["fiscal_year"], d["fitted"], color=plotting.COLORS["fit"], lw=2,
                label=label("fitted_exposure_model", lang))
        ax.set_ylim(0, d["requests"].max() * 1.15)
        ax2 = ax.twinx()
        ax2.bar(d["fiscal_year"], d["days_under_measures"], width=0.5, alpha=0.25,
                color=plotting.COLORS["measures"], label=label("days_under_measures", lang))
        ax2.set_ylim(0, 366)
        ax2.grid(False)
        plotting.finish_axes(ax2, lang, ylabel="days_under_measures")
        ax.set_zorder(ax2.get_zorder() + 1)
        ax.patch.set_visible(False)
        handles = [h for a in (ax, ax2) for h in a.get_legend_handles_labels()[0]]
        plotting.finish_axes(ax, lang, years=d["fiscal_year"], ylabel="requests_count",
                             legend="upper right", handles=handles, fontsize=9)


def exposure_model(needs_reflection: pd.DataFrame | None = None,
                   covid_measures: pd.DataFrame | None = None, *,
                   exposure: pd.DataFrame | None = None,
                   covid_start: int | str | None = None, covid_end: int | str | None = None,
                   data_dir: str | Path | None = None) -> ExposureModelResult:
    """Quasi-Poisson model of requests on a yearly trend, the COVID period's step and the days
    under COVID measures (per :data:`~.covid_exposure.PER_DAYS`).

    The step stays in the model so that a drop over the whole period is not read as a
    dose-response (``benchmarks/exposure_size.py``); where the period explains the days almost
    entirely the result says the two cannot be told apart. ``exposure`` (``fiscal_year``,
    ``days_under_measures``; a missing year counts 0 days) overrides the days computed from
    ``covid_measures``. Keys: ``requests.exposure_rr_per_30_days``,
    ``requests.exposure_trend_rr_per_year``, ``requests.exposure_step_rr``,
    ``requests.exposure_dispersion``.
    """
    df = needs_frame(needs_reflection, data_dir)
    years = df["fiscal_year"].tolist()
    period = covid_period(covid_start, covid_end, data_dir=data_dir)
    check_period(period, years, 1, 1, "the exposure model")
    phase = period.phase(years)
    after = phase == "after"
    n_coef = 5 if after.any() else 4
    _input.require_years(df, n_coef + 1, "the exposure model",
                         f"{n_coef} coefficients and one degree of freedom for the dispersion")
    if exposure is None:
        exposure = exposure_days(covid_measures, years, data_dir=data_dir)
    else:
        exposure = _input.frame(exposure, "exposure", ("fiscal_year", "days_under_measures"))
        exposure = _input.yearly_counts(exposure, ["days_under_measures"], "exposure")
    days = (exposure.set_index("fiscal_year")["days_under_measures"]
            .reindex(years, fill_value=0).to_numpy(float))
    if np.ptp(days) == 0:
        raise NotEstimableError(
            f"the exposure model: the days under measures are {int(days[0])} in every fiscal year "
            f"of the data ({years_phrase(years)}), so their effect cannot be estimated")
    base = pd.DataFrame({"const": 1.0, "year": np.array(years, float) - years[0],
                         "covid_period": (phase == "during").astype(float)})
    if after.any():
        base["after_covid"] = after.astype(float)
    if period_r2(base, days) > 1 - 1e-9:
        raise NotEstimableError(
            "the exposure model: the days under measures move in lockstep with the trend and "
            f"the COVID period's step ({years_phrase(years)}), so the measures cannot be told "
            "from the period")
    ef = fit_exposure(df["requests"], base, days, what="the exposure model")
    fit = ef.fit
    eta, _ = fit.linear_predictor(base.assign(exposure=days / PER_DAYS))
    table = df[["fiscal_year", "requests"]].assign(days_under_measures=days.astype(int),
                                                   fitted=np.exp(eta))
    exposed = [(y, int(d)) for y, d in zip(years, days, strict=True) if d > 0]
    common, common_facts = common_caveats(fit, years)
    estimates = (
        ratio_estimate(f"requests.exposure_rr_per_{PER_DAYS}_days", fit, "exposure",
                       f"rate ratio per {PER_DAYS} days under measures"),
        ratio_estimate("requests.exposure_trend_rr_per_year", fit, "year", UNIT_RR_YEAR),
        ratio_estimate("requests.exposure_step_rr", fit, "covid_period",
                       "rate ratio (COVID period against the trend, at zero days)"),
        Estimate("requests.exposure_dispersion", fit.dispersion, unit="Pearson chi2/df"),
    )
    facts = {**common_facts, "exposure": estimates[0], "trend": estimates[1],
             "step": estimates[2], "r2": float(ef.r2), "per_days": PER_DAYS,
             "phases": period.phases(years), "n_exposed": len(exposed), "span": Years(years),
             "quantiles": quantiles(fit.quantiles),
             "exposed": Joined(tuple(Said("requests.exposure.days_part", {"year": y, "days": d})
                                     for y, d in exposed), "list.joiner")}
    return ExposureModelResult(
        "title_requests_exposure", estimates, facts=facts,
        text_keys=("requests.exposure.text" if ef.separable
                   else "requests.exposure.text_not_separable",),
        method_key="requests.exposure.method",
        caveat_keys=chosen([
            (len(exposed) <= 2, "requests.exposure.caveat.near_step"),
            (True, "requests.exposure.caveat.crude"),
            *common[:3],
        ]),
        n_obs=len(years), data=table, fit=fit)
