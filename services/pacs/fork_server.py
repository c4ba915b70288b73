"""A copy of the pacs primary, forked before it starts any thread, that forks the worker processes on request.

A worker started as a fresh interpreter loads every module of the app again:
76 MB of memory of its own, and four processes took 343 MB (PSS) at rest. A
worker forked from a copy of the primary made once the app's modules are
imported shares their pages with the primary and with the other workers
(`gc.freeze()` first, so the collector does not write to them). The copy
is made before the primary starts a thread, since a fork carries only the
thread that makes it, and it never starts one itself.

The fork server answers each request with the new worker's pid and, later,
reports its exit code. It ends when the primary closes its end of the
control socket, or dies. A worker learns of the primary's end from a pipe
whose writing end only the primary holds (`WorkerStart.primary_gone`).
"""

from __future__ import annotations

import concurrent.futures
import gc
import logging
import os
import queue
import select
import signal
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from pacsbox.core.shared_accept import ConnectionCounts, ConnectionShare

__all__ = ["ForkServer", "ForkServerGone", "WorkerStart"]

log = logging.getLogger(__name__)

_MESSAGE = 256


class ForkServerGone(RuntimeError):
    """The fork server ended: no worker can be started, and the ends of those running are not known."""


@dataclass(frozen=True)
class WorkerStart:
    """What a forked worker is given: the HTTP socket and its share of the connections, its readiness socket, the
    primary's log level, and the primary's pipe."""

    http_socket: socket.socket
    share: ConnectionShare
    ready: socket.socket
    log_level: str
    primary_gone: int


class ForkServer:
    """`ForkServer(run, http_socket, counts)` forks the server now; `start()` forks a worker running
    `run(WorkerStart)`."""

    def __init__(self, run: Callable[[WorkerStart], None], http_socket: socket.socket, counts: ConnectionCounts) -> None:
        if threading.active_count() != 1:
            raise RuntimeError("the fork server must be forked before the primary starts any thread")
        primary_gone, primary_alive = os.pipe()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        gc.freeze()
        pid = os.fork()
        if pid == 0:  # the fork server
            ours.close()
            os.close(primary_alive)
            code = 1
            try:
                _serve(theirs, lambda ready, level, slot: run(
                    WorkerStart(http_socket, counts.share(slot), ready, level, primary_gone)))
                code = 0
            finally:
                os._exit(code)
        theirs.close()
        os.close(primary_gone)
        self.pid = pid
        self._control = ours
        self._primary_alive = primary_alive  # open as long as the primary lives
        self._requests = threading.Lock()
        self._started: queue.Queue[int | None] = queue.Queue()
        self._ends: dict[int, concurrent.futures.Future[int]] = {}
        self._ends_guard = threading.Lock()
        self._gone = False
        threading.Thread(target=self._read, name="pacs-fork-server", daemon=True).start()

    def start(self, ready: socket.socket, log_level: str, slot: int) -> int:
        """Fork a worker taking connection count `slot`; its pid. `ready` is passed to it (the caller keeps and
        closes its own descriptor)."""
        with self._requests:
            if self._gone:
                raise ForkServerGone("the pacs fork server has ended")
            socket.send_fds(self._control, [b"%s %d" % (log_level.encode(), slot)], [ready.fileno()])
            pid = self._started.get()
        if pid is None:
            raise ForkServerGone("the pacs fork server ended while starting a worker")
        return pid

    def wait(self, pid: int, timeout: float | None = None) -> int:
        """The worker's exit code (negative: the signal that ended it), once it has ended.

        Raises:
            TimeoutError: it has not ended within `timeout` seconds.
            ForkServerGone: the fork server ended before reporting it.
        """
        return self._end(pid).result(timeout)

    def ended(self, pid: int) -> bool:
        """True once the worker's end is reported (not when it is unknown because the fork server ended)."""
        end = self._end(pid)
        return end.done() and end.exception() is None

    def _end(self, pid: int) -> concurrent.futures.Future[int]:
        with self._ends_guard:
            return self._ends.setdefault(pid, concurrent.futures.Future())

    def _read(self) -> None:
        while True:
            message = self._control.recv(_MESSAGE)
            if not message:
                break
            kind, *numbers = message.split()
            if kind == b"started":
                self._started.put(int(numbers[0]))
            else:
                self._end(int(numbers[0])).set_result(int(numbers[1]))
        log.error("the pacs fork server (process %d) has ended", self.pid)
        with self._requests:
            self._gone = True
        self._started.put(None)
        with self._ends_guard:
            waiting = [end for end in self._ends.values() if not end.done()]
        for end in waiting:
            end.set_exception(ForkServerGone("the pacs fork server ended; a worker's end is not known"))


def _serve(control: socket.socket, run: Callable[[socket.socket, str, int], None]) -> None:
    """The fork server's loop: fork a worker per request, report each one's end; return once the primary is gone."""
    # Ctrl-C, and a service manager's SIGTERM to every process, reach the primary, which stops the workers;
    # this process ends after it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    children: dict[int, int] = {}  # pidfd -> pid
    while True:
        readable, _, _ = select.select([control, *children], [], [])
        for fd in readable:
            if fd is not control:
                pid = children.pop(fd)
                os.close(fd)
                _, status = os.waitpid(pid, 0)
                control.send(b"ended %d %d" % (pid, os.waitstatus_to_exitcode(status)))
                continue
            message, fds, _, _ = socket.recv_fds(control, _MESSAGE, 1)
            if not message:
                return
            pid = os.fork()
            if pid == 0:
                control.close()
                for pidfd in children:
                    os.close(pidfd)
                log_level, slot = message.decode().split()
                _run_worker(run, socket.socket(fileno=fds[0]), log_level, int(slot))
            os.close(fds[0])
            children[os.pidfd_open(pid)] = pid
            control.send(b"started %d" % pid)


def _run_worker(
    run: Callable[[socket.socket, str, int], None], ready: socket.socket, log_level: str, slot: int
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    code = 1
    try:
        run(ready, log_level, slot)
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    except BaseException:  # noqa: BLE001 - the worker's end, told in its exit code and on stderr
        traceback.print_exc()
    finally:
        os._exit(code)
