"""Every figure shipped from the seed document equals the figure printed in the document.

The expected values are read here from data/snapshots/kumamoto_review_2024.txt with regular
expressions and table parsing written independently of the loader (no wardanalysis parsing code is
used), then compared value by value with ``wardanalysis.load``. A transcription error, a changed
snapshot or a loader that misreads a cell makes these tests fail.
"""

from __future__ import annotations

import re
import unicodedata

import pandas as pd
import pytest

import wardanalysis as wa
from wardanalysis.paths import shipped_data_dir

DOC = (shipped_data_dir() / "snapshots" / "kumamoto_review_2024.txt").read_text(encoding="utf-8")

SEED_DATASETS = [
    "needs_reflection",
    "civil_engineering_requests",
    "machizukuri_budget",
    "funded_projects",
    "needs_reflection_outcome",
    "machizukuri_centers",
    "organisation_timeline",
    "chiba_analysis_items",
    "meeting_bodies",
    "office_roles",
    "hamamatsu_budget",
    "hamamatsu_chiikiryoku_examples",
    "hamamatsu_priority_proposals",
]


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def count(text: str) -> int:
    """A printed count: '1,710件', '5, 569' (space after the comma), '—' (none) → int."""
    text = text.strip().removesuffix("件").removesuffix("千円").strip()
    if text in {"—", "-", "–", "―"}:
        return 0
    return int(text.replace(",", "").replace(" ", ""))


def era_fy(label: str) -> int:
    """A printed fiscal-year label (H29, R元, R5, 平成29, 令和6) → the year it starts in."""
    m = re.fullmatch(r"(H|R|平成|令和)(\d+|元)", label)
    assert m, label
    n = 1 if m[2] == "元" else int(m[2])
    return (1988 if m[1] in {"H", "平成"} else 2018) + n


def section(start: str, end: str, unique: bool = True) -> str:
    """The document's text from ``start`` (exclusive; its first occurrence when not ``unique``)
    to the first ``end`` after it."""
    if unique:
        assert DOC.count(start) == 1, f"{start!r} is not a unique marker in the document"
    i = DOC.index(start) + len(start)
    j = DOC.index(end, i)
    return DOC[i:j]


def blank(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value))


def row_where(df: pd.DataFrame, **match) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for k, v in match.items():
        mask &= df[k] == v
    rows = df[mask]
    assert len(rows) == 1, f"expected one row where {match}, found {len(rows)}"
    return rows.iloc[0]


# ------------------------------------------------------------------ provenance of every seed dataset


@pytest.mark.parametrize("name", SEED_DATASETS)
def test_seed_dataset_names_the_document_and_its_headings(name):
    source = wa.describe(name)["source"]
    assert source["id"] == "kumamoto_review_2024"
    assert source["quality"] == "O"
    assert source.get("as_of") and source.get("basis")
    # every bracketed heading named in the section path (as the document prints it) is a heading
    # of the document; the English section names it in English
    headings = re.findall(r"【[^】]+】", source["section_ja"])
    for heading in headings:
        assert nfkc(heading).replace(" ", "") in nfkc(DOC).replace(" ", ""), heading


# ------------------------------------------------------------------ needs_reflection (協議実績)

NR_TABLE = section("### 【地域ニーズ反映の仕組み協議実績】", "\n## ")
NR_HEADER = {
    "要望・相談件数": "requests",
    "(うち対応済)": "requests_handled",
    "区重要課題件数": "priority_issues",
    "「対応する」 とした件数": "decided_to_act",
    "担当者協議": "staff_consultations",
    "課長協議": "section_chief_consultations",
    "地域課題調整会議": "coordination_meetings",
}


def _needs_reflection_table() -> tuple[list[str], dict[str, list[int]]]:
    lines = [ln for ln in NR_TABLE.splitlines() if ln.strip()]
    head1, head2 = (ln.split("\t") for ln in lines[:2])
    header = [
        b.strip() or a.strip() for a, b in zip(head1, head2 + [""] * len(head1), strict=False)
    ]
    columns = [NR_HEADER[h] for h in header[1:8]]
    rows = {}
    for ln in lines[2:]:
        m = re.match(r"^(H\d+|R元|R\d+|計)\t(.*)$", ln)
        if m:
            rows[m[1]] = [count(c) for c in m[2].split("\t")[:7]]
    return columns, rows


