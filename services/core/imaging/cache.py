"""What reading a stored file teaches, kept for the next request: parsed headers and decoded frames.

Reading one frame costs little once the pixel data's offset is known; finding
it means parsing the whole header with pydicom (about half a millisecond for
a CT slice, more than reading the frame). Decoding a compressed frame costs
more again (about 2 ms for a 512 x 512 JPEG Lossless one). `ReadCache` keeps
both, each in a bounded least-recently-used map shared by the worker threads:
headers by count (PACSBOX_HEADER_CACHE_ENTRIES), decoded compressed frames by
bytes (PACSBOX_DECODED_FRAME_CACHE_SIZE).

Entries are keyed by the file's identity on disk as `fstat` sees it on the
open file (path, device, inode, size, modification and change times), so a
replaced instance, written to a new file and renamed over the old one, is a
new key and is never served from the old file's header or pixels.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Generic, TypeVar

import numpy as np
from pydicom.dataset import Dataset

__all__ = ["FileKey", "Header", "ReadCache", "file_key"]

FileKey = tuple[str, int, int, int, int, int]
_V = TypeVar("_V")


@dataclass(frozen=True)
class Header:
    """What `FrameReader` found in a file's header: enough to read and show its frames without parsing it again."""

    dataset: Dataset
    """The header up to the pixel data. Shared between readers: read it, never change it."""
    transfer_syntax: str
    tag: int | None
    """The pixel data element's tag, None when the file has none."""
    vr: str
    offset: int
    """Where the pixel value starts in the file."""
    length: int | None
    """Its length, None when encapsulated (undefined length)."""
    endian: str


def file_key(path: Path, stream: BinaryIO) -> FileKey:
    """The identity of the open file at `path`: a rewritten or replaced file has another one."""
    stat = os.fstat(stream.fileno())
    return str(path), stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


class _Lru(Generic[_V]):
    """Values weighing at most `budget` together, the least recently used dropped first; thread-safe."""

    def __init__(self, budget: int, weigh: Callable[[_V], int]) -> None:
        self.budget = max(0, budget)
        self.weight = 0
        self._weigh = weigh
        self._values: OrderedDict[Hashable, _V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def get(self, key: Hashable) -> _V | None:
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: Hashable, value: _V) -> None:
        weight = self._weigh(value)
        if weight > self.budget:
            return
        with self._lock:
            old = self._values.pop(key, None)
            if old is not None:
                self.weight -= self._weigh(old)
            self._values[key] = value
            self.weight += weight
            while self.weight > self.budget:
                _, dropped = self._values.popitem(last=False)
                self.weight -= self._weigh(dropped)


class ReadCache:
    """Parsed headers and decoded frames of recently read files.

    Args:
        header_entries: how many headers to keep; 0 keeps none.
        frame_bytes: how many bytes of decoded frames to keep; 0 keeps none.
    """

    def __init__(self, header_entries: int, frame_bytes: int) -> None:
        self.headers: _Lru[Header] = _Lru(header_entries, lambda _: 1)
        self.frames: _Lru[np.ndarray] = _Lru(frame_bytes, lambda pixels: pixels.nbytes)

    def frame(self, key: FileKey, index: int, raw: bool) -> np.ndarray | None:
        """Frame `index` of the file decoded before (read-only), or None."""
        return self.frames.get((key, index, raw))

    def keep_frame(self, key: FileKey, index: int, raw: bool, pixels: np.ndarray) -> np.ndarray:
        """Keep a decoded frame; it is made read-only, as every later reader shares it."""
        pixels.flags.writeable = False
        self.frames.put((key, index, raw), pixels)
        return pixels
