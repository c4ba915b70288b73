"""`PACSBOX_PACS_PROCESSES`: the pacs service as several processes on one port, started and ended as one."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest

from pacsbox.core.db import close_engine, open_engine
from pacsbox.core.settings import Settings
from pacsbox.pacs.piccolo_app import SCHEMA
from pacsbox.pacs.tables import Job
from tests.conftest import start_pacs
from tests.support import aio
from tests.support.dicom import dataset_bytes, make_series
from tests.support.postgres import TemporaryPostgres
from tests.support.servers import ServiceProcess

pytestmark = pytest.mark.db

PROCESSES = 3
BOUNDARY = "processes"


@pytest.fixture
def pacs_processes(tmp_path: Path, postgres: TemporaryPostgres | None) -> Iterator[ServiceProcess]:
    server = start_pacs(tmp_path / "pacs", postgres, PACSBOX_PACS_PROCESSES=str(PROCESSES))
    try:
        # health answers once one process serves; the primary is started when every one is
        assert _until(lambda: server.log().count("Application startup complete") == PROCESSES), server.log()
        yield server
    finally:
        server.stop()


def _until(condition: Callable[[], bool], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _workers(server: ServiceProcess) -> list[psutil.Process]:
    """The worker processes: children of the primary's one child, its fork server."""
    assert server.process is not None
    (fork_server,) = psutil.Process(server.process.pid).children()
    return fork_server.children()


def _stow(url: str, series: list[bytes]) -> int:
    """Store a series ten instances per request over one connection; the worst status."""
    codes = []
    with httpx.Client(timeout=120) as client:
        for start in range(0, len(series), 10):
            body = b"".join(
                f"--{BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n".encode() + data + b"\r\n"
                for data in series[start:start + 10]
            ) + f"--{BOUNDARY}--\r\n".encode()
            codes.append(client.post(f"{url}/pacs/studies", content=body, headers={
                "Content-Type": f'multipart/related; type="application/dicom"; boundary={BOUNDARY}'}).status_code)
    return max(codes)


def _studies_searches_counted(server: ServiceProcess) -> float:
    metrics = httpx.get(f"{server.url}/metrics").text
    counted = re.search(r'litestar_requests_total\{[^}]*path="/pacs/studies"[^}]*status_code="200"\} (\S+)', metrics)
    return float(counted.group(1)) if counted else 0.0


def _busy(processes: list[psutil.Process]) -> float:
    return sum(sum(p.cpu_times()[:2]) for p in processes)


def test_clients_uploading_at_once_are_served_by_every_process(pacs_processes: ServiceProcess) -> None:
    assert pacs_processes.process is not None
    primary, workers = psutil.Process(pacs_processes.process.pid), _workers(pacs_processes)
    assert len(workers) == PROCESSES - 1
    before = _busy([primary]), _busy(workers)
    studies = [[dataset_bytes(ds) for ds in make_series(40, rows=128, columns=128, seed=n)] for n in range(6)]
    with ThreadPoolExecutor(len(studies)) as pool:
        assert set(pool.map(lambda series: _stow(pacs_processes.url, series), studies)) == {200}
    by_primary, by_workers = _busy([primary]) - before[0], _busy(workers) - before[1]
    assert by_workers > 0.2 * (by_primary + by_workers), "the worker processes took almost no share of the uploads"
    with httpx.Client(base_url=pacs_processes.url) as client:
        assert len(client.get("/pacs/studies").json()) == len(studies)
        assert len(client.get("/pacs/instances").json()) == sum(len(series) for series in studies)
        assert client.get("/statistics").json()["CountInstances"] == sum(len(series) for series in studies)


def test_metrics_count_the_requests_of_every_process(pacs_processes: ServiceProcess) -> None:
    for _ in range(30):
        with httpx.Client(base_url=pacs_processes.url) as client:  # a new connection each: any process answers
            assert client.get("/pacs/studies").status_code == 200
    assert _studies_searches_counted(pacs_processes) == 30
    assert list((pacs_processes.data_dir / "metrics").glob("counter_*.db"))  # kept in the data folder


