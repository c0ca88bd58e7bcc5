"""End-to-end: the README's cycle with a user's figures (correct FY2023, add FY2024), as a new
researcher runs it: ``check`` says what the overlay changes, ``run`` says it and what it
executes, and the pages and results say which figures are the user's."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from batch_helpers import run_real_batch

HEAD = ("era_label,requests,requests_handled,priority_issues,decided_to_act,staff_consultations,"
        "section_chief_consultations,coordination_meetings\n")


def _overlay(tmp_path: Path) -> Path:
    d = tmp_path / "my_figures"
    d.mkdir()
    # cp932 with CRLF and thousands separators, as Excel writes it
    (d / "needs_reflection.csv").write_bytes(
        (HEAD + 'R5,651,587,3,3,3,1,―\r\nR6,"1,001",602,5,4,5,1,―\r\n').encode("cp932"))
    return d


def test_check_says_what_the_overlay_changes(tmp_path):
    d = _overlay(tmp_path)
    run = subprocess.run([sys.executable, "-m", "wardanalysis", "check", str(d)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "replaces fiscal_year=2023 (requests 650 → 651)" in out
    assert "adds fiscal_year=2024" in out
    assert "printed totals no longer match the rows (requests 6471 ≠ 6472)" in out


def test_run_marks_the_users_figures_everywhere(tmp_path):
    d = _overlay(tmp_path)
    out = tmp_path / "reports"
    run = run_real_batch(out, "--data-dir", str(d), "--notebook", "fiscal_year_report",
                         "--notebook", "01_requests_covid", "-y", "2023", "-y", "2024",
                         "--lang", "ja")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "overlay: needs_reflection.csv (needs_reflection, sha256" in run.stdout
    assert "replaces fiscal_year=2023 (requests 650 → 651)" in run.stdout
    page = (out / "fiscal_year_report" / "2023" / "ja" / "index.html").read_text(encoding="utf-8")
    assert "利用者のファイル needs_reflection.csv" in page and "文書の数字ではない" in page
    covid = (out / "01_requests_covid" / "ja" / "index.html").read_text(encoding="utf-8")
    assert "2023※" in covid and "2024※" in covid  # the user's rows are marked in the table
    assert "文書に印刷された計は6,471だが、修正後の行の合計は6,472" in covid
    with open(out / "results.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    used = {r["overlay_files"] for r in rows if r["notebook"] == "fiscal_year_report"}
    assert len(used) == 1 and next(iter(used)).startswith("needs_reflection.csv (sha256 ")
