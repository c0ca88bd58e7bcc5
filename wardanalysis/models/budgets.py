"""Section 5: the wards' own budgets, across years and across cities; adoption of priority issues.

- :func:`kumamoto_budget`: Kumamoto's まちづくり推進経費 per fiscal year: total, per ward (an equal
  split, which the document does not print), yen per resident (the population figure nearest to
  each fiscal year, its date and basis stated), the reconstruction part separately, the steps.
- :func:`cross_city_budgets`: per ward and per resident, class-(a) ward budgets of Kumamoto,
  Hamamatsu (地域力向上事業) and the other cities in the public figures, each with its population's
  date, gap and basis and the source-quality marks; the other classes listed, not compared.
- :func:`adoption`: Kumamoto's decided-to-act share of priority issues against Hamamatsu's
  budgeted share of ward priority proposals.
- :func:`cost_per_funded_issue`: yen per funded priority issue (about 13億円 over 104 issues).

Matching a population to a budget: for a budget of fiscal year ``Y``, the population figure of the
same city and area whose ``as_of_date`` is nearest to 1 October of ``Y`` (the middle of the fiscal
year); ties go to the better source-quality mark (O, N, W, B, C). A population dated outside the
budget's fiscal year, or undated, is a *date mismatch* and is marked wherever it is shown. A set
whose ward names are partly inferred (Kumamoto 2021) is never matched by default.

Comparability classes (``comparability_class`` in the data): only class-(a) rows — a ward's
self-planned or discretionary programme as a whole — are compared, ranked or drawn on one axis:

- :func:`ward_size_budgets`: budget per ward against ward population (log axes), with Kumamoto's
  wards under the equal-split assumption for each complete same-date ward set.
- :func:`budgets_over_time`: class-(a) series per ward, split at declared series breaks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import stats
from ..eras import fiscal_year_bounds
from ..errors import MissingDataError, ZeroDenominatorError
from ..glossary import label
from ..messages import message
from ..results import (
    POISSON_ONLY,
    Estimate,
    Result,
    fmt,
    fmt_ci,
    fmt_p,
    fmt_pct,
    join_caveats,
    years_text,
)
from . import _input

__all__ = [
    "GAP_LIMIT_YEARS",
    "AdoptionResult",
    "CostPerIssueResult",
    "CrossCityResult",
    "KumamotoBudgetResult",
    "OverTimeResult",
    "WardSizeResult",
    "adoption",
    "budgets_over_time",
    "cost_per_funded_issue",
    "cross_city_budgets",
    "kumamoto_budget",
    "match_population",
    "ward_size_budgets",
]

QUALITY_ORDER = {"O": 0, "N": 1, "W": 2, "B": 3, "C": 4}
WHOLE_CITY = "市全体"
KUMAMOTO = "熊本市"
HAMAMATSU = "浜松市"
_POP_COLUMNS = ("city_ja", "area_ja", "population_persons", "as_of_date", "basis", "quality")
_BUDGET_COLUMNS = ("fiscal_year", "budget_thousand_yen", "reconstruction_thousand_yen", "wards")
_WARD_BUDGET_COLUMNS = ("city_ja", "city_en", "area_ja", "programme_ja", "fiscal_year",
                        "amount_thousand_yen", "is_approximate", "scope", "wards_covered",
                        "is_discretionary_total", "quality", "comparability_class")


def _mid(fy: int) -> pd.Timestamp:
    return pd.Timestamp(fy, 10, 1)


def _population(population: pd.DataFrame | None, data_dir) -> pd.DataFrame:
    pop = _input.frame(population, "population", _POP_COLUMNS, data_dir)
    pop["as_of_date"] = pd.to_datetime(pop["as_of_date"], errors="coerce")
    values = pd.to_numeric(pop["population_persons"], errors="coerce")
    bad = values.isna() | (values <= 0)
    if bad.any():
        raise _input.InvalidCountError(
            "population: population_persons must be a positive number; bad row(s) "
            f"{pop.loc[bad, ['city_ja', 'area_ja']].values.tolist()[:5]}"
        )
    pop["population_persons"] = values
    return pop


def match_population(population: pd.DataFrame, city_ja: str, area_ja: str,
                     fiscal_year: int, *, include_inferred: bool = False) -> dict[str, Any] | None:
    """The population figure for ``city_ja``/``area_ja`` nearest to the middle of
    ``fiscal_year`` (see the module docstring), as a dict, or None when there is none.

    Rows of a set whose ward names are partly inferred (``set_names_inferred``) are never picked
    unless ``include_inferred``: they must not silently replace a set whose names are printed."""
    rows = population[(population["city_ja"] == city_ja) & (population["area_ja"] == area_ja)]
    if not include_inferred and "set_names_inferred" in rows.columns:
        rows = rows[~rows["set_names_inferred"].fillna(False).astype(bool)]
    if rows.empty:
        return None
    rows = rows.assign(
        _gap=(rows["as_of_date"] - _mid(fiscal_year)).abs().dt.days,
        _q=rows["quality"].map(QUALITY_ORDER).fillna(9),
        _undated=rows["as_of_date"].isna(),
    ).sort_values(["_undated", "_gap", "_q"], kind="stable")
    r = rows.iloc[0]
    start, end = fiscal_year_bounds(fiscal_year)
    dated = not pd.isna(r["as_of_date"])
    in_year = dated and pd.Timestamp(start) <= r["as_of_date"] <= pd.Timestamp(end)
    return {
        "population_persons": float(r["population_persons"]),
        "population_as_of": r["as_of_date"] if dated else pd.NaT,
        "population_basis": r.get("basis", ""),
        "population_quality": r["quality"],
        "population_gap_years": ((r["as_of_date"] - _mid(fiscal_year)).days / 365.25
                                 if dated else math.nan),
        "population_date_mismatch": not in_year,
        "population_source_url": r.get("source_url", ""),
        "population_date_precision": r.get("date_precision", "day") if dated else "unknown",
    }


def population_date_text(as_of: Any, precision: str, lang: str) -> str:
    """A population date as precise as its source: ``2024年1月`` for a month-only figure."""
    if as_of is None or pd.isna(as_of):
        return "日付不明" if lang == "ja" else "undated"
    if precision == "year":
        return f"{as_of.year}年" if lang == "ja" else f"{as_of.year}"
    if precision == "month":
        return f"{as_of.year}年{as_of.month}月" if lang == "ja" else f"{as_of:%Y-%m}"
    return f"{as_of.year}年{as_of.month}月{as_of.day}日" if lang == "ja" else f"{as_of:%Y-%m-%d}"


# =============================================================================================
# Kumamoto's まちづくり推進経費
# =============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class KumamotoBudgetResult(Result):
    sources = ("machizukuri_budget", "population")
    SUMMARY_KEYS = ("budget.kumamoto_yen_per_capita", "budget.kumamoto_per_ward_thousand_yen")
    def _latest(self) -> pd.Series:
        return self.data.iloc[-1]

    def _text(self, lang: str) -> str:
        r = self._latest()
        e = self.estimate("budget.kumamoto_yen_per_capita")
        return message("budgets.kumamoto.text", lang, year=int(r["fiscal_year"]),
                       total=f"{int(r['budget_thousand_yen']):,}", per_ward=_k(r["per_ward_thousand_yen"]),
                       yen=fmt(e.value), population=f"{int(r['population_persons']):,}",
                       date=population_date_text(r["population_as_of"], r["population_date_precision"], lang))

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        regular = d["budget_thousand_yen"] - d["reconstruction_thousand_yen"]
        ax.bar(d["fiscal_year"], regular / 1000, color=plotting.COLORS["level1"], width=0.65,
               label=label("regular_budget", lang))
        ax.bar(d["fiscal_year"], d["reconstruction_thousand_yen"] / 1000, bottom=regular / 1000,
               color=plotting.COLORS["level2"], width=0.65, label=label("reconstruction_budget", lang))
        for r in d.itertuples(index=False):
            mark = "†" if r.population_date_mismatch else ""
            ax.annotate(f"{fmt(r.yen_per_capita)}{mark}", (r.fiscal_year, r.budget_thousand_yen / 1000),
                        xytext=(0, 3), textcoords="offset points", ha="center", fontsize=8.5)
        plotting.set_fy_axis(ax, d["fiscal_year"], lang)
        for t in ax.get_xticklabels():
            t.set_fontsize(8)
        ax.set_ylabel(label("million_yen", lang))
        ax.set_ylim(0, d["budget_thousand_yen"].max() / 1000 * 1.2)
        ax.set_title(self.title(lang))
        ax.legend(loc="upper left", fontsize=9)
        note = label("note_bar_labels_yen_per_resident", lang)
        if d["population_date_mismatch"].any():
            note += (" " if lang == "en" else "") + "† " + label("note_population_date_mismatch", lang)
        plotting.add_note(ax, note)


def kumamoto_budget(machizukuri_budget: pd.DataFrame | None = None,
                    population: pd.DataFrame | None = None, *,
                    data_dir: str | Path | None = None) -> KumamotoBudgetResult:
    """Kumamoto's まちづくり推進経費 per fiscal year: total, per ward, per resident, steps.

    Parameters
    ----------
    machizukuri_budget
        ``fiscal_year``, ``budget_thousand_yen``, ``reconstruction_thousand_yen``, ``wards``;
        the shipped data when None. Any fiscal-year cut-off is fine (one year is enough).
    population
        The population table (``city_ja``, ``area_ja``, ``population_persons``, ``as_of_date``,
        ``basis``, ``quality``); the shipped data when None. Kumamoto's whole-city rows are used.

    Raises
    ------
    MissingColumnError, InvalidCountError, MissingDataError (no budget rows, or no whole-city
    population for Kumamoto), ZeroDenominatorError (``wards`` is 0).

    Keys: ``budget.kumamoto_yen_per_capita`` (the latest fiscal year in the data),
    ``budget.kumamoto_total_thousand_yen``, ``budget.kumamoto_per_ward_thousand_yen`` (latest
    year), ``budget.kumamoto_yen_per_capita.fy<Y>`` for every year. Exact divisions: no interval.
    """
    arg = "machizukuri_budget"
    b = _input.frame(machizukuri_budget, arg, _BUDGET_COLUMNS, data_dir)
    b = _input.fiscal_years(b, arg)
    b = _input.counts(b, _BUDGET_COLUMNS[1:], arg)
    _input.not_above(b, "reconstruction_thousand_yen", "budget_thousand_yen", arg)
    _input.nonzero(b, "wards", "the per-ward budget")
    if b.empty:
        raise MissingDataError(f"{arg}: no fiscal year in the data")
    pop = _population(population, data_dir)
    rows = []
    for r in b.itertuples(index=False):
        m = match_population(pop, KUMAMOTO, WHOLE_CITY, int(r.fiscal_year))
        if m is None:
            raise MissingDataError(f"population: no whole-city ({WHOLE_CITY}) figure for {KUMAMOTO}")
        rows.append({
            "fiscal_year": int(r.fiscal_year),
            "budget_thousand_yen": int(r.budget_thousand_yen),
            "reconstruction_thousand_yen": int(r.reconstruction_thousand_yen),
            "regular_thousand_yen": int(r.budget_thousand_yen - r.reconstruction_thousand_yen),
            "wards": int(r.wards),
            "per_ward_thousand_yen": r.budget_thousand_yen / r.wards,
            **m,
            "yen_per_capita": r.budget_thousand_yen * 1000 / m["population_persons"],
            "yen_per_capita_excl_reconstruction":
                (r.budget_thousand_yen - r.reconstruction_thousand_yen) * 1000 / m["population_persons"],
        })
    table = pd.DataFrame(rows)
    table["step_thousand_yen"] = table["budget_thousand_yen"].diff()
    gap = table["fiscal_year"].diff() != 1
    table.loc[gap, "step_thousand_yen"] = np.nan
    last = table.iloc[-1]
    est = [
        Estimate("budget.kumamoto_yen_per_capita", last["yen_per_capita"], unit="yen per resident"),
        Estimate("budget.kumamoto_total_thousand_yen", last["budget_thousand_yen"], unit="thousand yen"),
        Estimate("budget.kumamoto_per_ward_thousand_yen", last["per_ward_thousand_yen"],
                 unit="thousand yen per ward (equal split assumed)"),
    ]
    est += [Estimate(f"budget.kumamoto_yen_per_capita.fy{r.fiscal_year}", r.yen_per_capita,
                     unit="yen per resident") for r in table.itertuples(index=False)]
    used = table.drop_duplicates("population_as_of")
    kpop = pop[(pop["city_ja"] == KUMAMOTO) & (pop["area_ja"] == WHOLE_CITY)]["population_persons"]
    spread = (kpop.max() - kpop.min()) / kpop.min() if len(kpop) > 1 else 0.0
    nonoff = sorted(set(used["population_quality"]) - {"O"})
    mismatch = table.loc[table["population_date_mismatch"], "fiscal_year"].tolist()
    recon = table[table["reconstruction_thousand_yen"] > 0]
    recon_years = years_text(recon["fiscal_year"].tolist(), "en")
    recon_years_ja = years_text(recon["fiscal_year"].tolist(), "ja")
    recon_amounts = ", ".join(f"{v:,}" for v in sorted(set(recon["reconstruction_thousand_yen"])))
    caveats, caveats_ja = _caveats([
        (True, "budgets.kumamoto.caveat_equal_split", {}),
        (bool(mismatch), "budgets.kumamoto.caveat_no_population_in_year",
         {"years_en": ", ".join(map(str, mismatch)), "years_ja": "、".join(map(str, mismatch)),
          "spread": fmt_pct(spread, 2)}),
        (bool(nonoff), "budgets.kumamoto.caveat_non_official", {"marks": ", ".join(nonoff)}),
        (not recon.empty, "budgets.kumamoto.caveat_reconstruction",
         {"years_en": recon_years, "years_ja": recon_years_ja, "amounts": recon_amounts}),
        (True, "budgets.kumamoto.caveat_budgeted", {}),
    ])
    return KumamotoBudgetResult(
        title_key="title_kumamoto_budget",
        estimates=tuple(est),
        method=("Budget ÷ wards (equal split) and budget × 1,000 ÷ the whole-city population "
                "nearest to the middle of each fiscal year."),
        method_ja="予算額÷区の数（均等配分）、予算額×1,000÷各年度の中間に最も近い時点の市全体人口。",
        n_obs=len(table), caveats=caveats, caveats_ja=caveats_ja, data=table,
    )


# =============================================================================================
# Cross-city comparison, in comparability classes
# =============================================================================================

#: How far a population's date may lie from the middle of the budget's fiscal year for the row
#: to count in a per-resident range (beyond it, the row is shown with its gap, not used).
GAP_LIMIT_YEARS = 2.0
CLASSES = ("a", "b", "c", "d")
#: Areas that are not one ward, in English (a ward's English name comes from the population data).
_AREA_EN = {"全区合計": "all wards", "1区当たり平均": "per-ward average",
            "各区（一律）": "each ward (same amount)", "市全体": "whole city",
            "各部・区合計": "departments and wards",
            # wards with no population row to take an English name from
            "保土ケ谷区": "Hodogaya Ward", "戸塚区": "Totsuka Ward", "下京区": "Shimogyo Ward",
            "右京区": "Ukyo Ward", "中区": "Naka Ward", "川崎区": "Kawasaki Ward",
            "天竜区": "Tenryu Ward", "西区": "Nishi Ward", "鶴見区": "Tsurumi Ward",
            "港北区": "Kohoku Ward", "青葉区": "Aoba Ward", "都筑区": "Tsuzuki Ward"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_") or "x"


def _class_of(df: pd.DataFrame, name: str) -> pd.Series:
    """A dataset's comparability_class column; for the review's own budget datasets, whose
    shipped rows are all class a, a user's file may leave it out (see their descriptors)."""
    if "comparability_class" not in df.columns:
        return pd.Series("a", index=df.index)
    cls = df["comparability_class"].fillna("a").astype(str)
    bad = cls[~cls.isin(CLASSES)]
    if not bad.empty:
        raise _input.InvalidCountError(
            f"{name}: comparability_class must be one of a, b, c, d; found {bad.tolist()[:5]}")
    return cls


