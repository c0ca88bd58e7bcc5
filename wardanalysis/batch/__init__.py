"""The fiscal-year batch: ``wardanalysis run`` (``make report``).

Executes every notebook in ``notebooks/`` with papermill, once per language and, for notebooks
whose parameters cell declares ``fiscal_year``, once per fiscal year; renders each run to HTML;
writes ``reports/index.html``, ``results.csv`` and ``manifest.json``.

The cycle: put a new fiscal year's figures in ``<dir>/<dataset>.csv`` (``wardanalysis describe
needs_reflection`` lists the columns), check them with ``wardanalysis check <dir>``, and set
``data_dir: <dir>`` in ``params/batch.yaml`` (or pass ``--data-dir <dir>``); run ``make report``,
which executes only the notebooks whose inputs changed; read ``reports/index.html``.

Modules: :mod:`~.config` (what to run, validated), :mod:`~.cache` (when a report is reused),
:mod:`~.runner` (one run, from plan to published index), :mod:`~.execute` (worker processes and
kernels, stopping on a signal), :mod:`~.outputs` (the reports folder: atomic writes, lock,
manifest), :mod:`~.cli` (the options). The pages are :mod:`wardanalysis.site`'s.
"""
