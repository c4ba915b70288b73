"""Running a coroutine from a synchronous test."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["run"]


def run(coroutine: Any) -> Any:
    """`asyncio.run` in a thread of its own: a session fixture (Playwright) may hold this thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
