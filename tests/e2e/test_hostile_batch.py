"""End-to-end: injection strings in every free-text column of every dataset, and in the one
string parameter a user sets (``data_dir``, whose folder name is itself an injection), through
the real batch. Every page is parsed: no element or attribute may appear that the clean batch's
pages do not have, and none may carry an event handler or a script URL. Headless Chromium
(Debian's ``chromium``) then opens a poisoned page and a page with raw markup forced into it, and
checks that nothing ran.

Also here: a run with fewer notebooks keeps the other reports; ``--prune`` removes them.
"""

from __future__ import annotations

import csv
import html.parser
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from batch_helpers import run_real_batch

from wardanalysis.data.schema import dataset_names, get_schema
from wardanalysis.paths import shipped_data_dir

#: Appended to every free-text cell; each would run script or leave the page if rendered as
#: markup. The marker attribute lets the browser test see whether any handler ran.
PAYLOADS = [
    "<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','img')\">",
    "<svg onload=\"document.documentElement.setAttribute('data-pwned','svg')\"></svg>",
    "<details open ontoggle=\"document.documentElement.setAttribute('data-pwned','dt')\">",
    "<iframe src=\"javascript:alert(1)\"></iframe><script>alert(1)</script>",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://example.org\">",
    "<form action=\"https://example.org\"><button>x</button></form>",
    "[click](javascript:alert(1)) <a href=\"javascript:alert(1)\">a</a>",
]
#: The poisoned overlay folder's own name is an injection too (it reaches the pages as the
#: data_dir parameter and in the provenance).
POISON_DIR = "overlay<img src=x onerror=alert(1)>"


def _free_text_columns(name: str) -> list[str]:
    schema = get_schema(name)
    return [c.name for c in schema.columns if c.type == "string" and not c.enum
            and not c.pattern and c.name not in schema.key and c.name != schema.fiscal_year_from]


def _poison(target: Path) -> int:
    """Write an overlay of every dataset with free text, each such cell with a payload
    appended (the payloads rotate); returns the number of cells poisoned."""
    target.mkdir(parents=True)
    count = 0
    for name in dataset_names():
        columns = _free_text_columns(name)
        if not columns:
            continue
        schema = get_schema(name)
        src = shipped_data_dir() / schema.path
        rows = list(csv.reader(io.StringIO(src.read_text(encoding="utf-8"))))
        header = rows[0]
        idx = [header.index(c) for c in columns if c in header]
        for r in rows[1:]:
            if schema.totals_label and schema.totals_label in r:
                continue
            for i in idx:
                r[i] = r[i] + PAYLOADS[count % len(PAYLOADS)]
                count += 1
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(rows)
        (target / f"{name}.csv").write_text(buf.getvalue(), encoding="utf-8")
    return count


class _Collector(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attrs: set[tuple[str, str]] = set()
        self.bad: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for k, v in attrs:
            self.attrs.add((tag, k))
            value = (v or "").strip().lower()
            if k.startswith("on"):
                self.bad.append(f"<{tag} {k}=…>")
            if k in ("href", "src", "action", "formaction") and value.startswith(
                    ("javascript:", "vbscript:", "data:text/html")):
                self.bad.append(f"<{tag} {k}={value[:30]}>")
        if tag in ("script", "iframe", "form", "object", "embed"):
            self.bad.append(f"<{tag}>")
        if tag == "meta" and dict(attrs).get("http-equiv", "").lower() == "refresh":
            self.bad.append("<meta http-equiv=refresh>")


def _pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def _collect(paths: list[Path]) -> _Collector:
    c = _Collector()
    for p in paths:
        c.feed(p.read_text(encoding="utf-8"))
    return c


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    base = tmp_path_factory.mktemp("poison")
    overlay = base / POISON_DIR
    n = _poison(overlay)
    out = base / "reports"
    # every notebook in both languages; one fiscal year (the report is the same code each year)
    run = run_real_batch(out, "--data-dir", str(overlay), "--fiscal-year", "2023")
    assert run.returncode in (0, 1), run.stderr[-3000:]
    return out, n


def test_every_free_text_cell_was_poisoned_and_reached_the_pages(poisoned):
    out, n = poisoned
    assert n >= 100
    text = "".join(p.read_text(encoding="utf-8") for p in _pages(out))
    # the payloads are on the pages, as text
    assert "onerror=" in text or "onerror=&quot;" in text
    assert "&lt;svg" in text and "&lt;details" in text


def test_poisoned_pages_have_no_element_or_attribute_of_their_own(poisoned, default_batch):
    out, _ = poisoned
    clean = _collect(_pages(default_batch[0]))
    dirty = _collect(_pages(out))
    assert clean.bad == [], clean.bad[:5]  # the package's own pages are clean
    assert dirty.bad == [], dirty.bad[:10]
    assert dirty.tags - clean.tags == set()
    assert dirty.attrs - clean.attrs == set()


def test_every_page_forbids_scripts(poisoned, default_batch):
    """Every page of the poisoned run and of the clean batch."""
    for page in _pages(poisoned[0]) + _pages(default_batch[0]):
        text = page.read_text(encoding="utf-8")
        assert 'http-equiv="Content-Security-Policy"' in text, page
        assert "script-src 'none'" in text and "default-src 'none'" in text


# --- in a real browser --------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it: "
                             "apt-get install chromium)")


