"""Every row built from public_figures.md carries provenance that can be checked against it.

For each row of population, covid_measures, ward_budgets, ward_budget_shares and
request_volume_changes: the quoted text appears verbatim in data/snapshots/public_figures.md or
its companion public_figures_2026-12b.md (section 9), so does the address, the quality mark is one of O, N, W, B, C, and the number stored appears in the
quote. Read independently of the loader where it matters: the raw CSV's quote is compared byte for
byte; the loaded frame's (which the loader folds to Unicode NFKC) against the folded snapshot.
"""

from __future__ import annotations

import csv
import re
import unicodedata

import pandas as pd
import pytest

import wardanalysis as wa
from wardanalysis.paths import shipped_data_dir

ROOT = shipped_data_dir()
# public_figures_2026-12b.md (section 9) numbers on from public_figures.md: a row may come from either
MD = "\n".join((ROOT / "snapshots" / name).read_text(encoding="utf-8")
               for name in ("public_figures.md", "public_figures_2026-12b.md"))
REFERENCE_DATASETS = [
    "population",
    "covid_measures",
    "ward_budgets",
    "ward_budget_shares",
    "request_volume_changes",
    "ward_budget_changes",
    "priority_issues_corroboration",
]
QUALITY = {"O", "N", "W", "B", "C"}
# several quotes behind one row are joined as public_figures.md joins them
QUOTE_SEPARATOR = re.compile(r'(?<=」); (?=「)|(?<=") / (?=")')


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)




def blank(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value))


def raw_rows(name: str) -> list[dict[str, str]]:
    path = ROOT / wa.describe(name)["path"]
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def address_in_snapshot(url: str) -> bool:
    if url in MD:
        return True
    # public_figures.md names a GitHub repository instead of giving its address
    m = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+)", url)
    return bool(m) and m[1] in MD


def digits_form(text: str) -> str:
    """The quote with thousands separators removed and 万 compounds written out (73万7944 → 737944)."""
    t = nfkc(text).replace(",", "")
    return re.sub(r"(\d+)万(\d{4})", r"\1\2", t)


def number_in_quote(n: float, quote: str) -> bool:
    n = int(n) if float(n).is_integer() else n
    return f"{n:,}" in nfkc(quote) or str(n) in digits_form(quote)


def yen(printed: str) -> int:
    """A printed amount of yen (1億671万3千円, 約3億3,000万円, 1,000,000円) → yen."""
    s = nfkc(printed).replace(",", "").removeprefix("約").removesuffix("円")

    def below_man(part: str) -> int:
        n = 0
        for unit, mult in (("千", 1000), ("百", 100)):
            if unit in part:
                head, part = part.split(unit, 1)
                n += (int(head) if head else 1) * mult
        return n + (int(part) if part else 0)

    total = 0
    for unit, mult in (("億", 10**8), ("万", 10**4)):
        if unit in s:
            head, s = s.split(unit, 1)
            total += below_man(head) * mult
    return total + below_man(s)


MULTIPLES = {
    100 * (k - 1): word
    for k, word in enumerate(
        [
            "twofold",
            "threefold",
            "fourfold",
            "fivefold",
            "sixfold",
            "sevenfold",
            "eightfold",
            "ninefold",
            "tenfold",
        ],
        start=2,
    )
}


def change_in_quote(pct: float, quote: str) -> bool:
    a = abs(pct)
    s = f"{a:g}"
    q = nfkc(quote)
    printed = (
        f"{s}%" in q
        or f"{s} percent" in q
        or f"– {s}% –" in q
        or (a % 10 == 0 and f"{int(a // 10)}割" in q)
        or (a in MULTIPLES and MULTIPLES[a] in q)
    )
    falls = any(w in q for w in ("decline", "dropping", "drop", "減"))
    rises = any(w in q for w in ("increase", "増"))
    return printed and (falls if pct < 0 else rises)


def _cases():
    for name in REFERENCE_DATASETS:
        df = wa.load(name)
        for i in range(len(df)):
            yield pytest.param(name, i, id=f"{name}-{i}")


CASES = list(_cases())


# ------------------------------------------------------------------ every row


@pytest.mark.parametrize("name", REFERENCE_DATASETS)
def test_reference_dataset_names_public_figures(name):
    source = wa.describe(name)["source"]
    assert source["id"] == "public_figures"
    assert source.get("section")
    assert "quality" not in source, "the quality mark is per row"


@pytest.mark.parametrize("name", REFERENCE_DATASETS)
def test_raw_quotes_and_addresses_are_verbatim(name):
    """The raw CSV keeps the quote exactly as public_figures.md prints it (…, ², full-width marks)."""
    rows = raw_rows(name)
    assert rows
    for i, row in enumerate(rows, start=2):
        assert address_in_snapshot(row["source_url"]), f"row {i}: {row['source_url']}"
        for part in QUOTE_SEPARATOR.split(row["quote_ja"]):
            assert part in MD, f"row {i}: {part!r} is not in public_figures.md"
    loaded = sorted(wa.load(name)["quote_ja"])
    assert loaded == sorted(r["quote_ja"] for r in rows)  # the loader keeps free text as transcribed


@pytest.mark.parametrize(("name", "i"), CASES)
def test_row_provenance(name, i):
    row = wa.load(name).iloc[i]
    assert row["quality"] in QUALITY
    assert address_in_snapshot(row["source_url"])
    for part in QUOTE_SEPARATOR.split(row["quote_ja"]):
        assert part in MD, part


# ------------------------------------------------------------------ the number is in the quote


