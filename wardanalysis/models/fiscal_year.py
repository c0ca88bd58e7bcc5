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
from ..results import POISSON_ONLY, Estimate, Result, fmt, fmt_ci, fmt_interval, fmt_pct, years_text
from . import _input
from .errors import MissingDataError, ModelInputError
from .periods import covid_period
from .requests import START_UP_FY

__all__ = ["FiscalYearResult", "fiscal_year_report"]

_NEEDS = ("fiscal_year", "requests", "requests_handled", "priority_issues", "decided_to_act",
          "staff_consultations", "section_chief_consultations", "coordination_meetings")
_BASIS_JA = {"estimate": "推計人口", "resident_register": "住民基本台帳", "census": "国勢調査",
             "census_preliminary": "国勢調査（速報）", "unknown": "基準不明"}


@dataclass(frozen=True, eq=False, repr=False)
class FiscalYearResult(Result):
    """The report of one fiscal year. ``data`` (``table()``) holds every comparison as a row;
    ``funnel``, ``budget`` and ``civil`` hold that year's figures; ``history`` the request
    counts up to that year with the trend expectation; ``missing`` what the data lack."""

    sources = ("needs_reflection", "machizukuri_budget", "population", "civil_engineering_requests")
    SUMMARY_KEYS = ("fy.requests", "fy.requests_rr_vs_previous", "fy.handled_share", "fy.budget_yen_per_capita")
    fiscal_year: int = 0
    covid_start: int = 2020
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

    @property
    def has_chart(self) -> bool:
        """A chart needs more than one value: the requests of at least two years."""
        return len(self.history) >= 2

    def missing_list(self, lang: str = "ja") -> list[str]:
        return list(self.missing_ja if lang == "ja" else self.missing)

    def _get(self, key: str) -> Estimate | None:
        try:
            return self.estimate(key)
        except KeyError:
            return None

    def _no_baseline(self, lang: str) -> str:
        before = self.fiscal_year < self.covid_start
        if lang == "ja":
            return ("この年度については傾向からの期待値を示さない。"
                    + ("それより前の年度" if before else "コロナ期間より前の年度")
                    + "が少なく、信頼できる予測区間が求められないためである。")
        return ("No expected value from a trend is given for this year: the years before "
                + ("it" if before else "the COVID period")
                + " are too few for an honest prediction interval.")

    def _text_en(self) -> str:
        fy = self.fiscal_year
        parts = []
        req = self._get("fy.requests")
        if req is not None:
            s = f"In FY{fy} the wards received {int(req.value):,} requests"
            rr = self._get("fy.requests_rr_vs_previous")
            if rr is not None and rr.poisson_only:
                s += (f", {fmt(rr.value)} times the previous year; too few years allow for the "
                      "year-to-year variation, so no honest interval exists (if the counts were "
                      f"Poisson: {fmt(rr.ci_low)} to {fmt(rr.ci_high)})")
            elif rr is not None:
                s += (f", {fmt(rr.value)} times the previous year {fmt_ci(rr.ci_low, rr.ci_high, 'en')}"
                      ", allowing for the year-to-year variation of the series")
            s += "."
            parts.append(s)
            tr = self._get("fy.requests_expected_from_trend")
            if tr is not None:
                oe = self.estimate("fy.requests_oe_vs_trend")
                inside = tr.ci_low <= req.value <= tr.ci_high
                parts.append(
                    f"The trend of the years before the COVID period predicted {fmt(tr.value)} (95% "
                    f"prediction interval {fmt(tr.ci_low)} to {fmt(tr.ci_high)}); observed/expected "
                    f"{fmt(oe.value)}, "
                    + ("inside the interval: not unusual against that trend."
                       if inside else "outside the interval: unusual against that trend."))
            else:
                parts.append(self._no_baseline("en"))
            hs = self._get("fy.handled_share")
            pr = self._get("fy.priority_rate")
            if hs is not None and pr is not None:
                parts.append(
                    f"{fmt_pct(hs.value)} were handled {fmt_interval(hs, 'en', pct=True)}, "
                    f"and {fmt_pct(pr.value, 2)} became ward priority issues "
                    f"{fmt_interval(pr, 'en', pct=True)}.")
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
                s += f", {fmt(crr.value)} times the previous year {fmt_interval(crr, 'en')}"
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
            if rr is not None and rr.poisson_only:
                s += (f"で、前年度の{fmt(rr.value)}倍であった。年ごとのばらつきを考慮できるだけの年度がなく、"
                      f"信頼できる区間は求められない（件数がポアソン分布に従う場合の区間は{fmt(rr.ci_low)}〜"
                      f"{fmt(rr.ci_high)}）")
            elif rr is not None:
                s += (f"で、前年度の{fmt(rr.value)}倍{fmt_ci(rr.ci_low, rr.ci_high, 'ja')}"
                      "（系列の年ごとのばらつきを考慮した区間）")
            parts.append(s + ("。" if rr is not None and rr.poisson_only else "であった。"))
            tr = self._get("fy.requests_expected_from_trend")
            if tr is not None:
                oe = self.estimate("fy.requests_oe_vs_trend")
                inside = tr.ci_low <= req.value <= tr.ci_high
                parts.append(
                    f"コロナ期間より前の年度の傾向からの予測は{fmt(tr.value)}件（95%予測区間 {fmt(tr.ci_low)}〜"
                    f"{fmt(tr.ci_high)}）、実績/予測は{fmt(oe.value)}で、"
                    + ("予測区間の内側にあり、傾向から見て異常な年ではない。"
                       if inside else "予測区間の外側にあり、傾向から見て異常な年である。"))
            else:
                parts.append(self._no_baseline("ja"))
            hs = self._get("fy.handled_share")
            pr = self._get("fy.priority_rate")
            if hs is not None and pr is not None:
                parts.append(
                    f"対応済は{fmt_pct(hs.value)}{fmt_interval(hs, 'ja', pct=True)}、"
                    f"区重要課題になったのは{fmt_pct(pr.value, 2)}"
                    f"{fmt_interval(pr, 'ja', pct=True)}であった。")
        b = self._get("fy.budget_thousand_yen")
        if b is not None:
            pc = self.estimate("fy.budget_yen_per_capita")
            row = self.budget.iloc[0]
            parts.append(
                f"{fy}年度（{_era(fy)}）のまちづくり推進経費（5区合計）は{int(b.value):,}千円（均等配分なら1区あたり"
                f"{fmt(row['per_ward_thousand_yen'], 4)}千円、住民1人あたり{fmt(pc.value)}円、"
                f"人口は{row['population_as_of'].year}年{row['population_as_of'].month}月時点）。")
        c = self._get("fy.civil_total")
        if c is not None:
            s = f"土木センターへの要望は{int(c.value):,}件"
            crr = self._get("fy.civil_total_rr_vs_previous")
            if crr is not None:
                s += f"で、前年度の{fmt(crr.value)}倍{fmt_interval(crr, 'ja')}"
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


