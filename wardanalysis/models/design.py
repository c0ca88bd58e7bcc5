"""The design study: how large a COVID level change could each kind of data detect?

Yearly totals (the data today) are answered exactly: the minimum detectable level change of the
interrupted time series from the noncentral t, with the range the dispersion's 95% interval
allows. The comparison of resolutions is SIMULATED (:mod:`.simulate`): one set of simulated
requests seen as yearly totals, monthly city-wide counts and the five wards' monthly counts, each
analysed with the test the reports run at nominal 5% (yearly quasi-Poisson; monthly CR2 by fiscal
year with Bell–McCaffrey df). The ward panel's level change and CR2 interval equal the city
model's (tested), so its power is not computed twice. Fits are vectorised over replications and
effects, with common random draws.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..results import Dates, Estimate, Joined, Result, Said, Term, Years
from ..stats import ALPHA
from ..text.formats import fmt_pct, years_text
from ..text.glossary import label
from ..text.messages import message
from . import simulate as S
from .its import interrupted_time_series, its_design
from .monthly import monthly_design
from .periods import CovidPeriod

RESOLUTIONS = ("yearly", "monthly", "wards")
DROPS = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8])
#: The drop the answer and the sensitivity table speak of.
DROP = 0.3
SPANS = ((2017, 2023), (2017, 2025))
#: Two simulated powers are said to differ only beyond this many Monte Carlo standard errors of
#: their difference.
TIE_SE = 2.0
#: The assumptions compared in the sensitivity: shares of the extra-Poisson variance at the
#: year, city-month and ward-month level; ``quarter_dispersion`` keeps the main split with a
#: quarter of it (the shipped dispersion includes the start-up year and any real COVID effect).
SCENARIOS = {"main": (1 / 3, 1 / 3, 1 / 3), "month_level": (0.0, 0.5, 0.5),
             "year_level": (0.8, 0.1, 0.1), "quarter_dispersion": (1 / 3, 1 / 3, 1 / 3)}
TARGET = 0.8
#: The date of the ward populations behind the simulator's ward shares.
POPULATION_DATE = dt.date(2022, 12, 1)


@dataclass(frozen=True)
class YearlyExact:
    """The exact minimum detectable level change of the yearly model on the shipped data."""

    ratio: float  # at the estimated dispersion
    ratio_low: float  # at the upper end of the dispersion's 95% interval (a larger drop)
    ratio_high: float  # at the lower end (a smaller drop)
    dispersion: float
    dispersion_low: float
    dispersion_high: float
    df: int
    se_log: float
    years: tuple[int, ...]


def yearly_exact(data_dir=None) -> YearlyExact:
    """:class:`YearlyExact` at the dispersion and at the ends of its 95% interval
    (``df * phi / chi2``; the scale never below 1, as in the fit)."""
    from scipy import stats as sps

    its = interrupted_time_series(data_dir=data_dir, negative_binomial=False)
    fit = its.fit
    se, df, phi = fit.se("covid_period"), int(fit.df_resid), float(fit.dispersion)
    lo = df * phi / sps.chi2.ppf(1 - ALPHA / 2, df)
    hi = df * phi / sps.chi2.ppf(ALPHA / 2, df)

    def at(p: float) -> float:
        return 1 / stats.minimum_detectable_ratio(se * math.sqrt(max(1.0, p) / fit.scale), df)

    return YearlyExact(at(phi), at(hi), at(lo), phi, lo, hi, df, se,
                       tuple(int(y) for y in its.fit_years()))


def design_matrix(cells: pd.DataFrame, resolution: str, period: CovidPeriod
                  ) -> tuple[np.ndarray, np.ndarray, int]:
    """The analysis model's design for simulated ``cells`` (``yearly`` or city-wide ``monthly``):
    ``(X, rows, term)`` with ``rows`` the cells the model uses (the yearly model leaves the years
    after the COVID period out) and ``term`` the column of the level change at the COVID start."""
    if resolution == "yearly":
        fy = cells["fiscal_year"].to_numpy(int)
        rows = fy <= period.end
        X = its_design(fy[rows], period.start)
        return X.to_numpy(float), rows, list(X.columns).index("covid_period")
    frame = cells.assign(start=pd.to_datetime(dict(year=cells["year"], month=cells["month"],
                                                   day=1))).reset_index(drop=True)
    X = monthly_design(frame, period)
    return X.to_numpy(float), np.ones(len(cells), bool), list(X.columns).index("covid_level")


def _irls(X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Poisson IRLS for many count vectors at once: ``Y`` is ``(series, n)``, ``X`` ``(n, p)``;
    returns the coefficients ``(series, p)`` and fitted means ``(series, n)``."""
    n, p = X.shape
    # X' W X for every series as one matrix product: W's diagonal times the rows' outer products
    XX = (X[:, :, None] * X[:, None, :]).reshape(n, p * p)
    mu = Y + 0.5
    eta = np.log(mu)
    beta = np.zeros((Y.shape[0], p))
    for _ in range(50):
        z = eta + (Y - mu) / mu
        new = np.linalg.solve((mu @ XX).reshape(-1, p, p), ((mu * z) @ X)[..., None])[..., 0]
        eta = np.clip(new @ X.T, -30, 30)
        mu = np.exp(eta)
        done = np.max(np.abs(new - beta)) < 1e-10
        beta = new
        if done:
            break
    return beta, mu


