"""Is the end-to-end suite stable? (``make e2e-loop``)

Runs ``tests/e2e`` the way ``make test`` runs it (pytest-xdist over the cores, files kept whole)
``--runs`` times in a row and counts the runs that failed. Each run's pytest summary line, exit
status and duration go to ``benchmarks/results/e2e_loop.md``; a failed run's whole output is kept
beside it (``e2e_loop-run<N>.log``) so that the failure can be read. Start it the way CI may
start it: in the background, with no terminal (``setsid nohup make e2e-loop &``).

    python benchmarks/e2e_loop.py [--runs 20]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
COMMAND = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "auto",
           "--dist", "loadfile", "-q", "tests/e2e"]


def _summary(output: str) -> str:
    lines = [ln.strip("= ") for ln in output.splitlines() if re.search(r"\d+ (passed|failed)", ln)]
    return lines[-1] if lines else "(no pytest summary)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for old in RESULTS.glob("e2e_loop-run*.log"):  # this script's own logs of an earlier loop
        old.unlink()
    sigint = signal.getsignal(signal.SIGINT)
    started = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    rows, failed = [], 0
    for i in range(1, args.runs + 1):
        t0 = time.monotonic()
        proc = subprocess.run(COMMAND, cwd=REPO, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, check=False)
        seconds = time.monotonic() - t0
        output = proc.stdout + proc.stderr
        if proc.returncode != 0:
            failed += 1
            (RESULTS / f"e2e_loop-run{i}.log").write_text(output, encoding="utf-8")
        rows.append((i, proc.returncode, seconds, _summary(output)))
        print(f"run {i}/{args.runs}: exit {proc.returncode} in {seconds:.0f} s: {rows[-1][3]}",
              flush=True)
    lines = [
        f"# End-to-end loop ({started})",
        "",
        f"`{' '.join(['pytest', *COMMAND[3:]])}`, {args.runs} runs in a row on "
        f"{os.cpu_count()} cores ({platform.python_version()}); SIGINT of the loop: "
        f"{'ignored (started as a background job)' if sigint is signal.SIG_IGN else 'default'}.",
        "",
        f"**{failed} of {args.runs} runs failed**; median run "
        f"{statistics.median(r[2] for r in rows):.0f} s.",
        "",
        "| run | exit | seconds | pytest |",
        "|---:|---:|---:|---|",
        *(f"| {i} | {code} | {s:.0f} | {summary} |" for i, code, s, summary in rows),
        "",
    ]
    (RESULTS / "e2e_loop.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"{failed} of {args.runs} runs failed; results/e2e_loop.md")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
