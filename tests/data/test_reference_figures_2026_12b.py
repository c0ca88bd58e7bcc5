"""Section 9 of public_figures_2026-12b.md, figure by figure.

The new datasets (machizukuri_consultations, sapporo_citizen_voices) and the rows added to or
reclassed in population and ward_budgets are checked against the snapshot's text, read here with
regular expressions and the csv module, independently of the loader.
"""

from __future__ import annotations

import csv
import re

import pytest
import yaml

import wardanalysis as wa
from wardanalysis.paths import shipped_data_dir

ROOT = shipped_data_dir()
MD = (ROOT / "snapshots" / "public_figures_2026-12b.md").read_text(encoding="utf-8")
SOURCES = yaml.safe_load((ROOT / "sources.yml").read_text(encoding="utf-8"))
NUMBER = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?![\d.])|(?<![\d.,])\d+(?![\d.,])")


def section(start: str, end: str) -> str:
    i = MD.index(start)
    return MD[i: MD.index(end, i)]


def raw(name: str) -> list[dict[str, str]]:
    with open(ROOT / "raw" / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def num(text: str) -> int:
    return int(text.replace(",", ""))


def table_rows(text: str) -> list[list[str]]:
    out = []
    for line in text.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            out.append([c.strip() for c in line.strip().strip("|").split("|")])
    return out[1:]  # the header row


@pytest.mark.parametrize("name", ["machizukuri_consultations", "sapporo_citizen_voices"])
def test_new_datasets_name_the_new_reference_file(name):
    source = wa.describe(name)["source"]
    assert source["id"] == "public_figures_2026_12b" and source["id"] in SOURCES
    assert source["section"].startswith("9.")
    for r in raw(name):
        assert r["source_url"] in MD
        assert r["quality"] in {"O", "N", "W", "B", "C"}


# ------------------------------------------------------------------ 9.1 consultations


def test_consultation_figures_are_the_quoted_ones():
    rows = {r["measure"]: r for r in raw("machizukuri_consultations")}
    s91 = section("### 9.1", "### 9.2")
    quote = re.search(r"「[^」]+」", s91)[0]
    for r in rows.values():
        assert r["quote_ja"] == quote and r["quality"] == "B"
    handled, resolved, progress = (num(rows[m]["consultations"]) for m in ("handled", "resolved", "in_progress"))
    assert (handled, resolved, progress) == (1889, 1600, 289)
    assert f"{handled:,}件" in quote and f"{resolved:,}件" in quote and f"{progress}件" in quote
    assert resolved + progress == handled
    cumulative = rows["handled_cumulative"]
    assert cumulative["is_approximate"] == "true" and "約2万件" in quote
    assert num(cumulative["consultations"]) == 20000
    # a different, larger measure than the review's requests of the same year
    review = wa.load("needs_reflection").set_index("fiscal_year")
    assert handled > review.loc[2017, "requests"]


# ------------------------------------------------------------------ 9.2 Sapporo


def test_every_sapporo_year_is_shipped_as_printed_and_adds_up():
    printed = table_rows(section("### 9.2", "### 9.3"))
    assert len(printed) == 11
    shipped = {int(r["fiscal_year"]): r for r in raw("sapporo_citizen_voices")}
    columns = ("proposal_voices", "request_voices", "complaint_voices", "inquiry_voices", "other_voices",
               "total_voices")
    for cells in printed:
        fy = int(re.search(r"\((\d{4})\)", cells[0])[1])
        row = shipped.pop(fy)
        assert row["era_label"] == cells[0].split(" ")[0]
        assert [num(row[c]) for c in columns] == [num(c) for c in cells[1:7]]
        assert sum(num(row[c]) for c in columns[:-1]) == num(row["total_voices"])
    assert shipped == {}
    # the years the pages did not give are missing, not zero
    assert not {2015, 2016, 2020, 2021} & {int(r["fiscal_year"]) for r in raw("sapporo_citizen_voices")}


# ------------------------------------------------------------------ 9.4 comparability


def test_fukuoka_rows_are_ward_executed_bureau_budgets():
    s94 = section("### 9.4", "### 9.5")
    assert "各局の予算のうち区役所の裁量で執行できる予算の枠" in s94
    fukuoka = [r for r in raw("ward_budgets") if r["city_ja"] == "福岡市"]
    assert sorted(r["fiscal_year"] for r in fukuoka) == ["2004", "2005", "2006"]
    for r in fukuoka:
        assert "各局の予算のうち区役所の裁量で執行できる予算の枠" in r["quote_ja"]
        assert r["comparability_class"] == "c" and r["is_discretionary_total"] == "false"


def test_machi_graph_census_years_are_census_counts():
    s94 = section("### 9.4", "### 9.5")
    assert "総務省統計局の国勢調査データに基づく" in s94
    rows = {r["as_of_date"][:4]: r for r in raw("population") if "machi-graph" in r["source_url"]}
    for year in ("2010", "2015", "2020"):
        assert rows[year]["basis"] == "census" and rows[year]["as_of_date"] == f"{year}-10-01"
        assert rows[year]["date_precision"] == "day"
    for year in ("2024", "2025"):  # of unstated basis still
        assert rows[year]["basis"] == "unknown" and rows[year]["date_precision"] == "year"
    # its 2020 value is the census figure stored from another page
    other = [r for r in raw("population") if r["area_ja"] == "天竜区" and r["as_of_date"] == "2020-10-01"
             and "machi-graph" not in r["source_url"]]
    assert [r["population_persons"] for r in other] == [rows["2020"]["population_persons"]]


def test_register_and_estimate_a_month_apart():
    s94 = section("### 9.4", "### 9.5")
    register = int(re.search(r"住民基本台帳 ([\d,]+) \(2017-06-01\)", s94)[1].replace(",", ""))
    estimate = int(re.search(r"推計人口 ([\d,]+) \(2017-05-01\)", s94)[1].replace(",", ""))
    pop = wa.load("population")
    t = pop[(pop["area_ja"] == "天竜区") & (pop["as_of_date"].dt.year == 2017)].set_index("basis")
    assert t.loc["resident_register", "population_persons"] == register
    assert t.loc["estimate", "population_persons"] == estimate
    assert set(t["quality"]) == {"N"}
    # the reference's reading: about 900 persons (3%) higher on the register
    assert round(register - estimate, -2) == 900
    assert round(100 * (register - estimate) / estimate) == 3


def test_hamamatsu_naka_ward_is_named_as_part_of_chuo_ward():
    examples = raw("hamamatsu_chiikiryoku_examples")
    assert {r["ward_en"] for r in examples} == {"former Naka Ward (from 2024 part of Chuo Ward's Naka area)"}
    assert "中地域(旧中区・三方原地区)" in MD


# ------------------------------------------------------------------ 9.5 Osaka 港区


def test_every_osaka_minato_amount_is_shipped_and_the_parts_add_up():
    printed = table_rows(section("### 9.5", "### 9.6"))
    assert len(printed) == 4
    minato = {r["programme_ja"]: r for r in raw("ward_budgets") if r["area_ja"] == "港区"}
    assert {num(r["amount_thousand_yen"]) for r in minato.values()} == {num(c[2]) for c in printed}
    assert {r["amount_as_printed"] for r in minato.values()} == {c[1] for c in printed}
    assert {r["quality"] for r in minato.values()} == {"O"}
    assert {r["fiscal_year"] for r in minato.values()} == {"2024"}
    total = num(minato["予算総額"]["amount_thousand_yen"])
    assert num(minato["区長自由経費（区独自予算）"]["amount_thousand_yen"]) + num(
        minato["区CM自由経費"]["amount_thousand_yen"]) == total
    # only the line nearest to まちづくり推進経費 is compared (class a)
    assert {p for p, r in minato.items() if r["comparability_class"] == "a"} == {"区民主体のまちづくり（区長自由経費のうち）"}
