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

An incoming instance of up to `IN_MEMORY_MAX` bytes arrives in memory
(`IncomingPart`) and is written in one go by a worker thread (`PendingFile`),
with `O_DIRECT` from 64 kB (`DirectWrites`), and hashed and parsed from the
same bytes (while the disk writes them, when it is the only one being
written); a larger one streams into a `DurableFile` as it arrives.

The 128-byte preamble of a Part 10 file is zeroed on the way in (the
conformance statement documents it), so pacsbox never stores or serves a
DICOM/executable polyglot.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import functools
import hashlib
import itertools
import mmap
import os
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import blake3

from pacsbox.core.errors import PayloadTooLarge

__all__ = [
    "CHECKSUM_SIZE",
    "IN_MEMORY_MAX",
    "DirectWrites",
    "DurableFile",
    "IncomingPart",
    "PendingFile",
    "Storage",
    "WrittenFile",
    "checksum_of",
    "file_checksum",
    "make_durable",
    "read_whole",
    "receive",
    "zero_preamble",
]

IN_MEMORY_MAX = 2 << 20
"""An incoming instance up to this size (a CT or MR slice is about 0.5 MB) is held in memory, parsed and hashed
there: 24 MB at worst for the 12 parts a STOW-RS request stores at once. A larger one is streamed to a temporary
file and read in parts."""
_PREAMBLE = 128
_MAGIC = b"DICM"


@dataclass(frozen=True)
class WrittenFile:
    """A complete temporary file, closed but not yet flushed to disk (see `make_durable`)."""

    path: Path
    size: int


def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (AttributeError, OSError):  # not Linux: writeback starts at fsync
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    return cast(Callable[[int, int, int, int], int], function)


_SYNC_FILE_RANGE = _sync_file_range()
_SYNC_FILE_RANGE_WRITE = 2


def _start_writeback(fd: int) -> None:
    """Ask the kernel to start writing a file's dirty pages to disk now, without waiting (Linux's sync_file_range).

    Durability still comes from the fsync that follows; this only lets the disk
    work while the caller does something else. Where the call is missing it does nothing.
    """
    if _SYNC_FILE_RANGE is not None:
        _SYNC_FILE_RANGE(fd, 0, 0, _SYNC_FILE_RANGE_WRITE)


CHECKSUM_SIZE = 24
"""Bytes of BLAKE3 output the index records per file: 48 hex digits, a length no earlier checksum had."""


def file_checksum(data: bytes) -> str:
    """The checksum the index records for a stored file: BLAKE3 (192 bits), hex.

    BLAKE3 rather than SHA-256 (rows of Dec 4 to 5 2026, 64 hex digits) or
    Orthanc's MD5 (older rows, 32): it is a cryptographic hash like SHA-256 and
    hashes a 0.5 MB CT slice in 0.08 ms here, against 0.29 ms for SHA-256 with
    the CPU's SHA extensions (a tenth of the CPU a stored slice cost) and 0.68
    for MD5 (`bench/findings.md`). Its 256-bit output cut to 192 bits is
    still far beyond what detecting a damaged file needs, and keeps the
    length unique. Releases the GIL while hashing, as hashlib does.
    """
    return blake3.blake3(data).hexdigest(CHECKSUM_SIZE)


def checksum_of(stream: BinaryIO) -> str:
    """`file_checksum` of what is left to read in `stream` (read into one reused buffer by `hashlib.file_digest`)."""
    return hashlib.file_digest(stream, blake3.blake3).hexdigest(CHECKSUM_SIZE)  # type: ignore[arg-type]


def make_durable(path: Path, data: bytes | None = None) -> str:
    """fsync a written file and return its checksum (`file_checksum`): of `data` when given, else of its bytes
    read back from the page cache.

    Run in a worker thread, off the event loop: receiving the next upload need
    not wait for the disk, and hashing releases the GIL.
    """
    with open(path, "rb") as stream:
        checksum = file_checksum(data) if data is not None else checksum_of(stream)
        os.fsync(stream.fileno())
    return checksum


