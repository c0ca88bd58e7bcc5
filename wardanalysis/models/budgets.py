"""Section 5: Kumamoto's まちづくり推進経費 per fiscal year, and the wards' own budgets across
cities. Only class-(a) rows (``comparability_class``: a ward's self-planned or discretionary
programme as a whole) are compared, ranked or drawn on one axis; the other classes are listed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import MissingDataError
from ..results import Estimate, Joined, Named, Result, Said, Years, Yen, chosen
from ..text.formats import fmt, fmt_count, sentences
from ..text.glossary import label
from ..text.messages import message
from . import _input
from . import budget_rows as R

__all__ = ["CrossCityResult", "KumamotoBudgetResult", "cross_city_budgets", "kumamoto_budget"]


@dataclass(frozen=True, eq=False, repr=False)
class KumamotoBudgetResult(Result):
    sources = ("machizukuri_budget", "population")
    SUMMARY_KEYS = ("budget.kumamoto_yen_per_capita", "budget.kumamoto_per_ward_thousand_yen")

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        divisor, unit = plotting.money_unit(d["budget_thousand_yen"])
        regular = d["budget_thousand_yen"] - d["reconstruction_thousand_yen"]
        ax.bar(d["fiscal_year"], regular / divisor, color=plotting.COLORS["level1"], width=0.65,
               label=label("regular_budget", lang))
        ax.bar(d["fiscal_year"], d["reconstruction_thousand_yen"] / divisor,
               bottom=regular / divisor, color=plotting.COLORS["level2"], width=0.65,
               label=label("reconstruction_budget", lang))
        for r in d.itertuples(index=False):
            mark = "†" if r.population_date_mismatch else ""
            ax.annotate(f"{fmt(r.yen_per_capita)}{mark}",
                        (r.fiscal_year, r.budget_thousand_yen / divisor),
                        xytext=(0, 3), textcoords="offset points", ha="center", fontsize=8.5)
        ax.set_ylim(0, d["budget_thousand_yen"].max() / divisor * 1.2)
        plotting.finish_axes(ax, lang, years=d["fiscal_year"], ylabel=unit, legend="upper left",
                             fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        note = label("note_bar_labels_yen_per_resident", lang)
        if d["population_date_mismatch"].any():
            note += ((" " if lang == "en" else "") + "† "
                     + label("note_population_date_mismatch", lang))
        plotting.add_note(ax, note)


def kumamoto_budget(machizukuri_budget: pd.DataFrame | None = None,
                    population: pd.DataFrame | None = None, *,
                    data_dir: str | Path | None = None,
                    no_later_than_year_end: bool = False) -> KumamotoBudgetResult:
    """Kumamoto's まちづくり推進経費 per fiscal year: total, per ward (an equal split, which the
    document does not print), per resident, steps; the keys without a year are the latest year's.
    ``no_later_than_year_end``: see :func:`.budget_rows.match_population`."""
    b = _input.frame(machizukuri_budget, "machizukuri_budget", R.BUDGET_COLUMNS, data_dir,
                     by_year=True)
    pop = _input.frame(population, "population", R.POP_COLUMNS, data_dir)
    matches = [R.match_population(pop, R.KUMAMOTO, R.WHOLE_CITY, int(fy),
                                  no_later_than_year_end=no_later_than_year_end)
               for fy in b["fiscal_year"]]
    if None in matches:
        raise MissingDataError(f"population: no whole-city ({R.WHOLE_CITY}) figure for "
                               f"{R.KUMAMOTO}")
    table = b[["fiscal_year", "budget_thousand_yen", "reconstruction_thousand_yen"]].assign(
        regular_thousand_yen=b["budget_thousand_yen"] - b["reconstruction_thousand_yen"],
        wards=b["wards"], per_ward_thousand_yen=b["budget_thousand_yen"] / b["wards"])
    table = pd.concat([table, pd.DataFrame(matches)], axis=1)
    table["yen_per_capita"] = table["budget_thousand_yen"] * 1000 / table["population_persons"]
    table["yen_per_capita_excl_reconstruction"] = (table["regular_thousand_yen"] * 1000
                                                   / table["population_persons"])
    table["step_thousand_yen"] = table["budget_thousand_yen"].diff().where(
        table["fiscal_year"].diff() == 1)
    last = table.iloc[-1]
    est = [
        Estimate("budget.kumamoto_yen_per_capita", last["yen_per_capita"], unit="yen per resident",
                 flags=R.population_flags(last.to_dict())),
        Estimate("budget.kumamoto_total_thousand_yen", last["budget_thousand_yen"],
                 unit="thousand yen"),
        Estimate("budget.kumamoto_per_ward_thousand_yen", last["per_ward_thousand_yen"],
                 unit="thousand yen per ward (equal split assumed)"),
    ]
    est += [Estimate(f"budget.kumamoto_yen_per_capita.fy{r.fiscal_year}", r.yen_per_capita,
                     unit="yen per resident", flags=R.population_flags(r._asdict()))
            for r in table.itertuples(index=False)]
    used = table.drop_duplicates("population_as_of")
    kpop = pop.loc[(pop["city_ja"] == R.KUMAMOTO) & (pop["area_ja"] == R.WHOLE_CITY),
                   "population_persons"]
    spread = (kpop.max() - kpop.min()) / kpop.min() if len(kpop) > 1 else 0.0
    nonoff = sorted(set(used["population_quality"]) - {"O"})
    mismatch = table.loc[table["population_date_mismatch"], "fiscal_year"].tolist()
    recon = table[table["reconstruction_thousand_yen"] > 0]
    facts = {"year": int(last["fiscal_year"]), "total": Yen(1000 * last["budget_thousand_yen"]),
             "per_ward": Yen(1000 * last["per_ward_thousand_yen"]), "yen": Yen(last["yen_per_capita"]),
             "population": fmt_count(last["population_persons"]),
             "date": R.PopulationDate(last["population_as_of"], last["population_date_precision"]),
             "mismatch_years": Named("、".join(map(str, mismatch)), ", ".join(map(str, mismatch))),
             "spread": spread, "marks": ", ".join(nonoff),
             "recon_years": Years(recon["fiscal_year"].tolist()),
             "amounts": Joined(tuple(Yen(1000 * float(v))
                                     for v in sorted(set(recon["reconstruction_thousand_yen"]))))}
    caveat_keys = chosen([(True, "budgets.kumamoto.caveat_equal_split"),
                          (bool(mismatch), "budgets.kumamoto.caveat_no_population_in_year"),
                          (bool(nonoff), "budgets.kumamoto.caveat_non_official"),
                          (not recon.empty, "budgets.kumamoto.caveat_reconstruction"),
                          (True, "budgets.kumamoto.caveat_budgeted")])
    return KumamotoBudgetResult(
        title_key="title_kumamoto_budget", estimates=tuple(est), n_obs=len(table), data=table,
        facts=facts, text_keys=("budgets.kumamoto.text",), method_key="budgets.method.kumamoto",
        caveat_keys=caveat_keys,
    )


@dataclass(frozen=True, eq=False, repr=False)
class CrossCityResult(Result):
    sources = ("ward_budgets", "machizukuri_budget", "hamamatsu_budget", "population")
    #: The answer's sentences: Kumamoto against the review's reference city, among the
    #: comparable figures of other cities, Chiba, and how good those figures' sources are.
    headline_keys: tuple[str, ...] = ()

    def headline(self, lang: str = "ja") -> str:  # type: ignore[override]
        if not self.headline_keys:
            return Result.headline(self, lang)  # type: ignore[arg-type]
        return sentences([self.say(k, lang) for k in self.headline_keys], lang)

    def _plot(self, ax: Any, lang: str) -> None:
        """Class (a) only: yen per resident (rows with a population), Kumamoto highlighted; rows
        whose population is more than two years off are hollow grey, with their gap."""
        from matplotlib.lines import Line2D

        from .. import plotting

        d = self.data[self.data["included"]]
        # Kumamoto is drawn from the review; the citizen's letter (C) stays in the table
        d = d[(d["city_ja"] != R.KUMAMOTO) | (d["source"] == R.REVIEW)]
        d = d.sort_values("yen_per_capita").reset_index(drop=True)
        y = np.arange(len(d))
        for i, r in d.iterrows():
            near = bool(r["population_within_limit"])
            kum = r["city_ja"] == R.KUMAMOTO
            color = (plotting.COLORS["covid"] if kum else plotting.COLORS["observed"]) if near \
                else plotting.COLORS["neutral"]
            ax.plot(r["yen_per_capita"], y[i],
                    marker=plotting.QUALITY_MARKERS.get(r["worst_quality"], "o"), markersize=9,
                    color=color, linestyle="none", markeredgewidth=1.8,
                    markerfacecolor=color if near else "white")
            g = r["population_gap_years"]
            gap = "" if near else " " + (
                message("budgets.undated", lang) if pd.isna(g)
                else message("budgets.gap_years", lang, years=fmt(abs(g), 2)))
            ax.annotate(f"{fmt(r['yen_per_capita'])}{gap}", (r["yen_per_capita"], y[i]),
                        xytext=(8, 0), textcoords="offset points", va="center", fontsize=8.5)
        ax.set_yticks(y, [f"{R.row_name(r, lang)} [{r.worst_quality}]"
                          for r in d.itertuples(index=False)], fontsize=8.5)
        plotting.yen_axis(ax, lang)
        ax.grid(axis="y", visible=False)
        if len(d):
            ax.set_xlim(d["yen_per_capita"].min() / 1.6, d["yen_per_capita"].max() * 4)
        handles = [Line2D([], [], marker=plotting.QUALITY_MARKERS[q], linestyle="none",
                          color=plotting.COLORS["observed"], markersize=8,
                          label=label(f"quality_{q}", lang))
                   for q in R.QUALITY_ORDER if q in set(d["worst_quality"])]
        beyond = d.loc[~d["population_within_limit"].astype(bool), "worst_quality"]
        if len(beyond):  # drawn in the shape the hollow points have most
            handles.append(Line2D([], [], marker=plotting.QUALITY_MARKERS.get(
                beyond.mode().iloc[0], "o"), linestyle="none", color=plotting.COLORS["neutral"],
                markerfacecolor="white", markersize=8, label=message(
                    "budgets.legend_beyond", lang, limit=fmt(R.GAP_LIMIT_YEARS, 1))))
        plotting.finish_axes(ax, lang, xlabel="yen_per_resident", legend="lower right",
                             handles=handles, fontsize=8,
                             title=label("source_quality_worst", lang), title_fontsize=8)
        plotting.add_note(ax, message("budgets.note_class_a_only", lang))


def cross_city_budgets(ward_budgets: pd.DataFrame | None = None,
                       population: pd.DataFrame | None = None,
                       machizukuri_budget: pd.DataFrame | None = None,
                       hamamatsu_budget: pd.DataFrame | None = None, *,
                       kumamoto_fiscal_year: int | None = None,
                       data_dir: str | Path | None = None) -> CrossCityResult:
    """Ward budgets across cities, per ward (an all-ward total ÷ ``wards_covered``, an equal split
    assumed) and per resident, compared within class (a): Kumamoto's of ``kumamoto_fiscal_year``
    (default: the latest), Hamamatsu's (both from the review) and every row of ``ward_budgets``.
    A row whose population lies more than :data:`.budget_rows.GAP_LIMIT_YEARS` from the middle
    of its fiscal year is shown with its gap but left out of the range. A ranking is stated only
    among class-(a) rows whose marks are all O, and never per resident."""
    rows, pop, _, _ = R.budget_rows(ward_budgets, population, machizukuri_budget,
                                    hamamatsu_budget, kumamoto_fiscal_year, data_dir)
    table = R.per_resident(rows, pop)
    # for a table of broad allocations (above 10^6 千円), the amount in 億円 (1億円 = 100,000千円)
    table["amount_oku_yen"] = table["amount_thousand_yen"] / 1e5
    est, seen = [], set()

    def add(prefix: str, r: Any, value: float, unit: str, flags: tuple[str, ...] = ()) -> None:
        key = (f"{prefix}.{R.slug(r.city_en)}.{R.key_part(r.scope, r.area_en, r.area_ja)}"
               f".fy{r.fiscal_year}")
        base_key, n = key, 2
        while key in seen:
            key, n = f"{base_key}.{n}", n + 1
        seen.add(key)
        est.append(Estimate(key, value, unit=unit, flags=flags))

    a = table[table["comparability_class"] == "a"]
    for r in a[a["included"]].itertuples(index=False):
        add("budget.yen_per_capita", r, r.yen_per_capita, "yen per resident",
            R.population_flags(r._asdict()))
    for r in a[a["amount_per_ward_thousand_yen"].notna()].itertuples(index=False):
        add("budget.per_ward_thousand_yen", r, r.amount_per_ward_thousand_yen, "thousand yen per "
            "ward" + (" (equal split assumed)" if r.per_ward_is_equal_split else ""))
    others = a[a["city_ja"] != R.KUMAMOTO]
    ward_vals = others["amount_per_ward_thousand_yen"].dropna()
    near = others[others["included"] & others["population_within_limit"]]
    if ward_vals.empty:
        raise MissingDataError("ward_budgets: no class-(a) row of another city with a per-ward "
                               "amount")
    for name, values, unit in (
            ("others_per_ward_thousand_yen", ward_vals, "thousand yen per ward"),
            ("others_yen_per_capita", near["yen_per_capita"], "yen per resident")):
        if len(values):
            est += [Estimate(f"budget.class_a.{name}_min", values.min(), unit=unit),
                    Estimate(f"budget.class_a.{name}_max", values.max(), unit=unit)]
    k = table[table["source"] == R.REVIEW].iloc[0]
    # a ranking only among official rows of class (a): per ward needs no population
    official = others[(others["budget_quality"] == "O")
                      & others["amount_per_ward_thousand_yen"].notna()
                      & (others["source"] != R.REVIEW)]
    k_ward = k["amount_per_ward_thousand_yen"]
    marks = sorted(set(near["worst_quality"]) - {"O"}, key=R.QUALITY_ORDER.get) or ["O"]
    facts = {
        "ward_low": Yen(1000 * ward_vals.min()), "ward_high": Yen(1000 * ward_vals.max()),
        "ward_n": len(ward_vals), "kumamoto_ward": Yen(1000 * k_ward),
        "yen_low": Yen(near["yen_per_capita"].min() if len(near) else math.nan),
        "yen_high": Yen(near["yen_per_capita"].max() if len(near) else math.nan),
        "yen_n": len(near),
        "yen_beyond": int((others["included"] & ~others["population_within_limit"]).sum()),
        "marks": Joined(tuple(Said("term", {"t": m}) for m in marks), "budgets.marks_joiner"),
        "rank_n": len(official), "limit": fmt(R.GAP_LIMIT_YEARS, 1),
        "rank_above": int((official["amount_per_ward_thousand_yen"] > k_ward).sum()),
        "rank_below": int((official["amount_per_ward_thousand_yen"] < k_ward).sum()),
        "rank_years": Years(sorted(set(official["fiscal_year"]))),
        # for the answer: where Kumamoto stands among the comparable figures per resident
        "kumamoto": Yen(k["yen_per_capita"]), "year": int(k["fiscal_year"]),
        "yen_below": int((near["yen_per_capita"] < k["yen_per_capita"]).sum()),
        "budget_official": int((near["budget_quality"] == "O").sum()),
        "population_official": int((near["population_quality"] == "O").sum()),
        "kumamoto_population_mark": str(k["population_quality"]),
    }
    if len(near):
        top = near["city_en"].value_counts()
        facts.update(yen_top_n=int(top.iloc[0]), yen_top_city=Named(
            str(near.loc[near["city_en"] == top.index[0], "city_ja"].iloc[0]), str(top.index[0])))
    # the review's own reference city (its figure as the review prints it), when comparable
    ref = near[(near["city_ja"] == R.HAMAMATSU) & (near["source"] == R.REVIEW)]
    compared = []
    if len(ref):
        r = ref.iloc[0]
        facts.update(ref_yen=Yen(r["yen_per_capita"]), ref_year=int(r["fiscal_year"]),
                     ref_city=Named(R.HAMAMATSU, str(r["city_en"])))
        side = ("below" if r["yen_per_capita"] < k["yen_per_capita"] else
                "above" if r["yen_per_capita"] > k["yen_per_capita"] else "same")
        compared = [f"budgets.cross_city.reference_city.{side}"]
    headline_keys = ("budgets.cross_city.kumamoto", *compared, *chosen([
        (True, "budgets.cross_city.headline"),
        (not (a["city_ja"] == R.CHIBA).any(), "budgets.cross_city.chiba_not_found"),
        (True, "budgets.cross_city.headline_quality"),
        (k["population_quality"] != "O", "budgets.cross_city.kumamoto_population")]))
    inc = a[a["included"]]
    gaps = inc["population_gap_years"].abs()
    worst = inc.loc[gaps.idxmax()] if gaps.notna().any() else None
    # Hamamatsu's figure as the review prints it (all wards), named in a caveat
    hama_review = table.loc[(table["city_ja"] == R.HAMAMATSU)
                            & (table["area_ja"] == "全区合計"), "amount_thousand_yen"]
    facts.update(n_other=int((table["comparability_class"] != "a").sum()),
                 amount=Joined(tuple(Yen(1000 * float(v)) for v in hama_review)))
    if worst is not None:
        facts.update(gap=abs(float(worst["population_gap_years"])),
                     row=Named(R.row_name(worst, "ja"), R.row_name(worst, "en")))
    caveat_keys = chosen([
        (True, "budgets.caveat.definitions"),
        (True, "budgets.caveat.classes"),
        (bool(inc["non_official"].any()), "budgets.caveat.non_official"),
        (worst is not None, "budgets.caveat.population_dates"),
        (True, "budgets.caveat.equal_split"),
        (bool(a["is_approximate"].any()), "budgets.caveat.approximate"),
        (bool(len(hama_review)), "budgets.caveat.hamamatsu_review"),
    ])
    text_keys = chosen([(True, "budgets.cross_city.per_ward"),
                        (bool(facts["yen_n"]), "budgets.cross_city.per_resident"),
                        (bool(facts["rank_n"]), "budgets.cross_city.rank_per_ward"),
                        (True, "budgets.cross_city.no_rank_per_resident")])
    return CrossCityResult(
        title_key="title_cross_city", estimates=tuple(est), n_obs=int(a["included"].sum()),
        data=table, facts=facts, text_keys=text_keys, method_key="budgets.method.cross_city",
        caveat_keys=caveat_keys, headline_keys=headline_keys if len(near) else (),
    )
