"""Models for monthly and request-level data: what finer data could tell that seven yearly
points cannot.

- :func:`monthly_its`: interrupted time series of monthly counts, quasi-Poisson with a negative
  binomial sensitivity: trend, month-of-year harmonics, level and slope change at the COVID
  start and at the COVID period's end, the counterfactual with prediction intervals, and days
  under the city's measures per month as a second measure of exposure. The months of a fiscal
  year share variation (the simulator's year factor; in real data anything that moves a whole
  year), so the level and slope intervals are cluster-robust by fiscal year with the CR2
  correction and Bell–McCaffrey t (:func:`cluster_robust`): the seven years are the real
  clusters. A Ljung–Box pre-test choosing Newey–West standard errors covered 86% in simulation
  and is gone; the Ljung–Box p-value stays as a diagnostic.
- :func:`ward_panel`: the same terms for the five wards' monthly counts, with ward fixed
  effects (quasi-Poisson, the same cluster-robust intervals) and a GEE sensitivity
  (exchangeable working correlation of the ward-months within a fiscal year, Mancl–DeRouen
  bias-reduced sandwich), and the share of variation between wards.

``benchmarks/coverage_05.py`` checks by simulation that these intervals cover what they claim;
its committed result (:data:`COVERAGE_FILE`) decides what the page may call "detected".
- :func:`time_to_handling`: Kaplan–Meier curves of the days from receipt to handling by fiscal
  year, censored at the log's as-of date, so that later years' shorter follow-up is allowed for
  instead of stated.

The inputs are the user's ``monthly_requests`` / ``request_log`` (``wardanalysis.data.inputs``), or
the SIMULATED ones of ``wardanalysis.models.simulate``: a result made from simulated data says so in
its title, text and records (``simulated``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..errors import MissingColumnError, ModelInputError, NotEstimableError
from ..results import Estimate, Result, fmt, fmt_ci, fmt_p, fmt_pct, years_text
from ..text.glossary import label
from ..text.messages import message
from .extent import MIN_MONTHS, MIN_MONTHS_EACH_SIDE
from .periods import CovidPeriod, covid_period

__all__ = ["WARD_KEYS", "MonthlyITSResult", "MonthlyInputs", "monthly_inputs", "TimeToHandlingResult", "WardPanelResult", "monthly_design",
           "monthly_exposure_days", "monthly_its", "time_to_handling", "ward_name",
           "ward_panel"]

PER_DAYS = 30
_LB_ALPHA = 0.05


class _Simulated:
    """Mix-in: a result made from simulated data says so in its title and records."""

    def title(self, lang: str = "ja") -> str:  # type: ignore[override]
        base = Result.title(self, lang)  # type: ignore[arg-type]
        return message("simulated.title", lang, title=base) if self.simulated else base

    def text(self, lang: str = "ja") -> str:  # type: ignore[override]
        body = Result.text(self, lang)  # type: ignore[arg-type]
        return message("simulated.text", lang, text=body) if self.simulated else body

    def headline(self, lang: str = "ja") -> str:  # type: ignore[override]
        body = Result.headline(self, lang)  # type: ignore[arg-type]
        return message("simulated.text", lang, text=body) if self.simulated else body

    @property
    def sources(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("simulated",) if self.simulated else (self.input_name,)

    def records(self) -> pd.DataFrame:  # type: ignore[override]
        out = Result.records(self)  # type: ignore[arg-type]
        if self.simulated:
            out["flags"] = [";".join(filter(None, [f, "simulated"])) for f in out["flags"]]
        return out


# --- inputs ----------------------------------------------------------------------------------


def _monthly_frame(monthly: pd.DataFrame, ward: bool = False) -> pd.DataFrame:
    need = ["fiscal_year", "month", "requests"] + (["ward"] if ward else [])
    if not isinstance(monthly, pd.DataFrame):
        raise ModelInputError(f"monthly: expected a pandas DataFrame, got {type(monthly).__name__}")
    missing = [c for c in need if c not in monthly.columns]
    if missing:
        raise MissingColumnError("monthly", missing, list(monthly.columns))
    df = monthly[need].copy()
    if df["requests"].isna().any() or (df["requests"] < 0).any():
        raise ModelInputError("monthly: requests must be counts (no gaps, none negative)")
    df["year"] = np.where(df["month"] >= 4, df["fiscal_year"], df["fiscal_year"] + 1)
    df["start"] = pd.to_datetime(dict(year=df["year"], month=df["month"], day=1))
    return df.sort_values(["start", *(["ward"] if ward else [])]).reset_index(drop=True)


def monthly_exposure_days(months: pd.Series, covid_measures: pd.DataFrame | None = None,
                          data_dir=None) -> np.ndarray:
    """Days under the city's COVID restrictions in each month (first days of the months given):
    the union of the restriction periods of ``covid_measures`` (as for the yearly exposure),
    intersected with each calendar month."""
    from .covid_exposure import _restrictions, _union

    _, rows = _restrictions(covid_measures, data_dir, None)
    starts = pd.to_datetime(pd.Series(months)).dt.date.to_numpy()
    horizon = max(starts) + dt.timedelta(days=31)
    union = _union((r.start_date.date(), horizon if pd.isna(r.end_date) else r.end_date.date())
                   for r in rows.itertuples(index=False))
    out = []
    for first in starts:
        last = (pd.Timestamp(first) + pd.offsets.MonthEnd(0)).date()
        out.append(sum(max(0, (min(e, last) - max(s, first)).days + 1) for s, e in union))
    return np.asarray(out, dtype=float)


def monthly_design(df: pd.DataFrame, period: CovidPeriod, harmonics: int = 2,
                   exposure: np.ndarray | None = None) -> pd.DataFrame:
    """The ITS design of monthly rows (``fiscal_year``, ``month``, ``start``): constant, trend
    (per year), month-of-year harmonics, level and slope change at the COVID start and, where
    the data go past it, at the period's end; or, with ``exposure``, days under measures per
    30 days instead of the COVID terms."""
    t = ((df["start"].dt.year - df["start"].dt.year.min()) * 12 + df["start"].dt.month
         - df["start"].iloc[0].month).to_numpy(float) / 12
    X = pd.DataFrame({"const": 1.0, "trend": t}, index=df.index)
    for k in range(1, harmonics + 1):
        X[f"sin{k}"] = np.sin(2 * np.pi * k * df["month"].to_numpy() / 12)
        X[f"cos{k}"] = np.cos(2 * np.pi * k * df["month"].to_numpy() / 12)
    if exposure is not None:
        X["exposure"] = exposure / PER_DAYS
        return X
    start = pd.Timestamp(period.start, 4, 1)
    end = pd.Timestamp(period.end + 1, 4, 1)
    since = ((df["start"] - start).dt.days / 365.25).to_numpy()
    after = ((df["start"] - end).dt.days / 365.25).to_numpy()
    X["covid_level"] = (since >= 0).astype(float)
    X["covid_slope"] = np.clip(since, 0, None)
    if (after >= 0).sum() >= 6:
        X["after_level"] = (after >= 0).astype(float)
        X["after_slope"] = np.clip(after, 0, None)
    return X


def _hac_lags(n: int) -> int:
    """Newey–West's rule of thumb for the lags: floor(4 (n / 100)^(2/9))."""
    return max(1, int(math.floor(4 * (n / 100) ** (2 / 9))))


