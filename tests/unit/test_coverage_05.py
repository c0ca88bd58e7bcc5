"""The committed simulation check of page 05's intervals (``benchmarks/coverage_05.py``) is
current, complete, and what the page says follows from it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wardanalysis.models import monthly as Mo
from wardanalysis.models.ward_monthly import ward_panel

ROOT = Path(__file__).resolve().parents[2]
RESULT = ROOT / "benchmarks" / "results" / "coverage_05.json"



@pytest.fixture(scope="module")
def result():
    return json.loads(RESULT.read_text(encoding="utf-8"))


def test_the_result_was_made_with_the_models_code_as_it_is(result, load_benchmark):
    """Fails when the code the check describes (``CODE``) changed after it was run: run
    ``python benchmarks/coverage_05.py`` again and commit its result."""
    assert result["code_sha256"] == load_benchmark("coverage_05").code_hash(), (
        "the models' code changed since benchmarks/results/coverage_05.json was made; "
        "re-run benchmarks/coverage_05.py")


def test_the_hash_covers_the_modules_that_hold_the_code_it_measures(load_benchmark):
    """After a module is split or a function moves, the hashed list must follow it."""
    import inspect

    from wardanalysis import stats
    from wardanalysis.models import simulate, ward_monthly

    bench = load_benchmark("coverage_05")
    used = [Mo.city_estimates, ward_monthly.ward_estimates, Mo.fit_all, stats.cluster_robust,
            stats.fit_quasi_poisson, stats.fit_negative_binomial, stats.critical_value,
            stats.prediction_interval, simulate.simulate_counts]
    files = {Path(inspect.getsourcefile(f)).resolve().relative_to(ROOT).as_posix() for f in used}
    assert files <= set(bench.CODE), sorted(files - set(bench.CODE))


def test_the_result_covers_every_interval_of_the_page_in_both_scenarios(result, load_benchmark):
    bench = load_benchmark("coverage_05")
    assert set(result["scenarios"]) == {"default", "quarter_dispersion"}
    assert result["reps"] >= 2000  # Monte Carlo standard error of a 95% coverage < 0.5 point
    for scenario in result["scenarios"].values():
        for key in bench.INTERVALS:
            e = scenario[key]
            assert e["n_at_0.7"] >= 0.95 * result["reps"] or key == "monthly.level_rr_nb"
            assert 0 <= e["coverage"] <= 1


def test_the_hash_changes_when_the_code_does(tmp_path, load_benchmark):
    bench = load_benchmark("coverage_05")
    for rel in bench.CODE:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes((ROOT / rel).read_bytes())
    before = bench.code_hash(tmp_path)
    assert before == bench.code_hash()
    target = tmp_path / bench.CODE[0]
    target.write_bytes(target.read_bytes() + b"\n# changed\n")
    assert bench.code_hash(tmp_path) != before


def _fake(tmp_path, meets: bool, coverage: float) -> Path:
    entry = {"coverage": coverage, "size": 0.05, "meets_target": meets}
    keys = ["monthly.level_rr", "monthly.level_rr_nb", "monthly.observed_vs_counterfactual",
            "wards.level_rr", "wards.level_rr_gee", "before.monthly.qp", "before.monthly.lb_nw",
            "before.wards.fe", "before.wards.gee_month"]
    path = tmp_path / "coverage.json"
    path.write_text(json.dumps({"reps": 2000, "fiscal_years": [2017, 2023],
                                "covid_period": [2020, 2023],
                                "scenarios": {"default": {k: entry for k in keys}}}))
    return path


@pytest.mark.parametrize("meets", [True, False])
def test_detected_only_where_the_check_shows_the_target_holds(tmp_path, monkeypatch, meets):
    from wardanalysis.data import inputs
    from wardanalysis.models import simulate

    monkeypatch.setattr(Mo, "COVERAGE_FILE", _fake(tmp_path, meets, 0.95 if meets else 0.871))
    log = simulate.simulate_request_log(range(2017, 2024), seed=5)
    res = Mo.monthly_its(inputs.monthly_counts(log), simulated=True)
    ja, en = res.text("ja"), res.text("en")
    assert ("検出" in ja) is meets and ("detected" in en) is meets
    # an interval that misses the target shows its measured coverage beside it
    assert ("87.1%" in ja and "87.1%" in en) is not meets
    wards = ward_panel(inputs.monthly_counts(log, by_ward=True), simulated=True)
    assert ("87.1%" in wards.text("en")) is not meets


def test_without_a_check_the_method_line_says_so(tmp_path, monkeypatch):
    from wardanalysis.data import inputs
    from wardanalysis.models import simulate

    monkeypatch.setattr(Mo, "COVERAGE_FILE", tmp_path / "absent.json")
    log = simulate.simulate_request_log(range(2017, 2024), seed=5)
    res = Mo.monthly_its(inputs.monthly_counts(log), simulated=True)
    assert "not been checked" in res.method_text("en") and "確かめていない" in res.method_text("ja")
    assert "detected" not in res.text("en") and "検出" not in res.text("ja")


def test_a_check_of_other_years_does_not_vouch_for_these(tmp_path, monkeypatch):
    """The check simulated FY2017–FY2023 with the COVID period FY2020–FY2023: data of other
    years are not covered by it, so their page neither quotes it nor says "detected"."""
    from wardanalysis.data import inputs
    from wardanalysis.models import simulate

    monkeypatch.setattr(Mo, "COVERAGE_FILE", _fake(tmp_path, True, 0.95))
    log = simulate.simulate_request_log(range(2018, 2024), seed=5)
    res = Mo.monthly_its(inputs.monthly_counts(log), simulated=True)
    assert "not been checked" in res.method_text("en") and "detected" not in res.text("en")
    assert Mo.measured_coverage(range(2017, 2024)) and not Mo.measured_coverage(range(2018, 2024))
