"""Adoption of priority issues: Kumamoto's decided-to-act share against Hamamatsu's budgeted
share of ward priority proposals, and the yen per funded priority issue."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..errors import MissingDataError, ZeroDenominatorError
from ..results import POISSON_ONLY, Estimate, Pvalue, Result, Yen, chosen
from ..text.formats import fmt, fmt_pct, fmt_yen
from ..text.glossary import label
from . import _input
from .budget_rows import HAMAMATSU, KUMAMOTO
from .handled import pooled_label

__all__ = ["AdoptionResult", "CostPerIssueResult", "adoption", "cost_per_funded_issue",
           "rounding_bounds"]


@dataclass(frozen=True, eq=False, repr=False)
class AdoptionResult(Result):
    sources = ("needs_reflection", "hamamatsu_priority_proposals")
    SUMMARY_KEYS = ("adoption.difference",)

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        f = self.facts
        for i, (city, color) in enumerate((("k", plotting.COLORS["pre"]),
                                           ("h", plotting.COLORS["covid"]))):
            e = f[city]
            ax.errorbar(e.value, i, xerr=[[e.value - e.ci_low], [e.ci_high - e.value]], fmt="o",
                        color=color, capsize=5, markersize=9, elinewidth=2)
            ax.annotate(f"{f[city + '_s']}/{f[city + '_n']} = {fmt_pct(e.value)}", (e.value, i),
                        xytext=(0, 12), textcoords="offset points", ha="center", fontsize=9)
        ax.set_yticks([0, 1], [label(n, lang) for n in ("adoption_kumamoto", "adoption_hamamatsu")],
                      fontsize=9)
        ax.set(ylim=(1.6, -0.6), xlim=(0, 1))  # Kumamoto on top
        ax.grid(axis="y", visible=False)
        plotting.finish_axes(ax, lang, xlabel="share_wilson_ci", percent="x")
        plotting.add_note(ax, label("note_mechanisms_differ", lang))


def adoption(needs_reflection: pd.DataFrame | None = None,
             hamamatsu_priority_proposals: pd.DataFrame | None = None, *,
             data_dir: str | Path | None = None) -> AdoptionResult:
    """Kumamoto's decided-to-act share of priority issues (every fiscal year pooled,
    quasi-binomial) against Hamamatsu's budgeted share of ward priority proposals (the latest
    total row, Wilson); their difference has the MOVER interval from those two intervals, so that
    shares and difference use one interval method. The years cannot be matched: the source gives
    Hamamatsu's for one year only, and Kumamoto's issues of that year are too few (said)."""
    k = _input.frame(needs_reflection, "needs_reflection",
                     ("fiscal_year", "priority_issues", "decided_to_act"), data_dir, by_year=True)
    h = _input.frame(hamamatsu_priority_proposals, "hamamatsu_priority_proposals",
                     ("fiscal_year", "category", "proposals", "budgeted"), data_dir, by_year=True)
    tot = h[h["category"] == "total"]
    if tot.empty:
        raise MissingDataError("hamamatsu_priority_proposals: no row with category 'total'")
    hfy = int(tot["fiscal_year"].max())
    hs, hn = tot.iloc[-1]["budgeted"], tot.iloc[-1]["proposals"]
    if pd.isna(hn) or int(hn) == 0:
        raise ZeroDenominatorError("Hamamatsu's budgeted share", "proposals", f"FY{hfy} total row")
    hs, hn = int(hs), int(hn)
    ks, kn = int(k["decided_to_act"].sum()), int(k["priority_issues"].sum())
    if kn == 0:
        raise ZeroDenominatorError("Kumamoto's decided-to-act share", "priority_issues",
                                   "no priority issue in any fiscal year")
    # Kumamoto's share pools years that vary more than binomial: its interval and the
    # difference use counts divided by that dispersion (intercept-only quasi-binomial)
    pooled = stats.pooled_share(k["decided_to_act"], k["priority_issues"],
                                what="Kumamoto's decided-to-act share")
    klo, khi = pooled.ci_low, pooled.ci_high
    hlo, hhi = stats.wilson_interval(hs, hn)
    diff, dlo, dhi = stats.mover_difference(ks / kn, klo, khi, hs / hn, float(hlo), float(hhi))
    k_label = pooled_label(pooled)
    fx = stats.fisher_exact_2x2(ks, kn, hs, hn)
    years = k["fiscal_year"].tolist()
    same = k[k["fiscal_year"] == hfy]
    same_s, same_n = int(same["decided_to_act"].sum()), int(same["priority_issues"].sum())
    table = pd.DataFrame([
        {"city_ja": KUMAMOTO, "city_en": "Kumamoto", "mechanism": "needs_reflection",
         "fiscal_years": f"{min(years)}–{max(years)}", "adopted": ks,
         "candidates": kn, "share": ks / kn, "ci_low": float(klo), "ci_high": float(khi)},
        {"city_ja": HAMAMATSU, "city_en": "Hamamatsu", "mechanism": "ward_priority_proposals",
         "fiscal_years": str(hfy), "adopted": hs, "candidates": hn, "share": hs / hn,
         "ci_low": float(hlo), "ci_high": float(hhi)},
    ])
    table.attrs["fisher"] = {"odds_ratio": fx.odds_ratio, "ci_low": fx.ci_low,
                             "ci_high": fx.ci_high, "p_value": fx.p_value}
    k, h, d = (
        Estimate("adoption.kumamoto_share", ks / kn, float(klo), float(khi),
                 unit="share of priority issues", interval=k_label),
        Estimate("adoption.hamamatsu_share", hs / hn, float(hlo), float(hhi),
                 unit="share of proposals", interval="Wilson (one year)"),
        Estimate("adoption.difference", diff, dlo, dhi, unit="difference in shares",
                 interval=f"MOVER from the two shares' intervals (Kumamoto: {k_label}; "
                          "Hamamatsu: Wilson)"))
    p = Estimate("adoption.difference_p_value", fx.p_value, flags=(POISSON_ONLY,),
                 unit="p-value (Fisher exact, two-sided; valid only if binomial)")
    facts = {"k_s": ks, "k_n": kn, "h_s": hs, "h_n": hn, "k": k, "h": h,
             "diff": d,  # in percentage points, by its unit
             "n_years": len(years), "first": min(years), "last": max(years), "hfy": hfy,
             "same_s": same_s, "same_n": same_n, "dispersion": float(pooled.dispersion),
             "p": Pvalue(fx.p_value)}
    return AdoptionResult(
        title_key="title_adoption", estimates=(k, h, d, p), n_obs=2, data=table, facts=facts,
        text_keys=("budgets.adoption.text",), method_key="budgets.adoption.method",
        caveat_keys=("budgets.adoption.caveat_mechanisms", "budgets.adoption.caveat_periods",
                     "budgets.adoption.caveat_source", "budgets.adoption.caveat_fisher"),
    )


def rounding_bounds(amount: float) -> tuple[float, float, float]:
    """For an approximate amount printed rounded to its last non-zero digit (13億円 = 1.3e9),
    the rounding unit and the range of amounts that round to it: ``(unit, low, high)``."""
    n = int(round(amount))
    if n <= 0:
        return 0.0, float(amount), float(amount)
    digits = len(str(n).rstrip("0"))
    unit = 10 ** (len(str(n)) - digits)
    return float(unit), n - unit / 2, n + unit / 2


@dataclass(frozen=True, eq=False, repr=False)
class CostPerIssueResult(Result):
    sources = ("needs_reflection_outcome", "funded_projects")
    examples: pd.DataFrame | None = None

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        r = self.data.iloc[0]
        ex = self.examples
        # a project on two lines, its bureau on the second: the long English names would leave
        # the bars no room
        names = [label("per_funded_issue", lang)] + [
            f"{e['project_ja']}\n（{e['bureau_ja']}）" if lang == "ja" else  # English where given
            "\n".join(textwrap.wrap(e.get("project_en") or e["project_ja"], 34))
            + f"\n({e.get('bureau_en') or e['bureau_ja']})" for e in ex.to_dict("records")]
        # in 千円, then in the chart's money unit
        values = [r["yen_per_issue"] / 1000, *ex["amount_thousand_yen"]]
        colors = [plotting.COLORS["level1"]] + [plotting.COLORS["neutral"]] * len(ex)
        divisor, unit = plotting.money_unit(values)
        values = [v / divisor for v in values]
        scale = 1000 * divisor  # yen per unit of the chart
        y = np.arange(len(values))[::-1]
        ax.barh(y, values, color=colors, height=0.6, alpha=0.85)
        if r["is_amount_approximate"]:
            v = values[0]
            plotting.mark_interval(ax.errorbar(
                [v], [y[0]], xerr=[[v - r["range_low"] / scale], [r["range_high"] / scale - v]],
                fmt="none", ecolor="black", capsize=6, lw=1.5), "range")
        for yi, v in zip(y, values, strict=True):
            shown = fmt_yen(v * scale, lang, bare=True) if divisor == 1 else fmt(v)  # as the table
            ax.annotate(shown, (v, yi), xytext=(8, 0), textcoords="offset points",
                        va="center", fontsize=9)
        ax.set_yticks(y, names, fontsize=9)
        ax.set_xlim(0, max(values) * 1.2)
        ax.grid(axis="y", visible=False)
        plotting.finish_axes(ax, lang, xlabel=unit)
        examples = label("note_examples", lang) if len(ex) else ""
        plotting.add_note(ax, label("note_rounding_range", lang) + (" " if lang == "en" else "")
                          + examples)


def cost_per_funded_issue(needs_reflection_outcome: pd.DataFrame | None = None,
                          funded_projects: pd.DataFrame | None = None, *,
                          data_dir: str | Path | None = None) -> CostPerIssueResult:
    """Yen per funded priority issue, beside the example projects of ``funded_projects``. For an
    approximate amount (約13億円) the table gives the per-issue range the printed amount's rounding
    allows: a rounding range, not a confidence interval, so the record has no interval."""
    arg = "needs_reflection_outcome"
    df = _input.frame(needs_reflection_outcome, arg,
                      ("priority_issues_funded", "funded_amount_yen", "is_amount_approximate"),
                      data_dir)
    ex = _input.frame(funded_projects, "funded_projects",
                      ("project_ja", "bureau_ja", "amount_thousand_yen"), data_dir)
    r = df.iloc[-1]
    n = int(r["priority_issues_funded"])
    if n == 0:
        raise ZeroDenominatorError("yen per funded issue", "priority_issues_funded",
                                   "the outcome row")
    amount = float(r["funded_amount_yen"])
    approx = bool(r["is_amount_approximate"])
    unit, lo, hi = rounding_bounds(amount) if approx else (0.0, amount, amount)
    printed = str(r.get("amount_as_printed", f"{amount:,.0f}円"))
    table = pd.DataFrame([{
        "funded_amount_yen": amount, "amount_as_printed": printed,
        "is_amount_approximate": approx, "rounding_unit_yen": unit,
        "priority_issues_funded": n, "yen_per_issue": amount / n,
        "range_low": lo / n, "range_high": hi / n,
    }])
    amounts = ex["amount_thousand_yen"]
    facts = {"n": n, "amount": Yen(amount), "per_issue": Yen(amount / n), "low": Yen(lo),
             "high": Yen(hi), "per_low": Yen(lo / n), "per_high": Yen(hi / n),
             "examples": len(amounts), "min": Yen(1000 * amounts.min()) if len(amounts) else "",
             "max": Yen(1000 * amounts.max()) if len(amounts) else ""}
    caveat_keys = chosen([(approx, "budgets.cost.caveat_approximate"),
                          (True, "budgets.cost.caveat_schemes"),
                          (len(amounts) > 1, "budgets.cost.caveat_examples")])
    return CostPerIssueResult(
        title_key="title_cost_per_issue",
        estimates=(Estimate("budget.yen_per_funded_issue", amount / n, unit="yen per issue"),),
        n_obs=1, data=table, examples=ex, facts=facts, text_keys=("budgets.cost.text",),
        method_key="budgets.cost.method", caveat_keys=caveat_keys,
    )