def _row_name(r: Any, lang: str) -> str:
    """``横浜市 西区（2021年度）`` / ``Yokohama Nishi Ward (FY2021)``."""
    if lang == "ja":
        return f"{r.city_ja} {r.area_ja}（{r.fiscal_year}年度）"
    return f"{r.city_en} {r.area_en or r.area_ja} (FY{r.fiscal_year})"


def _key_part(r: Any) -> str:
    if r.scope in ("all_wards", "per_ward_average"):
        return str(r.scope)
    return _slug(r.area_en or r.area_ja)


def _k(value: float) -> str:
    """A thousand-yen amount for a sentence, to the whole 千円 (28,571, not 28,570)."""
    return f"{round(float(value)):,}"


def _quality_word(marks, lang: str) -> str:
    return message("budgets.marks_joiner", lang).join(sorted(set(marks), key=QUALITY_ORDER.get))


@dataclass(frozen=True, eq=False, repr=False)
class CrossCityResult(Result):
    sources = ("ward_budgets", "machizukuri_budget", "hamamatsu_budget", "population")
    SUMMARY_KEYS = ()
    facts: dict[str, Any] | None = None

    def _kumamoto(self) -> pd.Series:
        d = self.data
        return d[(d["source"] == "kumamoto_review_2024")].iloc[0]

    def headline(self, lang: str = "ja") -> str:  # type: ignore[override]
        """The answer in plain words: Kumamoto's budget per resident among the comparable
        figures of other cities, how many of those come from one city, and how good their
        sources are."""
        f = self.facts or {}
        if not f.get("yen_n"):
            return Result.headline(self, lang)  # type: ignore[arg-type]
        answer = message("budgets.cross_city.headline", lang, kumamoto=fmt(f["kumamoto_yen"]),
                         year=f["kumamoto_year"], n=f["yen_n"], low=fmt(f["yen_low"]),
                         high=fmt(f["yen_high"]), below=f["yen_below"], top_n=f["yen_top_n"],
                         top_city=f[f"yen_top_city_{lang}"])
        quality = ("budgets.cross_city.headline_unofficial" if f["yen_all_unofficial"]
                   else "budgets.cross_city.headline_some_official")
        return answer + ("" if lang == "ja" else " ") + message(
            quality, lang, marks=_quality_word(f["yen_marks"], lang))

    def _text(self, lang: str) -> str:
        f = self.facts or {}
        k = self._kumamoto()
        parts = [message("budgets.cross_city.per_ward", lang, kumamoto=_k(k["amount_per_ward_thousand_yen"]),
                         year=int(k["fiscal_year"]), low=_k(f["ward_low"]),
                         high=_k(f["ward_high"]), n=f["ward_n"])]
        if f.get("yen_n"):
            parts.append(message("budgets.cross_city.per_resident", lang, kumamoto=fmt(k["yen_per_capita"]),
                                 low=fmt(f["yen_low"]), high=fmt(f["yen_high"]), n=f["yen_n"],
                                 limit=fmt(GAP_LIMIT_YEARS, 1), beyond=f["yen_beyond"]))
        if f.get("rank_n"):
            parts.append(message("budgets.cross_city.rank_per_ward", lang, n=f["rank_n"],
                                 above=f["rank_above"], below=f["rank_below"],
                                 years=years_text(f["rank_years"], lang)))
        parts.append(message("budgets.cross_city.no_rank_per_resident", lang,
                             marks=_quality_word(f.get("yen_marks") or ["N"], lang)))
        return ("" if lang == "ja" else " ").join(parts)

    def _plot(self, ax: Any, lang: str) -> None:
        """Class (a) only: yen per resident (rows with a population), Kumamoto highlighted; rows
        whose population is more than two years off are hollow grey, with their gap."""
        from matplotlib.lines import Line2D

        from .. import plotting

        d = self.data[self.data["included"]]
        # Kumamoto is drawn from the review; the citizen's letter (C) stays in the table
        d = d[(d["city_ja"] != KUMAMOTO) | (d["source"] == "kumamoto_review_2024")]
        d = d.sort_values("yen_per_capita").reset_index(drop=True)
        y = np.arange(len(d))
        for i, r in d.iterrows():
            near = bool(r["population_within_limit"])
            kum = r["city_ja"] == KUMAMOTO
            color = (plotting.COLORS["covid"] if kum else plotting.COLORS["observed"]) if near \
                else plotting.COLORS["neutral"]
            ax.plot(r["yen_per_capita"], y[i], marker=plotting.QUALITY_MARKERS.get(r["worst_quality"], "o"),
                    markersize=9, color=color, linestyle="none", markeredgewidth=1.8,
                    markerfacecolor=color if near else "white")
            gap = "" if near else " " + (
                message("budgets.undated", lang) if pd.isna(r["population_gap_years"])
                else message("budgets.gap_years", lang, years=fmt(abs(r["population_gap_years"]), 2)))
            ax.annotate(f"{fmt(r['yen_per_capita'])}{gap}", (r["yen_per_capita"], y[i]), xytext=(8, 0),
                        textcoords="offset points", va="center", fontsize=8.5)
        ax.set_yticks(y)
        ax.set_yticklabels([f"{_row_name(r, lang)} [{r.worst_quality}]" for r in d.itertuples(index=False)],
                           fontsize=8.5)
        ax.set_xscale("log")
        ax.set_xlabel(label("yen_per_resident", lang))
        ax.grid(axis="y", visible=False)
        if len(d):
            ax.set_xlim(d["yen_per_capita"].min() / 1.6, d["yen_per_capita"].max() * 4)
        handles = [Line2D([], [], marker=plotting.QUALITY_MARKERS[q], linestyle="none",
                          color=plotting.COLORS["observed"], markersize=8, label=label(f"quality_{q}", lang))
                   for q in QUALITY_ORDER if q in set(d["worst_quality"])]
        handles.append(Line2D([], [], marker="o", linestyle="none", color=plotting.COLORS["neutral"],
                              markerfacecolor="white", markersize=8,
                              label=message("budgets.legend_beyond", lang, limit=fmt(GAP_LIMIT_YEARS, 1))))
        ax.legend(handles=handles, loc="lower right", fontsize=8, title=label("source_quality_worst", lang),
                  title_fontsize=8)
        ax.set_title(self.title(lang))
        plotting.add_note(ax, message("budgets.note_class_a_only", lang))


