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
from ..results import Estimate, Joined, Named, Result, Said, Yen, chosen
from ..text.formats import fmt, fmt_count
from ..text.glossary import area_en, label
from ..text.messages import message
from . import _input
from . import budget_rows as R

__all__ = ["OverTimeResult", "WardSizeResult", "budgets_over_time", "ward_size_budgets"]

CHANGE_COLUMNS = ("city_ja", "area_ja", "fiscal_year", "change_thousand_yen", "like_for_like")


@dataclass(frozen=True, eq=False, repr=False)
class WardSizeResult(Result):
    sources = ("ward_budgets", "machizukuri_budget", "population")
    kumamoto: pd.DataFrame | None = None

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        palette = [plotting.COLORS[c] for c in ("observed", "counterfactual", "level3")]
        for (_, s), color in zip(d.groupby("city_ja", sort=False), palette * 3, strict=False):
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
            ax.plot([], [], color=color, lw=5, label=name)  # the colour is the city
        kum = self.kumamoto
        for inferred, group in kum.groupby("set_names_inferred", sort=True):
            date = R.PopulationDate(group["population_as_of"].iloc[0],
                                    group["population_date_precision"].iloc[0])
            key = "budgets.size.legend_kumamoto" + ("_inferred" if inferred else "")
            ax.plot(group["population_persons"], group["amount_per_ward_thousand_yen"],
                    linestyle="none", marker="o", markersize=9, color=plotting.COLORS["covid"],
                    markerfacecolor="white" if inferred else plotting.COLORS["covid"],
                    markeredgewidth=1.8, label=message(key, lang, date=date))
        shown = kum[~kum["set_names_inferred"]].sort_values("population_persons")
        for i, r in enumerate(shown.itertuples(index=False)):  # alternate below/above: close wards
            ax.annotate(r.area_ja if lang == "ja" else r.area_en,
                        (r.population_persons, r.amount_per_ward_thousand_yen),
                        xytext=(0, -14 if i % 2 == 0 else 9), textcoords="offset points",
                        ha="center", fontsize=7.5)
        for q in R.QUALITY_ORDER:  # the shape is the source's quality mark
            if q in set(d["worst_quality"]):
                ax.plot([], [], marker=plotting.QUALITY_MARKERS[q], linestyle="none",
                        color=plotting.COLORS["neutral"], markersize=7,
                        label=label(f"quality_{q}", lang))
        ax.set_xscale("log")
        ax.set_yscale("log")
        values = pd.concat([d["amount_per_ward_thousand_yen"],
                            kum["amount_per_ward_thousand_yen"]])
        if len(values):
            ax.set_ylim(values.min() / 1.8, values.max() * 1.8)
        plotting.finish_axes(ax, lang, xlabel="ward_population_persons",
                             ylabel="thousand_yen_per_ward", legend="center right", fontsize=8)
        plotting.add_note(ax, message("budgets.size.note", lang))


