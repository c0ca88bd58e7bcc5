"""End-to-end: ``wardanalysis run`` on the fixture notebooks, in a temporary directory.

The batch is small (two fiscal years, one language, two workers) but complete: index, results,
views, cache, failure isolation, bad parameters, a kill mid-run, timeouts, determinism.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest
from batch_helpers import (
    FIXTURES,
    OVERLAY_HEADER,
    Workspace,
    assert_no_leftovers,
    batch_processes,
    make_workspace,
    overlay_row,
    scratch_dirs,
    summary_counts,
)

import wardanalysis

pytestmark = pytest.mark.slow

JOB_IDS = {"failing/ja", "overview/ja", "fy_report/fy2022-ja", "fy_report/fy2023-ja"}


def _outputs(ws: Workspace) -> dict[str, list]:
    """Every code cell's outputs of every current report, without metadata (timing lives there)."""
    found = {}
    for entry in ws.manifest()["reports"]:
        report = entry["report"]
        nb = json.loads((ws.out / report["files"]["notebook"]).read_text(encoding="utf-8"))
        found[entry["id"]] = [
            [{k: v for k, v in o.items() if k != "metadata"} for o in cell.get("outputs", [])]
            for cell in nb["cells"] if cell["cell_type"] == "code"
        ]
    return found


#: The one line that may date a page: a time stamp (a run's start or end).
_DATED = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}")


def _pages(ws: Workspace) -> dict[str, list[str]]:
    """Every page at a stable address (each report's, and the front pages), as lines, without
    the lines that carry a time stamp."""
    found = {}
    for page in sorted(ws.out.rglob("*.html")):
        rel = page.relative_to(ws.out).as_posix()
        if page.name in ("runs.html", "runs.ja.html") or rel.startswith("."):
            continue
        found[rel] = [
            line for line in page.read_text(encoding="utf-8").splitlines()
            if not _DATED.search(line)]
    return found


def _referenced_files_exist(ws: Workspace) -> None:
    for entry in ws.manifest()["reports"]:
        for attempt in (entry.get("report"), entry.get("failure")):
            for rel in (attempt or {}).get("files", {}).values():
                assert (ws.out / rel).is_file(), rel


# --------------------------------------------------------------------------- one complete run


def test_first_run_succeeds(first_run):
    ws, result, _ = first_run
    assert result.returncode == 0, ws.explain(result)
    counts = summary_counts(result.stdout)
    assert counts == {"executed": 4, "reused": 0, "failed": 0}
    # one line per notebook finished: status, seconds, name and parameters
    lines = [ln for ln in result.stdout.splitlines() if ln.strip().startswith("ok ")]
    assert len(lines) == 4
    assert any(re.search(r"ok\s+[\d.]+ s\s+fy_report fiscal_year=2022 lang=ja", ln) for ln in lines)
    assert f"index: {ws.out / 'index.html'}" in result.stdout
    assert set(ws.entries()) == JOB_IDS


def test_index_lists_every_report_with_its_facts(first_run):
    ws = first_run[2]
    run_root = first_run[0].root
    page = (ws.out / "runs.html").read_text(encoding="utf-8")
    assert "FY2022" in page and "FY2023" in page
    assert "All fiscal years" in page
    checksum = wardanalysis.data_checksum(ws.overlay)
    assert checksum[:12] in page
    assert wardanalysis.__version__ in page
    for entry in ws.manifest()["reports"]:
        assert entry["status"] == "ok" and not entry["stale"]
        for rel in entry["report"]["files"].values():
            assert f'href="{rel}"' in page
            assert (ws.out / rel).is_file()
        assert entry["report"]["data_checksum"] == checksum
        assert entry["report"]["parameters"]["data_dir"] == str((run_root / "overlay").resolve())


