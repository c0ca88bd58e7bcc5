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
from .data.schema import dataset_names, get_schema, input_names
from .errors import OutputDirError, WardanalysisError, printable
from .paths import REPO_DIR


def _cmd_check(args: argparse.Namespace) -> int:
    """Every problem, then what the files say: headers renamed, the yearly reconciliation, the
    overlays' changes; every line ``check`` prints is made here."""
    from .data import inputs, loading  # heavy: pandas
    from .data.readers import map_headers, read_rows

    path = args.path
    problems = loading.check(path, dataset=args.dataset)
    files = [(f, name) for f, name in (loading.user_files(path, args.dataset) if path else [])
             if name in (*dataset_names(), *input_names())]
    renamed = []
    for f, name in files:
        rows = read_rows(f, name, str(f))[0]
        pairs = map_headers([h for h in rows[0] if h.strip()], get_schema(name))[1] if rows else []
        if pairs:
            renamed.append(f"{f.name}: " + ", ".join(f"{h!r} → {c}" for h, c in pairs))
    _print_lines("Headers read as columns (a Japanese label or a declared alias):", renamed)
    for p in problems:
        print(p)  # a Problem escapes its own control characters
    errors = [p for p in problems if p.is_error]
    warnings = len(problems) - len(errors)
    if errors:
        more = f" and {warnings} warning(s)" if warnings else ""
        print(f"{len(errors)} problem(s){more} found", file=sys.stderr)
        return 1
    if path is None:
        print(f"All {len(dataset_names())} datasets are valid. Provenance:")
        for name in dataset_names():
            meta = loading.describe(name)
            print(f"- {name} ({len(loading.load(name))} rows): {meta.source_line()} · sha256 "
                  f"{meta['sha256'][:12]}")
        return 0
    print(f"{printable(path)}: " + (f"no problems that stop the data being used; {warnings} "
                                    "warning(s)" if warnings else "no problems found"))
    lines = []  # each input file's fiscal years beside the published table's
    for f, name in files:
        frame, found = inputs.read_input(name, f) if name in input_names() else (None, [])
        if frame is None or any(p.is_error for p in found):
            continue
        rec = loading.reconcile(name, frame, path if Path(path).is_dir() else None)
        if rec.empty:
            lines.append(f"{f.name}: no fiscal year in common with the published table "
                         "(needs_reflection)")
        for fy, part in rec.groupby("fiscal_year"):
            off = part[part["difference"] != 0]
            text = "; ".join(f"{r.column} {r.aggregate} vs published {r.published} "
                             f"({r.difference:+d})" for r in off.itertuples())
            lines.append(f"{f.name}: FY{fy}: {text or 'agrees with the published figures'}")
    _print_lines("Aggregated to fiscal years and compared with the published table "
                 "(needs_reflection; a difference is reported, not an error):", lines)
    _print_lines("Laid over the shipped data, these files change:",
                 loading.overlay_summary(path) if Path(path).is_dir() else [])
    return 0


def _print_lines(title: str, lines: list[str]) -> None:
    if lines:
        print(title)
        for line in lines:
            print(f"  {printable(line)}")


def _cmd_datasets(args: argparse.Namespace) -> int:
    for name in dataset_names():
        title = get_schema(name).title
        print(f"{name}\t{title['en']} / {title['ja']}")
    return 0


def _cmd_describe(args: argparse.Namespace) -> int:
    from .data.loading import describe  # heavy: pandas

    try:
        meta = describe(args.name)
    except KeyError as exc:
        print(f"wardanalysis describe: {exc.args[0]}", file=sys.stderr)
        return 2
    print(json.dumps(meta, ensure_ascii=False, indent=2, default=str) if args.json
          else repr(meta))
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
        description="Kumamoto City main office / ward office analysis: data checks and report "
        "batch.")
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

    sub.add_parser("datasets", help="list the datasets").set_defaults(func=_cmd_datasets)

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
        "run", help="execute the notebooks for each fiscal year and language, and render the "
        "reports")
    add_run_arguments(p)
    p.set_defaults(func=run_main)

    p = sub.add_parser(
        "packet",
        help="make the committee packet: one A4 PDF per language from the rendered reports",
        description="Print the front page's answers, reports 01-03, the latest fiscal-year "
        "report and the sources, under a cover and contents, to packet.ja.pdf and packet.en.pdf "
        "in the reports folder, with headless chromium. Without chromium, says so and exits 0.",
    )
    p.add_argument("--reports-dir", metavar="DIR", type=Path, default=REPO_DIR / "reports",
                   help="the reports folder a run wrote (default: reports/ in the repository)")
    p.set_defaults(func=_cmd_packet)
    return parser


def _cmd_packet(args: argparse.Namespace) -> int:
    from .site.packet import build_packets  # heavy: jinja2, the pages

    out = args.reports_dir
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


def main(argv: list[str] | None = None) -> int:
    """The command line. Bad input prints one line and exits 2; SIGINT/SIGTERM exit 130/143
    without a traceback; a broken pipe (``| head``) ends quietly; anything else is a bug: its
    traceback and a request to report it (exit 1). The caller's signal handlers are restored;
    the command line itself (``argv`` None) ends the process at an interruption, with the signals
    ignored, so that a second one cannot turn exit 130/143 into a death by signal."""
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
        if argv is None:  # cleaned up on the way here: end before a signal pending since before
            sys.stdout.flush()  # SIG_IGN can change the status while the interpreter shuts down
            sys.stderr.flush()
            os._exit(code)
        return code

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    if previous[signal.SIGTERM] is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, on_term)
    try:
        args = build_parser().parse_args(argv)
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
        print("wardanalysis: this is a bug, not a problem with your input; please report it "
              "with the traceback above and the command you ran", file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