def _review_rows(mb: pd.DataFrame, hb: pd.DataFrame, kfy: int) -> list[dict[str, Any]]:
    review = "kumamoto_review_2024"
    k = mb[mb["fiscal_year"] == kfy].iloc[0]
    rows = [{
        "source": review, "city_ja": KUMAMOTO, "city_en": "Kumamoto", "area_ja": "全区合計",
        "programme_ja": "まちづくり推進経費", "programme_en": "ward community-development budget",
        "fiscal_year": kfy,
        "amount_thousand_yen": float(k["budget_thousand_yen"]), "is_approximate": False,
        "scope": "all_wards", "wards_covered": int(k["wards"]), "is_discretionary_total": True,
        "budget_quality": "O", "source_url": "", "comparability_class": k["comparability_class"],
        "series_break_before": False, "printed_yen_per_resident": math.nan,
    }]
    for h in hb.itertuples(index=False):
        rows.append({
            "source": review, "city_ja": HAMAMATSU, "city_en": "Hamamatsu", "area_ja": "全区合計",
            "programme_ja": str(h.programme_ja), "programme_en": "community-strength programme",
            "fiscal_year": int(h.fiscal_year),
            "amount_thousand_yen": float(h.budget_thousand_yen), "is_approximate": False,
            "scope": "all_wards", "wards_covered": pd.NA, "is_discretionary_total": True,
            "budget_quality": "O", "source_url": "", "comparability_class": h.comparability_class,
            "series_break_before": False, "printed_yen_per_resident": math.nan,
        })
    return rows


