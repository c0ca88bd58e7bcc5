"""Every model runs on the shipped data with its defaults and yields the record keys the issue
names (the numbers themselves are checked in tests/reference)."""

from __future__ import annotations

import pytest

from wardanalysis.models.adoption_rates import adoption, cost_per_funded_issue
from wardanalysis.models.budgets import cross_city_budgets, kumamoto_budget
from wardanalysis.models.civil import civil_requests
from wardanalysis.models.covid_exposure import covid_exposure_days
from wardanalysis.models.covid_verdict import verdict
from wardanalysis.models.escalation import escalation_patterns
from wardanalysis.models.handled import handled_share
from wardanalysis.models.requests import trend

REQUIRED = {
    "requests.mean_ratio_covid_vs_pre", "requests.trend_rr_per_year", "requests.its_level_rr",
    "requests.its_level_rr.excl_fy2017", "requests.its_slope_rr",
    "handled.trend_or_per_year", "handled.dispersion",
    "escalation.priority_rate_trend_or_per_year", "escalation.first_level_share",
    "civil.road_rr_fy2022_vs_fy2021", "civil.park_rr_fy2022_vs_fy2021",
    "civil.river_rr_fy2022_vs_fy2021", "civil.total_rr_fy2022_vs_fy2021",
    "budget.kumamoto_yen_per_capita", "adoption.kumamoto_share", "adoption.hamamatsu_share",
    "adoption.difference",
}


@pytest.fixture(scope="module")
def shipped_records():
    import pandas as pd

    results = [
        verdict(), handled_share(), escalation_patterns(), civil_requests(),
        kumamoto_budget(), cross_city_budgets(), adoption(), cost_per_funded_issue(),
        covid_exposure_days(),
    ]
    frames = [r.all_records() if hasattr(r, "all_records") else r.records() for r in results]
    return pd.concat(frames, ignore_index=True)


def test_required_keys_on_the_shipped_data(shipped_records):
    missing = REQUIRED - set(shipped_records["key"])
    assert not missing, sorted(missing)


def test_every_key_is_produced_once(shipped_records):
    dup = shipped_records["key"][shipped_records["key"].duplicated()]
    assert dup.empty, sorted(set(dup))


def test_data_dir_is_passed_to_the_loader(tmp_path):
    (tmp_path / "unrelated.txt").write_text("x")
    res = trend(data_dir=tmp_path)  # an overlay directory without overlays: shipped data
    assert res.n_obs >= 3
    with pytest.raises(FileNotFoundError):
        trend(data_dir=tmp_path / "does_not_exist")
