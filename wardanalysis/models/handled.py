"""Section 2: the share of requests handled (``requests_handled / requests``): per fiscal year
with its Wilson interval, and over the years a quasi-binomial trend (odds ratio per year).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..results import POISSON_ONLY, Dates, Estimate, Result, Years, chosen, quantiles
from ..text.formats import fmt, years_text
from ..text.glossary import label
from . import _input
from .requests import ratio_estimate

__all__ = ["HandledShareResult", "handled_share", "pooled_label"]

_COLUMNS = ("fiscal_year", "requests", "requests_handled")


@dataclass(frozen=True, eq=False, repr=False)
class HandledShareResult(Result):
    sources = ("needs_reflection",)
    SUMMARY_KEYS = ("handled.trend_or_per_year",)
    fit: stats.GLMFit | None = None

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        ax.fill_between(d["fiscal_year"], d["fitted_ci_low"], d["fitted_ci_high"],
                        color=plotting.COLORS["fit"], alpha=0.2, label=label("fitted_ci95", lang))
        ax.plot(d["fiscal_year"], d["fitted"], color=plotting.COLORS["fit"], lw=2,
                label=label("fitted_trend", lang))
        ax.errorbar(d["fiscal_year"], d["share"], yerr=[d["share"] - d["ci_low"],
                    d["ci_high"] - d["share"]], fmt="o", color=plotting.COLORS["observed"],
                    elinewidth=1.6, capsize=4, markersize=7, markeredgewidth=1.5,
                    label=label("share_wilson_ci", lang))
        lo = float(np.nanmin(np.r_[d["ci_low"], d["fitted_ci_low"]]))
        ax.set_ylim(max(0.0, lo - 0.05), 1.0)
        plotting.finish_axes(ax, lang, years=d["fiscal_year"], ylabel="handled_share",
                             percent="y", legend="lower left", fontsize=9)


def year_share_intervals(successes, trials, years) -> tuple[np.ndarray, np.ndarray, str, bool]:
    """Each year's share of a yearly series with its interval: Wilson on the counts divided by
    the dispersion of the series' logistic trend (:func:`stats.trend_dispersion`); with under
    two residual df there is none to borrow, and the plain Wilson interval is valid only if
    binomial. A share of 0 or 1 has its exact bound (the formula leaves noise). Returns
    ``(low, high, interval label, borrowed)``; every per-year share interval is made here."""
    s, n = np.asarray(successes, dtype=float), np.asarray(trials, dtype=float)
    phi, df = stats.trend_dispersion(s, years, n)
    borrowed = df >= 2
    low, high = stats.scaled_wilson_interval(s, n, phi if borrowed else 1.0)
    low, high = np.where(s == 0, 0.0, low), np.where(s == n, 1.0, high)
    used = np.asarray(years)[n > 0]
    label = (f"Wilson on counts divided by the dispersion of the series' trend "
             f"({fmt(max(1.0, phi))}, {years_text(used)})" if borrowed else
             "Wilson; valid only if binomial (too few years for the series' dispersion)")
    return low, high, label, borrowed


def pooled_label(ps: stats.PooledShare) -> str:
    """How a pooled share's interval was made (:func:`stats.pooled_share`)."""
    return ("Wilson" if ps.quantiles == "Wilson" else
            stats.interval_label("binomial", ps.dispersion, ps.quantiles) + " (intercept only)")


def handled_share(needs_reflection: pd.DataFrame | None = None, *,
                  data_dir: str | Path | None = None) -> HandledShareResult:
    """Share of requests handled per fiscal year and its logistic trend. Keys:
    ``handled.trend_or_per_year``, ``handled.dispersion`` (Pearson chi2/df),
    ``handled.pooled_share`` and ``handled.share.fy<Y>``."""
    df = _input.frame(needs_reflection, "needs_reflection", _COLUMNS, data_dir, by_year=True)
    _input.nonzero(df, "requests", "the handled share")
    _input.require_years(df, 3, "the handled-share trend")
    years = df["fiscal_year"].to_numpy()
    s = df["requests_handled"].to_numpy()
    n = df["requests"].to_numpy()
    X = pd.DataFrame({"const": 1.0, "year": (years - years[0]).astype(float)})
    fit = stats.fit_quasi_binomial(s, n, X, what="the handled-share trend")
    low, high, year_interval, borrowed = year_share_intervals(s, n, years)
    eta, se = fit.linear_predictor(X)
    expit = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    p = expit(eta)
    table = pd.DataFrame({
        "fiscal_year": years, "requests": n, "requests_handled": s, "not_handled": n - s,
        "share": s / n, "ci_low": low, "ci_high": high, "fitted": p,
        "fitted_ci_low": expit(eta - fit.crit * se), "fitted_ci_high": expit(eta + fit.crit * se),
        "pearson_residual": (s - n * p) / np.sqrt(n * p * (1 - p))})
    pooled = stats.pooled_share(s, n, what="the pooled handled share")
    est = [
        ratio_estimate("handled.trend_or_per_year", fit, "year", "odds ratio per year",
                       "binomial"),
        Estimate("handled.dispersion", fit.dispersion, unit="Pearson chi2/df"),
        Estimate("handled.pooled_share", pooled.share, pooled.ci_low, pooled.ci_high,
                 unit="share", interval=pooled_label(pooled)),
    ]
    est += [Estimate(f"handled.share.fy{y}", sh, lo, hi, unit="share", interval=year_interval,
                     flags=() if borrowed else (POISSON_ONLY,))
            for y, sh, lo, hi in zip(years, s / n, low, high, strict=True)]
    as_of = _input.as_of_dates(df)
    dates = sorted({d for d in as_of.values() if d is not None})
    unknown = [y for y, d in as_of.items() if d is None]
    facts = {"first_year": int(years[0]), "last_year": int(years[-1]),
             "first": est[3], "last": est[-1], "trend": est[0], "dispersion": fit.dispersion,
             "df": fit.df_resid, "quantiles": quantiles(fit.quantiles), "dates": Dates(tuple(dates)),
             "unknown": Years(unknown), "n_years": len(years)}
    return HandledShareResult(
        "title_handled", est, facts=facts, text_keys=("handled.text",),
        method_key="handled.method",
        caveat_keys=chosen([
            (bool(dates), "handled.caveat.as_of"),
            (bool(unknown), "handled.caveat.as_of_unknown"),
            (fit.dispersion > 1.5, "handled.caveat.dispersion"),
            (True, "handled.caveat.few_years"),
        ]),
        n_obs=len(years), data=table, fit=fit)