NR_COLUMNS, NR_ROWS = _needs_reflection_table()


def test_needs_reflection_has_exactly_the_printed_years():
    printed = sorted(era_fy(label) for label in NR_ROWS if label != "計")
    assert printed == list(range(2017, 2024))
    assert wa.load("needs_reflection")["fiscal_year"].tolist() == printed


@pytest.mark.parametrize("label", [k for k in NR_ROWS if k != "計"])
def test_needs_reflection_row_matches_the_table(label):
    row = row_where(wa.load("needs_reflection"), fiscal_year=era_fy(label))
    assert row["era_label"] == label
    for column, printed in zip(NR_COLUMNS, NR_ROWS[label], strict=True):
        assert row[column] == printed, column


def test_needs_reflection_declared_totals_match_the_printed_total_row():
    totals = wa.load("needs_reflection").attrs["provenance"]["declared_totals"]
    for column, printed in zip(NR_COLUMNS, NR_ROWS["計"], strict=True):
        assert totals[column] == printed, column


def test_needs_reflection_printed_total_row_is_the_column_sum():
    for i, column in enumerate(NR_COLUMNS):
        years = sum(v[i] for k, v in NR_ROWS.items() if k != "計")
        assert years == NR_ROWS["計"][i], column


# ------------------------------------------------------------------ civil_engineering_requests

CIVIL = re.findall(r"・(道路|公園|河川)：(R\d+)…([\d, ]+?)件 ⇒ (R\d+)…([\d, ]+?)件", DOC)
CIVIL_CATEGORY = {"道路": "road", "公園": "park", "河川": "river"}
CIVIL_CASES = [
    (CIVIL_CATEGORY[cat], label, count(value))
    for cat, l1, v1, l2, v2 in CIVIL
    for label, value in ((l1, v1), (l2, v2))
]


def test_civil_engineering_requests_has_exactly_the_printed_rows():
    assert len(CIVIL) == 3
    df = wa.load("civil_engineering_requests")
    assert sorted(zip(df["category"], df["fiscal_year"], strict=True)) == sorted(
        (c, era_fy(label)) for c, label, _ in CIVIL_CASES
    )


@pytest.mark.parametrize(("category", "label", "printed"), CIVIL_CASES)
def test_civil_engineering_request_count(category, label, printed):
    row = row_where(
        wa.load("civil_engineering_requests"), category=category, fiscal_year=era_fy(label)
    )
    assert row["requests"] == printed


# ------------------------------------------------------------------ machizukuri_budget

BUDGET_TABLE = section("#### 【まちづくり推進経費】", "\n### ")
BUDGET_ROWS = re.findall(
    r"^([HR][\d元]+)(?:~([HR][\d元]+))?\t([\d,]+)千円(?: \(復興支援自治推進経費([\d,]+)千円含む\))?\s*$",
    BUDGET_TABLE,
    flags=re.M,
)
BUDGET_CASES = [
    (era_fy(start) + k, f"{start}~{end}" if end else start, count(total), count(part or "—"))
    for start, end, total, part in BUDGET_ROWS
    for k in range((era_fy(end) if end else era_fy(start)) - era_fy(start) + 1)
]


def test_machizukuri_budget_has_exactly_the_printed_years():
    assert len(BUDGET_ROWS) == 4
    assert wa.load("machizukuri_budget")["fiscal_year"].tolist() == [c[0] for c in BUDGET_CASES]


@pytest.mark.parametrize(("fy", "label", "budget", "reconstruction"), BUDGET_CASES)
def test_machizukuri_budget_year(fy, label, budget, reconstruction):
    row = row_where(wa.load("machizukuri_budget"), fiscal_year=fy)
    assert row["period_label"] == label
    assert row["budget_thousand_yen"] == budget
    assert row["reconstruction_thousand_yen"] == reconstruction
    assert row["wards"] == int(re.search(r"予算額 \((\d)区合計\)", BUDGET_TABLE)[1])


# ------------------------------------------------------------------ funded_projects

FUNDED = [
    (re.sub(r"\s*\n\s*", " ", title.strip()), bureau, count(amount))
    for title, bureau, amount in re.findall(
        r"\*\*([^*]+?)\*\*\s*【([^】]+)】([\d,]+)千円",
        section("#### 【地域ニーズ反映の仕組みにより予算化された主な事業】", "### 【課題】"),
    )
]