def zero_preamble(data: bytes) -> bytes:
    """A Part 10 file's bytes with its 128-byte preamble zeroed (other data as it is)."""
    if data[_PREAMBLE:_PREAMBLE + len(_MAGIC)] != _MAGIC or not any(data[:_PREAMBLE]):
        return data
    return bytes(_PREAMBLE) + data[_PREAMBLE:]


def read_whole(path: Path, limit: int) -> bytes | None:
    """The file's bytes in one read when it holds at most `limit` of them, else None (read it in parts)."""
    with open(path, "rb", buffering=0) as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > limit:
            return None
        data = stream.read(size)
    return data if len(data) == size else None


class DirectWrites:
    """Whole 4 KiB blocks of an instance written with `O_DIRECT`, from a page-aligned buffer per thread.

    A buffered write copies every byte into page-cache pages the kernel takes
    from its free memory; on a virtual machine whose free memory goes back to
    the host (free page reporting, as on Firecracker and some cloud VMs), each
    such page costs a fault on the host the first time it is used: about 1 ms
    of system CPU per 0.5 MB CT slice (`bench/findings.md`). Direct writes go
    from the thread's buffer, used over and over, to the disk; where page-cache
    pages are cheap the two ways measured about even. The last partial block
    is written through the page cache (`O_DIRECT` cleared), so the file has its
    exact size; the caller's fsync makes both durable. Stored files then are
    not in the page cache until first read, and a large ingest does not evict
    what viewers read. Where the file system refuses `O_DIRECT` (at the open or
    the first write), every write is buffered from then on.

    A direct write waits for the disk (0.47 ms for a CT slice here). When no
    other direct write of the process is under way (one upload at a time: a
    REST client, a C-STORE association), it runs in a thread of its own while
    the caller parses and hashes the same bytes; when several are, their
    threads already keep the disk and the cores busy, and each writes in place.
    """

    MIN_SIZE = 64 << 10
    """Smaller instances are written buffered: a few pages do not pay for the extra system call."""
    _BLOCK = 4096

    def __init__(self) -> None:
        self.available = hasattr(os, "O_DIRECT")
        self._buffers = threading.local()
        self._guard = threading.Lock()
        self._under_way = 0
        self._writer: ThreadPoolExecutor | None = None

    def _buffer(self) -> tuple[mmap.mmap, int]:
        """This thread's aligned buffer of `IN_MEMORY_MAX` bytes (mmap: page-aligned) and its address."""
        mapping = getattr(self._buffers, "mapping", None)
        if mapping is None:
            mapping = self._buffers.mapping = mmap.mmap(-1, IN_MEMORY_MAX)
            self._buffers.address = ctypes.addressof(ctypes.c_char.from_buffer(mapping))
        return mapping, cast(int, self._buffers.address)

    def start(self, path: Path, data: bytes) -> DirectWrite | None:
        """A new file at `path` whose whole blocks of `data` are being written directly (`DirectWrite.wait` for
        them), or None when `data` is too small or the file system refuses `O_DIRECT` (nothing created).

        The blocks are copied into the calling thread's buffer, which the write reads until it is waited for.
        """
        if not self.available or not self.MIN_SIZE <= len(data) <= IN_MEMORY_MAX:
            return None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_DIRECT, 0o666)
        except OSError as error:
            if error.errno != errno.EINVAL:
                raise
            path.unlink(missing_ok=True)  # Linux checks O_DIRECT only after creating the file
            self.available = False
            return None
        try:
            mapping, address = self._buffer()
            head = len(data) // self._BLOCK * self._BLOCK
            ctypes.memmove(address, data, head)  # a ctypes call: the copy runs without the GIL
            write = functools.partial(_write_blocks, fd, mapping, head)
            outcome: Future[int] | None = None
            with self._guard:
                if self._under_way == 0:
                    self._writer = self._writer or ThreadPoolExecutor(1, thread_name_prefix="pacs-direct-write")
                    outcome = self._writer.submit(write)
                self._under_way += 1
        except BaseException:
            os.close(fd)
            path.unlink(missing_ok=True)
            raise
        return DirectWrite(fd, _done(write) if outcome is None else outcome, self)

    def ended(self, *, refused: bool) -> None:
        """A direct write has been waited for; `refused`: the file system refused it (buffered from now on)."""
        with self._guard:
            self._under_way -= 1
        if refused:
            self.available = False


