"""`python -m bench` end to end on tiny data: both servers measured, every row and the report written.

Speed itself is never asserted (figures belong in docs/PERFORMANCE.md); this
checks that the harness runs and that its report says what a reader needs.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.data import SeriesFiles
from bench.disk_settle import INTERVAL_S, PROBE_FILES, DiskSettle, create_cost_us, settle
from bench.http import Target, stow
from bench.ingest import _check_stored, _cstore
from bench.machine import _pacsbox_source
from bench.report import markdown, rerender
from bench.rows import TURNS

TINY = ["--quick", "--ingest-runs", "2", "--ct-slices", "8", "--ct-size", "128", "--mr-slices", "4", "--frames", "3", "--jpeg-slices", "3",
        "--studies", "20", "--searches", "3", "--metadata-runs", "2", "--retrieve-runs", "2", "--frame-requests", "3",
        "--ceiling-mb", "8"]


def test_bench_measures_both_servers_and_writes_the_report(tmp_path: Path) -> None:
    assert main([*TINY, "--output", str(tmp_path / "docs")]) == 0

    report = json.loads((tmp_path / "docs" / "performance.json").read_text())
    assert {"cores", "memory_gb", "python", "orthanc", "orthanc_dicomweb"} <= set(report["machine"])
    assert report["command"].startswith("python -m bench")
    assert len(report["load"]["start"]) == 3
    assert report["disk"]["first_us"] > 0 and report["disk"]["waited_s"] == 0  # quick sizes measure, never wait
    assert "creating a file on the run's disk before measuring" in (tmp_path / "docs" / "PERFORMANCE.md").read_text()
    rows = {row["name"]: row for row in report["rows"]}
    for name, row in rows.items():
        assert row["better"] in ("higher", "lower") and row["goal"], name
        assert row["orthanc"] is not None and row["orthanc"] > 0, name
        if "C-STORE" in name or "through nginx" in name:
            assert row["pacsbox"] is not None or row["note"], name  # measured, or the note says why not
        else:
            assert row["pacsbox"] is not None and row["pacsbox"] > 0, name
            assert row["ratio"] == pytest.approx(row["pacsbox"] / row["orthanc"], rel=0.01), name
    assert any(name.startswith("QIDO-RS") for name in rows) and any("rendered JPEG" in name for name in rows)
    for name, row in rows.items():  # through the front, Orthanc too is measured behind the same nginx
        if "through nginx" in name and row["pacsbox"] is not None:
            assert "Orthanc direct:" in row["note"] and " for orthanc " in row["note"], row
            assert row["orthanc"] != rows[name.split(" — ")[0]]["orthanc"], row
    front_stow = next(row for name, row in rows.items() if name.startswith("STOW-RS") and "through nginx" in name)
    if front_stow["pacsbox"] is not None:  # a fresh series each of the two turns, so a worst turn beside the median
        assert front_stow["pacsbox_p95"] is not None and front_stow["orthanc_p95"] is not None, front_stow
    ingest = [row for name, row in rows.items() if name.startswith(("STOW-RS", "REST POST")) and "nginx" not in name]
    for row in ingest:  # what each instance cost each server, and how many cores it kept busy
        assert re.search(r"CPU per instance: pacsbox [\d.,]+ ms \([\d.,]+ in the kernel\) on [\d.]+ cores, machine \d+ % busy; "
                         r"orthanc [\d.,]+ ms \(",
                         row["note"]), row
    ceilings = {c["key"]: c for c in report["ceilings"]}
    assert ceilings["disk_mb"]["value"] > 0 and ceilings["disk_files"]["value"] > 0
    for key in ("disk_files_4", "disk_files_direct", "disk_files_direct_4"):  # both ways of writing, as each server
        assert ceilings[key]["value"] > 0 and "ms of system CPU per file" in ceilings[key]["note"], key
    assert "O_DIRECT" in ceilings["disk_files_direct"]["name"] and "page cache" in ceilings["disk_files"]["name"]
    assert ceilings.keys() >= {"tls_mb", "http_mb"} or "skipped" in ceilings["nginx"]["note"]

    table = (tmp_path / "docs" / "PERFORMANCE.md").read_text()
    assert "| scenario | unit | pacsbox | p95 | Orthanc | p95 | ratio | goal | result |" in table
    assert "Ingest rows run 2 rounds," in table and f"run in\n{TURNS} turns," in table  # --ingest-runs 2, as run
    for name in rows:
        assert f"| {name} |" in table
    rerender(tmp_path / "docs")  # the Markdown again from the JSON alone (after the findings change)
    assert (tmp_path / "docs" / "PERFORMANCE.md").read_text().count("| ") == table.count("| ")


def test_store_costs_counts_one_trip_to_sqlite_and_two_fsyncs_per_instance() -> None:
    """`python -m bench.store_costs`: each instance is flushed (file, then folder) and indexed in one job."""
    result = subprocess.run([sys.executable, "-m", "bench.store_costs", "--instances", "4"],
                            capture_output=True, text=True, timeout=120, check=True)
    lines = [line for line in result.stdout.splitlines() if ": per instance " in line]
    assert len(lines) == 2, result.stdout + result.stderr
    for line in lines:
        assert "1.0 trips to the SQLite thread, 2.0 fsyncs" in line, line


def test_syscalls_show_each_slice_flushed_then_renamed_and_its_folder_flushed() -> None:
    """`python -m bench.syscalls`: strace of both servers storing the same slices; pacsbox's durable store is
    visible in the kernel's own count (the file and its folder fsync'd, one rename), by thread role too."""
    result = subprocess.run([sys.executable, "-m", "bench.syscalls", "--instances", "4"],
                            capture_output=True, text=True, timeout=180, check=True)
    lines = result.stdout.splitlines()
    pacsbox = lines[lines.index(next(line for line in lines if line.startswith("pacsbox, per slice"))) + 1]
    assert "fsync 2.0" in pacsbox and "rename 1.0" in pacsbox, result.stdout
    assert any(line.startswith("orthanc, per slice") for line in lines), result.stdout
    assert any("store workers: fsync 2.0" in line for line in lines), result.stdout


def test_bench_refuses_to_start_without_the_disk_space_it_needs(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    work = tmp_path / "work"
    assert main([*TINY, "--disk-gb", "1000000", "--work", str(work), "--output", str(tmp_path / "docs")]) == 2
    assert "GB free and the run needs 1000000 GB" in capsys.readouterr().err
    assert not list(work.iterdir()) and not (tmp_path / "docs").exists()  # no data generated, no report


def test_a_failed_storescu_names_the_server_and_what_storescu_printed(tmp_path: Path) -> None:
    from tests.support.dicom import make_series
    from tests.support.ports import free_port

    ds = next(iter(make_series(1)))
    ds.save_as(tmp_path / "slice.dcm", enforce_file_format=True)
    files = SeriesFiles(ds.StudyInstanceUID, ds.SeriesInstanceUID, (ds.SOPInstanceUID,), (tmp_path / "slice.dcm",))
    nobody = Target("orthanc", "", "", 0, dicom=("ORTHANC", free_port()))  # nothing listens there
    refused = r"storescu to orthanc \(ORTHANC at port \d+\) exited with \d+: .*ssociation"
    with pytest.raises(RuntimeError, match=refused):
        _cstore(nobody, files)


@contextmanager
def _answering(answer: object) -> Iterator[str]:
    """A loopback HTTP server answering every GET and POST with 200 and `answer` as DICOM JSON; its URL."""

    class Fixed(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/dicom+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Fixed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_a_server_holding_fewer_instances_than_it_was_sent_is_named_with_the_row(tmp_path: Path) -> None:
    """A store answered with 200 but not kept must stop the run, saying which server and after which row."""
    one = [{"00080018": {"vr": "UI", "Value": ["1.2.3.1"]}}]  # a QIDO-RS answer listing one instance
    files = SeriesFiles("1.2.3", "1.2.3.4", ("1.2.3.1", "1.2.3.2"), (tmp_path / "a.dcm", tmp_path / "b.dcm"))
    with _answering(one) as url:
        with pytest.raises(RuntimeError, match=r"^orthanc holds 1 of the 2 instances of 1\.2\.3\.4 after its stow4 row$"):
            _check_stored(Target("orthanc", url, url, 0), files, "stow4")
        _check_stored(Target("orthanc", url, url, 0), dataclasses.replace(files, sops=files.sops[:1], files=files.files[:1]))


def test_a_stow_answer_listing_failed_instances_stops_the_run_with_their_reasons(tmp_path: Path) -> None:
    body = tmp_path / "stow.body"
    body.write_bytes(b"--x--\r\n")
    failed = {"00081198": {"vr": "SQ", "Value": [{"00081197": {"vr": "US", "Value": [reason]}}
                                                  for reason in (0xA700, 0xC000, 0xA700)]}}
    with _answering(failed) as url:
        with pytest.raises(RuntimeError, match=r"^orthanc did not store 3 instance\(s\) of stow\.body: "
                                               r"FailureReason 2 x 0xA700, 1 x 0xC000$"):
            stow(Target("orthanc", url, url, 0), body)
    stored = {"00081199": {"vr": "SQ", "Value": [{"00081155": {"vr": "UI", "Value": ["1.2.3.1"]}}]}}
    with _answering(stored) as url:
        assert stow(Target("orthanc", url, url, 0), body).status == 200


def test_the_memory_sampler_catches_a_childs_peak_that_lasts_under_a_second() -> None:
    """The memory row's peak is sampled seldom enough not to slow the servers, often enough to see a plateau:
    a child that holds 96 MB for 0.6 s, then frees it, reads as at least 96 MB."""
    from bench.memory import PeakMemory

    hold = "import time; time.sleep(0.5); data = b'x' * (96 << 20); time.sleep(0.6); del data; time.sleep(1)"
    parent = subprocess.Popen([sys.executable, "-c",
                               f"import subprocess, sys; subprocess.run([sys.executable, '-c', {hold!r}])"])
    try:
        with PeakMemory(parent.pid) as peak:
            parent.wait(timeout=30)
    finally:
        parent.kill()
    assert peak.megabytes >= 96, peak.megabytes


_INFO = {k: v for k, v in json.loads((Path(__file__).parents[2] / "docs" / "performance.json").read_text()).items() if k not in ("rows", "ceilings")}
"""The run description of the committed report, for rendering one."""


class _Clock:
    """Time that passes only when slept."""

    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_the_run_waits_while_creating_a_file_costs_more_than_normal(tmp_path: Path) -> None:
    costs, clock = iter([700.0, 650.0, 20.0, 15.0]), _Clock()
    found = settle(tmp_path, 420, measure=lambda _: next(costs), sleep=clock.sleep, clock=lambda: clock.now)
    assert found == DiskSettle(first_us=700.0, last_us=20.0, waited_s=2 * INTERVAL_S)
    assert clock.sleeps == [INTERVAL_S, INTERVAL_S]  # measured again after each wait, stopped once normal


def test_a_probe_at_37_us_is_waited_for() -> None:
    """What creating a file cost here a few minutes after another run's deletion: its ingest rows read lower."""
    costs, clock = iter([37.0, 17.0]), _Clock()
    found = settle(Path("unused"), 420, measure=lambda _: next(costs), sleep=clock.sleep, clock=lambda: clock.now)
    assert found == DiskSettle(first_us=37.0, last_us=17.0, waited_s=INTERVAL_S)


