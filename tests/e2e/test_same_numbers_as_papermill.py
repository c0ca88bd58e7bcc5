"""The batch publishes what a researcher's own kernel computes: notebooks 01 and 05 (05 on a user's
request log) run through ``wardanalysis run`` and through the plain ``papermill`` command record
identical estimates, to the last digit."""

from __future__ import annotations

import html
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from wardanalysis.paths import notebooks_dir
from wardanalysis.records import collected_rows

pytestmark = pytest.mark.slow
NOTEBOOKS = ("01_requests_covid", "05_monthly_log")
WARDS = ["中央区", "東区", "西区", "南区", "北区"]


def _request_log(path: Path, n: int = 300, seed: int = 7) -> None:
    """A request log of the shape a city exports: a few hundred rows over five fiscal years
    (its monthly counts vary no more than Poisson counts: the negative binomial model is at its
    boundary, where the batch's and papermill's kernels once disagreed)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2019-04-01")
    received = start + pd.to_timedelta(np.sort(rng.integers(0, 1826, n)), unit="D")
    handled = [(r + pd.Timedelta(days=int(d))).date().isoformat() if rng.random() < 0.9 else ""
               for r, d in zip(received, rng.exponential(50, n), strict=True)]
    priority = rng.random(n) < 0.1
    pd.DataFrame({
        "request_id": [f"R{i:05d}" for i in range(n)], "received_date": received.date,
        "ward": rng.choice(WARDS, n), "center": "", "category": "", "channel": "",
        "handled_date": handled, "is_priority_issue": priority,
        "level_reached": np.where(priority, "担当者協議", ""), "is_decided_to_act": False,
    }).to_csv(path / "request_log.csv", index=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("same-numbers")
    data = root / "my_log"
    data.mkdir()
    _request_log(data)
    out = root / "reports"
    args = [sys.executable, "-m", "wardanalysis", "run", "--out", str(out), "--lang", "en",
            "--data-dir", str(data), "--no-progress"]
    for name in NOTEBOOKS:
        args += ["--notebook", name]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    batch = {}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for entry in manifest["reports"]:
        nb = nbformat.read(out / entry["report"]["files"]["notebook"], as_version=4)
        batch[entry["notebook"]] = collected_rows(nb)
    plain = {}
    for name in NOTEBOOKS:
        executed = root / f"{name}.papermill.ipynb"
        proc = subprocess.run(
            [str(Path(sys.executable).with_name("papermill")), str(notebooks_dir() / f"{name}.ipynb"),
             str(executed), "-p", "lang", "en", "-p", "data_dir", str(data), "--cwd", str(root),
             "--no-progress-bar"], capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        plain[name] = collected_rows(nbformat.read(executed, as_version=4))
    return batch, plain, root


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_recorded_estimate_is_identical(runs, name):
    batch, plain, _ = runs
    assert batch[name], f"{name} recorded nothing"
    assert [r["key"] for r in batch[name]] == [r["key"] for r in plain[name]]
    for ours, theirs in zip(batch[name], plain[name], strict=True):
        assert json.dumps(ours, sort_keys=True) == json.dumps(theirs, sort_keys=True), \
            (ours, theirs)


def test_the_boundary_negative_binomial_records_no_number_on_either_path(runs):
    batch, plain, _ = runs
    for rows in (batch["05_monthly_log"], plain["05_monthly_log"]):
        keys = {r["key"] for r in rows}
        assert "monthly.level_rr" in keys
        assert "monthly.level_rr_nb" not in keys



def _run_05(out: Path, *data_dirs: Path) -> dict:
    args = [sys.executable, "-m", "wardanalysis", "run", "--out", str(out), "--lang", "en",
            "--notebook", "05_monthly_log", "--no-progress"]
    for d in data_dirs:
        args += ["--data-dir", str(d)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return next(e for e in manifest["reports"] if e["notebook"] == "05_monthly_log")


def test_a_page_says_when_it_went_from_the_users_data_to_simulated_data(runs):
    """05 was made from the user's request log (the module's first run). A yearly run whose data
    folder holds no log makes it from simulated data: its page and the front page say that it
    was made from the user's data last time; given both folders, it is the user's data again."""
    _, _, root = runs
    out, yearly = root / "reports", root / "yearly"
    yearly.mkdir()
    (yearly / "notes.txt").write_text("the analyst's yearly folder, without the log\n")
    entry = _run_05(out, yearly)
    report = entry["report"]
    assert report["headline"]["simulated"] and report["switched_from"] == ["request_log.csv"]
    page = html.unescape((out / report["files"]["review"]).read_text(encoding="utf-8"))
    assert "The previous version of this report was made from the user's data " \
           "(request_log.csv)" in page
    front = (out / "index.en.html").read_text(encoding="utf-8")
    assert "real data last time, simulated now" in front
    # several folders at once: the yearly one and the log's, the log read from the second
    again = _run_05(out, yearly, root / "my_log")["report"]
    assert not again["headline"]["simulated"] and not again["switched_from"]
    assert [Path(o["file"]).name for o in again["overlays"].values()] == ["request_log.csv"]
    assert "simulated now" not in (out / "index.en.html").read_text(encoding="utf-8")
