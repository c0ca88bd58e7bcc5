"""The design study and the monthly example: recorded, deterministic, simulated data marked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
RECORDS = "application/vnd.wardanalysis.records+json"


def _records(name: str) -> list[dict]:
    nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
    found = [o["data"][RECORDS] for c in nb["cells"] if c["cell_type"] == "code"
             for o in c.get("outputs", []) if RECORDS in o.get("data", {})]
    assert len(found) == 1, name
    return found[0]


def test_the_design_study_records_power_and_minimum_detectable_changes():
    keys = {r["key"]: r for r in _records("04_data_needed")}
    for res in ("yearly", "monthly", "wards"):
        assert f"design.mdc_{res}" in keys and f"design.power_at_30.{res}" in keys
        assert f"design.size_nominal_{res}" in keys
        assert "replications" in keys[f"design.power_at_30.{res}"]["interval"]
        assert "Monte Carlo SE" in keys[f"design.power_at_30.{res}"]["interval"]
    # the ward panel's test is the city model's: the same power, not a second estimate of it
    assert keys["design.power_at_30.wards"]["value"] == keys["design.power_at_30.monthly"]["value"]


def test_the_yearly_answer_of_the_design_study_agrees_with_the_report_on_requests():
    """04's minimum detectable change for yearly data is 01's, computed exactly (noncentral t):
    the same standard error, so it differs from 01's t_{0.975} + t_{0.8} figure only by that
    approximation, and lies inside the range the dispersion's interval allows."""
    design = {r["key"]: r["value"] for r in _records("04_data_needed")}
    requests = {r["key"]: r["value"] for r in _records("01_requests_covid")}
    exact = design["design.mde_ratio_yearly_exact"]
    assert design["design.mde_ratio_yearly_exact.dispersion_high"] < exact < \
        design["design.mde_ratio_yearly_exact.dispersion_low"]
    assert exact == pytest.approx(requests["requests.its_level_mde_ratio"], rel=0.05)
    assert exact <= requests["requests.its_level_mde_ratio"] + 1e-9


def test_the_monthly_example_marks_every_record_simulated():
    records = _records("05_monthly_log")
    assert records and all("simulated" in (r["flags"] or "").split(";") for r in records)
    keys = {r["key"] for r in records}
    assert {"monthly.level_rr", "wards.level_rr", "wards.between_share"} <= keys
    assert any(k.startswith("handling.share_within_90_days.fy") for k in keys)


@pytest.mark.parametrize("name", ["04_data_needed", "05_monthly_log"])
def test_simulated_pages_say_so_in_both_languages(name):
    nb = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
    text = json.dumps(nb, ensure_ascii=False)
    assert "模擬データ" in text and ("simulated data" in text or "Simulated data" in text)


def test_the_monthly_page_says_detected_only_where_the_simulation_check_allows():
    """Page 05 calls a level change detected (検出) only if the committed coverage check shows
    its interval covers ≥ 93% with a size ≤ 6% in every scenario; its ward panel is no more
    precise than the city model for the same estimate."""
    root = NOTEBOOKS.parent
    check = json.loads((root / "benchmarks" / "results" / "coverage_05.json").read_text())
    holds = all(s["monthly.level_rr"]["meets_target"] for s in check["scenarios"].values())
    nb = json.loads((NOTEBOOKS / "05_monthly_log.ipynb").read_text(encoding="utf-8"))
    shown = json.dumps([o for c in nb["cells"] if c["cell_type"] == "code"
                        for o in c.get("outputs", [])], ensure_ascii=False)
    if not holds:
        assert "検出" not in shown and "detected" not in shown
    assert "年度を単位とするクラスター頑健標準誤差" in shown or "cluster-robust standard errors" in shown
    keys = {r["key"]: r for r in _records("05_monthly_log")}
    city, wards = keys["monthly.level_rr"], keys["wards.level_rr"]
    assert wards["ci_high"] / wards["ci_low"] >= 0.999 * city["ci_high"] / city["ci_low"]
