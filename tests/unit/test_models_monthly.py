"""Monthly, ward and time-to-handling models and the design study, on simulated data: the known
effect is recovered, simulated results say so, a user's file is analysed as real."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wardanalysis.data import inputs
from wardanalysis.errors import InvalidFrameError, MissingColumnError, NotEstimableError
from wardanalysis.models import design as D
from wardanalysis.models import monthly as Mo
from wardanalysis.models import simulate
from wardanalysis.models.handling_time import time_to_handling
from wardanalysis.models.monthly_data import monthly_frame, monthly_inputs
from wardanalysis.models.ward_monthly import ward_panel


@pytest.fixture(scope="module")
def cal():
    return simulate.calibrate()


def test_monthly_its_recovers_a_known_level_change(cal):
    """Month-level variation only (the model's own assumption): over 20 simulated data sets
    the 95% intervals cover the true rate ratio about 95% of the time and the estimates centre
    on it."""
    truth = 0.6
    logs, covered = [], 0
    for seed in range(20):
        cells, counts = simulate.simulate_counts(cal, range(2017, 2024), truth, seed=seed,
                                                 variance_shares=(0, 1, 0))
        months, city = simulate.city_months(cells, counts)
        res = Mo.monthly_its(months.assign(requests=city[0, 0]), simulated=True)
        e = res.estimate("monthly.level_rr")
        logs.append(math.log(e.value))
        covered += e.ci_low < truth < e.ci_high
    assert covered >= 16
    assert abs(np.mean(logs) - math.log(truth)) < 0.15


def test_no_effect_is_not_found_where_there_is_none(cal):
    found = 0
    for seed in range(20):
        cells, counts = simulate.simulate_counts(cal, range(2017, 2024), 1.0, seed=100 + seed,
                                                 variance_shares=(0, 1, 0))
        months, city = simulate.city_months(cells, counts)
        e = Mo.monthly_its(months.assign(requests=city[0, 0])).estimate("monthly.level_rr")
        found += e.interval_excludes_one
    assert found <= 4


def test_ward_panel_recovers_the_effect_with_ward_level_variation(cal):
    truth, covered = 0.6, 0
    for seed in range(10):
        cells, counts = simulate.simulate_counts(cal, range(2017, 2024), truth, seed=seed,
                                                 variance_shares=(0, 0, 1))
        res = ward_panel(cells.assign(requests=counts[0, 0]), simulated=True)
        e = res.estimate("wards.level_rr")
        covered += e.ci_low < truth < e.ci_high
        assert 0 <= res.estimate("wards.between_share").value <= 1
    assert covered >= 8


def test_kaplan_meier_answers_the_handled_share_caveat():
    """Every request handled after an exponential delay (mean 60 days) with probability 0.97:
    the share handled within 90 days is 0.97 (1 - exp(-1.5)) in every year, the last one
    included, although its plain handled share (handled by the as-of date) is lowered by
    its short follow-up."""
    log = simulate.simulate_request_log(range(2021, 2024), seed=4, as_of="2023-12-31",
                                        covid_effect=1.0)
    res = time_to_handling(log, horizon=90)
    truth = 0.97 * (1 - math.exp(-90 / 60))
    for fy in (2021, 2022):
        e = res.estimate(f"handling.share_within_90_days.fy{fy}")
        assert e.ci_low < truth < e.ci_high
    t = res.table().set_index("fiscal_year")
    last = res.estimate("handling.share_within_90_days.fy2023")
    assert abs(last.value - truth) < 0.06
    plain = t["handled"] / t["requests"]
    assert plain.loc[2023] < plain.loc[2021] - 0.1  # the plain share is biased by follow-up
    assert t.loc[2023, "censored"] > 0 and res.as_of.isoformat() == "2023-12-31"


def test_simulated_results_say_so_and_real_ones_do_not(tmp_path, cal):
    log = simulate.simulate_request_log(range(2017, 2024), seed=2)
    sim = Mo.monthly_its(inputs.monthly_counts(log), simulated=True)
    assert sim.title("ja").startswith("【模擬データ】") and "[Simulated data]" in sim.title("en")
    assert sim.text("ja").startswith("【模擬データ") and "simulated data" in sim.text("en")
    assert sim.headline("en").startswith("[Illustration on simulated data]")
    assert sim.caveat_list("ja")[0].startswith("これは模擬データ")
    assert (sim.records()["flags"].str.contains("simulated")).all()
    log.to_csv(tmp_path / "request_log.csv", index=False, date_format="%Y-%m-%d")
    data = monthly_inputs(tmp_path)
    assert not data.simulated and data.log is not None and len(data.log) == len(log)
    real = Mo.monthly_its(data.city, simulated=data.simulated)
    assert "模擬" not in real.title("ja") and "simulated" not in real.text("en").lower()
    assert not real.records()["flags"].str.contains("simulated").any()
    assert real.sources == ("monthly_requests",) and sim.sources == ("simulated",)
    assert "sha256" in data.banner("en") and "模擬" not in data.banner("ja")


def test_monthly_inputs_read_monthly_counts_with_wards(tmp_path):
    rows = [(fy, m, w, 5 + (m % 3)) for fy in range(2018, 2022) for m in range(1, 13)
            for w in inputs.WARDS]
    pd.DataFrame(rows, columns=["fiscal_year", "month", "ward", "requests"]).to_csv(
        tmp_path / "monthly_requests.csv", index=False)
    data = monthly_inputs(tmp_path)
    assert not data.simulated and data.log is None and len(data.city) == 48
    assert data.city["requests"].iloc[0] == 5 * (5 + 4 % 3)
    assert data.wards is not None and set(data.wards["ward"]) == set(inputs.WARDS)
    rec = data.reconciliation()
    assert set(rec["fiscal_year"]) == {2018, 2019, 2020, 2021}


def test_without_a_user_file_the_data_are_simulated():
    data = monthly_inputs(None, covid_effect=0.8)
    assert data.simulated and data.covid_effect == 0.8
    assert "0.8" in data.truth("en") and "20.0%" in data.truth("ja")
    assert data.title("section_wards", "ja").startswith("【模擬データ】")


def test_too_few_months_is_an_error_naming_the_need():
    m = simulate.months_of([2019, 2020]).assign(requests=10)
    with pytest.raises(NotEstimableError, match="36"):
        Mo.monthly_its(m)


def test_power_study_is_deterministic_and_power_rises_with_the_drop():
    a = D.power_study(replications=60, spans=((2017, 2023),), sensitivity=False, seed=3)
    b = D.power_study(replications=60, spans=((2017, 2023),), sensitivity=False, seed=3)
    pd.testing.assert_frame_equal(a.data, b.data)
    for _, part in a.data.groupby("resolution"):
        p = part.sort_values("drop")["power"].to_numpy()
        assert p[-1] > p[0]
        assert np.all(np.diff(p) >= -0.05)  # common random numbers: nearly monotone
    assert a.n_obs == 60 and "60 replications" in a.method
    assert "模擬データ" in a.caveat_list("ja")[0]


def test_autocorrelated_residuals_no_longer_switch_the_intervals(cal):
    """Ljung–Box stays a recorded diagnostic, but no pre-test chooses the standard errors (the
    Ljung–Box → Newey–West rule covered 86% in simulation): the intervals are cluster-robust by
    fiscal year whether or not the residuals look autocorrelated."""
    cells, counts = simulate.simulate_counts(cal, range(2017, 2024), 0.7, seed=1)
    rng = np.random.default_rng(0)
    ar = np.zeros(84)
    for i in range(1, 84):
        ar[i] = 0.9 * ar[i - 1] + rng.normal(0, 0.3)
    months, city = simulate.city_months(cells, counts)
    res = Mo.monthly_its(months.assign(requests=np.round(city[0, 0] * np.exp(ar)).astype(int)))
    assert res.autocorrelated and res.estimate("monthly.ljung_box_p").value < 0.05
    assert "CR2" in res.estimate("monthly.level_rr").interval
    assert "HAC" not in res.estimate("monthly.level_rr").interval
    assert "Newey" not in res.method and "CR2" in res.method
    assert "クラスター頑健" in res.method_text("ja") and "CR2" not in res.method_text("ja")
    panel = ward_panel(cells.assign(requests=np.round(counts[0, 0] * np.exp(np.repeat(ar, 5)))
                                       .astype(int)))
    assert "CR2" in panel.estimate("wards.level_rr").interval and "HAC" not in panel.method
    assert "fiscal year" in panel.estimate("wards.level_rr_gee").interval


def test_one_year_before_covid_gives_intervals_or_none_but_no_crash():
    """FY2019–FY2023 with the COVID period from FY2020: one fiscal year alone determines the
    pre-COVID trend (a singular I − H_gg); the CR2 intervals use its generalized inverse and the
    GEE's bias-reduced interval, out of floating-point range, is left out rather than crash."""
    rng = np.random.default_rng(7)  # 300 requests over five years, as a small city export
    received = pd.Timestamp("2019-04-01") + pd.to_timedelta(np.sort(rng.integers(0, 1826, 300)),
                                                            unit="D")
    df = pd.DataFrame({"fiscal_year": received.year - (received.month < 4),
                       "month": received.month, "ward": rng.choice(inputs.WARDS, 300)})
    grid = pd.MultiIndex.from_product([range(2019, 2024), range(1, 13), inputs.WARDS],
                                      names=["fiscal_year", "month", "ward"])
    cells = df.value_counts().rename("requests").reindex(grid, fill_value=0).reset_index()
    panel = ward_panel(cells)
    e = panel.estimate("wards.level_rr")
    assert 0 < e.ci_low < e.value < e.ci_high < np.inf
    g = panel.estimate("wards.level_rr_gee")
    assert np.isnan(g.ci_low) and np.isnan(g.ci_high) and g.value > 0
    city = Mo.monthly_its(cells.groupby(["fiscal_year", "month"], as_index=False)["requests"].sum())
    assert city.estimate("monthly.level_rr").value == pytest.approx(e.value, rel=1e-6)


def _poisson_like_months() -> pd.DataFrame:
    """Sixty months whose counts vary less than Poisson counts (the expected count, rounded):
    the NB2 likelihood's maximum is at alpha = 0, the boundary."""
    months = simulate.months_of(range(2019, 2024)).reset_index(drop=True)
    t = np.arange(len(months))
    expected = 6 * np.exp(-0.004 * t) * (1 + 0.2 * np.sin(2 * np.pi * t / 12))
    return months.assign(requests=np.round(expected).astype(int))


def test_negative_binomial_at_the_boundary_is_reported_the_same_way_whatever_the_last_bits():
    """At alpha = 0 the outcome used to depend on the last bits of the arithmetic (a Newton step
    from the boundary gave NaN or a number, by the process's memory layout): perturbing the
    design by 1e-15 now never changes the verdict, and no number is recorded."""
    from wardanalysis import stats
    from wardanalysis.models.periods import covid_period

    df = monthly_frame(_poisson_like_months())
    X = Mo.monthly_design(df, covid_period(None, None), 2).astype(float)
    y = df["requests"].to_numpy(float)
    rng = np.random.default_rng(1)
    fits = [stats.fit_negative_binomial(y, X * (1 + 1e-15 * rng.standard_normal(X.shape)))
            for _ in range(8)]
    assert all(f.at_boundary and not f.converged for f in fits)
    res = Mo.monthly_its(_poisson_like_months(), simulated=False)
    assert "monthly.level_rr_nb" not in res.keys()
    assert "does not converge, so it gives no figure" in res.text("en")
    assert "収束しないため数値を示さない" in res.text("ja")


def test_time_to_handling_of_one_year_names_it_once():
    """A log of one fiscal year has no first and last year to compare: its sentence gives the
    year's share once (it read "72.2% in FY2023 and 72.2% in FY2023")."""
    log = simulate.simulate_request_log([2023], seed=3)
    res = time_to_handling(log, simulated=True)
    for lang, year in (("ja", "2023年度"), ("en", "FY2023")):
        first_sentence = res.text(lang).split("。" if lang == "ja" else ". ")[0]
        assert first_sentence.count(year) == 1, first_sentence


def test_a_monthly_frame_is_checked_against_the_monthly_requests_descriptor():
    """A caller's counts pass the checks a user's monthly_requests file passes at loading: a
    gap, a negative count or a thirteenth month is named by row and column."""
    months = _poisson_like_months()
    gap = months.astype({"requests": float})
    gap.loc[3, "requests"] = math.nan
    for bad, column, said in ((gap, "requests", "missing value"),
                              (months.assign(requests=-1), "requests", "below the minimum 0"),
                              (months.assign(month=13), "month", "above the maximum 12")):
        with pytest.raises(InvalidFrameError, match=f"row 3, column '{column}': .*{said}"):
            Mo.monthly_its(bad, simulated=False)


def test_a_request_log_is_checked_against_its_descriptor():
    """A caller's log passes the checks a user's request_log file passes at loading: a missing
    column is named, and so is a request handled before it was received."""
    log = simulate.simulate_request_log(range(2021, 2023), seed=4, covid_effect=1.0)
    with pytest.raises(MissingColumnError, match="'handled_date'"):
        time_to_handling(log.drop(columns="handled_date"))
    early = log.copy()
    early.loc[5, "handled_date"] = early.loc[5, "received_date"] - pd.Timedelta(days=1)
    with pytest.raises(InvalidFrameError, match="row 5.*breaks the rule received_date <= "):
        time_to_handling(early)
