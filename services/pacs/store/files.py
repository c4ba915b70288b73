"""Instance files: written to a temporary name, flushed, renamed, and only then indexed.

Layout under `<data>/storage/`: `ab/<orthanc-instance-id>.dcm`, where `ab` are
the first two hex digits of the Orthanc ID; the 256 folders are made once, so
storing a file never creates a folder (one directory flush per file, not two:
a million instances are about 4,000 files per folder, which ext4 and XFS index).
Files stored by earlier versions under `ab/cd/` stay where they are: the index
holds each file's path. Nothing a client sends (UIDs, file
names, ZIP entry names) ever becomes part of a path: the ID is a SHA-1.
Temporary files live in `<data>/storage/.tmp/` on the same file system, so the
final `rename` is atomic; leftovers there are removed at start-up.

The 128-byte preamble of a Part 10 file is zeroed on the way in (the
conformance statement documents it), so pacsbox never stores or serves a
DICOM/executable polyglot.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from pacsbox.core.errors import PayloadTooLarge

__all__ = ["DurableFile", "Storage", "WrittenFile", "make_durable", "receive"]

_PREAMBLE = 128
_MAGIC = b"DICM"


@dataclass(frozen=True)
class WrittenFile:
    """A complete temporary file, closed but not yet flushed to disk (see `make_durable`)."""

    path: Path
    size: int


def make_durable(path: Path) -> str:
    """fsync a written file and return the MD5 of its bytes (read back from the page cache).

    Run in a worker thread, off the event loop: receiving the next upload need
    not wait for the disk, and hashing releases the GIL.
    """
    digest = hashlib.md5()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
        os.fsync(stream.fileno())
    return digest.hexdigest()


class DurableFile:
    """A temporary file written in chunks; `finish()` closes it, `make_durable` then flushes it to disk.

    The first 132 bytes are held back until known: if they end with `DICM`, the
    preamble before it is written as zeros.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: BinaryIO = open(path, "xb")
        self._head: bytearray | None = bytearray()
        self.size = 0

    def write(self, chunk: bytes | memoryview) -> None:
        if self._head is not None:
            take = _PREAMBLE + len(_MAGIC) - len(self._head)
            self._head += chunk[:take]
            chunk = chunk[take:]
            if len(self._head) < _PREAMBLE + len(_MAGIC):
                return
            self._write_head()
        if chunk:
            self._put(chunk)

    def _write_head(self) -> None:
        head, self._head = bytes(self._head or b""), None
        if head[_PREAMBLE:] == _MAGIC:
            head = bytes(_PREAMBLE) + _MAGIC
        self._put(head)

    def _put(self, chunk: bytes | memoryview) -> None:
        self._file.write(chunk)
        self.size += len(chunk)

    def finish(self) -> WrittenFile:
        """Close the file: complete under its temporary name, durable once `make_durable` ran."""
        if self._head is not None:
            self._write_head()
        self._file.close()
        return WrittenFile(self.path, self.size)

    def discard(self) -> None:
        """Close and remove the temporary file (a refused or broken upload)."""
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


class Storage:
    """The storage folder: temporary files, final paths, atomic commits and removal."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / ".tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._make_folders()
        self._prefix = uuid.uuid4().hex
        self._counter = itertools.count()

    def _make_folders(self) -> None:
        """The 256 `ab` folders, made (durably) once."""
        missing = [self.root / f"{n:02x}" for n in range(256) if not (self.root / f"{n:02x}").is_dir()]
        for folder in missing:
            folder.mkdir(exist_ok=True)
        if missing:
            _fsync_dir(self.root)

    def new_file(self) -> DurableFile:
        """A fresh temporary file to write an incoming instance into (a process prefix and a counter: no two alike)."""
        return DurableFile(self.tmp / f"{self._prefix}-{next(self._counter)}.part")

    def write_bytes(self, data: bytes | memoryview) -> WrittenFile:
        """A whole instance already in memory, written to a temporary file."""
        target = self.new_file()
        try:
            target.write(data)
            return target.finish()
        except BaseException:
            target.discard()
            raise

    @staticmethod
    def relative_path(instance_id: str) -> str:
        return f"{instance_id[0:2]}/{instance_id}.dcm"

    def absolute(self, relative: str) -> Path:
        return self.root / relative

    def commit(self, written: WrittenFile, instance_id: str) -> str:
        """Rename the durable temporary file to its final name, durably; returns the relative path."""
        relative = self.relative_path(instance_id)
        final = self.root / relative
        os.replace(written.path, final)
        _fsync_dir(final.parent)
        return relative

    def remove(self, relative: str) -> None:
        (self.root / relative).unlink(missing_ok=True)

    def clear_temporary(self) -> int:
        """Remove leftover temporary files (an interrupted upload); returns how many."""
        count = 0
        for leftover in self.tmp.iterdir():
            leftover.unlink(missing_ok=True)
            count += 1
        return count

    def stored_files(self) -> dict[str, Path]:
        """Every stored instance file by Orthanc instance ID (start-up consistency check), in either layout."""
        return {
            path.stem: path
            for pattern in ("[0-9a-f][0-9a-f]/*.dcm", "[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*.dcm")
            for path in self.root.glob(pattern)
        }

    def relative(self, path: Path) -> str:
        """The path of a stored file as the index records it."""
        return path.relative_to(self.root).as_posix()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def receive(storage: Storage, chunks: Any, max_size: int) -> WrittenFile:
    """An uploaded body, streamed chunk by chunk into a flushed temporary file.

    Raises:
        PayloadTooLarge: more than `max_size` bytes arrived (nothing is kept).
    """
    target = storage.new_file()
    try:
        async for chunk in chunks:
            target.write(chunk)
            if target.size > max_size:
                raise PayloadTooLarge(f"body larger than the limit of {max_size} bytes (PACSBOX_MAX_BODY_SIZE)")
        return target.finish()
    except BaseException:
        target.discard()
        raise