def test_funded_projects_are_exactly_the_printed_ones():
    assert len(FUNDED) == 4
    assert sorted(wa.load("funded_projects")["project_ja"]) == sorted(p for p, _, _ in FUNDED)


@pytest.mark.parametrize(("project", "bureau", "amount"), FUNDED)
def test_funded_project(project, bureau, amount):
    row = row_where(wa.load("funded_projects"), project_ja=project)
    assert row["bureau_ja"] == bureau
    assert row["amount_thousand_yen"] == amount


# ------------------------------------------------------------------ needs_reflection_outcome


def test_needs_reflection_outcome_matches_the_printed_summary():
    handled = re.search(
        r"・((平成|令和)(\d+)年度からこれまでの間)、([\d,]+)の要望・相談に対応済", DOC
    )
    funded = re.search(
        r"\*\*(\d+)件の区重要課題\*\*について、\*\*((約)?(\d+)億円)の予算化・制度化", DOC
    )
    assert handled and funded
    df = wa.load("needs_reflection_outcome")
    assert len(df) == 1
    row = df.iloc[0]
    assert row["first_fiscal_year"] == era_fy(handled[2] + handled[3])
    assert row["period_as_printed"] == handled[1]
    assert row["requests_handled"] == count(handled[4])
    assert row["priority_issues_funded"] == int(funded[1])
    assert row["amount_as_printed"] == funded[2]
    assert row["funded_amount_yen"] == int(funded[4]) * 100_000_000
    assert bool(row["is_amount_approximate"]) is (funded[3] == "約")


def test_needs_reflection_outcome_agrees_with_the_table_totals():
    """The summary's figures are the 計 row's (うち対応済) and 「対応する」とした件数."""
    row = wa.load("needs_reflection_outcome").iloc[0]
    total = dict(zip(NR_COLUMNS, NR_ROWS["計"], strict=True))
    assert row["requests_handled"] == total["requests_handled"]
    assert row["priority_issues_funded"] == total["decided_to_act"]


# ------------------------------------------------------------------ machizukuri_centers

# the centre section is printed as two slides under the same heading
CENTRES = section(
    "# 1 区役所の組織について（まちづくりセンター）",
    "# 1 区役所の組織について（土木センター）",
    unique=False,
)


def _centre_cases() -> list[tuple]:
    opened = re.search(
        r"(平成(\d+)年度（(\d{4})年度）)、.*?\*\*(\d+)か所の「まちづくりセンター」", CENTRES
    )
    staff = re.search(r"地域担当職員を(\d+)名配置", CENTRES)
    now = re.search(r"(令和\d+年度（(\d{4})年度）)現在、\*\*(\d+)名体制", CENTRES)
    requests = re.search(r"要望([\d,]+)件のうち、([\d,]+)件について対応済", CENTRES)
    disaster = re.search(
        r"校区防災連絡会:(\d+)/(\d+)校区\((\d+)%\)、避難所運営委員会:(\d+)/(\d+)施設\(([\d.]+)%\)"
        r"\[(R(\d+)\.(\d+)時点)\]",
        CENTRES,
    )
    assert opened and staff and now and requests and disaster
    year, month = 2018 + int(disaster[8]), int(disaster[9])
    r6_fy = year if month >= 4 else year - 1
    return [
        # indicator, value, out_of, as_of_label, as_of_fiscal_year, unit, printed percent
        ("centres", int(opened[4]), None, opened[1], int(opened[3]), "か所", None),
        ("local_staff", int(staff[1]), None, opened[1], int(opened[3]), "名", None),
        ("local_staff", int(now[3]), None, now[1], int(now[2]), "名", None),
        ("requests", count(requests[1]), None, None, None, "件", None),
        ("requests_handled", count(requests[2]), None, None, None, "件", None),
        (
            "disaster_councils",
            int(disaster[1]),
            int(disaster[2]),
            disaster[7],
            r6_fy,
            "校区",
            float(disaster[3]),
        ),
        (
            "shelter_committees",
            int(disaster[4]),
            int(disaster[5]),
            disaster[7],
            r6_fy,
            "施設",
            float(disaster[6]),
        ),
    ]


CENTRE_CASES = _centre_cases()