def _record_running_job(server: ServiceProcess, process: int) -> str:
    """A job row as the pacs process `process` records one it runs (written beside the service); its ID."""

    async def insert() -> str:
        engine = SCHEMA.bind(Settings.load(server.env))
        await open_engine(engine)
        try:
            public_id = str(uuid.uuid4())
            await Job.insert(Job(public_id=public_id, job_type="Retrieve", state="Running", process=process))
            return public_id
        finally:
            await close_engine(engine)

    return aio.run(insert())


def test_a_worker_that_dies_is_replaced_and_its_jobs_fail(pacs_processes: ServiceProcess) -> None:
    assert pacs_processes.process is not None
    victim = _workers(pacs_processes)[0]
    its_job = _record_running_job(pacs_processes, victim.pid)
    other_job = _record_running_job(pacs_processes, pacs_processes.process.pid)
    victim.kill()
    assert _until(lambda: len(_workers(pacs_processes)) == PROCESSES - 1 and victim not in _workers(pacs_processes))
    for _ in range(10):
        assert httpx.get(f"{pacs_processes.url}/pacs/studies").status_code == 200
    assert "failed (exit code -9); starting another" in pacs_processes.log()
    job = httpx.get(f"{pacs_processes.url}/jobs/{its_job}").json()
    assert (job["State"], job["ErrorDescription"]) == ("Failure", "interrupted: its pacs process ended")
    assert job["CompletionTime"]
    assert httpx.get(f"{pacs_processes.url}/jobs/{other_job}").json()["State"] == "Running"


def _descendants(server: ServiceProcess) -> list[psutil.Process]:
    """Every process the primary started: the workers and their fork server."""
    assert server.process is not None
    return psutil.Process(server.process.pid).children(recursive=True)


def test_stopping_the_service_stops_every_process(pacs_processes: ServiceProcess) -> None:
    workers = _descendants(pacs_processes)
    assert len(workers) > PROCESSES - 1
    pacs_processes.stop()
    assert pacs_processes.process is not None and pacs_processes.process.returncode is not None
    # the fork server ends once it sees the primary's end of its socket close
    assert _until(lambda: not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE], 5)
    assert "starting another" not in pacs_processes.log()


def test_workers_end_when_the_primary_is_killed_and_the_next_start_counts_and_recovers_afresh(
    pacs_processes: ServiceProcess,
) -> None:
    for _ in range(5):
        httpx.get(f"{pacs_processes.url}/pacs/studies")
    assert _studies_searches_counted(pacs_processes) == 5
    workers = _descendants(pacs_processes)
    running = _record_running_job(pacs_processes, _workers(pacs_processes)[0].pid)
    pacs_processes.kill()
    assert _until(lambda: not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE])
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{pacs_processes.url}/healthz", timeout=2)
    pacs_processes.start()
    assert _until(lambda: pacs_processes.log().count("Application startup complete") == 2 * PROCESSES)
    httpx.get(f"{pacs_processes.url}/pacs/studies")
    assert _studies_searches_counted(pacs_processes) == 1  # the killed run's counts are gone with it
    job = httpx.get(f"{pacs_processes.url}/jobs/{running}").json()
    assert (job["State"], job["ErrorDescription"]) == ("Failure", "interrupted: pacsbox stopped")


def test_a_negative_process_count_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pacsbox.cli", "serve", "pacs", "--port", "0"],
        env={**ServiceProcess("pacs", tmp_path).env, "PACSBOX_PACS_PROCESSES": "-1"},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "PACSBOX_PACS_PROCESSES must be 0 (one per core) or more, not -1" in result.stderr


def test_by_default_the_service_runs_one_process_per_core(tmp_path: Path) -> None:
    server = ServiceProcess("pacs", tmp_path / "pacs", {"PACSBOX_PACS_PROCESSES": "0"}).start()
    try:
        expected = min(len(os.sched_getaffinity(0)), 4)
        assert _until(lambda: len(_workers(server)) == expected - 1)
        assert _until(lambda: server.log().count("Application startup complete") == expected)
    finally:
        server.stop()


