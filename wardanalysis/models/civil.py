"""Section 4: requests to the ward civil-engineering centres (土木センター), FY2021 → FY2022.

For each category (road, park, river) and in total, the rate ratio of the later year to the
earlier one with the exact conditional Poisson interval and p-value (the two years have the same
exposure, one fiscal year each).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..glossary import label
from ..results import POISSON_ONLY, Estimate, Result, fmt, fmt_interval, join_caveats, pct_change
from . import _input
from .errors import DuplicateYearError, MissingDataError, TooFewYearsError

__all__ = ["CATEGORIES", "CivilResult", "civil_requests"]

CATEGORIES = ("road", "park", "river")
_COLUMNS = ("fiscal_year", "category", "requests")


@dataclass(frozen=True, eq=False, repr=False)
class CivilResult(Result):
    sources = ("civil_engineering_requests",)
    SUMMARY_KEYS = ()
    base_year: int = 2021
    compare_year: int = 2022

    def _k(self, cat: str) -> str:
        return f"civil.{cat}_rr_fy{self.compare_year}_vs_fy{self.base_year}"

    def _text_ja(self) -> str:
        parts = []
        for cat in [*self._cats(), "total"]:
            e = self.estimate(self._k(cat))
            parts.append(f"{label(cat, 'ja')}は率比{fmt(e.value)}{fmt_interval(e, 'ja')}")
        return (f"土木センターへの要望を{self.base_year}年度と{self.compare_year}年度で比べると、"
                + "、".join(parts) + "であった。2年分しかないため、年ごとのばらつきを考慮した区間は求められない。")

    def _text_en(self) -> str:
        parts = []
        for cat in [*self._cats(), "total"]:
            e = self.estimate(self._k(cat))
            parts.append(f"{label(cat, 'en').lower()} {fmt(e.value)} "
                         f"({'+' if e.value >= 1 else ''}{fmt(pct_change(e.value), 2)}%) "
                         f"{fmt_interval(e, 'en')}")
        return (f"Requests to the civil-engineering centres, FY{self.compare_year} against "
                f"FY{self.base_year}, as rate ratios: " + "; ".join(parts) + ". With two years "
                "only, no interval that allows for the year-to-year variation can be given.")

    def _cats(self) -> list[str]:
        return [c for c in self.data["category"] if c != "total"]

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data.iloc[::-1].reset_index(drop=True)
        y = np.arange(len(d))
        # an unbounded ratio (a zero count) has no point to draw; its row stays, labelled
        ok = np.isfinite(d["rate_ratio"]) & np.isfinite(d["ci_high"]) & (d["ci_low"] > 0)
        f = d[ok]
        ax.errorbar(f["rate_ratio"], y[ok],
                    xerr=[f["rate_ratio"] - f["ci_low"], f["ci_high"] - f["rate_ratio"]],
                    fmt="o", color=plotting.COLORS["observed"], capsize=4, elinewidth=1.6,
                    markersize=7)
        ax.axvline(1, color=plotting.COLORS["neutral"], ls="--", lw=1)
        ax.set_yticks(y)
        ax.set_yticklabels([
            f"{label(c, lang)}\n{int(a):,} → {int(b):,}"
            for c, a, b in zip(d["category"], d["requests_base"], d["requests_compare"], strict=True)
        ])
        plotting.ratio_axis(ax, f["ci_low"].min() if len(f) else 0.5,
                            f["ci_high"].max() if len(f) else 2)
        for yi, r in zip(y[ok], f.itertuples(index=False), strict=True):
            ax.annotate(fmt(r.rate_ratio), (r.rate_ratio, yi), xytext=(0, 8),
                        textcoords="offset points", ha="center", fontsize=9)
        ax.set_ylim(-0.6, len(d) - 0.4)
        ax.set_xlabel(label("rate_ratio_log_scale", lang) + (
            f"（{self.compare_year}年度／{self.base_year}年度）" if lang == "ja"
            else f" (FY{self.compare_year} / FY{self.base_year})"))
        ax.grid(axis="y", visible=False)
        ax.set_title(self.title(lang))


def civil_requests(civil_engineering_requests: pd.DataFrame | None = None, *,
                   base_year: int = 2021, compare_year: int = 2022,
                   data_dir: str | Path | None = None) -> CivilResult:
    """Rate ratios of civil-engineering centre requests, ``compare_year`` against ``base_year``.

    Parameters
    ----------
    civil_engineering_requests
        Long format: ``fiscal_year``, ``category`` (road, park, river), ``requests``; the shipped
        data when None. Other fiscal years in the frame are ignored.
    base_year, compare_year
        The two fiscal years compared.

    Raises
    ------
    MissingColumnError, InvalidCountError, DuplicateYearError (a category twice in a year),
    TooFewYearsError (either year absent, e.g. after a fiscal-year cut-off),
    MissingDataError (a category present in one year only), ZeroDenominatorError (a category
    with zero requests in both years).

    Keys: ``civil.<category>_rr_fy<compare>_vs_fy<base>`` for road, park, river and total
    (exact conditional interval; ``p_value`` on the estimate; Holm-adjusted p in the table).
    """
    from statsmodels.stats.multitest import multipletests

    arg = "civil_engineering_requests"
    df = _input.frame(civil_engineering_requests, arg, _COLUMNS, data_dir, arg)
    df = _input.fiscal_years(df, arg, unique=False)
    df = _input.counts(df, ["requests"], arg)
    dup = df.duplicated(["fiscal_year", "category"])
    if dup.any():
        raise DuplicateYearError(
            f"{arg}: (fiscal_year, category) repeated: "
            f"{df.loc[dup, ['fiscal_year', 'category']].values.tolist()}"
        )
    years = sorted(df["fiscal_year"].unique().tolist())
    if base_year not in years or compare_year not in years:
        raise TooFewYearsError(
            f"the civil-engineering comparison FY{compare_year} vs FY{base_year}", 2,
            [y for y in years if y in (base_year, compare_year)],
            f"both FY{base_year} and FY{compare_year} are needed; the data have "
            f"{', '.join(f'FY{y}' for y in years) or 'no fiscal year'}",
        )
    a = df[df["fiscal_year"] == base_year].set_index("category")["requests"]
    b = df[df["fiscal_year"] == compare_year].set_index("category")["requests"]
    if set(a.index) != set(b.index):
        raise MissingDataError(
            f"{arg}: categories differ between FY{base_year} ({sorted(a.index)}) and "
            f"FY{compare_year} ({sorted(b.index)})"
        )
    cats = [c for c in CATEGORIES if c in a.index] + sorted(set(a.index) - set(CATEGORIES))
    rows = []
    for cat in [*cats, "total"]:
        ca = int(a.sum()) if cat == "total" else int(a[cat])
        cb = int(b.sum()) if cat == "total" else int(b[cat])
        rr = stats.rate_ratio_exact(cb, 1.0, ca, 1.0)
        rows.append({"category": cat, "requests_base": ca, "requests_compare": cb,
                     "rate_ratio": rr.ratio, "ci_low": rr.ci_low, "ci_high": rr.ci_high,
                     "p_value": rr.p_value})
    table = pd.DataFrame(rows)
    cat_rows = table["category"] != "total"
    table["p_value_holm"] = np.nan
    table.loc[cat_rows, "p_value_holm"] = multipletests(table.loc[cat_rows, "p_value"],
                                                        method="holm")[1]
    table.insert(0, "base_year", base_year)
    table.insert(1, "compare_year", compare_year)
    est = tuple(
        Estimate(f"civil.{r.category}_rr_fy{compare_year}_vs_fy{base_year}", r.rate_ratio,
                 r.ci_low, r.ci_high, unit="rate ratio", p_value=r.p_value, flags=(POISSON_ONLY,),
                 interval="exact conditional Poisson; valid only if the counts were Poisson "
                          "(two years: no dispersion can be estimated)")
        for r in table.itertuples(index=False)
    )
    zero = table.loc[(table["requests_base"] == 0) | (table["requests_compare"] == 0), "category"].tolist()
    needs = _input.load_dataset("needs_reflection", data_dir)
    phi, phi_df = stats.trend_dispersion(needs["requests"], needs["fiscal_year"])
    comparable = (f" (the community requests of section 1 vary {fmt(phi)} times more than Poisson "
                  f"counts around their trend, Pearson χ²/df on {phi_df} df)" if phi_df else "")
    comparable_ja = (f"（第1節の要望・相談件数は傾向のまわりでポアソン分布の想定の{fmt(phi)}倍ばらつく。"
                     f"ピアソンχ²/自由度、自由度{phi_df}）" if phi_df else "")
    caveats, caveats_ja = join_caveats([
        (True,
         "Two years are a change, not a trend: the exact Poisson intervals and p-values are valid "
         "only if the counts were Poisson, while the year-to-year variation of comparable counts "
         f"is far larger{comparable}, so the intervals are too narrow and the p-values too "
         "small; with two years that extra variation cannot be estimated, and no honest "
         "interval exists.",
         "2年間の比較は変化であって傾向ではない。正確ポアソン区間とp値は件数がポアソン分布に従う場合に限り有効だが、"
         f"同種の件数の年ごとのばらつきははるかに大きい{comparable_ja}。そのため区間は狭すぎ、p値は小さすぎる。"
         "2年分ではその余分なばらつきを推定できず、ばらつきを考慮した区間は求められない。"),
        (base_year == 2021,
         f"FY{base_year} was the first year of the centres under the wards (moved in April 2021) "
         "and a year of COVID measures; how requests were recorded may have changed with the move.",
         f"{base_year}年度は土木センターが区に移管された初年度（2021年4月）で、コロナの措置が続いた年でもあり、"
         "移管に伴い要望の記録方法が変わった可能性がある。"),
        (len(cats) > 1,
         f"{len(cats)} categories are tested; the table gives Holm-adjusted p-values for them.",
         f"{len(cats)}つの分類を検定しているため、表にホルム法で調整したp値を示した。"),
        (bool(zero),
         f"Zero requests in a year for {', '.join(zero)}: its ratio is 0 or unbounded.",
         f"{', '.join(label(z, 'ja') if z in CATEGORIES else z for z in zero)}はある年度の件数が0で、比は0または上限なしとなる。"),
    ])
    return CivilResult(
        title_key="title_civil",
        estimates=est,
        method=(f"Rate ratio FY{compare_year}/FY{base_year} per category with the exact conditional "
                "(binomial) interval and test (statsmodels), valid only if the counts were Poisson."),
        method_ja=(f"分類ごとに{compare_year}年度／{base_year}年度の率比を、条件付き正確（二項）区間と"
                   "正確検定（statsmodels）で求めた（件数がポアソン分布に従う場合に限り有効）。"),
        n_obs=len(cats), caveats=caveats, caveats_ja=caveats_ja, data=table,
        base_year=base_year, compare_year=compare_year,
    )