#: A baseline trend needs at least this many fiscal years before an expected value is reported
#: (two coefficients and at least two residual degrees of freedom for its dispersion).
BASELINE_MIN_YEARS = 4


def _with_levels(nr: pd.DataFrame) -> pd.DataFrame:
    out = nr.copy()
    out["settled_staff"] = out["staff_consultations"] - out["section_chief_consultations"]
    out["settled_section_chief"] = out["section_chief_consultations"] - out["coordination_meetings"]
    out["settled_coordination"] = out["coordination_meetings"]
    return out


def _funnel(cur: pd.Series) -> pd.DataFrame:
    n, h, p, d = (int(cur[c]) for c in ("requests", "requests_handled", "priority_issues",
                                         "decided_to_act"))
    staff, chief, coord = (int(cur[c]) for c in ("staff_consultations",
                                                 "section_chief_consultations",
                                                 "coordination_meetings"))
    return pd.DataFrame([
        _share_row("requests", n, None),
        _share_row("requests_handled", h, n),
        _share_row("priority_issues", p, n),
        _share_row("decided_to_act", d, p),
        _share_row("settled_staff", staff - chief, p),
        _share_row("settled_section_chief", chief - coord, p),
        _share_row("settled_coordination", coord, p),
    ])


#: (record key, numerator, denominator) of the year's shares
_SHARES = (("fy.handled_share", "requests_handled", "requests"),
           ("fy.priority_rate", "priority_issues", "requests"),
           ("fy.decided_share", "decided_to_act", "priority_issues"),
           ("fy.first_level_share", "settled_staff", "priority_issues"))


