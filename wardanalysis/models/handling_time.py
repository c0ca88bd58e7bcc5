"""Time from receipt to handling: Kaplan–Meier curves of the days by fiscal year received,
censored at the log's as-of date, so that later years' shorter follow-up is allowed for instead
of stated (for a user's request log, or a SIMULATED one).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..data.inputs import as_of_date
from ..errors import NotEstimableError
from ..results import Dates, Estimate, Result, Years
from ..text.formats import years_text
from . import _input
from .monthly_data import Simulated

__all__ = ["TimeToHandlingResult", "time_to_handling"]


@dataclass(frozen=True, eq=False, repr=False)
class TimeToHandlingResult(Simulated, Result):
    simulated: bool = False
    input_name: str = "request_log"
    as_of: dt.date = dt.date(2024, 6, 26)
    horizon: int = 90
    curves: pd.DataFrame | None = None

    def _plot(self, ax: Any, lang: str) -> None:
        from matplotlib import colormaps

        from .. import plotting

        c = self.curves
        years = sorted(c["fiscal_year"].unique())
        for i, fy in enumerate(years):
            part = c[c["fiscal_year"] == fy]
            ax.step(part["days"], 1 - part["survival"], where="post",
                    color=colormaps["viridis"](i / max(1, len(years) - 1)), lw=1.4,
                    label=years_text([fy], lang))
        ax.set_xlim(0, 365)
        ax.set_ylim(0, 1)
        plotting.finish_axes(ax, lang, xlabel="days_since_received", ylabel="share_handled_km",
                             percent="y", legend="lower right", fontsize=8.5, ncol=2)


def _share_within(sf: Any, at: float) -> tuple[float, float, float]:
    """Share handled within ``at`` days (1 − S(at)) with a log(−log) interval from Greenwood's
    variance."""
    idx = np.searchsorted(sf.surv_times, at, side="right") - 1
    if idx < 0:
        return 0.0, math.nan, math.nan
    s, se = float(sf.surv_prob[idx]), float(sf.surv_prob_se[idx])
    if s <= 0 or s >= 1 or se == 0:
        return 1 - s, math.nan, math.nan
    w = stats.critical_value(None, stats.ALPHA) * se / (s * abs(math.log(s)))
    return 1 - s, 1 - s ** math.exp(-w), 1 - s ** math.exp(w)


def time_to_handling(log: pd.DataFrame, *, as_of=None, horizon: int = 90,
                     simulated: bool | None = None) -> TimeToHandlingResult:
    """Kaplan–Meier curves of days from receipt to handling, one per fiscal year received,
    a request not handled by ``as_of`` (default: the log's latest date) censored there."""
    from statsmodels.duration.survfunc import SurvfuncRight  # heavy: only when a log is given

    log = _input.frame(log, "request_log", ("received_date", "handled_date"))
    cut = pd.Timestamp(as_of_date(log, as_of))
    received = pd.to_datetime(log["received_date"])
    handled_at = pd.to_datetime(log["handled_date"])
    keep = received <= cut
    received, handled_at = received[keep], handled_at[keep]
    event = (handled_at.notna() & (handled_at <= cut)).to_numpy()
    days = (handled_at.where(event, cut) - received).dt.days.to_numpy(float)
    fy = (received.dt.year - (received.dt.month < 4)).to_numpy()
    rows, curves = [], []
    for year in sorted(set(fy)):
        m = fy == year
        sf = SurvfuncRight(days[m], event[m].astype(int))
        share, lo, hi = _share_within(sf, horizon)
        median = sf.quantile(0.5)
        rows.append({"fiscal_year": int(year), "requests": int(m.sum()),
                     "handled": int(event[m].sum()), "censored": int((~event[m]).sum()),
                     "median_days": math.nan if median is None else float(median),
                     "share_within": share, "share_within_ci_low": lo, "share_within_ci_high": hi,
                     "min_follow_up_days": float((cut - received[m].max()).days)})
        curves.append(pd.DataFrame({"fiscal_year": int(year), "days": np.r_[0.0, sf.surv_times],
                                    "survival": np.r_[1.0, sf.surv_prob]}))
    table = pd.DataFrame(rows)
    if table.empty:
        raise NotEstimableError("time_to_handling: no request received by the as-of date")
    est = [Estimate(f"handling.share_within_{horizon}_days.fy{r.fiscal_year}", r.share_within,
                    r.share_within_ci_low, r.share_within_ci_high, "share",
                    "Kaplan–Meier, Greenwood variance, log(−log) 95% interval")
           for r in table.itertuples()]
    if simulated is None:
        simulated = bool((log.attrs.get("provenance") or {}).get("simulated"))
    first, last = table.iloc[0], table.iloc[-1]
    facts = {"as_of": Dates((cut.date(),)), "days": horizon,
             "first_year": Years([int(first["fiscal_year"])]),
             "last_year": Years([int(last["fiscal_year"])]), "first": est[0], "last": est[-1],
             "naive": float(last["handled"] / last["requests"]),
             "follow": int(last["min_follow_up_days"])}
    return TimeToHandlingResult(
        "title_time_to_handling", est, n_obs=int(len(days)),
        facts=facts, text_keys=("handling.text" if len(table) > 1 else "handling.text_one_year",),
        method_key="handling.method",
        caveat_keys=(*(["monthly.caveat_simulated"] if simulated else []),
                     "handling.caveat_censoring"),
        data=table, simulated=bool(simulated), as_of=cut.date(), horizon=horizon,
        curves=pd.concat(curves, ignore_index=True))
