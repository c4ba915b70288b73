"""A ZIP archive of stored files, produced while it is sent.

The archive is written by the standard `zipfile` module into a sink that
cannot seek, so each entry carries a data descriptor after its data and
nothing is written twice: the bytes leave as soon as they are made. Entries
are stored, not compressed (DICOM pixel data rarely shrinks, and the CPU is
better spent elsewhere); ZIP64 records appear where sizes need them. File
data is read in worker threads, `CHUNK` bytes at a time, so neither a whole
file nor the whole archive is ever held in memory.
"""

from __future__ import annotations

import asyncio
import os
import time
import zipfile
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CHUNK", "ZipEntry", "zip_stream"]

CHUNK = 4 << 20
"""Bytes read from a file at a time."""


@dataclass(frozen=True)
class ZipEntry:
    name: str
    """Entry name inside the archive (made by the caller from safe parts only)."""
    path: Path
    size: int
    """Size the index records; a file that no longer has it stops the archive with OSError."""


class _Sink:
    """A write-only, non-seekable file object collecting what `zipfile` writes until it is taken."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def _read(path: Path, offset: int, length: int) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.pread(fd, length, offset)
    finally:
        os.close(fd)
    if len(data) != length:
        raise OSError(f"{path.name} changed while it was being archived")
    return data


async def zip_stream(entries: Iterable[ZipEntry]) -> AsyncIterator[bytes]:
    """The ZIP archive of `entries`, in order, as a stream of byte chunks."""
    sink = _Sink()
    stamp = time.localtime()[:6]
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:  # type: ignore[arg-type]
        for entry in entries:
            info = zipfile.ZipInfo(entry.name, date_time=stamp)  # type: ignore[arg-type]
            info.file_size = entry.size
            info.external_attr = 0o644 << 16
            with archive.open(info, "w") as target:
                offset = 0
                while offset < entry.size:
                    length = min(CHUNK, entry.size - offset)
                    target.write(await asyncio.to_thread(_read, entry.path, offset, length))
                    offset += length
                    yield sink.take()
            if data := sink.take():
                yield data
    yield sink.take()