def _dom(page: Path, tmp_path: Path) -> str:
    """The DOM after load, as headless Chromium sees it (scripts it allows have run)."""
    run = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


@needs_chromium
def test_a_poisoned_page_runs_nothing_in_chromium(poisoned, tmp_path):
    out, _ = poisoned
    page = next(p for p in _pages(out) if p.name == "index.html" and "03_budgets" in str(p))
    dom = _dom(page, tmp_path)
    assert "<html" in dom and "data-pwned=\"" not in dom


@needs_chromium
def test_the_content_security_policy_stops_markup_that_escaping_missed(tmp_path):
    """A page with raw markup forced into an output (as if escaping had failed): under the
    pages' policy the handler does not run; without the policy it does (the test can fail)."""
    from wardanalysis.site.render import Renderer

    payload = ("<img src=x onerror=\"document.documentElement.setAttribute('data-pwned','1')\">")
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "id": "c1", "metadata": {}, "execution_count": 1, "source": "x",
         "outputs": [{"output_type": "display_data", "metadata": {},
                      "data": {"text/html": payload, "text/plain": "x"}}]}]}
    info = {"notebook": "probe", "lang": "en", "parameters": {}, "status": "ok"}
    review = Renderer().views(nb, info)["review"]
    guarded = tmp_path / "guarded.html"
    guarded.write_text(review, encoding="utf-8")
    unguarded = tmp_path / "unguarded.html"
    unguarded.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", review),
                         encoding="utf-8")
    assert 'data-pwned="1"' not in _dom(guarded, tmp_path)
    assert 'data-pwned="1"' in _dom(unguarded, tmp_path)


# --- no command deletes what it did not make ----------------------------------------------------

def test_a_run_of_fewer_notebooks_keeps_the_other_reports_and_prune_removes_them(
        default_batch, tmp_path):
    out = tmp_path / "reports"
    shutil.copytree(default_batch[0], out)
    before = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    some = tmp_path / "notebooks"
    some.mkdir()
    repo = Path(__file__).resolve().parents[2]
    shutil.copy(repo / "notebooks" / "02_escalation.ipynb", some)
    run = run_real_batch(out, "--notebooks-dir", str(some))
    assert run.returncode == 0, run.stderr[-2000:]
    after = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {e["id"] for e in after["reports"]} == {e["id"] for e in before["reports"]}
    kept = [e for e in after["reports"] if e.get("kept")]
    assert kept and all(e["notebook"] != "02_escalation" for e in kept)
    for e in kept:  # every kept report's files are still there
        assert (out / e["report"]["dir"] / "index.html").is_file()
    assert "kept from an earlier run" in (out / "runs.html").read_text(encoding="utf-8")
    run = run_real_batch(out, "--notebooks-dir", str(some), "--prune")
    assert run.returncode == 0
    pruned = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert {e["notebook"] for e in pruned["reports"]} == {"02_escalation"}
    assert not any((out / e["report"]["dir"]).exists() for e in kept)
    assert os.listdir(out / "02_escalation")
