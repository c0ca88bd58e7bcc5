"""Clean diffs (issue 23 §3): on one machine identical inputs give byte-identical notebooks and
pages; recorded numbers are stored at the 12 significant digits results.csv keeps, so that a
committed notebook re-executed elsewhere changes no number at that precision."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest

from wardanalysis import records
from wardanalysis.site.results_files import _csv_number
from wardanalysis.paths import notebooks_dir


def test_a_recorded_number_is_stored_as_results_csv_writes_it():
    rng = np.random.default_rng(23)
    values = np.concatenate([rng.lognormal(0, 6, 2000), -rng.random(200), [1269.9999999999934,
                             665.2499999999982, 0.1 + 0.2, 1e-9 / 3, 0.0]])
    for v in map(float, values):
        kept = records.stored(v)
        assert _csv_number(kept) == _csv_number(v)  # results.csv is unchanged by the storing
        assert records.stored(kept) == kept  # and storing again changes nothing
        assert kept == 0 or math.isclose(kept, v, rel_tol=1e-11)
    assert records.stored(1269.9999999999934) == 1270.0


def test_record_rows_carry_the_stored_numbers():
    import pandas as pd

    frame = pd.DataFrame({"key": ["a"], "value": [1269.9999999999934], "ci_low": [1 / 3],
                          "ci_high": [float("nan")], "unit": ["requests"]})
    row = records.record_rows(frame)[0]
    assert (row["value"], row["ci_low"], row["ci_high"]) == (1270.0, 0.333333333333, None)


def test_committed_notebooks_store_records_at_twelve_digits():
    checked = 0
    for path in sorted(notebooks_dir().glob("*.ipynb")):
        for r in records.collected_rows(json.loads(path.read_text(encoding="utf-8"))):
            for c in ("value", "ci_low", "ci_high"):
                assert r[c] is None or records.stored(r[c]) == r[c], (path.name, r["key"], c)
                checked += r[c] is not None
    assert checked > 100


def test_the_embedded_font_is_the_same_whenever_it_is_made(monkeypatch):
    """fontTools stamps a font it saves with the time (head.modified) unless told not to; the
    page's subset (nor a chart's) must not carry it, or two runs of one page differ."""
    from fontTools.ttLib.tables import _h_e_a_d

    from wardanalysis import fonts
    from wardanalysis.site import pages

    made = []
    for stamp in (3_000_000_000, 3_000_086_400):
        monkeypatch.setattr(_h_e_a_d, "timestampNow", lambda stamp=stamp: stamp)
        fonts.subset_woff.cache_clear()
        made.append((pages.font_face("熊本市の本庁と区役所"),
                     fonts.figure_font_css('<svg><text x="1">熊本市 FY2023</text></svg>')))
    fonts.subset_woff.cache_clear()
    assert made[0] == made[1]


def test_a_notebook_executed_twice_is_byte_identical(tmp_path):
    """``make notebooks`` run twice on one machine: the same bytes (figures as SVG included).
    The fiscal-year report: the shortest notebook with a figure, a table and the summary box."""
    from wardanalysis.refresh import refresh

    copies = []
    for run in ("first", "second"):
        (tmp_path / run).mkdir()
        copy = tmp_path / run / "fiscal_year_report.ipynb"
        shutil.copy(notebooks_dir() / copy.name, copy)
        refresh(copy)
        copies.append(copy.read_bytes())
    assert copies[0] == copies[1]
    assert b"<svg" in copies[0]
