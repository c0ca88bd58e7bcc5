"""The five wards' monthly counts as a panel (:func:`ward_panel`): the city model's terms with
ward fixed effects (quasi-Poisson, intervals cluster-robust by fiscal year as the city model's),
a GEE sensitivity (exchangeable working correlation of the ward-months within a fiscal year,
Mancl–DeRouen bias-reduced sandwich), and the share of variation between wards.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..errors import ModelInputError, NotEstimableError
from ..results import Estimate, Pct, Pvalue, Result, chosen, fmt
from ..text.glossary import label
from .monthly import (
    MonthlyFit,
    beside,
    checked,
    cr_label,
    finish_plot,
    fit_all,
    measured_coverage,
    monthly_design,
)
from .monthly_data import Simulated, monthly_frame
from .periods import CovidPeriod, covid_period
from .simulate import is_simulated

#: Glossary keys of the wards' names.
WARD_KEYS = {"中央区": "ward_chuo", "東区": "ward_higashi", "西区": "ward_nishi",
             "南区": "ward_minami", "北区": "ward_kita"}


def ward_estimates(y: np.ndarray, X: pd.DataFrame, common: pd.DataFrame, years: np.ndarray,
                    months) -> tuple[tuple[Estimate, ...], MonthlyFit, float]:
    """The estimates of :func:`ward_panel` (also used by ``benchmarks/coverage_05.py``), the
    fit and the GEE's working correlation."""
    import statsmodels.api as sm

    fit = fit_all(y, X, "ward panel", groups=months, nb=False)
    cr = stats.cluster_robust(X, y, fit.qp.fitted, years, params=fit.qp.params)
    lv = cr.ratio("covid_level")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # clusters are fiscal years here too; Mancl–DeRouen's bias-reduced sandwich is the
        # GEE's own small-sample correction (statsmodels), with the same t as the main model
        gee = sm.GEE(y, X.astype(float), groups=pd.factorize(years)[0],
                     family=sm.families.Poisson(),
                     cov_struct=sm.cov_struct.Exchangeable()).fit(cov_type="bias_reduced")
    base = stats.fit_quasi_poisson(y, common, what="ward panel without the wards")
    share = float((base.deviance - fit.qp.deviance) / base.deviance)
    g_est = float(gee.params["covid_level"])
    g_bounds = stats.exp_bounds(g_est, stats.critical_value(lv[3]) * float(gee.bse["covid_level"]))
    rho = float(gee.cov_struct.dep_params)
    est = (
        Estimate("wards.level_rr", *lv[:3], unit="rate ratio", interval=cr_label(cr, lv[3])),
        Estimate("wards.level_rr_gee", math.exp(g_est), *g_bounds, "rate ratio",
                 f"GEE Poisson, exchangeable within fiscal year (correlation {fmt(rho)}), "
                 f"bias-reduced (Mancl–DeRouen) sandwich, t({lv[3]:.1f})"),
        Estimate("wards.between_share", share, unit="share of deviance",
                 interval="deviance of the common terms removed by the ward effects"),
        Estimate("wards.dispersion", fit.qp.dispersion, unit="Pearson chi2 / df"),
        Estimate("wards.ljung_box_p", fit.lb_p, unit="p-value",
                 interval=f"Ljung–Box on {fit.lb_lags} lags of the monthly summed residuals "
                          "(a diagnostic; the intervals do not depend on it)"),
    )
    return est, fit, rho


@dataclass(frozen=True, eq=False, repr=False)
class WardPanelResult(Simulated, Result):
    SUMMARY_KEYS = ("wards.level_rr", "wards.between_share")
    simulated: bool = False
    input_name: str = "monthly_requests"
    period: CovidPeriod = CovidPeriod(2020, 2023)

    def _plot(self, ax: Any, lang: str) -> None:
        d = self.data
        palette = ["#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC", "#555555"]
        for i, (ward, part) in enumerate(d.groupby("ward", sort=False)):
            name = label(WARD_KEYS[ward], lang) if ward in WARD_KEYS else str(ward)
            ax.plot(part["start"], part["requests"], color=palette[i % 6], lw=1, alpha=0.8,
                    label=name)
        finish_plot(ax, self.period, d["start"].max(), self.title(lang), lang, ncol=2)


def ward_panel(monthly_wards: pd.DataFrame, *, covid_start=None, covid_end=None,
               harmonics: int = 2, data_dir=None, simulated: bool | None = None,
               input_name: str = "monthly_requests") -> WardPanelResult:
    """The monthly ITS for each ward's counts (``fiscal_year``, ``month``, ``ward``,
    ``requests``); see the module docstring. The share of variation between wards is the share
    of the deviance left by the common terms that the ward effects remove."""
    df = monthly_frame(monthly_wards, ward=True)
    wards = list(dict.fromkeys(df["ward"]))
    if len(wards) < 2:
        raise NotEstimableError("ward_panel: needs at least two wards")
    if df.duplicated(["start", "ward"]).any():
        raise ModelInputError("ward_panel: a ward appears twice in a month")
    period = covid_period(covid_start, covid_end, data_dir=data_dir)
    X = monthly_design(df, period, harmonics)
    common = X.copy()
    for w in wards[1:]:
        X[f"ward_{w}"] = (df["ward"] == w).astype(float)
    y = df["requests"].to_numpy(float)
    est, fit, rho = ward_estimates(y, X, common, df["fiscal_year"].to_numpy(), df["start"])
    table = df[["fiscal_year", "month", "start", "ward", "requests"]].copy()
    table["fitted"] = fit.qp.fitted
    simulated = is_simulated(monthly_wards) if simulated is None else bool(simulated)
    coverage = measured_coverage(df["fiscal_year"].unique(), period)
    got = {e.key: e for e in est}
    facts = {"p": Pvalue(fit.lb_p), "cells": len(df), "wards": len(wards),
             "years": df["fiscal_year"].nunique(), "rho": rho,
             "checked": checked(coverage, "wards.level_rr",
                                ("before.wards.fe", "before.wards.gee_month")),
             "months": df["start"].nunique(),
             "level": got["wards.level_rr"], "level_beside": beside(coverage, "wards.level_rr"),
             "gee": got["wards.level_rr_gee"], "gee_beside": beside(coverage, "wards.level_rr_gee"),
             "share": Pct(got["wards.between_share"].value)}
    return WardPanelResult(
        title_key="title_ward_panel", estimates=est, n_obs=len(df), facts=facts,
        text_keys=("wards.text",), method_key="wards.method",
        caveat_keys=chosen([(simulated, "monthly.caveat_simulated"),
                            (True, "wards.caveat_same_estimate"), (True, "wards.caveat_share")]),
        data=table, simulated=simulated, input_name=input_name, period=period)
