"""Each number once, right (issue 22 §2): every key figure a reviewer page's summary box shows
is its record in ``results.csv`` (value and interval, rounded as shown, not another number);
the front page gives each report's answer as the report's own summary box says it; and no
share prints as a bare 0 in a table.

The numbers are read back from the rendered HTML and compared as numbers with the unrounded
record: a shown number must round from the record at the precision it is shown with.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from pathlib import Path

LANGS = ("ja", "en")
_TAGS = re.compile(r"<[^>]+>")
_SUMMARY = re.compile(r'<section class="wa-summary">(.*?)</section>', re.S)
_LI = re.compile(r"<li>(.*?)</li>", re.S)
#: A number as the pages print it: sign (− or -), thousands separators, decimals.
_NUMBER = re.compile(r"[−-]?\d[\d,]*(?:\.\d+)?")
#: Multipliers of money as a reader writes it, to yen.
_MONEY = (("億円", 1e8), ("万円", 1e4), ("千円", 1e3), (" billion", 1e9), (" million", 1e6))


def _text(fragment: str) -> str:
    return html.unescape(_TAGS.sub("", fragment)).strip()


def _records(rows: list[dict[str, str]]) -> dict[tuple[str, str, str], dict[str, dict]]:
    out: dict[tuple[str, str, str], dict[str, dict]] = defaultdict(dict)
    for r in rows:
        out[(r["notebook"], r["fiscal_year"], r["lang"])][r["key"]] = r
    return out


def _page(out: Path, notebook: str, fy: str, lang: str) -> Path:
    return out / notebook / (f"{fy}/{lang}" if fy else lang) / "index.html"


def _parse_amount(token: str, after: str) -> tuple[float, float]:
    """A printed number and half its last digit, in the unit the words after it give
    (money to yen; a percentage as printed)."""
    digits = token.replace(",", "").replace("−", "-")
    value = float(digits)
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    half = 0.5 * 10 ** -decimals
    for word, scale in _MONEY:
        if after.startswith(word):
            return value * scale, half * scale
    return value, half


def _record_scale(unit: str, shown_after: str) -> float:
    """What the record's value is multiplied by to be in the shown number's unit (a share in
    %, a difference of shares in percentage points, each limit of its interval as its value)."""
    if shown_after.startswith(("%", "ポイント", " percentage point")):
        return 100.0
    if "thousand yen" in unit and shown_after.startswith(tuple(w for w, _ in _MONEY)):
        return 1e3  # the shown money was converted to yen by _parse_amount
    return 1.0


def _shown_numbers(text: str) -> list[tuple[float, float, str]]:
    """(value, half of its last digit, what follows) of each number in a key figure line,
    skipping the 95 of "95%" and the years of labels."""
    found = []
    for m in _NUMBER.finditer(text):
        after = text[m.end():m.end() + 20]
        if m[0] == "95" and after.startswith(("%信頼区間", "% CI", "%予測区間", "% prediction")):
            continue
        if text[max(0, m.start() - 2):m.start()] == "FY" or after.startswith("年度"):
            continue
        value, half = _parse_amount(m[0], after)
        found.append((value, half, after))
    return found


def _agrees(shown: tuple[float, float, str], value: float, unit: str,
            first_after: str = "") -> bool:
    number, half, after = shown
    # a limit of an interval without its own unit is in its value's unit (4.08ポイント（… -12.8〜20.4）)
    units = ("%", "ポイント", " percentage point", *(w for w, _ in _MONEY))
    expected = value * _record_scale(unit, after if after.startswith(units) else first_after)
    return abs(number - expected) <= half * 1.0001 + 1e-9 * abs(expected)


def key_figure_mismatches(out: Path, rows: list[dict[str, str]]) -> list[str]:
    """Every summary-box key figure that is not one of its page's records (by its label, as
    shown: several records may share a label such as 同上 / The same), as messages; a key
    figure with no record at all is one too."""
    from wardanalysis.text.messages import keys, message

    problems = []
    known = set(keys())
    for (notebook, fy, lang), records in _records(rows).items():
        path = _page(out, notebook, fy, lang)
        box = _SUMMARY.search(path.read_text(encoding="utf-8"))
        if box is None:
            continue
        sep = "：" if lang == "ja" else ": "
        named = [(message(f"estimate.{k}", lang) + sep, r) for k, r in records.items()
                 if f"estimate.{k}" in known]
        for line in (_text(li) for li in _LI.findall(box[1])):
            candidates = [(name, r) for name, r in named if line.startswith(name)]
            if not candidates:
                problems.append(f"{path}: {line!r} has no record")
                continue
            if not any(_line_is(line[len(name):], r) for name, r in candidates):
                problems.append(f"{path}: {line!r} is none of " + "; ".join(
                    f"{r['key']} = {r['value']} ({r['ci_low']}–{r['ci_high']}) {r['unit']}"
                    for _, r in candidates))
    return problems


def _line_is(shown_text: str, r: dict[str, str]) -> bool:
    """The line shows the record's value and interval; an interval valid only for Poisson or
    binomial counts never leads, so such a record's line shows its value alone."""
    shown = _shown_numbers(shown_text)
    if "poisson_only" in r.get("flags", "") and r["ci_low"] not in ("", "nan"):
        return len(shown) == 1 and _agrees(shown[0], float(r["value"]), r["unit"])
    wanted = [float(r["value"])] + ([float(r["ci_low"]), float(r["ci_high"])]
                                    if r["ci_low"] not in ("", "nan") else [])
    return len(shown) >= len(wanted) and all(
        _agrees(s, w, r["unit"], shown[0][2]) for s, w in zip(shown, wanted, strict=False))


