"""The budget rows of every city and the populations they are divided by, shared by the budget
models.

Matching a population to a budget of fiscal year ``Y``: the figure of the same city and area
nearest to 1 October of ``Y`` (the middle of the fiscal year); ties go to the better source-quality
mark (O, N, W, B, C). A population dated outside the fiscal year, or undated, is a *date mismatch*,
marked wherever it is shown. A set whose ward names are partly inferred is never matched by default.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..eras import fiscal_year_bounds
from ..errors import MissingDataError
from ..text.formats import fmt_dates, fmt_month
from ..text.glossary import area_en
from ..text.messages import message
from . import _input

QUALITY_ORDER = {"O": 0, "N": 1, "W": 2, "B": 3, "C": 4}
WHOLE_CITY = "市全体"
KUMAMOTO = "熊本市"
HAMAMATSU = "浜松市"
CHIBA = "千葉市"
REVIEW = "kumamoto_review_2024"
POP_COLUMNS = ("city_ja", "area_ja", "population_persons", "as_of_date", "basis", "quality")
BUDGET_COLUMNS = ("fiscal_year", "budget_thousand_yen", "reconstruction_thousand_yen", "wards")
WARD_BUDGET_COLUMNS = ("city_ja", "city_en", "area_ja", "programme_ja", "fiscal_year",
                       "amount_thousand_yen", "is_approximate", "scope", "wards_covered",
                       "is_discretionary_total", "quality", "comparability_class")
#: How far (years) a population's date may lie from the middle of the budget's fiscal year for
#: the row to count in a per-resident range (beyond it, the row is shown with its gap).
GAP_LIMIT_YEARS = 2.0
#: Wards whose budgets are made per sub-area (地域) from a fiscal year on: a ward-level row from
#: that year pairs with its 地域's population, never the whole ward's. Hamamatsu runs the
#: 地域力向上事業 and its ward budget requests per 地域 inside 中央区 since 2024-01-01
#: (public_figures_2026-12b.md 9.4; data/corrections.yml hamamatsu_chiiki_pairing).
BUDGETS_BY_CHIIKI_FROM = {(HAMAMATSU, "中央区"): 2024}


def mid_year(fy: int) -> pd.Timestamp:
    return pd.Timestamp(fy, 10, 1)


def gap_years(as_of: pd.Timestamp, fy: int) -> float:
    """How far ``as_of`` lies from the middle of fiscal year ``fy``, in years counted by the
    calendar: whole months ÷ 12 (a census two years later is 2.0 years off, leap day or not),
    days beyond them as a fraction of an average month."""
    mid = mid_year(fy)
    months = (as_of.year - mid.year) * 12 + (as_of.month - mid.month)
    return (months + (as_of.day - mid.day) / (365.25 / 12)) / 12


def worst_quality(marks: Any) -> str:
    """The worst of some source-quality marks (O best, C worst)."""
    return max(marks, key=lambda q: QUALITY_ORDER.get(q, 9))


def match_population(population: pd.DataFrame, city_ja: str, area_ja: str,
                     fiscal_year: int, *, include_inferred: bool = False,
                     no_later_than_year_end: bool = False) -> dict[str, Any] | None:
    """The population figure matched to a budget (see the module docstring) as a dict, or None.
    With ``no_later_than_year_end`` (a report of one fiscal year, which must not look ahead): the
    latest figure dated no later than the end of the year, else the nearest later one
    (``population_looks_ahead`` says so)."""
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
        "population_basis": r["basis"],
        "population_quality": r["quality"],
        "population_gap_years": gap_years(r["as_of_date"], fiscal_year) if dated else math.nan,
        "population_date_mismatch": not in_year,
        "population_source_url": r.get("source_url", ""),
        "population_date_precision": r.get("date_precision", "day") if dated else "unknown",
        "population_looks_ahead": bool(dated and r["as_of_date"] > pd.Timestamp(end)),
    }


def population_area(r: dict[str, Any]) -> tuple[str | None, str]:
    """The area whose population a budget row is divided by (the ward for a ward's row, the
    whole city otherwise), or ``(None, reason)`` where no stored population is the right one."""
    if r["scope"] != "ward":
        return WHOLE_CITY, ""
    since = BUDGETS_BY_CHIIKI_FROM.get((r["city_ja"], r["area_ja"]))
    if since is not None and int(r["fiscal_year"]) >= since:
        return None, "chiiki_population_needed"
    return r["area_ja"], ""


def population_flags(m: dict[str, Any]) -> tuple[str, ...]:
    """Flags of a per-resident record: ``population_gap_years=+0.417`` (from the middle of the
    fiscal year), ``population_undated``, and ``population_beyond_limit`` beyond
    :data:`GAP_LIMIT_YEARS` or undated."""
    gap = m["population_gap_years"]
    if pd.isna(gap):
        return ("population_undated", "population_beyond_limit")
    flags = (f"population_gap_years={gap:+.3f}",)
    return flags + (("population_beyond_limit",) if abs(gap) > GAP_LIMIT_YEARS else ())


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_") or "x"


def row_name(r: Any, lang: str) -> str:
    """``横浜市 西区（2021年度）`` / ``Yokohama Nishi Ward (FY2021)``."""
    if lang == "ja":
        return f"{r.city_ja} {r.area_ja}（{r.fiscal_year}年度）"
    return f"{r.city_en} {r.area_en or r.area_ja} (FY{r.fiscal_year})"


def key_part(scope: str, area_en: str, area_ja: str) -> str:
    """A row's area in a record key: its scope for a total or an average, else the area."""
    return scope if scope in ("all_wards", "per_ward_average") else slug(area_en or area_ja)


