"""`Claims`: one store at a time per SOP instance, from the rename of its file to its index commit.

Two uploads of the same SOP instance would otherwise race for the same final
file name (`ab/<id>.dcm`): the second rename could land between the first
one's rename and its index write, leaving a row whose size, checksum and metadata
describe another file. A store claims the instance before its rename and
releases it after the index write.

A worker thread claims without waiting (`try_claim`), so the usual store
renames its file in the same work item that flushed and parsed it; only when
the instance is already claimed does the event loop wait (`claim`). `release`
may be called from either side: a waiting store is handed the claim on its
event loop.

The pacs service may run as several processes (`PACSBOX_PACS_PROCESSES`), and
`pacsbox import` stores beside a running service: a claim is also a lock on
one byte of a lock file in the data folder, the byte chosen by a hash of the
key. Open-file-description locks (`F_OFD_SETLK`) belong to the descriptor
that took them, not to the process, so they exclude stores of one process as
well as of others, and the kernel sees no false deadlock between two
processes that each hold one instance and wait for another. Within a process
the claim (and its open lock) passes from store to store in order; between
processes, a waiting store blocks in a worker thread until the lock is free.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import hashlib
import os
import struct
import threading
from collections import deque
from pathlib import Path

__all__ = ["Claims"]


def _lock_request(kind: int, key: str) -> bytes:
    """A `struct flock` for the one byte of the lock file that stands for `key` (l_pid 0, as OFD locks need)."""
    offset = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest()) >> 2  # below 2**62: a valid off_t
    return struct.pack("hhxxxxqqixxxx", kind, os.SEEK_SET, offset, 1, 0)


class Claims:
    """The SOP instances being placed and indexed right now, each with the stores waiting for it."""

    def __init__(self, lock_file: Path) -> None:
        self._lock_file = lock_file
        self._guard = threading.Lock()
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}
        """A key is claimed exactly when present; its deque holds the stores waiting, first come first."""
        self._locks: dict[str, int] = {}
        """The descriptor holding each claimed key's lock, once taken; it passes on with the claim."""

    def try_claim(self, key: str) -> bool:
        """Claim `key` if nobody, in this process or another, holds it; never waits (any thread)."""
        with self._guard:
            if key in self._waiting:
                return False
            self._waiting[key] = deque()
        fd = self._open()
        try:
            fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _lock_request(fcntl.F_WRLCK, key))
        except OSError as error:
            os.close(fd)
            self.release(key)
            if error.errno in (errno.EAGAIN, errno.EACCES):
                return False
            raise
        except BaseException:
            os.close(fd)
            self.release(key)
            raise
        with self._guard:
            self._locks[key] = fd
        return True

    async def claim(self, key: str) -> None:
        """Claim `key`, waiting for the holder and the stores queued before this one."""
        with self._guard:
            fresh = key not in self._waiting
            if fresh:
                self._waiting[key] = deque()
            else:
                turn = asyncio.get_running_loop().create_future()
                self._waiting[key].append(turn)
        if not fresh:
            try:
                await turn
            except BaseException:
                turn.cancel()  # a hand-over already on its way sees this and passes the claim on
                with self._guard:
                    queued = turn in self._waiting.get(key, ())
                    if queued:
                        self._waiting[key].remove(turn)
                if not queued and not turn.cancelled():  # handed over before the cancellation: give it back
                    self.release(key)
                raise
        if key not in self._locks:  # fresh, or handed over by a `try_claim` that found another process holding it
            await self._lock_across_processes(key)

    async def _lock_across_processes(self, key: str) -> None:
        """Take the key's lock, waiting in a worker thread while another process holds it."""
        locking = asyncio.get_running_loop().run_in_executor(None, self._lock_waiting, key)
        try:
            await asyncio.shield(locking)
        except BaseException:
            # the thread cannot be interrupted: the claim is released once its lock is taken (or failed)
            locking.add_done_callback(lambda _: self.release(key))
            raise

    def _lock_waiting(self, key: str) -> None:
        fd = self._open()
        try:
            fcntl.fcntl(fd, fcntl.F_OFD_SETLKW, _lock_request(fcntl.F_WRLCK, key))
        except BaseException:
            os.close(fd)
            raise
        with self._guard:
            self._locks[key] = fd

    def _open(self) -> int:
        return os.open(self._lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def release(self, key: str) -> None:
        """Release `key` (any thread): to the first store of this process waiting for it, or to anybody."""
        fd = None
        with self._guard:
            queue = self._waiting[key]
            turn = queue.popleft() if queue else None
            if turn is None:
                del self._waiting[key]
                fd = self._locks.pop(key, None)
        if turn is not None:
            turn.get_loop().call_soon_threadsafe(self._hand_over, key, turn)
        elif fd is not None:
            os.close(fd)  # the only descriptor of its open file description: the lock goes with it

    def _hand_over(self, key: str, turn: asyncio.Future[None]) -> None:
        if turn.cancelled():
            self.release(key)
        else:
            turn.set_result(None)