@dataclass(frozen=True)
class _Fit:
    qp: stats.GLMFit
    nb: stats.NBFit | None
    lb_p: float
    lb_lags: int
    hac_cov: pd.DataFrame | None
    hac_lags: int
    nb_problem: str | None = None  # "boundary" or "not_converged" when nb is None


def _fit_all(y: np.ndarray, X: pd.DataFrame, what: str, groups=None, nb: bool = True) -> _Fit:
    import statsmodels.api as sm
    from statsmodels.stats.diagnostic import acorr_ljungbox

    qp = stats.fit_quasi_poisson(y, X, what=what)
    nb_problem = None
    try:
        if not nb:  # a model whose page shows no negative binomial figure
            raise NotEstimableError(what)
        nb = stats.fit_negative_binomial(y, X, what=what)
        if not nb.converged:
            nb_problem, nb = ("boundary" if nb.at_boundary else "not_converged"), None
    except (NotEstimableError, np.linalg.LinAlgError, ValueError):
        nb_problem, nb = "not_converged", None
    resid = (y - qp.fitted) / np.sqrt(qp.fitted)
    if groups is not None:  # autocorrelation of the months' total residual
        resid = pd.Series(resid).groupby(np.asarray(groups)).sum().to_numpy()
    lags = int(min(12, max(1, len(resid) // 5)))
    lb_p = float(acorr_ljungbox(resid, lags=[lags])["lb_pvalue"].iloc[0])
    hac_cov, hac_lags = None, _hac_lags(len(resid))
    if lb_p < _LB_ALPHA:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = sm.GLM(y, X.astype(float), family=sm.families.Poisson())
            if groups is None:
                res = model.fit(cov_type="HAC", cov_kwds={"maxlags": hac_lags})
            else:  # months are the time index of a panel: Driscoll–Kraay-type by month
                res = model.fit(cov_type="hac-groupsum", cov_kwds={
                    "time": pd.factorize(np.asarray(groups))[0], "maxlags": hac_lags})
        hac_cov = pd.DataFrame(np.asarray(res.cov_params()), index=X.columns, columns=X.columns)
    return _Fit(qp, nb, lb_p, lags, hac_cov, hac_lags, nb_problem)


@dataclass(frozen=True, eq=False)
class ClusterRobust:
    """Cluster-robust covariance of a log-link count model's coefficients with the CR2
    small-sample correction (Bell and McCaffrey 2002) and, for each contrast, Student's t on
    the Bell–McCaffrey degrees of freedom (Imbens and Kolesár 2016; Pustejovsky and Tipton
    2018). With few clusters (here seven fiscal years) the plain cluster sandwich is biased
    down and t(G − 1) too light-tailed; statsmodels offers neither correction for a GLM, so it
    is written here (checked against a direct computation in tests/reference)."""

    params: pd.Series
    cov: pd.DataFrame
    n_clusters: int
    _resid_maker: np.ndarray = field(repr=False)  # I − H, n × n
    _parts: tuple = field(repr=False)  # per cluster: (row indices, A_g X̃_g B)
    alpha: float = stats.ALPHA

    def _vector(self, weights: dict[str, float] | str | np.ndarray) -> np.ndarray:
        if isinstance(weights, np.ndarray):
            return weights.astype(float)
        if isinstance(weights, str):
            weights = {weights: 1.0}
        w = pd.Series(0.0, index=self.params.index)
        for k, v in weights.items():
            w[k] = v
        return w.to_numpy()

    def df(self, weights: dict[str, float] | str | np.ndarray) -> float:
        """Bell–McCaffrey degrees of freedom of the contrast ``weights``."""
        c = self._vector(weights)
        G = np.column_stack([self._resid_maker[:, ix] @ (part @ c) for ix, part in self._parts])
        GG = G.T @ G
        return float(np.trace(GG) ** 2 / np.trace(GG @ GG))

    def interval(self, weights: dict[str, float] | str | np.ndarray
                 ) -> tuple[float, float, float, float]:
        """Estimate, standard error, degrees of freedom and t critical value of a contrast
        of the coefficients."""
        c = self._vector(weights)
        df = self.df(c)
        return (float(c @ self.params.to_numpy()), float(np.sqrt(c @ self.cov.to_numpy() @ c)),
                df, stats.critical_value(df, self.alpha))

    def ratio(self, weights: dict[str, float] | str) -> tuple[float, float, float, float]:
        """``exp`` of a contrast with its 95% interval, and the degrees of freedom used."""
        est, se, df, t = self.interval(weights)
        lo, hi = _bounds(est, t * se)
        return math.exp(est), lo, hi, df


def _bounds(est: float, half: float) -> tuple[float, float]:
    """``exp(est ± half)``; NaN (no interval) where it leaves the floating-point range, as a
    bias-reduced sandwich can when one fiscal year alone determines a coefficient."""
    with np.errstate(over="ignore", invalid="ignore"):
        lo, hi = float(np.exp(est - half)), float(np.exp(est + half))
    return (lo, hi) if math.isfinite(hi) and lo > 0 else (math.nan, math.nan)


def cluster_robust(X: pd.DataFrame, y: np.ndarray, mu: np.ndarray, groups,
                   variance: np.ndarray | None = None, params: pd.Series | None = None
                   ) -> ClusterRobust:
    """The CR2 cluster-robust covariance of a log-link GLM fitted by (quasi-)likelihood with
    fitted means ``mu`` and variance function values ``variance`` (``mu`` for Poisson,
    ``mu + alpha mu^2`` for NB2), clusters ``groups``: with working weights ``w = mu^2 / v``,
    ``X̃ = sqrt(w) X`` and residuals ``r = (y − mu) / sqrt(v)``,
    ``V = B (Σ_g X̃_g' A_g r_g r_g' A_g X̃_g) B`` with ``B = (X̃'X̃)^-1`` and
    ``A_g = (I − H_gg)^(−1/2)``."""
    Xm = X.to_numpy(dtype=float)
    y, mu = np.asarray(y, dtype=float), np.asarray(mu, dtype=float)
    v = mu if variance is None else np.asarray(variance, dtype=float)
    sw = mu / np.sqrt(v)
    Xt = sw[:, None] * Xm
    r = (y - mu) / np.sqrt(v)
    B = np.linalg.inv(Xt.T @ Xt)
    H = Xt @ B @ Xt.T
    codes, labels = pd.factorize(np.asarray(groups))
    if len(labels) < 2:
        raise NotEstimableError("cluster-robust covariance: needs at least two clusters")
    meat = np.zeros_like(B)
    parts = []
    for g in range(len(labels)):
        ix = np.flatnonzero(codes == g)
        vals, vecs = np.linalg.eigh(np.eye(len(ix)) - H[np.ix_(ix, ix)])
        # where one cluster alone determines a combination of coefficients (e.g. a single year
        # before the COVID period), I − H_gg is singular: its Moore–Penrose inverse square root,
        # as R's clubSandwich does
        keep = vals > 1e-10
        A = (vecs[:, keep] / np.sqrt(vals[keep])) @ vecs[:, keep].T
        s = Xt[ix].T @ (A @ r[ix])
        meat += np.outer(s, s)
        parts.append((ix, A @ Xt[ix] @ B))
    cov = B @ meat @ B
    names = list(X.columns)
    if params is None:
        params = pd.Series(np.nan, index=names)
    return ClusterRobust(params=params[names].astype(float),
                         cov=pd.DataFrame(cov, index=names, columns=names),
                         n_clusters=len(labels), _resid_maker=np.eye(len(y)) - H,
                         _parts=tuple(parts))


def _cr_label(cr: ClusterRobust, df: float) -> str:
    return (f"CR2 cluster-robust by fiscal year ({cr.n_clusters} clusters), "
            f"t({df:.1f}, Bell–McCaffrey)")


def _ratio(fit: _Fit, name: str, use_hac: bool) -> tuple[float, float, float, str]:
    if use_hac and fit.hac_cov is not None:
        est = float(fit.qp.params[name])
        se = float(np.sqrt(fit.hac_cov.loc[name, name]))
        crit = stats.critical_value(fit.qp.df_resid)
        return (math.exp(est), math.exp(est - crit * se), math.exp(est + crit * se),
                f"Wald, HAC (Newey–West, {fit.hac_lags} lags) standard errors, t({fit.qp.df_resid})")
    r = fit.qp.ratio(name)
    return (*r, f"quasi-Poisson Wald, dispersion {fmt(fit.qp.dispersion)}, {fit.qp.quantiles}")


#: The committed result of ``benchmarks/coverage_05.py``: how often page 05's intervals cover
#: the truth in simulation of the data they are used on (read, never computed, here).
COVERAGE_FILE = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "coverage_05.json"


def measured_coverage(fiscal_years: Sequence[int] | None = None,
                      period: CovidPeriod | None = None) -> dict[str, dict[str, Any]]:
    """Per interval key: the lowest coverage over the scenarios and effects of the committed
    simulation check, the highest size, whether the target (coverage ≥ 93%, size ≤ 6%) holds
    in every scenario, and the replications. Empty when the result is not there, or when data
    of other fiscal years or another COVID period are analysed (the check did not cover them)."""
    import json

    if not COVERAGE_FILE.is_file():
        return {}
    result = json.loads(COVERAGE_FILE.read_text(encoding="utf-8"))
    if fiscal_years is not None and sorted(set(int(y) for y in fiscal_years)) != list(
            range(result["fiscal_years"][0], result["fiscal_years"][1] + 1)):
        return {}
    if period is not None and [period.start, period.end] != result["covid_period"]:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for scenario in result["scenarios"].values():
        for key, e in scenario.items():
            if not isinstance(e, dict):
                continue
            o = out.setdefault(key, {"coverage": 1.0, "size": 0.0, "meets_target": True,
                                     "reps": int(result["reps"])})
            o["coverage"] = min(o["coverage"], float(e["coverage"]))
            o["size"] = max(o["size"], float(e.get("size", 0.0)))
            o["meets_target"] = o["meets_target"] and bool(e["meets_target"])
    return out


def _coverage_facts(got: dict[str, dict[str, Any]], key: str, before: Sequence[str]
                    ) -> dict[str, Any] | None:
    if key not in got:
        return None
    return {"reps": got[key]["reps"], "coverage": got[key]["coverage"],
            "size": got[key]["size"], "before": [got[b]["coverage"] for b in before if b in got]}


def _checked_sentence(checked: dict[str, Any] | None, lang: str) -> str:
    if checked is None or len(checked["before"]) < 2:
        return message("monthly.method_unchecked", lang)
    return message("monthly.method_checked", lang, reps=str(checked["reps"]),
                   coverage=fmt_pct(checked["coverage"]), size=fmt_pct(checked["size"]),
                   before_a=fmt_pct(checked["before"][0]), before_b=fmt_pct(checked["before"][1]))


def _beside(coverage: Mapping[str, dict[str, Any]], key: str, lang: str) -> str:
    """The measured coverage to show beside an interval that misses the target ("" if none)."""
    got = coverage.get(key)
    if got is None or got["meets_target"]:
        return ""
    return message("monthly.coverage_beside", lang, coverage=fmt_pct(got["coverage"]))


def _target_holds(coverage: Mapping[str, dict[str, Any]], key: str) -> bool:
    """Whether the simulation check of these data's design shows that ``key`` meets its
    target (False where the design was not checked)."""
    got = coverage.get(key)
    return bool(got and got["meets_target"])


def _city_estimates(y: np.ndarray, X: pd.DataFrame, years: np.ndarray
                    ) -> tuple[list[Estimate], _Fit, pd.DataFrame, np.ndarray]:
    """The estimates of :func:`monthly_its` but the exposure model (also used by the coverage
    check in ``benchmarks/coverage_05.py``): the fit, the counterfactual band and the COVID
    period's months."""
    fit = _fit_all(y, X, "monthly interrupted time series")
    cr = cluster_robust(X, y, fit.qp.fitted, years, params=fit.qp.params)
    est = []
    lv = cr.ratio("covid_level")
    est.append(Estimate("monthly.level_rr", *lv[:3], "rate ratio", _cr_label(cr, lv[3])))
    sl = cr.ratio("covid_slope")
    est.append(Estimate("monthly.slope_rr_per_year", *sl[:3], "rate ratio per year",
                        _cr_label(cr, sl[3])))
    if fit.nb is not None:
        mu_nb = np.exp(X.to_numpy(float) @ fit.nb.params.to_numpy())
        crn = cluster_robust(X, y, mu_nb, years, variance=mu_nb + fit.nb.nb_alpha * mu_nb ** 2,
                             params=fit.nb.params)
        nb = crn.ratio("covid_level")
        est.append(Estimate("monthly.level_rr_nb", *nb[:3], unit="rate ratio",
                            interval="negative binomial (NB2), " + _cr_label(crn, nb[3])))
    # the counterfactual: the fitted model with the COVID terms at zero
    Xc = X.copy()
    for c in ("covid_level", "covid_slope", "after_level", "after_slope"):
        if c in Xc:
            Xc[c] = 0.0
    during = X["covid_level"].to_numpy() == 1
    if "after_level" in X:
        during &= X["after_level"].to_numpy() == 0
    # The Poisson score equations of the COVID terms make the fitted total of the period equal
    # the observed one, so observed ÷ counterfactual is a function of the coefficients: the
    # ratio of the period's expected totals with and without the COVID terms (delta method).
    observed = float(y[during].sum())
    mu_f = fit.qp.fitted[during]
    mu_c = np.exp(Xc[during].to_numpy(float) @ fit.qp.params.to_numpy())
    total = float(mu_c.sum())
    grad = (mu_f @ X[during].to_numpy(float) / mu_f.sum()
            - mu_c @ Xc[during].to_numpy(float) / total)
    _, se_ov, df_ov, t_ov = cr.interval(grad)
    ov = observed / total
    est.append(Estimate("monthly.observed_vs_counterfactual", ov,
                        *(ov * b for b in _bounds(0.0, t_ov * se_ov)), "ratio",
                        "observed total ÷ counterfactual total (COVID terms at zero), delta "
                        "method on the " + _cr_label(cr, df_ov)))
    # the figure's band: each month's new count, the coefficients' covariance and t of the level
    pi = stats.prediction_interval(dataclasses.replace(fit.qp, cov=cr.cov, df_resid=lv[3]), Xc)
    est.append(Estimate("monthly.dispersion", fit.qp.dispersion, unit="Pearson chi2 / df"))
    est.append(Estimate("monthly.ljung_box_p", fit.lb_p, unit="p-value",
                        interval=f"Ljung–Box on {fit.lb_lags} lags of the Pearson residuals "
                                 "(a diagnostic; the intervals do not depend on it)"))
    return est, fit, pi, during


# --- the monthly interrupted time series -----------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class MonthlyITSResult(_Simulated, Result):
    SUMMARY_KEYS = ("monthly.level_rr", "monthly.observed_vs_counterfactual")
    simulated: bool = False
    input_name: str = "monthly_requests"
    period: CovidPeriod = CovidPeriod(2020, 2023)
    autocorrelated: bool = False
    #: why there is no negative binomial figure: "boundary" or "not_converged" (None: there is)
    nb_problem: str | None = None
    #: whether the days under measures vary enough beside the COVID terms to be read at all
    exposure_separable: bool = True
    #: the simulation check of this design (:func:`measured_coverage`; empty: not checked)
    coverage: Mapping[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def _facts(self, lang: str) -> dict[str, str]:
        lv = self.estimate("monthly.level_rr")
        nb = self.estimate("monthly.level_rr_nb") if "monthly.level_rr_nb" in self.keys() else None
        ov = self.estimate("monthly.observed_vs_counterfactual")
        ex = self.estimate("monthly.exposure_rr_per_30_days")
        return {
            "months": str(self.n_obs),
            "span": years_text(self.data["fiscal_year"].unique(), lang),
            "covid": years_text([self.period.start, self.period.end], lang),
            "level": fmt(lv.value),
            "level_ci": fmt_ci(lv.ci_low, lv.ci_high, lang) + _beside(self.coverage, "monthly.level_rr", lang),
            "nb_sentence": message("monthly.nb_text", lang, nb=fmt(nb.value),
                                   nb_ci=fmt_ci(nb.ci_low, nb.ci_high, lang)
                                   + _beside(self.coverage, "monthly.level_rr_nb", lang)) if nb
            else message(f"monthly.nb_{self.nb_problem}", lang),
            "ratio": fmt(ov.value),
            "ratio_ci": fmt_ci(ov.ci_low, ov.ci_high, lang)
            + _beside(self.coverage, "monthly.observed_vs_counterfactual", lang),
            "exposure_sentence": message(
                "monthly.exposure_text" if self.exposure_separable else "monthly.exposure_not_separable",
                lang, exposure=fmt(ex.value), exposure_ci=fmt_ci(ex.ci_low, ex.ci_high, lang)),
            # "detected" only where the simulation check shows the interval keeps its promise
            "verdict": message(("monthly.verdict_yes" if lv.interval_excludes_one
                                else "monthly.verdict_no") if _target_holds(self.coverage, "monthly.level_rr")
                               else ("monthly.verdict_excludes" if lv.interval_excludes_one
                                     else "monthly.verdict_includes"), lang),
        }

    def _text(self, lang: str) -> str:
        return message("monthly.its_text", lang, **self._facts(lang))

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        x = d["start"]
        ax.plot(x, d["requests"], color=plotting.COLORS["observed"], lw=1.2, marker="o", ms=2.5,
                label=label("observed_monthly", lang))
        ax.plot(x, d["fitted"], color=plotting.COLORS["fit"], lw=1.6, label=label("fitted_its", lang))
        cf = d["counterfactual"].notna()
        ax.fill_between(x[cf], d.loc[cf, "counterfactual_pi_low"], d.loc[cf, "counterfactual_pi_high"],
                        color=plotting.COLORS["counterfactual"], alpha=0.18,
                        label=label("counterfactual_pi95", lang))
        ax.plot(x[cf], d.loc[cf, "counterfactual"], color=plotting.COLORS["counterfactual"], lw=1.6,
                ls="--", label=label("counterfactual_trend", lang))
        last = x.max() + pd.offsets.MonthEnd(0)
        ax.axvspan(pd.Timestamp(self.period.start, 4, 1),
                   min(pd.Timestamp(self.period.end + 1, 4, 1), last),
                   color=plotting.COLORS["covid"], alpha=0.06, label=label("covid_period", lang))
        ax.set_ylabel(label("requests_per_month", lang))
        ax.set_ylim(bottom=0)
        ax.set_title(self.title(lang))
        ax.legend(loc="upper right", fontsize=8.5)


def monthly_its(monthly: pd.DataFrame, *, covid_start=None, covid_end=None, harmonics: int = 2,
                covid_measures: pd.DataFrame | None = None, data_dir=None,
                simulated: bool | None = None, input_name: str = "monthly_requests"
                ) -> MonthlyITSResult:
    """Interrupted time series of city-wide monthly counts (``fiscal_year``, ``month``,
    ``requests``), see the module docstring. ``simulated`` defaults to the frame's provenance."""
    df = _monthly_frame(monthly)
    if len(df) < MIN_MONTHS:
        raise NotEstimableError(f"monthly_its: {len(df)} months; at least {MIN_MONTHS} are needed "
                                "(a year before the COVID period and two in it)")
    if df["start"].duplicated().any():
        raise ModelInputError("monthly_its: a month appears twice; give one city-wide row per month")
    period = covid_period(covid_start, covid_end, data_dir=data_dir)
    X = monthly_design(df, period, harmonics)
    each = MIN_MONTHS_EACH_SIDE
    if X["covid_level"].sum() < each or (1 - X["covid_level"]).sum() < each:
        raise NotEstimableError(f"monthly_its: needs at least {each} months before the COVID "
                                f"period and {each} in or after it")
    y = df["requests"].to_numpy(float)
    est, fit, pi, during = _city_estimates(y, X, df["fiscal_year"].to_numpy())
    # exposure: days under measures in the month, beside the COVID terms (a flat step over the
    # period is not a dose-response: benchmarks/exposure_size.py measures the size)
    days = monthly_exposure_days(df["start"], covid_measures, data_dir)
    exposure_separable = True
    if days.max() > 0:
        from .covid_exposure import fit_exposure

        fe = fit_exposure(y, X, days, what="monthly exposure model")
        exposure_separable = fe.separable
        est.append(Estimate(
            "monthly.exposure_rr_per_30_days", fe.ratio, fe.ci_low, fe.ci_high,
            unit=f"rate ratio per {PER_DAYS} days under measures",
            interval=f"quasi-Poisson beside the COVID terms (scale max(1, dispersion), "
                     f"t({fe.fit.df_resid})); period terms explain {fe.r2:.0%} of the days",
            flags=() if fe.separable else ("not_separable",)))
    else:
        est.append(Estimate("monthly.exposure_rr_per_30_days", math.nan, unit="rate ratio",
                            interval="no month under measures in the data"))
    table = df[["fiscal_year", "month", "start", "requests"]].copy()
    table["days_under_measures"] = days.astype(int)
    table["fitted"] = fit.qp.fitted
    table["counterfactual"] = np.where(during, pi["expected"], np.nan)
    table["counterfactual_pi_low"] = np.where(during, pi["pi_low"], np.nan)
    table["counterfactual_pi_high"] = np.where(during, pi["pi_high"], np.nan)
    if simulated is None:
        simulated = bool((monthly.attrs.get("provenance") or {}).get("simulated"))
    coverage = measured_coverage(df["fiscal_year"].unique(), period)
    checked = _coverage_facts(coverage, "monthly.level_rr",
                              ("before.monthly.qp", "before.monthly.lb_nw"))

    def facts(lang: str) -> dict[str, str]:
        return {"dispersion": fmt(fit.qp.dispersion), "p": fmt_p(fit.lb_p, lang),
                "months": str(len(df)), "harmonics": str(harmonics),
                "after": message("monthly.method_after", lang) if "after_level" in X else "",
                "period": period.describe(df["fiscal_year"].unique(), lang),
                "years": str(df["fiscal_year"].nunique()), "per_days": str(PER_DAYS),
                "checked": _checked_sentence(checked, lang)}

    cav = [("monthly.caveat_counterfactual", True),
           ("monthly.caveat_clusters", True),
           ("monthly.caveat_dispersion", fit.qp.dispersion > 1.5),
           ("monthly.caveat_simulated", bool(simulated))]
    chosen = [k for k, c in cav if c]
    chosen.sort(key=lambda k: k != "monthly.caveat_simulated")
    return MonthlyITSResult(
        title_key="title_monthly_its", estimates=tuple(est),
        method=message("monthly.method", "en", **facts("en")),
        method_ja=message("monthly.method", "ja", **facts("ja")),
        n_obs=len(df), caveats=tuple(message(k, "en", **facts("en")) for k in chosen),
        caveats_ja=tuple(message(k, "ja", **facts("ja")) for k in chosen), data=table,
        simulated=bool(simulated), input_name=input_name, period=period,
        autocorrelated=bool(fit.lb_p < _LB_ALPHA), nb_problem=fit.nb_problem, coverage=coverage,
        exposure_separable=exposure_separable)


#: Glossary keys of the wards' names.
WARD_KEYS = {"中央区": "ward_chuo", "東区": "ward_higashi", "西区": "ward_nishi",
             "南区": "ward_minami", "北区": "ward_kita"}


def ward_name(ward: str, lang: str) -> str:
    """A ward's name in ``lang`` (a name the glossary does not know is shown as given)."""
    return label(WARD_KEYS[ward], lang) if ward in WARD_KEYS else str(ward)


def _ward_estimates(y: np.ndarray, X: pd.DataFrame, common: pd.DataFrame, years: np.ndarray,
                    months) -> tuple[tuple[Estimate, ...], _Fit, float]:
    """The estimates of :func:`ward_panel` (also used by ``benchmarks/coverage_05.py``), the
    fit and the GEE's working correlation."""
    import statsmodels.api as sm

    fit = _fit_all(y, X, "ward panel", groups=months, nb=False)
    cr = cluster_robust(X, y, fit.qp.fitted, years, params=fit.qp.params)
    lv = cr.ratio("covid_level")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = sm.GLM(y, common.astype(float), family=sm.families.Poisson()).fit()
        # clusters are fiscal years here too; Mancl–DeRouen's bias-reduced sandwich is the
        # GEE's own small-sample correction (statsmodels), with the same t as the main model
        gee = sm.GEE(y, X.astype(float), groups=pd.factorize(years)[0],
                     family=sm.families.Poisson(),
                     cov_struct=sm.cov_struct.Exchangeable()).fit(cov_type="bias_reduced")
    share = float((base.deviance - fit.qp.deviance) / base.deviance)
    g_est = float(gee.params["covid_level"])
    g_se = float(gee.bse["covid_level"])
    t = stats.critical_value(lv[3])
    rho = float(gee.cov_struct.dep_params)
    est = (
        Estimate("wards.level_rr", *lv[:3], unit="rate ratio", interval=_cr_label(cr, lv[3])),
        Estimate("wards.level_rr_gee", math.exp(g_est), *_bounds(g_est, t * g_se), "rate ratio",
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


# --- the ward panel --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class WardPanelResult(_Simulated, Result):
    SUMMARY_KEYS = ("wards.level_rr", "wards.between_share")
    simulated: bool = False
    input_name: str = "monthly_requests"
    coverage: Mapping[str, dict[str, Any]] = field(default_factory=dict, repr=False)

    def _facts(self, lang: str) -> dict[str, str]:
        lv = self.estimate("wards.level_rr")
        ge = self.estimate("wards.level_rr_gee")
        sh = self.estimate("wards.between_share")
        return {"wards": str(self.data["ward"].nunique()),
                "months": str(self.data["start"].nunique()),
                "level": fmt(lv.value),
                "level_ci": fmt_ci(lv.ci_low, lv.ci_high, lang) + _beside(self.coverage, "wards.level_rr", lang),
                "gee": fmt(ge.value),
                "gee_ci": fmt_ci(ge.ci_low, ge.ci_high, lang) + _beside(self.coverage, "wards.level_rr_gee", lang),
                "share": fmt_pct(sh.value)}

    def _text(self, lang: str) -> str:
        return message("wards.text", lang, **self._facts(lang))

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        palette = ["#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC", "#555555"]
        for i, (ward, part) in enumerate(d.groupby("ward", sort=False)):
            name = ward_name(ward, lang)
            ax.plot(part["start"], part["requests"], color=palette[i % 6], lw=1, alpha=0.8,
                    label=name)
        ax.axvspan(pd.Timestamp(int(self.period_start), 4, 1),
                   min(pd.Timestamp(int(self.period_end) + 1, 4, 1),
                       d["start"].max() + pd.offsets.MonthEnd(0)),
                   color=plotting.COLORS["covid"], alpha=0.06, label=label("covid_period", lang))
        ax.set_ylabel(label("requests_per_month", lang))
        ax.set_ylim(bottom=0)
        ax.set_title(self.title(lang))
        ax.legend(loc="upper right", fontsize=8.5, ncol=2)

    period_start: int = 2020
    period_end: int = 2023


def ward_panel(monthly_wards: pd.DataFrame, *, covid_start=None, covid_end=None,
               harmonics: int = 2, data_dir=None, simulated: bool | None = None,
               input_name: str = "monthly_requests") -> WardPanelResult:
    """The monthly ITS for each ward's counts (``fiscal_year``, ``month``, ``ward``,
    ``requests``): ward fixed effects in a quasi-Poisson GLM (intervals cluster-robust by fiscal
    year, as the city model's), a GEE Poisson sensitivity with an exchangeable working
    correlation of the ward-months within each fiscal year (bias-reduced sandwich), and the
    share of variation between wards: the share of the deviance left by the common terms that
    the ward effects remove."""

    df = _monthly_frame(monthly_wards, ward=True)
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
    est, fit, rho = _ward_estimates(y, X, common, df["fiscal_year"].to_numpy(), df["start"])
    table = df[["fiscal_year", "month", "start", "ward", "requests"]].copy()
    table["fitted"] = fit.qp.fitted
    if simulated is None:
        simulated = bool((monthly_wards.attrs.get("provenance") or {}).get("simulated"))
    coverage = measured_coverage(df["fiscal_year"].unique(), period)
    checked = _coverage_facts(coverage, "wards.level_rr",
                              ("before.wards.fe", "before.wards.gee_month"))
    keys = (["monthly.caveat_simulated"] if simulated else []) + ["wards.caveat_same_estimate",
                                                                   "wards.caveat_share"]

    def facts(lang: str) -> dict[str, str]:
        return {"p": fmt_p(fit.lb_p, lang), "cells": str(len(df)), "wards": str(len(wards)),
                "years": str(df["fiscal_year"].nunique()), "rho": fmt(rho),
                "checked": _checked_sentence(checked, lang)}

    return WardPanelResult(
        title_key="title_ward_panel", estimates=est,
        method=message("wards.method", "en", **facts("en")),
        method_ja=message("wards.method", "ja", **facts("ja")),
        n_obs=len(df), caveats=tuple(message(k, "en", **facts("en")) for k in keys),
        caveats_ja=tuple(message(k, "ja", **facts("ja")) for k in keys), data=table,
        simulated=bool(simulated),
        input_name=input_name, period_start=period.start, period_end=period.end,
        coverage=coverage)


# --- time to handling ------------------------------------------------------------------------


def km_share_handled(days: np.ndarray, handled: np.ndarray, at: float,
                     alpha: float = stats.ALPHA) -> tuple[float, float, float]:
    """Kaplan–Meier share handled within ``at`` days (1 − S(at)) with a log(−log) interval
    from Greenwood's variance (statsmodels ``SurvfuncRight``)."""
    from statsmodels.duration.survfunc import SurvfuncRight

    sf = SurvfuncRight(days, handled.astype(int))
    idx = np.searchsorted(sf.surv_times, at, side="right") - 1
    if idx < 0:
        return 0.0, math.nan, math.nan
    s, se = float(sf.surv_prob[idx]), float(sf.surv_prob_se[idx])
    if s <= 0 or s >= 1 or se == 0:
        return 1 - s, math.nan, math.nan
    z = stats.critical_value(None, alpha)
    w = z * se / (s * abs(math.log(s)))
    lo, hi = s ** math.exp(w), s ** math.exp(-w)
    return 1 - s, 1 - hi, 1 - lo


@dataclass(frozen=True, eq=False, repr=False)
class TimeToHandlingResult(_Simulated, Result):
    SUMMARY_KEYS = ()
    simulated: bool = False
    input_name: str = "request_log"
    as_of: dt.date = dt.date(2024, 6, 26)
    horizon: int = 90
    curves: pd.DataFrame | None = None

    def _facts(self, lang: str) -> dict[str, str]:
        d = self.data
        first, last = d.iloc[0], d.iloc[-1]
        return {"as_of": (f"{self.as_of.year}年{self.as_of.month}月{self.as_of.day}日" if lang == "ja"
                          else self.as_of.isoformat()),
                "days": str(self.horizon),
                "first": years_text([int(first["fiscal_year"])], lang),
                "last": years_text([int(last["fiscal_year"])], lang),
                "first_share": fmt_pct(first["share_within"]),
                "first_ci": fmt_ci(first["share_within_ci_low"], first["share_within_ci_high"], lang, pct=True),
                "last_share": fmt_pct(last["share_within"]),
                "last_ci": fmt_ci(last["share_within_ci_low"], last["share_within_ci_high"], lang, pct=True),
                "naive": fmt_pct(last["handled"] / last["requests"]),
                "follow": str(int(last["min_follow_up_days"]))}

    def _text(self, lang: str) -> str:
        return message("handling.text", lang, **self._facts(lang))

    def _plot(self, ax: Any, lang: str) -> None:
        c = self.curves
        years = sorted(c["fiscal_year"].unique())
        cmap = __import__("matplotlib").colormaps["viridis"]
        for i, fy in enumerate(years):
            part = c[c["fiscal_year"] == fy]
            ax.step(part["days"], 1 - part["survival"], where="post",
                    color=cmap(i / max(1, len(years) - 1)), lw=1.4,
                    label=years_text([fy], lang))
        ax.set_xlim(0, 365)
        ax.set_ylim(0, 1)
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(label("days_since_received", lang))
        ax.set_ylabel(label("share_handled_km", lang))
        ax.set_title(self.title(lang))
        ax.legend(loc="lower right", fontsize=8.5, ncol=2)


def time_to_handling(log: pd.DataFrame, *, as_of=None, horizon: int = 90,
                     simulated: bool | None = None) -> TimeToHandlingResult:
    """Kaplan–Meier curves of days from receipt to handling, one per fiscal year received,
    a request not handled by ``as_of`` (default: the log's latest date) censored there."""
    from statsmodels.duration.survfunc import SurvfuncRight

    from ..data.inputs import as_of_date

    for c in ("received_date", "handled_date"):
        if c not in log.columns:
            raise MissingColumnError("request_log", [c], list(log.columns))
    cut = pd.Timestamp(as_of_date(log, as_of))
    received = pd.to_datetime(log["received_date"])
    handled_at = pd.to_datetime(log["handled_date"])
    keep = received <= cut
    received, handled_at = received[keep], handled_at[keep]
    event = handled_at.notna() & (handled_at <= cut)
    end = handled_at.where(event, cut)
    days = (end - received).dt.days.to_numpy(float)
    fy = (received.dt.year - (received.dt.month < 4)).to_numpy()
    rows, curves = [], []
    for year in sorted(set(fy)):
        m = fy == year
        d, e = days[m], event.to_numpy()[m]
        sf = SurvfuncRight(d, e.astype(int))
        share, lo, hi = km_share_handled(d, e, horizon)
        median = sf.quantile(0.5)
        follow = float((cut - received[m].max()).days)
        rows.append({"fiscal_year": int(year), "requests": int(m.sum()), "handled": int(e.sum()),
                     "censored": int((~e).sum()), "median_days": float(median) if median is not None
                     and not np.isnan(median) else math.nan,
                     "share_within": share, "share_within_ci_low": lo,
                     "share_within_ci_high": hi, "min_follow_up_days": follow})
        curves.append(pd.DataFrame({"fiscal_year": int(year),
                                    "days": np.r_[0.0, sf.surv_times],
                                    "survival": np.r_[1.0, sf.surv_prob]}))
    table = pd.DataFrame(rows)
    if table.empty:
        raise NotEstimableError("time_to_handling: no request received by the as-of date")
    est = []
    for r in table.itertuples():
        est.append(Estimate(f"handling.share_within_{horizon}_days.fy{r.fiscal_year}",
                            r.share_within, r.share_within_ci_low, r.share_within_ci_high,
                            "share", "Kaplan–Meier, Greenwood variance, log(−log) 95% interval"))
    if simulated is None:
        simulated = bool((log.attrs.get("provenance") or {}).get("simulated"))
    method = (f"Kaplan–Meier estimate (statsmodels SurvfuncRight) of the days from receipt to "
              f"handling for each fiscal year received; requests not handled by "
              f"{cut.date().isoformat()} are censored there; the share handled within "
              f"{horizon} days has a log(−log) interval from Greenwood's variance.")
    method_ja = (f"受付から対応までの日数を受付年度ごとにカプラン・マイヤー法（statsmodels）で推定。"
                 f"{cut.year}年{cut.month}月{cut.day}日までに対応していない要望はその日で打ち切り。"
                 f"{horizon}日以内の対応割合の区間はグリーンウッドの分散による二重対数変換の区間。")
    keys = ["handling.caveat_censoring"] + (["monthly.caveat_simulated"] if simulated else [])
    keys.sort(key=lambda k: k != "monthly.caveat_simulated")
    return TimeToHandlingResult(
        title_key="title_time_to_handling", estimates=tuple(est), method=method,
        method_ja=method_ja, n_obs=int(len(days)),
        caveats=tuple(message(k, "en") for k in keys),
        caveats_ja=tuple(message(k, "ja") for k in keys), data=table,
        simulated=bool(simulated), as_of=cut.date(), horizon=horizon,
        curves=pd.concat(curves, ignore_index=True))


# --- the inputs of a page: the user's data, or simulated data --------------------------------


@dataclass(frozen=True, eq=False)
class MonthlyInputs:
    """What a page of monthly models analyses: the user's ``request_log`` or
    ``monthly_requests`` from ``data_dir`` when there is one, else a SIMULATED log."""

    city: pd.DataFrame
    wards: pd.DataFrame | None
    log: pd.DataFrame | None
    simulated: bool
    file: str | None
    covid_effect: float | None = None

    @property
    def input_name(self) -> str:
        return "request_log" if self.log is not None else "monthly_requests"

    def title(self, key: str, lang: str) -> str:
        """The glossary term ``key``, marked 【模擬データ】 / [Simulated data] when simulated."""
        text = label(key, lang)
        return message("simulated.title", lang, title=text) if self.simulated else text

    def banner(self, lang: str) -> str:
        if self.simulated:
            return message("simulated.banner", lang)
        from ..data.loading import sha256
        from ..data.schema import get_schema

        kind = get_schema(self.input_name).title[lang]
        sha = sha256(Path(self.file))[:12] if self.file else "—"
        return message("real.banner", lang, kind=kind, sha=sha)

    def truth(self, lang: str) -> str:
        """For simulated data: the effect the simulation was given (empty for real data)."""
        if not self.simulated or self.covid_effect is None:
            return ""
        return message("simulated.truth", lang, effect=fmt(self.covid_effect),
                       drop=fmt_pct(1 - self.covid_effect))

    def reconciliation(self, data_dir=None) -> pd.DataFrame:
        """The yearly aggregate against the published figures (wardanalysis.data.inputs)."""
        from ..data import inputs
        from ..data.loading import load

        if self.log is not None:
            agg = inputs.yearly_needs(self.log)
        else:
            agg = inputs.yearly_from_monthly(self.city)
        out = inputs.reconciliation(agg, load("needs_reflection", data_dir))
        out["column"] = out["column"].astype(str)
        return out


def monthly_inputs(data_dir=None, *, covid_effect: float = 0.7, seed: int | None = None,
                   fiscal_years: Sequence[int] = range(2017, 2024)) -> MonthlyInputs:
    """The user's request log (preferred) or monthly counts from ``data_dir``; without either,
    a SIMULATED log (``wardanalysis.models.simulate``) with the true COVID effect ``covid_effect``."""
    from ..data import inputs
    from . import simulate

    def mark(frame: pd.DataFrame, simulated: bool) -> pd.DataFrame:
        frame.attrs["provenance"] = {"simulated": simulated}
        return frame

    if data_dir is not None and inputs.has_input("request_log", data_dir):
        log = inputs.load_input("request_log", data_dir)
        return MonthlyInputs(mark(inputs.monthly_counts(log), False),
                             mark(inputs.monthly_counts(log, by_ward=True), False), log, False,
                             log.attrs["provenance"]["overlay_file"])
    if data_dir is not None and inputs.has_input("monthly_requests", data_dir):
        monthly = inputs.load_input("monthly_requests", data_dir)
        wards = monthly[monthly["ward"].notna()] if "ward" in monthly.columns else monthly.iloc[:0]
        return MonthlyInputs(mark(inputs.monthly_from_input(monthly), False),
                             mark(wards.reset_index(drop=True), False) if len(wards) else None,
                             None, False, monthly.attrs["provenance"]["overlay_file"])
    log = simulate.simulate_request_log(fiscal_years, covid_effect=covid_effect,
                                        seed=simulate.SEED if seed is None else seed,
                                        data_dir=data_dir)
    return MonthlyInputs(mark(inputs.monthly_counts(log), True),
                         mark(inputs.monthly_counts(log, by_ward=True), True), log, True, None,
                         covid_effect)
