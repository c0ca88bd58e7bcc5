"""wardanalysis.batch.config: parameter files validated against the notebooks, before anything
runs; the jobs planned from them."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from wardanalysis.batch.config import Overrides, ParamsError, load_config, plan_jobs
from wardanalysis.params import inspect_notebook, parse_parameters

FIXTURES = Path(__file__).resolve().parents[1] / "e2e" / "fixtures"
YEARS = list(range(2013, 2025))


def _years(data_dir, out):
    return YEARS


@pytest.fixture
def dirs(tmp_path):
    nbs, params = tmp_path / "notebooks", tmp_path / "params"
    shutil.copytree(FIXTURES / "notebooks", nbs)
    params.mkdir()
    (params / "batch.yaml").write_text("fiscal_years: [2022, 2023]\nlanguages: [ja, en]\n",
                                       encoding="utf-8")
    return nbs, params


def _load(dirs, overrides=None):
    nbs, params = dirs
    return load_config(overrides or Overrides(), notebooks_directory=nbs,
                       params_directory=params, data_years=_years)


def _problems(dirs, overrides=None) -> list[str]:
    with pytest.raises(ParamsError) as info:
        _load(dirs, overrides)
    return [str(p) for p in info.value.problems]


# --------------------------------------------------------------------------- parameters cell


def test_parameters_cell_types_from_defaults_and_annotations():
    params = parse_parameters(
        "fiscal_year = 2023  # the year\n"
        "lang = 'ja'\n"
        "data_dir = None\n"
        "share: float = 0.5\n"
        "label: str | None = None\n"
        "flag = False\n"
        "years = [2020, 2021]\n"
        "computed = len('abc')  # not a literal: any value\n"
        "print('not an assignment')\n"
    )
    assert set(params) == {"fiscal_year", "lang", "data_dir", "share", "label", "flag", "years",
                           "computed"}
    assert params["fiscal_year"].default == 2023
    assert params["fiscal_year"].accepts(2020) and not params["fiscal_year"].accepts(True)
    assert not params["fiscal_year"].accepts("2020")
    assert params["data_dir"].accepts(None) and params["data_dir"].accepts("/data")
    assert params["share"].accepts(1) and params["share"].accepts(0.2)
    assert not params["share"].accepts("0.2")
    assert params["label"].accepts(None) and params["label"].accepts("x")
    assert not params["label"].accepts(1)
    assert params["flag"].accepts(True) and not params["flag"].accepts(1)
    assert params["years"].accepts([2019]) and not params["years"].accepts(2019)
    assert params["computed"].accepts(object())


def test_inspect_fixture_notebooks():
    fy = inspect_notebook(FIXTURES / "notebooks" / "fy_report.ipynb")
    assert fy.per_fiscal_year
    assert {"fiscal_year", "lang", "data_dir"} <= set(fy.parameters)
    assert not inspect_notebook(FIXTURES / "notebooks" / "overview.ipynb").per_fiscal_year


def test_string_parameters_are_injected_as_data_not_code():
    """papermill writes each string as one literal: the injected cell only assigns constants."""
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(str(FIXTURES / "notebooks" / "overview.ipynb"))
    nasty = "x'\"\"\"\nimport os; os.system('echo pwned') #\\n 日本語 \\\\"
    out = parameterize_notebook(nb, {"lang": "ja", "data_dir": nasty, "title_suffix": nasty})
    injected = next(c for c in out.cells if "injected-parameters" in c.metadata.get("tags", []))
    tree = ast.parse(injected.source)
    values = {}
    for node in tree.body:
        assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        values[node.targets[0].id] = node.value.value
    assert values == {"lang": "ja", "data_dir": nasty, "title_suffix": nasty}


# --------------------------------------------------------------------------- valid settings


def test_valid_configuration_and_plan(dirs):
    nbs, params = dirs
    (params / "overview.yaml").write_text("title_suffix: ' (draft)'\n", encoding="utf-8")
    config = _load(dirs)
    assert list(config.notebooks) == ["failing", "fy_report", "overview"]
    assert config.fiscal_years == [2022, 2023]
    assert config.languages == ["ja", "en"]
    assert config.workers >= 1
    jobs = plan_jobs(config)
    # fy_report: 2 years x 2 languages; the others: 2 languages each
    assert len(jobs) == 4 + 2 + 2
    ids = [j.id for j in jobs]
    assert "fy_report/fy2022-en" in ids and "overview/ja" in ids
    overview = next(j for j in jobs if j.id == "overview/en")
    assert overview.parameters == {"title_suffix": " (draft)", "lang": "en", "data_dir": None}
    fy = next(j for j in jobs if j.id == "fy_report/fy2023-ja")
    assert fy.parameters == {"fiscal_year": 2023, "lang": "ja", "data_dir": None}


def test_overrides_win(dirs, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    config = _load(dirs, Overrides(notebooks=["fy_report"], fiscal_years=[2013, 2024],
                                   languages=["en"], workers=3, timeout=5, out="o",
                                   data_dir=str(data)))
    assert list(config.notebooks) == ["fy_report"]
    assert config.fiscal_years == [2013, 2024]
    assert (config.languages, config.workers, config.timeout) == (["en"], 3, 5.0)
    assert config.out == (Path.cwd() / "o").resolve()
    assert config.data_dir == [data.resolve()]
    assert [j.parameters["data_dir"] for j in plan_jobs(config)] == [str(data.resolve())] * 2


def test_relative_directories_become_absolute(dirs, monkeypatch):
    nbs, params = dirs
    monkeypatch.chdir(nbs.parent)
    config = load_config(Overrides(), notebooks_directory=Path("notebooks"),
                         params_directory=Path("params"), data_years=_years)
    assert config.notebooks_dir.is_absolute() and config.params_dir.is_absolute()
    assert all(job.path.is_absolute() for job in plan_jobs(config))


def test_all_means_every_fiscal_year_in_the_data(dirs):
    assert _load(dirs, Overrides(all_fiscal_years=True)).fiscal_years == YEARS


def test_relative_paths_in_batch_yaml_are_relative_to_the_repository(dirs):
    nbs, params = dirs
    (params / "batch.yaml").write_text("out: somewhere/reports\n", encoding="utf-8")
    assert _load(dirs).out == (params.parent / "somewhere" / "reports").resolve()


def test_real_fiscal_years_come_from_the_three_datasets():
    from wardanalysis.batch.cache import fiscal_years_in_data

    assert fiscal_years_in_data(None) == YEARS


def test_the_repository_batch_yaml_is_valid():
    from wardanalysis.batch.config import BATCH_KEYS, read_yaml_mapping
    from wardanalysis.paths import params_dir

    values, problems = read_yaml_mapping(params_dir() / "batch.yaml")
    assert problems == []
    assert set(values) <= set(BATCH_KEYS)
    assert values["languages"] == ["ja", "en"] and values["fiscal_years"] == "all"


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("file", "text", "expected"),
    [
        ("batch.yaml", "fiscal_years: [2022]\nworkerz: 2\n", "batch.yaml: workerz: unknown key"),
        ("batch.yaml", "workers: two\n", "batch.yaml: workers: must be a positive integer"),
        ("batch.yaml", "workers: 0\n", "batch.yaml: workers: must be a positive integer"),
        ("batch.yaml", "timeout: -1\n", "batch.yaml: timeout: must be a whole number of seconds"),
        ("batch.yaml", "languages: [ja, fr]\n", "batch.yaml: languages: must be a non-empty list"),
        ("batch.yaml", "fiscal_years: [2022, 1999]\n",
         "batch.yaml: fiscal_years: 1999 is not a fiscal year in the data (2013–2024)"),
        ("batch.yaml", "fiscal_years: last\n", "batch.yaml: fiscal_years: must be 'all' or a list"),
        ("batch.yaml", "notebooks: [overview, nope]\n", "batch.yaml: notebooks: no notebook nope"),
        ("batch.yaml", "kernel_start: fork\n", "batch.yaml: kernel_start: unknown key"),
        ("batch.yaml", "workers: 1\nworkers: 2\n", "batch.yaml: is not valid YAML"),
        ("batch.yaml", "- a list\n", "batch.yaml: must be a mapping"),
        ("overview.yaml", "title_sufix: x\n", "overview.yaml: title_sufix: unknown parameter"),
        ("overview.yaml", "title_suffix: 3\n", "overview.yaml: title_suffix: must be a string"),
        ("failing.yaml", "should_fail: 'yes'\n", "failing.yaml: should_fail: must be true or false"),
        ("overview.yaml", "lang: en\n", "overview.yaml: lang: is set by the batch"),
        ("fy_report.yaml", "fiscal_year: 2023\n", "fy_report.yaml: fiscal_year: is set by the batch"),
        ("typo_report.yaml", "a: 1\n", "typo_report.yaml: no notebook typo_report.ipynb"),
    ],
)
def test_each_problem_names_its_file_and_key(dirs, file, text, expected):
    nbs, params = dirs
    (params / file).write_text(text, encoding="utf-8")
    problems = _problems(dirs)
    assert any(expected in p for p in problems), problems


def test_duplicated_yaml_key_is_named(dirs):
    nbs, params = dirs
    (params / "overview.yaml").write_text("title_suffix: a\ntitle_suffix: b\n", encoding="utf-8")
    assert any("key 'title_suffix' given twice" in p for p in _problems(dirs))


def test_all_problems_are_reported_together(dirs):
    nbs, params = dirs
    (params / "batch.yaml").write_text("workerz: 2\ntimeout: no\n", encoding="utf-8")
    (params / "overview.yaml").write_text("title_sufix: x\n", encoding="utf-8")
    assert len(_problems(dirs)) == 3


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (Overrides(notebooks=["nope"]), "--notebook: nope: no notebook nope.ipynb"),
        (Overrides(fiscal_years=[2030]), "--fiscal-year: 2030 is not a fiscal year in the data"),
    ],
)
def test_command_line_problems_name_the_option(dirs, overrides, expected):
    assert any(expected in p for p in _problems(dirs, overrides))


def test_a_scratch_notebook_is_skipped_and_named_unless_asked_for(dirs):
    """A notebook saved in notebooks/ without a parameters cell (a scratch notebook) does not
    stop the batch: it is skipped, and named; asked for by name it is an error. A notebook that
    has a parameters cell but no lang is meant for the batch, and is an error."""
    import nbformat

    nbs, _ = dirs
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(nb, nbs / "untagged.ipynb")
    config = _load(dirs)
    assert config.skipped == {"untagged": "has no code cell tagged 'parameters'"}
    assert "untagged" not in config.notebooks and "overview" in config.notebooks
    problems = _problems(dirs, Overrides(notebooks=["untagged"]))
    assert any("untagged.ipynb: has no code cell tagged 'parameters'" in p for p in problems)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "x = 1", metadata={"tags": ["parameters"]})])
    nbformat.write(nb, nbs / "nolang.ipynb")
    problems = _problems(dirs)
    assert any("nolang.ipynb: lang: the parameters cell must declare it" in p for p in problems)


def test_bad_overlay_data_is_a_clear_error(dirs, tmp_path):
    """Listing the fiscal years reads the data with data_dir: a broken overlay stops the run."""
    from wardanalysis.batch.cache import fiscal_years_in_data

    data = tmp_path / "overlay"
    data.mkdir()
    (data / "needs_reflection.csv").write_text("fiscal_year,requests\n2023,lots\n", "utf-8")
    nbs, params = dirs
    with pytest.raises(ParamsError) as info:
        load_config(Overrides(data_dir=str(data)), notebooks_directory=nbs,
                    params_directory=params, data_years=lambda d, o: fiscal_years_in_data(d))
    assert "cannot list the fiscal years in the data" in str(info.value)


def test_data_dir_may_be_given_more_than_once(dirs, tmp_path):
    """--data-dir twice (or a list in batch.yaml): every folder's files are used together; the
    notebooks get the list, one folder stays a string; a dataset in two folders is refused."""
    a, b = tmp_path / "yearly", tmp_path / "logs"
    a.mkdir()
    b.mkdir()
    config = _load(dirs, Overrides(data_dir=[str(a), str(b)]))
    assert config.data_dir == [a.resolve(), b.resolve()]
    assert plan_jobs(config)[0].parameters["data_dir"] == [str(a.resolve()), str(b.resolve())]
    nbs, params = dirs
    (params / "batch.yaml").write_text(f"data_dir: [{a}]\n", encoding="utf-8")
    assert plan_jobs(_load(dirs))[0].parameters["data_dir"] == str(a.resolve())
    (a / "needs_reflection.csv").write_text("fiscal_year\n", encoding="utf-8")
    (b / "needs_reflection.xlsx").write_bytes(b"")
    problems = _problems(dirs, Overrides(data_dir=[str(a), str(b)]))
    assert any(str(b / "needs_reflection.xlsx") in p and "also in" in p and str(a) in p
               for p in problems), problems


@pytest.fixture
def real_dirs(tmp_path):
    """The repository's notebooks with a parameter directory of the test's own."""
    from wardanalysis.paths import notebooks_dir

    params = tmp_path / "params"
    params.mkdir()
    (params / "batch.yaml").write_text("fiscal_years: [2023]\nlanguages: [ja]\n", encoding="utf-8")
    return notebooks_dir(), params


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("covid_end: X9\n", "01_requests_covid.yaml: covid_end: invalid era/fiscal-year label 'X9'"),
        ("covid_start: 2020.5\n", "01_requests_covid.yaml: covid_start: must be an integer"),
        ("covid_start: 1800\n", "01_requests_covid.yaml: covid_start: 1800 is not a plausible"),
        ("covid_ende: 2022\n", "01_requests_covid.yaml: covid_ende: unknown parameter"),
    ],
)
def test_covid_period_parameters_are_validated_before_anything_runs(real_dirs, text, expected):
    (real_dirs[1] / "01_requests_covid.yaml").write_text(text, encoding="utf-8")
    problems = _problems(real_dirs)
    assert any(expected in p for p in problems), problems


def test_covid_period_parameters_take_years_and_era_labels(real_dirs):
    (real_dirs[1] / "01_requests_covid.yaml").write_text("covid_start: R2\ncovid_end: 2022\n",
                                                         encoding="utf-8")
    config = _load(real_dirs)
    assert config.notebook_params["01_requests_covid"] == {"covid_start": "R2", "covid_end": 2022}


def test_set_gives_a_parameter_to_every_notebook_that_declares_it(real_dirs):
    from wardanalysis.batch.config import Overrides

    config = _load(real_dirs, Overrides(settings=["covid_end=2022"]))
    takers = {stem for stem, p in config.notebook_params.items() if p.get("covid_end") == 2022}
    assert takers == {"01_requests_covid", "02_escalation", "05_monthly_log", "fiscal_year_report"}


@pytest.mark.parametrize(("setting", "expected"), [
    ("covid_ende=2022", "--set: covid_ende: no selected notebook declares this parameter"),
    ("covid_end=X9", "--set: covid_end: invalid era/fiscal-year label 'X9'"),
    ("covid_end", "--set: expects NAME=VALUE"),
    ("covid_end=2024-01-01", "is a date"),
])
def test_a_bad_set_is_named(real_dirs, setting, expected):
    from wardanalysis.batch.config import Overrides

    problems = _problems(real_dirs, Overrides(settings=[setting]))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(("settings", "expected"), [
    (["covid_start=2023", "covid_end=2020"], "covid_end (FY2020) comes before covid_start (FY2023)"),
    (["covid_start=FY9999"], "--set: covid_start: FY9999 is not a plausible fiscal year"),
    (["covid_start=1989"], "must lie within the data"),
    (["covid_start=2100"], "must lie within the data"),
    (["covid_end=R9"], "the COVID period FY2020–FY2027 must lie within the data"),
])
def test_the_covid_period_is_checked_as_a_whole_and_against_the_data(real_dirs, settings,
                                                                     expected):
    """Values that each pass alone but that no notebook could use are refused before anything
    runs, naming the notebook and the values (the models' rule: start ≤ end, within the data,
    with a year before the period)."""
    problems = _problems(real_dirs, Overrides(settings=settings))
    assert any(expected in p and ("01_requests_covid" in p or p.startswith("--set"))
               for p in problems), problems
    assert len(problems) == len(set(problems))


def test_a_period_within_the_data_passes(real_dirs):
    config = _load(real_dirs, Overrides(settings=["covid_start=R3", "covid_end=2022"]))
    assert config.notebook_params["01_requests_covid"] == {"covid_start": "R3", "covid_end": 2022}


@pytest.mark.parametrize(("overrides", "reasons"), [
    (Overrides(settings=["covid_end=2022"]), ["covid_end=2022"]),
    (Overrides(languages=["en"]), ["lang=en"]),
])
def test_an_exploratory_run_is_written_beside_the_canonical_reports(real_dirs, overrides,
                                                                    reasons):
    """A run that changes a model parameter or covers one language only writes to its own
    folder under reports-exploratory/, never over the canonical reports, and says why."""
    canonical = _load(real_dirs).out
    config = _load(real_dirs, overrides)
    assert config.exploratory == reasons
    assert config.out != canonical and config.out.parent.name == "reports-exploratory"
    assert config.out.name == reasons[0]


def test_an_exploratory_run_with_out_goes_where_asked_and_is_marked(real_dirs, tmp_path):
    config = _load(real_dirs, Overrides(settings=["covid_end=2022"], out=str(tmp_path / "o")))
    assert config.out == (tmp_path / "o").resolve() and config.exploratory == ["covid_end=2022"]
    assert _load(real_dirs, Overrides(languages=["ja", "en"])).exploratory == []
