"""Instances held in memory are written with O_DIRECT: exact files on disk, the page cache left alone."""

from __future__ import annotations

import errno
import fcntl
import os
import subprocess
from pathlib import Path

import pytest

from pacsbox.pacs.store.files import IN_MEMORY_MAX, DirectWrites, Storage

SLICE = 525_000  # a 512x512 16-bit CT slice with its header


def _resident_bytes(path: Path) -> int:
    """How much of the file the page cache holds (util-linux's fincore)."""
    answer = subprocess.run(["fincore", "--bytes", "--raw", "--noheadings", "--output", "RES", str(path)],
                            check=True, capture_output=True, text=True)
    return int(answer.stdout)


def _stored(storage: Storage, data: bytes) -> Path:
    return storage.start_file(data).finish().path


def test_a_ct_slice_reaches_the_disk_whole_without_filling_the_page_cache(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "storage")
    data = os.urandom(SLICE)
    path = _stored(storage, data)
    assert _resident_bytes(path) <= 4096  # only the last, partial block went through the page cache
    assert path.stat().st_size == SLICE and path.read_bytes() == data


@pytest.mark.parametrize("size", [DirectWrites.MIN_SIZE - 1, DirectWrites.MIN_SIZE, DirectWrites.MIN_SIZE + 1,
                                  32 * 4096, IN_MEMORY_MAX - 1, IN_MEMORY_MAX, 10])
def test_every_size_is_stored_byte_for_byte(tmp_path: Path, size: int) -> None:
    storage = Storage(tmp_path / "storage")
    first, second = os.urandom(size), os.urandom(size)  # the thread's buffer is reused: no byte of `first` leaks
    assert _stored(storage, first).read_bytes() == first
    assert _stored(storage, second).read_bytes() == second


def test_a_file_system_that_refuses_o_direct_gets_buffered_writes(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    real_open, attempts = os.open, []

    def refusing_open(path: str | Path, flags: int, mode: int = 0o777, **kwargs: object) -> int:
        if flags & os.O_DIRECT:  # as Linux does on such a file system: the file is created, then EINVAL
            attempts.append(path)
            os.close(real_open(path, flags & ~os.O_DIRECT, mode))
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, mode, **kwargs)  # type: ignore[arg-type]

    storage = Storage(tmp_path / "storage")
    monkeypatch.setattr(os, "open", refusing_open)
    slices = [os.urandom(SLICE), os.urandom(SLICE)]
    paths = [_stored(storage, data) for data in slices]
    monkeypatch.undo()
    assert [p.read_bytes() for p in paths] == slices
    assert len(attempts) == 1  # refused once, then not asked again
    assert sorted(storage.tmp.iterdir()) == sorted(paths)  # the refused attempt left nothing behind


def test_a_file_system_that_refuses_the_direct_write_itself_gets_buffered_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_write, refused = os.write, []

    def refusing_write(fd: int, data: bytes | memoryview) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:  # an alignment the file system does not accept
            refused.append(fd)
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_write(fd, data)

    storage = Storage(tmp_path / "storage")
    monkeypatch.setattr(os, "write", refusing_write)
    slices = [os.urandom(SLICE), os.urandom(SLICE)]
    paths = [_stored(storage, data) for data in slices]
    monkeypatch.undo()
    assert [p.read_bytes() for p in paths] == slices and len(refused) == 1
    assert sorted(storage.tmp.iterdir()) == sorted(paths)
