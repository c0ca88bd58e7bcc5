"""The ``wardanalysis`` command: ``check``, ``datasets``, ``describe``, ``template``, ``run``,
``packet``."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import traceback
from pathlib import Path

from . import __version__
from .batch.cli import add_arguments as add_run_arguments
from .batch.cli import main as run_main
from .data.schema import dataset_names
from .errors import WardanalysisError, printable


def _cmd_check(args: argparse.Namespace) -> int:
    from .data.loading import check, describe, load  # heavy: pandas

    problems = check(args.path, dataset=args.dataset)
    if args.path is not None:
        from .data.loading import header_lines  # heavy: pandas

        renamed = header_lines(args.path, args.dataset)
        if renamed:
            print("Headers read as columns (a Japanese label or a declared alias):")
            for line in renamed:
                print(f"  {printable(line)}")
    for p in problems:
        print(p)  # a Problem escapes its own control characters
    errors = [p for p in problems if p.is_error]
    warnings = len(problems) - len(errors)
    if errors:
        more = f" and {warnings} warning(s)" if warnings else ""
        print(f"{len(errors)} problem(s){more} found", file=sys.stderr)
        return 1

    if args.path is None:
        print(f"All {len(dataset_names())} datasets are valid. Provenance:")
        for name in dataset_names():
            meta = describe(name)
            src = meta["source"]
            df = load(name)
            where = src.get("section", "")
            print(f"- {name} ({len(df)} rows): {src['id']} · {where} · {src.get('as_of', '')} "
                  f"· quality {src.get('quality', 'per row')} · sha256 {meta['sha256'][:12]}")
    elif warnings:
        print(f"{printable(args.path)}: no problems that stop the data being used; {warnings} warning(s)")
    else:
        print(f"{printable(args.path)}: no problems found")
    if args.path is not None:
        from .data.loading import reconciliation_lines  # heavy: pandas

        rec = reconciliation_lines(args.path)
        if rec:
            print("Aggregated to fiscal years and compared with the published table "
                  "(needs_reflection; a difference is reported, not an error):")
            for line in rec:
                print(f"  {printable(line)}")
    if args.path is not None and Path(args.path).is_dir():
        from .data.loading import overlay_summary  # heavy: pandas

        summary = overlay_summary(args.path)
        if summary:
            print("Laid over the shipped data, these files change:")
            for line in summary:
                print(f"  {printable(line)}")
    return 0


def _cmd_datasets(args: argparse.Namespace) -> int:
    from .data.loading import describe  # heavy: pandas

    for name in dataset_names():
        meta = describe(name)
        print(f"{name}\t{meta['title']['en']} / {meta['title']['ja']}")
    return 0


def _cmd_describe(args: argparse.Namespace) -> int:
    from .data.loading import describe  # heavy: pandas

    try:
        meta = describe(args.name)
    except KeyError as exc:
        print(f"wardanalysis describe: {exc.args[0]}", file=sys.stderr)
        return 2
    if getattr(args, "json", False):
        print(json.dumps(meta.to_dict(), ensure_ascii=False, indent=2, default=str))
    else:
        print(repr(meta))
    return 0


def _cmd_template(args: argparse.Namespace) -> int:
    from .data.template import write_template  # heavy: openpyxl, pandas

    path = write_template(args.name, args.out, force=args.force)
    print(f"{path}: template of {args.name} written; fill in the sheet {args.name!r} "
          f"(replace the example row), then: wardanalysis check {path.parent}")
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

    p = sub.add_parser(
        "template",
        help="write an Excel template of a dataset: Japanese headers, units, an example row",
        description="Write <DATASET>.xlsx with the dataset's columns headed by their Japanese "
        "labels, an example row, and a sheet explaining each column (name, unit, whether it is "
        "required, the headers accepted). check and run read the file as it is filled in.",
    )
    p.add_argument("name", metavar="DATASET")
    p.add_argument("--out", help="the file or folder to write (default: DATASET.xlsx here)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(func=_cmd_template)

    p = sub.add_parser("describe", help="print a dataset's columns, source and notes")
    p.add_argument("name")
    p.add_argument("--json", action="store_true", help="the full metadata as JSON")
    p.set_defaults(func=_cmd_describe)

    p = sub.add_parser(
        "run",
        help="execute the notebooks for each fiscal year and language, and render the reports",
        description="Execute the parameterized notebooks with papermill and render them for reviewers.",
    )
    add_run_arguments(p)
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser(
        "packet",
        help="make the committee packet: one A4 PDF per language from the rendered reports",
        description="Print the front page's answers, reports 01-03, the latest fiscal-year "
        "report and the sources, under a cover and contents, to packet.ja.pdf and packet.en.pdf "
        "in the reports folder, with headless chromium. Without chromium, says so and exits 0.",
    )
    p.add_argument("--reports-dir", metavar="DIR",
                   help="the reports folder a run wrote (default: reports/ in the repository)")
    p.set_defaults(func=_cmd_packet)
    return parser


def _cmd_packet(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .errors import OutputDirError
    from .paths import REPO_DIR
    from .site.packet import build_packets

    out = Path(args.reports_dir) if args.reports_dir else REPO_DIR / "reports"
    if not (out / "manifest.json").is_file():
        raise OutputDirError(f"{out}: no manifest.json, not a reports folder "
                         "(make it with: wardanalysis run)")
    written = build_packets(out)
    if written is None:
        print("wardanalysis packet: chromium is not installed, the packet was skipped")
        return 0
    for pdf in written:
        print(f"{printable(str(pdf))}: written")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    return run_main(args)


REPORT_BUG = ("wardanalysis: this is a bug, not a problem with your input; please report it "
              "with the traceback above and the command you ran")


def main(argv: list[str] | None = None) -> int:
    """The command line. The package's own errors (bad input) print as one line and exit 2; an
    interrupted command exits 130 (SIGINT) or 143 (SIGTERM) without a traceback; a broken pipe
    (``| head``) ends quietly; anything else is a bug and prints its traceback with a request to
    report it (exit 1). The signal handlers it sets are the caller's again when it returns. An
    interruption of the command line itself (``argv`` None) ends the process there, with SIGINT
    and SIGTERM ignored, so that a second signal cannot turn exit 130/143 into a death by
    signal."""
    class Terminated(BaseException):
        """SIGTERM, raised where the command is, as SIGINT raises KeyboardInterrupt."""

    def on_term(signum: int, frame: object) -> None:
        raise Terminated

    def stopped(exc: BaseException) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM):  # a second signal changes nothing now
            signal.signal(sig, signal.SIG_IGN)
        interrupted = isinstance(exc, KeyboardInterrupt)
        print(f"wardanalysis: {'interrupted' if interrupted else 'terminated'}", file=sys.stderr)
        code = 130 if interrupted else 143
        if argv is None:  # the command line: everything was cleaned up on the way here; end
            sys.stdout.flush()  # now, so that nothing the interpreter does while it shuts down
            sys.stderr.flush()  # (a signal pending since before SIG_IGN) can change the status
            os._exit(code)
        return code

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    if previous[signal.SIGTERM] is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, on_term)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        code = args.func(args)
        sys.stdout.flush()
        return code
    except WardanalysisError as exc:
        lines = [printable(line) for line in str(exc).splitlines() if line.strip()]
        command = getattr(locals().get("args"), "command", "")
        print(f"wardanalysis {command}: {lines[0] if lines else type(exc).__name__}",
              file=sys.stderr)
        for line in lines[1:]:
            print(f"  {line.strip()}", file=sys.stderr)
        return exc.exit_code
    except (KeyboardInterrupt, Terminated) as exc:
        return stopped(exc)
    except BrokenPipeError:
        # the reader went away (`wardanalysis datasets | head`): stop writing, quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:
        # a signal that arrived inside an import's class body reaches here wrapped (CPython 3.11
        # turns an exception from __set_name__ into a RuntimeError caused by it)
        cause = exc
        while cause is not None and not isinstance(cause, (KeyboardInterrupt, Terminated)):
            cause = cause.__cause__ or cause.__context__
        if cause is not None:
            return stopped(cause)
        traceback.print_exc()
        print(REPORT_BUG, file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