def test_a_port_already_taken_is_refused_with_a_message(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "pacsbox.cli", "serve", "pacs", "--port", str(port)],
            env=ServiceProcess("pacs", tmp_path).env, capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port} for pacs: Address already in use" in result.stderr


def test_workers_share_the_memory_of_the_apps_modules(pacs_processes: ServiceProcess) -> None:
    """Forked from a copy of the primary made after its imports; a fresh interpreter shared about an eighth."""
    for worker in _workers(pacs_processes):
        memory = worker.memory_full_info()
        assert memory.uss < 0.6 * memory.rss, f"worker {worker.pid}: {memory.uss >> 20} of {memory.rss >> 20} MB its own"


def test_a_sigterm_to_every_process_as_a_service_manager_sends_stops_the_service_cleanly(
    pacs_processes: ServiceProcess,
) -> None:
    assert pacs_processes.process is not None
    everything = [psutil.Process(pacs_processes.process.pid), *_descendants(pacs_processes)]
    for process in everything:
        process.send_signal(signal.SIGTERM)
    pacs_processes.process.wait(timeout=30)
    assert _until(lambda: not [p for p in everything if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], 5)
    log = pacs_processes.log()
    assert "fork server" not in log and "starting another" not in log and "Traceback" not in log, log


def test_with_its_fork_server_killed_the_service_still_serves_and_stops_every_worker(
    pacs_processes: ServiceProcess,
) -> None:
    assert pacs_processes.process is not None
    workers = _workers(pacs_processes)
    (fork_server,) = psutil.Process(pacs_processes.process.pid).children()
    fork_server.kill()
    assert _until(lambda: "the pacs fork server" in pacs_processes.log())
    for _ in range(2 * PROCESSES):  # each process in turn, the workers among them
        assert httpx.get(f"{pacs_processes.url}/pacs/studies").status_code in (200, 204)
    pacs_processes.stop()
    assert pacs_processes.process.returncode is not None
    assert _until(lambda: not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE], 15)
    assert "Traceback" not in pacs_processes.log(), pacs_processes.log()  # nothing waited on an end never told


def _held_connections(server: ServiceProcess) -> list[int]:
    """How many client connections each pacs process holds, fewest first."""
    assert server.process is not None
    port = int(server.url.rsplit(":", 1)[1])
    return sorted(
        sum(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port for c in process.net_connections("tcp"))
        for process in [psutil.Process(server.process.pid), *_workers(server)]
    )


def test_connections_opened_at_once_are_shared_evenly_between_the_processes(pacs_processes: ServiceProcess) -> None:
    """The first process to wake used to take every connection waiting, one process then doing the work of all."""
    address = ("127.0.0.1", int(pacs_processes.url.rsplit(":", 1)[1]))
    for _ in range(3):
        clients = [socket.create_connection(address) for _ in range(2 * PROCESSES)]
        try:
            assert _until(lambda: sum(_held_connections(pacs_processes)) == len(clients), 5)
            assert _held_connections(pacs_processes) == [2] * PROCESSES
        finally:
            for client in clients:
                client.close()
        assert _until(lambda: sum(_held_connections(pacs_processes)) == 0, 5)


def test_with_a_worker_stopped_new_connections_are_still_served(pacs_processes: ServiceProcess) -> None:
    """The stopped worker holds the fewest connections, so the others leave it each new one, but only briefly."""
    stopped = _workers(pacs_processes)[0]
    stopped.suspend()
    try:
        for _ in range(10):
            with httpx.Client(base_url=pacs_processes.url, timeout=5) as client:  # a new connection each
                assert client.get("/pacs/studies").status_code == 200
    finally:
        stopped.resume()
    assert _held_connections(pacs_processes)[0] == 0
