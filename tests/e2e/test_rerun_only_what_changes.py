"""End-to-end: a run re-executes only the reports whose inputs changed, judged by the content
each report can see (a fiscal-year report sees the rows up to its year), never by the path of the
data directory."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from batch_helpers import run_real_batch

HEAD = ("fiscal_year,era_label,requests,requests_handled,priority_issues,decided_to_act,"
        "staff_consultations,section_chief_consultations,coordination_meetings\n")


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


def test_only_the_reports_that_can_see_a_change_are_executed(default_batch, tmp_path):
    out = tmp_path / "reports"
    shutil.copytree(default_batch[0], out)
    added = tmp_path / "added"
    added.mkdir()
    (added / "needs_reflection.csv").write_text(HEAD + "2024,R6,701,602,5,4,5,1,0\n",
                                                encoding="utf-8")
    analyses = _readers(out, "needs_reflection")
    # 04_data_needed and 05_monthly_log read it too: their simulation is calibrated to it
    assert {"01_requests_covid/ja", "04_data_needed/ja", "05_monthly_log/ja"} <= analyses
    run = run_real_batch(out, "--lang", "ja", "--data-dir", str(added))
    assert run.returncode == 0, run.stderr[-2000:]
    assert _executed(run.stdout) == analyses | _fy(2024)

    corrected = tmp_path / "corrected"
    corrected.mkdir()
    (corrected / "needs_reflection.csv").write_text(
        HEAD + "2023,R5,651,587,3,3,3,1,0\n2024,R6,701,602,5,4,5,1,0\n", encoding="utf-8")
    # a correction of FY2023: the fiscal-year reports from FY2023 on see it, FY2022's cannot
    # (the analyses see every row, as the first run showed: the rest runs the reports by year)
    fy_only = ("--lang", "ja", "--notebook", "fiscal_year_report")
    run = run_real_batch(out, *fy_only, "--data-dir", str(corrected))
    assert run.returncode == 0, run.stderr[-2000:]
    assert _executed(run.stdout) == _fy(2023, 2024)

    moved = Path(shutil.copytree(corrected, tmp_path / "elsewhere" / "same figures"))
    run = run_real_batch(out, *fy_only, "--data-dir", str(moved))
    assert run.returncode == 0, run.stderr[-2000:]
    assert _executed(run.stdout) == set()
    assert "0 to execute" in run.stdout