def test_machizukuri_centers_has_exactly_the_printed_figures():
    df = wa.load("machizukuri_centers")
    assert len(df) == len(CENTRE_CASES)
    assert sorted(df["indicator"]) == sorted(c[0] for c in CENTRE_CASES)


@pytest.mark.parametrize(
    ("indicator", "value", "out_of", "label", "fy", "unit", "pct"),
    CENTRE_CASES,
    ids=[f"{c[0]}-{c[4]}" for c in CENTRE_CASES],
)
def test_machizukuri_centre_figure(indicator, value, out_of, label, fy, unit, pct):
    df = wa.load("machizukuri_centers")
    rows = df[(df["indicator"] == indicator) & (df["value"] == value)]
    assert len(rows) == 1, f"{indicator} = {value} is not shipped exactly once"
    row = rows.iloc[0]
    assert row["unit"] == unit
    if label is None:
        assert blank(row["as_of_label"]) and blank(row["as_of_fiscal_year"])
    else:
        assert row["as_of_label"] == label
        assert row["as_of_fiscal_year"] == fy
    if out_of is None:
        assert blank(row["out_of"])
    else:
        assert row["out_of"] == out_of
        assert round(100 * value / out_of, 1) == pct  # the printed percentage agrees


def test_machizukuri_centre_requests_equal_the_needs_reflection_total():
    df = wa.load("machizukuri_centers").set_index("indicator")
    total = dict(zip(NR_COLUMNS, NR_ROWS["計"], strict=True))
    assert df.loc["requests", "value"] == total["requests"]
    assert df.loc["requests_handled", "value"] == total["requests_handled"]


# ------------------------------------------------------------------ organisation_timeline


def _timeline_entries() -> list[tuple[str, str, str]]:
    text = section("## 【政令市移行後の主な組織体制の変遷】", "\n# ")
    blocks = re.split(r"\n\s*\n", text)
    entries = []
    for block in blocks:
        lines = [ln.strip() for ln in block.strip().splitlines() if ln.strip()]
        if not lines:
            continue
        m = re.match(r"^((平成|令和)(\d+)年\((\d{4})年\)(\d+)月)：\s*(.*)$", lines[0])
        assert m, lines[0]
        assert era_fy(m[2] + m[3]) == int(m[4]), "era year and Gregorian year disagree"
        date = f"{m[4]}-{int(m[5]):02d}-01"
        entries.append((date, m[1], "".join([m[6], *lines[1:]])))
    return entries


TIMELINE = _timeline_entries()


def test_organisation_timeline_has_exactly_the_printed_entries():
    assert len(TIMELINE) == 5
    df = wa.load("organisation_timeline")
    assert sorted(df["date"].dt.strftime("%Y-%m-%d")) == sorted(d for d, _, _ in TIMELINE)


@pytest.mark.parametrize(("date", "label", "text"), TIMELINE, ids=[t[0] for t in TIMELINE])
def test_organisation_timeline_entry(date, label, text):
    df = wa.load("organisation_timeline")
    row = row_where(df, date=pd.Timestamp(date))
    assert row["date_as_printed"] == label
    details = "" if blank(row["details_ja"]) else row["details_ja"]
    assert row["event_ja"] + details == text


# ------------------------------------------------------------------ chiba_analysis_items


def _chiba_rows() -> list[tuple[int, str, int, str]]:
    text = section("【分析する取組】", "\n# ")
    rows, theme = [], None
    for ln in text.splitlines():
        m = re.match(r"^(\d+)\t([^\t]+)\t?(.*)$", ln)
        if not m:
            continue
        cell = m[3].strip()
        if cell:
            t = re.match(r"^(\d) (.+)$", cell)
            theme = (int(t[1]), t[2])
        assert theme is not None, "the first Chiba row has no Kumamoto theme"
        rows.append((int(m[1]), m[2].strip(), *theme))
    return rows


CHIBA = _chiba_rows()


def test_chiba_analysis_items_has_exactly_the_printed_items():
    assert [r[0] for r in CHIBA] == list(range(1, 12))
    assert wa.load("chiba_analysis_items")["chiba_item_no"].tolist() == list(range(1, 12))


