"""Section 1: did community requests (要望・相談) fall because of COVID-19, or were they already
falling? Here the trend and what the section's models share (one count per fiscal year, each
model quasi-Poisson with t on the residual df); the interrupted time series is in :mod:`.its`,
the period comparison and the verdict in :mod:`.covid_verdict`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..results import Estimate, Result, Years, chosen, quantiles
from ..text.formats import fmt
from ..text.glossary import label
from . import _input

#: The まちづくりセンター start-up year, which the document says surfaced long-buried requests.
START_UP_FY = 2017

UNIT_RR_YEAR = "rate ratio per year"
UNIT_RR = "rate ratio"


def ratio_estimate(key: str, fit: stats.GLMFit, term: str | dict[str, float], unit: str,
                   family: str = "Poisson", kind: str = "Wald") -> Estimate:
    """``exp`` of a fitted term (or a combination of terms) with its interval, labelled as made."""
    return Estimate(key, *fit.ratio(term), unit=unit,
                    interval=stats.interval_label(family, fit.dispersion, fit.quantiles, kind))


def needs_frame(df: pd.DataFrame | None, data_dir) -> pd.DataFrame:
    return _input.frame(df, "needs_reflection", ("fiscal_year", "requests"), data_dir,
                        by_year=True)


def common_caveats(fit: stats.GLMFit, years: Sequence[int]
                   ) -> tuple[list[tuple[bool, str]], dict[str, Any]]:
    """The caveats every requests model shares, as ``[(condition, key), …]`` and their facts."""
    facts = {"n_years": len(years), "startup_year": START_UP_FY, "dispersion": fit.dispersion,
             "disp_df": fit.df_resid}
    return [(True, "requests.caveat.few_years"),
            (fit.dispersion > 1.5, "requests.caveat.overdispersed"),
            (fit.dispersion < 1, "requests.caveat.underdispersed"),
            (START_UP_FY in years, "requests.caveat.startup")], facts


def borrowed_interval_text(r: stats.ScaledRatio, family: str = "Poisson") -> str:
    """The ``interval`` string of a year-on-year ratio with a borrowed dispersion."""
    if r.method == "poisson_only":
        return (f"exact conditional; valid only if the counts were {family} (the trend has "
                f"{r.df} residual df: no dispersion-aware interval)")
    floor = ", floored at 1" if r.scale_floored else ""
    return (f"quasi-{family} Wald with the dispersion of the series' trend "
            f"({fmt(r.scale)}{floor}), {r.quantiles}; the exact interval is a sensitivity")


@dataclass(frozen=True, eq=False, repr=False)
class TrendResult(Result):
    sources = ("needs_reflection",)
    SUMMARY_KEYS = ("requests.trend_rr_per_year",)
    fit: stats.GLMFit | None = None

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
        ax.set_ylim(0, None)
        plotting.finish_axes(ax, lang, years=d["fiscal_year"], ylabel="requests_count",
                             legend="upper right")


def trend(needs_reflection: pd.DataFrame | None = None, *,
          data_dir: str | Path | None = None) -> TrendResult:
    """Log-linear quasi-Poisson trend of requests over all fiscal years (at least three): keys
    ``requests.trend_rr_per_year`` (also ``.excl_fy2017``) and ``requests.trend_dispersion``."""
    df = needs_frame(needs_reflection, data_dir)
    _input.require_years(df, 3, "the requests trend")
    years = df["fiscal_year"].tolist()
    X = pd.DataFrame({"const": 1.0, "year": (df["fiscal_year"] - years[0]).astype(float)})
    fit = stats.fit_quasi_poisson(df["requests"], X, what="requests trend")
    main = ratio_estimate("requests.trend_rr_per_year", fit, "year", UNIT_RR_YEAR)
    est = [main, Estimate("requests.trend_dispersion", fit.dispersion, unit="Pearson chi2/df")]
    startup = START_UP_FY in years
    rest = df["fiscal_year"] != START_UP_FY
    excl = None
    if startup and rest.sum() >= 3:
        fit_r = stats.fit_quasi_poisson(df.loc[rest, "requests"], X[rest],
                                        what="requests trend without FY2017")
        excl = ratio_estimate(f"requests.trend_rr_per_year.excl_fy{START_UP_FY}", fit_r, "year",
                              UNIT_RR_YEAR)
        est.append(excl)
    eta, se = fit.linear_predictor(X)
    table = df[["fiscal_year", "requests"]].assign(
        fitted=np.exp(eta), fitted_ci_low=np.exp(eta - fit.crit * se),
        fitted_ci_high=np.exp(eta + fit.crit * se),
        pearson_residual=(df["requests"] - np.exp(eta)) / np.sqrt(fit.scale * np.exp(eta)),
    )
    common, common_facts = common_caveats(fit, years)
    facts = {**common_facts, "span": Years(years), "trend": main,
             "pct": abs(100 * (main.value - 1)), "excl": excl,
             "quantiles": quantiles(fit.quantiles)}
    return TrendResult(
        "title_requests_trend", est, facts=facts,
        text_keys=chosen([(main.value < 1, "requests.trend.text_fall"),
                          (main.value >= 1, "requests.trend.text_rise"),
                          (excl is not None, "requests.trend.excl")]),
        method_key="requests.trend.method",
        caveat_keys=chosen([
            (startup, "requests.trend.caveat.single_startup"),
            (not startup, "requests.trend.caveat.single"),
            *common,
        ]),
        n_obs=len(years), data=table, fit=fit)
