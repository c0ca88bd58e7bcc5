"""One fiscal year as the committee would have seen it at the end of that year.

:func:`fiscal_year_report` uses only data up to and including ``fiscal_year`` (no look-ahead):
that year's requests against the previous year (exact tests) and against the trend fitted on the
earlier years (prediction interval), that year's funnel and settlement levels, its ward budget
(total, per ward, per resident) and its civil-engineering requests where the year has them, and a
plain statement of what the data do not hold for that year.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..glossary import label
from ..results import Estimate, Result, fmt, fmt_ci, fmt_p, fmt_pct
from . import _input
from .errors import MissingDataError, ModelInputError

__all__ = ["FiscalYearResult", "fiscal_year_report"]

_NEEDS = ("fiscal_year", "requests", "requests_handled", "priority_issues", "decided_to_act",
          "staff_consultations", "section_chief_consultations", "coordination_meetings")
_BASIS_JA = {"estimate": "推計人口", "resident_register": "住民基本台帳", "census": "国勢調査",
             "census_preliminary": "国勢調査（速報）", "unknown": "基準不明"}
_TREND_MIN_YEARS = 3  # two coefficients and at least one residual degree of freedom


@dataclass(frozen=True, eq=False)
class FiscalYearResult(Result):
    """The report of one fiscal year. ``data`` (``table()``) holds every comparison as a row;
    ``funnel``, ``budget`` and ``civil`` hold that year's figures; ``history`` the request
    counts up to that year with the trend expectation; ``missing`` what the data lack."""

    fiscal_year: int = 0
    funnel: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    budget: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    civil: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    history: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    missing: tuple[str, ...] = ()
    missing_ja: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("funnel", "budget", "civil", "history"):
            object.__setattr__(self, name, getattr(self, name).copy(deep=True))
        object.__setattr__(self, "missing", tuple(self.missing))
        object.__setattr__(self, "missing_ja", tuple(self.missing_ja))

    def title(self, lang: str = "ja") -> str:
        return label("title_fiscal_year_report", lang).format(
            fy=self.fiscal_year, era=_era(self.fiscal_year))

    def missing_list(self, lang: str = "ja") -> list[str]:
        return list(self.missing_ja if lang == "ja" else self.missing)

    def _get(self, key: str) -> Estimate | None:
        try:
            return self.estimate(key)
        except KeyError:
            return None

    def _text_en(self) -> str:
        fy = self.fiscal_year
        parts = []
        req = self._get("fy.requests")
        if req is not None:
            s = f"In FY{fy} the wards received {int(req.value):,} requests"
            rr = self._get("fy.requests_rr_vs_previous")
            if rr is not None:
                s += (f", {fmt(rr.value)} times the previous year {fmt_ci(rr.ci_low, rr.ci_high, 'en')},"
                      f" exact test {fmt_p(rr.p_value, 'en')}")
            s += "."
            parts.append(s)
            tr = self._get("fy.requests_expected_from_trend")
            if tr is not None:
                oe = self.estimate("fy.requests_oe_vs_trend")
                inside = tr.ci_low <= req.value <= tr.ci_high
                parts.append(
                    f"The trend of the earlier years predicted {fmt(tr.value)} (95% prediction interval "
                    f"{fmt(tr.ci_low)} to {fmt(tr.ci_high)}); observed/expected {fmt(oe.value)}, "
                    + ("inside the interval: not unusual against that trend."
                       if inside else "outside the interval: unusual against that trend."))
            hs = self._get("fy.handled_share")
            pr = self._get("fy.priority_rate")
            if hs is not None and pr is not None:
                parts.append(
                    f"{fmt_pct(hs.value)} were handled {fmt_ci(hs.ci_low, hs.ci_high, 'en', pct=True)}, "
                    f"and {fmt_pct(pr.value, 2)} became ward priority issues "
                    f"{fmt_ci(pr.ci_low, pr.ci_high, 'en', pct=True)}.")
        b = self._get("fy.budget_thousand_yen")
        if b is not None:
            pc = self.estimate("fy.budget_yen_per_capita")
            row = self.budget.iloc[0]
            parts.append(
                f"In FY{fy} ({_era(fy)}) the five wards' まちづくり推進経費 was {int(b.value):,} thousand yen "
                f"({fmt(row['per_ward_thousand_yen'], 4)} thousand yen per ward if split equally, "
                f"{fmt(pc.value)} yen per resident, population as of {row['population_as_of']:%Y-%m}).")
        c = self._get("fy.civil_total")
        if c is not None:
            s = f"The civil-engineering centres received {int(c.value):,} requests"
            crr = self._get("fy.civil_total_rr_vs_previous")
            if crr is not None:
                s += f", {fmt(crr.value)} times the previous year {fmt_ci(crr.ci_low, crr.ci_high, 'en')}"
            parts.append(s + ".")
        if self.missing:
            parts.append("Not in the data for this year: " + "; ".join(self.missing) + ".")
        return " ".join(parts)

    def _text_ja(self) -> str:
        fy = self.fiscal_year
        parts = []
        req = self._get("fy.requests")
        if req is not None:
            s = f"{fy}年度（{_era(fy)}）の要望・相談は{int(req.value):,}件"
            rr = self._get("fy.requests_rr_vs_previous")
            if rr is not None:
                s += (f"で、前年度の{fmt(rr.value)}倍{fmt_ci(rr.ci_low, rr.ci_high, 'ja')}"
                      f"（正確検定 {fmt_p(rr.p_value, 'ja')}）")
            parts.append(s + "であった。")
            tr = self._get("fy.requests_expected_from_trend")
            if tr is not None:
                oe = self.estimate("fy.requests_oe_vs_trend")
                inside = tr.ci_low <= req.value <= tr.ci_high
                parts.append(
                    f"それ以前の年度の傾向からの予測は{fmt(tr.value)}件（95%予測区間 {fmt(tr.ci_low)}〜"
                    f"{fmt(tr.ci_high)}）、実績/予測は{fmt(oe.value)}で、"
                    + ("予測区間の内側にあり、傾向から見て異常な年ではない。"
                       if inside else "予測区間の外側にあり、傾向から見て異常な年である。"))
            hs = self._get("fy.handled_share")
            pr = self._get("fy.priority_rate")
            if hs is not None and pr is not None:
                parts.append(
                    f"対応済は{fmt_pct(hs.value)}{fmt_ci(hs.ci_low, hs.ci_high, 'ja', pct=True)}、"
                    f"区重要課題になったのは{fmt_pct(pr.value, 2)}"
                    f"{fmt_ci(pr.ci_low, pr.ci_high, 'ja', pct=True)}であった。")
        b = self._get("fy.budget_thousand_yen")
        if b is not None:
            pc = self.estimate("fy.budget_yen_per_capita")
            row = self.budget.iloc[0]
            parts.append(
                f"{fy}年度（{_era(fy)}）のまちづくり推進経費（5区合計）は{int(b.value):,}千円（均等配分なら1区あたり"
                f"{fmt(row['per_ward_thousand_yen'], 4)}千円、住民1人あたり{fmt(pc.value)}円、"
                f"人口は{row['population_as_of']:%Y年%m月}時点）。")
        c = self._get("fy.civil_total")
        if c is not None:
            s = f"土木センターへの要望は{int(c.value):,}件"
            crr = self._get("fy.civil_total_rr_vs_previous")
            if crr is not None:
                s += f"で、前年度の{fmt(crr.value)}倍{fmt_ci(crr.ci_low, crr.ci_high, 'ja')}"
            parts.append(s + "であった。")
        if self.missing_ja:
            parts.append("この年度のデータにないもの：" + "、".join(self.missing_ja) + "。")
        return "".join(parts)

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        fy = self.fiscal_year
        h = self.history
        if not h.empty:
            colors = [plotting.COLORS["covid"] if y == fy else plotting.COLORS["observed"]
                      for y in h["fiscal_year"]]
            ax.bar(h["fiscal_year"], h["requests"], color=colors, width=0.65,
                   label=label("requests", lang))
            exp = h[h["fiscal_year"] == fy]
            if not exp.empty and not math.isnan(exp["expected"].iloc[0]):
                e = exp.iloc[0]
                top = h["requests"].max() * 1.6
                hi = min(e["pi_high"], top)
                ax.errorbar([fy + 0.28], [e["expected"]], yerr=[[e["expected"] - e["pi_low"]],
                            [hi - e["expected"]]], fmt="D", color=plotting.COLORS["fit"],
                            capsize=4, label=label("trend_expectation", lang))
                ax.set_ylim(0, top * 1.05)
                if e["pi_high"] > top:
                    plotting.add_note(ax, label("note_pi_clipped", lang).format(value=fmt(e["pi_high"])))
            ax.set_ylabel(label("requests_count", lang))
            plotting.set_fy_axis(ax, h["fiscal_year"], lang)
            ax.legend(loc="upper right", fontsize=9)
        else:
            b = self.budget
            ax.bar([fy], b["budget_thousand_yen"] / 1000, color=plotting.COLORS["level1"], width=0.5,
                   label=label("machizukuri_budget", lang))
            ax.set_ylabel(label("million_yen", lang))
            plotting.set_fy_axis(ax, [fy], lang)
            ax.legend(loc="upper right", fontsize=9)
        ax.set_title(self.title(lang))


def _era(fy: int) -> str:
    from ..eras import era_label

    return era_label(fy)


def _cut(df: pd.DataFrame, fy: int) -> pd.DataFrame:
    return df[df["fiscal_year"] <= fy].copy()


def _share_row(stage: str, count: int, of: int | None) -> dict[str, Any]:
    if of:
        low, high = stats.wilson_interval(count, of)
        return {"stage": stage, "count": count, "denominator": of, "share": count / of,
                "ci_low": float(low), "ci_high": float(high)}
    return {"stage": stage, "count": count, "denominator": of, "share": math.nan,
            "ci_low": math.nan, "ci_high": math.nan}


def fiscal_year_report(
    fiscal_year: int, *,
    needs_reflection: pd.DataFrame | None = None,
    civil_engineering_requests: pd.DataFrame | None = None,
    machizukuri_budget: pd.DataFrame | None = None,
    population: pd.DataFrame | None = None,
    data_dir: str | Path | None = None,
) -> FiscalYearResult:
    """The report of one fiscal year, from data up to and including that year only.

    Parameters
    ----------
    fiscal_year
        A fiscal year present in at least one of needs_reflection, civil_engineering_requests and
        machizukuri_budget.
    needs_reflection, civil_engineering_requests, machizukuri_budget, population
        The datasets; the shipped data (with ``data_dir`` laid over it) when None. Rows after
        ``fiscal_year`` are dropped before anything is computed.

    Raises
    ------
    ModelInputError
        ``fiscal_year`` is not an integer.
    MissingDataError
        No dataset has a figure for ``fiscal_year``; the message lists the years that exist.

    Keys (each present only when the year has the figures): ``fy.requests``,
    ``fy.requests_rr_vs_previous``, ``fy.priority_issues_rr_vs_previous``,
    ``fy.handled_share``, ``fy.handled_or_vs_previous``, ``fy.priority_rate``,
    ``fy.priority_rate_or_vs_previous``, ``fy.decided_share``, ``fy.first_level_share``,
    ``fy.requests_expected_from_trend`` (interval = 95% prediction interval),
    ``fy.requests_oe_vs_trend``, ``fy.budget_thousand_yen``, ``fy.budget_per_ward_thousand_yen``,
    ``fy.budget_yen_per_capita``, ``fy.civil_total``, ``fy.civil_<category>``,
    ``fy.civil_total_rr_vs_previous``, ``fy.civil_<category>_rr_vs_previous``.
    """
    if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, (int, np.integer)):
        raise ModelInputError(f"fiscal_year: expected an integer fiscal year, got {fiscal_year!r}")
    fy = int(fiscal_year)
    nr = _input.frame(needs_reflection, "needs_reflection", _NEEDS, data_dir)
    nr = _cut(_input.fiscal_years(nr, "needs_reflection"), fy)
    civ = _input.frame(civil_engineering_requests, "civil_engineering_requests",
                       ("fiscal_year", "category", "requests"), data_dir)
    civ = _cut(civ, fy)
    bud = _input.frame(machizukuri_budget, "machizukuri_budget",
                       ("fiscal_year", "budget_thousand_yen", "reconstruction_thousand_yen", "wards"),
                       data_dir)
    bud = _cut(bud, fy)
    have = {
        "needs": fy in set(nr["fiscal_year"]),
        "civil": fy in set(civ["fiscal_year"]),
        "budget": fy in set(bud["fiscal_year"]),
    }
    if not any(have.values()):
        every = sorted(set(_input.frame(needs_reflection, "needs_reflection", _NEEDS, data_dir)["fiscal_year"])
                       | set(_input.frame(civil_engineering_requests, "civil_engineering_requests",
                                          ("fiscal_year",), data_dir)["fiscal_year"])
                       | set(_input.frame(machizukuri_budget, "machizukuri_budget",
                                          ("fiscal_year",), data_dir)["fiscal_year"]))
        raise MissingDataError(
            f"fiscal_year {fy}: no figure for this year in needs_reflection, "
            f"civil_engineering_requests or machizukuri_budget (years in the data: "
            f"{min(every)}–{max(every)})")

    est: list[Estimate] = []
    rows: list[dict[str, Any]] = []
    caveats: list[tuple[str, str]] = []
    missing: list[tuple[str, str]] = []
    funnel = pd.DataFrame()
    history = pd.DataFrame()

    if have["needs"]:
        nr = nr.sort_values("fiscal_year").reset_index(drop=True)
        cur = nr[nr["fiscal_year"] == fy].iloc[0]
        n, h, p, d = (int(cur[c]) for c in ("requests", "requests_handled", "priority_issues",
                                             "decided_to_act"))
        staff, chief, coord = (int(cur[c]) for c in ("staff_consultations",
                                                     "section_chief_consultations",
                                                     "coordination_meetings"))
        funnel = pd.DataFrame([
            _share_row("requests", n, None),
            _share_row("requests_handled", h, n),
            _share_row("priority_issues", p, n),
            _share_row("decided_to_act", d, p),
            _share_row("settled_staff", staff - chief, p),
            _share_row("settled_section_chief", chief - coord, p),
            _share_row("settled_coordination", coord, p),
        ])
        est.append(Estimate("fy.requests", n, unit="requests"))
        for key, stage in (("fy.handled_share", "requests_handled"), ("fy.priority_rate", "priority_issues"),
                           ("fy.decided_share", "decided_to_act"), ("fy.first_level_share", "settled_staff")):
            r = funnel[funnel["stage"] == stage].iloc[0]
            if not math.isnan(r["share"]):
                est.append(Estimate(key, r["share"], r["ci_low"], r["ci_high"], "share",
                                    interval="Wilson"))
        prev = nr[nr["fiscal_year"] == fy - 1]
        if not prev.empty:
            pr = prev.iloc[0]
            for key, col in (("fy.requests_rr_vs_previous", "requests"),
                             ("fy.priority_issues_rr_vs_previous", "priority_issues")):
                if int(cur[col]) + int(pr[col]) == 0:
                    continue
                r = stats.rate_ratio_exact(int(cur[col]), 1.0, int(pr[col]), 1.0)
                est.append(Estimate(key, r.ratio if math.isfinite(r.ratio) else math.nan, r.ci_low,
                                    r.ci_high if math.isfinite(r.ci_high) else math.nan,
                                    "rate ratio", interval="exact conditional (Clopper-Pearson)",
                                    p_value=r.p_value))
                rows.append({"measure": col, "comparison": "previous_year",
                             "this_year": int(cur[col]), "reference": int(pr[col]),
                             "estimate": r.ratio, "ci_low": r.ci_low, "ci_high": r.ci_high,
                             "p_value": r.p_value, "test": "exact Poisson (conditional)"})
            for key, col in (("fy.handled_or_vs_previous", "requests_handled"),
                             ("fy.priority_rate_or_vs_previous", "priority_issues")):
                f = stats.fisher_exact_2x2(int(cur[col]), n, int(pr[col]), int(pr["requests"]))
                est.append(Estimate(key, f.odds_ratio if math.isfinite(f.odds_ratio) else math.nan,
                                    f.ci_low, f.ci_high if math.isfinite(f.ci_high) else math.nan,
                                    "odds ratio", interval="exact conditional", p_value=f.p_value))
                rows.append({"measure": f"{col}_share", "comparison": "previous_year",
                             "this_year": int(cur[col]) / n, "reference": int(pr[col]) / int(pr["requests"]),
                             "estimate": f.odds_ratio, "ci_low": f.ci_low, "ci_high": f.ci_high,
                             "p_value": f.p_value, "test": "Fisher exact"})
            caveats.append((
                "The exact year-on-year tests assume Poisson (or binomial) variation; across the "
                "review's years the counts vary far more than that (overdispersion), so their "
                "p-values overstate how unusual a change is.",
                "前年度との正確検定はポアソン（二項）変動を仮定している。各年度の件数はそれより大きくばらつく"
                "（過分散）ため、p値は変化の珍しさを過大に示す。"))
        else:
            missing.append(("the previous year's requests (no year-on-year comparison)",
                            "前年度の要望・相談件数（前年度比較はできない）"))
        earlier = nr[nr["fiscal_year"] < fy]
        history = nr[["fiscal_year", "requests"]].copy()
        history[["expected", "pi_low", "pi_high"]] = math.nan
        if len(earlier) >= _TREND_MIN_YEARS:
            x0 = float(earlier["fiscal_year"].mean())
            X = pd.DataFrame({"const": 1.0, "year": earlier["fiscal_year"].astype(float) - x0})
            fit = stats.fit_quasi_poisson(earlier["requests"].to_numpy(float), X,
                                          what="trend of the earlier years")
            pi = stats.prediction_interval(fit, pd.DataFrame({"const": [1.0], "year": [fy - x0]})).iloc[0]
            history.loc[history["fiscal_year"] == fy, ["expected", "pi_low", "pi_high"]] = (
                pi["expected"], pi["pi_low"], pi["pi_high"])
            est.append(Estimate("fy.requests_expected_from_trend", pi["expected"], pi["pi_low"],
                                pi["pi_high"], "requests", interval="95% prediction interval"))
            est.append(Estimate("fy.requests_oe_vs_trend", n / pi["expected"],
                                n / pi["pi_high"], n / pi["pi_low"], "observed / expected",
                                interval="from the 95% prediction interval"))
            rows.append({"measure": "requests", "comparison": "trend_of_earlier_years",
                         "this_year": n, "reference": pi["expected"], "estimate": n / pi["expected"],
                         "ci_low": pi["pi_low"], "ci_high": pi["pi_high"], "p_value": math.nan,
                         "test": "quasi-Poisson log-linear trend, 95% prediction interval"})
            caveats.append((
                f"The trend rests on {len(earlier)} earlier fiscal years "
                f"({int(earlier['fiscal_year'].min())}–{int(earlier['fiscal_year'].max())}) with "
                f"{fit.df_resid} residual degree(s) of freedom and dispersion {fmt(fit.dispersion)}: "
                "the prediction interval is wide, and only a very large departure would fall outside it.",
                f"傾向は以前の{len(earlier)}年度（{int(earlier['fiscal_year'].min())}〜"
                f"{int(earlier['fiscal_year'].max())}年度、残差自由度{fit.df_resid}、過分散"
                f"{fmt(fit.dispersion)}）に基づく。予測区間は広く、非常に大きな変化しか区間の外に出ない。"))
            if int(earlier["fiscal_year"].min()) == 2017:
                caveats.append((
                    "FY2017, the まちづくりセンター start-up year, surfaced long-buried requests and "
                    "pulls the earlier trend down steeply.",
                    "2017年度はまちづくりセンター設置初年度で埋もれていた要望が掘り起こされたため、"
                    "以前の傾向を急な減少に引っ張る。"))
        else:
            missing.append((
                f"a trend of earlier years (needs at least {_TREND_MIN_YEARS} earlier years of "
                f"requests; {len(earlier)} available)",
                f"以前の年度の傾向（少なくとも{_TREND_MIN_YEARS}年度分の要望・相談件数が必要で、"
                f"{len(earlier)}年度分しかない）"))
        caveats.append((
            "requests_handled counts cases handled by the time of the report (June 2024); the later "
            "the year, the less time there was to handle them.",
            "対応済は報告時点（2024年6月）までに対応した件数で、後の年度ほど対応に使えた時間が短い。"))
        if fy == 2017:
            caveats.append((
                "FY2017 was the まちづくりセンター start-up year; the document says it surfaced "
                "long-buried requests, so its counts are high for reasons unrelated to later years.",
                "2017年度はまちづくりセンター設置初年度で、埋もれていた要望が掘り起こされたため件数が多い。"))
    else:
        missing.append(("requests and consultations under the 地域ニーズ反映の仕組み (recorded "
                        "FY2017–FY2023 in the review)",
                        "地域ニーズ反映の仕組みの要望・相談（レビューの記録は2017〜2023年度）"))

    budget = pd.DataFrame()
    if have["budget"]:
        from .budgets import kumamoto_budget

        kb = kumamoto_budget(bud, population, data_dir=data_dir)
        budget = kb.table().query("fiscal_year == @fy").reset_index(drop=True)
        r = budget.iloc[0]
        est += [
            Estimate("fy.budget_thousand_yen", r["budget_thousand_yen"], unit="thousand yen"),
            Estimate("fy.budget_per_ward_thousand_yen", r["per_ward_thousand_yen"],
                     unit="thousand yen per ward (equal split assumed)"),
            Estimate("fy.budget_yen_per_capita", r["yen_per_capita"], unit="yen per resident"),
        ]
        caveats.append((
            "The per-ward budget assumes an equal split of the five-ward total; the per-resident "
            f"figure uses the whole-city population as of {r['population_as_of']:%Y-%m} "
            f"({r['population_basis']}, source quality {r['population_quality']}).",
            "1区あたりの予算は5区合計を均等に配分したと仮定したもの。1人あたりの額は"
            f"{r['population_as_of']:%Y年%m月}時点の市全体人口（{_BASIS_JA.get(r['population_basis'], r['population_basis'])}、"
            f"出典の品質記号 {r['population_quality']}）による。"))
    else:
        missing.append(("the まちづくり推進経費 budget", "まちづくり推進経費"))

    civil = pd.DataFrame()
    if have["civil"]:
        cur_c = civ[civ["fiscal_year"] == fy].set_index("category")["requests"]
        civil = pd.DataFrame({"category": cur_c.index, "requests": cur_c.to_numpy()})
        est.append(Estimate("fy.civil_total", int(cur_c.sum()), unit="requests"))
        for cat, v in cur_c.items():
            est.append(Estimate(f"fy.civil_{cat}", int(v), unit="requests"))
        if fy - 1 in set(civ["fiscal_year"]):
            from .civil import civil_requests

            cr = civil_requests(civ, base_year=fy - 1, compare_year=fy)
            for e in cr.estimates:
                suffix = e.key.split(".")[1].replace(f"_rr_fy{fy}_vs_fy{fy - 1}", "")
                est.append(Estimate(f"fy.civil_{suffix}_rr_vs_previous", e.value, e.ci_low, e.ci_high,
                                    e.unit, interval=e.interval, p_value=e.p_value))
            rows += [{"measure": f"civil_{r['category']}", "comparison": "previous_year",
                      "this_year": r.get("requests_compare"), "reference": r.get("requests_base"),
                      "estimate": r["rate_ratio"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                      "p_value": r["p_value"], "test": "exact Poisson (conditional)"}
                     for r in cr.table().to_dict("records")]
        else:
            missing.append(("the previous year's civil-engineering requests",
                            "前年度の土木センターへの要望"))
    else:
        missing.append(("civil-engineering centre requests (printed for FY2021 and FY2022 only)",
                        "土木センターへの要望（文書には2021・2022年度のみ）"))

    table = pd.DataFrame(rows, columns=["measure", "comparison", "this_year", "reference",
                                        "estimate", "ci_low", "ci_high", "p_value", "test"])
    if not caveats:
        caveats.append(("Only the figures listed are available for this year.",
                        "この年度はここに示した数字しかない。"))
    return FiscalYearResult(
        title_key="title_fiscal_year_report",
        estimates=tuple(est),
        method=("Data up to and including the fiscal year only. Against the previous year: exact "
                "conditional Poisson rate ratios (counts) and Fisher exact odds ratios (shares); against "
                "the earlier years: quasi-Poisson log-linear trend with a 95% prediction interval; "
                "shares with Wilson intervals."),
        method_ja=("当該年度までのデータのみを使用。前年度との比較は件数に条件付き正確ポアソン率比、割合に"
                   "フィッシャーの正確検定のオッズ比。以前の年度との比較は準ポアソン対数線形傾向と95%予測区間。"
                   "割合はWilson区間。"),
        n_obs=int(have["needs"]) + int(have["budget"]) + int(have["civil"]),
        caveats=tuple(en for en, _ in caveats),
        caveats_ja=tuple(ja for _, ja in caveats),
        data=table,
        fiscal_year=fy,
        funnel=funnel,
        budget=budget,
        civil=civil,
        history=history,
        missing=tuple(en for en, _ in missing),
        missing_ja=tuple(ja for _, ja in missing),
    )