def ward_size_budgets(ward_budgets: pd.DataFrame | None = None,
                      population: pd.DataFrame | None = None,
                      machizukuri_budget: pd.DataFrame | None = None,
                      hamamatsu_budget: pd.DataFrame | None = None, *,
                      data_dir: str | Path | None = None) -> WardSizeResult:
    """Budget per ward against the ward's population, class (a): for each ward, the budget row
    nearest in time to a population of its own within :data:`.budget_rows.GAP_LIMIT_YEARS`
    (ties: the better quality mark). Beside them, under an assumption the document does not
    make, Kumamoto's latest five-ward total split equally against every complete same-date ward
    set (a set with inferred ward names flagged, and left out of the estimates)."""
    rows, pop, mb, kfy = R.budget_rows(ward_budgets, population, machizukuri_budget,
                                       hamamatsu_budget, None, data_dir)
    t = R.per_resident(rows, pop)
    t = t[(t["scope"] == "ward") & t["population_within_limit"]]
    table = (t.assign(_gap=t["population_gap_years"].abs(),
                      _q=t["budget_quality"].map(R.QUALITY_ORDER).fillna(9))
             .sort_values(["city_ja", "area_ja", "_gap", "_q"], kind="stable")
             .drop_duplicates(["city_ja", "area_ja"]).drop(columns=["_gap", "_q"])
             .sort_values("population_persons").reset_index(drop=True))
    # Kumamoto: every complete same-date ward set (all five wards and the city total on one date)
    k = mb[mb["fiscal_year"] == kfy].iloc[0]
    per_ward = float(k["budget_thousand_yen"]) / float(k["wards"])
    kp = pop[(pop["city_ja"] == R.KUMAMOTO) & pop["as_of_date"].notna()]
    complete = kp.sort_values(["as_of_date", "source_url"], kind="stable").groupby(
        ["as_of_date", "source_url"]).filter(lambda g: (g["area_ja"] == R.WHOLE_CITY).any()
                                             and (g["area_ja"] != R.WHOLE_CITY).sum() == k["wards"])
    kum = complete[complete["area_ja"] != R.WHOLE_CITY].reset_index(drop=True)
    kum = kum.assign(fiscal_year=kfy, amount_per_ward_thousand_yen=per_ward,
                     population_as_of=kum["as_of_date"],
                     population_date_precision=kum.get("date_precision", "day"),
                     yen_per_capita=per_ward * 1000 / kum["population_persons"])
    est, facts = [], {"limit": fmt(R.GAP_LIMIT_YEARS, 1)}
    yok = table[table["city_ja"] == "横浜市"]
    if len(yok) >= 2:
        budget, people = (yok[c].max() / yok[c].min()
                          for c in ("amount_thousand_yen", "population_persons"))
        est += [Estimate("budget.size.yokohama.budget_ratio_max_min", budget,
                         unit="ratio (largest ÷ smallest ward budget)"),
                Estimate("budget.size.yokohama.population_ratio_max_min", people,
                         unit="ratio (largest ÷ smallest ward population)")]
        facts.update(n=len(yok), pop_ratio=people, budget_ratio=budget)
    named = kum[~kum["set_names_inferred"]]
    if len(named):
        default = named[named["as_of_date"] == named["as_of_date"].max()]
        gap = (default["as_of_date"].iloc[0] - R.mid_year(kfy)).days / 365.25
        flags = R.population_flags({"population_gap_years": gap})
        low, high = default["yen_per_capita"].min(), default["yen_per_capita"].max()
        unit = "yen per resident (equal split assumed)"
        est += [Estimate("budget.size.kumamoto.yen_per_capita_min", low, unit=unit, flags=flags),
                Estimate("budget.size.kumamoto.yen_per_capita_max", high, unit=unit, flags=flags)]
        facts.update(per_ward=Yen(1000 * per_ward), year=kfy, low=Yen(low), high=Yen(high),
                     date=R.PopulationDate(named["population_as_of"].iloc[0]))
    if table.empty and kum.empty:
        raise MissingDataError("ward_budgets/population: no class-(a) ward budget with a ward "
                               "population within two years, and no complete Kumamoto ward set")
    bases = _register_estimate_gap(pop)
    facts.update(bases or {})
    caveat_keys = chosen([
        (True, "budgets.caveat.equal_split"),
        (bool(kum["set_names_inferred"].any()), "budgets.caveat.inferred_names"),
        (True, "budgets.caveat.size_dates"),
        (bases is not None, "budgets.caveat.bases"),
        (bool((table["worst_quality"] != "O").any()), "budgets.caveat.non_official"),
    ])
    kum_cols = ["area_ja", "area_en", "population_persons", "population_as_of",
                "population_date_precision", "quality", "set_names_inferred", "fiscal_year",
                "amount_per_ward_thousand_yen", "yen_per_capita"]
    return WardSizeResult(
        title_key="title_ward_size", estimates=tuple(est), n_obs=len(table), data=table,
        facts=facts, text_keys=chosen([(len(yok) >= 2, "budgets.size.yokohama"),
                                       (len(named) > 0, "budgets.size.kumamoto")]),
        method_key="budgets.method.size", caveat_keys=caveat_keys,
        kumamoto=kum[[c for c in kum_cols if c in kum.columns]],
    )


