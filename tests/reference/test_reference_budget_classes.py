"""Cross-city budgets in comparability classes, against computations from the raw CSV files.

The shipped files are read here with the csv module and the amounts parsed by hand (thousands
separators removed), independently of the loader and of the models' own matching code.
"""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pytest
from dateutil.relativedelta import relativedelta

from wardanalysis.models import budgets as B
from wardanalysis.models import ward_budgets as W
from wardanalysis.paths import shipped_data_dir

RAW = shipped_data_dir() / "raw"


def _rows(name: str) -> list[dict[str, str]]:
    with open(RAW / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _num(text: str) -> float:
    return float(text.replace(",", "")) if text.strip() else float("nan")


WB = _rows("ward_budgets")
POP = _rows("population")
MB = _rows("machizukuri_budget")


def _mid(fy: int) -> dt.date:
    return dt.date(fy, 10, 1)


def _ward_population(city: str, area: str) -> list[tuple[dt.date, float]]:
    return [(dt.date.fromisoformat(r["as_of_date"]), _num(r["population_persons"])) for r in POP
            if r["city_ja"] == city and r["area_ja"] == area and r["as_of_date"]
            and r["set_names_inferred"] == "false"]


def _kumamoto_latest() -> tuple[int, float, int]:
    # the review prints periods; the latest is R4~R6 = FY2022–FY2024
    last = MB[-1]
    assert last["period_label"] == "R4~R6"
    return 2024, _num(last["budget_thousand_yen"]), int(last["wards"])


@pytest.fixture(scope="module")
def cities():
    return B.cross_city_budgets()


def _per_ward(r) -> float | None:
    """A raw row's amount per ward (thousand yen): an all-wards total divided by the wards it
    covers; None for a total whose wards are not given."""
    amount = _num(r["amount_thousand_yen"])
    if r["scope"] == "all_wards":
        if not r["wards_covered"]:
            return None
        amount /= int(r["wards_covered"])
    return amount


def test_per_ward_amounts_of_every_class_a_row(cities):
    expected = {}
    for r in WB:
        if r["comparability_class"] != "a" or not r["amount_thousand_yen"]:
            continue
        amount = _per_ward(r)
        if amount is None:
            continue
        expected.setdefault((r["city_en"], r["fiscal_year"]), []).append(amount)
    got = {}
    for e in cities.estimates:
        if e.key.startswith("budget.per_ward_thousand_yen."):
            city = e.key.split(".")[2]
            fy = e.key.split(".fy")[1].split(".")[0]
            got.setdefault((city, fy), []).append(e.value)
    for (city, fy), values in expected.items():
        np.testing.assert_allclose(sorted(got[(city.lower(), fy)]), sorted(values), rtol=1e-12)
    fy, total, wards = _kumamoto_latest()
    assert cities.estimate(f"budget.per_ward_thousand_yen.kumamoto.all_wards.fy{fy}").value == total / wards
    # the other cities' range, Kumamoto's own rows (review and citizen's letter) left out
    others = [v for (city, _), vs in expected.items() if city != "Kumamoto" for v in vs]
    assert cities.estimate("budget.class_a.others_per_ward_thousand_yen_min").value == min(others)
    assert cities.estimate("budget.class_a.others_per_ward_thousand_yen_max").value == max(others)


@pytest.mark.parametrize(("area", "fy", "key"), [
    ("西区", 2021, "nishi_ward"), ("青葉区", 2020, "aoba_ward"), ("港北区", 2020, "kohoku_ward"),
    ("都筑区", 2020, "tsuzuki_ward"), ("鶴見区", 2019, "tsurumi_ward")])
def test_yokohama_yen_per_resident_uses_the_2020_census(cities, area, fy, key):
    row = next(r for r in WB if r["area_ja"] == area and r["fiscal_year"] == str(fy)
               and r["comparability_class"] == "a")
    date, persons = min(_ward_population("横浜市", area), key=lambda p: abs((p[0] - _mid(fy)).days))
    assert date == dt.date(2020, 10, 1)
    expected = _num(row["amount_thousand_yen"]) * 1000 / persons
    np.testing.assert_allclose(cities.estimate(f"budget.yen_per_capita.yokohama.{key}.fy{fy}").value,
                               expected, rtol=1e-12)


def test_per_resident_range_keeps_only_populations_within_two_years(cities):
    t = cities.table()
    a = t[(t["comparability_class"] == "a") & t["included"] & (t["city_ja"] != "熊本市")]
    near = []
    for r in a.itertuples():
        if r.population_as_of is None or str(r.population_as_of) == "NaT":
            continue
        gap = _gap_years(r.population_as_of.date(), r.fiscal_year)
        if abs(gap) <= 2:
            near.append(r.amount_thousand_yen * 1000 * (r.wards_covered if r.scope == "per_ward_average"
                                                        else 1) / r.population_persons)
    assert len(near) >= 5
    np.testing.assert_allclose(cities.estimate("budget.class_a.others_yen_per_capita_min").value,
                               min(near), rtol=1e-12)
    np.testing.assert_allclose(cities.estimate("budget.class_a.others_yen_per_capita_max").value,
                               max(near), rtol=1e-12)


def test_ward_size_ratios_and_kumamoto_equal_split():
    res = W.ward_size_budgets()
    # each Yokohama ward's class-(a) row nearest to its 2020 census, within two years
    budgets, people = [], []
    for area in ("西区", "青葉区", "港北区", "都筑区", "鶴見区"):
        rows = [r for r in WB if r["area_ja"] == area and r["city_ja"] == "横浜市"
                and r["comparability_class"] == "a"]
        best = min(rows, key=lambda r: (abs(_mid(int(r["fiscal_year"])).year - 2020), r["quality"] != "O"))
        budgets.append(_num(best["amount_thousand_yen"]))
        people.append(_ward_population("横浜市", area)[0][1])
    np.testing.assert_allclose(res.estimate("budget.size.yokohama.budget_ratio_max_min").value,
                               max(budgets) / min(budgets), rtol=1e-12)
    np.testing.assert_allclose(res.estimate("budget.size.yokohama.population_ratio_max_min").value,
                               max(people) / min(people), rtol=1e-12)
    _, total, wards = _kumamoto_latest()
    k22 = [_num(r["population_persons"]) for r in POP if r["city_ja"] == "熊本市"
           and r["as_of_date"] == "2022-12-01" and r["area_ja"] != "市全体"]
    assert len(k22) == 5
    np.testing.assert_allclose(res.estimate("budget.size.kumamoto.yen_per_capita_min").value,
                               total / wards * 1000 / max(k22), rtol=1e-12)
    np.testing.assert_allclose(res.estimate("budget.size.kumamoto.yen_per_capita_max").value,
                               total / wards * 1000 / min(k22), rtol=1e-12)


def test_series_ratios_within_segments():
    res = W.budgets_over_time()

    def amounts(area: str) -> dict[int, float]:
        return {int(r["fiscal_year"]): _num(r["amount_thousand_yen"]) for r in WB
                if r["area_ja"] == area and r["comparability_class"] == "a" and r["city_ja"] == "横浜市"}

    t = amounts("鶴見区")
    breaks = [int(r["fiscal_year"]) for r in WB if r["series_break_before"] == "true"]
    assert breaks == [2019]
    np.testing.assert_allclose(res.estimate("budget.series.yokohama.tsurumi_ward.fy2017_fy2018.ratio").value,
                               t[2018] / t[2017], rtol=1e-12)
    np.testing.assert_allclose(res.estimate("budget.series.yokohama.tsurumi_ward.fy2019_fy2025.ratio").value,
                               t[2025] / t[2019], rtol=1e-12)
    # Fukuoka's FY2004–06 rows are ward-executed bureau budgets (class c): no series of class a
    assert {r["comparability_class"] for r in WB if r["city_ja"] == "福岡市"} == {"c"}
    assert not any(".fukuoka." in k for k in res.keys())
    nagoya = {int(r["fiscal_year"]): _num(r["amount_thousand_yen"]) for r in WB if r["city_ja"] == "名古屋市"}
    np.testing.assert_allclose(res.estimate("budget.series.nagoya.per_ward_average.fy2008_fy2009.ratio").value,
                               nagoya[2009] / nagoya[2008], rtol=1e-12)
    first, last = _num(MB[0]["budget_thousand_yen"]), _num(MB[-1]["budget_thousand_yen"])
    np.testing.assert_allclose(res.estimate("budget.series.kumamoto.all_wards.fy2013_fy2024.ratio").value,
                               last / first, rtol=1e-12)
    # nothing spans the break
    assert not any("tsurumi_ward.fy2017_fy2025" in k or "fy2018_fy2019" in k for k in res.keys())


def test_kumamoto_fy2021_per_resident_still_uses_the_2020_census():
    """The 2021 set (names partly inferred, 2021-01-01) is nearer to FY2021's middle than the
    2020 census but is never matched: FY2021 keeps the census, as before the set was added."""
    res = B.kumamoto_budget()
    census = next(_num(r["population_persons"]) for r in POP if r["city_ja"] == "熊本市"
                  and r["area_ja"] == "市全体" and r["as_of_date"] == "2020-10-01")
    np.testing.assert_allclose(res.estimate("budget.kumamoto_yen_per_capita.fy2021").value,
                               150000 * 1000 / census, rtol=1e-12)
    t = res.table().set_index("fiscal_year")
    assert 732702 not in set(t["population_persons"])


# ------------------------------------------------------------------ public_figures_2026-12b.md, 9.4–9.5


def _gap_years(as_of: dt.date, fy: int) -> float:
    """Calendar years from the middle of the budget year (dateutil: whole months ÷ 12)."""
    d = relativedelta(as_of, _mid(fy))
    return d.years + d.months / 12 + d.days / 365.25


@pytest.mark.parametrize(("key", "area", "fy", "as_of", "beyond"), [
    ("budget.yen_per_capita.kawasaki.miyamae_ward.fy2025", "宮前区", 2025, dt.date(2010, 10, 1), True),
    ("budget.yen_per_capita.kawasaki.takatsu_ward.fy2025", "高津区", 2025, dt.date(2010, 10, 1), True),
    ("budget.yen_per_capita.yokohama.nishi_ward.fy2021", "西区", 2021, dt.date(2020, 10, 1), False),
    ("budget.yen_per_capita.yokohama.tsurumi_ward.fy2017", "鶴見区", 2017, dt.date(2020, 10, 1), True),
    # a census exactly two years after the middle of the budget year is within the limit
    ("budget.yen_per_capita.yokohama.tsurumi_ward.fy2018", "鶴見区", 2018, dt.date(2020, 10, 1), False),
])
def test_per_resident_records_carry_the_population_gap(cities, key, area, fy, as_of, beyond):
    """The record of a per-resident figure says how far its population is from the budget year
    and whether that is beyond the comparable limit (2 years), as the page does."""
    city = {"kawasaki": "川崎市", "yokohama": "横浜市"}[key.split(".")[2]]
    # the nearest dated population of the ward to the middle of the budget year
    assert min(_ward_population(city, area), key=lambda p: abs((p[0] - _mid(fy)).days))[0] == as_of
    flags = cities.estimate(key).flags
    assert f"population_gap_years={_gap_years(as_of, fy):+.3f}" in flags
    assert ("population_beyond_limit" in flags) is beyond is (abs(_gap_years(as_of, fy)) > 2)


def test_an_undated_population_is_flagged_beyond_the_limit(cities):
    naka = [r for r in POP if r["city_ja"] == "横浜市" and r["area_ja"] == "中区"]
    assert naka and all(not r["as_of_date"] for r in naka)
    flags = cities.estimate("budget.yen_per_capita.yokohama.naka_ward.fy2018").flags
    assert set(flags) == {"population_undated", "population_beyond_limit"}


def test_every_per_resident_record_agrees_with_the_page_on_the_limit(cities):
    t = cities.table()
    shown = t[(t["comparability_class"] == "a") & t["included"]]
    records = [e for e in cities.estimates if e.key.startswith("budget.yen_per_capita.")]
    assert len(records) == len(shown)
    beyond = {e.key for e in records if "population_beyond_limit" in e.flags}
    assert len(beyond) == int((~shown["population_within_limit"]).sum())
    assert all(any(f.startswith("population_gap_years=") or f == "population_undated" for f in e.flags)
               for e in records)


def test_fukuoka_leaves_the_class_a_comparison_and_osaka_minato_enters_it(cities):
    assert not any(".fukuoka." in k for k in cities.keys())
    t = cities.table()
    assert set(t.loc[t["city_ja"] == "福岡市", "comparability_class"]) == {"c"}
    minato = [r for r in WB if r["area_ja"] == "港区" and r["comparability_class"] == "a"]
    assert len(minato) == 1
    assert cities.estimate("budget.per_ward_thousand_yen.osaka.minato_ward.fy2024").value == _num(
        minato[0]["amount_thousand_yen"])
    # no 港区 population is stored: no per-resident figure
    assert not any(r["area_ja"] == "港区" for r in POP)
    assert "budget.yen_per_capita.osaka.minato_ward.fy2024" not in cities.keys()
    # the ranking among official class-(a) rows, recounted from the raw file
    _, total, wards = _kumamoto_latest()
    kumamoto = total / wards
    official = []
    for r in WB:
        if r["comparability_class"] != "a" or r["quality"] != "O" or r["city_ja"] == "熊本市":
            continue
        amount = _per_ward(r)
        if amount is None:
            continue
        official.append(amount)
    assert cities.facts["rank_n"] == len(official)
    assert cities.facts["rank_above"] == sum(v > kumamoto for v in official)
    assert cities.facts["rank_below"] == sum(v < kumamoto for v in official)


def test_hamamatsu_chuo_ward_from_fy2024_gets_no_per_resident_figure():
    """From FY2024 a 中央区 budget is made per 地域; no 地域 population exists, so none is divided
    by all of 中央区. The same row dated FY2023 is divided by 中央区's nearest population."""
    import pandas as pd

    import wardanalysis as wa

    wb = wa.load("ward_budgets")

    def plus(fy: int) -> pd.DataFrame:
        row = {c: wb[c].iloc[0] for c in wb.columns}
        row.update(city_ja="浜松市", city_en="Hamamatsu", area_ja="中央区", programme_ja="地域力向上事業（中地域）",
                   programme_en="community-strength programme (Naka area)", fiscal_year=fy,
                   amount_thousand_yen=30000.0, scope="ward", wards_covered=1,
                   comparability_class="a", quality="O")
        return pd.concat([wb, pd.DataFrame([row])], ignore_index=True)

    after = B.cross_city_budgets(ward_budgets=plus(2025))
    row = after.table().query("city_ja == '浜松市' and area_ja == '中央区'").iloc[0]
    assert row["exclusion_reason"] == "chiiki_population_needed" and not row["included"]
    assert "budget.yen_per_capita.hamamatsu.chuo_ward.fy2025" not in after.keys()
    assert "budget.per_ward_thousand_yen.hamamatsu.chuo_ward.fy2025" in after.keys()
    assert not (W.ward_size_budgets(ward_budgets=plus(2025)).data["area_ja"] == "中央区").any()
    before = B.cross_city_budgets(ward_budgets=plus(2023))
    chuo = _ward_population("浜松市", "中央区")
    as_of, persons = min(chuo, key=lambda p: abs((p[0] - _mid(2023)).days))
    np.testing.assert_allclose(before.estimate("budget.yen_per_capita.hamamatsu.chuo_ward.fy2023").value,
                               30000 * 1000 / persons, rtol=1e-12)


def test_the_bases_caveat_gives_the_register_estimate_gap_of_the_data():
    """The worked example of two bases (public_figures_2026-12b.md 9.4): the closest pair of one
    area's register count and estimate, found here from the raw rows."""
    dated = [r for r in POP if r["as_of_date"]]
    pairs = [(abs((dt.date.fromisoformat(a["as_of_date"]) - dt.date.fromisoformat(b["as_of_date"])).days), a, b)
             for a in dated if a["basis"] == "resident_register"
             for b in dated if b["basis"] == "estimate"
             and (a["city_ja"], a["area_ja"]) == (b["city_ja"], b["area_ja"])]
    days, reg, est = min(pairs, key=lambda p: p[0])
    assert days <= 62 and reg["area_ja"] == "天竜区"
    share = _num(reg["population_persons"]) / _num(est["population_persons"]) - 1
    res = W.ward_size_budgets()
    text = next(c for c in res.caveats if "resident register" in c)
    assert f"{100 * share:.1f}% more" in text
    assert f"{int(_num(reg['population_persons'])):,}" in text and f"{int(_num(est['population_persons'])):,}" in text
    ja = next(c for c in res.caveat_list("ja") if "住民基本台帳" in c)
    assert f"{100 * share:.1f}%多い" in ja