def _needs_section(nr: pd.DataFrame, fy: int, period, est: list, rows: list, caveats: list,
                   missing: list) -> None:
    """The year's shares and its comparison with the previous year, each interval borrowing the
    dispersion of its series' trend over the years up to ``fy``."""
    from .requests import borrowed_interval_text

    lv = _with_levels(nr)
    cur = lv[lv["fiscal_year"] == fy].iloc[0]
    years = lv["fiscal_year"]
    est.append(Estimate("fy.requests", int(cur["requests"]), unit="requests"))
    for key, num, den in _SHARES:
        s, n = int(cur[num]), int(cur[den])
        if n == 0:
            continue
        phi, df = stats.trend_dispersion(lv[num], years, lv[den])
        if df >= 2:
            lo, hi = stats.scaled_wilson_interval(s, n, phi)
            interval = (f"Wilson on counts divided by the dispersion of the series' trend "
                        f"({fmt(max(1.0, phi))}, {years_text(years)})")
            flags: tuple[str, ...] = ()
        else:
            lo, hi = stats.wilson_interval(s, n)
            interval = "Wilson; valid only if binomial (too few years for the series' dispersion)"
            flags = (POISSON_ONLY,)
        est.append(Estimate(key, s / n, float(lo), float(hi), "share", interval=interval,
                            flags=flags))
    prev = lv[lv["fiscal_year"] == fy - 1]
    if prev.empty:
        missing.append(("the previous year's requests (no year-on-year comparison)",
                        "前年度の要望・相談件数（前年度比較はできない）"))
        return
    pr = prev.iloc[0]
    borrowed = []
    for key, col in (("fy.requests_rr_vs_previous", "requests"),
                     ("fy.priority_issues_rr_vs_previous", "priority_issues")):
        if int(cur[col]) + int(pr[col]) == 0:
            continue
        phi, df = stats.trend_dispersion(lv[col], years)
        r = stats.scaled_rate_ratio(int(cur[col]), int(pr[col]), phi, df)
        borrowed.append(r)
        est.append(Estimate(key, r.ratio if math.isfinite(r.ratio) else math.nan, r.ci_low,
                            r.ci_high if math.isfinite(r.ci_high) else math.nan, "rate ratio",
                            interval=borrowed_interval_text(r),
                            flags=(POISSON_ONLY,) if r.poisson_only else ()))
        rows.append(_comparison_row(col, int(cur[col]), int(pr[col]), r,
                                    borrowed_interval_text(r)))
    for key, col in (("fy.handled_or_vs_previous", "requests_handled"),
                     ("fy.priority_rate_or_vs_previous", "priority_issues")):
        phi, df = stats.trend_dispersion(lv[col], years, lv["requests"])
        r = stats.scaled_odds_ratio(int(cur[col]), int(cur["requests"]), int(pr[col]),
                                    int(pr["requests"]), phi, df)
        borrowed.append(r)
        text = borrowed_interval_text(r, "binomial")
        est.append(Estimate(key, r.ratio if math.isfinite(r.ratio) else math.nan,
                            r.ci_low, r.ci_high if math.isfinite(r.ci_high) else math.nan,
                            "odds ratio", interval=text,
                            flags=(POISSON_ONLY,) if r.poisson_only else ()))
        rows.append(_comparison_row(f"{col}_share", int(cur[col]) / int(cur["requests"]),
                                    int(pr[col]) / int(pr["requests"]), r, text))
    if any(r.poisson_only for r in borrowed):
        caveats.append((
            f"With the {len(years)} fiscal year(s) up to FY{fy} ({years_text(years)}) a trend leaves "
            "fewer than two residual degrees of freedom, so no honest year-on-year interval "
            "exists: the intervals shown are exact, valid only if the counts were Poisson (or "
            "binomial), and across the review's years the counts vary far more than that.",
            f"{fy}年度までの{len(years)}年度分（{years_text(years, 'ja')}）では傾向の残差自由度が2未満で、"
            "ばらつきを考慮した前年度比の区間は求められない。示した区間はポアソン（二項）分布の場合に限り有効な"
            "正確な区間であり、各年度の件数は実際にはそれよりはるかに大きくばらつく。"))
    else:
        caveats.append((
            f"Each year-on-year interval borrows the dispersion of its series' trend over "
            f"{years_text(years)} (quasi-likelihood, t on that trend's residual degrees of freedom); "
            "the exact intervals and p-values in the table are valid only if the counts were "
            "Poisson (or binomial), which across these years they are not.",
            f"前年度比の区間は、{years_text(years, 'ja')}の各系列の傾向モデルの過分散を借りた区間"
            "（準尤度、その傾向の残差自由度のt分布）である。表の正確な区間とp値はポアソン（二項）分布の場合に"
            "限り有効で、これらの年度の件数には当てはまらない。"))