def test_results_csv_collects_every_recorded_estimate(first_run):
    ws = first_run[2]
    rows = list(csv.DictReader(io.StringIO(ws.results())))
    assert list(rows[0]) == ["notebook", "fiscal_year", "lang", "key", "value", "ci_low",
                             "ci_high", "unit", "interval", "flags", "parameters",
                             "overlay_files"]
    got = {(r["notebook"], r["fiscal_year"], r["key"]): r for r in rows}
    assert set(got) == {
        ("failing", "", "ran"), ("overview", "", "budget_total"),
        ("fy_report", "2022", "requests"), ("fy_report", "2022", "years_observed"),
        ("fy_report", "2023", "requests"), ("fy_report", "2023", "years_observed"),
    }
    assert float(got["fy_report", "2023", "requests"]["value"]) == 651.0  # from the overlay
    assert float(got["fy_report", "2022", "requests"]["value"]) == 504.0  # shipped
    assert got["fy_report", "2023", "requests"]["unit"] == "cases"
    assert got["fy_report", "2023", "years_observed"]["ci_low"] == ""  # NaN → empty
    assert {r["lang"] for r in rows} == {"ja"}


def test_views_embed_images_hide_code_and_show_no_errors(first_run):
    ws = first_run[2]
    for entry in ws.manifest()["reports"]:
        files = entry["report"]["files"]
        review = (ws.out / files["review"]).read_text(encoding="utf-8")
        full = (ws.out / files["full"]).read_text(encoding="utf-8")
        for page in (review, full):
            srcs = re.findall(r'<img[^>]*\ssrc="([^"]*)"', page)
            assert all(s.startswith("data:") for s in srcs), srcs
            assert "Traceback" not in page
            assert 'data-mime-type="application/vnd.jupyter.stderr"' not in page
            # the footer: parameters used and the data checksum, under the content
            assert entry["report"]["data_checksum"] in page
            assert page.index("<footer>") > page.index("<main>")
        if entry["notebook"] != "failing":
            assert "data:image/png;base64," in review  # the plot
        # reviewer view: no code cells; full view: code
        assert "highlight hl-ipython3" not in review
        assert "highlight hl-ipython3" in full
        assert '<html lang="ja">' in review