def batch_qp(X: np.ndarray, Y: np.ndarray, term: int = 2) -> tuple[np.ndarray, np.ndarray, int]:
    """Quasi-Poisson fits of many count vectors (the yearly model's test): the coefficient of
    column ``term`` for each series, its standard error (Poisson covariance times
    max(1, Pearson chi2 / df)) and the residual df."""
    Y = np.asarray(Y, dtype=float)
    n, p = X.shape
    beta, mu = _irls(X, Y)
    XX = (X[:, :, None] * X[:, None, :]).reshape(n, p * p)
    cov = np.linalg.inv((mu @ XX).reshape(-1, p, p))
    df = n - p
    phi = np.sum((Y - mu) ** 2 / mu, axis=1) / df
    return beta[:, term], np.sqrt(cov[:, term, term] * np.maximum(1.0, phi)), df


def batch_cr2(X: np.ndarray, Y: np.ndarray, clusters: np.ndarray, term: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Poisson fits of many count vectors with the CR2 cluster-robust standard error of column
    ``term`` and its Bell–McCaffrey degrees of freedom (the monthly page's test; the formulas
    of :func:`wardanalysis.stats.cluster_robust`, batched): with ``X̃ = sqrt(mu) X``,
    ``r = (y − mu) / sqrt(mu)``, ``B = (X̃'X̃)^-1``, ``A_g = (I − H_gg)^(−1/2)``,
    ``V = B Σ_g X̃_g' A_g r_g r_g' A_g X̃_g B`` and, for ``c`` the unit vector of ``term``,
    ``G_g = (I − H)_{·g} A_g X̃_g B c``, ``df = tr(G'G)² / tr((G'G)²)``."""
    Y = np.asarray(Y, dtype=float)
    beta, mu = _irls(X, Y)
    sw = np.sqrt(mu)
    Xt = sw[..., None] * X[None]
    r = (Y - mu) / sw
    B = np.linalg.inv(np.einsum("rni,rnj->rij", Xt, Xt))
    Bc = B[:, :, term]
    codes = pd.factorize(np.asarray(clusters))[0]
    n_groups = int(codes.max()) + 1
    meat = np.zeros_like(B)
    U = np.zeros((*Y.shape, n_groups))
    for g in range(n_groups):
        ix = np.flatnonzero(codes == g)
        Xg = Xt[:, ix, :]
        M = np.eye(len(ix))[None] - Xg @ B @ Xg.transpose(0, 2, 1)
        vals, vecs = np.linalg.eigh(M)
        # Moore–Penrose inverse square root where one cluster alone fixes a combination
        inv = np.where(vals > 1e-10, 1 / np.sqrt(np.clip(vals, 1e-300, None)), 0.0)
        A = (vecs * inv[:, None, :]) @ vecs.transpose(0, 2, 1)
        s = np.einsum("rmi,rm->ri", Xg, np.einsum("rmk,rk->rm", A, r[:, ix]))
        meat += s[:, :, None] * s[:, None, :]
        U[:, ix, g] = np.einsum("rmk,rk->rm", A, np.einsum("rki,ri->rk", Xg, Bc))
    V = B @ meat @ B
    # (I − H) U without forming H: U − X̃ B X̃' U
    G = U - Xt @ (B @ np.einsum("rni,rng->rig", Xt, U))
    GG = np.einsum("rng,rnh->rgh", G, G)
    df = np.trace(GG, axis1=1, axis2=2) ** 2 / np.trace(GG @ GG, axis1=1, axis2=2)
    return beta[:, term], np.sqrt(V[:, term, term]), df


def _mdc(drops: np.ndarray, power: np.ndarray, target: float = TARGET) -> float:
    """The smallest drop with ``power >= target``, interpolated linearly; NaN if none."""
    above = np.nonzero(power >= target)[0]
    if not above.size:
        return math.nan
    i = above[0]
    if i == 0:
        return float(drops[0])
    x0, x1, p0, p1 = drops[i - 1], drops[i], power[i - 1], power[i]
    return float(x0 + (target - p0) * (x1 - x0) / (p1 - p0))


def _mc_se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 0.0) / n)


def _study(cal, span, shares, replications, seed) -> pd.DataFrame:
    """Power and size per resolution and drop, from whether each analysis' test rejects at
    nominal 5% (the first effect is no effect)."""
    from scipy import stats as sps

    effects = [1.0, *(1 - d for d in DROPS)]
    period = CovidPeriod(cal.covid_start, cal.covid_end)
    cells, counts = S.simulate_counts(cal, list(range(span[0], span[1] + 1)), effects,
                                      replications=replications, variance_shares=shares,
                                      seed=seed)
    yc, yearly = S.yearly_totals(cells, counts)
    X, rows, term = design_matrix(yc, "yearly", period)
    fits = {"yearly": batch_qp(X, yearly.reshape(-1, yearly.shape[-1])[:, rows], term)}
    mc, city = S.city_months(cells, counts)
    X, _, term = design_matrix(mc, "monthly", period)
    fits["monthly"] = batch_cr2(X, city.reshape(-1, city.shape[-1]),
                                mc["fiscal_year"].to_numpy(), term)
    rej = {res: (np.abs(est / se) > sps.t.ppf(1 - ALPHA / 2, df)).reshape(len(effects), -1)
           for res, (est, se, df) in fits.items()}
    # the ward panel's level change and CR2 interval are the city model's (tested): same test
    rej["wards"] = rej["monthly"]
    rows = []
    for res in RESOLUTIONS:
        r = rej[res]
        size = float(r[0].mean())
        for i, d in enumerate(DROPS, start=1):
            pw = float(r[i].mean())
            # the paired Monte Carlo error of the difference from the yearly totals' power
            diff = r[i].astype(float) - rej["yearly"][i]
            rows.append({"resolution": res, "span": f"{span[0]}-{span[1]}", "drop": float(d),
                         "power": pw, "power_se": _mc_se(pw, replications),
                         "vs_yearly_se": float(diff.std(ddof=1) / math.sqrt(replications)),
                         "size_nominal": size, "size_se": _mc_se(size, replications)})
    return pd.DataFrame(rows)


def _summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per resolution and span: the minimum detectable drop, the power at :data:`DROP` and the
    Monte Carlo SE of its difference from the yearly totals', and the test's actual size."""
    rows = []
    for (res, span), q in table.groupby(["resolution", "span"], sort=False):
        at = q[np.isclose(q["drop"], DROP)].iloc[0]
        rows.append({"resolution": res, "span": span,
                     "mdc_drop": _mdc(q["drop"].to_numpy(), q["power"].to_numpy()),
                     "power_30": float(at["power"]), "vs_yearly_se": float(at["vs_yearly_se"]),
                     "size_nominal": float(q["size_nominal"].iloc[0])})
    return pd.DataFrame(rows)


def _change(before: float, after: float, se: float) -> str:
    """``up``, ``down`` or ``same``: ``after`` against ``before`` beyond :data:`TIE_SE`
    Monte Carlo standard errors of the difference."""
    if after - before > TIE_SE * se:
        return "up"
    if before - after > TIE_SE * se:
        return "down"
    return "same"


@dataclass(frozen=True, eq=False, repr=False)
class DesignResult(Result):
    sources = ("simulated",)
    sensitivity: pd.DataFrame | None = None
    calibration: Any = None
    exact: YearlyExact | None = None

    def power_at(self, resolution: str, drop: float, span: str = "2017-2023") -> float:
        d = self.data
        return float(d.loc[(d["resolution"] == resolution) & (d["span"] == span)
                           & np.isclose(d["drop"], drop), "power"].iloc[0])

    def prose_facts(self) -> dict[str, Any]:
        """Facts for the notebook's prose: the spans studied (the first is the data's), the
        COVID period, the drops simulated, the simulator's settings and the closing paragraph."""
        spans = sorted(self.data["span"].unique())
        first, last = (int(x) for x in spans[0].split("-"))
        longer = int(spans[-1].split("-")[1])
        defaults = inspect.signature(S.simulate_counts).parameters
        return {"n_years": last - first + 1, "span": Years(range(first, last + 1)),
                "long_span": Years(range(first, longer + 1)), "extra": longer - last,
                "covid": Years(range(self.calibration.covid_start, self.calibration.covid_end + 1)),
                "drop_min": float(self.data["drop"].min()),
                "drop_max": float(self.data["drop"].max()),
                "season": float(defaults["seasonal_amplitude"].default),
                "ward_sd": float(defaults["ward_sd"].default),
                "n_wards": len(S.WARDS), "n_parts": len(SCENARIOS["main"]),
                "pop_date": Dates((POPULATION_DATE,)), "conclusion": self.facts["conclusion"]}

    def answer(self, lang: str) -> str:
        """The summary box's short answer (the full text is the page's)."""
        return self.say("design.answer_short", lang)

    def conclusion(self, lang: str) -> str:
        """The page's closing paragraph, chosen by the sensitivity table's numbers."""
        return self.facts["conclusion"].__lang_format__("", lang)

    def power_table(self, lang: str) -> pd.DataFrame:
        """Power per resolution and span (rows) and drop (columns), the minimum detectable
        change, the usual test's actual size and the largest Monte Carlo standard error of the
        row's powers, for display."""
        rows = []
        for (res, span), part in self.data.groupby(["resolution", "span"], sort=False):
            yrs = [int(x) for x in span.split("-")]
            row = {"resolution": f"resolution_{res}", "span": years_text(yrs, lang)}
            for d, pw in zip(part["drop"], part["power"], strict=True):
                row[message("design.power_column", lang, drop=float(d))] = pw
            key = f"design.mdc_{res}" + ("" if span == "2017-2023" else f".fy{yrs[1]}")
            row["mdc_drop"] = self.estimate(key).value
            row["size_nominal"] = float(part["size_nominal"].iloc[0])
            row["mc_se_max"] = float(part["power_se"].max())
            rows.append(row)
        return pd.DataFrame(rows)

    def sensitivity_table(self) -> pd.DataFrame:
        """Minimum detectable change, power at a 30% drop and the test's actual size under
        each assumption (FY2017–FY2023), for display (the wards' rows equal the city's)."""
        out = self.sensitivity[self.sensitivity["resolution"] != "wards"].copy()
        out["scenario"] = "scenario_" + out["scenario"]
        out["resolution"] = "resolution_" + out["resolution"]
        return out.drop(columns=["vs_yearly_se"]).rename(columns={"power_30": "power_at_30"})

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        colors = {"yearly": plotting.COLORS["neutral"], "monthly": plotting.COLORS["observed"]}
        styles = {"2017-2023": "-", "2017-2025": "--"}
        for (res, span), part in self.data.groupby(["resolution", "span"], sort=False):
            if res == "wards":  # the same test as the city-wide counts: the same curve
                continue
            yrs = [int(x) for x in span.split("-")]
            name = label(f"resolution_{res}", lang)
            ax.plot(part["drop"], part["power"], color=colors[res], ls=styles[span],
                    marker="o", ms=3, label=f"{name}（{years_text(yrs, lang)}）"
                    if lang == "ja" else f"{name} ({years_text(yrs, lang)})")
        grid = np.linspace(float(self.data["drop"].min()), float(self.data["drop"].max()), 50)
        power = [stats.exact_power(-math.log(1 - g) / self.exact.se_log, self.exact.df)
                 for g in grid]
        ax.plot(grid, power, color=plotting.COLORS["neutral"], lw=0.8, ls=":",
                label=label("power_exact_yearly", lang))
        ax.axhline(TARGET, color="#999999", lw=0.8, ls=":")
        ax.set_ylim(0, 1.02)
        plotting.finish_axes(ax, lang, xlabel="drop", ylabel="power", percent="xy",
                             legend="upper left", fontsize=8)


def _texts(table: pd.DataFrame, sens: pd.DataFrame | None, exact: YearlyExact,
           spans: Sequence[tuple[int, int]], replications: int) -> tuple[dict, list, list]:
    """The facts and the sentences of the answer and of the conclusion, chosen by the numbers."""
    summary = _summary(table).set_index(["resolution", "span"])
    first = f"{spans[0][0]}-{spans[0][1]}"
    y, m = summary.loc[("yearly", first)], summary.loc[("monthly", first)]
    drop, target = float(DROP), float(TARGET)
    facts: dict[str, Any] = {
        "span": Years(range(spans[0][0], spans[0][1] + 1)), "reps": replications,
        "drop": drop, "target": target, "n_years": len(exact.years),
        "mde": exact.ratio, "mde_drop": 1 - exact.ratio,
        "mde_drop_low": 1 - exact.ratio_high, "mde_drop_high": 1 - exact.ratio_low,
        "phi": exact.dispersion, "phi_low": exact.dispersion_low,
        "phi_high": exact.dispersion_high, "df": exact.df,
        "p_yearly": float(y["power_30"]), "p_monthly": float(m["power_30"]),
        "size_yearly": float(y["size_nominal"]), "size_monthly": float(m["size_nominal"]),
        "mc_pts": 100 * float(table["power_se"].max()), "tie_se": f"{TIE_SE:g}",
        "n_clusters": spans[0][1] - spans[0][0] + 1,
    }
    for res, r in (("yearly", y), ("monthly", m)):
        facts[f"mdc_{res}"] = (Said("design.mdc_beyond", {"drop": float(table["drop"].max())})
                               if math.isnan(r["mdc_drop"])
                               else Said("design.mdc_value", {"v": float(r["mdc_drop"])}))
    vs = _change(facts["p_yearly"], facts["p_monthly"], float(m["vs_yearly_se"]))
    keys: list[Any] = ["design.answer_exact", "design.answer_power",
                       f"design.monthly_vs_yearly.{vs}", "design.wards_same", "design.answer_mdc"]
    if not math.isnan(y["mdc_drop"]):  # two methods, two figures for the yearly totals: said
        keys.append("design.mdc_vs_exact")
    if len(spans) > 1:
        longer = f"{spans[1][0]}-{spans[1][1]}"
        for res in ("yearly", "monthly"):
            a, b = (float(summary.loc[(res, s), "power_30"]) for s in (first, longer))
            se = math.hypot(_mc_se(a, replications), _mc_se(b, replications))
            keys.append(Said(f"design.longer.{_change(a, b, se)}", {
                "what": Said(f"design.what_{res}"), "before": a, "after": b, "drop": drop,
                "end": spans[1][1], "extra": spans[1][1] - spans[0][1]}))
    keys.append("design.recommend_monthly" if facts["p_monthly"] >= TARGET and vs == "up" else
                "design.recommend_partial" if vs == "up" else "design.recommend_none")
    conclusion: list[Said] = []
    if sens is not None:
        monthly = sens[sens["resolution"] == "monthly"]
        yearly = sens[sens["resolution"] == "yearly"].set_index("scenario")
        moves = [_change(float(yearly.loc[r.scenario, "power_30"]), r.power_30, r.vs_yearly_se)
                 for r in monthly.itertuples(index=False)]
        n_up, n_down, n_all = moves.count("up"), moves.count("down"), len(moves)
        common = {"drop": drop, "target": target, "n_clusters": facts["n_clusters"]}
        conclusion.append(Said("design.conclusion.more_power_all" if n_up == n_all else
                               "design.conclusion.less_power_all" if n_down == n_all else
                               "design.conclusion.more_power_none" if n_up == 0 else
                               "design.conclusion.more_power_some",
                               {"n_up": n_up, "n_down": n_down, "n_same": n_all - n_up - n_down,
                                "n_all": n_all, **common}))
        main = float(monthly.loc[monthly["scenario"] == "main", "power_30"].iloc[0])
        conclusion.append(Said("design.conclusion.main_reaches" if main >= TARGET else
                               "design.conclusion.main_short", {"p": main, **common}))
        best = monthly.loc[monthly["power_30"].idxmax()]
        if best["scenario"] != "main":
            conclusion.append(Said("design.conclusion.best_reaches" if best["power_30"] >= TARGET
                                   else "design.conclusion.best_short",
                                   {"scenario": Term(f"scenario_{best['scenario']}"),
                                    "p": float(best["power_30"]), **common}))
    conclusion += [Said("design.conclusion.unknown"), Said("design.conclusion.volume")]
    return facts, keys, conclusion


def power_study(*, replications: int = 400, spans: Sequence[tuple[int, int]] = SPANS,
                seed: int = S.SEED, sensitivity: bool = True, data_dir=None) -> DesignResult:
    """Power to detect a COVID level drop of each size in :data:`DROPS` for each resolution and
    span, the tests' actual sizes, the minimum detectable change at 80% power and the exact one
    of the yearly model on the data; with ``sensitivity``, the first span under each of
    :data:`SCENARIOS`."""
    exact = yearly_exact(data_dir)
    # the simulation's extra variation is that of the yearly model the reports fit (its
    # dispersion), not of a trend alone, so that the yearly answers agree
    cal = dataclasses.replace(S.calibrate(data_dir), dispersion=exact.dispersion)
    table = pd.concat([_study(cal, span, SCENARIOS["main"], replications, seed + i)
                       for i, span in enumerate(spans)], ignore_index=True)
    unit, ends = "rate ratio (80% power, 5% two-sided)", "of the dispersion's 95% interval on"
    est = [Estimate("design.mde_ratio_yearly_exact", exact.ratio, unit=unit,
                    interval=f"noncentral t({exact.df}) at the estimated dispersion "
                             f"{exact.dispersion:.1f}"),
           Estimate("design.mde_ratio_yearly_exact.dispersion_high", exact.ratio_low, unit=unit,
                    interval=f"at the upper end {ends} {exact.df} df (chi-square): "
                             f"{exact.dispersion_high:.1f}"),
           Estimate("design.mde_ratio_yearly_exact.dispersion_low", exact.ratio_high, unit=unit,
                    interval=f"at the lower end {ends} {exact.df} df (chi-square): "
                             f"{exact.dispersion_low:.1f}")]
    summary, sim = _summary(table), f"simulation, {replications} replications"
    for res in RESOLUTIONS:
        rows = summary[summary["resolution"] == res]
        est += [Estimate(f"design.mdc_{res}" + (f".fy{span[1]}" if i else ""), mdc,
                         unit="share (level drop)",
                         interval=f"{sim}; NaN: not reached within {fmt_pct(DROPS.max())}")
                for i, (span, mdc) in enumerate(zip(spans, rows["mdc_drop"], strict=True))]
        p, size = rows["power_30"].iloc[0], rows["size_nominal"].iloc[0]
        est += [Estimate(f"design.power_at_30.{res}", p, unit="share (power)",
                         interval=f"{sim}, Monte Carlo SE {_mc_se(p, replications):.3f}"),
                Estimate(f"design.size_nominal_{res}", size,
                         unit="share (rejection rate at nominal 5% under no effect)",
                         interval=f"{sim}, Monte Carlo SE {_mc_se(size, replications):.3f}")]
    sens = None
    if sensitivity:
        parts = []
        for name, shares in SCENARIOS.items():
            c = (dataclasses.replace(cal, dispersion=1 + (cal.dispersion - 1) / 4)
                 if name == "quarter_dispersion" else cal)
            part = (table[table["span"] == f"{spans[0][0]}-{spans[0][1]}"] if name == "main"
                    else _study(c, spans[0], shares, replications, seed + 100))
            parts.append(_summary(part).drop(columns="span").assign(scenario=name))
        sens = pd.concat(parts, ignore_index=True)
        sens = sens[["scenario", *sens.columns[:-1]]]
    facts, text_keys, conclusion = _texts(table, sens, exact, spans, replications)
    facts.update(trend=math.exp(cal.log_trend), seed=seed, conclusion=Joined(tuple(conclusion), ""))
    keys = ("design.caveat_simulated", "design.caveat_assumptions", "design.caveat_mc")
    return DesignResult(
        title_key="title_power_curves", estimates=tuple(est), method_key="design.method",
        n_obs=replications, caveat_keys=keys, facts=facts, text_keys=text_keys, data=table,
        sensitivity=sens, calibration=cal, exact=exact)
