"""The design study: how large a COVID level change could each kind of data detect?

Data are SIMULATED (``wardanalysis.models.simulate``, calibrated to the shipped yearly series: its
level, trend and dispersion) at three resolutions of the same simulated requests — yearly
totals (the data available today), monthly city-wide counts, monthly counts for the five
wards — over FY2017–FY2023 and FY2017–FY2025. Each simulated data set is analysed with the
model one would fit to it: a log-linear quasi-Poisson GLM with a trend, a level change in the
COVID period (and, where the data go past it, a level after it), plus month-of-year harmonics
for monthly data and ward effects for ward data. A drop is detected when the two-sided test of
the COVID level term rejects at 5%.

The extra-Poisson variation shared by the months of a year (or by the wards of a month) makes
the usual test reject a true null more often than 5% for monthly data; the study reports that
actual size, and its power is that of a test calibrated to a true 5% size under the assumed
model (its critical value is the 95th percentile of the statistic on data without an effect),
so that no resolution gains power by over-rejecting.

Fits are vectorised: one batched IRLS over every replication and effect (:func:`batch_qp`);
the random draws are common to every effect size (smooth power curves). Deterministic for a
seed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..glossary import label
from ..messages import message
from ..results import Estimate, Result, Years, fmt_pct, years_text
from . import simulate as S

__all__ = ["DesignResult", "RESOLUTIONS", "batch_qp", "design_matrix", "power_study"]

RESOLUTIONS = ("yearly", "monthly", "wards")
DROPS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
SPANS = ((2017, 2023), (2017, 2025))
#: The assumptions compared in the sensitivity: shares of the extra-Poisson variance at the
#: year, city-month and ward-month level.
#: ``quarter_dispersion`` keeps the main split but a quarter of the extra-Poisson variance
#: (the shipped series' dispersion includes the start-up year and any real COVID effect).
SCENARIOS = {"main": (1 / 3, 1 / 3, 1 / 3), "month_level": (0.0, 0.5, 0.5),
             "year_level": (0.8, 0.1, 0.1), "quarter_dispersion": (1 / 3, 1 / 3, 1 / 3)}


def design_matrix(cells: pd.DataFrame, resolution: str, covid_end: int) -> np.ndarray:
    """The analysis model's design for ``cells`` (years, months or ward-months)."""
    fy = cells["fiscal_year"].to_numpy(float)
    if resolution == "yearly":
        t = fy - fy.min()
    else:
        t = (cells["index"].to_numpy(float) + 0.5) / 12
    cols = [np.ones_like(t), t, cells["covid"].to_numpy(float)]
    after = fy > covid_end
    if after.any():
        cols.append(after.astype(float))
    if resolution != "yearly":
        m = cells["month"].to_numpy(float)
        cols += [f(2 * np.pi * k * m / 12) for k in (1, 2) for f in (np.sin, np.cos)]
    if resolution == "wards":
        wards = cells["ward"].to_numpy()
        cols += [(wards == w).astype(float) for w in S.WARDS[1:]]
    return np.column_stack(cols)


def batch_qp(X: np.ndarray, Y: np.ndarray, term: int = 2, iterations: int = 25,
             tol: float = 1e-8) -> tuple[np.ndarray, np.ndarray, int]:
    """Poisson IRLS for many count vectors at once: ``Y`` is ``(series, n)``, ``X`` ``(n, p)``.
    Returns the coefficient of column ``term`` for each series, its quasi-Poisson standard
    error (Poisson covariance times max(1, Pearson chi2 / df)) and the residual df."""
    Y = np.asarray(Y, dtype=float)
    n, p = X.shape
    # X' W X for every series as one matrix product: W's diagonal times the rows' outer products
    XX = (X[:, :, None] * X[:, None, :]).reshape(n, p * p)
    mu = Y + 0.5
    eta = np.log(mu)
    beta = np.zeros((Y.shape[0], p))
    for _ in range(iterations):
        z = eta + (Y - mu) / mu
        XtWX = (mu @ XX).reshape(-1, p, p)
        XtWz = (mu * z) @ X
        new = np.linalg.solve(XtWX, XtWz[..., None])[..., 0]
        eta = np.clip(new @ X.T, -30, 30)
        mu = np.exp(eta)
        done = np.max(np.abs(new - beta)) < tol
        beta = new
        if done:
            break
    cov = np.linalg.inv((mu @ XX).reshape(-1, p, p))
    df = n - p
    phi = np.sum((Y - mu) ** 2 / mu, axis=1) / df
    se = np.sqrt(cov[:, term, term] * np.maximum(1.0, phi))
    return beta[:, term], se, df


