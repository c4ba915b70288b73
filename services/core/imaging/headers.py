"""Parsed headers of recently read files, so a frame or a rendering does not walk the same header twice.

Reading one frame costs little once the pixel data's offset is known; finding
it means parsing the whole header with pydicom (about half a millisecond for
a CT slice, more than reading the frame). `HeaderCache` keeps what
`FrameReader` learns from a header: the dataset without its pixels, the
transfer syntax and where the pixel value starts, in a bounded LRU.

An entry is keyed by the file's identity on disk as `fstat` sees it on the
open file (device, inode, size, modification and change times) and its path,
so a replaced instance, written to a new file and renamed over the old one,
is a new key and is never served from the old header.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pydicom.dataset import Dataset

__all__ = ["Header", "HeaderCache", "file_key"]

FileKey = tuple[str, int, int, int, int, int]


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


class HeaderCache:
    """At most `entries` headers, the least recently used dropped first; safe to share between threads.

    Args:
        entries: how many headers to keep (PACSBOX_HEADER_CACHE_ENTRIES); 0 keeps none.
    """

    def __init__(self, entries: int) -> None:
        self.entries = max(0, entries)
        self._headers: OrderedDict[FileKey, Header] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._headers)

    def get(self, key: FileKey) -> Header | None:
        with self._lock:
            header = self._headers.get(key)
            if header is not None:
                self._headers.move_to_end(key)
            return header

    def put(self, key: FileKey, header: Header) -> None:
        if not self.entries:
            return
        with self._lock:
            self._headers[key] = header
            self._headers.move_to_end(key)
            while len(self._headers) > self.entries:
                self._headers.popitem(last=False)