#: How a comparison's interval was made, as a glossary term (the table shows its label).
_TEST_TERMS = {"quasi": "test_borrowed_dispersion", "exact": "test_exact_no_overdispersion",
               "poisson_only": "test_exact_poisson_only"}


def _comparison_row(measure: str, this_year, reference, r: stats.ScaledRatio, test: str) -> dict:
    return {"measure": measure, "comparison": "previous_year", "this_year": this_year,
            "reference": reference, "estimate": r.ratio, "ci_low": r.ci_low,
            "ci_high": r.ci_high, "exact_ci_low": r.exact_low, "exact_ci_high": r.exact_high,
            "exact_p_value": r.exact_p, "test": _TEST_TERMS[r.method]}


def _history(nr: pd.DataFrame, fy: int, period, est: list, rows: list, caveats: list,
             missing: list) -> pd.DataFrame:
    """Requests up to ``fy`` and, where the baseline allows, the value expected for ``fy`` from
    a trend of the years before the COVID period (before ``fy`` itself for an earlier year)."""
    from ._input import as_of_dates

    n = int(nr.loc[nr["fiscal_year"] == fy, "requests"].iloc[0])
    history = nr[["fiscal_year", "requests"]].copy()
    history[["expected", "pi_low", "pi_high"]] = math.nan
    limit = min(fy, period.start)
    base = nr[nr["fiscal_year"] < limit]
    base_years = [int(y) for y in base["fiscal_year"]]
    if len(base) >= BASELINE_MIN_YEARS:
        x0 = float(base["fiscal_year"].mean())
        X = pd.DataFrame({"const": 1.0, "year": base["fiscal_year"].astype(float) - x0})
        fit = stats.fit_quasi_poisson(base["requests"].to_numpy(float), X,
                                      what="trend of the baseline years")
        pi = stats.prediction_interval(fit, pd.DataFrame({"const": [1.0], "year": [fy - x0]})).iloc[0]
        history.loc[history["fiscal_year"] == fy, ["expected", "pi_low", "pi_high"]] = (
            pi["expected"], pi["pi_low"], pi["pi_high"])
        interval = f"95% prediction interval, quasi-Poisson trend of {years_text(base_years)}, {fit.quantiles}"
        est.append(Estimate("fy.requests_expected_from_trend", pi["expected"], pi["pi_low"],
                            pi["pi_high"], "requests", interval=interval))
        est.append(Estimate("fy.requests_oe_vs_trend", n / pi["expected"], n / pi["pi_high"],
                            n / pi["pi_low"], "observed / expected",
                            interval="from the 95% prediction interval"))
        rows.append({"measure": "requests", "comparison": "trend_of_earlier_years",
                     "this_year": n, "reference": pi["expected"], "estimate": n / pi["expected"],
                     "ci_low": pi["pi_low"], "ci_high": pi["pi_high"],
                     "test": "test_baseline_trend"})
        caveats.append((
            f"The baseline trend rests on {len(base)} fiscal years ({years_text(base_years)}) with "
            f"{fit.df_resid} residual degree(s) of freedom and dispersion {fmt(fit.dispersion)}: "
            "the prediction interval is wide, and only a very large departure would fall outside it.",
            f"基準の傾向は{len(base)}年度（{years_text(base_years, 'ja')}、残差自由度{fit.df_resid}、過分散"
            f"{fmt(fit.dispersion)}）に基づく。予測区間は広く、非常に大きな変化しか区間の外に出ない。"))
        if START_UP_FY in base_years:
            caveats.append((
                f"FY{START_UP_FY}, the まちづくりセンター start-up year, surfaced long-buried requests "
                "and pulls the baseline trend down steeply.",
                f"{START_UP_FY}年度はまちづくりセンター設置初年度で埋もれていた要望が掘り起こされたため、"
                "基準の傾向を急な減少に引っ張る。"))
    else:
        where_en = ("before the COVID period" if fy >= period.start else f"before FY{fy}")
        where_ja = ("コロナ期間より前" if fy >= period.start else f"{fy}年度より前")
        have_en = f"{len(base)} ({years_text(base_years)})" if base_years else "none"
        have_ja = f"{len(base)}年度（{years_text(base_years, 'ja')}）" if base_years else "0年度"
        missing.append((
            f"an expected value for this year: a baseline needs at least {BASELINE_MIN_YEARS} "
            f"fiscal years {where_en}, and the data have {have_en}, too few for an honest "
            "prediction interval",
            f"この年度の期待値（基準となる{where_ja}の年度が少なくとも{BASELINE_MIN_YEARS}年度必要だが、"
            f"データには{have_ja}しかなく、信頼できる予測区間が求められない）"))
    from ..loading import overlaid_rows

    prov = nr.attrs.get("provenance") or {}
    if any(u for u, y in zip(overlaid_rows(nr), nr["fiscal_year"], strict=True) if y == fy):
        from ..messages import message

        facts = {"file": Path(prov["overlay_file"]).name, "sha": prov.get("overlay_sha256", "")[:12]}
        caveats.insert(0, (message("fy.overlay_caveat", "en", **facts),
                           message("fy.overlay_caveat", "ja", **facts)))
    as_of = as_of_dates(nr).get(fy)
    if as_of is not None:
        caveats.append((
            f"The handled count is of cases handled by {as_of:%Y-%m-%d}; the later the year, the "
            "less time there was to handle them.",
            f"対応済は{as_of.year}年{as_of.month}月{as_of.day}日までに対応した件数で、後の年度ほど対応に"
            "使えた時間が短い。"))
    else:
        caveats.append((
            "This year's handled count has no as-of date (a user's row without an as_of column): "
            "how much time its requests had to be handled is unknown.",
            "この年度の対応済の件数には時点が示されていない（as_of列のない利用者の行）。対応に使えた時間は不明である。"))
    if fy == START_UP_FY:
        caveats.append((
            f"FY{START_UP_FY} was the まちづくりセンター start-up year; the document says it "
            "surfaced long-buried requests, so its counts are high for reasons unrelated to later years.",
            f"{START_UP_FY}年度はまちづくりセンター設置初年度で、埋もれていた要望が掘り起こされたため件数が多い。"))
    return history