def _register_estimate_gap(population: pd.DataFrame) -> dict | None:
    """Facts of the worked example of two bases: the same area's resident-register count
    (住民基本台帳) and population estimate (推計人口) dated within 62 days of each other (the
    closest pair), ``share`` register ÷ estimate − 1. None without such a pair."""
    pop = population[population["as_of_date"].notna()]
    pairs = pop[pop["basis"] == "resident_register"].merge(
        pop[pop["basis"] == "estimate"], on=["city_ja", "area_ja"], suffixes=("_r", "_e"))
    days = (pairs["as_of_date_r"] - pairs["as_of_date_e"]).abs().dt.days
    pairs = pairs[days <= 62].assign(_days=days)
    if pairs.empty:
        return None
    r = pairs.sort_values("_days", kind="stable").iloc[0]
    register, estimate = float(r["population_persons_r"]), float(r["population_persons_e"])
    return {"area": Named(f"{r['city_ja']}{r['area_ja']}",
                          f"{r.get('city_en_r', '')} {r.get('area_en_r', '')}"),
            "register": fmt_count(register), "estimate": fmt_count(estimate),
            "register_date": R.PopulationDate(r["as_of_date_r"]),
            "estimate_date": R.PopulationDate(r["as_of_date_e"]),
            "share": register / estimate - 1,
            "mark": R.worst_quality((r["quality_r"], r["quality_e"]))}


@dataclass(frozen=True, eq=False, repr=False)
class OverTimeResult(Result):
    sources = ("ward_budgets", "ward_budget_changes", "machizukuri_budget", "population")

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        palette = [plotting.COLORS[c] for c in
                   ("covid", "observed", "counterfactual", "level2", "level3", "neutral")]
        marker = plotting.QUALITY_MARKERS.get
        for (_, g), color in zip(d.groupby("series", sort=False), palette * 3, strict=False):
            r = g.iloc[0]
            marks = "/".join(sorted(set(g["budget_quality"]), key=R.QUALITY_ORDER.get))
            ax.plot([], [], color=color, marker=marker(r["budget_quality"], "o"),
                    label=f"{_series_name(r).__lang_format__('', lang)} [{marks}]")
            for _, seg in g.groupby("segment", sort=True):
                ys = seg["amount_per_ward_thousand_yen"].to_numpy()
                fs = seg["fiscal_year"].to_numpy()
                for i in range(len(seg) - 1):  # solid between consecutive years, dotted across gaps
                    style = "-" if fs[i + 1] - fs[i] == 1 else ":"
                    ax.plot(fs[i:i + 2], ys[i:i + 2], color=color, linestyle=style, lw=1.6)
                for f, v, q in zip(fs, ys, seg["budget_quality"], strict=True):
                    ax.plot(f, v, marker=marker(q, "o"), color=color, ls="none", markersize=7)
            # a declared break: a short dashed bar across the series itself, in its colour
            for b in g[g["series_break_before"]].itertuples(index=False):
                x, v = b.fiscal_year - 0.5, b.amount_per_ward_thousand_yen
                ax.plot([x, x], [v / 1.6, v * 1.6], color=color, linestyle="--", lw=1.2)
                ax.annotate(message("budgets.over_time.break_mark", lang), (x, v / 1.6),
                            xytext=(0, -2), textcoords="offset points", ha="center", va="top",
                            fontsize=8, color=color)
        ax.set_yscale("log")
        years = sorted(set(d["fiscal_year"]))
        ticks = [y for y in range(min(years), max(years) + 1) if y % 2 == 0]
        ax.set_xticks(ticks, [f"{y}" for y in ticks], fontsize=8)
        plotting.finish_axes(ax, lang, xlabel="fiscal_year", ylabel="thousand_yen_per_ward",
                             legend="lower right", fontsize=7.5, ncol=2)
        plotting.add_note(ax, message("budgets.over_time.note", lang))