def test_the_wait_ends_at_its_limit_and_the_report_says_the_disk_had_not_settled(tmp_path: Path) -> None:
    clock = _Clock()
    found = settle(tmp_path, 35, measure=lambda _: 700.0, sleep=clock.sleep, clock=lambda: clock.now)
    assert found.waited_s == 30 and found.last_us == 700.0 and len(clock.sleeps) == 3
    line = markdown([], [], {**_INFO, "disk": dataclasses.asdict(found)})
    assert "700 µs of CPU (700 µs after waiting 30 s; still over 30 µs when the wait ended" in line
    assert settle(tmp_path, 0, measure=lambda _: 700.0, sleep=clock.sleep).waited_s == 0 and len(clock.sleeps) == 3


def test_creating_files_is_measured_on_the_disk_and_the_files_are_kept(tmp_path: Path) -> None:
    assert create_cost_us(tmp_path) > 0 and create_cost_us(tmp_path) > 0
    probes = sorted(tmp_path.iterdir())
    assert len(probes) == 2 and all(len(list(probe.iterdir())) == PROBE_FILES for probe in probes)


def test_the_report_names_the_commit_measured_or_outside_git_the_installed_version(tmp_path: Path) -> None:
    head = subprocess.run(["git", "log", "-1", "--format=%h"], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).parent).stdout.strip()
    assert _pacsbox_source()[0] == head
    unpacked = tmp_path / "machine.py"  # the bench from an unpacked archive: no .git around it
    unpacked.write_text(Path(sys.modules["bench.machine"].__file__ or "").read_text())
    shown = subprocess.run([sys.executable, "-c", f"import runpy; print(runpy.run_path({str(unpacked)!r})['_pacsbox_source']())"],
                           capture_output=True, text=True, check=True).stdout
    assert shown.strip() == str((f"version {version('pacsbox')}", "not a git checkout"))
