"""Page 05 on a short and on a partial request log (issue 23 §2), executed as the batch executes
it: one year of log still makes a page whose summary says why there is no time series; a log
holding an eighth of the requests says so in the summary.

The logs are TEST FIXTURES made by the simulator (request ids ``SIM-…``), written to a temporary
folder as a user would put a real log: they are not Kumamoto's records."""

from __future__ import annotations

import pytest

from wardanalysis.models import simulate
from wardanalysis.paths import notebooks_dir
from wardanalysis.records import HEADLINE_MIME


def _run(tmp_path, log, lang):
    import nbformat
    import papermill

    data = tmp_path / "data"
    data.mkdir()
    log.to_csv(data / "request_log.csv", index=False, date_format="%Y-%m-%d")
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(str(notebooks_dir() / "05_monthly_log.ipynb"), str(out),
                               parameters={"lang": lang, "data_dir": str(data)},
                               cwd=str(tmp_path), kernel_name="python3", progress_bar=False)
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    headline = next(o["data"][HEADLINE_MIME] for o in outputs if HEADLINE_MIME in o.get("data", {}))
    shown = "\n".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    return headline, shown


def test_one_year_of_log_makes_a_page_that_says_why_there_is_no_time_series(tmp_path):
    log = simulate.simulate_request_log([2023], seed=5)
    headline, shown = _run(tmp_path, log, "en")
    assert headline["answer"].startswith("The data cover 12 months (FY2023); the interrupted time "
                                         "series of monthly counts needs at least 36")
    assert not headline["simulated"]
    # what can be computed is there: the reconciliation and the time to handling
    assert "Against the published yearly figures" in shown
    assert "Time from receipt to handling" in shown and "handling.share_within_90_days" in shown
    assert "monthly.level_rr" not in shown


def test_a_log_of_an_eighth_of_the_requests_states_its_coverage_in_the_summary(tmp_path):
    log = simulate.simulate_request_log(range(2017, 2024), seed=6)
    part = log.sample(frac=0.125, random_state=1).sort_values("received_date")
    headline, shown = _run(tmp_path, part, "ja")
    assert "に公表された要望・相談件数の" in headline["answer"]
    assert "記録は要望・相談の一部にとどまる" in headline["answer"]
    assert any(f.startswith("公表された要望・相談件数に対する記録の割合") for f in headline["figures"])
    assert "monthly.level_rr" in shown  # the time series is still fitted, on what was recorded
