"""The committed notebooks: thin, parameterized, clean outputs, and nbval really guards the numbers."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
EXPECTED = ["00_overview", "01_requests_covid", "02_escalation", "03_budgets_cross_city",
            "04_data_needed", "05_monthly_log", "fiscal_year_report", "source_review"]
#: Every notebook in the folder: a new one gets every check below without editing this file.
FOUND = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
ABSOLUTE = re.compile(r"(?<![\w.])/(?:root|home|tmp|work|usr|opt|var)/")


def _load(name: str) -> dict:
    return json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))


def _code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def test_the_notebooks_exist():
    assert set(EXPECTED) <= set(FOUND)


@pytest.mark.parametrize("name", FOUND)
def test_first_code_cell_is_a_documented_parameters_cell(name):
    first = _code_cells(_load(name))[0]
    assert "parameters" in first["metadata"].get("tags", [])
    src = _source(first)
    names = {t.id for node in ast.parse(src).body if isinstance(node, ast.Assign) for t in node.targets}
    assert {"lang", "data_dir"} <= names
    assert ("fiscal_year" in names) == (name == "fiscal_year_report")
    for line in src.splitlines():
        if "=" in line:
            assert "#" in line, f"{name}: parameter line without a comment: {line!r}"
    assert 'lang = "ja"' in src and "data_dir = None" in src


@pytest.mark.parametrize("name", FOUND)
def test_notebooks_stay_thin(name):
    for cell in _code_cells(_load(name)):
        tree = ast.parse(_source(cell))
        for node in ast.walk(tree):
            assert not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda), (
                f"{name}: define functions in wardanalysis/, not in a notebook")
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in {
                    "open", "read_csv", "read_excel", "read_text"}:
                pytest.fail(f"{name}: reads a file directly; use wardanalysis.load(name, data_dir)")


@pytest.mark.parametrize("name", FOUND)
def test_committed_outputs_are_clean(name):
    nb = _load(name)
    for i, cell in enumerate(_code_cells(nb)):
        assert cell.get("execution_count") is not None, f"{name}: cell {i} was not executed"
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{name}: cell {i} raised"
            assert not (out["output_type"] == "stream" and out["name"] == "stderr"), (
                f"{name}: cell {i} wrote to stderr: {out.get('text')}")
            text = json.dumps({k: v for k, v in out.get("data", {}).items() if not k.startswith("image/")})
            text += json.dumps(out.get("text", ""))
            assert not ABSOLUTE.search(text), f"{name}: cell {i} holds an absolute path"
            assert "missing from font" not in text
            assert "0x7f" not in text, f"{name}: cell {i} holds a memory address"
        src = _source(cell)
        if "report.show(" in src or "show_result(" in src:
            images = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})
                      or "<figure><svg" in "".join(o.get("data", {}).get("text/html", ""))]
            if "if not " not in src and "plot=False" not in src:  # unconditional plot cells must show their figure
                assert images, f"{name}: cell {i} should show a plot"


@pytest.mark.parametrize("name", ["01_requests_covid", "02_escalation", "03_budgets_cross_city",
                                  "fiscal_year_report"])
def test_key_results_are_recorded(name):
    records = [o for c in _code_cells(_load(name)) for o in c.get("outputs", [])
               if "application/vnd.wardanalysis.records+json" in o.get("data", {})]
    assert len(records) == 1
    keys = [r["key"] for r in records[0]["data"]["application/vnd.wardanalysis.records+json"]]
    assert len(keys) == len(set(keys))
    required = {
        "01_requests_covid": {"requests.mean_ratio_covid_vs_pre", "requests.trend_rr_per_year",
                              "requests.its_level_rr", "requests.its_level_rr.excl_fy2017",
                              "requests.its_slope_rr", "handled.trend_or_per_year",
                              "handled.dispersion", "civil.total_rr_fy2022_vs_fy2021"},
        "02_escalation": {"escalation.priority_rate_trend_or_per_year", "escalation.first_level_share"},
        "03_budgets_cross_city": {"budget.kumamoto_yen_per_capita", "adoption.kumamoto_share",
                                  "adoption.hamamatsu_share", "adoption.difference"},
        "fiscal_year_report": {"fy.requests", "fy.requests_rr_vs_previous",
                               "fy.budget_thousand_yen"},
    }[name]
    assert required <= set(keys)


def test_nbval_reports_a_changed_figure(tmp_path):
    """The mechanism behind `make test`: one figure changed in a copy of the data makes nbval
    fail on a key-result cell of the committed notebook."""
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "needs_reflection.csv").write_text(
        "era_label,requests,requests_handled,priority_issues,decided_to_act,staff_consultations,"
        "section_chief_consultations,coordination_meetings\nR2,\"1,920\",832,8,8,8,—,—\n",
        encoding="utf-8")
    nb = _load("01_requests_covid")
    params = _code_cells(nb)[0]
    params["source"] = _source(params).replace("data_dir = None", f"data_dir = {str(overlay)!r}")
    copy = tmp_path / "01_requests_covid.ipynb"
    copy.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    shutil.copy(NOTEBOOKS / "conftest.py", tmp_path / "conftest.py")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", str(copy), "--nbval-sanitize-with",
         str(ROOT / "tests" / "nbval_sanitize.cfg"), "-p", "no:cacheprovider", "-q",
         "--rootdir", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, check=False, timeout=600)
    assert run.returncode == 1, run.stdout[-3000:]
    assert "failed" in run.stdout.splitlines()[-1]
    # the data table and the cell recording the key estimates both differ
    assert "1,920" in run.stdout
    cells = _code_cells(nb)
    records_cell = next(i for i, c in enumerate(cells) if "record(" in _source(c))
    assert f"::Cell {records_cell} - " in run.stdout
    # (which representation nbval names first depends on its dict order and on CI settings)
    assert re.search(r"mismatch '(text/plain|text/html)'", run.stdout)


@pytest.mark.parametrize("fiscal_year", [2013, 2024])
def test_fiscal_year_report_runs_from_any_directory(tmp_path, fiscal_year):
    import papermill as pm

    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(NOTEBOOKS / "fiscal_year_report.ipynb"), str(out),
                        parameters={"fiscal_year": fiscal_year, "lang": "en"}, cwd=str(tmp_path),
                        kernel_name="python3", progress_bar=False)
    nb = json.loads(out.read_text(encoding="utf-8"))
    text = json.dumps(nb["cells"], ensure_ascii=False)
    assert f"Fiscal year {fiscal_year}" in text
    assert "Not in the data for this year" in text
    assert "requests and consultations under the" in text  # FY2013 and FY2024 have no requests


@pytest.mark.parametrize("name", FOUND)
def test_a_notebook_shows_one_language_and_its_prose_comes_from_the_catalogue(name):
    """No Markdown prose by language (JupyterLab would show both, with numbers typed by hand):
    every passage is a ``report.prose`` call of a catalogue entry that has both languages."""
    from wardanalysis.text.messages import keys

    nb = _load(name)
    assert not [c for c in nb["cells"] if c["cell_type"] == "markdown"]
    known = set(keys())
    used = re.findall(r'report\.prose\("([^"]+)"', "".join(_source(c) for c in _code_cells(nb)))
    assert all(key in known for key in used), sorted(set(used) - known)
