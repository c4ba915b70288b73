"""Announcing stable resources while the service runs (Orthanc's StableAge).

A series, study or patient is stable once no instance arrived for it for
`PACSBOX_STABLE_AGE` seconds: clients that process whole studies (an AI
pipeline following `/changes`) wait for `StableStudy` instead of guessing
when a transfer ended. `index.announce_stable` does the marking; this loop
calls it about once a second.
"""

from __future__ import annotations

import asyncio
import logging

from pacsbox.pacs.store.index import announce_stable

__all__ = ["watch_stability"]

log = logging.getLogger(__name__)


async def watch_stability(age: float) -> None:
    """Announce stable resources every second (every quarter of `age` when shorter, 50 ms at least) until
    cancelled."""
    interval = min(1.0, max(age / 4, 0.05))
    failing = False
    while True:
        await asyncio.sleep(interval)
        try:
            await announce_stable(age)
        except Exception as error:  # noqa: BLE001 - the database unreachable for a moment: the next tick retries
            if not failing:
                log.warning("stable resources not announced (will retry): %s", error)
            failing = True
        else:
            failing = False
