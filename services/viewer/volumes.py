"""Volumes built from the pacs over DICOMweb, kept in memory up to a byte budget.

Every request asks the pacs for the series first (QIDO-RS, as the caller):
that checks the caller may see it and tells how many instances it holds
now. The cache key carries that count, so a series that grew is built
again. Building fetches the metadata, then the frames a few at a time,
and stacks them off the event loop. Two requests for the same volume
build it once.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

import anyio.to_thread

from pacsbox.core.app import Identity
from pacsbox.core.errors import PayloadTooLarge
from pacsbox.viewer.pacs_client import PacsClient
from pacsbox.viewer.render.geometry import Volume, slices_of, stack_volume

__all__ = ["VolumeCache", "load_volume"]

FRAME_REQUESTS_AT_ONCE = 8

Key = tuple[str, str, int]


class VolumeCache:
    """Least recently used volumes, at most `capacity` bytes together."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._volumes: OrderedDict[Key, Volume] = OrderedDict()
        self._building: dict[Key, asyncio.Lock] = {}

    @property
    def size(self) -> int:
        return sum(v.nbytes for v in self._volumes.values())

    def get(self, key: Key) -> Volume | None:
        volume = self._volumes.get(key)
        if volume is not None:
            self._volumes.move_to_end(key)
        return volume

    def put(self, key: Key, volume: Volume) -> None:
        for stale in [k for k in self._volumes if k[:2] == key[:2]]:
            del self._volumes[stale]
        if volume.nbytes > self.capacity:
            return
        self._volumes[key] = volume
        while self.size > self.capacity:
            self._volumes.popitem(last=False)

    def lock(self, key: Key) -> asyncio.Lock:
        return self._building.setdefault(key, asyncio.Lock())

    def release(self, key: Key) -> None:
        lock = self._building.get(key)
        if lock is not None and not lock.locked():
            del self._building[key]


async def load_volume(
    pacs: PacsClient, cache: VolumeCache, study: str, series: str, identity: Identity, *, max_size: int,
    slots: asyncio.Semaphore,
) -> Volume:
    """The series as a volume, from the cache when it has not changed.

    Raises:
        NotFound: no such series (or not visible to the caller).
        PixelDataError: the series is not one volume of greyscale slices.
        PayloadTooLarge: the volume is larger than `max_size` bytes (PACSBOX_VIEWER_MAX_VOLUME_SIZE).

    `slots` bounds the CPU work (stacking) done at once with the renderings.
    """
    match = await pacs.search_for_series(study, series, identity)
    count = int(((match.get("00201209") or {}).get("Value") or [0])[0])
    key = (study, series, count)
    lock = cache.lock(key)
    try:
        async with lock:
            volume = cache.get(key)
            if volume is None:
                volume = await _build(pacs, study, series, identity, max_size, slots)
                cache.put(key, volume)
            return volume
    finally:
        cache.release(key)


async def _build(
    pacs: PacsClient, study: str, series: str, identity: Identity, max_size: int, slots: asyncio.Semaphore
) -> Volume:
    slices = slices_of(await pacs.retrieve_series_metadata(study, series, identity))
    size = len(slices) * slices[0].rows * slices[0].columns * 4
    if size > max_size:
        raise PayloadTooLarge(
            f"series {series} makes a volume of {size} bytes, over PACSBOX_VIEWER_MAX_VOLUME_SIZE={max_size}"
        )
    gate = asyncio.Semaphore(FRAME_REQUESTS_AT_ONCE)

    async def frame(uid: str) -> bytes:
        async with gate:
            return await pacs.retrieve_frame(study, series, uid, identity)

    frames = await asyncio.gather(*(frame(s.sop_instance_uid) for s in slices))
    async with slots:
        return await anyio.to_thread.run_sync(stack_volume, slices, list(frames))
