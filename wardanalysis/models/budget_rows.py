"""The budget rows of every city and the populations they are divided by, shared by the budget
models: which population a budget is divided by (the figure nearest to the middle of its fiscal
year, the better source-quality mark on a tie), the comparability classes, the names and record
keys of rows, and caveats from the catalogue."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..eras import fiscal_year_bounds
from ..errors import MissingDataError
from ..results import Named, Said
from ..text.messages import message
from . import _input

__all__ = [
    "AREA_EN",
    "BUDGET_COLUMNS",
    "CLASSES",
    "GAP_LIMIT_YEARS",
    "HAMAMATSU",
    "KUMAMOTO",
    "POP_COLUMNS",
    "QUALITY_ORDER",
    "WARD_BUDGET_COLUMNS",
    "WHOLE_CITY",
    "Marks",
    "PopulationDate",
    "budget_rows",
    "catalogue_caveats",
    "class_of",
    "fmt_thousand",
    "key_part",
    "match_population",
    "mid_year",
    "population_area",
    "population_date_text",
    "population_flags",
    "populations",
    "quality_word",
    "register_estimate_gap",
    "review_rows",
    "row_name",
    "row_named",
    "slug",
]

QUALITY_ORDER = {"O": 0, "N": 1, "W": 2, "B": 3, "C": 4}
WHOLE_CITY = "市全体"
KUMAMOTO = "熊本市"
HAMAMATSU = "浜松市"
POP_COLUMNS = ("city_ja", "area_ja", "population_persons", "as_of_date", "basis", "quality")
BUDGET_COLUMNS = ("fiscal_year", "budget_thousand_yen", "reconstruction_thousand_yen", "wards")
WARD_BUDGET_COLUMNS = ("city_ja", "city_en", "area_ja", "programme_ja", "fiscal_year",
                        "amount_thousand_yen", "is_approximate", "scope", "wards_covered",
                        "is_discretionary_total", "quality", "comparability_class")


def mid_year(fy: int) -> pd.Timestamp:
    return pd.Timestamp(fy, 10, 1)


def populations(population: pd.DataFrame | None, data_dir) -> pd.DataFrame:
    pop = _input.frame(population, "population", POP_COLUMNS, data_dir)
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
                     fiscal_year: int, *, include_inferred: bool = False,
                     no_later_than_year_end: bool = False) -> dict[str, Any] | None:
    """The population figure for ``city_ja``/``area_ja`` nearest to the middle of
    ``fiscal_year`` (see the module docstring), as a dict, or None when there is none. With
    ``no_later_than_year_end`` (a report of one fiscal year, which must not look ahead): the
    latest figure dated no later than the end of the fiscal year, and only where there is none
    the nearest later one (``population_looks_ahead`` says so).

    Rows of a set whose ward names are partly inferred (``set_names_inferred``) are never picked
    unless ``include_inferred``: they must not silently replace a set whose names are printed."""
    rows = population[(population["city_ja"] == city_ja) & (population["area_ja"] == area_ja)]
    if not include_inferred and "set_names_inferred" in rows.columns:
        rows = rows[~rows["set_names_inferred"].fillna(False).astype(bool)]
    if rows.empty:
        return None
    start, end = fiscal_year_bounds(fiscal_year)
    rows = rows.assign(
        _gap=(rows["as_of_date"] - mid_year(fiscal_year)).abs().dt.days,
        _q=rows["quality"].map(QUALITY_ORDER).fillna(9),
        _undated=rows["as_of_date"].isna(),
        _after=rows["as_of_date"] > pd.Timestamp(end),
        _back=(pd.Timestamp(end) - rows["as_of_date"]).dt.days.abs(),
    )
    order = (["_undated", "_after", "_back", "_gap", "_q"] if no_later_than_year_end
             else ["_undated", "_gap", "_q"])
    r = rows.sort_values(order, kind="stable").iloc[0]
    dated = not pd.isna(r["as_of_date"])
    in_year = dated and pd.Timestamp(start) <= r["as_of_date"] <= pd.Timestamp(end)
    return {
        "population_persons": float(r["population_persons"]),
        "population_as_of": r["as_of_date"] if dated else pd.NaT,
        "population_basis": r.get("basis", ""),
        "population_quality": r["quality"],
        "population_gap_years": ((r["as_of_date"] - mid_year(fiscal_year)).days / 365.25
                                 if dated else math.nan),
        "population_date_mismatch": not in_year,
        "population_source_url": r.get("source_url", ""),
        "population_date_precision": r.get("date_precision", "day") if dated else "unknown",
        "population_looks_ahead": bool(dated and r["as_of_date"] > pd.Timestamp(end)),
    }


def register_estimate_gap(population: pd.DataFrame, within_days: int = 62) -> dict[str, Any] | None:
    """The worked example of two bases: the same area's resident-register count (住民基本台帳)
    and population estimate (推計人口) dated within ``within_days`` of each other (the closest
    pair), as ``{city_ja, city_en, area_ja, area_en, register, estimate, register_date,
    estimate_date, share, quality}`` (``share``: register ÷ estimate − 1); None without one."""
    pop = population[population["as_of_date"].notna()]
    reg = pop[pop["basis"] == "resident_register"]
    est = pop[pop["basis"] == "estimate"]
    pairs = reg.merge(est, on=["city_ja", "area_ja"], suffixes=("_r", "_e"))
    if pairs.empty:
        return None
    days = (pairs["as_of_date_r"] - pairs["as_of_date_e"]).abs().dt.days
    pairs = pairs[days <= within_days].assign(_days=days)
    if pairs.empty:
        return None
    r = pairs.sort_values("_days", kind="stable").iloc[0]
    return {"city_ja": r["city_ja"], "city_en": r.get("city_en_r", ""), "area_ja": r["area_ja"],
            "area_en": r.get("area_en_r", ""), "register": float(r["population_persons_r"]),
            "estimate": float(r["population_persons_e"]), "register_date": r["as_of_date_r"],
            "estimate_date": r["as_of_date_e"],
            "share": float(r["population_persons_r"]) / float(r["population_persons_e"]) - 1,
            "quality": max((r["quality_r"], r["quality_e"]), key=lambda q: QUALITY_ORDER.get(q, 9))}


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


GAP_LIMIT_YEARS = 2.0
CLASSES = ("a", "b", "c", "d")
#: Areas that are not one ward, in English (a ward's English name comes from the population data).
AREA_EN = {"全区合計": "all wards", "1区当たり平均": "per-ward average",
            "各区（一律）": "each ward (same amount)", "市全体": "whole city",
            "各部・区合計": "departments and wards",
            # wards with no population row to take an English name from
            "保土ケ谷区": "Hodogaya Ward", "戸塚区": "Totsuka Ward", "下京区": "Shimogyo Ward",
            "右京区": "Ukyo Ward", "中区": "Naka Ward", "川崎区": "Kawasaki Ward",
            "天竜区": "Tenryu Ward", "西区": "Nishi Ward", "鶴見区": "Tsurumi Ward",
            "港北区": "Kohoku Ward", "青葉区": "Aoba Ward", "都筑区": "Tsuzuki Ward",
            "港区": "Minato Ward"}
#: Wards whose budgets are made per sub-area (地域) from a fiscal year on: a ward-level row from
#: that year pairs with its 地域's population, never the whole ward's. Hamamatsu runs the
#: 地域力向上事業 and its ward budget requests per 地域 inside 中央区 since 2024-01-01
#: (public_figures_2026-12b.md 9.4; data/corrections.yml hamamatsu_chiiki_pairing).
BUDGETS_BY_CHIIKI_FROM = {(HAMAMATSU, "中央区"): 2024}


def population_area(r: dict[str, Any]) -> tuple[str | None, str]:
    """The area whose population a budget row is divided by (the ward for a ward's row, the
    whole city otherwise), or ``(None, reason)`` where no stored population is the right one."""
    if r["scope"] != "ward":
        return WHOLE_CITY, ""
    since = BUDGETS_BY_CHIIKI_FROM.get((r["city_ja"], r["area_ja"]))
    if since is not None and int(r["fiscal_year"]) >= since:
        return None, "chiiki_population_needed"
    return r["area_ja"], ""


def population_flags(m: dict[str, Any] | None) -> tuple[str, ...]:
    """Flags of a per-resident record: the gap in years between the population's date and the
    middle of the budget's fiscal year (``population_gap_years=+0.417``), and
    ``population_beyond_limit`` when it exceeds :data:`GAP_LIMIT_YEARS` or the population is
    undated (``population_undated``), as the pages mark such rows."""
    if m is None:
        return ()
    gap = m["population_gap_years"]
    if pd.isna(gap):
        return ("population_undated", "population_beyond_limit")
    flags = (f"population_gap_years={gap:+.3f}",)
    return flags + (("population_beyond_limit",) if abs(gap) > GAP_LIMIT_YEARS else ())


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_") or "x"


def class_of(df: pd.DataFrame) -> pd.Series:
    """A dataset's comparability_class column; for the review's own budget datasets, whose
    shipped rows are all class a, a user's file may leave it out (see their descriptors)."""
    if "comparability_class" not in df.columns:
        return pd.Series("a", index=df.index)
    return df["comparability_class"].fillna("a").astype(str)