def _mdc(drops: np.ndarray, power: np.ndarray, target: float = 0.8) -> float:
    """The smallest drop with ``power >= target``, interpolated linearly; NaN if none."""
    above = np.nonzero(power >= target)[0]
    if not above.size:
        return math.nan
    i = above[0]
    if i == 0:
        return float(drops[0]) if power[0] >= target else math.nan
    x0, x1, p0, p1 = drops[i - 1], drops[i], power[i - 1], power[i]
    return float(x0 + (target - p0) * (x1 - x0) / (p1 - p0))


def _study(cal, span, shares, drops, replications, seed):
    from scipy import stats as sps

    years = list(range(span[0], span[1] + 1))
    effects = [1.0, *(1 - d for d in drops)]
    cells, counts = S.simulate_counts(cal, years, effects, replications=replications,
                                      variance_shares=shares, seed=seed)
    views = {"wards": (cells, counts), "monthly": S.city_months(cells, counts),
             "yearly": S.yearly_totals(cells, counts)}
    rows = []
    for res in RESOLUTIONS:
        c, y = views[res]
        X = design_matrix(c, res, cal.covid_end)
        est, se, df = batch_qp(X, y.reshape(-1, y.shape[-1]))
        stat = np.abs(est / se).reshape(len(effects), replications)
        nominal = float(sps.t.ppf(0.975, df))
        crit = float(np.quantile(stat[0], 0.95))  # the size-calibrated critical value
        power = (stat[1:] > crit).mean(axis=1)
        for d, pw, pn in zip(drops, power, (stat[1:] > nominal).mean(axis=1), strict=True):
            rows.append({"resolution": res, "span": f"{span[0]}-{span[1]}", "drop": float(d),
                         "power": float(pw), "power_nominal": float(pn),
                         "size_nominal": float((stat[0] > nominal).mean()), "df": int(df)})
    return pd.DataFrame(rows)