@pytest.mark.parametrize(("no", "item", "theme_no", "theme"), CHIBA, ids=[str(r[0]) for r in CHIBA])
def test_chiba_analysis_item(no, item, theme_no, theme):
    row = row_where(wa.load("chiba_analysis_items"), chiba_item_no=no)
    assert row["chiba_item_ja"] == item
    # the theme printed on this row or, for a merged cell, on the nearest row above
    assert row["kumamoto_theme_no"] == theme_no
    assert row["kumamoto_theme_ja"] == theme


# ------------------------------------------------------------------ meeting_bodies

LEVELS = ("局長級", "部長級", "管理職", "監督職")


def _meeting_bodies() -> list[dict]:
    text = section("### 【区と本庁との情報共有・協議・調整の場】", "## 本 庁")
    bodies, level = [], None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        on_level_line = False
        if line.startswith("#### "):
            line, level = line.removeprefix("#### "), None
        m = re.match(rf"^({'|'.join(LEVELS)})⇒\s*(.*)$", line)
        if m:
            level, line, on_level_line = m[1], m[2], True
        for token in line.split():
            t = re.match(r"^(?P<body>[^（→]+)(?:（(?P<freq>[^）]+)）)?(?:→(?P<after>.+))?$", token)
            bodies.append(
                {
                    "body": t["body"],
                    "freq": t["freq"],
                    "after": t["after"],
                    "level": level,
                    "on_level_line": on_level_line,
                }
            )
    return bodies


BODIES = _meeting_bodies()


def per_year(freq: str) -> float:
    if m := re.search(r"月(\d+)回", freq):
        return 12 * int(m[1])
    if re.search(r"[偶奇]数月", freq):
        return 6
    if m := re.search(r"年(\d+)回", freq):
        return int(m[1])
    raise AssertionError(f"unknown frequency {freq!r}")


def test_meeting_bodies_are_exactly_the_printed_ones():
    assert len(BODIES) == 12
    assert sorted(wa.load("meeting_bodies")["body_ja"]) == sorted(b["body"] for b in BODIES)


@pytest.mark.parametrize("printed", BODIES, ids=[b["body"] for b in BODIES])
def test_meeting_body(printed):
    row = row_where(wa.load("meeting_bodies"), body_ja=printed["body"])
    if printed["on_level_line"]:
        assert row["level_ja"] == printed["level"]
    else:  # printed on a line of its own: the level is either left empty or the one above it
        assert blank(row["level_ja"]) or row["level_ja"] == printed["level"]
    if printed["freq"] is None:
        assert blank(row["frequency_as_printed"]) and blank(row["meetings_per_year"])
        assert "frequency" in row["note"].lower(), "a missing frequency must be said in the note"
    else:
        assert row["frequency_as_printed"] == printed["freq"]
        assert row["meetings_per_year"] == per_year(printed["freq"])
    if printed["after"]:
        assert printed["after"] in row["note"]


def test_meeting_body_levels_translate_consistently():
    df = wa.load("meeting_bodies").dropna(subset=["level_ja"])
    assert (df.groupby("level_ja")["level_en"].nunique() == 1).all()
    assert df["level_en"].notna().all()


# ------------------------------------------------------------------ office_roles


def _role_items(lines: list[str]) -> list[str]:
    bullets = [m[1].strip() for ln in lines if (m := re.match(r"^- ・\s*(.+)$", ln.strip()))]
    if bullets:
        return bullets
    plain = [ln.strip() for ln in lines if ln.strip() and ln.strip() != "など"]
    return ["".join(plain)] if plain else []


def _office_roles() -> list[tuple[str, str, int, str]]:
    text = section("## 本 庁", "## 2 本庁と区役所の連携について（地域ニーズ反映の仕組み）")
    main, ward = text.split("## 各区役所")
    out = []
    for office, part in (("main_office", main), ("ward_office", ward)):
        mission, examples = part.split("Ex.)")
        for kind, chunk in (("mission", mission), ("example", examples)):
            for i, item in enumerate(_role_items(chunk.splitlines()), 1):
                out.append((office, kind, i, item))
    return out


ROLES = _office_roles()


def test_office_roles_are_exactly_the_printed_items():
    assert len(ROLES) == 11
    df = wa.load("office_roles")
    assert sorted(zip(df["office"], df["kind"], df["item_no"], strict=True)) == sorted(
        r[:3] for r in ROLES
    )


