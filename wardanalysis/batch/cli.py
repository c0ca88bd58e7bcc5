"""``wardanalysis run``: its options, and the entry point the top-level command calls."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from ..eras import EraLabelError, fiscal_year
from .config import LANGUAGES, Overrides
from .runner import run_batch


def _year(text: str) -> int:
    """A fiscal year: 2023, or an era label such as R5 or 令和5年度."""
    try:
        return fiscal_year(text)
    except (EraLabelError, ValueError) as exc:
        raise argparse.ArgumentTypeError(str(exc)[:200]) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Execute the parameterized notebooks with papermill, once per fiscal year (for notebooks "
        "that take one) and language, in parallel; render each to a reviewer view and a full view; "
        "write index.html, results.csv and manifest.json. Settings come from params/batch.yaml "
        "and params/<notebook>.yaml; these options override them. Notebooks whose inputs are "
        "unchanged since their last successful run are reused, not executed again."
    )
    years = parser.add_mutually_exclusive_group()
    years.add_argument("--fiscal-year", "-y", dest="fiscal_years", type=_year, action="append",
                       metavar="YEAR", help="run this fiscal year, e.g. 2023 or R5 (repeatable); "
                       "default: as "
                       "batch.yaml says, normally every fiscal year in the data")
    years.add_argument("--all", dest="all_fiscal_years", action="store_true",
                       help="run every fiscal year in the data")
    parser.add_argument("--lang", "-l", dest="languages", action="append", choices=LANGUAGES,
                        help="run this language (repeatable); default: ja and en")
    parser.add_argument("--notebook", "-n", dest="notebooks", action="append", metavar="NAME",
                        help="run this notebook, by file name without .ipynb, e.g. "
                        "01_requests_covid (repeatable); default: all")
    parser.add_argument("--workers", "-j", type=int, metavar="N",
                        help="notebooks executed at once (default: batch.yaml's workers; "
                        "null there means one more than the CPU cores)")
    parser.add_argument("--timeout", type=int, metavar="SECONDS",
                        help="stop a notebook that runs longer than this (default: batch.yaml)")
    parser.add_argument("--force", action="store_true",
                        help="execute every selected notebook, even if its inputs are unchanged")
    parser.add_argument("--set", dest="settings", action="append", metavar="NAME=VALUE",
                        help="set a parameter for every selected notebook that declares it, "
                        "e.g. --set covid_end=2022 (repeatable; validated like the parameter "
                        "files)")
    parser.add_argument("--prune", action="store_true",
                        help="remove the reports of notebooks no longer in the notebooks folder "
                        "(without it, reports the run does not execute are kept)")
    parser.add_argument("--data-dir", metavar="DIR", action="append",
                        help="folder of user data files laid over the shipped data (repeatable: "
                        "the files of every folder are used together; a dataset may be in one "
                        "folder only)")
    parser.add_argument("--out", "-o", metavar="DIR",
                        help="output directory (default: reports/ in the repository)")
    parser.add_argument("--notebooks-dir", type=Path, metavar="DIR",
                        help="where the notebooks are (default: the repository's notebooks/)")
    parser.add_argument("--params-dir", type=Path, metavar="DIR",
                        help="where batch.yaml and the parameter files are (default: params/)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    summary = run_batch(Overrides(**{f.name: getattr(args, f.name) for f in fields(Overrides)}),
                        force=args.force, prune=args.prune, notebooks_directory=args.notebooks_dir,
                        params_directory=args.params_dir, echo=lambda line: print(line, flush=True),
                        progress=False if args.no_progress else None)
    if summary.errors:
        print("wardanalysis run: invalid parameters; nothing was run:", file=sys.stderr)
        for error in summary.errors:
            print(f"  {error}", file=sys.stderr)
        return summary.exit_code
    print(summary.line())
    if summary.failed:
        print("failed: " + ", ".join(summary.failed))
    print(f"index: {summary.index}")
    return summary.exit_code