def budgets_over_time(ward_budgets: pd.DataFrame | None = None,
                      population: pd.DataFrame | None = None,
                      machizukuri_budget: pd.DataFrame | None = None,
                      hamamatsu_budget: pd.DataFrame | None = None,
                      ward_budget_changes: pd.DataFrame | None = None, *,
                      data_dir: str | Path | None = None) -> OverTimeResult:
    """Class-(a) budgets per ward over fiscal years, in nominal yen: Kumamoto's (every year, an
    equal split) and every other class-(a) series (same city and area) with two or more years.
    A row with ``series_break_before`` starts a new segment; a ratio (last ÷ first) is computed
    within a segment only. ``ward_budget_changes`` gives the like-for-like change across
    鶴見区's break that its caveat states."""
    rows, pop, mb, _ = R.budget_rows(ward_budgets, population, machizukuri_budget,
                                     hamamatsu_budget, None, data_dir)
    kum = []
    for k in mb.itertuples(index=False):
        m = R.match_population(pop, R.KUMAMOTO, R.WHOLE_CITY, int(k.fiscal_year))
        kum.append({**R.kumamoto_row(k), "area_en": area_en()["全区合計"],
                    "comparability": f"class_{k.comparability_class}",
                    "amount_per_ward_thousand_yen": k.budget_thousand_yen / k.wards,
                    "per_ward_is_equal_split": True,
                    "yen_per_capita": (k.budget_thousand_yen * 1000 / m["population_persons"]
                                       if m else math.nan),
                    "population_quality": m["population_quality"] if m else ""})
    others = [{**r, "yen_per_capita": math.nan, "population_quality": ""} for r in rows
              if r["source"] == "ward_budgets" and r["comparability_class"] == "a"
              and r["city_ja"] != R.KUMAMOTO and not pd.isna(r["amount_per_ward_thousand_yen"])]
    frame = pd.DataFrame(kum + others)
    frame = frame[frame["comparability_class"] == "a"]
    frame["series"] = frame["city_ja"] + " " + frame["area_ja"]
    counts = frame.groupby("series")["fiscal_year"].transform("nunique")
    frame = frame[counts >= 2]
    frame = (frame.assign(_later=frame["series"] != "熊本市 全区合計")  # Kumamoto's first
             .sort_values(["_later", "series", "fiscal_year"], kind="stable")
             .drop(columns="_later").reset_index(drop=True))
    frame["series_break_before"] = frame["series_break_before"].astype(bool)
    # segments numbered from 1 within each series: a declared break starts the next one
    frame["segment"] = (frame.groupby("series")["series_break_before"].cumsum() + 1).astype(int)
    if frame.empty:
        raise MissingDataError("no class-(a) budget series with two or more fiscal years")
    est, segments = [], []
    for _, g in frame.groupby(["series", "segment"], sort=False):
        if len(g) < 2:
            continue
        r0, r1 = g.iloc[0], g.iloc[-1]
        v0, v1 = r0["amount_per_ward_thousand_yen"], r1["amount_per_ward_thousand_yen"]
        part = R.key_part(r0["scope"], r0["area_en"], r0["area_ja"])
        est.append(Estimate(f"budget.series.{R.slug(r0['city_en'])}.{part}"
                            f".fy{r0['fiscal_year']}_fy{r1['fiscal_year']}.ratio", v1 / v0,
                            unit="ratio (last ÷ first per-ward amount)"))
        segments.append(Said("budgets.over_time.segment", {
            "name": _series_name(r0), "first": int(r0["fiscal_year"]),
            "last": int(r1["fiscal_year"]), "v0": Yen(1000 * v0), "v1": Yen(1000 * v1),
            "ratio": v1 / v0}))
    text_keys = [Said("budgets.over_time.lead",
                      {"series": Joined(tuple(segments), "budgets.list_joiner")})]
    text_keys += [Said("budgets.over_time.break",
                       {"name": _series_name(r), "year": int(r["fiscal_year"])})
                  for _, r in frame[frame["series_break_before"]].iterrows()]
    breaks = frame.loc[frame["series_break_before"] & (frame["area_ja"] == "鶴見区"),
                       ["city_ja", "area_ja", "fiscal_year"]]
    changes = _input.frame(ward_budget_changes, "ward_budget_changes", CHANGE_COLUMNS, data_dir)
    real = changes[changes["like_for_like"]].merge(breaks)["change_thousand_yen"]
    caveat_keys = [Said("budgets.caveat.series_break", {"change": Yen(1000 * c)})
                   for c in real[:1]] + list(chosen([
        (True, "budgets.caveat.nominal"),
        (True, "budgets.caveat.equal_split"),
        (bool((frame["budget_quality"] != "O").any()), "budgets.caveat.non_official"),
    ]))
    return OverTimeResult(
        title_key="title_budgets_over_time", estimates=tuple(est), n_obs=len(frame), data=frame,
        text_keys=tuple(text_keys), method_key="budgets.method.over_time", caveat_keys=caveat_keys,
    )


def _series_name(r: Any) -> Named:
    """A series' city and area: ``横浜市 鶴見区`` / ``Yokohama Tsurumi Ward``."""
    return Named(f"{r['city_ja']} {r['area_ja']}",
                 f"{r['city_en']} {r['area_en'] or r['area_ja']}")
