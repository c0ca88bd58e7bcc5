"""The committed simulation check of the exposure models (``benchmarks/exposure_size.py``,
five to fifteen minutes, so it lives in benchmarks/) is current and shows no spurious
dose-response for the models the package uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RESULT = REPO / "benchmarks" / "results" / "exposure_size.json"



@pytest.fixture(scope="module")
def result():
    return json.loads(RESULT.read_text(encoding="utf-8"))


def test_the_result_was_made_by_the_code_as_it_is(result, load_benchmark):
    assert result["code_sha256"] == load_benchmark("exposure_size").code_hash(), (
        "the exposure models or the simulator changed since benchmarks/results/exposure_size.json "
        "was made: run `python benchmarks/exposure_size.py` and commit its result")


def test_the_hash_covers_the_modules_that_hold_the_code_it_measures(load_benchmark):
    """After a module is split or a function moves, the hashed list must follow it."""
    import inspect

    from wardanalysis import stats
    from wardanalysis.models import covid_exposure, monthly, simulate

    bench = load_benchmark("exposure_size")
    used = [covid_exposure.fit_exposure, covid_exposure.within_year_design,
            covid_exposure.exposure_days, monthly.monthly_design, monthly.monthly_exposure_days,
            stats.fit_quasi_poisson, stats.critical_value, simulate.simulate_counts]
    files = {Path(inspect.getsourcefile(f)).resolve().relative_to(REPO).as_posix() for f in used}
    assert files <= set(bench.CODE), sorted(files - set(bench.CODE))


def test_every_model_scenario_and_effect_was_measured_with_enough_replications(result, load_benchmark):
    bench = load_benchmark("exposure_size")
    seen = {(r["scenario"], r["effect"], r["model"]) for r in result["rows"]}
    assert seen == {(s, e, m) for s in bench.SCENARIOS for e in bench.EFFECTS
                    for m in bench.MODELS}
    assert all(r["replications"] >= 1900 for r in result["rows"])  # MC s.e. under 0.5 points


@pytest.mark.parametrize("model", ["yearly_with_step", "monthly_with_step", "monthly_within_year"])
def test_models_with_the_period_beside_the_days_find_no_spurious_dose_response(result, model):
    rows = [r for r in result["rows"] if r["model"] == model]
    assert rows and all(r["size"] <= 0.06 for r in rows), [
        (r["scenario"], r["effect"], r["size"]) for r in rows]