@dataclass(frozen=True, eq=False, repr=False)
class DesignResult(Result):
    SUMMARY_KEYS = ("design.mdc_yearly", "design.mdc_monthly", "design.mdc_wards")
    replications: int = 0
    sensitivity: pd.DataFrame | None = None
    calibration: Any = None

    @property
    def sources(self) -> tuple[str, ...]:  # type: ignore[override]
        return ("simulated",)

    def power_at(self, resolution: str, drop: float, span: str = "2017-2023") -> float:
        d = self.data
        row = d[(d["resolution"] == resolution) & (d["span"] == span)
                & (np.isclose(d["drop"], drop))]
        return float(row["power"].iloc[0])

    def _mdc_text(self, key: str, lang: str) -> str:
        v = self.estimate(key).value
        if math.isnan(v):
            return message("design.mdc_beyond", lang, drop=fmt_pct(max(self.data["drop"])))
        return fmt_pct(v)

    def _facts(self, lang: str) -> dict[str, str]:
        p = {r: self.power_at(r, 0.3) for r in RESOLUTIONS}
        long = {r: self.power_at(r, 0.3, "2017-2025") for r in RESOLUTIONS}
        best = max(("monthly", "wards"), key=lambda r: p[r])
        rec = ("design.recommend_monthly" if max(p["monthly"], p["wards"]) >= 0.8 else
               "design.recommend_none")
        return {"span": years_text([2017, 2023], lang),
                "p_yearly": fmt_pct(p["yearly"]), "p_monthly": fmt_pct(p["monthly"]),
                "p_wards": fmt_pct(p["wards"]),
                "mdc_yearly": self._mdc_text("design.mdc_yearly", lang),
                "mdc_monthly": self._mdc_text("design.mdc_monthly", lang),
                "mdc_wards": self._mdc_text("design.mdc_wards", lang),
                "p_long_yearly": fmt_pct(long["yearly"]), "p_long_wards": fmt_pct(long["wards"]),
                "recommendation": message(rec, lang, best=message(f"design.best_{best}", lang))}

    def key_figures(self) -> list[Estimate]:
        """None: a minimum detectable change may lie beyond the grid; the answer states it."""
        return []

    def prose_facts(self) -> dict[str, Any]:
        """Facts for the notebook's prose: the spans studied (the first is the data's)."""
        (first, last), (_, longer) = SPANS
        return {"n_years": last - first + 1, "span": Years(range(first, last + 1)),
                "long_span": Years(range(first, longer + 1)), "extra": longer - last}

    def answer(self, lang: str) -> str:
        """The summary box's answer: the text without its caveat."""
        return self._text(lang)

    def power_table(self, lang: str) -> pd.DataFrame:
        """Power per resolution and span (rows) and drop (columns), and the minimum detectable
        change, for display."""
        rows = []
        for (res, span), part in self.data.groupby(["resolution", "span"], sort=False):
            yrs = [int(x) for x in span.split("-")]
            row = {"resolution": f"resolution_{res}", "span": years_text(yrs, lang)}
            for d, pw in zip(part["drop"], part["power"], strict=True):
                row[f"{round(100 * d)}%"] = pw
            key = f"design.mdc_{res}" + ("" if span == "2017-2023" else f".fy{yrs[1]}")
            row["mdc_drop"] = self.estimate(key).value
            row["size_nominal"] = float(part["size_nominal"].iloc[0])
            rows.append(row)
        return pd.DataFrame(rows)

    def sensitivity_table(self) -> pd.DataFrame:
        """Minimum detectable change, power at a 30% drop and the usual test's actual size under
        each assumption (FY2017–FY2023), for display."""
        out = self.sensitivity.copy()
        out["scenario"] = "scenario_" + out["scenario"]
        out["resolution"] = "resolution_" + out["resolution"]
        return out.rename(columns={"power_30": "power_at_30"})

    def _text(self, lang: str) -> str:
        return message("design.answer", lang, **self._facts(lang))

    def _plot(self, ax: Any, lang: str) -> None:
        colors = {"yearly": "#555555", "monthly": "#0173B2", "wards": "#DE8F05"}
        styles = {"2017-2023": "-", "2017-2025": "--"}
        for (res, span), part in self.data.groupby(["resolution", "span"], sort=False):
            yrs = [int(x) for x in span.split("-")]
            ax.plot(100 * part["drop"], part["power"], color=colors[res], ls=styles[span],
                    marker="o", ms=3, label=f"{label(f'resolution_{res}', lang)}（{years_text(yrs, lang)}）"
                    if lang == "ja" else f"{label(f'resolution_{res}', lang)} ({years_text(yrs, lang)})")
        ax.axhline(0.8, color="#999999", lw=0.8, ls=":")
        ax.set_ylim(0, 1.02)
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.xaxis.set_major_formatter(PercentFormatter(100, decimals=0))
        ax.set_xlabel(label("drop", lang))
        ax.set_ylabel(label("power", lang))
        ax.set_title(label(self.title_key, lang))
        ax.legend(loc="lower right", fontsize=8)


