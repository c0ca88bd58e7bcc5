"""Section 4: requests to the ward civil-engineering centres (土木センター), FY2021 → FY2022: per
category and in total, the rate ratio with the exact conditional Poisson interval and p-value
(the two years have the same exposure, one fiscal year each).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..data.loading import load
from ..errors import MissingDataError, TooFewYearsError
from ..results import POISSON_ONLY, Estimate, Joined, Result, Said, Term, chosen
from ..text.formats import fmt, fmt_count
from ..text.glossary import label
from . import _input

__all__ = ["CATEGORIES", "CivilResult", "civil_requests"]

CATEGORIES = ("road", "park", "river")
_COLUMNS = ("fiscal_year", "category", "requests")


@dataclass(frozen=True, eq=False, repr=False)
class CivilResult(Result):
    sources = ("civil_engineering_requests",)
    base_year: int = 2021
    compare_year: int = 2022

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data.iloc[::-1].reset_index(drop=True)
        y = np.arange(len(d))
        # an unbounded ratio (a zero count) has no point to draw; its row stays, labelled
        ok = np.isfinite(d["rate_ratio"]) & np.isfinite(d["ci_high"]) & (d["ci_low"] > 0)
        f = d[ok]
        rr = f["rate_ratio"]
        # exact Poisson intervals, which the caveats call too narrow: the caption says so
        plotting.mark_interval(ax.errorbar(
            rr, y[ok], xerr=[rr - f["ci_low"], f["ci_high"] - rr], fmt="o", markersize=7,
            color=plotting.COLORS["observed"], capsize=4, elinewidth=1.6), "poisson_only")
        ax.set_yticks(y, [f"{label(r.category, lang)}\n{fmt_count(r.requests_base)} → "
                          f"{fmt_count(r.requests_compare)}" for r in d.itertuples()])
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


def civil_requests(civil_engineering_requests: pd.DataFrame | None = None, *,
                   base_year: int = 2021, compare_year: int = 2022,
                   data_dir: str | Path | None = None) -> CivilResult:
    """Rate ratios of civil-engineering centre requests, ``compare_year`` against ``base_year``
    (other fiscal years are ignored), per category and in total; Holm-adjusted p in the table."""
    from statsmodels.stats.multitest import multipletests

    arg = "civil_engineering_requests"
    df = _input.frame(civil_engineering_requests, arg, _COLUMNS, data_dir, by_year=True)
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
    cats = [c for c in CATEGORIES if c in a.index]  # the descriptor allows these only
    a, b = a[cats].astype(int), b[cats].astype(int)
    a["total"], b["total"] = a.sum(), b.sum()
    rows = []
    for cat, ca, cb in zip(a.index, a, b[a.index], strict=True):
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
    zero = table.loc[(table["requests_base"] == 0) | (table["requests_compare"] == 0),
                     "category"].tolist()
    needs = load("needs_reflection", data_dir)
    phi, phi_df = stats.trend_dispersion(needs["requests"], needs["fiscal_year"])
    parts = tuple(
        Said("civil.part", {"cat": Term(r.category), "r": e, "change": 100 * (e.value - 1)})
        for r, e in zip(table.itertuples(index=False), est, strict=True))
    facts = {"base_year": base_year, "compare_year": compare_year, "n_cats": len(cats),
             "parts": Joined(parts, "list.semicolon"), "phi": phi, "phi_df": phi_df,
             "zero": Joined(tuple(Said("term", {"t": Term(z) if z in CATEGORIES else z})
                                  for z in zero), "list.joiner")}
    return CivilResult(
        title_key="title_civil",
        estimates=est, facts=facts, text_keys=("civil.text",), method_key="civil.method",
        caveat_keys=chosen([
            (phi_df > 0, "civil.caveat.two_years_dispersion"),
            (not phi_df, "civil.caveat.two_years"),
            (base_year == 2021, "civil.caveat.moved"),
            (len(cats) > 1, "civil.caveat.holm"),
            (bool(zero), "civil.caveat.zero"),
        ]),
        n_obs=len(cats), data=table,
        base_year=base_year, compare_year=compare_year,
    )