def _write_blocks(fd: int, mapping: mmap.mmap, size: int) -> int:
    """Write the first `size` bytes of `mapping` to `fd` (opened with `O_DIRECT`); how many were written (short
    only on a full disk)."""
    with memoryview(mapping) as buffer:
        return os.write(fd, buffer[:size])


def _done(call: Callable[[], int]) -> Future[int]:
    """`call` run here, its result or error held as a finished future."""
    outcome: Future[int] = Future()
    try:
        outcome.set_result(call())
    except BaseException as error:  # handed to whoever waits, as a writer thread's would be
        outcome.set_exception(error)
    return outcome


class DirectWrite:
    """The direct write of a new file's whole blocks, under way or done."""

    def __init__(self, fd: int, outcome: Future[int], writes: DirectWrites) -> None:
        self.fd = fd
        self._outcome = outcome
        self._writes = writes

    def wait(self) -> int:
        """How many bytes the direct write put in the file: 0 when the file system refused it (every later
        write is then buffered). `O_DIRECT` is cleared either way, for the rest to go through the page cache."""
        try:
            written = self._outcome.result()
        except BaseException as error:
            refused = isinstance(error, OSError) and error.errno == errno.EINVAL
            self._writes.ended(refused=refused)
            if not refused:
                raise
            written = 0
        else:
            self._writes.ended(refused=False)
        fcntl.fcntl(self.fd, fcntl.F_SETFL, 0)  # of the flags F_SETFL can change, only O_DIRECT was set
        return written


class PendingFile:
    """A temporary file written whole from memory, on its way to disk: `finish()` waits until it is there.

    Written directly (`DirectWrites`), its whole blocks are going to the disk
    while the caller parses and hashes the same bytes, and `finish()` writes
    the rest; written through the page cache, the disk writes meanwhile. Either
    way the fsync in `finish()` only waits for what is left. Few system calls,
    too: each one a worker thread makes lets the GIL go and waits to take it back.
    """

    def __init__(self, path: Path, data: bytes, direct: DirectWrites | None = None) -> None:
        self.path = path
        self.size = len(data)
        self._data = data
        self._direct = direct.start(path, data) if direct is not None else None
        self._fd: int | None = None
        if self._direct is None:  # written through the page cache
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                _write_from(self._fd, data, 0)
                _start_writeback(self._fd)
            except BaseException:
                self.discard()
                raise

    def finish(self) -> WrittenFile:
        """The file complete, flushed to disk (fsync) and closed."""
        fd = self._take()
        try:
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            self.path.unlink(missing_ok=True)
            raise
        os.close(fd)
        return WrittenFile(self.path, self.size)

    def discard(self) -> None:
        """Close and remove the file (a refused instance), once a direct write under way has ended."""
        fd, self._fd = self._fd, None
        if self._direct is not None:
            direct, self._direct = self._direct, None
            fd = direct.fd
            try:
                direct.wait()
            except OSError:
                pass  # the file goes anyway
        if fd is not None:
            os.close(fd)
        self.path.unlink(missing_ok=True)

    def _take(self) -> int:
        """The descriptor of the file with all its bytes written (a direct write waited for, the rest added)."""
        if self._direct is not None:
            direct, self._direct = self._direct, None
            try:
                _write_from(direct.fd, self._data, direct.wait())
            except BaseException:
                os.close(direct.fd)
                self.path.unlink(missing_ok=True)
                raise
            return direct.fd
        assert self._fd is not None, "PendingFile finished twice"
        fd, self._fd = self._fd, None
        return fd