def _budget_rows(ward_budgets, population, machizukuri_budget, hamamatsu_budget,
                 kumamoto_fiscal_year, data_dir):
    """Every budget row (the review's Kumamoto and Hamamatsu rows first) with its class, and
    the population table; shared by the cross-city, size and over-time analyses."""
    wb = _input.frame(ward_budgets, "ward_budgets", _WARD_BUDGET_COLUMNS, data_dir)
    wb = _input.fiscal_years(wb, "ward_budgets", unique=False)
    wb = wb.assign(comparability_class=_class_of(wb, "ward_budgets"))
    pop = _population(population, data_dir)
    mb = _input.frame(machizukuri_budget, "machizukuri_budget", _BUDGET_COLUMNS, data_dir)
    mb = _input.fiscal_years(mb, "machizukuri_budget")
    mb = mb.assign(comparability_class=_class_of(mb, "machizukuri_budget"))
    hb = _input.frame(hamamatsu_budget, "hamamatsu_budget",
                      ("fiscal_year", "programme_ja", "budget_thousand_yen"), data_dir)
    hb = _input.fiscal_years(hb, "hamamatsu_budget", unique=False)
    hb = hb.assign(comparability_class=_class_of(hb, "hamamatsu_budget"))
    if mb.empty:
        raise MissingDataError("machizukuri_budget: no fiscal year in the data")
    kfy = int(mb["fiscal_year"].max()) if kumamoto_fiscal_year is None else int(kumamoto_fiscal_year)
    if not (mb["fiscal_year"] == kfy).any():
        raise MissingDataError(f"machizukuri_budget: no row for FY{kfy} "
                               f"(have {mb['fiscal_year'].tolist()})")
    rows = _review_rows(mb, hb, kfy)

    def opt(r: dict, col: str, default: Any) -> Any:
        v = r.get(col, default)
        return default if v is None or (not isinstance(v, str) and pd.isna(v)) else v

    for r in wb.to_dict("records"):
        rows.append({
            "source": "ward_budgets", "city_ja": r["city_ja"], "city_en": r["city_en"],
            "area_ja": r["area_ja"], "programme_ja": r["programme_ja"],
            "programme_en": opt(r, "programme_en", r["programme_ja"]),
            "fiscal_year": int(r["fiscal_year"]),
            "amount_thousand_yen": float(opt(r, "amount_thousand_yen", math.nan)),
            "is_approximate": bool(opt(r, "is_approximate", False)),
            "scope": r["scope"], "wards_covered": r["wards_covered"],
            "is_discretionary_total": bool(opt(r, "is_discretionary_total", False)),
            "budget_quality": r["quality"], "source_url": r.get("source_url", ""),
            "comparability_class": r["comparability_class"],
            "series_break_before": bool(opt(r, "series_break_before", False)),
            "printed_yen_per_resident": float(opt(r, "yen_per_resident", math.nan)),
        })
    area_en = dict(_AREA_EN)
    if "area_en" in pop.columns:
        area_en.update({(c, a): e for c, a, e in pop[["city_ja", "area_ja", "area_en"]].itertuples(index=False)})
    for r in rows:
        r["area_en"] = area_en.get((r["city_ja"], r["area_ja"]), area_en.get(r["area_ja"], ""))
        wards = r["wards_covered"]
        if r["scope"] in ("ward", "per_ward_average"):
            r["amount_per_ward_thousand_yen"] = r["amount_thousand_yen"]
        elif r["scope"] == "all_wards" and not pd.isna(wards):
            r["amount_per_ward_thousand_yen"] = r["amount_thousand_yen"] / float(wards)
        else:
            r["amount_per_ward_thousand_yen"] = math.nan
        r["per_ward_is_equal_split"] = r["scope"] == "all_wards"
        r["comparability"] = f"class_{r['comparability_class']}"
    return rows, pop, mb, kfy


def cross_city_budgets(ward_budgets: pd.DataFrame | None = None,
                       population: pd.DataFrame | None = None,
                       machizukuri_budget: pd.DataFrame | None = None,
                       hamamatsu_budget: pd.DataFrame | None = None, *,
                       kumamoto_fiscal_year: int | None = None,
                       data_dir: str | Path | None = None) -> CrossCityResult:
    """Ward budgets across cities, per ward and per resident, within comparability class (a).

    Rows: Kumamoto's まちづくり推進経費 (from the review, the fiscal year ``kumamoto_fiscal_year``,
    by default the latest in ``machizukuri_budget``), Hamamatsu's 地域力向上事業 (from the review,
    ``hamamatsu_budget``), and every row of ``ward_budgets``, each with its comparability class
    (``comparability_class``: a a ward's self-planned or discretionary programme; b a sub-line or
    single grant; c a broad allocation to ward offices; d a per-resident figure of the source).

    Only class-(a) rows are compared. Per ward: the amount for a ward or a same-for-each amount,
    an all-ward total ÷ ``wards_covered`` (an equal split, assumed). Per resident: the amount ÷
    the population of the same area (the whole city for an all-ward total, times
    ``wards_covered`` for a per-ward amount) nearest to the middle of the budget's fiscal year
    (:func:`match_population`; sets with inferred ward names are never picked). A row whose
    population lies more than ``GAP_LIMIT_YEARS`` (2) from it is shown with its gap but left out
    of the range. Rows of the other classes stay in the table, not compared, with their class.

    A ranking is stated only within class (a) and only among rows whose marks are all O.

    Keys: ``budget.yen_per_capita.<city>.<area>.fy<Y>`` and
    ``budget.amount_per_ward_thousand_yen.<city>.<area>.fy<Y>`` for every class-(a) row that has one;
    ``budget.class_a.others_per_ward_thousand_yen_min``/``_max`` (the other cities' rows) and
    ``budget.class_a.others_yen_per_capita_min``/``_max`` (those within two years). Exact
    divisions: no interval.
    """
    rows, pop, _, _ = _budget_rows(ward_budgets, population, machizukuri_budget, hamamatsu_budget,
                                   kumamoto_fiscal_year, data_dir)
    base = {"population_persons": math.nan, "population_as_of": pd.NaT, "population_basis": "",
            "population_quality": "", "population_gap_years": math.nan,
            "population_date_mismatch": False, "population_source_url": "",
            "population_date_precision": ""}
    out = []
    for r in rows:
        reason, m = "", None
        if r["comparability_class"] != "a":
            reason = "not_class_a"
        elif pd.isna(r["amount_thousand_yen"]):
            reason = "no_amount"
        else:
            area = r["area_ja"] if r["scope"] == "ward" else WHOLE_CITY
            m = match_population(pop, r["city_ja"], area, r["fiscal_year"])
            if m is None:
                reason = "no_population"
            elif r["scope"] == "per_ward_average" and pd.isna(r["wards_covered"]):
                reason, m = "wards_not_given", None
        mult = float(r["wards_covered"]) if m is not None and r["scope"] == "per_ward_average" else 1.0
        row = {**r, **base, **(m or {})}
        row["yen_per_capita"] = (r["amount_thousand_yen"] * 1000 * mult / m["population_persons"]
                                 if m is not None else math.nan)
        row["included"] = m is not None
        row["population_within_limit"] = bool(
            m is not None and not pd.isna(m["population_gap_years"])
            and abs(m["population_gap_years"]) <= GAP_LIMIT_YEARS)
        row["exclusion_reason"] = reason
        quals = [q for q in (r["budget_quality"], row["population_quality"]) if q]
        row["worst_quality"] = max(quals, key=lambda q: QUALITY_ORDER.get(q, 9)) if quals else ""
        row["non_official"] = row["worst_quality"] != "O"
        out.append(row)
    table = pd.DataFrame(out)
    table["wards_covered"] = table["wards_covered"].astype("Int64")
    # for a table of broad allocations (above 10^6 千円), the amount in 億円 (1億円 = 100,000千円)
    table["amount_oku_yen"] = table["amount_thousand_yen"] / 1e5
    est, seen = [], set()

    def add(prefix: str, r: Any, value: float, unit: str) -> None:
        key = f"{prefix}.{_slug(r.city_en)}.{_key_part(r)}.fy{r.fiscal_year}"
        base_key, n = key, 2
        while key in seen:
            key, n = f"{base_key}.{n}", n + 1
        seen.add(key)
        est.append(Estimate(key, value, unit=unit))

    a = table[table["comparability_class"] == "a"]
    for r in a[a["included"]].itertuples(index=False):
        add("budget.yen_per_capita", r, r.yen_per_capita, "yen per resident")
    for r in a[a["amount_per_ward_thousand_yen"].notna()].itertuples(index=False):
        add("budget.per_ward_thousand_yen", r, r.amount_per_ward_thousand_yen,
            "thousand yen per ward" + (" (equal split assumed)" if r.per_ward_is_equal_split else ""))
    others = a[a["city_ja"] != KUMAMOTO]
    ward_vals = others["amount_per_ward_thousand_yen"].dropna()
    near = others[others["included"] & others["population_within_limit"]]
    if ward_vals.empty:
        raise MissingDataError("ward_budgets: no class-(a) row of another city with a per-ward amount")
    est += [
        Estimate("budget.class_a.others_per_ward_thousand_yen_min", ward_vals.min(), unit="thousand yen per ward"),
        Estimate("budget.class_a.others_per_ward_thousand_yen_max", ward_vals.max(), unit="thousand yen per ward"),
    ]
    if len(near):
        est += [
            Estimate("budget.class_a.others_yen_per_capita_min", near["yen_per_capita"].min(), unit="yen per resident"),
            Estimate("budget.class_a.others_yen_per_capita_max", near["yen_per_capita"].max(), unit="yen per resident"),
        ]
    k = table[table["source"] == "kumamoto_review_2024"].iloc[0]
    # a ranking only among official rows of class (a): per ward needs no population
    official = a[(a["budget_quality"] == "O") & a["amount_per_ward_thousand_yen"].notna()
                 & (a["source"] != "kumamoto_review_2024")]
    official = official[official["city_ja"] != KUMAMOTO]
    facts = {
        "ward_low": ward_vals.min(), "ward_high": ward_vals.max(), "ward_n": len(ward_vals),
        "yen_low": near["yen_per_capita"].min() if len(near) else math.nan,
        "yen_high": near["yen_per_capita"].max() if len(near) else math.nan, "yen_n": len(near),
        "yen_beyond": int((others["included"] & ~others["population_within_limit"]).sum()),
        "yen_marks": sorted(set(near["worst_quality"]) - {"O"}) or ["O"],
        "rank_n": len(official),
        "rank_above": int((official["amount_per_ward_thousand_yen"] > k["amount_per_ward_thousand_yen"]).sum()),
        "rank_below": int((official["amount_per_ward_thousand_yen"] < k["amount_per_ward_thousand_yen"]).sum()),
        "rank_years": sorted(set(official["fiscal_year"])),
        # for the answer: where Kumamoto stands among the comparable figures per resident
        "kumamoto_yen": k["yen_per_capita"], "kumamoto_year": int(k["fiscal_year"]),
        "yen_below": int((near["yen_per_capita"] < k["yen_per_capita"]).sum()),
        "yen_all_unofficial": bool(len(near)) and bool((near["worst_quality"] != "O").all()),
    }
    if len(near):
        top = near["city_en"].value_counts()
        facts.update(yen_top_n=int(top.iloc[0]), yen_top_city_en=str(top.index[0]),
                     yen_top_city_ja=str(near.loc[near["city_en"] == top.index[0], "city_ja"].iloc[0]))
    inc = a[a["included"]]
    gaps = inc["population_gap_years"].abs()
    worst = inc.loc[gaps.idxmax()] if gaps.notna().any() else None
    caveat_keys: list[tuple[bool, str, dict[str, Any]]] = [
        (True, "budgets.caveat.definitions", {}),
        (True, "budgets.caveat.classes", {"n_other": int((table["comparability_class"] != "a").sum())}),
        (bool(inc["non_official"].any()), "budgets.caveat.non_official", {}),
        (worst is not None, "budgets.caveat.population_dates",
         {"limit": fmt(GAP_LIMIT_YEARS, 1),
          "gap": fmt(abs(worst["population_gap_years"]), 2) if worst is not None else "",
          "row_ja": _row_name(worst, "ja") if worst is not None else "",
          "row_en": _row_name(worst, "en") if worst is not None else ""}),
        (True, "budgets.caveat.equal_split", {}),
        (bool(a["is_approximate"].any()), "budgets.caveat.approximate", {}),
        (True, "budgets.caveat.hamamatsu_review", {}),
    ]
    caveats, caveats_ja = _caveats(caveat_keys)
    return CrossCityResult(
        title_key="title_cross_city",
        estimates=tuple(est),
        method=message("budgets.method.cross_city", "en", limit=fmt(GAP_LIMIT_YEARS, 1)),
        method_ja=message("budgets.method.cross_city", "ja", limit=fmt(GAP_LIMIT_YEARS, 1)),
        n_obs=int(a["included"].sum()), caveats=caveats, caveats_ja=caveats_ja, data=table,
        facts=facts,
    )


