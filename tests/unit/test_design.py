"""The design study: the tests it simulates are the ones the reports run, and its words follow
its numbers and their Monte Carlo error."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from wardanalysis import stats
from wardanalysis.models import design as D
from wardanalysis.models import monthly as Mo
from wardanalysis.models import simulate
from wardanalysis.models.its import its_design
from wardanalysis.models.periods import CovidPeriod

PERIOD = CovidPeriod(2020, 2023)


@pytest.fixture(scope="module")
def draws():
    cal = simulate.calibrate()
    cells, counts = simulate.simulate_counts(cal, range(2017, 2024), [1.0, 0.7], replications=3,
                                             seed=11)
    return cells, counts


def _with_start(frame):
    return frame.assign(start=pd.to_datetime(dict(year=frame["year"], month=frame["month"],
                                                  day=1))).reset_index(drop=True)


def test_the_batched_monthly_test_is_the_monthly_pages_cr2_test(draws):
    """:func:`batch_cr2` gives the estimate, CR2 standard error and Bell–McCaffrey df of
    :func:`wardanalysis.stats.cluster_robust` (checked against a direct computation in tests/reference)."""
    cells, counts = draws
    months, city = simulate.city_months(cells, counts)
    X, _, term = D.design_matrix(months, "monthly", PERIOD)
    Y = city.reshape(-1, city.shape[-1])
    est, se, df = D.batch_cr2(X, Y, months["fiscal_year"].to_numpy(), term)
    frame = _with_start(months)
    Xd = Mo.monthly_design(frame, PERIOD)
    for i, y in enumerate(Y.astype(float)):
        fit = stats.fit_quasi_poisson(y, Xd)
        cr = stats.cluster_robust(Xd, y, fit.fitted, frame["fiscal_year"], params=fit.params)
        e, s, d, _ = cr.interval("covid_level")
        assert (est[i], se[i], df[i]) == pytest.approx((e, s, d), rel=1e-6)


def test_the_ward_panel_gives_the_city_models_test(draws):
    """The identity the study uses for ward data: with ward fixed effects, the level change,
    its CR2 standard error and its Bell–McCaffrey df are those of the city-wide model."""
    cells, counts = draws
    months, city = simulate.city_months(cells, counts)
    cf, wf = _with_start(months), _with_start(cells)
    Xc = Mo.monthly_design(cf, PERIOD)
    Xw = Mo.monthly_design(wf, PERIOD)
    for w in simulate.WARDS[1:]:
        Xw[f"ward_{w}"] = (wf["ward"] == w).astype(float)
    for e in range(counts.shape[0]):
        for r in range(counts.shape[1]):
            yc, yw = city[e, r].astype(float), counts[e, r].astype(float)
            fc, fw = stats.fit_quasi_poisson(yc, Xc), stats.fit_quasi_poisson(yw, Xw)
            a = stats.cluster_robust(Xc, yc, fc.fitted, cf["fiscal_year"], params=fc.params)
            b = stats.cluster_robust(Xw, yw, fw.fitted, wf["fiscal_year"], params=fw.params)
            assert b.interval("covid_level")[:3] == pytest.approx(a.interval("covid_level")[:3],
                                                                  rel=1e-6)


def test_the_yearly_test_is_the_report_on_requests_model(draws):
    """The yearly model is 01's: its design, the years after the COVID period left out, the
    quasi-Poisson standard error with the scale max(1, dispersion)."""
    cal = simulate.calibrate()
    cells, counts = simulate.simulate_counts(cal, range(2017, 2026), [1.0], replications=4,
                                             seed=2)
    years, yearly = simulate.yearly_totals(cells, counts)
    X, rows, term = D.design_matrix(years, "yearly", PERIOD)
    assert years["fiscal_year"][rows].tolist() == list(range(2017, 2024))
    Xd = its_design(np.arange(2017, 2024), 2020)
    np.testing.assert_array_equal(X, Xd.to_numpy(float))
    est, se, df = D.batch_qp(X, yearly[0][:, rows], term)
    for i, y in enumerate(yearly[0][:, rows].astype(float)):
        fit = stats.fit_quasi_poisson(y, Xd)
        assert (est[i], se[i]) == pytest.approx((fit.params["covid_period"],
                                                 fit.se("covid_period")), rel=1e-6)
    assert df == 3


def test_differences_within_twice_the_monte_carlo_error_are_ties():
    assert D._change(0.242, 0.200, 0.03) == "same"  # 4.2 points, SE of the difference 3
    assert D._change(0.242, 0.242, 0.0) == "same"
    assert D._change(0.20, 0.30, 0.03) == "up"
    assert D._change(0.30, 0.20, 0.03) == "down"


def _table(p_short, p_long, p_monthly=0.2, se=0.02):
    rows = []
    for span, p_year in (("2017-2023", p_short), ("2017-2025", p_long)):
        for res, p in (("yearly", p_year), ("monthly", p_monthly), ("wards", p_monthly)):
            rows.append({"resolution": res, "span": span, "drop": 0.3, "power": p,
                         "power_se": se, "vs_yearly_se": se, "size_nominal": 0.05,
                         "size_se": 0.01})
    t = pd.DataFrame(rows)
    return t


def _answer(table, lang="en"):
    exact = D.YearlyExact(0.25, 0.01, 0.45, 34.0, 10.9, 472.0, 3, 0.33, tuple(range(2017, 2024)))
    facts, keys, _ = D._texts(table, None, exact, D.SPANS, 400)
    from wardanalysis.results import Said
    from wardanalysis.text.messages import message

    return " ".join(k.__lang_format__("", lang) if isinstance(k, Said) else
                    message(k, lang, **facts) for k in keys)


def test_two_more_years_are_said_to_lower_the_power_when_it_falls():
    """The sentence follows the numbers: a fall beyond the error is a fall, a small one a tie."""
    assert "lower the power for a 30% drop from 60.0% to 20.0%" in _answer(_table(0.6, 0.2))
    tie = _answer(_table(0.242, 0.200, se=0.025))
    assert "leave the power for a 30% drop the same" in tie and "raise" not in tie.split(
        "With yearly totals, 2 more")[1].split(".")[0]
    assert "raise the power for a 30% drop from 20.0% to 60.0%" in _answer(_table(0.2, 0.6))
    assert "下がる" in _answer(_table(0.6, 0.2), "ja")


def test_monthly_against_yearly_ties_are_said_as_ties():
    same = _answer(_table(0.242, 0.242, p_monthly=0.242))
    assert "the same within the simulation's error" in same and "raise the power:" not in same
    assert "Monthly counts raise the power" in _answer(_table(0.1, 0.1, p_monthly=0.5))


def test_no_recommendation_rests_on_an_analysis_not_simulated():
    """04 does not recommend monthly data for comparing months under the city's measures (an
    analysis it does not simulate)."""
    for p in (0.1, 0.5, 0.9):
        text = _answer(_table(0.1, 0.1, p_monthly=p))
        assert "measures" not in text
    assert "We recommend" in _answer(_table(0.1, 0.1, p_monthly=0.9))
    assert "We recommend" not in _answer(_table(0.1, 0.1, p_monthly=0.5))


def test_the_study_states_its_numbers_and_monte_carlo_error():
    res = D.power_study(replications=40, spans=((2017, 2023),), seed=5, sensitivity=True)
    for p in (res.power_at("yearly", 0.3), res.power_at("monthly", 0.3)):
        assert f"{100 * p:.1f}%" in res.answer("en")  # the short answer of the summary box
    assert "simulated" in res.answer("en") and "模擬データ" in res.answer("ja")
    text = res.text("en")  # the page's full paragraph
    se = max(math.sqrt(p * (1 - p) / 40) for p in res.data["power"])
    assert f"{100 * se:.1f} percentage points" in text
    assert "0.249" in text and "75.1%" in text  # the exact yearly answer, as in 01
    assert "noncentral t" in res.method_text("en") and "非心t分布" in res.method_text("ja")
    assert "まちづくりセンター" in res.conclusion("ja") and "まちづくりセンター" in res.conclusion("en")
    # the power shown is that of the test at its nominal 5%, not an oracle threshold
    assert "nominal 5%" in res.method_text("en") and "true 5% size" not in res.method_text("en")
    assert "棄却するよう調整" not in res.method_text("ja")
    # the power table says what each drop column holds, in the page's language
    for lang, head in (("ja", "30%低下の検出力"), ("en", "Power at a 30% drop")):
        table = res.power_table(lang)
        assert head in table.columns
        assert table[head].iloc[0] == res.power_at("yearly", 0.3)


def test_monthly_counts_that_lower_the_power_are_said_to():
    text = _answer(_table(0.3, 0.3, p_monthly=0.1))
    assert "Monthly counts lower the power" in text and "7 fiscal years" in text
    assert "recommend" not in text.lower().replace("no reason", "")
