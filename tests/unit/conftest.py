"""Shared fixtures for the unit tests of the models, results, glossary and plotting.

Frames are small, built here and seeded, so the tests do not depend on the shipped data. Plots
are drawn headless (Agg) with every warning turned into an error, so a missing Japanese glyph
fails the test.
"""

from __future__ import annotations

import copy
import dataclasses
import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def needs_frame() -> pd.DataFrame:
    """Seven fiscal years shaped like needs_reflection, with seeded counts."""
    rng = np.random.default_rng(2024)
    years = np.arange(2017, 2024)
    requests = rng.integers(400, 1800, size=7)
    priority = rng.integers(2, 40, size=7)
    chief = np.minimum(priority, rng.integers(0, 6, size=7))
    coord = np.minimum(chief, rng.integers(0, 2, size=7))
    frame = pd.DataFrame({
        "fiscal_year": years,
        "era_label": ["H29", "H30", "R元", "R2", "R3", "R4", "R5"],
        "requests": requests,
        "requests_handled": (requests * rng.uniform(0.8, 0.95, size=7)).astype(int),
        "priority_issues": priority,
        "decided_to_act": (priority * rng.uniform(0.5, 1.0, size=7)).astype(int),
        "staff_consultations": priority,
        "section_chief_consultations": chief,
        "coordination_meetings": coord,
    })
    frame.attrs["provenance"] = {"dataset": "needs_reflection", "note": "built in a test"}
    return frame


@pytest.fixture
def measures_frame() -> pd.DataFrame:
    rows = [
        ("m1", "national_emergency", "熊本県", "2020-04-16", "2020-05-14", True, "N"),
        ("m2", "prefectural_emergency", "熊本県", "2021-01-14", "2021-02-17", True, "O"),
        ("m3", "priority_measures", "熊本市", "2021-08-08", "2021-09-30", True, "B"),
        ("m4", "reclassification", "全国", "2023-05-08", None, False, "N"),
    ]
    df = pd.DataFrame(rows, columns=["measure_id", "kind", "area_ja", "start_date", "end_date",
                                     "is_restriction", "quality"])
    df["start_date"] = pd.to_datetime(df["start_date"])
    df["end_date"] = pd.to_datetime(df["end_date"])
    return df


@pytest.fixture
def civil_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "fiscal_year": [2021, 2022] * 3,
        "category": ["road", "road", "park", "park", "river", "river"],
        "requests": [500, 560, 300, 280, 90, 99],
    })


@pytest.fixture
def population_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "city_ja": ["熊本市", "熊本市", "浜松市", "川崎市"],
        "city_en": ["Kumamoto", "Kumamoto", "Hamamatsu", "Kawasaki"],
        "area_ja": ["市全体", "市全体", "市全体", "宮前区"],
        "area_en": ["whole city", "whole city", "whole city", "Miyamae Ward"],
        "population_persons": [730000, 740000, 790000, 220000],
        "as_of_date": pd.to_datetime(["2015-10-01", "2022-12-01", "2023-06-01", "2010-10-01"]),
        "date_precision": ["day", "day", "day", "day"],
        "basis": ["census", "estimate", "resident_register", "census"],
        "quality": ["O", "N", "B", "B"],
    })


@pytest.fixture
def budget_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "fiscal_year": [2019, 2020, 2021, 2022],
        "budget_thousand_yen": [150000, 150000, 150000, 100000],
        "reconstruction_thousand_yen": [50000, 50000, 50000, 0],
        "period_label": ["R元~R3", "R元~R3", "R元~R3", "R4~R6"],
        "wards": [5, 5, 5, 5],
    })


@pytest.fixture
def ward_budgets_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "city_ja": ["川崎市", "川崎市", "大阪市"], "city_en": ["Kawasaki", "Kawasaki", "Osaka"],
        "area_ja": ["宮前区", "川崎区", "1区当たり平均"],
        "programme_ja": ["地域課題対応事業費", "一事業", "区長裁量予算"],
        "fiscal_year": [2025, 2025, 2021], "amount_as_printed": ["6196万2000円", "約1,865万円", "11億4千万円"],
        "amount_thousand_yen": [61962.0, 18650.0, 1140000.0], "is_approximate": [False, True, False],
        "scope": ["ward", "item", "per_ward_average"], "wards_covered": pd.array([1, 1, None], "Int64"),
        "is_discretionary_total": [True, False, True], "source_url": ["u1", "u2", "u3"],
        "quote_ja": ["q", "q", "q"], "quality": ["N", "O", "B"], "note": ["", "", ""],
        "comparability_class": ["a", "b", "c"],
    })


@pytest.fixture
def hamamatsu_budget_frame() -> pd.DataFrame:
    return pd.DataFrame({"fiscal_year": [2023], "era_label": ["R5"], "programme_ja": ["地域力向上事業"],
                         "budget_thousand_yen": [96458], "basis_ja": ["R5当初予算額"]})


