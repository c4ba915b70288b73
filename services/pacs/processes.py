"""The pacs service as several processes on one HTTP port (`PACSBOX_PACS_PROCESSES`).

One CPython process keeps about one core busy: its threads take turns at the
GIL. With more than one (the default, 0, is one per core), the first process
of `pacsbox serve pacs` (the primary) starts the others (workers) on its HTTP
socket once its own start-up is done; every process accepts connections on the shared socket, and the kernel
gives each new connection to a process waiting in accept.

Only the primary upgrades the schema, runs the start-up check (which removes
temporary files, so no worker may be storing yet, nor one of an earlier run:
`run_lock`), fails interrupted jobs,
opens the DICOM listener and announces stable resources. Every process serves
every route. What they share goes through the data folder and the database:
instance claims are file locks (`store.claims`), a job is cancelled through
its row (`jobs.runner`), SQLite writers queue on a file lock (`core.db`), and
the Prometheus metrics of all processes are added up from one folder
(`metrics/` in the data folder, emptied at each start). Caches
(file headers, decoded frames) are per process.

A worker that dies is started again, and its unfinished jobs are failed;
workers end with the primary, which stops them (SIGTERM, their requests
finish) before it closes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

__all__ = ["WorkerProcesses"]

log = logging.getLogger(__name__)

_READY_TIMEOUT = 120.0
_STOP_TIMEOUT = 20.0
_RESTART_PAUSE = 1.0
_ASKED_TO_STOP = (0, -signal.SIGTERM, -signal.SIGINT)
"""Exit codes of a worker that stopped because it was told to (uvicorn re-raises the signal it handled)."""
_METRICS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class WorkerFailed(RuntimeError):
    """A worker ended before it was ready to serve."""


class WorkerProcesses:
    """The workers of one primary: `start` once the primary is ready, `stop` before it closes.

    Created before the app's modules are imported: the metrics folder must be
    named in the environment before prometheus_client loads, in this process
    and in every worker.
    """

    def __init__(self, count: int, http_socket: socket.socket, metrics: Path) -> None:
        self.count = count
        self._socket = http_socket
        self._metrics = metrics
        shutil.rmtree(metrics, ignore_errors=True)  # a previous run's, left by a kill: its counts are not this run's
        metrics.mkdir(mode=0o700, parents=True)
        os.environ[_METRICS_VARIABLE] = str(metrics)
        self._processes: list[subprocess.Popen[bytes]] = []
        self._guard = threading.Lock()
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_failure: Callable[[int], Coroutine[Any, Any, None]] | None = None

    async def start(self, on_failure: Callable[[int], Coroutine[Any, Any, None]]) -> None:
        """Start every worker and wait until each serves; a worker failing to start fails the primary's start.

        `on_failure(pid)` runs on this event loop after a worker failed (before another replaces it).
        """
        self._loop, self._on_failure = asyncio.get_running_loop(), on_failure
        serving = []
        for _ in range(self.count):
            ready: concurrent.futures.Future[None] = concurrent.futures.Future()
            threading.Thread(target=self._keep_running, args=(ready,), name="pacs-worker-watch", daemon=True).start()
            serving.append(asyncio.wrap_future(ready))
        await asyncio.gather(*serving)

    def _keep_running(self, ready: concurrent.futures.Future[None]) -> None:
        """Start one worker, then watch it, starting it again when it fails; one ended by SIGTERM or SIGINT was
        asked to stop.

        The worker is started and waited for from this one thread, which lives as long as the worker is kept:
        the kernel sends a worker its end-of-parent signal (`PR_SET_PDEATHSIG`) when the thread that started it
        ends, not only the process.
        """
        try:
            process = self._spawn()
        except BaseException as error:
            ready.set_exception(error)
            return
        ready.set_result(None)
        while True:
            code = process.wait()
            _forget_live_metrics(process.pid)
            with self._guard:
                self._processes.remove(process)
            if self._stopping.is_set() or code in _ASKED_TO_STOP:
                return
            log.error("pacs worker process %d failed (exit code %d); starting another", process.pid, code)
            self._report_failure(process.pid)
            time.sleep(_RESTART_PAUSE)
            if self._stopping.is_set():
                return
            try:
                process = self._spawn()
            except Exception as error:  # noqa: BLE001 - the others serve meanwhile
                log.error("a pacs worker process could not be started again: %s", error)
                return

    def _spawn(self) -> subprocess.Popen[bytes]:
        ready_read, ready_write = os.pipe()
        fd = self._socket.fileno()
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "pacsbox.pacs.worker", str(fd), str(ready_write), str(os.getpid())],
                pass_fds=(fd, ready_write),
                env={**os.environ, "PACSBOX_LOG_LEVEL": logging.getLevelName(logging.getLogger().level)},
            )
        finally:
            os.close(ready_write)
        with self._guard:
            self._processes.append(process)
        try:
            readable, _, _ = select.select([ready_read], [], [], _READY_TIMEOUT)
            ready_in_time = bool(readable) and os.read(ready_read, 1) == b"1"
        except BaseException:
            process.kill()
            raise
        finally:
            os.close(ready_read)
        if not ready_in_time:
            process.kill()
            raise WorkerFailed(f"a pacs worker process did not start (exit code {process.wait()})")
        log.info("pacs worker process %d serves", process.pid)
        return process

    def _report_failure(self, pid: int) -> None:
        def logged(done: concurrent.futures.Future[None]) -> None:
            if done.exception() is not None:
                log.error("after pacs worker process %d failed: %s", pid, done.exception())

        assert self._loop is not None and self._on_failure is not None
        asyncio.run_coroutine_threadsafe(self._on_failure(pid), self._loop).add_done_callback(logged)

    async def stop(self) -> None:
        """Ask every worker to stop (their requests finish, their stores settle), kill those that do not."""
        self._stopping.set()
        with self._guard:
            processes = list(self._processes)
        for process in processes:
            process.send_signal(signal.SIGTERM)
        await asyncio.gather(*(asyncio.to_thread(_wait_or_kill, process) for process in processes))
        shutil.rmtree(self._metrics, ignore_errors=True)


def _forget_live_metrics(pid: int) -> None:
    """A worker's live gauges (requests in progress) stop counting once it is gone; its counters stay summed."""
    from prometheus_client import multiprocess  # loaded after `_METRICS_VARIABLE` is set, like every metric

    multiprocess.mark_process_dead(pid)


def _wait_or_kill(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        log.error("pacs worker process %d did not stop in %.0f s; killed", process.pid, _STOP_TIMEOUT)
        process.kill()
        process.wait()
