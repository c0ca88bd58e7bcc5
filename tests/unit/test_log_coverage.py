"""Short and partial logs (issue 23 §2): a log of one year still makes a page, which says why
the time series is not fitted; a log holding part of the published requests says how much.

The logs here are TEST FIXTURES made by the simulator (request ids ``SIM-…``), written to a
temporary folder as a user would put a real log: they are not Kumamoto's records."""

from __future__ import annotations

import pytest

import wardanalysis as wa
from wardanalysis.data import inputs
from wardanalysis.errors import NotEstimableError
from wardanalysis.models import extent as LC
from wardanalysis.models import monthly as Mm
from wardanalysis.models import monthly_data as Mo
from wardanalysis.models import simulate


def _folder(tmp_path, log, name):
    folder = tmp_path / name
    folder.mkdir()
    log.to_csv(folder / "request_log.csv", index=False, date_format="%Y-%m-%d")
    return folder


@pytest.fixture(scope="module")
def one_year(tmp_path_factory):
    """A simulated log of FY2023 only (12 months)."""
    log = simulate.simulate_request_log([2023], seed=5)
    return _folder(tmp_path_factory.mktemp("fixture"), log, "one_year"), log


@pytest.fixture(scope="module")
def eighth(tmp_path_factory):
    """One request in eight of a simulated seven-year log: a partial register."""
    log = simulate.simulate_request_log(range(2017, 2024), seed=6)
    part = log.sample(frac=0.125, random_state=1).sort_values("received_date")
    return _folder(tmp_path_factory.mktemp("fixture"), part, "eighth"), part


def _published(years):
    needs = wa.load("needs_reflection")
    return int(needs.loc[needs["fiscal_year"].isin(years), "requests"].sum())


def test_a_year_of_log_says_why_there_is_no_time_series(one_year):
    folder, log = one_year
    data = Mo.monthly_inputs(folder)
    result = LC.log_coverage(data, data_dir=folder)
    assert not result.series_estimable
    assert result.estimate("log.months").value == 12
    # the share, computed here from the rows and the published table
    assert result.estimate("log.coverage_share").value == pytest.approx(
        len(log) / _published([2023]), rel=1e-12)
    en, ja = result.headline("en"), result.headline("ja")
    assert "12 months (FY2023)" in en and "at least 36" in en and "not estimated" in en
    assert "12か月分（2023年度）" in ja and "36か月" in ja
    # the model itself refuses the same data, by the same constant
    with pytest.raises(NotEstimableError, match=f"at least {LC.MIN_MONTHS}"):
        Mm.monthly_its(data.city)


def test_the_threshold_is_the_models():
    """36 months with a year before the COVID period: the coverage says a series can be fitted
    and the model fits it; 35: neither."""
    log = simulate.simulate_request_log([2019, 2020, 2021], seed=8)
    for drop_last, estimable in ((False, True), (True, False)):
        months = inputs.monthly_counts(log)
        if drop_last:
            months = months.iloc[:-1]
        data = Mo.MonthlyInputs(months, None, None, False, None)
        result = LC.log_coverage(data)
        assert result.series_estimable is estimable
        if estimable:
            Mm.monthly_its(months, simulated=False)
        else:
            with pytest.raises(NotEstimableError):
                Mm.monthly_its(months, simulated=False)


def test_a_log_of_an_eighth_of_the_requests_says_so_in_the_summary(eighth):
    folder, part = eighth
    data = Mo.monthly_inputs(folder)
    result = LC.log_coverage(data, data_dir=folder)
    assert result.series_estimable
    years = sorted(part["received_date"].map(lambda d: d.year if d.month >= 4 else d.year - 1)
                   .unique())
    share = len(part) / _published(years)
    assert result.estimate("log.coverage_share").value == pytest.approx(share, rel=1e-12)
    assert share < LC.WHOLE_SHARE
    en = result.headline("en")
    assert f"{100 * share:.1f}%" in en and "only part of the requests" in en
    assert "does not mean that the city's requests did not change" in en
    assert "記録は要望・相談の一部にとどまる" in result.headline("ja")


def test_simulated_data_has_no_coverage_statement():
    assert LC.log_coverage(Mo.monthly_inputs(None)) is None