@pytest.mark.parametrize(
    ("office", "kind", "no", "text"), ROLES, ids=[f"{r[0]}-{r[1]}-{r[2]}" for r in ROLES]
)
def test_office_role(office, kind, no, text):
    row = row_where(wa.load("office_roles"), office=office, kind=kind, item_no=no)
    assert row["text_ja"] == text
    assert row["office_ja"] == {"main_office": "本庁", "ward_office": "各区役所"}[office]


# ------------------------------------------------------------------ Hamamatsu


def test_hamamatsu_budget_matches_the_document():
    m = re.search(r"●(\S+) \[((R\d+)当初予算額)…([\d,]+)千円\]", DOC)
    assert m
    df = wa.load("hamamatsu_budget")
    assert len(df) == 1
    row = df.iloc[0]
    assert row["programme_ja"] == m[1]
    assert row["era_label"] == m[3]
    assert row["fiscal_year"] == era_fy(m[3])
    assert row["basis_ja"] == m[2]
    assert row["budget_thousand_yen"] == count(m[4])


def _hamamatsu_examples() -> list[tuple[str, str, str, int]]:
    text = section("#### [地域力向上事業の具体例]", "#### 【局予算への反映の仕組み】")
    head = re.search(r"^(.+?)における地域力向上事業\t+※(R\d+)年度$", text, flags=re.M)
    assert head
    rows = re.findall(r"^([^\t\n]+?)\t+(\d+)件$", text, flags=re.M)
    return [(head[1], head[2], sub, int(n)) for sub, n in rows]


HAMAMATSU_EXAMPLES = _hamamatsu_examples()


def test_hamamatsu_examples_are_exactly_the_printed_rows():
    assert len(HAMAMATSU_EXAMPLES) == 3
    assert len(wa.load("hamamatsu_chiikiryoku_examples")) == 3


@pytest.mark.parametrize(
    ("ward", "label", "sub", "projects"), HAMAMATSU_EXAMPLES, ids=[r[2] for r in HAMAMATSU_EXAMPLES]
)
def test_hamamatsu_example(ward, label, sub, projects):
    row = row_where(wa.load("hamamatsu_chiikiryoku_examples"), subprogramme_ja=sub)
    assert row["ward_ja"] == ward
    assert row["era_label"] == label
    assert row["fiscal_year"] == era_fy(label)
    assert row["projects"] == projects


def _hamamatsu_proposals() -> tuple[re.Match, list[tuple[str, int]]]:
    total = re.search(r"●(区重点提案事業)（(R\d+)実績：提案(\d+)件 ⇒ 予算化(\d+)件）", DOC)
    assert total
    tail = DOC[DOC.index("#### [主な提案]") :]  # the last section of the document
    parts = re.findall(r"^- ・(.+?)（予算化(\d+)件）\s*$", tail, flags=re.M)
    return total, [(text, int(n)) for text, n in parts]


PROPOSAL_TOTAL, PROPOSAL_PARTS = _hamamatsu_proposals()


def test_hamamatsu_priority_proposals_total():
    df = wa.load("hamamatsu_priority_proposals")
    row = row_where(df, category="total")
    assert row["category_ja"] == PROPOSAL_TOTAL[1]
    assert row["era_label"] == PROPOSAL_TOTAL[2]
    assert row["fiscal_year"] == era_fy(PROPOSAL_TOTAL[2])
    assert row["proposals"] == int(PROPOSAL_TOTAL[3])
    assert row["budgeted"] == int(PROPOSAL_TOTAL[4])
    assert len(df) == 1 + len(PROPOSAL_PARTS) == 4


@pytest.mark.parametrize(("text", "budgeted"), PROPOSAL_PARTS, ids=[p[0] for p in PROPOSAL_PARTS])
def test_hamamatsu_priority_proposal_part(text, budgeted):
    df = wa.load("hamamatsu_priority_proposals")
    row = row_where(df, category_ja=text)
    assert row["category"] != "total"
    assert row["budgeted"] == budgeted
    assert blank(row["proposals"])  # not printed for the breakdown
    assert row["fiscal_year"] == era_fy(PROPOSAL_TOTAL[2])


def test_hamamatsu_priority_proposal_parts_add_up_to_the_printed_total():
    assert sum(n for _, n in PROPOSAL_PARTS) == int(PROPOSAL_TOTAL[4])
