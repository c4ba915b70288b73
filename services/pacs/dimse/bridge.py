"""The one way pynetdicom's threads reach the index and the store: coroutines run on the app's event loop.

pynetdicom calls handlers on its association threads; the database engine and
`InstanceStore` belong to the event loop of the pacs app. `LoopBridge.run`
schedules a coroutine there and blocks the calling thread until it is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["LoopBridge"]

T = TypeVar("T")


class LoopBridge:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run `coroutine` on the app's loop and return its result (its exception is raised here)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)
