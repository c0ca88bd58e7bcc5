"""The fiscal-year batch: ``wardanalysis run`` (``make report``).

Executes every notebook in ``notebooks/`` with papermill, once per language and, for notebooks
whose parameters cell declares ``fiscal_year``, once per fiscal year; renders each run to HTML; and
writes ``reports/index.html``, ``reports/results.csv`` and ``reports/manifest.json``.

The cycle
---------
1. Add a fiscal year's figures: put them in ``<dir>/<dataset>.csv`` files in the dataset's schema
   (``wardanalysis describe needs_reflection`` lists the columns), check them with
   ``wardanalysis check <dir>``, and set ``data_dir: <dir>`` in ``params/batch.yaml`` (or pass
   ``--data-dir <dir>``). The new year joins "every fiscal year in the data".
2. Run the batch: ``make report`` (``wardanalysis run``). Only the notebooks whose inputs changed
   are executed; the others are reused. ``--fiscal-year 2025 --lang ja`` narrows a run;
   ``--force`` executes everything.
3. Read ``reports/index.html``: every report by fiscal year and notebook, both languages, with its
   status, parameters, duration, package version, data checksum, and links to the reviewer view
   (no code), the full view (with code) and the executed notebook. A failed notebook shows its
   error's last line and an error page; an earlier good report of it is kept and marked stale.
   ``reports/results.csv`` holds every key estimate (``notebook, fiscal_year, lang, key, value,
   ci_low, ci_high, unit``) recorded with :func:`wardanalysis.records.record`.

Modules, one job each
---------------------
:mod:`~.config`   ``params/batch.yaml``, ``params/<notebook>.yaml`` and the options, validated
                  against each notebook's parameters cell; the jobs to run.
:mod:`~.cache`    input keys and dataset fingerprints: when a report may be reused.
:mod:`~.runner`   one run, from plan to published index (what the command line calls).
:mod:`~.execute`  the run's execution: worker processes, each notebook in an ordinary kernel
                  (papermill, records, pages, publishing), and stopping them all on a signal.
:mod:`~.outputs`  the reports directory: atomic writes, lock, manifest, stable addresses.

The pages themselves (report views, front page, run log) and the results a reader downloads
(results.csv, results.xlsx) are :mod:`wardanalysis.site`'s.
:mod:`~.cli`      the ``wardanalysis run`` options.
"""