def front_page_mismatches(out: Path) -> list[str]:
    """Every report whose answer on the front page is not its summary box's answer."""
    problems = []
    for front in ("index.html", "index.en.html"):
        text = (out / front).read_text(encoding="utf-8")
        box = _SUMMARY.search(text)
        assert box, front
        for li in _LI.findall(box[1]):
            link = re.search(r'href="([^"]+/index\.html)"', li)
            if not link:
                continue
            answer = _text(li.split("<br>", 1)[1].rsplit("<a ", 1)[0])
            report = (out / link[1]).read_text(encoding="utf-8")
            own = _SUMMARY.search(report)
            said = _text(re.search(r"<p>(.*?)</p>", own[1], re.S)[1]) if own else ""
            if answer != said:
                problems.append(f"{front}: the answer of {link[1]} differs from its summary "
                                f"box:\n  {answer}\n  {said}")
    return problems


_TABLE = re.compile(r"<table.*?</table>", re.S)
_ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
_CELL = re.compile(r"<t[hd][^>]*>(.*?)</t[hd]>", re.S)
_SHARE_HEADER = re.compile(r"割合|share|Share|%")


def zero_shares(out: Path) -> list[str]:
    """Every table cell of a share (a column or a measure row naming a share) printed as a bare
    0: a share of 0 prints as 0.0%, so a bare 0 is a share rounded away."""
    problems = []
    for path in sorted([*out.glob("*/*/index.html"), *out.glob("*/*/*/index.html")]):
        text = path.read_text(encoding="utf-8")
        for table in _TABLE.findall(text):
            rows = [[_text(c) for c in _CELL.findall(r)] for r in _ROW.findall(table)]
            if not rows:
                continue
            header = rows[0]
            for row in rows[1:]:
                share_row = bool(row) and bool(_SHARE_HEADER.search(row[0]))  # a measure row
                for name, cell in zip(header, row, strict=False):
                    if (share_row or _SHARE_HEADER.search(name)) and cell in ("0", "0.0", "0.00"):
                        problems.append(f"{path}: {name} = {cell!r} in row {row[:2]}")
    return problems


def test_every_key_figure_is_its_record(default_batch):
    out, rows = default_batch
    assert key_figure_mismatches(out, rows) == []


def test_the_front_page_gives_each_answer_as_its_report_does(default_batch):
    assert front_page_mismatches(default_batch[0]) == []


def test_no_share_prints_as_0(default_batch):
    assert zero_shares(default_batch[0]) == []


def test_the_checks_can_fail(tmp_path):
    """A page whose key figure is off by one in its last digit or leads with an interval valid
    only for Poisson counts, a front page that rewords an answer, and a share printed as 0 are
    each found."""
    from wardanalysis.text.messages import message

    name = message("estimate.requests.mean_ratio_covid_vs_pre", "en")
    d = tmp_path / "01_requests_covid" / "en"
    d.mkdir(parents=True)
    box = (f'<section class="wa-summary"><p>It fell.</p><ul><li>{name}: 0.525 '
           "(95% CI 0.298 to 0.922)</li></ul></section>"
           "<table><tr><th>Share handled</th></tr><tr><td>0</td></tr></table>")
    (d / "index.html").write_text(box, encoding="utf-8")
    rows = [{"notebook": "01_requests_covid", "fiscal_year": "", "lang": "en",
             "key": "requests.mean_ratio_covid_vs_pre", "value": "0.523818897638",
             "ci_low": "0.297605500086", "ci_high": "0.921979726325", "unit": "ratio of means"}]
    assert len(key_figure_mismatches(tmp_path, rows)) == 1
    rows[0]["value"] = "0.5248"
    assert key_figure_mismatches(tmp_path, rows) == []
    rows[0]["flags"] = "poisson_only"  # such an interval must not lead the box
    assert len(key_figure_mismatches(tmp_path, rows)) == 1
    rows[0]["flags"] = ""
    assert len(zero_shares(tmp_path)) == 1
    for front in ("index.html", "index.en.html"):
        (tmp_path / front).write_text(
            '<section class="wa-summary"><ul><li><strong>Q</strong><br>It dropped. '
            '<a href="01_requests_covid/en/index.html">Read</a></li></ul></section>',
            encoding="utf-8")
    assert len(front_page_mismatches(tmp_path)) == 2
