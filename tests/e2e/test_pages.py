"""The reader's pages of the real default batch: one language per page, no internal code,
self-contained (no request to any network address, the Japanese font embedded), small, linked
to each other at stable addresses; and, in headless Chromium, readable at 390 px, printable on
A4, and navigable from the front page to a report, to its other language and to the next
fiscal year."""

from __future__ import annotations

import functools
import html.parser
import re
import shutil
import statistics
import subprocess
from pathlib import Path

import pytest

LANGS = ("ja", "en")


class _Page(html.parser.HTMLParser):
    """Visible text (without code), links and resource references of a page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._skip = 0
        self.text: list[str] = []
        self.refs: list[tuple[str, str, str]] = []
        self.lang = None
        self.headings: list[int] = []
        self.nodes: list[tuple[str, str]] = []  # (visible text node, href of its link or "")
        self._href: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag in ("style", "script", "code", "pre"):
            self._skip += 1
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        for k in ("href", "src"):
            if a.get(k):
                self.refs.append((tag, k, a[k]))
        if tag == "a":
            self._href.append(a.get("href") or "")

    def handle_endtag(self, tag):
        if tag in ("style", "script", "code", "pre"):
            self._skip -= 1
        if tag == "a" and self._href:
            self._href.pop()

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)
            if data.strip():
                self.nodes.append((" ".join(data.split()), self._href[-1] if self._href else ""))


def _parse(path: Path) -> _Page:
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _reader_pages(out: Path) -> dict[str, list[Path]]:
    pages = {lang: sorted([*out.glob(f"*/{lang}/index.html"), *out.glob(f"*/*/{lang}/index.html")])
             for lang in LANGS}
    pages["ja"].append(out / "index.html")
    pages["en"].append(out / "index.en.html")
    return pages


#: An era label (R5, H30, R元, 令和, 平成): never on an English page.
ERA_LABEL = re.compile(r"\b[MTSHR](?:[1-9]\d?|元)(?![\w.])|令和|平成|昭和")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def test_every_report_has_a_stable_address_in_both_languages(default_batch):
    out, _ = default_batch
    for nb in ("00_overview", "01_requests_covid", "02_escalation", "03_budgets_cross_city"):
        for lang in LANGS:
            assert (out / nb / lang / "index.html").is_file(), (nb, lang)
    years = sorted(int(p.name) for p in (out / "fiscal_year_report").iterdir()
                   if p.name.isdigit())
    assert years == list(range(2013, 2025))
    for y in years:
        for lang in LANGS:
            assert (out / "fiscal_year_report" / str(y) / lang / "index.html").is_file()


def test_pages_declare_their_language_and_keep_headings_in_order(default_batch):
    for lang, pages in _reader_pages(default_batch[0]).items():
        for path in pages:
            page = _parse(path)
            assert page.lang == lang, path
            assert page.headings and page.headings[0] == 1, path
            for a, b in zip(page.headings, page.headings[1:], strict=False):
                assert b <= a + 1, f"{path}: h{a} followed by h{b}"


def test_no_internal_code_reaches_a_reader(default_batch):
    for _, pages in _reader_pages(default_batch[0]).items():
        for path in pages:
            text = " ".join(_parse(path).text)
            found = sorted(set(SNAKE.findall(URL.sub(" ", text))))
            assert found == [], f"{path}: {found[:10]}"


# --- one language per page --------------------------------------------------------------------

URL = re.compile(r"https?://\S+|\b(?:[\w-]+\.)+(?:jp|com|org|net|app|gov|us)\b\S*")
ASCII_WORD = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*(?:[-'’.][A-Za-z0-9]+)*")
#: ASCII words a Japanese page may show, each for a reason: statistical notation and model names
#: (GLM, p値, t分布), formats (CSV), the source-quality marks O/N/W/B/C and era
#: letters as the review prints them (R5, H29, R元, R6.3), the language switch (English), the
#: package's own name and its files (wardanalysis, README, .ipynb, results.csv …), the
#: section numbers of the public figures as published (1a, 3c), the
#: library a method names (statsmodels) and proper names as published (なかのEYE, Osaka's
#: 区CM自由経費).
JA_ALLOWED = {"GLM", "p", "t", "CSV", "O", "N", "W", "B", "C", "R", "H", "English",
              "wardanalysis", "ipynb", "statsmodels", "EYE", "CM", "csv", "json", "xlsx", "README"}
JA_ALLOWED_FORM = re.compile(r"[RH]\d+(?:\.\d+)?|\d+[a-d]|\d+(?:km|m|kg|h)|"
                             r"[\w-]+\.(?:csv|json|xlsx|ipynb|html)")
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff々〆ヵヶ]+")
#: Proper names an English page keeps as published (the review's title and the names of the
#: mechanisms it describes, which have no official English name). The consultation levels
#: (課長協議, 担当者協議, 地域課題調整会議) are not among them: a page says them in English, the
#: Japanese at most in brackets.
EN_PROPER_NAMES = ("本庁と区役所の在り方について", "まちづくり推進経費", "まちづくりセンター",
                   "地域ニーズ反映の仕組み",
                   "復興支援自治推進経費", "地域力向上事業", "区重点提案事業",
                   # places and a newspaper, by their own names
                   "熊本県", "中区", "西区", "天竜区", "熊日")
#: Where Japanese may stand on an English page: quoted (「…」) or as a gloss in brackets after
#: the English words ((土木センター), 【成果】).
EN_QUOTED = re.compile(r"「[^「」]*」|\([^()]*\)|（[^（）]*）|【[^】]*】|\[[^\]]*\]|［[^］]*］")


#: The budgets' comparability classes, named (a)–(d) (区分a) on every page as in the data.
CLASS_LETTER = re.compile(r"[(（][a-d][)）]|(?<=区分)[a-d](?![A-Za-z])")


def ascii_words_on_a_japanese_page(path: Path) -> list[str]:
    # a link to the English page is named in English (English, FY2013)
    shown = [t for t, href in _parse(path).nodes if not _is_english_link(href)]
    text = CLASS_LETTER.sub(" ", URL.sub(" ", " ".join(shown)))
    return sorted({w for w in ASCII_WORD.findall(text)
                   if w not in JA_ALLOWED and not JA_ALLOWED_FORM.fullmatch(w)})


def _is_english_link(href: str) -> bool:
    return "/en/" in href or href.endswith(("/en", "index.en.html"))


@functools.cache
def _published_values() -> frozenset[str]:
    """Every text value of the shipped data: a cell that shows one is a name as published."""
    import csv

    root = Path(__file__).resolve().parents[2] / "data" / "raw"
    values = set()
    for f in root.glob("*.csv"):
        with open(f, encoding="utf-8", newline="") as fh:
            values.update(" ".join(v.split()) for row in csv.reader(fh) for v in row)
    return frozenset(values)


@functools.cache
def _translated_values() -> frozenset[str]:
    """Every Japanese text of the shipped data that its dataset also gives in English (a column
    of a language pair): an English page shows the English, never this."""
    import wardanalysis as wa
    from wardanalysis.data.schema import dataset_names, get_schema

    values = set()
    for name in dataset_names():
        frame = wa.load(name)
        for ja, _ in get_schema(name).language_pairs():
            values.update(" ".join(str(v).split()) for v in frame[ja].dropna()
                          if JAPANESE.search(str(v)))
    return frozenset(values)


def japanese_on_an_english_page(path: Path) -> list[str]:
    found = set()
    for text, href in _parse(path).nodes:
        if "/ja/" in href or href.rstrip("/").endswith(("index.html", "ja")) and "en" not in href:
            continue  # a link to the Japanese page is named in Japanese (日本語, 2013年度)
        if text in _translated_values():
            found.add(text)  # the dataset gives it in English: the page shows the wrong column
            continue
        if not JAPANESE.search(text) or text in _published_values():
            continue
        if not re.search(r"[A-Za-z]", text):
            continue  # a name or heading shown as published, on its own (a table cell)
        rest = text
        for _ in range(4):  # the innermost quote or bracket first
            rest = EN_QUOTED.sub(" ", rest)
        for name in EN_PROPER_NAMES:
            rest = rest.replace(name, " ")
        found.update(JAPANESE.findall(rest))
    return sorted(found)


ROOT = Path(__file__).resolve().parents[2]


def _one_language_cases():
    # every notebook in the folder (a new one is checked without editing this file) but the
    # transcription, whose Japanese text an English page shows on purpose
    return [pytest.param(lang, nb)
            for lang in LANGS
            for nb in ("front", *sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb")
                                        if p.stem != "source_review"))]


def _pages_of(out: Path, lang: str, nb: str) -> list[Path]:
    if nb == "front":
        return [out / ("index.html" if lang == "ja" else "index.en.html")]
    if nb == "fiscal_year_report":
        return sorted(out.glob(f"{nb}/*/{lang}/index.html"))
    return [out / nb / lang / "index.html"]


@pytest.mark.parametrize("lang,nb", _one_language_cases())
def test_a_page_speaks_its_own_language(default_batch, lang, nb):
    """A Japanese page shows no ASCII word outside the allow-list; an English page no Japanese
    outside quotes, glosses, names as published and links to the Japanese page."""
    pages = _pages_of(default_batch[0], lang, nb)
    assert pages
    from wardanalysis.text.messages import avoided

    for path in pages:
        found = (ascii_words_on_a_japanese_page(path) if lang == "ja"
                 else japanese_on_an_english_page(path))
        assert found == [], f"{path}: {found[:15]}"
        text = " ".join(_parse(path).text)
        assert [w for w in avoided()[lang] if w in text] == [], path  # the terms list
        # a fiscal year is FY2023 on an English page, never R5 or 令和5年度 (the data overview
        # aside: it shows the sources' rows as printed and explains their notation, R6.3)
        if lang == "en" and nb != "00_overview":
            assert ERA_LABEL.findall(text) == [], f"{path}: {ERA_LABEL.findall(text)[:10]}"


def test_the_language_checks_can_fail(tmp_path):
    """The checks above find what they look for (an English word on a Japanese page, Japanese
    prose on an English page, a snake_case code) and pass what is allowed."""
    ja = tmp_path / "ja.html"
    ja.write_text('<html lang="ja"><body><p>準ポアソンGLM（t分布）、R5、2024年度、(a)と区分b。Wald区間 a'
                  '</p><p>https://example.org/a_b</p></body></html>', encoding="utf-8")
    assert ascii_words_on_a_japanese_page(ja) == ["Wald", "a"]  # a class letter only in (a)
    fy = tmp_path / "fy.html"  # a fiscal year is 2019年度 on a Japanese page, FY2019 only as
    fy.write_text('<html lang="ja"><body><td>FY2019</td>'  # the name of a link to English
                  '<a href="../en/index.html">FY2020</a></body></html>', encoding="utf-8")
    assert ascii_words_on_a_japanese_page(fy) == ["FY2019"]
    en = tmp_path / "en.html"
    en.write_text('<html lang="en"><body><a href="../ja/index.html">日本語</a>'
                  "<p>The centres (土木センター) 「要望」 and まちづくりセンター staff.</p>"
                  "<td>【成果】</td><p>The budget was 50,000千円.</p></body></html>",
                  encoding="utf-8")
    assert japanese_on_an_english_page(en) == ["千円"]
    shown = tmp_path / "shown.html"  # a cell of a Japanese column whose English the data give
    shown.write_text('<html lang="en"><body><td>区民の声</td><td>各区役所を設置</td>'
                     "<p>Each 課長協議 case.</p></body></html>", encoding="utf-8")
    assert japanese_on_an_english_page(shown) == ["区民の声", "各区役所を設置", "課長協議"]
    assert SNAKE.findall("see needs_reflection and R5") == ["needs_reflection"]
    assert ERA_LABEL.findall("FY2023 (R5), R元, 令和5年度; FY2023, R² 0.9, H0") == [
        "R5", "R元", "令和"]


def test_reports_open_with_their_answer(default_batch):
    out, _ = default_batch
    for nb in ("00_overview", "01_requests_covid", "02_escalation", "03_budgets_cross_city"):
        for lang in LANGS:
            text = (out / nb / lang / "index.html").read_text(encoding="utf-8")
            main = text[text.index("<main>"):]
            assert main.index('class="wa-summary"') < main.index("<h2 id=\"s1\""), (nb, lang)
            heading = "要旨" if lang == "ja" else "Summary"
            assert heading in main[:main.index("<h2 id=\"s1\"")]


def test_pages_request_nothing_from_the_network_and_embed_their_font(default_batch):
    out, _ = default_batch
    for path in sorted(out.rglob("*.html")):
        page = _parse(path)
        text = path.read_text(encoding="utf-8")
        for tag, attr, ref in page.refs:
            if tag == "a":
                continue  # a link the reader may follow, never loaded by the page
            assert not re.match(r"(https?:)?//", ref), f"{path}: <{tag} {attr}={ref}>"
        assert not re.search(r"@import|url\((?!data:|#)", text), path
        if path.name == "index.html" or path.name == "index.en.html":
            assert "@font-face" in text and "font/woff;base64," in text, path


def test_a_reviewer_page_is_small(default_batch):
    out, _ = default_batch
    sizes = [p.stat().st_size for pages in _reader_pages(out).values() for p in pages]
    assert statistics.median(sizes) <= 340 * 1024, f"median {statistics.median(sizes):.0f} B"


def test_navigation_links_resolve(default_batch):
    out, _ = default_batch
    for _, pages in _reader_pages(out).items():
        for path in pages:
            for tag, _attr, ref in _parse(path).refs:
                if tag != "a" or ref.startswith(("http", "#", "mailto:", "data:")):
                    continue
                target = (path.parent / ref).resolve()
                assert target.exists(), f"{path}: {ref}"


def test_a_fiscal_year_page_links_the_years_beside_it(default_batch):
    out, _ = default_batch
    page = (out / "fiscal_year_report" / "2020" / "ja" / "index.html").read_text(encoding="utf-8")
    assert 'href="../../../fiscal_year_report/2019/ja/index.html"' in page
    assert 'href="../../../fiscal_year_report/2021/ja/index.html"' in page
    assert 'href="../../../fiscal_year_report/2020/en/index.html"' in page
    assert 'href="../../../index.html"' in page
    first = (out / "fiscal_year_report" / "2013" / "en" / "index.html").read_text(encoding="utf-8")
    assert "Previous year" not in first and "Next year (FY2014)" in first


def test_figures_are_numbered_with_captions_sources_and_alt_text(default_batch):
    out, _ = default_batch
    text = (out / "01_requests_covid" / "ja" / "index.html").read_text(encoding="utf-8")
    numbers = [int(n) for n in re.findall(r"<figcaption>図(\d+)", text)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 5
    assert text.count("出典：") >= len(numbers)
    assert not re.search(r'aria-label=""', text)
    assert "No description has been provided" not in text
    one_value = (out / "fiscal_year_report" / "2013" / "ja" / "index.html").read_text(
        encoding="utf-8")
    assert "<figure>" not in one_value  # FY2013 has a single value: no chart


# --- in a real browser --------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it: "
                             "apt-get install chromium)")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", *args],
        capture_output=True, text=True, timeout=180, check=False)


@needs_chromium
@pytest.mark.parametrize("width", [1280, 390])
def test_pages_fit_the_screen_and_render_japanese(default_batch, tmp_path, width):
    """A screenshot at desktop and phone width; at 390 px the page itself must not scroll
    sideways (wide tables scroll inside their own box)."""
    out, _ = default_batch
    page = out / "01_requests_covid" / "ja" / "index.html"
    shot = tmp_path / f"shot-{width}.png"
    run = _chromium(tmp_path, f"--window-size={width},1600", "--hide-scrollbars",
                    f"--screenshot={shot}", page.as_uri())
    assert run.returncode == 0 and shot.stat().st_size > 20_000, run.stderr[-1000:]
    # the width of the laid-out document: a probe copy of the page (policy removed, so that
    # the test's own one-line script may run) writes it into the DOM
    text = page.read_text(encoding="utf-8")
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
    # headless Chromium keeps a minimum window width, so the layout box is set to the width
    text = text.replace("</head>", f"<style>html{{width:{width}px}}</style></head>")
    text = text.replace("</body>", "<script>document.body.setAttribute('data-width', "
                                   "document.documentElement.scrollWidth + ' ' + "
                                   "window.innerWidth)</script></body>")
    probe = tmp_path / "probe.html"
    probe.write_text(text, encoding="utf-8")
    dom = _chromium(tmp_path, f"--window-size={width},1600", "--virtual-time-budget=2000",
                    "--dump-dom", probe.as_uri()).stdout
    m = re.search(r'data-width="(\d+) (\d+)"', dom)
    assert m, dom[-500:]
    page_width, window = int(m[1]), int(m[2])
    assert page_width <= max(width, window), (
        f"the page is {page_width} px wide in a {width} px layout ({window} px window)")


@needs_chromium
def test_a_report_prints_on_a4(default_batch, tmp_path):
    out, _ = default_batch
    pdf = tmp_path / "report.pdf"
    run = _chromium(tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                    (out / "03_budgets_cross_city" / "ja" / "index.html").as_uri())
    assert run.returncode == 0 and pdf.stat().st_size > 10_000, run.stderr[-1000:]
    data = pdf.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert boxes, "no page size in the PDF"
    w, h = (float(x) for x in boxes[0])
    assert abs(w - 595.3) < 2 and abs(h - 841.9) < 2, (w, h)  # A4 in points


@needs_chromium
def test_from_the_front_page_to_a_report_its_other_language_and_the_next_year(default_batch,
                                                                             tmp_path):
    """Follow the links a reviewer follows, each page as Chromium renders it."""
    out, _ = default_batch

    def links(page: Path) -> list[str]:
        dom = _chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
        return re.findall(r'<a href="([^"]+)"', dom)

    front = out / "index.html"
    first = next(h for h in links(front) if h.startswith("01_requests_covid/"))
    report = (front.parent / first).resolve()
    assert report == out / "01_requests_covid" / "ja" / "index.html"
    other = next(h for h in links(report) if h.endswith("01_requests_covid/en/index.html"))
    assert (report.parent / other).resolve().is_file()
    grid = next(h for h in links(front) if h.startswith("fiscal_year_report/2022/ja"))
    fy = (front.parent / grid).resolve()
    following = next(h for h in links(fy) if "fiscal_year_report/2023/ja" in h)
    assert (fy.parent / following).resolve() == out / "fiscal_year_report" / "2023" / "ja" / (
        "index.html")


def test_every_table_can_be_downloaded_as_csv(default_batch):
    import base64

    out, _ = default_batch
    text = (out / "01_requests_covid" / "en" / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<a download="([^"]+\.csv)" href="data:text/csv;charset=utf-8;'
                       r'base64,([^"]+)"', text)
    assert len(links) >= 3
    # named by the report, the table's number and its section, never twice the same
    title = __import__("html").unescape(re.search(r"<title>(.*?)</title>", text)[1])
    names = [name for name, _ in links]
    assert len(set(names)) == len(names) and all("-" in n for n in names), names
    assert names[0].startswith(re.sub(r"[\\/:*?\"<>|\s]+", "_", title)[:20]), (names[0], title)
    first = base64.b64decode(links[0][1]).decode("utf-8-sig")
    assert first.splitlines()[0].startswith("Fiscal year") and "1,710" in first