def test_executed_notebooks_have_no_error_or_stderr_output(first_run):
    ws = first_run[2]
    for entry in ws.manifest()["reports"]:
        nb = json.loads((ws.out / entry["report"]["files"]["notebook"]).read_text("utf-8"))
        for cell in nb["cells"]:
            for output in cell.get("outputs", []):
                assert output["output_type"] != "error"
                assert output.get("name") != "stderr", output
        injected = [c for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", [])]
        assert len(injected) == 1


def test_notebooks_read_only_the_datasets_they_load(first_run):
    ws = first_run[2]
    entries = ws.entries()
    assert set(entries["fy_report/fy2022-ja"]["report"]["datasets"]) == {"needs_reflection"}
    assert set(entries["overview/ja"]["report"]["datasets"]) == {"machizukuri_budget"}
    assert entries["failing/ja"]["report"]["datasets"] == {}


# --------------------------------------------------------------------------- the cache


def test_rerun_reuses_everything_and_an_overlay_change_redoes_only_its_readers(workspace):
    ws = workspace
    before = ws.entries()
    results_before = ws.results()

    second = ws.run("--data-dir", str(ws.overlay))
    assert second.returncode == 0, ws.explain(second)
    assert summary_counts(second.stdout) == {"executed": 0, "reused": 4, "failed": 0}
    assert "4 reused" in second.stdout
    assert ws.results() == results_before
    assert {i: e["report"]["run_id"] for i, e in ws.entries().items()} == {
        i: e["report"]["run_id"] for i, e in before.items()}

    # Touching without changing does nothing; changing the FY2023 row of the needs_reflection
    # overlay redoes exactly the reports that can see it: the FY2023 report reads
    # needs_reflection up to FY2023; the FY2022 report cannot see FY2023.
    overlay = ws.overlay / "needs_reflection.csv"
    overlay.touch()
    assert summary_counts(ws.run("--data-dir", str(ws.overlay)).stdout)["executed"] == 0
    overlay.write_text(OVERLAY_HEADER + overlay_row(777), encoding="utf-8")
    third = ws.run("--data-dir", str(ws.overlay))
    assert third.returncode == 0, ws.explain(third)
    assert summary_counts(third.stdout) == {"executed": 1, "reused": 3, "failed": 0}
    after = ws.entries()
    for job in ("overview/ja", "failing/ja", "fy_report/fy2022-ja"):
        assert after[job]["report"]["run_id"] == before[job]["report"]["run_id"]
    for job in ("fy_report/fy2023-ja",):
        assert after[job]["report"]["run_id"] != before[job]["report"]["run_id"]
        # replaced at its address: the folder holds the new execution
        assert after[job]["report"]["dir"] == before[job]["report"]["dir"] == "fy_report/2023/ja"
        assert _record(ws.out / "fy_report/2023/ja")["run_id"] == after[job]["report"]["run_id"]
    assert "fy_report,2023,ja,requests,777," in ws.results()
    # (--force executes everything again: test_two_runs_give_identical_results_and_outputs)


# --------------------------------------------------------------------------- failures


def test_failing_notebook_is_isolated_marked_and_keeps_the_earlier_report(workspace):
    ws = workspace
    good = ws.entries()["failing/ja"]["report"]
    (ws.params / "failing.yaml").write_text("should_fail: true\n", encoding="utf-8")

    result = ws.run("--data-dir", str(ws.overlay))
    assert result.returncode == 1
    assert "ValueError: deliberate failure for the batch tests" in result.stdout
    assert "failed: failing/ja" in result.stdout

    entries = ws.entries()
    failing = entries["failing/ja"]
    assert failing["status"] == "failed" and failing["stale"] is True
    assert failing["failure"]["error"] == "ValueError: deliberate failure for the batch tests"
    assert failing["report"] == good  # the earlier good report, untouched
    for rel in good["files"].values():
        assert (ws.out / rel).is_file()
    partial = json.loads((ws.out / failing["failure"]["files"]["notebook"]).read_text("utf-8"))
    errors = [o for c in partial["cells"] for o in c.get("outputs", [])
              if o["output_type"] == "error"]
    assert errors and errors[0]["ename"] == "ValueError"
    error_page = (ws.out / failing["failure"]["files"]["error"]).read_text(encoding="utf-8")
    assert "deliberate failure for the batch tests" in error_page
    assert "failed" in error_page

    # the others ran and are fine (the per-notebook parameter file changed only `failing`)
    for job in JOB_IDS - {"failing/ja"}:
        assert entries[job]["status"] == "ok"
    index = (ws.out / "runs.html").read_text(encoding="utf-8")
    assert "ValueError: deliberate failure for the batch tests" in index
    assert "stale" in index
    # results.csv carries only current results
    assert "failing," not in ws.results()
    _referenced_files_exist(ws)


def test_timeout_stops_the_notebook_and_its_kernel(tmp_path):
    ws = make_workspace(tmp_path / "ws", notebooks=FIXTURES / "slow")
    result = ws.run("--timeout", "2")
    assert result.returncode == 1, result.stdout + result.stderr
    entry = ws.entries()["sleeper/ja"]
    assert entry["status"] == "timeout"
    assert "timeout" in entry["failure"]["error"]
    assert (ws.out / entry["failure"]["files"]["error"]).is_file()
    assert (ws.out / entry["failure"]["files"]["notebook"]).is_file()


# --------------------------------------------------------------------------- bad parameters


# Every kind of bad parameter is checked in tests/unit/test_batch_config.py; one end-to-end case
# shows that the command line stops with the message before anything runs.


def test_bad_params_file_is_one_clear_error_and_nothing_runs(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    (ws.params / "overview.yaml").write_text("title_sufix: x\n", encoding="utf-8")
    result = ws.run()
    assert result.returncode == 2
    assert "overview.yaml: title_sufix: unknown parameter" in result.stderr, result.stderr
    assert "nothing was run" in result.stderr
    assert not (ws.out / "manifest.json").exists()
    assert not list(ws.out.rglob("notebook.ipynb"))


# --------------------------------------------------------------------------- kill, determinism


def _record(folder: Path) -> dict:
    """An execution's record (``job.json``), or {} while it is being replaced."""
    try:
        return json.loads((folder / "job.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _new_records(out: Path, runs_before: set[str]) -> list[Path]:
    """Report folders whose record comes from a run other than the earlier ones."""
    return [p.parent for p in out.rglob("job.json")
            if _record(p.parent).get("run_id") not in runs_before | {None}]


def test_sigkill_mid_run_leaves_the_earlier_reports_intact(workspace):
    ws = workspace
    results_before = ws.results()
    index_before = (ws.out / "index.html").read_text(encoding="utf-8")
    runs_before = {_record(p.parent)["run_id"] for p in ws.out.rglob("job.json")}

    proc = subprocess.Popen(ws.command("--data-dir", str(ws.overlay), "--force"), cwd=ws.root,
                            env=ws.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Kill it while it is busy: as soon as its first notebook is published, others are running.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if _new_records(ws.out, runs_before):
            break
        time.sleep(0.02)
    else:
        raise AssertionError("the run published nothing")
    in_flight = batch_processes(proc.pid)
    assert in_flight  # workers, kernels
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert_no_leftovers(proc.pid)
    assert scratch_dirs(proc.pid, ws.tmp)  # a process killed outright cannot clean up after itself …

    # Whatever moment it died at, what is there is complete and consistent.
    manifest = ws.manifest()
    assert {e["id"] for e in manifest["reports"]} == JOB_IDS
    _referenced_files_exist(ws)
    assert ws.results() == results_before  # same inputs, same numbers
    assert (ws.out / "index.html").read_text(encoding="utf-8").endswith("</html>\n")
    assert index_before.endswith("</html>\n")
    assert _new_records(ws.out, runs_before)  # it was killed mid-way

    # The next run completes and cleans up what the killed run left half-done.
    result = ws.run("--data-dir", str(ws.overlay))
    assert result.returncode == 0, ws.explain(result)
    assert not scratch_dirs(proc.pid, ws.tmp)  # … so the next run removes what it left
    assert all(e["status"] == "ok" for e in ws.manifest()["reports"])
    assert not (ws.out / ".staging").exists()
    published = {p.parent.relative_to(ws.out).as_posix() for p in ws.out.rglob("job.json")}
    assert published == {e["report"]["dir"] for e in ws.manifest()["reports"]}
    assert ws.results() == results_before


def test_two_runs_give_identical_results_and_outputs(first_run, workspace):
    """A forced re-run (every report executed again, nothing reused) on one worker reproduces
    results.csv and every output byte for byte, and every notebook still starts from an empty
    namespace (fy_report and overview each fail if they see the other's variable)."""
    first = first_run[2]
    ws = workspace
    result = ws.run("--data-dir", str(ws.overlay), "--force", "--workers", "1")
    assert result.returncode == 0, ws.explain(result)
    assert summary_counts(result.stdout) == {"executed": 4, "reused": 0, "failed": 0}
    assert ws.results() == first.results()
    assert _outputs(ws) == _outputs(first)
    # the pages too, byte for byte but for a time stamp: the embedded font subset included (it
    # once carried the time fontTools saved it)
    pages = _pages(ws)
    assert pages and pages == _pages(first)


def test_cli_from_any_working_directory_uses_absolute_paths(workspace, tmp_path):
    """The notebooks run in a scratch directory; a relative --out is relative to the caller;
    a temporary folder with a long path works."""
    ws = workspace
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    cmd = [c if c != str(ws.out) else "rel-out" for c in ws.command("--lang", "ja", "-y", "2022",
                                                                   "-n", "fy_report")]
    # … from a temporary folder too deep for a Unix socket's address: the kernels use TCP
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    result = subprocess.run(cmd, cwd=elsewhere, capture_output=True, text=True,
                            env={**ws.env(), "TMPDIR": str(deep)}, timeout=300)
    assert result.returncode == 0, ws.explain(result)
    assert (elsewhere / "rel-out" / "index.html").is_file()
    entries = json.loads((elsewhere / "rel-out" / "manifest.json").read_text("utf-8"))["reports"]
    assert [e["id"] for e in entries] == ["fy_report/fy2022-ja"]


# --------------------------------------------------------------------------- stopping


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.NoSuchProcess:
        return []


def _kernels(pid: int) -> list[psutil.Process]:
    """The batch ``pid``'s kernels: its processes that lead a session of their own."""
    found = []
    for p in batch_processes(pid):
        try:
            if os.getsid(p.pid) == p.pid:
                found.append(p)
        except (ProcessLookupError, PermissionError):
            continue
    return found


def _wait_for_kernels(pid: int, count: int, timeout: float = 240) -> list[psutil.Process]:
    """Until the batch ``pid`` has ``count`` kernels (each notebook thread holds the kernel of its
    current notebook). The bound is generous: a loaded machine starts kernels slowly."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kernels = _kernels(pid)
        if len(kernels) >= count:
            return kernels
        time.sleep(0.05)
    raise AssertionError("the kernels did not start")


def _catches(pid: int, sig: int) -> bool:
    """Whether process ``pid`` has a handler for ``sig`` yet (Linux: SigCgt in /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return False
    mask = int(re.search(r"^SigCgt:\s*([0-9a-f]+)", status, re.M)[1], 16)
    return bool(mask >> (sig - 1) & 1)


def _default_sigint() -> None:
    """A child's SIGINT back to the default: a shell starts a background job (and so, perhaps, this
    test suite) with SIGINT ignored, and the child would inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _connection_files(pid: int, since: float) -> list[Path]:
    """Kernel connection files (they hold the kernel's HMAC key) of the batch ``pid``'s kernels
    anywhere in the system temporary directory (its kernels' sockets live in its scratch
    directory, which the connection file names), written at ``since`` (a ``time.time()``) or
    later: a process id comes round again, and an older run of that id may have left files."""
    found = []
    # os.walk, not Path.rglob: other tests' temporary folders come and go while this looks
    # (rglob raises when one vanishes mid-walk; os.walk skips it)
    paths = (Path(d, f) for d, _, files in os.walk(tempfile.gettempdir()) for f in files
             if f.endswith(".json"))
    for path in paths:
        with contextlib.suppress(OSError, UnicodeDecodeError, ValueError):
            if path.stat().st_mtime < since:
                continue
            info = json.loads(path.read_text(encoding="utf-8"))
            if "key" in info and f"wardanalysis-run-{pid}-" in str(info.get("ip", "")):
                found.append(path)
    return found


@pytest.fixture(scope="module")
def _slept(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Path]:
    """A workspace of the sleeper notebook after one short run (ja and en), and a snapshot."""
    base = tmp_path_factory.mktemp("sleeper")
    ws = make_workspace(base / "ws", notebooks=FIXTURES / "slow")
    (ws.params / "batch.yaml").write_text("languages: [ja, en]\n", encoding="utf-8")
    (ws.params / "sleeper.yaml").write_text("seconds: 0.1\n", encoding="utf-8")
    assert ws.run().returncode == 0
    (ws.params / "sleeper.yaml").write_text("seconds: 120\n", encoding="utf-8")
    shutil.copytree(ws.root, base / "snapshot", symlinks=True)
    return ws, base / "snapshot"


@pytest.fixture
def sleeping(_slept: tuple[Workspace, Path]) -> Workspace:
    """That workspace as the short run left it, its notebook now sleeping for two minutes."""
    ws, snapshot = _slept
    shutil.rmtree(ws.root)
    shutil.copytree(snapshot, ws.root, symlinks=True)
    return ws


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_everything_in_seconds_and_keeps_what_was_there(sleeping, sig, code):
    ws = sleeping
    results_before = ws.results()
    started = time.time() - 1  # file times may be a little coarser than the clock
    proc = subprocess.Popen(ws.command(), cwd=ws.root, env=ws.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)
    _wait_for_kernels(proc.pid, 2)
    time.sleep(1.0)  # both notebooks are sleeping in their kernels
    assert _connection_files(proc.pid, started)  # the kernels' keys, where the run removes them
    sent = time.monotonic()
    proc.send_signal(sig)
    stdout, _ = proc.communicate(timeout=60)
    assert time.monotonic() - sent < 10
    assert proc.returncode == code
    assert "INTERRUPTED" in stdout
    assert_no_leftovers(proc.pid)
    assert not scratch_dirs(proc.pid, ws.tmp)
    assert not _connection_files(proc.pid, started)  # no kernel's key left behind
    assert all(e["status"] == "ok" for e in ws.manifest()["reports"])  # the earlier reports
    assert ws.results() == results_before
    _referenced_files_exist(ws)


@pytest.mark.parametrize("moment", ["settings", "workers"])
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_starting_up_stops_at_once(sleeping, sig, code, moment):
    """A signal while the command reads its settings and the data (as soon as its handler for
    SIGTERM is in place: before that the interpreter itself is starting, and CPython's start-up
    is not the package's), or while its workers start, before any kernel runs; then a second one
    during the clean-up. The run stops within seconds with 128 + the signal's number and no
    traceback, removes its scratch files, leaves no process behind and changes nothing."""
    ws = sleeping
    results_before = ws.results()
    proc = subprocess.Popen(ws.command("--force"), cwd=ws.root, env=ws.env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)
    deadline = time.monotonic() + 60
    if moment == "settings":
        while not _catches(proc.pid, signal.SIGTERM) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert not batch_processes(proc.pid)  # it is still reading its settings
    else:
        while not batch_processes(proc.pid) and time.monotonic() < deadline:  # the first worker
            time.sleep(0.01)
    sent = time.monotonic()
    proc.send_signal(sig)
    time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 10
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr, stderr
    assert_no_leftovers(proc.pid)
    assert not scratch_dirs(proc.pid, ws.tmp)
    assert ws.results() == results_before


def test_a_kernel_that_dies_fails_only_its_notebook(tmp_path):
    ws = make_workspace(tmp_path / "ws", notebooks=FIXTURES / "slow")
    (ws.params / "batch.yaml").write_text("languages: [ja, en]\nworkers: 2\n", encoding="utf-8")
    (ws.params / "sleeper.yaml").write_text("seconds: 4\n", encoding="utf-8")
    proc = subprocess.Popen(ws.command(), cwd=ws.root, env=ws.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    # once both notebooks run, kill one of their kernels
    kernels = _wait_for_kernels(proc.pid, 2)
    time.sleep(1.0)
    victim = kernels[0]
    victim.kill()
    stdout, _ = proc.communicate(timeout=120)
    assert_no_leftovers(proc.pid)
    assert proc.returncode == 1
    statuses = sorted(e["status"] for e in ws.manifest()["reports"])
    assert statuses == ["failed", "ok"]
    failed = next(e for e in ws.manifest()["reports"] if e["status"] == "failed")
    assert "the kernel died" in failed["failure"]["error"]
    assert "the kernel died" in (ws.out / "runs.html").read_text(encoding="utf-8")


def test_a_kernel_that_dies_before_its_first_reply_is_a_dead_kernel_too(tmp_path):
    """A kernel that dies while it starts (jupyter_client says so with a RuntimeError) fails its
    notebook with the same words and its log's last line, as one that dies mid-run."""
    ws = make_workspace(tmp_path / "ws", notebooks=FIXTURES / "slow")
    spec = tmp_path / "jupyter" / "kernels" / "dies-at-start"
    spec.mkdir(parents=True)
    dies = "import sys; sys.stderr.write('no memory for the kernel\\n'); sys.exit(3)"
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", dies, "{connection_file}"],
        "display_name": "dies", "language": "python"}), encoding="utf-8")
    (ws.params / "batch.yaml").write_text("languages: [ja]\nkernel: dies-at-start\n",
                                          encoding="utf-8")
    proc = subprocess.run(ws.command(), cwd=ws.root, capture_output=True, text=True, timeout=120,
                          env={**ws.env(), "JUPYTER_PATH": str(tmp_path / "jupyter")})
    assert proc.returncode == 1, ws.explain(proc)
    [entry] = ws.manifest()["reports"]
    assert entry["failure"]["error"] == ("DeadKernelError: the kernel died "
                                         "(no memory for the kernel)")


def test_a_second_run_on_the_same_folder_is_refused_naming_the_holder(sleeping):
    ws = sleeping
    first = subprocess.Popen(ws.command(), cwd=ws.root, env=ws.env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, preexec_fn=_default_sigint)
    try:
        _wait_for_kernels(first.pid, 2)
        second = ws.run(timeout=60)
        assert second.returncode == 2, ws.explain(second)
        assert str(first.pid) in second.stderr + second.stdout
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=60)
    assert first.returncode == 130
    assert_no_leftovers(first.pid)