def _write_from(fd: int, data: bytes, offset: int) -> None:
    """Write `data` from `offset` on at the file's current position (a short write is continued)."""
    view = memoryview(data)[offset:]
    while view:
        view = view[os.write(fd, view):]


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
        head, self._head = zero_preamble(bytes(self._head or b"")), None
        self._put(head)

    def _put(self, chunk: bytes | memoryview) -> None:
        self._file.write(chunk)
        self.size += len(chunk)

    def finish(self) -> WrittenFile:
        """Close the file: complete under its temporary name, on its way to disk, durable once `make_durable` ran."""
        if self._head is not None:
            self._write_head()
        self._file.flush()
        _start_writeback(self._file.fileno())
        self._file.close()
        return WrittenFile(self.path, self.size)

    def discard(self) -> None:
        """Close and remove the temporary file (a refused or broken upload)."""
        if not self._file.closed:
            self._file.close()
        self.path.unlink(missing_ok=True)


class IncomingPart:
    """An incoming instance held in memory up to `limit` bytes, then streamed into a `DurableFile`.

    `finish()` gives its bytes, or the temporary file when it outgrew the limit:
    the common instance never costs the event loop a system call, and the
    store parses it from memory. In memory the part is the list of pieces it
    was given, joined once at the end: the pieces must not change afterwards
    (bytes, or views of bytes).
    """

    def __init__(self, storage: Storage, limit: int) -> None:
        self._storage = storage
        self._limit = limit
        self._pieces: list[bytes | memoryview] = []
        self._size = 0
        self._file: DurableFile | None = None

    def write(self, piece: bytes | memoryview) -> None:
        if self._file is not None:
            self._file.write(piece)
            return
        if not piece:
            return
        self._pieces.append(piece)
        self._size += len(piece)
        if self._size > self._limit:
            self._file = self._storage.new_file()
            for held in self._pieces:
                self._file.write(held)
            self._pieces = []

    def finish(self) -> bytes | WrittenFile:
        if self._file is not None:
            return self._file.finish()
        data, self._pieces = b"".join(self._pieces), []
        return data

    def discard(self) -> None:
        self._pieces = []
        if self._file is not None:
            self._file.discard()


class Storage:
    """The storage folder: temporary files, final paths, atomic commits and removal."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / ".tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self._make_folders()
        self._prefix = uuid.uuid4().hex
        self._counter = itertools.count()
        self._direct = DirectWrites()

    def _make_folders(self) -> None:
        """The 256 `ab` folders, made (durably) once."""
        missing = [self.root / f"{n:02x}" for n in range(256) if not (self.root / f"{n:02x}").is_dir()]
        for folder in missing:
            folder.mkdir(exist_ok=True)
        if missing:
            _fsync_dir(self.root)

    def incoming(self, limit: int = IN_MEMORY_MAX) -> IncomingPart:
        """Where an incoming instance goes: memory up to `limit` bytes, a temporary file beyond."""
        return IncomingPart(self, limit)

    def _temporary_path(self) -> Path:
        return self.tmp / f"{self._prefix}-{next(self._counter)}.part"

    def new_file(self) -> DurableFile:
        """A fresh temporary file to write an incoming instance into (a process prefix and a counter: no two alike)."""
        return DurableFile(self._temporary_path())

    def start_file(self, data: bytes) -> PendingFile:
        """A whole instance held in memory (preamble already zeroed) written to a temporary file: its whole blocks
        already on the disk (`DirectWrites`), or its writeback begun."""
        return PendingFile(self._temporary_path(), data, self._direct)

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


async def receive(storage: Storage, chunks: Any, max_size: int) -> bytes | WrittenFile:
    """An uploaded body as it streams in: its bytes when at most `IN_MEMORY_MAX` of them, else a temporary file.

    Raises:
        PayloadTooLarge: more than `max_size` bytes arrived (nothing is kept).
    """
    target = storage.incoming()
    size = 0
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > max_size:
                raise PayloadTooLarge(f"body larger than the limit of {max_size} bytes (PACSBOX_MAX_BODY_SIZE)")
            target.write(chunk)
        return target.finish()
    except BaseException:
        target.discard()
        raise
