"""Sharing the connections of one listening socket evenly between the processes of a service.

The event loop (uvloop's, like asyncio's) accepts every connection waiting
when the shared socket turns readable, so the first process to wake takes them
all: six connections opened at once to three processes all went to one. Four
clients storing a quarter of a 300-slice CT series each, at once, on a
two-process pacs service were split 2+2 in 8 rounds of 20, 1+3 in 11 and 0+4
in one; the process holding three or four is bound by its one GIL (means 545,
510 and 403 instances/s). Shared as below: 2+2 in all 20, mean 547 against 519
(Dec 5 2026, two services side by side taking turns).

Each process instead accepts one connection at a time and publishes how many
it holds in memory that all of them share (`ConnectionCounts`, mapped before
the processes are forked). A process holding more than another waits up to
`DEFER` seconds for the other to take the connection; then it takes it
itself, so a process that is stuck or has ended holds no connection up.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import mmap
import socket
from collections.abc import Callable

__all__ = ["DEFER", "ConnectionCounts", "ConnectionShare", "SharedAcceptor"]

log = logging.getLogger(__name__)

DEFER = 0.01
"""How long a process holding more connections than another leaves a new one for the other to take, at most."""
_RECHECK = 0.001
"""While it leaves one: how often a process checks whether the others still hold fewer. Two processes can each
be leaving a connection to the other (each counted the other before it took one); the first to see that it no
longer holds more takes it."""
_ENDED = 1 << 40
"""The count published for a process that has ended: never waited for."""
_OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
_RETRY_AFTER = 1.0
"""Pause of accepting after the process ran out of descriptors or memory (as asyncio's own server does)."""


class ConnectionCounts:
    """One count of open connections per process, in shared memory: create it before forking the processes."""

    def __init__(self, processes: int) -> None:
        self._memory = mmap.mmap(-1, 8 * processes)  # anonymous and shared: forked processes see each other's writes
        self._counts = memoryview(self._memory).cast("q")

    def share(self, slot: int) -> ConnectionShare:
        """The count of process `slot` (0: the primary; a restarted worker takes its predecessor's)."""
        if not 0 <= slot < len(self._counts):
            raise ValueError(f"slot {slot} of {len(self._counts)} processes")
        return ConnectionShare(self._counts, slot)


class ConnectionShare:
    """What one process publishes of its load, and what it sees of the others'."""

    def __init__(self, counts: memoryview, slot: int) -> None:
        self._counts = counts
        self._slot = slot

    def publish(self, count: int) -> None:
        self._counts[self._slot] = count  # one aligned 8-byte store: never seen half-written

    def ended(self) -> None:
        """Its process has ended: the others stop leaving connections to it."""
        self._counts[self._slot] = _ENDED

    def others_hold_fewer(self, count: int) -> bool:
        return any(held < count for slot, held in enumerate(self._counts) if slot != self._slot)


class SharedAcceptor:
    """Accepts connections on the shared `sock` for this process, one at a time, leaving them to a process
    holding fewer (`ConnectionShare`) for up to `DEFER` seconds; `protocol()` makes each connection's protocol.

    Stands in for asyncio's server: uvicorn calls `close`, then `wait_closed`, when it shuts down.
    """

    def __init__(
        self, sock: socket.socket, share: ConnectionShare, protocol: Callable[[], asyncio.Protocol],
        held: Callable[[], int],
    ) -> None:
        self._sock = sock
        self._share = share
        self._protocol = protocol
        self._held = held
        self._loop = asyncio.get_running_loop()
        self._resume: asyncio.TimerHandle | None = None
        self._left_until = 0.0
        self._connecting: set[asyncio.Task[object]] = set()
        self._closed = False
        self.publish()
        self._loop.add_reader(sock.fileno(), self._readable)

    def _load(self) -> int:
        """Connections this process holds, counting those accepted and not yet handed to their protocol."""
        return self._held() + len(self._connecting)

    def publish(self) -> None:
        """Tell the other processes this one's count (after a connection ended, too)."""
        self._share.publish(self._load())

    def _readable(self) -> None:
        if self._share.others_hold_fewer(self._load()):
            self._left_until = self._loop.time() + DEFER
            self._pause(_RECHECK)
        else:
            self._accept_one()

    def _accept_one(self) -> None:
        try:
            conn, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return  # another process took it
        except OSError as error:
            if error.errno not in _OUT_OF_DESCRIPTORS:
                raise
            log.error("cannot accept connections for %.0f s: %s", _RETRY_AFTER, error.strerror)
            self._pause(_RETRY_AFTER)
            return
        conn.setblocking(False)
        task = self._loop.create_task(self._connect(conn))
        self._connecting.add(task)
        task.add_done_callback(self._connecting.discard)
        self.publish()

    async def _connect(self, conn: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._protocol, conn)
        except OSError as error:  # the client left before its transport was made
            log.debug("connection dropped as it was accepted: %s", error)
            conn.close()

    def _pause(self, seconds: float) -> None:
        self._loop.remove_reader(self._sock.fileno())
        self._resume = self._loop.call_later(seconds, self._accept_again)

    def _accept_again(self) -> None:
        """After a pause: take the connection left for another process if it is still waiting (once `DEFER` is
        over, or once no other process holds fewer), then go on."""
        self._resume = None
        if self._closed:
            return
        if self._loop.time() < self._left_until and self._share.others_hold_fewer(self._load()):
            self._resume = self._loop.call_later(_RECHECK, self._accept_again)
            return
        self._left_until = 0.0
        self._loop.add_reader(self._sock.fileno(), self._readable)
        self._accept_one()

    def close(self) -> None:
        """Stop accepting (the socket stays open for the other processes), and tell them not to leave this one
        any connection."""
        if self._closed:
            return
        self._closed = True
        self._share.ended()
        if self._resume is not None:
            self._resume.cancel()
        else:
            self._loop.remove_reader(self._sock.fileno())

    async def wait_closed(self) -> None:
        """Once closed: wait for connections accepted but not yet handed to their protocol."""
        await asyncio.gather(*self._connecting, return_exceptions=True)