def power_study(*, replications: int = 400, drops: Sequence[float] = DROPS,
                spans: Sequence[tuple[int, int]] = SPANS, seed: int = S.SEED,
                sensitivity: bool = True, data_dir=None) -> DesignResult:
    """Power to detect a COVID level drop of each size in ``drops`` for each resolution and
    span, and the minimum detectable change at 80% power (see the module docstring); with
    ``sensitivity``, the minimum detectable changes over FY2017–FY2023 under each of
    :data:`SCENARIOS`."""
    cal = S.calibrate(data_dir)
    drops = np.asarray(drops, dtype=float)
    table = pd.concat([_study(cal, span, SCENARIOS["main"], drops, replications, seed + i)
                       for i, span in enumerate(spans)], ignore_index=True)
    est = []
    for res in RESOLUTIONS:
        for span in spans:
            key = f"{span[0]}-{span[1]}"
            part = table[(table["resolution"] == res) & (table["span"] == key)]
            mdc = _mdc(drops, part["power"].to_numpy())
            name = f"design.mdc_{res}" if span == spans[0] else f"design.mdc_{res}.fy{span[1]}"
            est.append(Estimate(name, mdc, unit="share (level drop)",
                                interval=f"simulation, {replications} replications; NaN: "
                                         f"not reached within {fmt_pct(drops.max())}"))
        first = table[(table["resolution"] == res) & (table["span"] == f"{spans[0][0]}-{spans[0][1]}")]
        at30 = first[np.isclose(first["drop"], 0.3)]
        if len(at30):
            est.append(Estimate(f"design.power_at_30.{res}", float(at30["power"].iloc[0]),
                                unit="share (power)",
                                interval=f"simulation, {replications} replications"))
        size = float(table.loc[(table["resolution"] == res) & (table["span"] ==
                                                               f"{spans[0][0]}-{spans[0][1]}"),
                               "size_nominal"].iloc[0])
        est.append(Estimate(f"design.size_nominal_{res}", size, unit="share (rejection rate "
                            "under no effect)", interval=f"simulation, {replications} replications"))
    sens = None
    if sensitivity:
        rows = []
        for name, shares in SCENARIOS.items():
            c = (dataclasses.replace(cal, dispersion=1 + (cal.dispersion - 1) / 4)
                 if name == "quarter_dispersion" else cal)
            part = table[table["span"] == f"{spans[0][0]}-{spans[0][1]}"] if name == "main" else \
                _study(c, spans[0], shares, drops, replications, seed + 100)
            for res in RESOLUTIONS:
                q = part[part["resolution"] == res]
                rows.append({"scenario": name, "resolution": res,
                             "mdc_drop": _mdc(drops, q["power"].to_numpy()),
                             "power_30": float(q.loc[np.isclose(q["drop"], 0.3), "power"].iloc[0]),
                             "size_nominal": float(q["size_nominal"].iloc[0])})
        sens = pd.DataFrame(rows)
    method = (f"Simulation ({replications} replications per effect size, resolution and span, "
              f"seed {seed}) calibrated to the shipped yearly requests (log-linear trend "
              f"{math.exp(cal.log_trend):.3f} per year, dispersion {cal.dispersion:.1f}); each "
              "simulated data set is analysed by a quasi-Poisson GLM with a trend, a COVID-period "
              "level (and an after-COVID level), month-of-year harmonics for monthly data and ward "
              "effects for ward data; power is that of the test of the COVID level calibrated to "
              "a true 5% size.")
    method_ja = (f"配布された年度の件数（対数線形の傾向 1年あたり{math.exp(cal.log_trend):.3f}倍、過分散"
                 f"{cal.dispersion:.1f}）に合わせたシミュレーション（効果の大きさ・データの細かさ・期間ごとに"
                 f"{replications}回、乱数の種{seed}）。各模擬データを傾向・コロナ期間の水準（とコロナ後の"
                 "水準）の準ポアソン一般化線形モデルで分析し、月別データには月の周期項、区別データには区の"
                 "効果を加えた。検出力は、効果がないときに実際に5%で棄却するよう調整した検定のもの。")
    keys = ("design.caveat_simulated", "design.caveat_assumptions")
    return DesignResult(
        title_key="title_power_curves", estimates=tuple(est), method=method,
        method_ja=method_ja, n_obs=replications,
        caveats=tuple(message(k, "en") for k in keys),
        caveats_ja=tuple(message(k, "ja") for k in keys), data=table,
        replications=replications, sensitivity=sens, calibration=cal)
