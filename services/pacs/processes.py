"""The pacs service as several processes on one HTTP port (`PACSBOX_PACS_PROCESSES`).

One CPython process keeps about one core busy: its threads take turns at the
GIL. With more than one (the default, 0, is one per core), the first process
of `pacsbox serve pacs` (the primary) starts the others (workers) on its HTTP
socket once its own start-up is done; every process accepts connections on the shared socket, one at a time,
leaving each new one to a process holding fewer (`core.shared_accept`).

Only the primary upgrades the schema, runs the start-up check (which removes
temporary files, so no worker may be storing yet, nor one of an earlier run:
`run_lock`), fails interrupted jobs, opens the DICOM listener and announces
stable resources. Every process serves
every route. What they share goes through the data folder and the database:
instance claims are file locks (`store.claims`), a job is cancelled through
its row (`jobs.runner`), SQLite writers queue on a file lock (`core.db`), and
the Prometheus metrics of all processes are added up from one folder
(`metrics/` in the data folder, emptied at each start). Caches
(file headers, decoded frames) are per process.

Workers are forked by a copy of the primary made once the app's modules are
imported (`fork_server`), so the memory of those modules is shared instead of
loaded again by each worker.

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
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from pacsbox.core.shared_accept import ConnectionCounts
from pacsbox.pacs.fork_server import ForkServer, ForkServerGone

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
    and in every worker. `fork_server` is called once they are imported, before
    the primary starts any thread.
    """

    def __init__(self, count: int, http_socket: socket.socket, metrics: Path) -> None:
        self.count = count
        self._socket = http_socket
        self._metrics = metrics
        shutil.rmtree(metrics, ignore_errors=True)  # a previous run's, left by a kill: its counts are not this run's
        metrics.mkdir(mode=0o700, parents=True)
        os.environ[_METRICS_VARIABLE] = str(metrics)
        self.counts = ConnectionCounts(count + 1)
        """Connections held by each process: the primary's (slot 0), then each worker's (`core.shared_accept`)."""
        self._fork_server: ForkServer | None = None
        self._processes: list[int] = []
        self._guard = threading.Lock()
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_failure: Callable[[int], Coroutine[Any, Any, None]] | None = None

    def fork_server(self) -> None:
        """Fork the process the workers are forked from; the app's modules are imported, no thread is running."""
        from pacsbox.pacs.worker import run

        self._fork_server = ForkServer(run, self._socket, self.counts)

    async def start(self, on_failure: Callable[[int], Coroutine[Any, Any, None]]) -> None:
        """Start every worker and wait until each serves; a worker failing to start fails the primary's start.

        `on_failure(pid)` runs on this event loop after a worker failed (before another replaces it).
        """
        self._loop, self._on_failure = asyncio.get_running_loop(), on_failure
        serving = []
        for slot in range(1, self.count + 1):
            ready: concurrent.futures.Future[None] = concurrent.futures.Future()
            threading.Thread(target=self._keep_running, args=(ready, slot), name="pacs-worker-watch",
                             daemon=True).start()
            serving.append(asyncio.wrap_future(ready))
        await asyncio.gather(*serving)

    def _keep_running(self, ready: concurrent.futures.Future[None], slot: int) -> None:
        """Start the worker of connection count `slot`, then watch it, starting it again when it fails; one ended
        by SIGTERM or SIGINT was asked to stop."""
        try:
            pid = self._spawn(slot)
        except BaseException as error:
            ready.set_exception(error)
            return
        ready.set_result(None)
        while True:
            try:
                code = self._wait(pid)
            except ForkServerGone:
                return
            self.counts.share(slot).ended()
            _forget_live_metrics(pid)
            if self._stopping.is_set() or code in _ASKED_TO_STOP:
                return
            log.error("pacs worker process %d failed (exit code %d); starting another", pid, code)
            self._report_failure(pid)
            time.sleep(_RESTART_PAUSE)
            if self._stopping.is_set():
                return
            try:
                pid = self._spawn(slot)
            except Exception as error:  # noqa: BLE001 - the others serve meanwhile
                log.error("a pacs worker process could not be started again: %s", error)
                return

    def _wait(self, pid: int) -> int:
        """Its exit code once it has ended; while its end is unknown (`ForkServerGone`) it stays listed, so `stop`
        still asks it to stop."""
        assert self._fork_server is not None
        code = self._fork_server.wait(pid)
        with self._guard:
            self._processes.remove(pid)
        return code

    def _spawn(self, slot: int) -> int:
        assert self._fork_server is not None, "fork_server() first"
        ours, theirs = socket.socketpair()
        try:
            pid = self._fork_server.start(theirs, logging.getLevelName(logging.getLogger().level), slot)
            with self._guard:
                self._processes.append(pid)
        finally:
            theirs.close()
        try:
            readable, _, _ = select.select([ours], [], [], _READY_TIMEOUT)
            ready_in_time = bool(readable) and ours.recv(1) == b"1"
        except BaseException:
            self._kill(pid)
            raise
        finally:
            ours.close()
        if not ready_in_time:
            raise WorkerFailed(f"a pacs worker process did not start (exit code {self._kill(pid)})")
        log.info("pacs worker process %d serves", pid)
        return pid

    def _kill(self, pid: int) -> int:
        """SIGKILL a worker not yet watched; its exit code."""
        _signal(pid, signal.SIGKILL)
        return self._wait(pid)

    def _report_failure(self, pid: int) -> None:
        def logged(done: concurrent.futures.Future[None]) -> None:
            if done.exception() is not None:
                log.error("after pacs worker process %d failed: %s", pid, done.exception())

        assert self._loop is not None and self._on_failure is not None
        asyncio.run_coroutine_threadsafe(self._on_failure(pid), self._loop).add_done_callback(logged)

    def _wait_or_kill(self, pid: int) -> None:
        assert self._fork_server is not None
        try:
            try:
                self._fork_server.wait(pid, _STOP_TIMEOUT)
            except TimeoutError:
                log.error("pacs worker process %d did not stop in %.0f s; killed", pid, _STOP_TIMEOUT)
                _signal(pid, signal.SIGKILL)
                self._fork_server.wait(pid)
        except ForkServerGone:
            pass  # signalled; its end cannot be known

    async def stop(self) -> None:
        """Ask every worker to stop (their requests finish, their stores settle), kill those that do not."""
        self._stopping.set()
        assert self._fork_server is not None
        with self._guard:
            running = list(self._processes)
            for pid in running:
                if not self._fork_server.ended(pid):
                    _signal(pid, signal.SIGTERM)
        await asyncio.gather(*(asyncio.to_thread(self._wait_or_kill, pid) for pid in running))
        shutil.rmtree(self._metrics, ignore_errors=True)


def _signal(pid: int, number: int) -> None:
    """Signal a worker; one that has just ended (its end not reported yet) needs nothing."""
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


def _forget_live_metrics(pid: int) -> None:
    """A worker's live gauges (requests in progress) stop counting once it is gone; its counters stay summed."""
    from prometheus_client import multiprocess  # loaded after `_METRICS_VARIABLE` is set, like every metric

    multiprocess.mark_process_dead(pid)