def row_name(r: Any, lang: str) -> str:
    """``横浜市 西区（2021年度）`` / ``Yokohama Nishi Ward (FY2021)``."""
    if lang == "ja":
        return f"{r.city_ja} {r.area_ja}（{r.fiscal_year}年度）"
    return f"{r.city_en} {r.area_en or r.area_ja} (FY{r.fiscal_year})"


def row_named(r: Any) -> Named:
    """:func:`row_name` in both languages, for a message."""
    return Named(row_name(r, "ja"), row_name(r, "en"))


def key_part(r: Any) -> str:
    if r.scope in ("all_wards", "per_ward_average"):
        return str(r.scope)
    return slug(r.area_en or r.area_ja)


def fmt_thousand(value: float) -> str:
    """A thousand-yen amount for a sentence, to the whole 千円 (28,571, not 28,570)."""
    return f"{round(float(value)):,}"


def quality_word(marks, lang: str) -> str:
    return message("budgets.marks_joiner", lang).join(sorted(set(marks), key=QUALITY_ORDER.get))


@dataclass(frozen=True)
class Marks:
    """Source-quality marks for a message (:func:`quality_word`)."""

    marks: tuple[str, ...]

    def __lang_format__(self, spec: str, lang: str) -> str:
        return quality_word(self.marks, lang)