@pytest.fixture
def proposals_frame() -> pd.DataFrame:
    return pd.DataFrame({"fiscal_year": [2023] * 2, "era_label": ["R5"] * 2,
                         "category": ["total", "facilities"], "category_ja": ["区重点提案事業", "施設"],
                         "proposals": pd.array([60, None], "Int64"), "budgeted": [40, 31]})


@pytest.fixture
def outcome_frame() -> pd.DataFrame:
    return pd.DataFrame({"first_fiscal_year": [2017], "period_as_printed": ["平成29年度から"],
                         "requests_handled": [5877], "priority_issues_funded": [104],
                         "funded_amount_yen": [1_300_000_000], "amount_as_printed": ["約13億円"],
                         "is_amount_approximate": [True]})


@pytest.fixture
def projects_frame() -> pd.DataFrame:
    return pd.DataFrame({"project_ja": ["ごみステーション施設整備に係る補助の新設", "老朽危険消防倉庫の建替え"],
                         "bureau_ja": ["環境局", "消防局"], "amount_thousand_yen": [2000, 47537]})


# --- helpers ------------------------------------------------------------------------------------

def deep_copy(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy(deep=True)
    out.attrs = copy.deepcopy(df.attrs)
    return out


def assert_unchanged(before: pd.DataFrame, after: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(after, before)
    assert after.attrs == before.attrs


def draw_headless(result, **kwargs) -> None:
    """Draw the result's plot in both languages with every warning an error (a missing glyph
    is a warning), render it, and close it."""
    import matplotlib.pyplot as plt

    for lang in ("ja", "en"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fig, ax = result.plot(lang=lang, **kwargs)
            fig.canvas.draw()
        assert ax.figure is fig
        assert ax.get_title(loc="left") or ax.get_title()
        plt.close(fig)


def check_result(result, keys) -> None:
    """The common contract of every result object."""
    from wardanalysis.results import RECORD_COLUMNS

    rec = result.records()
    assert tuple(rec.columns) == RECORD_COLUMNS
    assert rec["key"].is_unique
    missing = set(keys) - set(rec["key"])
    assert not missing, f"missing record keys: {sorted(missing)}"
    for lang in ("ja", "en"):
        text = result.text(lang)
        assert isinstance(text, str) and len(text) > 40
        assert any(ch.isdigit() for ch in text)
        assert result.method_text(lang)
        assert len(result.caveat_list(lang)) == len(result.caveats)
    assert result.caveats, "a result must carry its caveats"
    assert isinstance(result.n_obs, int) and result.n_obs > 0
    # every table column has a glossary label in both languages
    for lang in ("ja", "en"):
        labelled = result.table(lang=lang)
        assert labelled.shape == result.table().shape
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.method = "changed"
    # table() hands out a copy: changing it does not change the result
    t = result.table()
    t["__added_by_test"] = 1
    assert "__added_by_test" not in result.table().columns
    with pytest.raises(KeyError, match="fr"):
        result.text("fr")
    with pytest.raises(KeyError, match="fr"):
        result.plot(lang="fr")


@pytest.fixture
def check():
    """``check(result, keys)``: the common contract of every result."""
    return check_result


@pytest.fixture
def draw():
    """``draw(result, **plot_kwargs)``: headless drawing in both languages, warnings as errors."""
    return draw_headless


@pytest.fixture
def unchanged():
    """``snap = unchanged(df)`` before a call, ``snap()`` after it: the frame is unchanged."""

    def snapshot(df):
        before = deep_copy(df)
        return lambda: assert_unchanged(before, df)

    return snapshot


@pytest.fixture(autouse=True)
def _signal_handlers_are_left_as_found():
    """A test that runs a command in this process must give back SIGINT and SIGTERM as it found
    them: a handler left ignored is inherited by every command a later test starts (which then
    cannot be stopped by the signal it is tested with)."""
    import signal

    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    after = {s: signal.getsignal(s) for s in before}
    for s, handler in before.items():
        signal.signal(s, handler)
    assert after == before, "a test left the signal handlers changed"


@pytest.fixture(scope="session")
def load_benchmark():
    """``load_benchmark("coverage_05")``: a script of ``benchmarks/`` as a module (the hash of
    the code it describes, its scenarios), for the tests that keep its committed result current."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "benchmarks"

    def load(name: str):
        spec = importlib.util.spec_from_file_location(name, root / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def cli(capsys):
    """``wardanalysis ARGS`` run by ``cli.main`` in this process (importing the package in a child
    takes seconds): its exit status and what it printed, which must hold no traceback."""
    import contextlib
    import subprocess

    from wardanalysis.cli import main

    def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
        capsys.readouterr()
        with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext():
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse's usage errors and --help
                code = exc.code
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        return subprocess.CompletedProcess(args, code, out, err)

    return run