def _caveats(parts: list[tuple[bool, str, dict[str, Any]]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Caveats from the message catalogue: ``[(condition, key, facts), …]`` → ``(en, ja)``.
    A fact ending in ``_ja``/``_en`` is passed as the plain name in its language."""
    def facts_for(facts: dict[str, Any], lang: str) -> dict[str, Any]:
        out = {k: v for k, v in facts.items() if not k.endswith(("_ja", "_en"))}
        out.update({k[:-3]: v for k, v in facts.items() if k.endswith(f"_{lang}")})
        return out
    return join_caveats([(cond, message(key, "en", **facts_for(f, "en")),
                          message(key, "ja", **facts_for(f, "ja"))) for cond, key, f in parts])


# =============================================================================================
# Budget per ward against the ward's population (class a, ward-level rows)
# =============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class WardSizeResult(Result):
    sources = ("ward_budgets", "machizukuri_budget", "population")
    SUMMARY_KEYS = ()
    kumamoto: pd.DataFrame | None = None

    def _text(self, lang: str) -> str:
        parts = []
        if "budget.size.yokohama.budget_ratio_max_min" in self.keys:
            d = self.data[self.data["city_ja"] == "横浜市"]
            parts.append(message("budgets.size.yokohama", lang, n=len(d),
                                 pop_ratio=fmt(self.estimate("budget.size.yokohama.population_ratio_max_min").value, 2),
                                 budget_ratio=fmt(self.estimate("budget.size.yokohama.budget_ratio_max_min").value, 2)))
        kum = self.kumamoto
        if kum is not None and len(kum):
            latest = kum[~kum["set_names_inferred"]]
            parts.append(message("budgets.size.kumamoto", lang,
                                 per_ward=_k(kum["amount_per_ward_thousand_yen"].iloc[0]),
                                 year=int(kum["fiscal_year"].iloc[0]),
                                 low=fmt(self.estimate("budget.size.kumamoto.yen_per_capita_min").value),
                                 high=fmt(self.estimate("budget.size.kumamoto.yen_per_capita_max").value),
                                 date=population_date_text(latest["population_as_of"].iloc[0], "day", lang)))
        return ("" if lang == "ja" else " ").join(parts)

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        cities = list(dict.fromkeys(d["city_ja"]))
        palette = [plotting.COLORS["observed"], plotting.COLORS["counterfactual"], plotting.COLORS["level3"]]
        for c, color in zip(cities, palette * 3, strict=False):
            s = d[d["city_ja"] == c]
            name = s["city_ja"].iloc[0] if lang == "ja" else s["city_en"].iloc[0]
            for i, r in enumerate(s.sort_values("population_persons").itertuples(index=False)):
                ax.plot(r.population_persons, r.amount_per_ward_thousand_yen,
                        marker=plotting.QUALITY_MARKERS.get(r.worst_quality, "o"), color=color,
                        linestyle="none", markersize=8)
                ax.annotate(f"{r.area_ja if lang == 'ja' else (r.area_en or r.area_ja)} [{r.worst_quality}]",
                            (r.population_persons, r.amount_per_ward_thousand_yen),
                            xytext=(0, 8 if i % 2 == 0 else -14), ha="center",
                            textcoords="offset points", fontsize=7.5)
            ax.plot([], [], marker="o", color=color, linestyle="none", label=name)
        kum = self.kumamoto if self.kumamoto is not None else pd.DataFrame()
        for inferred, group in kum.groupby("set_names_inferred", sort=True):
            date = population_date_text(group["population_as_of"].iloc[0],
                                        group["population_date_precision"].iloc[0], lang)
            key = "budgets.size.legend_kumamoto_inferred" if inferred else "budgets.size.legend_kumamoto"
            ax.plot(group["population_persons"], group["amount_per_ward_thousand_yen"], linestyle="none",
                    marker="o", markersize=9, color=plotting.COLORS["covid"],
                    markerfacecolor="white" if inferred else plotting.COLORS["covid"],
                    markeredgewidth=1.8, label=message(key, lang, date=date))
        shown = kum[~kum["set_names_inferred"]].sort_values("population_persons") if len(kum) else kum
        for i, r in enumerate(shown.itertuples(index=False)):  # alternate below/above: close wards
            ax.annotate(r.area_ja if lang == "ja" else r.area_en, (r.population_persons, r.amount_per_ward_thousand_yen),
                        xytext=(0, -14 if i % 2 == 0 else 9), textcoords="offset points", ha="center",
                        fontsize=7.5)
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
                      kumamoto_fiscal_year: int | None = None,
                      data_dir: str | Path | None = None) -> WardSizeResult:
    """Budget per ward against the ward's population, class (a), ward-level rows.

    For each ward with a class-(a) budget row and a population of its own within two years of
    the budget year (:data:`GAP_LIMIT_YEARS`), the row nearest in time (ties: the better quality
    mark). Kumamoto's wards are set beside them under an assumption the document does not make:
    the five-ward total of ``kumamoto_fiscal_year`` (default: the latest) split equally, against
    each ward's population in every complete same-date ward set of the population data (the
    2022-12-01 set and the 2021 set whose ward names are partly inferred, flagged as such).

    Keys: ``budget.size.yokohama.budget_ratio_max_min`` and ``…population_ratio_max_min``
    (largest ÷ smallest across Yokohama's wards shown; when at least two are shown),
    ``budget.size.kumamoto.yen_per_capita_min``/``_max`` (the equal split over the 2022-12-01
    ward populations, or the latest complete set without inferred names). Exact: no interval.
    """
    rows, pop, mb, kfy = _budget_rows(ward_budgets, population, machizukuri_budget, hamamatsu_budget,
                                      kumamoto_fiscal_year, data_dir)
    cand = []
    for r in rows:
        if r["comparability_class"] != "a" or r["scope"] != "ward" or pd.isna(r["amount_thousand_yen"]):
            continue
        m = match_population(pop, r["city_ja"], r["area_ja"], r["fiscal_year"])
        if m is None or pd.isna(m["population_gap_years"]) or abs(m["population_gap_years"]) > GAP_LIMIT_YEARS:
            continue
        worst = max((r["budget_quality"], m["population_quality"]), key=lambda q: QUALITY_ORDER.get(q, 9))
        cand.append({**r, **m, "worst_quality": worst,
                     "_gap": abs(m["population_gap_years"]), "_q": QUALITY_ORDER.get(r["budget_quality"], 9),
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
    est = []
    yok = table[table["city_ja"] == "横浜市"] if len(table) else table
    if len(yok) >= 2:
        est += [
            Estimate("budget.size.yokohama.budget_ratio_max_min",
                     yok["amount_thousand_yen"].max() / yok["amount_thousand_yen"].min(),
                     unit="ratio (largest ÷ smallest ward budget)"),
            Estimate("budget.size.yokohama.population_ratio_max_min",
                     yok["population_persons"].max() / yok["population_persons"].min(),
                     unit="ratio (largest ÷ smallest ward population)"),
        ]
    default = kum[~kum["set_names_inferred"]] if len(kum) else kum
    if len(default):
        default = default[default["as_of_date"] == default["as_of_date"].max()]
        est += [
            Estimate("budget.size.kumamoto.yen_per_capita_min", default["yen_per_capita"].min(),
                     unit="yen per resident (equal split assumed)"),
            Estimate("budget.size.kumamoto.yen_per_capita_max", default["yen_per_capita"].max(),
                     unit="yen per resident (equal split assumed)"),
        ]
    if table.empty and kum.empty:
        raise MissingDataError("ward_budgets/population: no class-(a) ward budget with a ward population "
                               "within two years, and no complete Kumamoto ward set")
    caveats, caveats_ja = _caveats([
        (True, "budgets.caveat.equal_split", {}),
        (bool(len(kum) and kum["set_names_inferred"].any()), "budgets.caveat.inferred_names", {}),
        (True, "budgets.caveat.size_dates", {"limit": fmt(GAP_LIMIT_YEARS, 1)}),
        (bool(len(table) and (table["worst_quality"] != "O").any()), "budgets.caveat.non_official", {}),
    ])
    kum_cols = ["area_ja", "area_en", "population_persons", "population_as_of", "population_date_precision",
                "quality", "set_names_inferred", "fiscal_year", "amount_per_ward_thousand_yen", "yen_per_capita"]
    return WardSizeResult(
        title_key="title_ward_size",
        estimates=tuple(est),
        method=message("budgets.method.size", "en", limit=fmt(GAP_LIMIT_YEARS, 1)),
        method_ja=message("budgets.method.size", "ja", limit=fmt(GAP_LIMIT_YEARS, 1)),
        n_obs=len(table), caveats=caveats, caveats_ja=caveats_ja, data=table,
        kumamoto=kum[[c for c in kum_cols if c in kum.columns]].reset_index(drop=True) if len(kum) else kum,
    )


# =============================================================================================
# Over time: class-(a) series per ward, never joined across a declared break
# =============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class OverTimeResult(Result):
    sources = ("ward_budgets", "machizukuri_budget", "population")
    SUMMARY_KEYS = ()

    def _text(self, lang: str) -> str:
        parts = []
        for _, g in self.data.groupby(["series", "segment"], sort=False):
            if len(g) < 2:
                continue
            r0, r1 = g.iloc[0], g.iloc[-1]
            name = (f"{r0['city_ja']} {r0['area_ja']}" if lang == "ja"
                    else f"{r0['city_en']} {r0['area_en'] or r0['area_ja']}")
            parts.append(message("budgets.over_time.segment", lang, name=name,
                                 first=int(r0["fiscal_year"]), last=int(r1["fiscal_year"]),
                                 v0=_k(r0["amount_per_ward_thousand_yen"]), v1=_k(r1["amount_per_ward_thousand_yen"]),
                                 ratio=fmt(r1["amount_per_ward_thousand_yen"] / r0["amount_per_ward_thousand_yen"], 3)))
        joiner = message("budgets.list_joiner", lang)
        text = message("budgets.over_time.lead", lang, series=joiner.join(parts))
        breaks = self.data[self.data["series_break_before"]]
        for r in breaks.itertuples(index=False):
            text += ("" if lang == "ja" else " ") + message(
                "budgets.over_time.break", lang, name=(f"{r.city_ja} {r.area_ja}" if lang == "ja"
                                                      else f"{r.city_en} {r.area_en or r.area_ja}"),
                year=int(r.fiscal_year))
        return text

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        d = self.data
        palette = [plotting.COLORS[c] for c in ("covid", "observed", "counterfactual", "level2", "level3", "neutral")]
        for (_, g), color in zip(d.groupby("series", sort=False), palette * 3, strict=False):
            r = g.iloc[0]
            name = f"{r['city_ja']} {r['area_ja']}" if lang == "ja" else f"{r['city_en']} {r['area_en'] or r['area_ja']}"
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
    years: 鶴見区, Fukuoka (the 7-ward total ÷ 7, assumed equal), Nagoya (the same for each ward),
    青葉区. A row with ``series_break_before`` starts a new segment: a segment is never joined to
    the one before it, and ratios are computed within a segment only. Nominal yen: no deflator.

    Keys: ``budget.series.<city>.<area>.fy<first>_fy<last>.ratio`` — the last per-ward amount of a
    segment ÷ its first, for every segment with two or more years. Exact: no interval.
    """
    rows, pop, mb, _ = _budget_rows(ward_budgets, population, machizukuri_budget, hamamatsu_budget,
                                    None, data_dir)
    kum = []
    for r in mb.itertuples(index=False):
        m = match_population(pop, KUMAMOTO, WHOLE_CITY, int(r.fiscal_year))
        kum.append({"source": "kumamoto_review_2024", "city_ja": KUMAMOTO, "city_en": "Kumamoto",
                    "area_ja": "全区合計", "area_en": "all wards", "programme_ja": "まちづくり推進経費",
                    "programme_en": "ward community-development budget",
                    "fiscal_year": int(r.fiscal_year), "amount_thousand_yen": float(r.budget_thousand_yen),
                    "scope": "all_wards", "wards_covered": int(r.wards), "budget_quality": "O",
                    "comparability_class": r.comparability_class, "comparability": f"class_{r.comparability_class}",
                    "series_break_before": False,
                    "amount_per_ward_thousand_yen": r.budget_thousand_yen / r.wards, "per_ward_is_equal_split": True,
                    "yen_per_capita": (r.budget_thousand_yen * 1000 / m["population_persons"]) if m else math.nan,
                    "population_quality": m["population_quality"] if m else ""})
    others = [r for r in rows if r["source"] == "ward_budgets" and r["comparability_class"] == "a"
              and r["city_ja"] != KUMAMOTO and not pd.isna(r["amount_per_ward_thousand_yen"])]
    frame = pd.DataFrame(kum + [{**r, "yen_per_capita": math.nan, "population_quality": ""} for r in others])
    frame = frame[frame["comparability_class"] == "a"]
    frame["series"] = frame["city_ja"] + " " + frame["area_ja"]
    counts = frame.groupby("series")["fiscal_year"].transform("nunique")
    frame = frame[counts >= 2].sort_values(["series", "fiscal_year"], kind="stable")
    order = ["熊本市 全区合計"] + [s for s in dict.fromkeys(frame["series"]) if s != "熊本市 全区合計"]
    frame["series"] = pd.Categorical(frame["series"], categories=order, ordered=True)
    frame = frame.sort_values(["series", "fiscal_year"], kind="stable").reset_index(drop=True)
    frame["series_break_before"] = frame["series_break_before"].astype(bool)
    # segments numbered from 1 within each series: a declared break starts the next one
    frame["segment"] = frame.groupby("series", observed=True)["series_break_before"].cumsum().astype(int) + 1
    frame["series"] = frame["series"].astype(str)
    if frame.empty:
        raise MissingDataError("no class-(a) budget series with two or more fiscal years")
    est = []
    for (_, _), g in frame.groupby(["series", "segment"], sort=False):
        if len(g) < 2:
            continue
        r0, r1 = g.iloc[0], g.iloc[-1]
        part = "all_wards" if r0["scope"] == "all_wards" else (
            "per_ward_average" if r0["scope"] == "per_ward_average" else _slug(r0["area_en"] or r0["area_ja"]))
        est.append(Estimate(f"budget.series.{_slug(r0['city_en'])}.{part}.fy{r0['fiscal_year']}_fy{r1['fiscal_year']}.ratio",
                            r1["amount_per_ward_thousand_yen"] / r0["amount_per_ward_thousand_yen"],
                            unit="ratio (last ÷ first per-ward amount)"))
    caveats, caveats_ja = _caveats([
        (bool((frame["series_break_before"] & (frame["area_ja"] == "鶴見区")).any()),
         "budgets.caveat.series_break", {}),
        (True, "budgets.caveat.nominal", {}),
        (True, "budgets.caveat.equal_split", {}),
        (bool((frame["budget_quality"] != "O").any()), "budgets.caveat.non_official", {}),
    ])
    return OverTimeResult(
        title_key="title_budgets_over_time",
        estimates=tuple(est),
        method=message("budgets.method.over_time", "en"),
        method_ja=message("budgets.method.over_time", "ja"),
        n_obs=len(frame), caveats=caveats, caveats_ja=caveats_ja, data=frame,
    )


# =============================================================================================
# Adoption: Kumamoto's decided-to-act share vs Hamamatsu's budgeted share
# =============================================================================================


@dataclass(frozen=True, eq=False, repr=False)
class AdoptionResult(Result):
    sources = ("needs_reflection", "hamamatsu_priority_proposals")
    SUMMARY_KEYS = ("adoption.difference",)
    counts: dict[str, int] | None = None

    def _text(self, lang: str) -> str:
        k, h = self.estimate("adoption.kumamoto_share"), self.estimate("adoption.hamamatsu_share")
        d = self.estimate("adoption.difference")
        c = self.counts
        return message("budgets.adoption.text", lang, k_s=c["k_s"], k_n=c["k_n"], h_s=c["h_s"],
                       h_n=c["h_n"], k_share=fmt_pct(k.value),
                       k_ci=fmt_ci(k.ci_low, k.ci_high, lang, pct=True),
                       h_share=fmt_pct(h.value), h_ci=fmt_ci(h.ci_low, h.ci_high, lang, pct=True),
                       diff=fmt(100 * d.value, 3),
                       diff_ci=fmt_ci(100 * d.ci_low, 100 * d.ci_high, lang, sig=3))

    def _plot(self, ax: Any, lang: str) -> None:
        from matplotlib.ticker import PercentFormatter

        from .. import plotting

        names = ["adoption_kumamoto", "adoption_hamamatsu"]
        keys = ["adoption.kumamoto_share", "adoption.hamamatsu_share"]
        c = self.counts
        counts = [(c["k_s"], c["k_n"]), (c["h_s"], c["h_n"])]
        for i, (key, color) in enumerate(zip(keys, (plotting.COLORS["pre"], plotting.COLORS["covid"]),
                                             strict=True)):
            e = self.estimate(key)
            ax.errorbar(e.value, i, xerr=[[e.value - e.ci_low], [e.ci_high - e.value]], fmt="o",
                        color=color, capsize=5, markersize=9, elinewidth=2)
            ax.annotate(f"{counts[i][0]}/{counts[i][1]} = {fmt_pct(e.value)}", (e.value, i),
                        xytext=(0, 12), textcoords="offset points", ha="center", fontsize=9)
        ax.set_yticks([0, 1])
        ax.set_yticklabels([label(n, lang) for n in names], fontsize=9)
        ax.set_ylim(1.6, -0.6)  # Kumamoto on top
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_xlabel(label("share_wilson_ci", lang))
        ax.grid(axis="y", visible=False)
        ax.set_title(self.title(lang))
        plotting.add_note(ax, label("note_mechanisms_differ", lang))


def adoption(needs_reflection: pd.DataFrame | None = None,
             hamamatsu_priority_proposals: pd.DataFrame | None = None, *,
             hamamatsu_fiscal_year: int | None = None,
             data_dir: str | Path | None = None) -> AdoptionResult:
    """Kumamoto's decided-to-act share of priority issues against Hamamatsu's budgeted share of
    ward priority proposals.

    Kumamoto's share pools every fiscal year in ``needs_reflection`` (104/147 for FY2017–FY2023);
    Hamamatsu's is the ``category == 'total'`` row of ``hamamatsu_fiscal_year`` (by default the
    latest; 40/60 in FY2023).

    Raises
    ------
    MissingColumnError, InvalidCountError, MissingDataError (no Hamamatsu total row),
    ZeroDenominatorError (no Kumamoto priority issue, or no Hamamatsu proposal count).

    Keys: ``adoption.kumamoto_share`` (intercept-only quasi-binomial GLM over its years),
    ``adoption.hamamatsu_share`` (Wilson), ``adoption.difference`` (Kumamoto minus Hamamatsu;
    the MOVER interval from those two intervals, so that the shares and their difference use one
    interval method) and ``adoption.difference_p_value`` (Fisher's exact, binomial-only).

    The years cannot be matched: the source gives Hamamatsu's figures for one fiscal year only,
    and Kumamoto's priority issues of that year alone are too few to compare (the page says so,
    with that year's counts).
    """
    arg = "needs_reflection"
    k = _input.frame(needs_reflection, "needs_reflection",
                     ("fiscal_year", "priority_issues", "decided_to_act"), data_dir, arg)
    k = _input.fiscal_years(k, arg)
    k = _input.counts(k, ["priority_issues", "decided_to_act"], arg)
    _input.not_above(k, "decided_to_act", "priority_issues", arg)
    harg = "hamamatsu_priority_proposals"
    h = _input.frame(hamamatsu_priority_proposals, harg,
                     ("fiscal_year", "category", "proposals", "budgeted"), data_dir)
    h = _input.fiscal_years(h, harg, unique=False)
    tot = h[h["category"] == "total"]
    if tot.empty:
        raise MissingDataError(f"{harg}: no row with category 'total'")
    hfy = int(tot["fiscal_year"].max()) if hamamatsu_fiscal_year is None else int(hamamatsu_fiscal_year)
    tot = tot[tot["fiscal_year"] == hfy]
    if tot.empty:
        raise MissingDataError(f"{harg}: no 'total' row for FY{hfy}")
    hs, hn = tot.iloc[0]["budgeted"], tot.iloc[0]["proposals"]
    if pd.isna(hn) or int(hn) == 0:
        raise ZeroDenominatorError("Hamamatsu's budgeted share", "proposals", f"FY{hfy} total row")
    hs, hn = int(hs), int(hn)
    if hs < 0 or hs > hn:
        raise _input.InvalidCountError(f"{harg}: budgeted ({hs}) must be between 0 and proposals ({hn})")
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
    k_label = ("Wilson" if pooled.quantiles == "Wilson" else
               stats.interval_label("binomial", pooled.dispersion, pooled.quantiles)
               + " (intercept only)")
    fx = stats.fisher_exact_2x2(ks, kn, hs, hn)
    years = k["fiscal_year"].tolist()
    same = k[k["fiscal_year"] == hfy]
    same_s, same_n = int(same["decided_to_act"].sum()), int(same["priority_issues"].sum())
    table = pd.DataFrame([
        {"city_ja": KUMAMOTO, "city_en": "Kumamoto", "mechanism": "needs_reflection",
         "fiscal_years": f"{min(years)}–{max(years)}" if years else "", "adopted": ks,
         "candidates": kn, "share": ks / kn, "ci_low": float(klo), "ci_high": float(khi)},
        {"city_ja": HAMAMATSU, "city_en": "Hamamatsu", "mechanism": "ward_priority_proposals",
         "fiscal_years": str(hfy), "adopted": hs, "candidates": hn, "share": hs / hn,
         "ci_low": float(hlo), "ci_high": float(hhi)},
    ])
    table.attrs["fisher"] = {"odds_ratio": fx.odds_ratio, "ci_low": fx.ci_low,
                             "ci_high": fx.ci_high, "p_value": fx.p_value}
    caveats, caveats_ja = join_caveats([
        (True, message("budgets.adoption.caveat_mechanisms", "en"),
         message("budgets.adoption.caveat_mechanisms", "ja")),
        (True, *(message("budgets.adoption.caveat_periods", lang, n_years=len(years),
                         first=min(years), last=max(years), hfy=hfy, same_s=same_s,
                         same_n=same_n, dispersion=fmt(pooled.dispersion))
                 for lang in ("en", "ja"))),
        (True,
         "Hamamatsu's 60 → 40 comes from the Kumamoto review; no independent copy was found.",
         "浜松市の提案60件→予算化40件は熊本市の資料によるもので、独立した出典は見つかっていない。"),
        (True,
         f"Fisher's exact test ({fmt_p(fx.p_value)}) treats issues and proposals as independent "
         "trials: it is shown as a line valid only if the counts were binomial.",
         f"フィッシャーの正確検定（{fmt_p(fx.p_value, 'ja')}）は各課題・提案を独立した試行とみなしており、"
         "件数が二項分布に従う場合に限り有効な参考である。"),
    ])
    return AdoptionResult(
        title_key="title_adoption",
        estimates=(
            Estimate("adoption.kumamoto_share", ks / kn, float(klo), float(khi),
                     unit="share of priority issues", interval=k_label),
            Estimate("adoption.hamamatsu_share", hs / hn, float(hlo), float(hhi),
                     unit="share of proposals", interval="Wilson (one year)"),
            Estimate("adoption.difference", diff, dlo, dhi, unit="difference in shares",
                     interval=f"MOVER from the two shares' intervals (Kumamoto: {k_label}; "
                              "Hamamatsu: Wilson)"),
            Estimate("adoption.difference_p_value", fx.p_value, flags=(POISSON_ONLY,),
                     unit="p-value (Fisher exact, two-sided; valid only if binomial)"),
        ),
        method=message("budgets.adoption.method", "en"),
        method_ja=message("budgets.adoption.method", "ja"),
        n_obs=2, caveats=caveats, caveats_ja=caveats_ja, data=table,
        counts={"k_s": ks, "k_n": kn, "h_s": hs, "h_n": hn},
    )


# =============================================================================================
# Yen per funded priority issue
# =============================================================================================


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
    SUMMARY_KEYS = ()
    examples: pd.DataFrame | None = None

    def _text(self, lang: str) -> str:
        r = self.data.iloc[0]
        scale = 1e4 if lang == "ja" else 1e6  # 万円 in Japanese, million yen in English
        amount = (r["amount_as_printed"] if lang == "ja"
                  else f"about {fmt(r['funded_amount_yen'] / 1e9, 2)} billion yen")
        return message("budgets.cost.text", lang, n=int(r["priority_issues_funded"]), amount=amount,
                       per_issue=fmt(r["yen_per_issue"] / scale, 3), low=fmt(r["range_low"] / scale, 3),
                       high=fmt(r["range_high"] / scale, 3))

    def _plot(self, ax: Any, lang: str) -> None:
        from .. import plotting

        r = self.data.iloc[0]
        ex = self.examples if self.examples is not None else pd.DataFrame()
        scale = 1e4 if lang == "ja" else 1e6  # 万円 in Japanese, million yen in English
        names = [label("per_funded_issue", lang)]
        values = [r["yen_per_issue"] / scale]
        colors = [plotting.COLORS["level1"]]
        for e in ex.to_dict("records"):
            if lang == "ja":
                names.append(f"{e['project_ja']}（{e['bureau_ja']}）")
            else:  # English names where the data has them
                names.append(f"{e.get('project_en') or e['project_ja']} ({e.get('bureau_en') or e['bureau_ja']})")
            values.append(e["amount_thousand_yen"] * 1e3 / scale)
            colors.append(plotting.COLORS["neutral"])
        y = np.arange(len(values))[::-1]
        ax.barh(y, values, color=colors, height=0.6, alpha=0.85)
        if r["is_amount_approximate"]:
            v = values[0]
            ax.errorbar([v], [y[0]], xerr=[[v - r["range_low"] / scale], [r["range_high"] / scale - v]],
                        fmt="none", ecolor="black", capsize=6, lw=1.5)
        for yi, v in zip(y, values, strict=True):
            ax.annotate(fmt(v, 3), (v, yi), xytext=(8, 0), textcoords="offset points",
                        va="center", fontsize=9)
        ax.set_yticks(y)
        ax.set_yticklabels(names, fontsize=9)
        ax.set_xlabel(label("ten_thousand_yen" if lang == "ja" else "million_yen", lang))
        ax.set_xlim(0, max(values) * 1.2)
        ax.grid(axis="y", visible=False)
        ax.set_title(self.title(lang))
        plotting.add_note(ax, label("note_rounding_range", lang)
                          + (" " if lang == "en" else "") + (label("note_examples", lang) if len(ex) else ""))


def cost_per_funded_issue(needs_reflection_outcome: pd.DataFrame | None = None,
                          funded_projects: pd.DataFrame | None = None, *,
                          data_dir: str | Path | None = None) -> CostPerIssueResult:
    """Yen per funded priority issue: ``funded_amount_yen / priority_issues_funded``.

    When the amount is approximate (約13億円), the range of per-issue values consistent with the
    rounding of the printed amount is given in the table (``range_low``, ``range_high``); it is a
    rounding range, not a confidence interval, so the record has no interval. The example
    projects printed in the review (``funded_projects``: ``project_ja``, ``bureau_ja``,
    ``amount_thousand_yen``) are shown beside the average.

    Raises
    ------
    MissingColumnError, MissingDataError (no row), ZeroDenominatorError (no funded issue).

    Key: ``budget.yen_per_funded_issue``.
    """
    arg = "needs_reflection_outcome"
    df = _input.frame(needs_reflection_outcome, arg,
                      ("priority_issues_funded", "funded_amount_yen", "is_amount_approximate"),
                      data_dir)
    ex = _input.frame(funded_projects, "funded_projects",
                      ("project_ja", "bureau_ja", "amount_thousand_yen"), data_dir)
    if df.empty:
        raise MissingDataError(f"{arg}: no row")
    r = df.iloc[-1]
    n = int(r["priority_issues_funded"])
    if n == 0:
        raise ZeroDenominatorError("yen per funded issue", "priority_issues_funded", "the outcome row")
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
    amounts = pd.to_numeric(ex["amount_thousand_yen"], errors="coerce").dropna()
    caveats, caveats_ja = join_caveats([
        (approx, message("budgets.cost.caveat_approximate", "en",
                         printed=f"about {fmt(amount / 1e9, 2)} billion yen",
                         low=fmt(lo / 1e9, 3), high=fmt(hi / 1e9, 3),
                         per_low=fmt(lo / n / 1e6, 3), per_high=fmt(hi / n / 1e6, 3)),
         message("budgets.cost.caveat_approximate", "ja", printed=printed,
                 low=fmt(lo / 1e8, 3), high=fmt(hi / 1e8, 3),
                 per_low=fmt(lo / n / 1e4, 3), per_high=fmt(hi / n / 1e4, 3))),
        (True, message("budgets.cost.caveat_schemes", "en"), message("budgets.cost.caveat_schemes", "ja")),
        (len(amounts) > 1,
         f"The {len(amounts)} example projects printed in the document range from "
         f"{amounts.min():,.0f} to {amounts.max():,.0f} thousand yen: amounts per issue are uneven.",
         f"文書に例示された{len(amounts)}事業は{amounts.min():,.0f}千円から{amounts.max():,.0f}千円まで幅があり、"
         "1件あたりの額は大きくばらつく。"),
    ])
    return CostPerIssueResult(
        title_key="title_cost_per_issue",
        estimates=(Estimate("budget.yen_per_funded_issue", amount / n, unit="yen per issue"),),
        method="Funded amount ÷ number of funded priority issues; rounding range from the printed precision.",
        method_ja="予算化・制度化の金額÷区重要課題の件数。概数の表示桁から丸めの範囲を計算。",
        n_obs=1, caveats=caveats, caveats_ja=caveats_ja, data=table, examples=ex,
    )