def _rows(name):
    return [
        pytest.param(name, i, id=f"{name}-{i}")
        for n, i in ((c.values[0], c.values[1]) for c in CASES)
        if n == name
    ]


@pytest.mark.parametrize(("name", "i"), _rows("population"))
def test_population_is_in_its_quote(name, i):
    row = wa.load(name).iloc[i]
    assert number_in_quote(row["population_persons"], row["quote_ja"])
    if row["date_precision"] == "unknown":
        assert pd.isna(row["as_of_date"])
    else:
        assert not pd.isna(row["as_of_date"])
    if row["date_precision"] in {"month", "year"}:
        assert row["as_of_date"].day == 1
    if row["date_precision"] == "year":
        assert row["as_of_date"].month == 1


@pytest.mark.parametrize(("name", "i"), _rows("ward_budgets"))
def test_ward_budget_amount_is_in_its_quote(name, i):
    row = wa.load(name).iloc[i]
    printed = row["amount_as_printed"]
    assert printed in row["quote_ja"]
    assert bool(row["is_approximate"]) is printed.startswith("約")
    if not blank(row["yen_per_resident"]):  # a per-resident figure printed by the source (class d)
        assert row["comparability_class"] == "d"
        assert blank(row["amount_thousand_yen"])
        assert yen(printed) == row["yen_per_resident"]
        assert f"1人あたり{printed}" in row["quote_ja"]
    elif printed.endswith("円"):
        assert yen(printed) == row["amount_thousand_yen"] * 1000
    else:  # a figure from a table in 千円; the note must say so
        assert int(printed.replace(",", "")) == row["amount_thousand_yen"]
        assert "千円" in row["note"]


@pytest.mark.parametrize(("name", "i"), _rows("ward_budget_shares"))
def test_ward_budget_share_is_in_its_quote(name, i):
    row = wa.load(name).iloc[i]
    # a middle dot is the newspaper style of a decimal point (5・9%)
    quote = row["quote_ja"].replace("・", ".")
    share = f"{row['share_pct']:g}%"
    assert (f"{row['city_ja']}の{share}" in quote
            or f"{row['city_ja']}予算全体の{share}" in quote
            or f"総予算に対する比率は{share}" in quote)
    assert row["programme_ja"] in quote


@pytest.mark.parametrize(("name", "i"), _rows("request_volume_changes"))
def test_request_volume_figures_are_in_their_quote(name, i):
    row = wa.load(name).iloc[i]
    for column in ("value_before", "value_after"):
        if not blank(row[column]):
            assert number_in_quote(row[column], row["quote_ja"]), column
    if not blank(row["change_pct"]):
        assert change_in_quote(row["change_pct"], row["quote_ja"])
    assert not (
        blank(row["value_before"])
        and blank(row["value_after"])
        and blank(row["change_pct"])
        and blank(row["note"])
    ), "a row with no figure needs a note"


@pytest.mark.parametrize(("name", "i"), _rows("covid_measures"))
def test_covid_dates_are_in_their_quote(name, i):
    row = wa.load(name).iloc[i]
    quote = row["quote_ja"]
    start, end = row["start_date"], row["end_date"]
    assert f"{start.day}日" in quote
    if pd.isna(end):
        assert not row["is_restriction"], "only the reclassification is open-ended"
    else:
        assert start <= end
        # the last day in force is quoted as an end (…日をもって終了, …日の期限, …日で終了, …日解除),
        # or the note says where the date comes from
        ends = {int(d) for d in re.findall(r"(\d+)日(?:をもって終了|で終了|の期限|解除)", quote)}
        assert end.day in ends or end.strftime("%Y-%m-%d") in row["note"]


# ------------------------------------------------------------------ completeness


def _md_section(start: str, end: str) -> str:
    i = MD.index(start)
    return MD[i : MD.index(end, i)]


def _population_figures_in_snapshot() -> set[int]:
    """Every population figure printed in the tables the population dataset is built from."""
    tables = [
        (_md_section("### 1a.", "### 1b."), [1]),
        (_md_section("### 1b.", "### 1c."), [1]),
        (_md_section("### 1c.", "### 1d."), [0]),
        (_md_section("### 2a.", "Quoted text:"), [1, 2, 3, 4, 5, 6, 7]),
        (_md_section("### 3b.", "### 3c."), [1]),
        (_md_section("Populations for per-capita comparison", "Derived, for illustration"), [1]),
    ]
    found = set()
    for text, columns in tables:
        for line in text.splitlines():
            if not line.startswith("|"):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            for c in columns:
                if c < len(cells):
                    for m in re.findall(r"(?<![\d.])\d{1,3}(?:,\d{3})+(?![\d.])", cells[c]):
                        if int(m.replace(",", "")) >= 10_000:
                            found.add(int(m.replace(",", "")))
    return found


def test_every_population_figure_of_the_snapshot_is_shipped():
    shipped = set(wa.load("population")["population_persons"].astype(int))
    expected = _population_figures_in_snapshot()
    assert len(expected) > 60
    assert expected - shipped == set()


def test_every_share_of_the_snapshot_is_shipped():
    row = next(ln for ln in MD.splitlines() if "区長裁量予算 as % of the whole city budget" in ln)
    printed = {float(v) for v in re.findall(r"(\d+\.\d+)%", row)}
    # section 8b prints two more: Osaka's 0.25% (FY2010 base) and Niigata's 5.9% (FY2013)
    s8b = MD[MD.index("### 8b."): MD.index("### 8c.")]
    more = {float(v) for v in re.findall(r"(\d+\.\d+)%", s8b)}
    assert len(printed) == 4 and len(more) == 2
    assert set(wa.load("ward_budget_shares")["share_pct"]) == printed | more