@dataclass(frozen=True)
class PopulationDate:
    """A population's date for a message, as precise as its source (``2024年1月``)."""

    as_of: Any
    precision: str = "day"

    def __lang_format__(self, spec: str, lang: str) -> str:
        d = self.as_of
        if d is None or pd.isna(d):
            return message("budgets.date_unknown", lang)
        if self.precision == "year":
            return message("budgets.date_year", lang, year=d.year)
        return fmt_month(d, lang) if self.precision == "month" else fmt_dates((d,), lang)


def kumamoto_row(k: Any) -> dict[str, Any]:
    """The review's まちづくり推進経費 of one fiscal year (a row of machizukuri_budget) as a
    budget row."""
    return {
        "source": REVIEW, "city_ja": KUMAMOTO, "city_en": "Kumamoto", "area_ja": "全区合計",
        "programme_ja": "まちづくり推進経費", "programme_en": "ward community-development budget",
        "fiscal_year": int(k.fiscal_year), "amount_thousand_yen": float(k.budget_thousand_yen),
        "is_approximate": False, "scope": "all_wards", "wards_covered": int(k.wards),
        "is_discretionary_total": True, "budget_quality": "O", "source_url": "",
        "comparability_class": k.comparability_class, "series_break_before": False,
        "printed_yen_per_resident": math.nan,
    }


def per_resident(rows: list[dict[str, Any]], population: pd.DataFrame) -> pd.DataFrame:
    """The budget rows with yen per resident where a class-(a) row has a population
    (``included``; else ``exclusion_reason``), the population matched, whether its date is within
    :data:`GAP_LIMIT_YEARS` and the worst quality mark of budget and population."""
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
            area, reason = population_area(r)
            m = match_population(population, r["city_ja"], area, r["fiscal_year"]) if area else None
            if m is None:
                reason = reason or "no_population"
            elif r["scope"] == "per_ward_average" and pd.isna(r["wards_covered"]):
                reason, m = "wards_not_given", None
        per_ward = m is not None and r["scope"] == "per_ward_average"
        mult = float(r["wards_covered"]) if per_ward else 1.0
        row = {**r, **base, **(m or {})}
        row["yen_per_capita"] = (r["amount_thousand_yen"] * 1000 * mult / m["population_persons"]
                                 if m is not None else math.nan)
        row["included"] = m is not None
        row["population_within_limit"] = bool(
            m is not None and not pd.isna(m["population_gap_years"])
            and abs(m["population_gap_years"]) <= GAP_LIMIT_YEARS)
        row["exclusion_reason"] = reason
        quals = [q for q in (r["budget_quality"], row["population_quality"]) if q]
        row["worst_quality"] = worst_quality(quals) if quals else ""
        row["non_official"] = row["worst_quality"] != "O"
        out.append(row)
    table = pd.DataFrame(out)
    table["wards_covered"] = table["wards_covered"].astype("Int64")
    return table


