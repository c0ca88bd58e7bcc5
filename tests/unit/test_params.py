"""A notebook run by hand gets the batch's checks of its parameters (wardanalysis.params), in
``report.setup``: one line per problem naming the parameter; the batch and the notebooks share
one schema, read from the parameters cell."""

from __future__ import annotations

import pytest

from wardanalysis import report
from wardanalysis.params import ParamsError, inspect_notebook
from wardanalysis.paths import notebooks_dir

MONTHLY = {"data_dir": None, "covid_start": None, "covid_end": None, "simulated_effect": 0.7,
           "seed": 20240626}


def _setup(notebook="05_monthly_log", lang="ja", **changed):
    values = {**(MONTHLY if notebook == "05_monthly_log" else {}), **changed}
    report.setup(lang, notebook, **values)


def test_the_defaults_pass():
    _setup()
    _setup("fiscal_year_report", fiscal_year=2023, data_dir=None, covid_start=None, covid_end=None)


@pytest.mark.parametrize(("changed", "line"), [
    ({"seed": "x"}, "05_monthly_log.ipynb: seed: must be an integer (the default in "
                    "05_monthly_log.ipynb is 20240626), not 'x'"),
    ({"simulated_effect": "0.7"}, "05_monthly_log.ipynb: simulated_effect: must be a number"),
    ({"covid_start": 2.5}, "05_monthly_log.ipynb: covid_start: must be an integer or a string "
                           "or null"),
    ({"covid_start": "X9"}, "05_monthly_log.ipynb: covid_start: "),
    ({"covid_end": "R9"}, "05_monthly_log: covid_end='R9': the COVID period FY2020–FY2027 must "
                          "lie within the data (FY2013–FY2024)"),
    ({"covid_start": 2023, "covid_end": 2021}, "05_monthly_log: covid_start=2023, covid_end=2021"
                                               ": covid_end (FY2021) comes before covid_start"),
    ({"data_dir": "/nonexistent/folder"}, "05_monthly_log.ipynb: data_dir: data_dir "
                                          "'/nonexistent/folder' is not a directory"),
    ({"data_dir": ["data", "/nonexistent"]}, "05_monthly_log.ipynb: data_dir: data_dir "
                                             "'/nonexistent' is not a directory"),
    ({"data_dir": 3}, "05_monthly_log.ipynb: data_dir: must be a folder or a list of folders"),
])
def test_a_wrong_value_is_one_line_naming_the_parameter(changed, line):
    with pytest.raises(ParamsError) as info:
        _setup(**changed)
    assert len(info.value.problems) == 1
    assert str(info.value).startswith(line), str(info.value)
    assert info.value._render_traceback_() == [f"ParamsError: {info.value}"]


def test_data_dir_may_be_a_folder_of_the_project_root_or_a_list_of_folders():
    """As the data layer finds them: "data" is the project root's folder, seen from anywhere."""
    _setup(**{**MONTHLY, "data_dir": "data"})
    _setup(**{**MONTHLY, "data_dir": ["data", "docs"]})


def test_a_fiscal_year_not_in_the_data_is_refused_as_the_batch_refuses_it():
    with pytest.raises(ParamsError, match=r"fiscal_year_report.ipynb: fiscal_year: 2031 is not a "
                                          r"fiscal year in the data \(2013–2024\)"):
        _setup("fiscal_year_report", fiscal_year=2031, data_dir=None, covid_start=None,
               covid_end=None)


def test_a_misspelt_or_missing_parameter_is_named():
    with pytest.raises(ParamsError, match=r"declares no 'sed'.*did you mean 'seed'"):
        report.setup("ja", "05_monthly_log", **{**MONTHLY, "sed": 1})
    with pytest.raises(TypeError, match=r"missing: seed"):
        report.setup("ja", "05_monthly_log", **{k: v for k, v in MONTHLY.items() if k != "seed"})


def test_every_notebook_passes_its_parameters_to_setup():
    """Each shipped notebook calls ``report.setup`` with its name and every parameter of its
    parameters cell, so that a hand run is checked as the batch checks it."""
    import json

    for path in sorted(notebooks_dir().glob("*.ipynb")):
        names = [n for n in inspect_notebook(path).parameters if n != "lang"]
        code = "".join("".join(c["source"]) for c in json.loads(path.read_text("utf-8"))["cells"]
                       if c["cell_type"] == "code")
        call = f'report.setup(lang, "{path.stem}"' + "".join(f", {n}={n}" for n in names) + ")"
        assert call in code, (path.name, call)


def test_the_batch_uses_the_same_checks(tmp_path):
    """A value the notebook refuses by hand, the batch refuses with the same words."""
    from wardanalysis.batch.config import Overrides, load_config

    with pytest.raises(ParamsError) as info:
        load_config(Overrides(notebooks=["05_monthly_log"], settings=["seed=x"]),
                    data_years=lambda d, o: list(range(2013, 2025)))
    assert "seed: must be an integer (the default in 05_monthly_log.ipynb is 20240626), not 'x'" \
        in str(info.value)