def fiscal_year_report(
    fiscal_year: int | str, *,
    covid_start: int | str | None = None,
    covid_end: int | str | None = None,
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
    if isinstance(fiscal_year, str):
        from ..eras import EraLabelError
        from ..eras import fiscal_year as fy_of

        try:
            fiscal_year = fy_of(fiscal_year)
        except EraLabelError as exc:
            raise ModelInputError(f"fiscal_year: {exc}") from None
    if isinstance(fiscal_year, bool) or not isinstance(fiscal_year, (int, np.integer)):
        raise ModelInputError(f"fiscal_year: expected an integer fiscal year, got {fiscal_year!r}")
    fy = int(fiscal_year)
    period = covid_period(covid_start, covid_end, data_dir=data_dir)
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
        _needs_section(nr, fy, period, est, rows, caveats, missing)
        funnel = _funnel(nr[nr["fiscal_year"] == fy].iloc[0])
        history = _history(nr, fy, period, est, rows, caveats, missing)
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
            f"{r['population_as_of'].year}年{r['population_as_of'].month}月時点の市全体人口（{_BASIS_JA.get(r['population_basis'], r['population_basis'])}、"
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
                                    e.unit, interval=e.interval, p_value=e.p_value, flags=e.flags))
            rows += [{"measure": f"civil_{r['category']}", "comparison": "previous_year",
                      "this_year": r.get("requests_compare"), "reference": r.get("requests_base"),
                      "estimate": r["rate_ratio"], "ci_low": r["ci_low"], "ci_high": r["ci_high"],
                      "exact_ci_low": r["ci_low"], "exact_ci_high": r["ci_high"],
                      "exact_p_value": r["p_value"],
                      "test": "test_exact_two_years"}
                     for r in cr.table().to_dict("records")]
        else:
            missing.append(("the previous year's civil-engineering requests",
                            "前年度の土木センターへの要望"))
    else:
        missing.append(("civil-engineering centre requests (printed for FY2021 and FY2022 only)",
                        "土木センターへの要望（文書には2021・2022年度のみ）"))

    table = pd.DataFrame(rows, columns=["measure", "comparison", "this_year", "reference",
                                        "estimate", "ci_low", "ci_high", "exact_ci_low",
                                        "exact_ci_high", "exact_p_value", "test"])
    if not caveats:
        caveats.append(("Only the figures listed are available for this year.",
                        "この年度はここに示した数字しかない。"))
    return FiscalYearResult(
        title_key="title_fiscal_year_report",
        estimates=tuple(est),
        method=("Data up to and including the fiscal year only. Against the previous year: rate "
                "ratios (counts) and odds ratios (shares) with the dispersion of each series' trend "
                "up to that year borrowed (quasi-likelihood Wald, t on the trend's residual df; "
                "exact intervals only where fewer than two residual df remain, marked as valid "
                "only for Poisson counts); the year's shares with Wilson intervals on counts "
                "scaled by that dispersion; an expected value only from a baseline of at least "
                f"{BASELINE_MIN_YEARS} fiscal years before the COVID period "
                f"(FY{period.start}–FY{period.end}), with a 95% prediction interval."),
        method_ja=("当該年度までのデータのみを使用。前年度との比較は、件数の率比と割合のオッズ比に、その年度までの"
                   "各系列の傾向モデルの過分散を借りた区間（準尤度のワルド区間、傾向の残差自由度のt分布。残差自由度が"
                   "2未満の場合のみポアソン分布に限り有効な正確な区間）。当該年度の割合は過分散で割った件数によるWilson区間。"
                   f"期待値はコロナ期間（{period.start}〜{period.end}年度）より前の{BASELINE_MIN_YEARS}年度以上の"
                   "基準期間がある場合のみ、95%予測区間とともに示す。"),
        n_obs=int(have["needs"]) + int(have["budget"]) + int(have["civil"]),
        caveats=tuple(en for en, _ in caveats),
        caveats_ja=tuple(ja for _, ja in caveats),
        data=table,
        fiscal_year=fy,
        covid_start=period.start,
        funnel=funnel,
        budget=budget,
        civil=civil,
        history=history,
        missing=tuple(en for en, _ in missing),
        missing_ja=tuple(ja for _, ja in missing),
    )