def _value(r: dict, col: str, default: Any) -> Any:
    v = r.get(col, default)
    return default if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def budget_rows(ward_budgets, population, machizukuri_budget, hamamatsu_budget,
                kumamoto_fiscal_year, data_dir):
    """Every budget row (the review's Kumamoto and Hamamatsu rows first) with its class, and
    the population table; shared by the cross-city, size and over-time analyses."""
    wb = _input.frame(ward_budgets, "ward_budgets", WARD_BUDGET_COLUMNS, data_dir, by_year=True)
    pop = _input.frame(population, "population", POP_COLUMNS, data_dir)
    # comparability_class: class a where a user's file leaves it out (the descriptors' default)
    mb = _input.frame(machizukuri_budget, "machizukuri_budget", BUDGET_COLUMNS, data_dir,
                      by_year=True)
    hb = _input.frame(hamamatsu_budget, "hamamatsu_budget",
                      ("fiscal_year", "programme_ja", "budget_thousand_yen"), data_dir, by_year=True)
    kfy = int(mb["fiscal_year"].max() if kumamoto_fiscal_year is None else kumamoto_fiscal_year)
    if not (mb["fiscal_year"] == kfy).any():
        raise MissingDataError(f"machizukuri_budget: no row for FY{kfy} "
                               f"(have {mb['fiscal_year'].tolist()})")
    rows = [kumamoto_row(next(mb[mb["fiscal_year"] == kfy].itertuples(index=False)))]
    rows += [{**rows[0], "city_ja": HAMAMATSU, "city_en": "Hamamatsu",
              "programme_ja": str(h.programme_ja), "programme_en": "community-strength programme",
              "fiscal_year": int(h.fiscal_year),
              "amount_thousand_yen": float(h.budget_thousand_yen),
              "wards_covered": pd.NA, "comparability_class": h.comparability_class}
             for h in hb.itertuples(index=False)]
    rows += [{
        "source": "ward_budgets", "city_ja": r["city_ja"], "city_en": r["city_en"],
        "area_ja": r["area_ja"], "programme_ja": r["programme_ja"],
        "programme_en": _value(r, "programme_en", r["programme_ja"]),
        "fiscal_year": int(r["fiscal_year"]),
        "amount_thousand_yen": float(r["amount_thousand_yen"]),
        "is_approximate": r["is_approximate"], "scope": r["scope"],
        "wards_covered": r["wards_covered"], "is_discretionary_total": r["is_discretionary_total"],
        "budget_quality": r["quality"], "source_url": r.get("source_url", ""),
        "comparability_class": r["comparability_class"],
        "series_break_before": bool(_value(r, "series_break_before", False)),
        "printed_yen_per_resident": float(_value(r, "yen_per_resident", math.nan)),
    } for r in wb.to_dict("records")]
    names: dict[Any, str] = dict(area_en())
    if "area_en" in pop.columns:
        names.update({(c, a): e for c, a, e
                      in pop[["city_ja", "area_ja", "area_en"]].itertuples(index=False)})
    for r in rows:
        r["area_en"] = names.get((r["city_ja"], r["area_ja"]), names.get(r["area_ja"], ""))
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
