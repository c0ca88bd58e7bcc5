"""Class-(a) ward budgets per ward: against the ward's population (log axes, Kumamoto's wards
under the equal-split assumption for each complete same-date ward set), and over time (each
ward's series, split at declared series breaks)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import MissingDataError
from ..results import Estimate, Joined, Named, Result, Said, Yen, chosen, fmt
from ..text.formats import fmt_count, fmt_pct
from ..text.glossary import label
from ..text.messages import message
from .budget_rows import (
    GAP_LIMIT_YEARS,
    KUMAMOTO,
    QUALITY_ORDER,
    REVIEW,
    WHOLE_CITY,
    PopulationDate,
    budget_rows,
    key_part,
    match_population,
    mid_year,
    population_area,
    population_flags,
    slug,
    worst_quality,
)

__all__ = ["OverTimeResult", "WardSizeResult", "budgets_over_time", "ward_size_budgets"]


@dataclass(frozen=True, eq=False, repr=False)
class WardSizeResult(Result):
    sources = ("ward_budgets", "machizukuri_budget", "population")
    kumamoto: pd.DataFrame | None = None

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        cities = list(dict.fromkeys(d["city_ja"]))
        palette = [plotting.COLORS[c] for c in ("observed", "counterfactual", "level3")]
        for c, color in zip(cities, palette * 3, strict=False):
            s = d[d["city_ja"] == c]
            name = s["city_ja"].iloc[0] if lang == "ja" else s["city_en"].iloc[0]
            for i, r in enumerate(s.sort_values("population_persons").itertuples(index=False)):
                ax.plot(r.population_persons, r.amount_per_ward_thousand_yen,
                        marker=plotting.QUALITY_MARKERS.get(r.worst_quality, "o"), color=color,
                        linestyle="none", markersize=8)
                area = r.area_ja if lang == "ja" else (r.area_en or r.area_ja)
                ax.annotate(f"{area} [{r.worst_quality}]",
                            (r.population_persons, r.amount_per_ward_thousand_yen),
                            xytext=(0, 8 if i % 2 == 0 else -14), ha="center",
                            textcoords="offset points", fontsize=7.5)
            ax.plot([], [], marker="o", color=color, linestyle="none", label=name)
        kum = self.kumamoto if self.kumamoto is not None else pd.DataFrame()
        for inferred, group in kum.groupby("set_names_inferred", sort=True):
            date = PopulationDate(group["population_as_of"].iloc[0],
                                  group["population_date_precision"].iloc[0])
            key = "budgets.size.legend_kumamoto" + ("_inferred" if inferred else "")
            ax.plot(group["population_persons"], group["amount_per_ward_thousand_yen"],
                    linestyle="none", marker="o", markersize=9, color=plotting.COLORS["covid"],
                    markerfacecolor="white" if inferred else plotting.COLORS["covid"],
                    markeredgewidth=1.8, label=message(key, lang, date=date))
        shown = kum[~kum["set_names_inferred"]].sort_values("population_persons") if len(kum) else kum
        for i, r in enumerate(shown.itertuples(index=False)):  # alternate below/above: close wards
            ax.annotate(r.area_ja if lang == "ja" else r.area_en,
                        (r.population_persons, r.amount_per_ward_thousand_yen),
                        xytext=(0, -14 if i % 2 == 0 else 9), textcoords="offset points",
                        ha="center", fontsize=7.5)
        ax.set_xscale("log")
        ax.set_yscale("log")
        values = pd.concat([d.get("amount_per_ward_thousand_yen", pd.Series(dtype=float)),
                            kum.get("amount_per_ward_thousand_yen", pd.Series(dtype=float))])
        if len(values):
            ax.set_ylim(values.min() / 1.8, values.max() * 1.8)
        ax.set_xlabel(label("ward_population_persons", lang))
        ax.set_ylabel(label("thousand_yen_per_ward", lang))
        ax.legend(loc="center right", fontsize=8)
        ax.set_title(self.title(lang))
        plotting.add_note(ax, message("budgets.size.note", lang))


def ward_size_budgets(ward_budgets: pd.DataFrame | None = None,
                      population: pd.DataFrame | None = None,
                      machizukuri_budget: pd.DataFrame | None = None,
                      hamamatsu_budget: pd.DataFrame | None = None, *,
                      data_dir: str | Path | None = None) -> WardSizeResult:
    """Budget per ward against the ward's population, class (a), ward-level rows.

    For each ward with a class-(a) budget row and a population of its own within two years of
    the budget year (:data:`GAP_LIMIT_YEARS`), the row nearest in time (ties: the better quality
    mark). Kumamoto's wards are set beside them under an assumption the document does not make:
    the latest five-ward total split equally, against each ward's population in every complete
    same-date ward set of the population data (the 2022-12-01 set and the 2021 set whose ward
    names are partly inferred, flagged as such).

    Keys: ``budget.size.yokohama.budget_ratio_max_min`` and ``…population_ratio_max_min``
    (largest ÷ smallest across Yokohama's wards shown; when at least two are shown),
    ``budget.size.kumamoto.yen_per_capita_min``/``_max`` (the equal split over the 2022-12-01
    ward populations, or the latest complete set without inferred names). Exact: no interval.
    """
    rows, pop, mb, kfy = budget_rows(ward_budgets, population, machizukuri_budget,
                                     hamamatsu_budget, None, data_dir)
    cand = []
    for r in rows:
        if (r["comparability_class"] != "a" or r["scope"] != "ward"
                or pd.isna(r["amount_thousand_yen"]) or not population_area(r)[0]):
            continue
        m = match_population(pop, r["city_ja"], r["area_ja"], r["fiscal_year"])
        gap = math.nan if m is None else m["population_gap_years"]
        if pd.isna(gap) or abs(gap) > GAP_LIMIT_YEARS:
            continue
        cand.append({**r, **m, "worst_quality": worst_quality((r["budget_quality"],
                                                                m["population_quality"])),
                     "_gap": abs(gap), "_q": QUALITY_ORDER.get(r["budget_quality"], 9),
                     "yen_per_capita": r["amount_thousand_yen"] * 1000 / m["population_persons"]})
    table = pd.DataFrame(cand)
    if not table.empty:
        table = (table.sort_values(["city_ja", "area_ja", "_gap", "_q"], kind="stable")
                 .drop_duplicates(["city_ja", "area_ja"]).drop(columns=["_gap", "_q"])
                 .sort_values("population_persons").reset_index(drop=True))
    # Kumamoto: every complete same-date ward set (all five wards and the city total on one date)
    k = mb[mb["fiscal_year"] == kfy].iloc[0]
    per_ward = float(k["budget_thousand_yen"]) / float(k["wards"])
    kp = pop[(pop["city_ja"] == KUMAMOTO) & pop["as_of_date"].notna()].copy()
    if "set_names_inferred" not in kp.columns:
        kp["set_names_inferred"] = False
    kp["set_names_inferred"] = kp["set_names_inferred"].fillna(False).astype(bool)
    sets = []
    for _, g in kp.groupby(["as_of_date", "source_url"], sort=True):
        wards = g[g["area_ja"] != WHOLE_CITY]
        if len(wards) == int(k["wards"]) and (g["area_ja"] == WHOLE_CITY).any():
            sets.append(wards)
    kum = pd.concat(sets, ignore_index=True) if sets else pd.DataFrame(columns=kp.columns)
    if len(kum):
        kum = kum.assign(fiscal_year=kfy, amount_per_ward_thousand_yen=per_ward,
                         population_as_of=kum["as_of_date"],
                         population_date_precision=kum.get("date_precision", "day"),
                         yen_per_capita=per_ward * 1000 / kum["population_persons"])
    est, facts = [], {"limit": fmt(GAP_LIMIT_YEARS, 1)}
    yok = table[table["city_ja"] == "横浜市"] if len(table) else table
    if len(yok) >= 2:
        budget, people = (yok[c].max() / yok[c].min()
                          for c in ("amount_thousand_yen", "population_persons"))
        est += [Estimate("budget.size.yokohama.budget_ratio_max_min", budget,
                         unit="ratio (largest ÷ smallest ward budget)"),
                Estimate("budget.size.yokohama.population_ratio_max_min", people,
                         unit="ratio (largest ÷ smallest ward population)")]
        facts.update(n=len(yok), pop_ratio=fmt(people, 2), budget_ratio=fmt(budget, 2))
    named = kum[~kum["set_names_inferred"]] if len(kum) else kum
    if len(named):
        default = named[named["as_of_date"] == named["as_of_date"].max()]
        flags = population_flags({"population_gap_years":
                                  (default["as_of_date"].iloc[0] - mid_year(kfy)).days / 365.25})
        low, high = default["yen_per_capita"].min(), default["yen_per_capita"].max()
        unit = "yen per resident (equal split assumed)"
        est += [Estimate("budget.size.kumamoto.yen_per_capita_min", low, unit=unit, flags=flags),
                Estimate("budget.size.kumamoto.yen_per_capita_max", high, unit=unit, flags=flags)]
        facts.update(per_ward=Yen(1000 * per_ward), year=kfy, low=Yen(low), high=Yen(high),
                     date=PopulationDate(named["population_as_of"].iloc[0]))
    if table.empty and kum.empty:
        raise MissingDataError("ward_budgets/population: no class-(a) ward budget with a ward "
                               "population within two years, and no complete Kumamoto ward set")
    bases = _register_estimate_gap(pop)
    if bases is not None:
        facts.update(area=Named(f"{bases['city_ja']}{bases['area_ja']}",
                                f"{bases['city_en']} {bases['area_en']}"),
                     register=fmt_count(bases["register"]), estimate=fmt_count(bases["estimate"]),
                     register_date=PopulationDate(bases["register_date"]),
                     estimate_date=PopulationDate(bases["estimate_date"]),
                     share=fmt_pct(bases["share"]), mark=bases["quality"])
    caveat_keys = chosen([
        (True, "budgets.caveat.equal_split"),
        (bool(len(kum) and kum["set_names_inferred"].any()), "budgets.caveat.inferred_names"),
        (True, "budgets.caveat.size_dates"),
        (bases is not None, "budgets.caveat.bases"),
        (bool(len(table) and (table["worst_quality"] != "O").any()),
         "budgets.caveat.non_official"),
    ])
    kum_cols = ["area_ja", "area_en", "population_persons", "population_as_of",
                "population_date_precision", "quality", "set_names_inferred", "fiscal_year",
                "amount_per_ward_thousand_yen", "yen_per_capita"]
    return WardSizeResult(
        title_key="title_ward_size", estimates=tuple(est), n_obs=len(table), data=table,
        facts=facts, text_keys=chosen([(len(yok) >= 2, "budgets.size.yokohama"),
                                       (len(named) > 0, "budgets.size.kumamoto")]),
        method_key="budgets.method.size", caveat_keys=caveat_keys,
        kumamoto=(kum[[c for c in kum_cols if c in kum.columns]].reset_index(drop=True)
                  if len(kum) else kum),
    )


def _register_estimate_gap(population: pd.DataFrame) -> dict | None:
    """The worked example of two bases: the same area's resident-register count (住民基本台帳)
    and population estimate (推計人口) dated within 62 days of each other (the closest
    pair); ``share`` is register ÷ estimate − 1. None without such a pair."""
    pop = population[population["as_of_date"].notna()]
    pairs = pop[pop["basis"] == "resident_register"].merge(
        pop[pop["basis"] == "estimate"], on=["city_ja", "area_ja"], suffixes=("_r", "_e"))
    days = (pairs["as_of_date_r"] - pairs["as_of_date_e"]).abs().dt.days
    pairs = pairs[days <= 62].assign(_days=days)
    if pairs.empty:
        return None
    r = pairs.sort_values("_days", kind="stable").iloc[0]
    return {"city_ja": r["city_ja"], "city_en": r.get("city_en_r", ""), "area_ja": r["area_ja"],
            "area_en": r.get("area_en_r", ""), "register": float(r["population_persons_r"]),
            "estimate": float(r["population_persons_e"]), "register_date": r["as_of_date_r"],
            "estimate_date": r["as_of_date_e"],
            "share": float(r["population_persons_r"]) / float(r["population_persons_e"]) - 1,
            "quality": worst_quality((r["quality_r"], r["quality_e"]))}


@dataclass(frozen=True, eq=False, repr=False)
class OverTimeResult(Result):
    sources = ("ward_budgets", "machizukuri_budget", "population")

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        palette = [plotting.COLORS[c] for c in ("covid", "observed", "counterfactual", "level2", "level3", "neutral")]
        for (_, g), color in zip(d.groupby("series", sort=False), palette * 3, strict=False):
            r = g.iloc[0]
            name = _series_name(r).__lang_format__("", lang)
            ax.plot([], [], color=color, marker=plotting.QUALITY_MARKERS.get(r["budget_quality"], "o"),
                    label=f"{name} [{'/'.join(sorted(set(g['budget_quality']), key=QUALITY_ORDER.get))}]")
            for _, seg in g.groupby("segment", sort=True):
                ys, fs = seg["amount_per_ward_thousand_yen"].to_numpy(), seg["fiscal_year"].to_numpy()
                for i in range(len(seg) - 1):  # solid between consecutive years, dotted across gaps
                    style = "-" if fs[i + 1] - fs[i] == 1 else ":"
                    ax.plot(fs[i:i + 2], ys[i:i + 2], color=color, linestyle=style, lw=1.6)
                for f, v, q in zip(fs, ys, seg["budget_quality"], strict=True):
                    ax.plot(f, v, marker=plotting.QUALITY_MARKERS.get(q, "o"), color=color, linestyle="none",
                            markersize=7)
            # a declared break: a short dashed bar across the series itself, in its colour
            for b in g[g["series_break_before"]].itertuples(index=False):
                v = b.amount_per_ward_thousand_yen
                ax.plot([b.fiscal_year - 0.5] * 2, [v / 1.6, v * 1.6], color=color, linestyle="--", lw=1.2)
                ax.annotate(message("budgets.over_time.break_mark", lang), (b.fiscal_year - 0.5, v / 1.6),
                            xytext=(0, -2), textcoords="offset points", ha="center", va="top",
                            fontsize=8, color=color)
        ax.set_yscale("log")
        ax.set_ylabel(label("thousand_yen_per_ward", lang))
        years = sorted(set(d["fiscal_year"]))
        ticks = [y for y in range(min(years), max(years) + 1) if y % 2 == 0]
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{y}" for y in ticks], fontsize=8)
        ax.set_xlabel(label("fiscal_year", lang))
        ax.legend(loc="lower right", fontsize=7.5, ncol=2)
        ax.set_title(self.title(lang))
        plotting.add_note(ax, message("budgets.over_time.note", lang))


def budgets_over_time(ward_budgets: pd.DataFrame | None = None,
                      population: pd.DataFrame | None = None,
                      machizukuri_budget: pd.DataFrame | None = None,
                      hamamatsu_budget: pd.DataFrame | None = None, *,
                      data_dir: str | Path | None = None) -> OverTimeResult:
    """Class-(a) budgets per ward over fiscal years: Kumamoto's まちづくり推進経費 (every year of
    ``machizukuri_budget``, an equal split of the five-ward total, with yen per resident), and
    every other class-(a) series of ``ward_budgets`` (same city and area) with two or more fiscal
    years. A row with ``series_break_before`` starts a new segment, never joined to the one
    before it; ratios are computed within a segment only. Nominal yen: no deflator.

    Keys: ``budget.series.<city>.<area>.fy<first>_fy<last>.ratio`` — the last per-ward amount of a
    segment ÷ its first, for every segment with two or more years. Exact: no interval.
    """
    rows, pop, mb, _ = budget_rows(ward_budgets, population, machizukuri_budget,
                                   hamamatsu_budget, None, data_dir)
    kum = []
    for k in mb.itertuples(index=False):
        m = match_population(pop, KUMAMOTO, WHOLE_CITY, int(k.fiscal_year))
        kum.append({
            "source": REVIEW, "city_ja": KUMAMOTO, "city_en": "Kumamoto", "area_ja": "全区合計",
            "area_en": "all wards", "programme_ja": "まちづくり推進経費",
            "programme_en": "ward community-development budget",
            "fiscal_year": int(k.fiscal_year), "amount_thousand_yen": float(k.budget_thousand_yen),
            "scope": "all_wards", "wards_covered": int(k.wards), "budget_quality": "O",
            "comparability_class": k.comparability_class,
            "comparability": f"class_{k.comparability_class}", "series_break_before": False,
            "amount_per_ward_thousand_yen": k.budget_thousand_yen / k.wards,
            "per_ward_is_equal_split": True,
            "yen_per_capita": (k.budget_thousand_yen * 1000 / m["population_persons"]
                               if m else math.nan),
            "population_quality": m["population_quality"] if m else ""})
    others = [{**r, "yen_per_capita": math.nan, "population_quality": ""} for r in rows
              if r["source"] == "ward_budgets" and r["comparability_class"] == "a"
              and r["city_ja"] != KUMAMOTO and not pd.isna(r["amount_per_ward_thousand_yen"])]
    frame = pd.DataFrame(kum + others)
    frame = frame[frame["comparability_class"] == "a"]
    frame["series"] = frame["city_ja"] + " " + frame["area_ja"]
    counts = frame.groupby("series")["fiscal_year"].transform("nunique")
    frame = frame[counts >= 2].sort_values(["series", "fiscal_year"], kind="stable")
    order = ["熊本市 全区合計"] + [s for s in dict.fromkeys(frame["series"]) if s != "熊本市 全区合計"]
    frame["series"] = pd.Categorical(frame["series"], categories=order, ordered=True)
    frame = frame.sort_values(["series", "fiscal_year"], kind="stable").reset_index(drop=True)
    frame["series_break_before"] = frame["series_break_before"].astype(bool)
    # segments numbered from 1 within each series: a declared break starts the next one
    frame["segment"] = frame.groupby("series", observed=True)["series_break_before"].cumsum() + 1
    frame["segment"] = frame["segment"].astype(int)
    frame["series"] = frame["series"].astype(str)
    if frame.empty:
        raise MissingDataError("no class-(a) budget series with two or more fiscal years")
    est, segments = [], []
    for _, g in frame.groupby(["series", "segment"], sort=False):
        if len(g) < 2:
            continue
        r0, r1 = g.iloc[0], g.iloc[-1]
        v0, v1 = r0["amount_per_ward_thousand_yen"], r1["amount_per_ward_thousand_yen"]
        part = key_part(r0["scope"], r0["area_en"], r0["area_ja"])
        est.append(Estimate(f"budget.series.{slug(r0['city_en'])}.{part}"
                            f".fy{r0['fiscal_year']}_fy{r1['fiscal_year']}.ratio", v1 / v0,
                            unit="ratio (last ÷ first per-ward amount)"))
        segments.append(Said("budgets.over_time.segment", {
            "name": _series_name(r0), "first": int(r0["fiscal_year"]),
            "last": int(r1["fiscal_year"]), "v0": Yen(1000 * v0), "v1": Yen(1000 * v1),
            "ratio": fmt(v1 / v0, 3)}))
    text_keys = [Said("budgets.over_time.lead",
                      {"series": Joined(tuple(segments), "budgets.list_joiner")})]
    text_keys += [Said("budgets.over_time.break",
                       {"name": _series_name(r), "year": int(r["fiscal_year"])})
                  for _, r in frame[frame["series_break_before"]].iterrows()]
    caveat_keys = chosen([
        (bool((frame["series_break_before"] & (frame["area_ja"] == "鶴見区")).any()),
         "budgets.caveat.series_break"),
        (True, "budgets.caveat.nominal"),
        (True, "budgets.caveat.equal_split"),
        (bool((frame["budget_quality"] != "O").any()), "budgets.caveat.non_official"),
    ])
    return OverTimeResult(
        title_key="title_budgets_over_time", estimates=tuple(est), n_obs=len(frame), data=frame,
        text_keys=tuple(text_keys), method_key="budgets.method.over_time", caveat_keys=caveat_keys,
    )


def _series_name(r: Any) -> Named:
    """A series' city and area: ``横浜市 鶴見区`` / ``Yokohama Tsurumi Ward``."""
    return Named(f"{r['city_ja']} {r['area_ja']}",
                 f"{r['city_en']} {r['area_en'] or r['area_ja']}")
