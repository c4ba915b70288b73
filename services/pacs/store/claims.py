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
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque

__all__ = ["Claims"]


class Claims:
    """The SOP instances being placed and indexed right now, each with the stores waiting for it."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}
        """A key is claimed exactly when present; its deque holds the stores waiting, first come first."""

    def try_claim(self, key: str) -> bool:
        """Claim `key` if nobody holds it; never waits (any thread)."""
        with self._guard:
            if key in self._waiting:
                return False
            self._waiting[key] = deque()
            return True

    async def claim(self, key: str) -> None:
        """Claim `key`, waiting for the holder and the stores queued before this one."""
        with self._guard:
            if key not in self._waiting:
                self._waiting[key] = deque()
                return
            turn = asyncio.get_running_loop().create_future()
            self._waiting[key].append(turn)
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

    def release(self, key: str) -> None:
        """Release `key` (any thread): to the first store waiting for it, or to nobody."""
        with self._guard:
            queue = self._waiting[key]
            if not queue:
                del self._waiting[key]
                return
            turn = queue.popleft()
        turn.get_loop().call_soon_threadsafe(self._hand_over, key, turn)

    def _hand_over(self, key: str, turn: asyncio.Future[None]) -> None:
        if turn.cancelled():
            self.release(key)
        else:
            turn.set_result(None)
