"""The simulator: deterministic, calibrated to the shipped yearly table, marked simulated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import wardanalysis as wa
from wardanalysis.data import inputs
from wardanalysis.models import simulate


def test_deterministic_for_a_seed_and_different_across_seeds():
    a = simulate.simulate_request_log(range(2017, 2020), seed=5)
    b = simulate.simulate_request_log(range(2017, 2020), seed=5)
    c = simulate.simulate_request_log(range(2017, 2020), seed=6)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) != len(c) or not a["received_date"].equals(c["received_date"])


def test_marked_simulated_with_its_settings():
    log = simulate.simulate_request_log(range(2020, 2021), covid_effect=0.5, seed=1)
    prov = log.attrs["provenance"]
    assert prov["simulated"] is True and prov["settings"]["covid_effect"] == 0.5
    assert log["request_id"].str.startswith("SIM-").all()


def test_calibration_follows_the_shipped_trend():
    cal = simulate.calibrate()
    nr = wa.load("needs_reflection")
    # the trend passes between the first and last year's counts and falls
    assert cal.log_trend < 0
    first, last = np.exp(cal.log_level), np.exp(cal.log_level + cal.log_trend * 6)
    assert nr["requests"].min() < first < nr["requests"].max()
    assert nr["requests"].min() * 0.5 < last < nr["requests"].max()
    assert cal.dispersion > 1 and abs(sum(cal.ward_shares) - 1) < 1e-12


def test_yearly_totals_of_many_simulations_match_the_trend_and_dispersion():
    cal = simulate.calibrate()
    years = list(range(2017, 2024))
    cells, counts = simulate.simulate_counts(cal, years, 1.0, replications=4000, seed=2)
    _, yearly = simulate.yearly_totals(cells, counts)
    yearly = yearly[0]
    expected = simulate.expected_monthly(cal, years).groupby("fiscal_year")["expected"].sum()
    rel = yearly.mean(axis=0) / expected.to_numpy()
    assert np.all(np.abs(rel - 1) < 0.03)
    # the variance of a yearly total is on average phi times its mean, as the Pearson
    # dispersion of the shipped series measures it (multiplicative noise: more in bigger years)
    ratio = yearly.var(axis=0) / yearly.mean(axis=0)
    assert 0.85 < ratio.mean() / cal.dispersion < 1.15
    assert ratio[0] > ratio[-1]


def test_the_covid_effect_is_applied_in_the_covid_months_only():
    cal = simulate.calibrate()
    years = list(range(2018, 2025))
    cells, counts = simulate.simulate_counts(cal, years, [1.0, 0.6], replications=3000, seed=4)
    covid = cells["covid"].to_numpy()
    ratio = counts[1].mean(axis=0) / counts[0].mean(axis=0)
    assert np.allclose(ratio[covid].mean(), 0.6, atol=0.02)
    assert np.allclose(ratio[~covid], 1.0)  # common random numbers: identical outside


@pytest.mark.parametrize("shares", [(1, 0, 0), (0, 1, 0), (0, 0, 1)])
def test_each_variance_component_alone_keeps_the_yearly_dispersion(shares):
    cal = simulate.calibrate()
    cells, counts = simulate.simulate_counts(cal, range(2017, 2024), 1.0, replications=3000,
                                             variance_shares=shares, seed=9)
    _, yearly = simulate.yearly_totals(cells, counts)
    ratio = yearly[0].var(axis=0) / yearly[0].mean(axis=0)
    assert 0.8 < ratio.mean() / cal.dispersion < 1.2


def test_log_aggregates_to_its_own_monthly_counts():
    log = simulate.simulate_request_log(range(2017, 2024), seed=8)
    cal = simulate.calibrate()
    cells, counts = simulate.simulate_counts(cal, range(2017, 2024), 0.7, seed=8)
    monthly = inputs.monthly_counts(log, by_ward=True)
    assert monthly["requests"].sum() == counts[0, 0].sum()
    handled = inputs.yearly_needs(log)
    assert (handled["requests_handled"] <= handled["requests"]).all()
    assert set(log["ward"]) == set(inputs.WARDS)
