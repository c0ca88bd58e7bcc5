"""End-to-end: the README's cycle with a user's figures (correct FY2023, add FY2024), as a new
researcher runs it on the reports of the default batch: ``check`` says what the overlay
changes; ``run`` says it, executes only the reports whose inputs changed (judged by the content
each report can see: a fiscal-year report sees the rows up to its year; never by the path of the
data directory), and the pages and results say which figures are the user's."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from batch_helpers import run_real_batch

HEAD = ("era_label,requests,requests_handled,priority_issues,decided_to_act,staff_consultations,"
        "section_chief_consultations,coordination_meetings\n")


def _overlay(folder: Path, fy2023_requests: str = "651") -> Path:
    folder.mkdir(parents=True)
    # cp932 with CRLF and thousands separators, as Excel writes it
    (folder / "needs_reflection.csv").write_bytes(
        (HEAD + f'R5,{fy2023_requests},587,3,3,3,1,―\r\nR6,"1,001",602,5,4,5,1,―\r\n')
        .encode("cp932"))
    return folder


def _readers(reports: Path, dataset: str) -> set[str]:
    """The reports of all years in Japanese (one language is enough: the cache treats both
    alike, and each run costs half as much) whose kernel read ``dataset``, as each report's
    record says (the access log of ``wardanalysis.load``, not the cache's own reckoning)."""
    manifest = json.loads((reports / "manifest.json").read_text(encoding="utf-8"))
    return {e["id"] for e in manifest["reports"] if e["lang"] == "ja" and e["report"]
            and e.get("fiscal_year") is None and dataset in e["report"]["datasets"]}


def _executed(stdout: str) -> set[str]:
    m = re.search(r"^executed for the changed data: (.*)$", stdout, re.M)
    return set(m[1].split(", ")) if m else set()


def _fy(*years: int) -> set[str]:
    return {f"fiscal_year_report/fy{y}-ja" for y in years}


@pytest.fixture(scope="module")
def cycle(default_batch, tmp_path_factory):
    """The default batch's reports, then a Japanese run with the user's figures: the reports
    before that run's, and its output."""
    base = tmp_path_factory.mktemp("cycle")
    out = base / "reports"
    shutil.copytree(default_batch[0], out)
    before = _readers(out, "needs_reflection")
    run = run_real_batch(out, "--lang", "ja", "--data-dir", str(_overlay(base / "my_figures")))
    assert run.returncode == 0, run.stderr[-2000:]
    return base, out, before, run


def test_check_says_what_the_overlay_changes(tmp_path):
    d = _overlay(tmp_path / "my_figures")
    run = subprocess.run([sys.executable, "-m", "wardanalysis", "check", str(d)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "replaces fiscal_year=2023 (requests 650 → 651)" in out
    assert "adds fiscal_year=2024" in out
    assert "printed totals no longer match the rows (requests 6471 ≠ 6472)" in out


def test_run_marks_the_users_figures_everywhere(cycle):
    _, out, _, run = cycle
    assert "overlay: needs_reflection.csv (needs_reflection, sha256" in run.stdout
    assert "replaces fiscal_year=2023 (requests 650 → 651)" in run.stdout
    page = (out / "fiscal_year_report" / "2023" / "ja" / "index.html").read_text(encoding="utf-8")
    assert "利用者のファイル needs_reflection.csv" in page and "文書の数字ではない" in page
    covid = (out / "01_requests_covid" / "ja" / "index.html").read_text(encoding="utf-8")
    assert "2023※" in covid and "2024※" in covid  # the user's rows are marked in the table
    assert "文書に印刷された計は6,471だが、修正後の行の合計は6,472" in covid
    with open(out / "results.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    used = {r["overlay_files"] for r in rows if r["notebook"] == "fiscal_year_report"
            and r["lang"] == "ja" and r["fiscal_year"] in ("2023", "2024")}
    assert len(used) == 1 and next(iter(used)).startswith("needs_reflection.csv (sha256 ")


def test_only_the_reports_that_can_see_a_change_are_executed(cycle):
    base, out, analyses, run = cycle
    # 04_data_needed and 05_monthly_log read it too: their simulation is calibrated to it
    assert {"01_requests_covid/ja", "04_data_needed/ja", "05_monthly_log/ja"} <= analyses
    # FY2023 corrected, FY2024 added: every analysis, and the fiscal-year reports from FY2023 on
    assert _executed(run.stdout) == analyses | _fy(2023, 2024)

    # FY2023 corrected again: the fiscal-year reports from FY2023 on see it, FY2022's cannot
    # (the analyses see every row, as the first run showed: the rest runs the reports by year)
    corrected = _overlay(base / "corrected", fy2023_requests="652")
    fy_only = ("--lang", "ja", "--notebook", "fiscal_year_report")
    run = run_real_batch(out, *fy_only, "--data-dir", str(corrected))
    assert run.returncode == 0, run.stderr[-2000:]
    assert _executed(run.stdout) == _fy(2023, 2024)

    # the same figures in another folder: nothing to do
    moved = Path(shutil.copytree(corrected, base / "elsewhere" / "same figures"))
    run = run_real_batch(out, *fy_only, "--data-dir", str(moved))
    assert run.returncode == 0, run.stderr[-2000:]
    assert _executed(run.stdout) == set()
    assert "0 to execute" in run.stdout
