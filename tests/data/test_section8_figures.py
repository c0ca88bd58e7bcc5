"""Section 8 of public_figures.md (added 2026-12), value by value.

Every amount and population of section 8 is shipped; the 鶴見区 FY2019 series break is declared
as data; the 東区 page's priority-issue counts agree with the review's; the 2021 Kumamoto ward
set is complete, its inferred ward names are consistent with the 2022-12-01 set, and it is
flagged so that nothing picks it by default. Figures are read here from the snapshot's text,
independently of the loader's conversions.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd
import pytest

import wardanalysis as wa
from wardanalysis.paths import shipped_data_dir

MD = (shipped_data_dir() / "snapshots" / "public_figures.md").read_text(encoding="utf-8")
NUMBER = re.compile(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?![\d.])")


def section(start: str, end: str | None = None) -> str:
    i = MD.index(start)
    return MD[i: MD.index(end, i) if end else len(MD)]


S8A = section("### 8a.", "### 8b.")
S8B = section("### 8b.", "### 8c.")
S8C = section("### 8c.")


def table_cells(text: str, column: int) -> list[tuple[str, str]]:
    """(first cell, cell ``column``) of every data row of the Markdown tables in ``text``."""
    out = []
    for line in text.splitlines():
        if not line.startswith("|") or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if column < len(cells) and cells[0] not in {"Ward", "City", "Item"}:
            out.append((cells[0], cells[column]))
    return out


def numbers(text: str) -> list[int]:
    return [int(m.replace(",", "")) for m in NUMBER.findall(text)]


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


# ------------------------------------------------------------------ budgets


def shipped_amounts() -> set[float]:
    wb = wa.load("ward_budgets")
    ch = wa.load("ward_budget_changes")
    return (set(wb["amount_thousand_yen"].dropna()) | set(wb["yen_per_resident"].dropna())
            | set(ch["change_thousand_yen"].dropna().abs()))


def test_every_amount_of_8a_and_8b_is_shipped():
    amounts = [n for _, cell in table_cells(S8A, 2) + table_cells(S8B, 2) for n in numbers(cell)]
    assert len(amounts) >= 17  # 8a: 9 amounts; 8b: 8
    assert set(amounts) - shipped_amounts() == set()


SECTION8_BUDGETS = [  # (city, area, fiscal year, class, quality) of each programme row of 8a–8b
    ("横浜市", "西区", 2021, "a", "O"),
    ("横浜市", "青葉区", 2020, "a", "O"),
    ("横浜市", "港北区", 2020, "a", "O"),
    ("横浜市", "鶴見区", 2017, "a", "N"),
    ("横浜市", "鶴見区", 2018, "a", "N"),
    ("横浜市", "鶴見区", 2019, "a", "N"),
    ("横浜市", "鶴見区", 2025, "a", "N"),
    ("横浜市", "都筑区", 2020, "a", "N"),
    ("横浜市", "戸塚区", 2024, "a", "N"),
    ("名古屋市", "各区（一律）", 2008, "a", "O"),
    ("名古屋市", "各区（一律）", 2009, "a", "O"),
    ("京都市", "下京区", 2019, "b", "O"),
    ("京都市", "右京区", 2014, "b", "B"),
    ("大阪市", "全区合計", 2010, "d", "O"),
    ("新潟市", "全区合計", 2013, "c", "N"),
    ("新潟市", "全区合計", 2024, "c", "N"),
]


@pytest.mark.parametrize(("city", "area", "fy", "cls", "quality"), SECTION8_BUDGETS)
def test_section8_budget_row(city, area, fy, cls, quality):
    wb = wa.load("ward_budgets")
    rows = wb[(wb["city_ja"] == city) & (wb["area_ja"] == area) & (wb["fiscal_year"] == fy)]
    assert len(rows), (city, area, fy)
    assert set(rows["quality"]) == {quality}
    assert cls in set(rows["comparability_class"])
    for r in rows.itertuples():
        assert r.source_url in S8A + S8B


def test_yokohama_parts_add_up_to_the_printed_total():
    """西区 FY2021: 自主企画 + 統合事務 + 庁舎・施設管理 = 合計, as the 総括表 prints them."""
    wb = wa.load("ward_budgets")
    nishi = wb[(wb["area_ja"] == "西区") & (wb["fiscal_year"] == 2021)].set_index("comparability_class")
    parts = nishi.loc[["a", "b"], "amount_thousand_yen"].sum()
    assert parts == nishi.loc["c", "amount_thousand_yen"]
    quoted = numbers(nishi.iloc[0]["quote_ja"])
    assert quoted[0] + quoted[1] + quoted[2] == quoted[3]


def test_every_budget_row_has_a_class_and_review_rows_are_class_a():
    for name in ("ward_budgets", "machizukuri_budget", "hamamatsu_budget"):
        df = wa.load(name)
        assert df["comparability_class"].isin(list("abcd")).all(), name
    assert set(wa.load("machizukuri_budget")["comparability_class"]) == {"a"}
    wb = wa.load("ward_budgets")
    # a single grant or item is never a class-(a) programme; a per-resident figure is class d
    assert not ((wb["scope"] == "item") & (wb["comparability_class"] == "a")).any()
    assert (wb["yen_per_resident"].notna() == (wb["comparability_class"] == "d")).all()
    assert (wb["amount_thousand_yen"].isna() == wb["yen_per_resident"].notna()).all()


# ------------------------------------------------------------------ the 鶴見区 series break


def test_tsurumi_break_is_declared_in_the_data():
    wb = wa.load("ward_budgets")
    breaks = wb[wb["series_break_before"]]
    assert [(r.city_ja, r.area_ja, r.fiscal_year) for r in breaks.itertuples()] == [
        ("横浜市", "鶴見区", 2019)]
    b = breaks.iloc[0]
    assert "分離して計上" in b["quote_ja"]  # the article says why the series breaks
    series = wb[(wb["area_ja"] == "鶴見区") & (wb["comparability_class"] == b["comparability_class"])]
    assert (series["fiscal_year"] < 2019).any() and (series["fiscal_year"] > 2019).any()
    # the like-for-like change across the break is stored from the same article
    ch = wa.load("ward_budget_changes")
    lfl = ch[ch["like_for_like"]]
    assert len(lfl) == 1 and lfl.iloc[0]["source_url"] == b["source_url"]
    assert lfl.iloc[0]["fiscal_year"] == 2019 and lfl.iloc[0]["compared_with_fiscal_year"] == 2018
    # printed amounts fall across the break while the article reports a rise
    amounts = series.set_index("fiscal_year")["amount_thousand_yen"]
    assert amounts[2019] < amounts[2018] and lfl.iloc[0]["change_thousand_yen"] > 0


def yen(printed: str) -> int:
    s = nfkc(printed).replace(",", "").removeprefix("約").removesuffix("円")
    total = 0
    for unit, mult in (("億", 10**8), ("万", 10**4), ("千", 10**3)):
        if unit in s:
            head, s = s.split(unit, 1)
            total += int(head) * mult
    return total + (int(s) if s else 0)


@pytest.mark.parametrize("i", range(len(wa.load("ward_budget_changes"))))
def test_budget_change_is_in_its_quote(i):
    row = wa.load("ward_budget_changes").iloc[i]
    quote, printed = row["quote_ja"], row["change_as_printed"]
    assert printed in quote
    assert bool(row["is_approximate"]) is printed.startswith("約")
    falls = "減" in quote.split(printed, 1)[1][:8]
    if pd.notna(row["change_thousand_yen"]):
        assert yen(printed) == abs(row["change_thousand_yen"]) * 1000
        assert bool(row["change_thousand_yen"] < 0) is falls
    if printed.endswith("%"):
        assert float(printed.removesuffix("%").replace("・", ".")) == abs(row["change_pct"])
    if pd.notna(row["change_pct"]):
        assert bool(row["change_pct"] < 0) is falls
        assert f"{abs(row['change_pct']):.1f}".replace(".", "・") in quote
    assert row["compared_with_fiscal_year"] < row["fiscal_year"]


# ------------------------------------------------------------------ priority issues, two sources


def test_the_higashi_page_agrees_with_the_review():
    second = wa.load("priority_issues_corroboration").set_index("fiscal_year")["priority_issues"]
    review = wa.load("needs_reflection").set_index("fiscal_year")["priority_issues"]
    assert second.index.tolist() == [2021, 2022, 2023]
    assert (second == review.loc[second.index]).all()


@pytest.mark.parametrize("i", range(3))
def test_priority_issue_count_is_in_its_quote(i):
    row = wa.load("priority_issues_corroboration").iloc[i]
    assert f"合計{row['priority_issues']}件" in row["quote_ja"]
    assert row["quote_ja"] in MD and row["source_url"] in S8C
    assert row["quality"] == "O"


def test_the_review_names_its_second_source():
    src = wa.describe("needs_reflection")["source"]
    second = src["corroborated_by"]
    assert [s["dataset"] for s in second] == ["priority_issues_corroboration"]
    assert second[0]["columns"] == ["priority_issues"]
    assert "priority_issues_corroboration" in list(wa.datasets()["name"])


# ------------------------------------------------------------------ populations of 8a and 8c


def test_every_population_of_section_8_is_shipped():
    pop = set(wa.load("population")["population_persons"].astype(int))
    yokohama = MD[MD.index("Yokohama ward populations, 2020 census"): MD.index("### 8b.")]
    kumamoto = next(cell for item, cell in table_cells(S8C, 1) if item.startswith("Ward populations"))
    expected = [n for n in numbers(yokohama) + numbers(kumamoto) if n >= 10_000]
    assert len(expected) == 8 + 6
    assert set(expected) - pop == set()


def kumamoto_set(date: str) -> pd.DataFrame:
    pop = wa.load("population")
    return pop[(pop["city_ja"] == "熊本市") & (pop["as_of_date"] == pd.Timestamp(date))]


def test_the_2021_set_is_complete_and_its_inferred_names_fit_the_2022_set():
    s21 = kumamoto_set("2021-01-01").set_index("area_ja")
    s22 = kumamoto_set("2022-12-01").set_index("area_ja")
    wards = ["中央区", "東区", "西区", "南区", "北区"]
    assert set(s21.index) == set(wards) | {"市全体"} == set(s22.index)
    assert s21.loc[wards, "population_persons"].sum() == s21.loc["市全体", "population_persons"]
    # the names were inferred by matching: same order of size, each within 6% of 2022-12-01
    order21 = s21.loc[wards, "population_persons"].sort_values().index.tolist()
    order22 = s22.loc[wards, "population_persons"].sort_values().index.tolist()
    assert order21 == order22
    gap = (s21.loc[wards, "population_persons"] / s22.loc[wards, "population_persons"] - 1).abs()
    assert (gap < 0.06).all()
    assert (s21["quality"] == "B").all() and (s21["date_precision"] == "year").all()
    for area, r in s21.iterrows():
        if area == "北区":
            assert "printed" in r["note"]
        elif area != "市全体":
            assert "inferred" in r["note"] and area in r["note"]


def test_only_the_2021_set_is_flagged_as_having_inferred_names():
    pop = wa.load("population")
    flagged = pop[pop["set_names_inferred"]]
    assert set(flagged["source_url"]) == {"https://population-map.com/kumamoto"}
    assert len(flagged) == 6
    assert not kumamoto_set("2022-12-01")["set_names_inferred"].any()