@dataclass(frozen=True)
class PopulationDate:
    """A population's date for a message, as precise as its source (:func:`population_date_text`)."""

    as_of: Any
    precision: str = "day"

    def __lang_format__(self, spec: str, lang: str) -> str:
        return population_date_text(self.as_of, self.precision, lang)


def review_rows(mb: pd.DataFrame, hb: pd.DataFrame, kfy: int) -> list[dict[str, Any]]:
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


def budget_rows(ward_budgets, population, machizukuri_budget, hamamatsu_budget,
                 kumamoto_fiscal_year, data_dir):
    """Every budget row (the review's Kumamoto and Hamamatsu rows first) with its class, and
    the population table; shared by the cross-city, size and over-time analyses."""
    wb = _input.frame(ward_budgets, "ward_budgets", WARD_BUDGET_COLUMNS, data_dir, by_year=True)
    wb = wb.assign(comparability_class=class_of(wb))
    pop = populations(population, data_dir)
    mb = _input.frame(machizukuri_budget, "machizukuri_budget", BUDGET_COLUMNS, data_dir, by_year=True)
    mb = mb.assign(comparability_class=class_of(mb))
    hb = _input.frame(hamamatsu_budget, "hamamatsu_budget",
                      ("fiscal_year", "programme_ja", "budget_thousand_yen"), data_dir, by_year=True)
    hb = hb.assign(comparability_class=class_of(hb))
    if mb.empty:
        raise MissingDataError("machizukuri_budget: no fiscal year in the data")
    kfy = int(mb["fiscal_year"].max()) if kumamoto_fiscal_year is None else int(kumamoto_fiscal_year)
    if not (mb["fiscal_year"] == kfy).any():
        raise MissingDataError(f"machizukuri_budget: no row for FY{kfy} "
                               f"(have {mb['fiscal_year'].tolist()})")
    rows = review_rows(mb, hb, kfy)

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
    area_en = dict(AREA_EN)
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


def catalogue_caveats(parts: list[tuple[bool, str, dict[str, Any]]]) -> tuple[Said, ...]:
    """Caveats from the message catalogue: ``[(condition, key, facts), …]`` → the caveats whose
    condition holds, each its key with its own facts."""
    return tuple(Said(key, facts) for cond, key, facts in parts if cond)


# =============================================================================================
# Budget per ward against the ward's population (class a, ward-level rows)
# =============================================================================================
