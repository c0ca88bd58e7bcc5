"""The ``wardanalysis`` command: ``check``, ``datasets``, ``describe``, ``run``."""

from __future__ import annotations

import argparse
import json
import sys

from . import __version__


def _cmd_check(args: argparse.Namespace) -> int:
    from .loading import check, datasets, describe, load

    problems = check(args.path, dataset=args.dataset)
    if problems:
        for p in problems:
            print(p)
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    if args.path is None:
        print(f"All {len(datasets())} datasets are valid. Provenance:")
        for name in datasets():
            meta = describe(name)
            src = meta["source"]
            df = load(name)
            where = src.get("section", "")
            print(f"- {name} ({len(df)} rows): {src['id']} · {where} · {src.get('as_of', '')} "
                  f"· quality {src.get('quality', 'per row')} · sha256 {meta['sha256'][:12]}")
    else:
        print(f"{args.path}: no problems found")
    return 0


def _cmd_datasets(args: argparse.Namespace) -> int:
    from .loading import datasets, describe

    for name in datasets():
        meta = describe(name)
        print(f"{name}\t{meta['title']['en']} / {meta['title']['ja']}")
    return 0


def _cmd_describe(args: argparse.Namespace) -> int:
    from .loading import describe

    try:
        meta = describe(args.name)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    print(json.dumps(meta, ensure_ascii=False, indent=2, default=str))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wardanalysis",
        description="Kumamoto City main office / ward office analysis: data checks and report batch.",
    )
    parser.add_argument("--version", action="version", version=f"wardanalysis {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "check",
        help="validate the shipped data, or a user's CSV file or overlay directory",
        description="Validate data and report every problem, each naming file, row and column. "
        "With no PATH, checks the shipped data and prints a provenance summary.",
    )
    p.add_argument("path", nargs="?", help="a CSV file named <dataset>.csv, or a directory of them")
    p.add_argument("--dataset", help="the dataset a file belongs to, if its name does not say")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("datasets", help="list the datasets")
    p.set_defaults(func=_cmd_datasets)

    p = sub.add_parser("describe", help="print a dataset's metadata as JSON")
    p.add_argument("name")
    p.set_defaults(func=_cmd_describe)

    from .batch.cli import add_arguments as add_run_arguments

    p = sub.add_parser(
        "run",
        help="execute the notebooks for each fiscal year and language, and render the reports",
        description="Execute the parameterized notebooks with papermill and render them for reviewers.",
    )
    add_run_arguments(p)
    p.set_defaults(func=_cmd_run)
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from .batch.cli import main as run_main

    return run_main(args)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
