"""Cross-city budgets in comparability classes, against computations from the raw CSV files.

The shipped files are read here with the csv module and the amounts parsed by hand (thousands
separators removed), independently of the loader and of the models' own matching code.
"""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pytest

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


def test_per_ward_amounts_of_every_class_a_row(cities):
    expected = {}
    for r in WB:
        if r["comparability_class"] != "a" or not r["amount_thousand_yen"]:
            continue
        amount = _num(r["amount_thousand_yen"])
        if r["scope"] == "all_wards":
            if not r["wards_covered"]:
                continue
            amount /= int(r["wards_covered"])
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
        gap = (r.population_as_of.date() - _mid(r.fiscal_year)).days / 365.25
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
    fukuoka = {int(r["fiscal_year"]): _num(r["amount_thousand_yen"]) for r in WB if r["city_ja"] == "福岡市"}
    np.testing.assert_allclose(res.estimate("budget.series.fukuoka.all_wards.fy2004_fy2006.ratio").value,
                               fukuoka[2006] / fukuoka[2004], rtol=1e-12)  # ÷ 7 cancels
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
